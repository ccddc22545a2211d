"""Synthetic labelled clips of clicks, drags and zooms (realtime/evaluation/synthetic.py says how).

    python scripts/make_action_clips.py --data ../shared/data/hagrid_crops \
        --background ../shared/fixtures/clips/dndv2.mp4 --out runs/action_clips
    python -m realtime.evaluate_events --clips runs/action_clips --labels runs/action_clips/labels.json
"""

from __future__ import annotations

from pathlib import Path

import cv2

from realtime.core.cli import ArgumentParser, run_main, setup_logging
from realtime.core.errors import HandSignError
from realtime.core.paths import HAND_MODEL


def main(argv=None) -> int:
    p = ArgumentParser(prog="python scripts/make_action_clips.py", description=__doc__)
    p.add_argument("--data", type=Path, required=True, help="folder-per-class HaGRID crops (fist, one, palm)")
    p.add_argument("--background", type=Path, required=True,
                   help="a clip (or image) whose frame at --at-ms has no hand: the scene")
    p.add_argument("--at-ms", type=int, default=0, help="where in the background clip to take the frame")
    p.add_argument("--out", type=Path, required=True, help="folder for the clips and labels.json")
    p.add_argument("--verbose", action="store_true", help="debug logging")
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    from realtime.evaluation.synthetic import make_clips
    from realtime.hands.tracker import HandTracker

    cap = cv2.VideoCapture(str(args.background))
    cap.set(cv2.CAP_PROP_POS_MSEC, args.at_ms)
    ok, frame = cap.read()
    cap.release()
    if not ok:
        raise HandSignError(f"cannot read a frame of {args.background} at {args.at_ms} ms")
    with HandTracker(HAND_MODEL, 2, video=False) as tracker:
        if tracker.detect(frame):
            raise HandSignError(f"{args.background} at {args.at_ms} ms shows a hand: pick a frame without one")
        try:
            labels = make_clips(args.data, frame, args.out, tracker)
        except ValueError as exc:
            raise HandSignError(str(exc)) from None
    print(f"wrote {len(labels)} clips and labels.json to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
