"""Pure logic, no I/O: a frame's hands -> gesture events (start / hold / end), swipes, clicks, drags and zooms.

Each detector is made from its frozen options object (``create_from_options``); every threshold is a
named field of :mod:`realtime.events.options`.
"""

from __future__ import annotations

from realtime.events.clicks import POINTER_EVENTS, PointerDetector
from realtime.events.detector import EventDetector
from realtime.events.gestures import GestureDetector, GestureEvent, HandObservation
from realtime.events.options import EventOptions, GestureOptions, PointerEventOptions, SwipeOptions
from realtime.events.swipes import SWIPES, SwipeDetector

__all__ = ["POINTER_EVENTS", "PointerDetector", "EventDetector", "EventOptions", "GestureEvent", "GestureDetector",
           "GestureOptions", "HandObservation", "PointerEventOptions", "SWIPES", "SwipeDetector", "SwipeOptions"]
