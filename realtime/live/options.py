"""The live loop's settings (:class:`LiveOptions`, one frozen value the loop, the window and the sinks
read) and the option groups the commands share, with the functions that turn parsed options into the
options objects below them: :class:`LiveOptions`, :class:`~realtime.live.recognition.RecognitionOptions`
and :class:`~realtime.events.options.EventOptions`. Nothing below the commands sees argparse."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from realtime.core.cli import add_crop_options, add_hand_options, add_heads_option, add_threads_option
from realtime.core.paths import GESTURE_MODEL
from realtime.events.options import EventOptions, GestureOptions, PointerEventOptions, SwipeOptions
from realtime.hands.idle import DEFAULT_IDLE_AFTER_MS
from realtime.hands.still import DEFAULT_MAX_REUSED
from realtime.hands.tracker import DEFAULT_SECOND_HAND_MS
from realtime.live.recognition import RecognitionOptions


@dataclass(frozen=True)
class LiveOptions:
    """How the live loop runs and what it shows; the defaults are ``realtime.run``'s."""

    headless: bool = False
    events_only: bool = False
    serial: bool = False
    mirror: bool | None = None  # None: on for cameras, off for files
    max_frames: int | None = None
    threshold: float = 0.6
    events: EventOptions = EventOptions()  # when gestures, swipes, clicks, drags and zooms fire
    record: Path | None = None
    snapshot_dir: Path = Path("snapshots")
    teach_dir: Path = Path("teach")
    teach_keep_base: bool = True
    threads: int = 2
    spinning: bool = False
    crop_view: bool = False
    activation_map: bool = False


def add_recognition_options(group: argparse._ActionsContainer) -> None:
    """How hands are found and named: the options ``realtime.run`` and the commands that replay its
    path (``realtime.evaluate_events``) share."""
    group.add_argument("--model", type=Path, default=None,
                       help=f"gesture model (.onnx); default {GESTURE_MODEL.relative_to(GESTURE_MODEL.parents[1])} "
                            "(shipped); 'none' tracks hands without labels")
    add_hand_options(group, no_tiles_help="do not search overlapping tiles for small, distant hands the "
                                          "whole-frame pass misses (images: in the same step; video and camera: in "
                                          "the background, then followed)")
    group.add_argument("--threshold", type=float, default=0.6,
                       help="below this smoothed confidence a hand is 'unsure'")
    group.add_argument("--smooth", type=int, default=5, help="frames averaged per hand (1 = off)")
    add_crop_options(group, margin_help="margin around the hand, fraction of its size (default: the model's own)",
                     framing_help="crop framing: hand (grown landmark box, grey-padded) or context (square with "
                                  "surroundings); default: the model's own")
    add_heads_option(group)
    add_threads_option(group, spinning=True)
    group.add_argument("--serial", action="store_true",
                       help="find the hands and classify them one after the other, instead of tracking the "
                            "next frame on a second thread while this one is classified")
    add_cost_options(group)


def add_cost_options(group: argparse._ActionsContainer) -> None:
    """When MediaPipe need not run (idle mode, still hands, the second-hand look): ``realtime.run``,
    the commands that replay its path and ``realtime.bench`` share them."""
    group.add_argument("--idle-after", type=int, default=DEFAULT_IDLE_AFTER_MS,
                       help="ms without a hand before idle mode: then hands are looked for only on frames that "
                            "moved (and at least once a second), and the first hand wakes it (0: never idle; "
                            "video and cameras only)")
    group.add_argument("--still-frames", type=int, default=DEFAULT_MAX_REUSED,
                       help="frames in a row that hands whose surroundings did not change keep their landmarks "
                            "instead of another MediaPipe pass (0: track every frame; video only, off with "
                            "--pointer)")
    group.add_argument("--second-hand-ms", type=int, default=DEFAULT_SECOND_HAND_MS,
                       help="with one hand tracked of two allowed, look for a second hand at most this often, "
                            "following the one hand alone in between (0: on every frame, as MediaPipe's own "
                            "landmarker does; always 0 with --pointer)")


