"""The events scorecard over every fixture folder: recall, wrong events and false events a minute.

    python -m realtime.scorecard --fixtures ../shared/fixtures
    python -m realtime.scorecard --fixtures ../shared/fixtures --peer-task \\
        ../shared/peers/mediapipe_gesture_recognizer.task

Plays each clip once through the live path (the same options as `realtime.run`, shipped defaults
unless told otherwise) and scores its events (docs/events-scorecard.md):
- `nongesture/`: people whose hands move while nobody gestures; every event is a false one;
- `clips/` with `examples/labels/fixture_clips.json`: swipes and a drag and drop, scored exactly;
- `dev/`: gesture clips of other people labelled want / ok_extra / forbidden, and non-gesture clips,
  the people thresholds were chosen on apart from the held-back ones.
Clips are recorded once into --cache (the tracked, classified hands of every frame), so a second run
with other event options replays them in seconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from realtime.classifier import load_classifier
from realtime.core.cli import ArgumentParser, check_shared_options, run_main, setup_logging
from realtime.core.errors import HandSignError
from realtime.core.paths import PROJECT_ROOT
from realtime.evaluation.events import events_of_clip, find_clips, peer_starts, read_labels
from realtime.evaluation.events import report as events_report
from realtime.evaluation.scorecard import read_scorecard_labels, report, score_clip, totals, totals_line
from realtime.hands.peer import PeerRecognizer
from realtime.live.options import (
    add_event_options,
    add_recognition_options,
    check_live_options,
    recognition_options,
    replay_options,
)

log = logging.getLogger("realtime.scorecard")
FIXTURE_LABELS = PROJECT_ROOT / "examples" / "labels" / "fixture_clips.json"
DEFAULT_CACHE = PROJECT_ROOT / ".cache" / "recordings"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m realtime.scorecard", description=__doc__)
    p.add_argument("--fixtures", type=Path, default=PROJECT_ROOT.parent / "shared" / "fixtures",
                   help="the fixtures folder (with nongesture/, clips/ and dev/)")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                   help="where clips' recordings are kept (a recording is made again when the clip, the models or "
                        "a recognition option changes)")
    p.add_argument("--no-cache", action="store_true", help="play every clip through the live path, keep nothing")
    p.add_argument("--peer-task", type=Path, default=None,
                   help="also score MediaPipe's Gesture Recognizer (.task) on the dev clips, by the same start rule "
                        "(a gesture held --min-hold ms), on the wanted names it can give")
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
    root = args.fixtures
    dev_labels_path = root / "dev" / "labels.json"
    for needed in (root / "nongesture", root / "clips", dev_labels_path):
        if not needed.exists():
            raise HandSignError(f"{needed} not found: --fixtures must name the fixtures folder (nongesture/, clips/, "
                                "dev/)")
    dev_labels = read_scorecard_labels(dev_labels_path)
    fixture_labels = read_labels(FIXTURE_LABELS)
    classifier = load_classifier(args.model, args.threads, args.spinning, args.heads)
    options, recognition = replay_options(args), recognition_options(args)
    cache = None if args.no_cache else args.cache
    nongesture, clips = find_clips(root / "nongesture"), find_clips(root / "clips")
    dev = [root / "dev" / key for key in dev_labels]
    missing = [str(p) for p in dev if not p.is_file()]
    if missing:
        raise HandSignError(f"labelled clips not found: {', '.join(missing)}")
    runs = {}
    for clip in tqdm(nongesture + clips + dev, desc="clips", unit="clip"):
        runs[clip] = events_of_clip(clip, classifier, recognition, options, cache)
    print(events_report([runs[c] for c in nongesture]).replace("clip ", "nongesture/", 1))
    quiet = [score_clip(f"nongesture/{c.name}", None, runs[c].events, runs[c].seconds) for c in nongesture]
    print(totals_line("scored as the dev set's (a drag once)", totals(quiet)))
    print()
    print(events_report([runs[c] for c in clips], fixture_labels))
    print()
    scores = [score_clip(key, dev_labels[key], runs[clip].events, runs[clip].seconds)
              for key, clip in zip(dev_labels, dev)]
    print(report(scores, "dev: other people (want / ok_extra / forbidden)"))
    if args.peer_task:
        print()
        print(peer_report(args, dev_labels, dev, runs))
    return 0


def peer_report(args: argparse.Namespace, dev_labels: dict, dev: list[Path], runs: dict) -> str:
    """MediaPipe's recognizer beside HandSign on the dev clips, on the wanted names the peer can give."""
    mapping = json.loads(args.peer_task.with_suffix(".json").read_text())["hagrid_equivalents"] \
        if args.peer_task.with_suffix(".json").is_file() else {}
    known = set(mapping.values())
    peer_scores, ours = [], []
    for key, clip in zip(dev_labels, dev):
        with PeerRecognizer(args.peer_task, args.max_hands) as recognizer:
            run = peer_starts(clip, recognizer, args.min_hold)
        events = [dataclasses.replace(e, gesture=mapping[e.gesture]) for e in run.events if e.gesture in mapping]
        peer_scores.append(score_clip(key, dev_labels[key], events, run.seconds, only=known))
        ours.append(score_clip(key, dev_labels[key], runs[clip].events, runs[clip].seconds, only=known))
    return "\n".join([report(peer_scores, f"peer: MediaPipe Gesture Recognizer ({args.peer_task.name}), a gesture "
                                          f"starts once it has been a hand's top class for {args.min_hold} ms; "
                                          f"its names mapped to ours ({', '.join(sorted(known))})"),
                      "", report(ours, "HandSign on the same wanted names")])


if __name__ == "__main__":
    raise SystemExit(run_main(main))
