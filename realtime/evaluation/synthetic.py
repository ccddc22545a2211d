"""Synthetic labelled clips of clicks, drags and zooms, made of real HaGRID hand photos moving over a
real background: there is no webcam here, and the held-out clips of these gestures are not ours.

Each *pose* is a HaGRID crop of the right class whose shape MediaPipe reads as that pose (checked
with the same landmark rules the event logic uses: a fist with no finger out, an index raised
above the palm, an open palm), pasted so its palm centre lands where the script wants the hand.
The clips are 30 fps, 640x480, on a frame of a real clip with no hand in it.

- ``tap_click.mp4``: a fist, the index raised for 0.2 s, the fist again: one ``click`` (and a
  ``start`` of ``fist`` for each 0.8 s fist).
- ``tap_double_click.mp4``: two taps 0.4 s apart: ``click``, ``click``, ``double_click`` (and the
  fists' starts).
- ``fist_drag.mp4``: an open palm closes to a fist, the fist moves across the frame, the palm
  opens: ``drag_start``, ``drag_end`` (and the held fist's own ``start``; the palms are shown for
  less than ``--min-hold``).
- ``two_hand_zoom.mp4``: two fists (two people's) move apart, pause, and come together:
  ``zoom_in``, ``zoom_out`` (and the fists' ``start`` events).
- ``pointer/two_finger_sweep.mp4``: a "peace" hand (index and middle up: pointer mode's scroll shape)
  sweeping right across 40 % of the frame in 1.2 s, then back: for pointer mode's sideways scroll,
  outside the labelled event clips.

A pinch and a thumb-index "L" are not among HaGRID's 18 gestures, so pinch clicks, pinch drags and
the one-hand zoom have no synthetic clip (their logic is covered by tests on landmark sequences).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from realtime.core.datasets import discover
from realtime.core.hand_shape import extended_fingers, is_pinch, pinch_spread
from realtime.core.images import read_bgr
from realtime.events.gestures import palm_center_and_size

log = logging.getLogger(__name__)
WIDTH, HEIGHT, FPS = 640, 480, 30
#: The pasted crop's longer side, over the frame height: a hand near a webcam.
CROP_SHARE = 0.45


@dataclass(frozen=True)
class Pose:
    """A crop ready to paste: the image, and its palm centre within it (pixels)."""

    image: np.ndarray
    palm: tuple[float, float]
    source: str


def _shape_ok(kind: str, landmarks: np.ndarray) -> bool:
    fingers, center_size = extended_fingers(landmarks), palm_center_and_size(landmarks)
    (cx, cy), size = center_size
    if kind == "fist":
        return fingers == 0 and pinch_spread(landmarks) < 0.6 and not is_pinch(landmarks)
    if kind == "one":
        return fingers == 1 and landmarks[8][1] < cy - 0.4 * size
    if kind == "two":  # index and middle up: pointer mode's scroll shape
        return fingers == 2 and max(landmarks[8][1], landmarks[12][1]) < cy - 0.4 * size
    return fingers >= 3  # palm


def find_poses(data: Path, tracker, kinds: dict[str, str], per_kind: int = 1, tries: int = 60,
               background: np.ndarray | None = None) -> dict[str, list[Pose]]:
    """``per_kind`` crops per pose kind (kind -> class folder) that MediaPipe reads as that shape."""
    dataset = discover(data, min_classes=1)
    bg = background if background is not None else np.full((HEIGHT, WIDTH, 3), 114, np.uint8)
    out: dict[str, list[Pose]] = {}
    for kind, label in kinds.items():
        if label not in dataset.labels:
            raise ValueError(f"no {label!r} folder under {data}")
        target = dataset.labels.index(label)
        files = [f for f, t in zip(dataset.files, dataset.targets) if t == target][:tries]
        found = []
        for name in files:
            crop = _scaled(read_bgr(dataset.root / name))
            frame, (x0, y0) = _paste(bg, crop, (WIDTH / 2, HEIGHT / 2), (crop.shape[1] / 2, crop.shape[0] / 2))
            hands = tracker.detect(frame)
            if len(hands) != 1 or not _shape_ok(kind, hands[0].landmarks):
                continue
            (cx, cy), _ = palm_center_and_size(hands[0].landmarks)
            found.append(Pose(crop, (cx - x0, cy - y0), str(name)))
            if len(found) == per_kind:
                break
        if len(found) < per_kind:
            raise ValueError(f"found only {len(found)} {kind!r} crop(s) MediaPipe reads as {kind} in {label!r}")
        out[kind] = found
    return out


def _scaled(crop: np.ndarray) -> np.ndarray:
    scale = CROP_SHARE * HEIGHT / max(crop.shape[:2])
    return cv2.resize(crop, (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))),
                      interpolation=cv2.INTER_AREA)


def _paste(background: np.ndarray, crop: np.ndarray, at: tuple[float, float], palm: tuple[float, float]
           ) -> tuple[np.ndarray, tuple[int, int]]:
    """``background`` with ``crop`` pasted so that its point ``palm`` lands at ``at``; and the crop's corner."""
    frame = background.copy()
    x0, y0 = int(round(at[0] - palm[0])), int(round(at[1] - palm[1]))
    h, w = crop.shape[:2]
    fx0, fy0, fx1, fy1 = max(x0, 0), max(y0, 0), min(x0 + w, WIDTH), min(y0 + h, HEIGHT)
    if fx1 > fx0 and fy1 > fy0:
        frame[fy0:fy1, fx0:fx1] = crop[fy0 - y0:fy1 - y0, fx0 - x0:fx1 - x0]
    return frame, (x0, y0)


