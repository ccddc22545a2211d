"""Gesture events as OSC messages over UDP (`python-osc`), for music and visual tools."""

from __future__ import annotations

import logging

from realtime.core.errors import HandSignError
from realtime.events.gestures import GestureEvent

log = logging.getLogger(__name__)


#: OSC addresses (docs/stream.md). Arguments, in order:
#: gesture events: gesture, hand, confidence, x, y, track, held_ms
#: swipes: direction (swipe_left ...), hand, confidence, x, y, track, held_ms, distance, shape
#: clicks, drags, zooms (/handsign/pointer): click | double_click | drag_start | drag_end | zoom_in | zoom_out,
#: then as gestures
OSC_PREFIX = "/handsign"


def osc_message(event: GestureEvent) -> tuple[str, list]:
    """The OSC address and arguments of an event (OSC has no null: -1 and "" stand in)."""
    common = [event.gesture, event.hand, -1.0 if event.confidence is None else float(event.confidence),
              float(event.x), float(event.y), -1 if event.track is None else int(event.track), int(event.held_ms)]
    if event.type == "swipe":
        return f"{OSC_PREFIX}/swipe", common + [float(event.distance or 0.0), event.shape or ""]
    if event.type == "pointer":
        return f"{OSC_PREFIX}/pointer", common
    return f"{OSC_PREFIX}/gesture/{event.type}", common


class OscSender:
    """Events as OSC messages over UDP to ``host:port``; a send that fails is logged, never raised."""

    def __init__(self, host: str, port: int) -> None:
        from pythonosc.udp_client import SimpleUDPClient
        try:
            self._client = SimpleUDPClient(host, port)
        except OSError as exc:  # an unresolvable host
            raise HandSignError(f"cannot send OSC to {host}:{port}: {exc.strerror or exc}") from None
        self.host, self.port, self.sent, self.failed = host, port, 0, 0
        log.info("OSC events to %s:%d", host, port)

    def send(self, event: GestureEvent) -> None:
        """Send one event as an OSC message (UDP: never blocks, never fails loudly)."""
        address, args = osc_message(event)
        try:
            self._client.send_message(address, args)
            self.sent += 1
        except OSError as exc:
            self.failed += 1
            if self.failed == 1:
                log.warning("OSC send to %s:%d failed: %s", self.host, self.port, exc.strerror or exc)
