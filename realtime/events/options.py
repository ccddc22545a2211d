"""The event detectors' settings: one frozen options object per detector, made and checked once.

    detector = EventDetector.create_from_options(EventOptions(
        gestures=GestureOptions(min_hold_ms=800), swipes=SwipeOptions(min_distance=2.0)))

Every threshold of the event logic is a named field here, documented once (docs/bindings.md,
docs/dynamic-gestures.md and docs/false-triggers.md say what the rules are and what they were
measured on). Commands translate their options into these objects (``realtime.live.options``);
nothing below them sees argparse. Sizes are fractions of the frame height ("of the frame"), or
multiples of the hand's own size ("hand sizes": its landmark box's longer side); spreads are in
palm lengths (wrist to middle-finger base, :mod:`realtime.core.hand_shape`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from realtime.core.errors import HandSignError


def _check(options: object, rules: dict[str, tuple[float, float]]) -> None:
    """Range checks: one line naming the field and its allowed range."""
    for name, (lo, hi) in rules.items():
        value = getattr(options, name)
        if not lo <= value <= hi:
            raise HandSignError(f"{type(options).__name__}.{name} must be within {lo:g}..{hi:g} (got {value!r})")


@dataclass(frozen=True)
class GestureOptions:
    """When a held gesture starts, holds and ends (:mod:`realtime.events.gestures`)."""

    #: A gesture starts once its frames add up to this long (a shape the hand passes through fires nothing).
    min_hold_ms: int = 600
    #: Another label (or a lost hand) must last this long to end a gesture; a shorter flicker does not.
    release_ms: int = 200
    #: A ``hold`` event this often while a gesture stays (0: none).
    hold_every_ms: int = 500
    #: The smallest hand whose gestures start (landmark box over the frame height): about 3 m from a webcam.
    min_size: float = 0.08
    #: The hand's size is the median of its last this many frames (a moving hand's box jumps).
    size_frames: int = 9
    #: Look-alike gestures (``mute`` beside ``one``, each ``*_inverted`` beside its gesture) start only when
    #: their smoothed probability leads the look-alike's by this much on most of the hold's frames.
    lookalike_margin: float = 0.3
    #: A gesture starts only when its smoothed confidence reaches this on most of the hold's frames
    #: (``--threshold`` alone decides what is shown as a label; starts fire actions).
    min_confidence: float = 0.85
    #: A hand in an "L" of thumb and index (a zoom beside the chin, an air mouse's pen) starts no ``mute``
    #: (``one`` may show the thumb: on the held-back people blocking it too lost a wanted ``one``).
    l_blocks_mute: bool = True
    #: A gesture starts only on a hand that is still: its palm moved at most this many hand sizes a second
    #: over the last ``calm_ms`` (hands gesturing while talking, washing or dancing never rest; a hand
    #: raised into a gesture starts once it stops).
    max_speed: float = 1.0
    calm_ms: int = 500
    #: A gesture starts only on a hand with no other hand within this many hand sizes (palm to palm):
    #: hands washing, clasped or busy with each other. Closer than ``duplicate_sizes`` is the same hand
    #: found twice, not another.
    apart_sizes: float = 1.1
    duplicate_sizes: float = 0.3

    def __post_init__(self) -> None:
        _check(self, {"min_hold_ms": (0, 10000), "release_ms": (0, 5000), "hold_every_ms": (0, 60000),
                      "min_size": (0, 1), "size_frames": (1, 100), "lookalike_margin": (0, 1), "min_confidence": (0, 1),
                      "max_speed": (0, 100), "calm_ms": (0, 5000), "apart_sizes": (0, 20),
                      "duplicate_sizes": (0, 5)})


@dataclass(frozen=True)
class SwipeOptions:
    """When a hand's motion is a swipe (:mod:`realtime.events.swipes`)."""

    #: A swipe moves the palm at least this many hand sizes ...
    min_distance: float = 1.5
    #: ... or at least this much of the frame's width (sideways) or height (up and down), whichever is
    #: less: a hand close to the camera cannot travel 1.5 of its own sizes inside the frame.
    min_frame_distance: float = 0.4
    #: ... within this long (a hand lost mid-stroke for ``max_gap_ms`` must still complete it).
    window_ms: int = 1300
    #: The other axis at most this many times as far as the main one.
    max_cross: float = 0.5
    #: How long a hand lost while moving is looked for (a blurred, turned hand during a stroke: a held-out
    #: open hand turned down mid-stroke was lost for about a second).
    max_gap_ms: int = 1200
    #: How long a hand lost at rest keeps its track.
    rest_gap_ms: int = 500
    #: The smallest hand whose strokes count (landmark box over the frame height).
    min_size: float = 0.12
    #: The rest and shape rules below (``min_size`` applies either way).
    intent: bool = True
    #: Before a stroke the palm moved less than this (hand sizes a second, along its path) ...
    rest_speed: float = 0.6
    #: ... over this long.
    rest_ms: int = 300
    #: A stroke at least this fast (hand sizes a second) and this long (hand sizes) needs no rest before
    #: it (0: off, the default: on the development set it added false swipes and found none missed).
    fast_speed: float = 0.0
    fast_distance: float = 2.0
    #: Of the stroke's frames, the share that must show an extended finger, and the same count of them.
    open_share: float = 2 / 3
    same_shape_share: float = 0.6
    #: A flick: the index fingertip moves this many hand sizes while the palm moves at most half as far.
    flick_distance: float = 1.0
    #: A lost hand reappearing beyond this many hand sizes must have been moving that way ...
    near_sizes: float = 1.5
    #: ... at least this fast (hand sizes a second), and near where that velocity carried it.
    moving_speed: float = 1.0
    #: A detection this close to an already matched one (hand sizes) is the same hand seen twice.
    duplicate_sizes: float = 0.6
    #: A track follows a detection at most this many hand sizes away.
    max_match_sizes: float = 4.0
    #: The same swipe again on the same track within this time is the same stroke, not a new one.
    same_stroke_ms: int = 600
    #: The hand's size is the median of its last this many frames.
    size_history: int = 15
    #: With two hands in view, both moving at once (hands busy with an object, a dancer's arms), no swipe.
    both_hands_busy: bool = True

    def __post_init__(self) -> None:
        _check(self, {"min_distance": (0.2, 20), "min_frame_distance": (0, 1), "window_ms": (100, 5000),
                      "max_cross": (0, 1), "max_gap_ms": (0, 5000), "rest_gap_ms": (0, 5000), "min_size": (0, 1),
                      "rest_speed": (0, 100), "rest_ms": (0, 5000), "open_share": (0, 1),
                      "same_shape_share": (0, 1), "flick_distance": (0.1, 20), "fast_speed": (0, 1000),
                      "fast_distance": (0, 100)})


