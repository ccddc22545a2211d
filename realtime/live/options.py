"""The live loop's settings: one frozen value the loop, the window and the sinks read, built once by
``python -m realtime.run`` from its options (nothing downstream sees argparse)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from realtime.events.gestures import DEFAULT_HOLD_EVERY_MS, DEFAULT_MIN_HOLD_MS
from realtime.events.swipes import DEFAULT_MIN_DISTANCE


@dataclass(frozen=True)
class LiveOptions:
    """How the live loop runs and what it shows; the defaults are ``realtime.run``'s."""

    headless: bool = False
    events_only: bool = False
    serial: bool = False
    mirror: bool | None = None  # None: on for cameras, off for files
    max_frames: int | None = None
    threshold: float = 0.6
    min_hold_ms: int = DEFAULT_MIN_HOLD_MS
    hold_every_ms: int = DEFAULT_HOLD_EVERY_MS
    swipe_distance: float = DEFAULT_MIN_DISTANCE
    record: Path | None = None
    snapshot_dir: Path = Path("snapshots")
    teach_dir: Path = Path("teach")
    teach_keep_base: bool = True
    threads: int = 2
    spinning: bool = False
    crop_view: bool = False
    cam: bool = False