_GESTURES, _SWIPES = GestureOptions(), SwipeOptions()


def add_event_options(group: argparse._ActionsContainer) -> None:
    """When gestures and swipes become events (the rest of the thresholds: realtime.events.options)."""
    group.add_argument("--min-hold", type=int, default=_GESTURES.min_hold_ms,
                       help="ms a gesture must be shown before its start event (a passing shape fires nothing)")
    group.add_argument("--hold-every", type=int, default=_GESTURES.hold_every_ms,
                       help="ms between hold events while a gesture stays (0: no hold events)")
    group.add_argument("--swipe-distance", type=float, default=_SWIPES.min_distance,
                       help=f"how far a swipe must move, in hand sizes, within {_SWIPES.window_ms} ms (or "
                            f"{_SWIPES.min_frame_distance:g} of the frame along the stroke, if that is less)")
    group.add_argument("--min-size", type=float, default=_GESTURES.min_size,
                       help="smallest hand whose gestures start, as its box over the frame height (0: any)")
    group.add_argument("--swipe-min-size", type=float, default=_SWIPES.min_size,
                       help="smallest hand whose strokes are swipes, as its box over the frame height (0: any)")
    group.add_argument("--intent", action=argparse.BooleanOptionalAction, default=True,
                       help="swipes only from strokes that look deliberate: from rest, with a finger out, and a "
                            "lost hand followed only where its motion leads (--no-intent: any fast motion; "
                            "docs/false-triggers.md)")


def event_options(args: argparse.Namespace, right_click: bool = False) -> EventOptions:
    """The event detectors' settings from :func:`add_event_options`' options (and the bindings file's
    ``right_click``, which turns the right click on)."""
    return EventOptions(
        gestures=GestureOptions(min_hold_ms=args.min_hold, hold_every_ms=args.hold_every, min_size=args.min_size),
        swipes=SwipeOptions(min_distance=args.swipe_distance, min_size=args.swipe_min_size, intent=args.intent),
        pointer=PointerEventOptions(right_click=right_click))


def recognition_options(args: argparse.Namespace, pointer: bool = False) -> RecognitionOptions:
    """The live path's settings from :func:`add_recognition_options`' options."""
    return RecognitionOptions(
        hand_model=args.hand_model, max_hands=args.max_hands, min_detection=args.min_detection,
        tiles=not args.no_tiles, threshold=args.threshold, smooth=args.smooth, crop_margin=args.crop_margin,
        framing=args.framing, idle_after_ms=args.idle_after, still_frames=args.still_frames,
        second_hand_ms=args.second_hand_ms, pointer=pointer)


def replay_options(args: argparse.Namespace, mirror: bool = False) -> LiveOptions:
    """The loop's settings for commands that replay clips headless (evaluate_events, evaluate_pointer)."""
    return LiveOptions(headless=True, events_only=True, serial=args.serial, mirror=mirror,
                       threshold=args.threshold, events=event_options(args), threads=args.threads,
                       spinning=args.spinning)


def check_cost_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Range checks of :func:`add_cost_options`."""
    if not 0 <= args.idle_after <= 3_600_000:
        parser.error("--idle-after must be within 0..3600000 ms")
    if not 0 <= args.still_frames <= 10 or not 0 <= args.second_hand_ms <= 10000:
        parser.error("--still-frames must be within 0..10, --second-hand-ms within 0..10000")


def check_live_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Range checks of the recognition and event options."""
    if args.smooth < 1 or not 0 <= args.threshold <= 1:
        parser.error("--smooth must be >= 1 and --threshold within 0..1")
    check_cost_options(parser, args)
    if not 0 <= args.min_size <= 1 or not 0 <= args.swipe_min_size <= 1:
        parser.error("--min-size and --swipe-min-size must be within 0..1 (a fraction of the frame height)")
    if not 0 <= args.min_hold <= 10000 or not 0 <= args.hold_every <= 60000 or not 0.2 <= args.swipe_distance <= 20:
        parser.error("--min-hold must be within 0..10000 ms, --hold-every within 0..60000 ms, "
                     "--swipe-distance within 0.2..20")
