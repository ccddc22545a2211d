"""Events on clips, counted and scored: false triggers per minute, and recall and precision per kind.

    python -m realtime.evaluate_events --clips ../shared/fixtures/nongesture
    python -m realtime.evaluate_events --clips ../shared/fixtures/clips --labels examples/labels/fixture_clips.json
    python -m realtime.evaluate_events --clips ../shared/fixtures/dev/gestures --labels \\
        ../shared/fixtures/dev/labels.json

Each clip goes once through the live path with the same options as `realtime.run` (shipped defaults
unless told otherwise). Only events that can fire a binding count: starts, swipes, clicks, drags
and zooms (not hold or end). On video of people who are not gesturing, every one of them is a
false trigger. With --labels (a JSON file: clip name -> the events it should give) it also prints, per kind, how
many were
expected, fired and matched, and which labelled clips gave exactly their events (docs/false-triggers.md).
Labels in the scorecard's form (per clip want / ok_extra / forbidden, keyed by the clip's path relative to
the labels file, as ../shared/fixtures/dev/labels.json) print the scorecard instead: the recall of the
wanted events, wrong events and false events a minute (docs/events-scorecard.md; `realtime.scorecard`
prints it over every fixture folder at once).
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from pathlib import Path

from realtime.classifier import load_classifier
from realtime.core.cli import ArgumentParser, check_shared_options, run_main, setup_logging
from realtime.core.outputs import write_text_atomic
from realtime.evaluation.events import events_of_clip, find_clips, peer_starts, read_labels, report
from realtime.evaluation.scorecard import ClipScore, is_scorecard_labels, read_scorecard_labels, score_clip
from realtime.evaluation.scorecard import report as card_report
from realtime.hands.peer import PeerRecognizer
from realtime.live.options import (
    add_event_options,
    add_recognition_options,
    check_live_options,
    recognition_options,
    replay_options,
)

log = logging.getLogger("realtime.evaluate_events")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m realtime.evaluate_events", description=__doc__)
    p.add_argument("--clips", required=True, type=Path, help="a video clip, or a folder of them")
    p.add_argument("--labels", type=Path, default=None,
                   help="JSON: clip name -> the events it should give ([{\"gesture\": \"swipe_left\"}, ...]), adding "
                        "recall and precision per kind; or the scorecard's form (clip path relative to the file -> "
                        "{\"want\": [...], \"ok_extra\": [...], \"forbidden\": [...]}), printing the scorecard")
    p.add_argument("--mirror", action=argparse.BooleanOptionalAction, default=False,
                   help="mirror the frames, as for a camera (swipe directions follow the person either way)")
    p.add_argument("--out", type=Path, default=None, help="also write every clip's events here (JSON)")
    p.add_argument("--peer-task", type=Path, default=None,
                   help="also count MediaPipe's Gesture Recognizer (.task) on the same clips, by the same rule "
                        "as HandSign's starts (a gesture held for --min-hold ms), for comparison")
    add_recognition_options(p.add_argument_group("models (as realtime.run)"))
    add_event_options(p.add_argument_group("events (as realtime.run)"))
    p.add_argument("--verbose", action="store_true", help="debug logging")
    args = p.parse_args(argv)
    check_shared_options(p, args)
    check_live_options(p, args)
    return args


def scorecard_form(path: Path) -> bool:
    """Whether a labels file is in the scorecard's form (an unreadable one is read_labels' to refuse)."""
    try:
        return is_scorecard_labels(json.loads(path.read_text()))
    except (OSError, ValueError):
        return False


def card_scores(runs: list, card: dict, base: Path) -> list[ClipScore]:
    """The runs of labelled clips, scored; clips are named by their path relative to the labels' folder."""
    scores = []
    for run in runs:
        try:
            key = run.clip.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            key = run.clip.name
        if key in card:
            scores.append(score_clip(key, card[key], run.events, run.seconds))
        else:
            log.warning("%s has no label in the scorecard labels: not scored", run.clip)
    return scores


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    clips = find_clips(args.clips)
    card = read_scorecard_labels(args.labels) if args.labels and scorecard_form(args.labels) else None
    labels = read_labels(args.labels) if args.labels and card is None else None
    classifier = load_classifier(args.model, args.threads, args.spinning, args.heads)
    options, recognition = replay_options(args, args.mirror), recognition_options(args)
    runs = []
    for clip in clips:
        runs.append(events_of_clip(clip, classifier, recognition, options))
        log.info("%s: %d events in %.1f s", clip.name, len(runs[-1].events), runs[-1].seconds)
    print(report(runs, labels))
    if card is not None:
        print()
        print(card_report(card_scores(runs, card, args.labels.parent)))
    if args.peer_task:
        peer = []
        for clip in clips:  # a fresh recognizer per clip: its VIDEO mode needs rising timestamps
            with PeerRecognizer(args.peer_task, args.max_hands) as recognizer:
                peer.append(peer_starts(clip, recognizer, args.min_hold))
        print(f"\npeer: MediaPipe Gesture Recognizer ({args.peer_task.name}), a gesture starts once it has been "
              f"a hand's top class for {args.min_hold} ms")
        print(report(peer))
    if args.out:
        write_text_atomic(args.out, json.dumps({r.clip.name: {"seconds": round(r.seconds, 2),
                                                              "events": [e.to_json() for e in r.events]}
                                                for r in runs}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
