"""A 640x480 clip with two hands in (nearly) every frame, for `realtime.bench`: a one-hand clip
beside its own mirror image, each half letterboxed into 320x480 with grey.

    python scripts/two_hand_clip.py ../shared/fixtures/clips/swipe_left_right.mp4 runs/two_hands.mp4
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np


def side_by_side(frame: np.ndarray, width: int = 640, height: int = 480) -> np.ndarray:
    half = width // 2
    scale = min(half / frame.shape[1], height / frame.shape[0])
    small = cv2.resize(frame, (int(frame.shape[1] * scale), int(frame.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    canvas = np.full((height, width, 3), 114, np.uint8)
    y, x = (height - small.shape[0]) // 2, (half - small.shape[1]) // 2
    canvas[y:y + small.shape[0], x:x + small.shape[1]] = small
    canvas[y:y + small.shape[0], half + x:half + x + small.shape[1]] = small[:, ::-1]
    return canvas


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("clip", type=Path, help="a clip with one hand")
    p.add_argument("out", type=Path, help="the .mp4 to write")
    args = p.parse_args()
    cap = cv2.VideoCapture(str(args.clip))
    fps = cap.get(cv2.CAP_PROP_FPS) or 15.0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(args.out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (640, 480))
    count = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        writer.write(side_by_side(frame))
        count += 1
    writer.release()
    print(f"{args.out}: {count} frames, 640x480, {fps:g} fps")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