def _frames(background: np.ndarray, script: list[tuple[float, list[tuple[Pose, tuple[float, float]]]]]):
    """Each (seconds, [(pose, (x, y)) ...]) step, as frames (positions may be callables of 0..1)."""
    for seconds, hands in script:
        n = max(1, round(seconds * FPS))
        for i in range(n):
            frame = background
            for pose, where in hands:
                xy = where(i / max(n - 1, 1)) if callable(where) else where
                frame, _ = _paste(frame, pose.image, xy, pose.palm)
            yield frame


def _write(path: Path, frames) -> int:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    count = 0
    for frame in frames:
        writer.write(frame)
        count += 1
    writer.release()
    return count


def _resized(pose: Pose, scale: float) -> Pose:
    image = cv2.resize(pose.image, (round(pose.image.shape[1] * scale), round(pose.image.shape[0] * scale)),
                       interpolation=cv2.INTER_AREA)
    return Pose(image, (pose.palm[0] * scale, pose.palm[1] * scale), pose.source)


def _lerp(a: tuple[float, float], b: tuple[float, float]):
    return lambda u: (a[0] + (b[0] - a[0]) * u, a[1] + (b[1] - a[1]) * u)


def make_clips(data: Path, background: np.ndarray, out: Path, tracker) -> dict[str, list[dict]]:
    """Write the clips into ``out`` and return their labels (also written as ``labels.json``)."""
    bg = cv2.resize(background, (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)
    poses = find_poses(data, tracker, {"fist": "fist", "one": "one", "palm": "palm"}, per_kind=2, background=bg)
    fist, one, palm = poses["fist"][0], poses["one"][0], poses["palm"][0]
    centre, left, right = (WIDTH / 2, HEIGHT / 2), (WIDTH * 0.3, HEIGHT / 2), (WIDTH * 0.7, HEIGHT / 2)
    # the other hand of a two-hand zoom: the same fist mirrored (a left hand for a right one)
    small, other = _resized(fist, 0.75), _resized(poses["fist"][1], 0.75)
    near_l, near_r, far_l, far_r = ((WIDTH * x, HEIGHT / 2) for x in (0.3, 0.7, 0.12, 0.88))
    out.mkdir(parents=True, exist_ok=True)
    clips = {
        "tap_click.mp4": ([(0.5, []), (0.8, [(fist, centre)]), (0.2, [(one, centre)]), (0.8, [(fist, centre)]),
                           (0.5, [])],
                          [{"gesture": "click", "t_ms": 1500}, {"gesture": "fist", "t_ms": 1100},
                           {"gesture": "fist", "t_ms": 2200}]),
        "tap_double_click.mp4": ([(0.5, []), (0.8, [(fist, centre)]), (0.2, [(one, centre)]), (0.2, [(fist, centre)]),
                                  (0.2, [(one, centre)]), (0.8, [(fist, centre)]), (0.5, [])],
                                 [{"gesture": "click", "t_ms": 1500}, {"gesture": "click", "t_ms": 1900},
                                  {"gesture": "double_click", "t_ms": 1900}, {"gesture": "fist", "t_ms": 1100},
                                  {"gesture": "fist", "t_ms": 2600}]),
        "fist_drag.mp4": ([(0.5, []), (0.5, [(palm, left)]), (0.6, [(fist, left)]),
                           (1.0, [(fist, _lerp(left, right))]), (0.4, [(fist, right)]), (0.4, [(palm, right)]),
                           (0.5, [])],
                          [{"gesture": "drag_start", "t_ms": 1500}, {"gesture": "drag_end", "t_ms": 3000},
                           {"gesture": "fist"}]),
        "two_hand_zoom.mp4": ([(0.5, []), (1.2, [(small, near_l), (other, near_r)]),
                               (0.6, [(small, _lerp(near_l, far_l)), (other, _lerp(near_r, far_r))]),
                               (1.0, [(small, far_l), (other, far_r)]),
                               (0.6, [(small, _lerp(far_l, near_l)), (other, _lerp(far_r, near_r))]),
                               (0.8, [(small, near_l), (other, near_r)]), (0.5, [])],
                              [{"gesture": "zoom_in", "t_ms": 2300}, {"gesture": "zoom_out", "t_ms": 3900},
                               {"gesture": "fist"}, {"gesture": "fist"}]),
    }
    labels = {}
    for name, (script, expected) in clips.items():
        count = _write(out / name, _frames(bg, script))
        labels[name] = expected
        log.info("%s: %d frames", name, count)
    poses.update(find_poses(data, tracker, {"two": "peace"}, background=bg))
    sweep = poses["two"][0]
    # pointer mode's sideways scroll: not an event clip (kept out of labels.json, in its own folder)
    (out / "pointer").mkdir(exist_ok=True)
    count = _write(out / "pointer" / "two_finger_sweep.mp4",
                   _frames(bg, [(0.4, []), (0.6, [(sweep, left)]), (1.2, [(sweep, _lerp(left, right))]),
                                (0.4, [(sweep, right)]), (1.2, [(sweep, _lerp(right, left))]),
                                (0.6, [(sweep, left)]), (0.4, [])]))
    log.info("pointer/two_finger_sweep.mp4: %d frames", count)
    sources = {k: [p.source for p in v] for k, v in poses.items()}
    (out / "labels.json").write_text(json.dumps(labels, indent=1) + "\n")
    (out / "poses.json").write_text(json.dumps(sources, indent=1) + "\n")
    return labels
