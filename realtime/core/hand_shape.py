"""The landmark contract: 21 hand landmarks -> the numbers the landmark head reads. Pure numpy.

One recipe for training (landmarks of padded HaGRID crops), the shipped ONNX (its second input) and
the live loop. Its name is stored in the model's metadata (``handsign.landmark_features``), so a
model made for another recipe is refused rather than fed the wrong numbers.

The hand is put in a canonical frame: origin at the wrist, scaled by the wrist -> middle-finger-base
distance (which a change of shape hardly moves), and mirrored so every hand looks like a right hand
in the image. The image is not rotated: up and down matter (``like`` vs ``dislike``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: The recipe's name in the model metadata; change it whenever the numbers below change.
FEATURES_RECIPE = "hand-shape-v1"
WRIST, THUMB_TIP, INDEX_BASE, MIDDLE_BASE, PINKY_BASE = 0, 4, 5, 9, 17
TIPS = (4, 8, 12, 16, 20)
#: (base, middle joint, tip side) per finger: the bend at the middle joint.
JOINTS = ((1, 2, 3), (2, 3, 4), (5, 6, 7), (6, 7, 8), (9, 10, 11), (10, 11, 12), (13, 14, 15), (14, 15, 16),
          (17, 18, 19), (18, 19, 20))
PAIRS = ((4, 8), (4, 12), (4, 16), (4, 20), (8, 12), (12, 16), (16, 20), (4, 5), (8, 5))
BASES = (2, 5, 9, 13, 17)
#: 20 points x 2 + 9 tip distances + 5 extensions + 10 joint bends.
FEATURES_SIZE = 40 + len(PAIRS) + len(TIPS) + len(JOINTS)


def image_flip(handedness: str, mirrored: bool) -> bool:
    """Whether a hand must be flipped to look like a right hand in the image.

    ``handedness`` is the person's own hand (what the tracker reports); in a mirror view a right
    hand looks like a right hand, in a camera's own view like a left one.
    """
    return (handedness == "Left") == mirrored


def hand_shape_features(landmarks: np.ndarray, flip: bool) -> np.ndarray:
    """``FEATURES_SIZE`` float32 numbers for one hand's (21, 2) landmarks (any pixel scale)."""
    p = np.asarray(landmarks, np.float64)[:, :2] - np.asarray(landmarks, np.float64)[WRIST, :2]
    if flip:
        p[:, 0] = -p[:, 0]
    scale = max(float(np.hypot(*p[MIDDLE_BASE])), 1e-6)
    p = p / scale
    dist = [np.hypot(*(p[a] - p[b])) for a, b in PAIRS]
    extension = [np.hypot(*p[t]) / max(np.hypot(*p[b]), 1e-6) for t, b in zip(TIPS, BASES)]
    bends = []
    for a, b, c in JOINTS:
        u, v = p[a] - p[b], p[c] - p[b]
        bends.append(float(u @ v) / max(np.hypot(*u) * np.hypot(*v), 1e-6))
    return np.concatenate([p[1:].ravel(), dist, extension, bends]).astype(np.float32)


def batch_features(landmarks: list[np.ndarray], flips: list[bool]) -> np.ndarray:
    """(N, FEATURES_SIZE) for N hands."""
    if not landmarks:
        return np.zeros((0, FEATURES_SIZE), np.float32)
    return np.stack([hand_shape_features(l, f) for l, f in zip(landmarks, flips)])


#: (tip, middle joint) of the four fingers; the thumb's extension is too ambiguous to count.
FINGERS = ((8, 6), (12, 10), (16, 14), (20, 18))
#: A finger is extended when its tip is this much farther from the wrist than its middle joint.
EXTENDED_RATIO = 1.15


def extended_fingers(landmarks: np.ndarray) -> int:
    """How many of the four fingers (not the thumb) are stretched out: 0 for a fist or a hand
    curled round a cup, 1 for a pointing finger, 4 for an open palm. Rotation- and scale-free."""
    p = np.asarray(landmarks, np.float64)[:, :2]
    reach = np.hypot(*(p - p[WRIST]).T)
    return int(sum(reach[tip] > EXTENDED_RATIO * reach[joint] for tip, joint in FINGERS))


#: A pinch: thumb and index tips this close (palm lengths), the index reaching out (its tip at least
#: PINCH_REACH from the wrist and PINCH_BEND from its base) rather than curled into a fist.
PINCH_CLOSED, PINCH_REACH, PINCH_BEND = 0.3, 1.1, 0.45