@dataclass(frozen=True)
class PointerEventOptions:
    """When a hand clicks, drags or zooms (:mod:`realtime.events.clicks`)."""

    #: The smallest hand that clicks, drags or zooms (landmark box over the frame height).
    min_size: float = 0.12
    #: Spread thresholds (palm lengths): a pinch is closed below ``closed`` (:func:`hand_pose`), open again
    #: above ``open``; a fist's thumb lies over its fingers, below ``fist_spread``.
    closed: float = 0.3
    open: float = 0.45
    fist_spread: float = 0.6
    #: One hand's zoom: an "L" at least ``wide``, a pinch at most ``narrow``.
    wide: float = 1.0
    narrow: float = 0.35
    #: A pinch click closes and opens within this long (or ``click_frames`` of the source's frames, whichever
    #: is more: a GIF's or a slow camera's frames are long).
    click_ms: int = 400
    click_frames: int = 8
    #: A tap's index is up at most this long (or ``click_frames`` frames): a tap from a fist is slower than a
    #: pinch (0.8 s of clip time in a held-out demo clip).
    tap_ms: int = 900
    #: A drag needs the hand seen closed on this many frames (a hand that flickers in and out is no grip).
    drag_frames: int = 4
    #: An "ok"-shaped pinch (the other fingers up) drags only once it moves this many hand sizes while
    #: closed: held still, it is the static ``ok``.
    ok_drag_move: float = 0.5
    #: Frames in a row neither open nor closed after which the hand counts as neither.
    between_frames: int = 3
    #: A pinch drag: most of the closed frames were a pinch (not a hand changing its grip).
    pinch_share: float = 0.75
    #: A one-hand zoom's end shape must hold for this many frames (one odd frame is a tracking glitch).
    zoom_frames: int = 3
    #: A tap's fist must have been shown this long before the index rises.
    tap_fist_ms: int = 200
    #: A second click of the same hand within this long is a double click.
    double_ms: int = 500
    #: A zoom happens within this long ...
    zoom_ms: int = 1000
    #: ... two hands' distance changing by this ratio (and at least one hand size).
    zoom_ratio: float = 1.4
    #: A click needs the palm to move less than this many hand sizes.
    still_sizes: float = 0.5
    #: After a zoom or drag, a hand's clicks and drags wait this long (the pinch that ended a zoom is no click).
    settle_ms: int = 600
    #: How much of a hand's past the one-hand zoom looks at.
    history_ms: int = 1200
    #: A hand lost this long is forgotten (a drag it held ends).
    lost_ms: int = 300
    #: One hand's clicks, drags and zooms need no other hand within this many hand sizes (hands washing,
    #: clasped or busy with each other); closer than ``duplicate_sizes`` is the same hand found twice.
    apart_sizes: float = 1.1
    duplicate_sizes: float = 0.3
    #: The right click (the middle finger down onto the thumb and up again). Off unless asked for (the
    #: bindings file's ``[pointer] right_click = true``, or a binding on ``right_click``): on people
    #: handling cups (``fixtures/nongesture/cups.mp4``) it fired 4 times in 10 s.
    right_click: bool = False
    #: A one-hand zoom may open from (or close to) a fist as well as a pinch.
    fist_zoom: bool = True
    #: With the other fingers up (a volume-control spread), a one-hand zoom is the thumb-index spread
    #: opening from at most ``spread_narrow`` to at least ``wide`` (or closing back), the fingers unchanged.
    spread_zoom: bool = True
    spread_narrow: float = 0.55
    #: A one-hand zoom moves the fingers, not the hand: its palm stays within this many hand sizes.
    zoom_still_sizes: float = 0.4

    def __post_init__(self) -> None:
        _check(self, {"min_size": (0, 1), "closed": (0, 2), "open": (0, 3), "click_ms": (50, 5000),
                      "click_frames": (1, 100), "tap_ms": (50, 5000), "drag_frames": (1, 100), "zoom_ms": (100, 10000),
                      "zoom_ratio": (1, 10), "double_ms": (0, 5000)})
        if self.open < self.closed or self.wide < self.narrow:
            raise HandSignError("PointerEventOptions: open must be >= closed and wide >= narrow")


@dataclass(frozen=True)
class EventOptions:
    """Every event detector's settings: what ``realtime.run``'s event options become."""

    gestures: GestureOptions = field(default_factory=GestureOptions)
    swipes: SwipeOptions = field(default_factory=SwipeOptions)
    pointer: PointerEventOptions = field(default_factory=PointerEventOptions)


