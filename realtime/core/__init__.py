"""The contracts everything else shares: labels, crop geometry, preprocessing and model metadata, errors,
file locations, image reading, atomic outputs, data sets, timing and the command-line plumbing."""

from __future__ import annotations

from realtime.core.contract import HAGRID_LABELS, NO_GESTURE, UNSURE, ModelContract, is_gesture, prepare_image
from realtime.core.errors import HandSignError
from realtime.core.paths import GESTURE_MODEL, HAND_MODEL

__all__ = ["GESTURE_MODEL", "HAGRID_LABELS", "HAND_MODEL", "HandSignError", "ModelContract", "NO_GESTURE", "UNSURE",
           "is_gesture", "prepare_image"]
