"""How hands are found and named, as one frozen value, and the one function that builds the live path
from it: ``realtime.run``, the evaluators, the scorecard and ``realtime.bench`` all call
:func:`open_pipeline`, so what they measure is what users run."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from realtime.classifier.model import GestureClassifier
from realtime.core.contract import FRAMINGS
from realtime.core.errors import HandSignError
from realtime.hands.idle import DEFAULT_IDLE_AFTER_MS, IdlePacer
from realtime.hands.search import DistantHandSearch
from realtime.hands.still import DEFAULT_MAX_REUSED, StillHands
from realtime.hands.tracker import DEFAULT_SECOND_HAND_MS, HandTracker
from realtime.live.pipeline import GesturePipeline
from realtime.live.sources import Source


@dataclass(frozen=True)
class RecognitionOptions:
    """The live path's settings; the defaults are ``realtime.run``'s. Checked once, when made.

    Example::

        with ExitStack() as stack:
            source = stack.enter_context(open_video(Path("clip.mp4")))
            pipeline = open_pipeline(stack, source, classifier, RecognitionOptions(max_hands=1))
    """

    #: MediaPipe hand landmarker (.task), or "auto" for the shipped one
    hand_model: Path | str = "auto"
    #: hands tracked at once (>= 1)
    max_hands: int = 2
    #: MediaPipe's palm detection confidence (0..1)
    min_detection: float = 0.5
    #: search overlapping tiles for small, distant hands the whole-frame pass misses
    tiles: bool = True
    #: below this smoothed confidence a hand is "unsure" (0..1)
    threshold: float = 0.6
    #: frames whose probabilities are averaged per hand (1 = off)
    smooth: int = 5
    #: margin around the hand, a fraction of its size; None: the model's own
    crop_margin: float | None = None
    #: "hand" or "context" crop framing; None: the model's own
    framing: str | None = None
    #: ms without a hand before idle mode (0: never idle; video and cameras only)
    idle_after_ms: int = DEFAULT_IDLE_AFTER_MS
    #: frames in a row a still hand keeps its landmarks instead of another MediaPipe pass (0: off)
    still_frames: int = DEFAULT_MAX_REUSED
    #: with one of two hands tracked, look for a second one at most this often, in ms (0: every frame)
    second_hand_ms: int = DEFAULT_SECOND_HAND_MS
    #: pointer mode: every frame's landmarks from one landmarker (no still hands, no one-hand twin)
    pointer: bool = False

    def __post_init__(self) -> None:
        checks = [(self.max_hands >= 1, "max_hands must be >= 1"),
                  (0 <= self.min_detection <= 1, "min_detection must be within 0..1"),
                  (0 <= self.threshold <= 1, "threshold must be within 0..1"),
                  (self.smooth >= 1, "smooth must be >= 1"),
                  (self.crop_margin is None or 0 <= self.crop_margin <= 2, "crop_margin must be within 0..2"),
                  (self.framing is None or self.framing in FRAMINGS, f"framing must be one of {', '.join(FRAMINGS)}"),
                  (0 <= self.idle_after_ms <= 3_600_000, "idle_after_ms must be within 0..3600000"),
                  (0 <= self.still_frames <= 10, "still_frames must be within 0..10"),
                  (0 <= self.second_hand_ms <= 10000, "second_hand_ms must be within 0..10000")]
        for ok, message in checks:
            if not ok:
                raise HandSignError(f"recognition options: {message}")


def open_pipeline(stack: ExitStack, source: Source, classifier: GestureClassifier | None,
                  options: RecognitionOptions) -> GesturePipeline:
    """The live path for ``source``: the tracker (and the background search for distant hands) entered
    on ``stack``, and the pipeline around them.

    In pointer mode every frame's landmarks come from one landmarker (no still-hand reuse, no one-hand
    twin): switching between the two every 100 ms raised the pointer's jitter on the fixture clips from
    2.6 to 3.3 px."""
    o = options
    tracker = stack.enter_context(HandTracker(o.hand_model, o.max_hands, video=not source.still,
                                              min_detection=o.min_detection, tiles=o.tiles,
                                              second_hand_ms=0 if o.pointer else o.second_hand_ms))
    search = None if source.still or not o.tiles else stack.enter_context(
        DistantHandSearch(o.hand_model, o.max_hands, o.min_detection, wait=not source.live))
    pacer = None if source.still or not o.idle_after_ms else IdlePacer(o.idle_after_ms)
    still = None if source.still or o.pointer or not o.still_frames else StillHands(o.still_frames)
    pipeline = GesturePipeline(tracker, classifier, o.threshold, o.smooth, o.crop_margin, o.framing,
                               search, pacer, still)
    pipeline.carry_stable = not source.still
    return pipeline
