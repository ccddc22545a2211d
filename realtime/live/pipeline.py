"""One frame's work: hands -> crops -> one classifier batch -> smoothing, timed per stage."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from realtime.classifier.activation import ActivationMaps
from realtime.classifier.model import GestureClassifier
from realtime.core.contract import (
    DEFAULT_CROP_MARGIN,
    DEFAULT_FRAMING,
    DEFAULT_IMAGE_SIZE,
    Box,
    batch_from_prepared,
    clamp_box,
    is_gesture,
    prepare_image,
    shown_label,
)
from realtime.core.hand_shape import batch_features, image_flip
from realtime.hands.idle import IDLE_LOOK_SCALE, IdlePacer
from realtime.hands.search import DistantHandSearch
from realtime.hands.still import StillHands
from realtime.hands.tracker import Hand, HandTracker
from realtime.live.smoothing import ProbabilitySmoother
from realtime.live.sources import Frame


@dataclass
class HandResult:
    """What the overlay draws and the JSON line reports for one hand."""

    box: Box  # crop box clipped to the frame
    handedness: str
    hand_score: float
    crop: np.ndarray  # raw BGR crop (frame pixels)
    model_view: np.ndarray | None = None  # RGB image exactly as the classifier sees it
    label: str | None = None  # None without a gesture model; "unsure" below the threshold
    score: float | None = None
    top3: list[tuple[str, float]] = field(default_factory=list)
    track: int | None = None
    probabilities: np.ndarray | None = None  # smoothed, in the model's label order
    landmarks: np.ndarray | None = None  # (21, 2) pixels of the shown frame
    activation: np.ndarray | None = None  # where the model looked for its label (model-view pixels, 0..1)
    feature_map: np.ndarray | None = None  # the model's last feature map of this crop (kept for the map)

    @property
    def is_gesture(self) -> bool:
        """A named gesture (not unsure, not no_gesture, not unlabelled)."""
        return is_gesture(self.label)

    def to_json(self) -> dict:
        """The hand as a JSON-ready dict (the headless line's form)."""
        return {"box": list(map(int, self.box)), "handedness": self.handedness,
                "hand_score": round(self.hand_score, 4), "label": self.label,
                "score": None if self.score is None else round(self.score, 4),
                "top3": [[l, round(p, 4)] for l, p in self.top3], "track": self.track}


@dataclass
class FrameResult:
    """One processed frame: its hands, labels and stage timings."""

    frame: Frame
    image: np.ndarray  # the frame as shown (mirrored if mirror is on)
    hands: list[HandResult]
    timings_ms: dict[str, float]

    def to_json(self) -> dict:
        """The frame as a JSON-ready dict (the headless line's form)."""
        return {"frame": self.frame.index, "timestamp_ms": self.frame.timestamp_ms,
                "width": int(self.image.shape[1]), "height": int(self.image.shape[0]),
                "hands": [h.to_json() for h in self.hands]}


@dataclass
class Detection:
    """A frame after the hands stage, before the gesture stage."""

    frame: Frame
    image: np.ndarray  # the frame as shown (mirrored if mirror is on)
    hands: list[Hand]
    timings: dict[str, float]
    mirrored: bool = False


class GesturePipeline:
    """Holds the tracker, the classifier (optional) and the smoother; ``process`` one frame."""

    def __init__(self, tracker: HandTracker, classifier: GestureClassifier | None,
                 threshold: float = 0.6, smoothing: int = 5, crop_margin: float | None = None,
                 framing: str | None = None, search: DistantHandSearch | None = None,
                 pacer: IdlePacer | None = None, still: StillHands | None = None) -> None:
        self.tracker = tracker
        self.pacer = pacer  # idle mode: fewer looks for hands while none is in view (None: every frame)
        self.still = still  # hands that did not move keep their landmarks a frame or two (None: track every frame)
        self.search = search  # live search for distant hands (VIDEO mode), or None
        self.classifier = classifier
        self.threshold = threshold
        self.smoother = ProbabilitySmoother(smoothing)
        self._maps = None  # realtime.classifier.activation.ActivationMaps of the classifier, made on first use
        #: Fetch the feature map in the classifier's own run (the window's 'x'): the map is then a
        #: weighted sum, not a second inference.
        self.keep_feature_maps = False
        #: Video: a hand that barely moved since the last frame and whose label is settled is classified
        #: every third frame, its probabilities carried over in between (about half the classifier's
        #: cost with hands in view). Off for unrelated stills.
        self.carry_stable = False
        if crop_margin is None:
            crop_margin = classifier.contract.crop_margin if classifier else DEFAULT_CROP_MARGIN
        if framing is None:
            framing = classifier.contract.crop_framing if classifier else DEFAULT_FRAMING
        self.crop_margin, self.framing = crop_margin, framing

    def use_classifier(self, classifier: GestureClassifier) -> None:
        """Switch models at once (teach mode); the crop geometry stays (a taught model keeps its base's)."""
        self.classifier = classifier
        self._maps = None
        self.smoother.reset()  # the label set may have changed

    def process(self, frame: Frame, mirror: bool = False, capture_ms: float = 0.0) -> FrameResult:
        """One frame, serially: its hands, then their gestures."""
        return self.finish(self.detect(frame, mirror, capture_ms))

    def detect(self, frame: Frame, mirror: bool = False, capture_ms: float = 0.0) -> Detection:
        """The hands stage (MediaPipe, and the distant-hand search): the part the pipelined loop
        runs on its worker thread, one frame ahead of :meth:`finish`."""
        image = cv2.flip(frame.image, 1) if mirror else frame.image
        t0 = time.perf_counter()
        if self.pacer is not None and not self.pacer.look(frame.timestamp_ms, image):
            # idle, and nothing moved: no hand can have come
            return Detection(frame, image, [], {"capture": capture_ms, "hands": (time.perf_counter() - t0) * 1000},
                             mirror)
        kept = self.still.reuse(image) if self.still is not None else None
        if kept is not None:
            hands: list[Hand] = kept
        else:
            scale = IDLE_LOOK_SCALE if self.pacer is not None and self.pacer.idle(frame.timestamp_ms) else 1.0
            hands = self.tracker.detect(image, frame.timestamp_ms, mirrored=mirror, scale=scale)
            if self.still is not None:
                self.still.tracked(image, hands)
        t1 = time.perf_counter()
        timings = {"capture": capture_ms, "hands": (t1 - t0) * 1000}
        if self.search is not None:
            hands = hands + self.search.update(image, frame.index, hands, mirror)
            timings["search"] = (time.perf_counter() - t1) * 1000  # what the loop pays; the worker runs beside it
            timings["search bg"] = self.search.step_ms
        if self.pacer is not None:
            self.pacer.seen(frame.timestamp_ms, len(hands))
        return Detection(frame, image, hands, timings, mirror)

    def finish(self, d: Detection) -> FrameResult:
        """The gesture stage: crops by the contract, one classifier batch, smoothing."""
        t0 = time.perf_counter()
        results = self.classify_hands(d.image, d.hands, d.mirrored)
        d.timings["classify"] = (time.perf_counter() - t0) * 1000
        return FrameResult(d.frame, d.image, results, d.timings)

    def classify_hands(self, image: np.ndarray, hands: list[Hand], mirrored: bool = False) -> list[HandResult]:
        """Crop each detected hand by the contract and classify the crops in one batch
        (with their landmarks too, when the model has a landmark head)."""
        results = []
        height, width = image.shape[:2]
        for hand in hands:
            crop, box = hand.crop(image, self.crop_margin, self.framing)
            results.append(HandResult(clamp_box(box, width, height), hand.handedness, hand.score, crop,
                                      landmarks=hand.landmarks))
        if self.classifier is not None and results:
            self._classify(results, mirrored)
        return results

    def _classify(self, results: list[HandResult], mirrored: bool) -> None:
        c = self.classifier.contract
        carried = [self.smoother.stable(r.box, r.handedness, min(self.threshold + 0.2, 0.95))
                   if self.carry_stable and not self.keep_feature_maps else None for r in results]
        todo = [r for r, kept in zip(results, carried) if kept is None]
        computed = iter(())
        if todo:
            self.model_views(todo)
            batch = batch_from_prepared([r.model_view for r in todo], c)
            shapes = (batch_features([r.landmarks for r in todo], [image_flip(r.handedness, mirrored) for r in todo])
                      if self.classifier.has_landmark_head else None)
            if self.keep_feature_maps and self.maps().method == "cam":
                computed, fmaps = self.classifier.predict_with_feature_map(batch, shapes)
                for r, fmap in zip(todo, fmaps):
                    r.feature_map = fmap
            else:
                computed = self.classifier.predict_batch(batch, shapes)
            computed = iter(computed)
        probabilities = [kept if kept is not None else next(computed) for kept in carried]
        smoothed = self.smoother.update([r.box for r in results], [r.handedness for r in results],
                                        probabilities, [kept is not None for kept in carried])
        for r, (track, probs) in zip(results, smoothed):
            order = np.argsort(probs)[::-1]
            r.track, r.probabilities = track, probs
            r.label, r.score = shown_label(probs, c.labels, self.threshold)
            r.top3 = [(c.labels[i], float(probs[i])) for i in order[:3]]

    def activation_maps(self, results: list[HandResult]) -> None:
        """Fill each classified hand's ``activation``: the map of its shown (smoothed) class."""
        if self.classifier is None:
            return
        todo = []
        for r in results:
            if r.activation is None and r.probabilities is not None:
                if r.feature_map is not None:  # kept from the classifier's own run: no second inference
                    r.activation = self.maps().from_feature_map(r.feature_map, int(np.argmax(r.probabilities)))
                else:
                    todo.append(r)
        if todo:
            _, maps = self.maps().maps([r.crop for r in todo], [int(np.argmax(r.probabilities)) for r in todo])
            for r, m in zip(todo, maps):
                r.activation = m

    def maps(self) -> ActivationMaps:
        """The classifier's activation maps (made on first use)."""
        if self._maps is None:
            self._maps = ActivationMaps(self.classifier)
        return self._maps

    def model_views(self, results: list[HandResult]) -> None:
        """Fill each hand's ``model_view``: the crop exactly as the classifier sees it (RGB)."""
        c = self.classifier.contract if self.classifier else None
        for r in results:
            if r.model_view is None:
                r.model_view = (prepare_image(r.crop, c.image_size, c.color_order, c.resize_method)
                                if c else prepare_image(r.crop, DEFAULT_IMAGE_SIZE))