def is_pinch(landmarks: np.ndarray) -> bool:
    """Thumb and index tips together with the index reaching forward (not a fist's thumb over a
    curled index), the other fingers not stretched out."""
    p = np.asarray(landmarks, np.float64)[:, :2]
    palm = max(np.hypot(*(p[MIDDLE_BASE] - p[WRIST])), 1e-6)
    return bool(pinch_spread(p) <= PINCH_CLOSED and np.hypot(*(p[8] - p[WRIST])) >= PINCH_REACH * palm
                and np.hypot(*(p[8] - p[INDEX_BASE])) >= PINCH_BEND * palm and extended_fingers(p) <= 1)


def pinch_spread(landmarks: np.ndarray) -> float:
    """Thumb tip to index tip, over the wrist -> middle-finger-base distance: about 0.1-0.3 for a
    pinch, 0.7-0.9 for an open hand, over 1 for an "L" of thumb and index."""
    p = np.asarray(landmarks, np.float64)[:, :2]
    return float(np.hypot(*(p[THUMB_TIP] - p[8])) / max(np.hypot(*(p[MIDDLE_BASE] - p[WRIST])), 1e-6))


def middle_spread(landmarks: np.ndarray) -> float:
    """Thumb tip to middle-finger tip, in palm lengths (as :func:`pinch_spread`)."""
    p = np.asarray(landmarks, np.float64)[:, :2]
    return float(np.hypot(*(p[THUMB_TIP] - p[12])) / max(np.hypot(*(p[MIDDLE_BASE] - p[WRIST])), 1e-6))


#: A thumb-middle pinch (the right click): the index must stay this far from the thumb (palm lengths).
MIDDLE_PINCH_INDEX_APART = 0.5

def is_middle_pinch(p: np.ndarray, out: tuple[bool, bool, bool, bool], spread: float,
                    closed: float = PINCH_CLOSED) -> bool:
    """Thumb and middle tips together with the middle finger reaching forward (not curled into the
    palm as in a fist or a pointing "one", where the thumb also lies near it), the index out and apart."""
    palm = max(np.hypot(*(p[MIDDLE_BASE] - p[WRIST])), 1e-6)
    return bool(out[0] and middle_spread(p) <= closed and spread >= MIDDLE_PINCH_INDEX_APART
                and np.hypot(*(p[12] - p[WRIST])) >= PINCH_REACH * palm
                and np.hypot(*(p[12] - p[MIDDLE_BASE])) >= PINCH_BEND * palm)


#: An "L": the index alone out and the thumb tip at least this far from the index tip (palm lengths).
L_SPREAD = 1.0
#: A fist's thumb lies over its fingers: the spread stays under this.
FIST_SPREAD = 0.6


def fingers_out(landmarks: np.ndarray) -> tuple[bool, bool, bool, bool]:
    """Index, middle, ring and little finger: each stretched out or not (see :func:`extended_fingers`)."""
    p = np.asarray(landmarks, np.float64)[:, :2]
    reach = np.hypot(*(p - p[WRIST]).T)
    return tuple(bool(reach[tip] > EXTENDED_RATIO * reach[joint]) for tip, joint in FINGERS)  # type: ignore[return-value]


@dataclass(frozen=True)
class HandPose:
    """What a hand's landmarks say of its shape: the one reading that swipes, pointer events and the
    cursor share (:func:`hand_pose`)."""

    fingers: int  # stretched fingers, not the thumb
    spread: float  # thumb tip to index tip, palm lengths (:func:`pinch_spread`)
    pinched: bool  # thumb and index tips together, the index reaching out, the others curled (:func:`is_pinch`)
    ok: bool  # thumb and index tips together with the other three fingers out: the "ok" circle
    l_shape: bool  # the index alone out and the thumb far from it: an "L"
    fist: bool  # no finger out, the thumb over them, not a pinch
    middle_pinch: bool = False  # thumb and middle tips together, the index out and apart: the right click
    middle_out: bool = False  # the middle finger stretched out

    @property
    def closed(self) -> bool:
        """A pinch (of either kind) or a fist."""
        return self.pinched or self.fist


def hand_pose(landmarks: np.ndarray, closed: float = PINCH_CLOSED) -> HandPose:
    """The hand's pose from its (21, 2) landmarks; ``closed``: the spread under which thumb and index touch."""
    p = np.asarray(landmarks, np.float64)[:, :2]
    out = fingers_out(p)
    fingers, spread = sum(out), pinch_spread(p)
    pinched = is_pinch(p)
    return HandPose(fingers=fingers, spread=spread, pinched=pinched,
                    ok=spread <= closed and sum(out[1:]) >= 2,
                    l_shape=out[0] and not any(out[1:]) and spread >= L_SPREAD,
                    fist=fingers == 0 and spread < FIST_SPREAD and not pinched,
                    middle_pinch=is_middle_pinch(p, out, spread, closed), middle_out=out[1])
