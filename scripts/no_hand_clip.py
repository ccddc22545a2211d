"""A clip of a person with no hand in view, for `realtime.bench`'s idle figures: a real clip with every
hand the full landmark model finds (in any frame, with a generous margin) painted out by inpainting,
then the first part of the clip used once the hand enters and leaves (--enter) for the wake-up delay.

    python scripts/no_hand_clip.py ../shared/fixtures/clips/swipe_left_right.mp4 runs/no_hand.mp4
    python scripts/no_hand_clip.py ../shared/fixtures/clips/swipe_left_right.mp4 runs/hand_enters.mp4 --enter 45
    python scripts/no_hand_clip.py ../shared/fixtures/photos/hand_1.jpg runs/still.mp4 --still 150

With --enter N the first N frames are the painted (hand-free) ones and the rest the original clip, so a
hand appears at frame N: `realtime.bench --wake` measures how long HandSign takes to track it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from realtime.hands.tracker import HandTracker


def painted(frames: list[np.ndarray], margin: float = 0.8) -> list[np.ndarray]:
    """Each frame with every hand found in it (or in its neighbours) painted out."""
    boxes = []
    with HandTracker("full", 2, video=False, min_detection=0.2, tiles=True) as tracker:
        for frame in frames:
            found = []
            for hand in tracker.detect(frame):
                x0, y0 = hand.landmarks.min(0)
                x1, y1 = hand.landmarks.max(0)
                w, h = x1 - x0, y1 - y0
                found.append((x0 - margin * w, y0 - margin * h, x1 + margin * w, y1 + margin * h))
            boxes.append(found)
    out = []
    for i, frame in enumerate(frames):
        mask = np.zeros(frame.shape[:2], np.uint8)
        for j in range(max(0, i - 3), min(len(frames), i + 4)):  # a hand lost for a frame or two is still there
            for x0, y0, x1, y1 in boxes[j]:
                cv2.rectangle(mask, (int(x0), int(y0)), (int(x1), int(y1)), 255, cv2.FILLED)
        out.append(cv2.inpaint(frame, mask, 5, cv2.INPAINT_TELEA) if mask.any() else frame)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("clip", type=Path, help="a real clip with a hand in it")
    p.add_argument("out", type=Path, help="the .mp4 to write")
    p.add_argument("--enter", type=int, default=None,
                   help="the frame where the hand appears: painted frames before it, the original after")
    p.add_argument("--repeat", type=int, default=3, help="times the painted part is played (a longer idle stretch)")
    p.add_argument("--still", type=int, default=None,
                   help="CLIP is a photo: write this many frames of it, hands painted out, each with fresh camera "
                        "noise (a person sitting still at a desk)")
    args = p.parse_args()
    if args.still:
        photo = cv2.imread(str(args.clip))
        clean = painted([photo])[0]
        rng = np.random.default_rng(0)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        h, w = clean.shape[:2]
        writer = cv2.VideoWriter(str(args.out), cv2.VideoWriter_fourcc(*"mp4v"), 15.0, (w, h))
        for _ in range(args.still):
            noise = rng.normal(0, 3, clean.shape)
            writer.write(np.clip(clean + noise, 0, 255).astype(np.uint8))
        writer.release()
        print(f"{args.out}: {args.still} frames, {w}x{h}, 15 fps")
        return 0
    cap = cv2.VideoCapture(str(args.clip))
    fps = cap.get(cv2.CAP_PROP_FPS) or 15.0
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    clean = painted(frames)
    if args.enter is not None:
        clip = clean[:args.enter] * args.repeat + frames[args.enter:]
    else:
        clip = clean * args.repeat
    args.out.parent.mkdir(parents=True, exist_ok=True)
    h, w = clip[0].shape[:2]
    writer = cv2.VideoWriter(str(args.out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for frame in clip:
        writer.write(frame)
    writer.release()
    print(f"{args.out}: {len(clip)} frames, {w}x{h}, {fps:g} fps")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
