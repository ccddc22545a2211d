"""Render what the window shows with the crop view and its activation map on ('c', 'x') for one
photo, through the live tool's own objects, into a PNG (docs/activation-maps.md's picture).

    python scripts/cam_picture.py PHOTO OUT.png [--model models/handsign.onnx]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from realtime.classifier.model import GestureClassifier  # noqa: E402
from realtime.core.images import read_bgr  # noqa: E402
from realtime.core.paths import GESTURE_MODEL  # noqa: E402
from realtime.hands.tracker import HandTracker  # noqa: E402
from realtime.live.overlay import Annotator  # noqa: E402
from realtime.live.pipeline import GesturePipeline  # noqa: E402
from realtime.live.sources import Frame  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("photo", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--model", type=Path, default=GESTURE_MODEL, help="gesture model (default: %(default)s)")
    p.add_argument("--scale", type=float, default=2.0, help="enlarge the photo first, so the crop view is drawn "
                   "at its full size (default: %(default)s)")
    args = p.parse_args()
    image = read_bgr(args.photo)
    image = cv2.resize(image, None, fx=args.scale, fy=args.scale, interpolation=cv2.INTER_CUBIC)
    with HandTracker("full", 2, video=False) as tracker:
        pipeline = GesturePipeline(tracker, GestureClassifier(args.model), smoothing=1)
        result = pipeline.process(Frame(image, 0, 0))
        pipeline.model_views(result.hands)
        pipeline.activation_maps(result.hands)
        canvas = Annotator(0.6).draw(result, 0.0, show_crops=True, show_help=False)
    cv2.imwrite(str(args.out), canvas)
    print(f"wrote {args.out}: " + ", ".join(f"{h.label} {h.score:.2f}" for h in result.hands))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
