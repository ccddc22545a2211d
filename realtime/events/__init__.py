"""Pure logic, no I/O: a frame's hands -> gesture events (start / hold / end) and swipes."""

from __future__ import annotations

from realtime.events.pointer import POINTER_EVENTS, PointerDetector
from realtime.events.gestures import GestureEvent, GestureEvents, HandObservation
from realtime.events.swipes import SWIPES, SwipeDetector
from realtime.events.detector import EventDetector

__all__ = ["POINTER_EVENTS", "PointerDetector", "EventDetector", "GestureEvent", "GestureEvents", "HandObservation", "SWIPES", "SwipeDetector"]
