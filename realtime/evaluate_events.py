"""Events on clips, counted and scored: false triggers per minute, and recall and precision per kind.

    python -m realtime.evaluate_events --clips ../shared/fixtures/nongesture
    python -m realtime.evaluate_events --clips ../shared/fixtures/clips --labels ../shared/fixtures/clips/events.json

Each clip goes once through the live path with the same options as `realtime.run` (shipped defaults
unless told otherwise). Only events that can fire a binding count: starts, swipes, clicks, drags
and zooms (not hold or end). On video of people who are not gesturing, every one of them is a
false trigger. With --labels (a JSON file: clip name -> the events it should give) it also prints, per kind, how many were
expected, fired and matched, and which labelled clips gave exactly their events (docs/false-triggers.md).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Sequence

from realtime.classifier import load_classifier
from realtime.core.cli import ArgumentParser, check_shared_options, run_main, setup_logging
from realtime.core.outputs import write_text_atomic
from realtime.evaluation.events import events_of_clip, find_clips, peer_starts, read_labels, report
from realtime.hands.peer import PeerRecognizer
from realtime.live.options import add_event_options, add_recognition_options, check_live_options, replay_options

log = logging.getLogger("realtime.evaluate_events")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m realtime.evaluate_events", description=__doc__)
    p.add_argument("--clips", required=True, type=Path, help="a video clip, or a folder of them")
    p.add_argument("--labels", type=Path, default=None,
                   help="JSON: clip name -> the events it should give ([{\"gesture\": \"swipe_left\"}, ...]); "
                        "adds recall and precision per kind")
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


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    clips = find_clips(args.clips)
    labels = read_labels(args.labels) if args.labels else None
    classifier = load_classifier(args.model, args.threads, args.spinning, args.heads)
    options = replay_options(args, args.mirror)
    runs = []
    for clip in clips:
        runs.append(events_of_clip(clip, classifier, args, options))
        log.info("%s: %d events in %.1f s", clip.name, len(runs[-1].events), runs[-1].seconds)
    print(report(runs, labels))
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
