"""MediaPipe behind one door: the hand tracker, the tiles and background search for distant hands, and
MediaPipe's own Gesture Recognizer as a benchmark peer (idle mode and still hands, in ``idle`` and
``still``, decide when it need not run). Imported lazily: mediapipe loads on first use."""

from __future__ import annotations

import importlib

_WHERE = {"Hand": "tracker", "HandTracker": "tracker", "DistantHandSearch": "search", "PeerRecognizer": "peer"}
__all__ = ["DistantHandSearch", "Hand", "HandTracker", "PeerRecognizer"]


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
