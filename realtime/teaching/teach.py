"""Teaching new gestures (the library behind ``python -m realtime.teach`` and the window's teach mode):
each image embedded by the base model's backbone, a balanced softmax regression fitted and
cross-validated on the embeddings, and a complete HandSign model written with the new head.

When the base model has a landmark head, the taught model gets one too: the hand shapes of the
taught images (MediaPipe on each crop, padded with grey as in training), with ``--keep-base`` beside
the base's own hand shapes from its reference file, fit a new landmark head, fused with the base's
fusion weights (docs/landmark-head.md)."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import onnx

from realtime.classifier.graph import with_landmark_head, with_taught_head
from realtime.classifier.model import GestureClassifier
from realtime.core.contract import as_bgr_uint8
from realtime.core.datasets import DatasetError, discover
from realtime.core.errors import HandSignError
from realtime.core.images import ImageReadError, read_bgr
from realtime.core.outputs import prepare_out_dir, sha256_of, write_bytes_atomic
from realtime.core.paths import GESTURE_MODEL, HAND_MODEL
from realtime.teaching.head import DEFAULT_C, CrossValidation, cross_validate, fit_dense
from realtime.teaching.reference import DEFAULT_PER_CLASS, Reference, build, load, reference_path

log = logging.getLogger(__name__)
MIN_IMAGES = 5
BASE_CLASS = "(base gestures)"
HAND_MODES = ("auto", "none")


@dataclass
class TeachResult:
    """A taught model: its path, labels and the fit's figures."""

    out: Path
    labels: list[str]  # all output labels of the written model
    counts: dict[str, int]
    skipped: int
    validation: CrossValidation | None
    seconds: float
    hands_found: int = 0
    notes: list[str] = field(default_factory=list)

    def report(self) -> str:
        """The fit's figures as text."""
        lines = [f"taught {', '.join(f'{k} ({v})' for k, v in self.counts.items())} "
                 f"in {self.seconds:.1f} s; wrote {self.out}"]
        if self.skipped:
            lines.append(f"skipped {self.skipped} unreadable image(s)")
        v = self.validation
        if v is not None:
            lines.append(f"{v.folds}-fold cross-validated accuracy {v.accuracy:.1%}:")
            lines += [f"  {name:<24} {acc:6.1%}" for name, acc in v.per_class.items()]
            lines += [f"warning: {share:.0%} of '{a}' taken for '{b}': record more, or more distinct, "
                      f"examples" for a, b, share in v.confusions]
        return "\n".join(lines + self.notes)


class HandCropper:
    """Re-cut photos around the hand by the live contract; images with no hand found stay whole."""

    def __init__(self, classifier: GestureClassifier, hand_model: Path) -> None:
        from realtime.hands.tracker import HandTracker  # mediapipe only when asked for
        self.contract = classifier.contract
        self.tracker = HandTracker(hand_model, max_hands=1, video=False, min_detection=0.3, tiles=False)
        self.found = 0

    def __call__(self, image: np.ndarray) -> np.ndarray:
        # a tight crop leaves the detector no context: centre it on grey twice its size
        h, w = image.shape[:2]
        pad = max(h, w) // 2
        canvas = np.pad(image, ((pad, pad), (pad, pad), (0, 0)), constant_values=114)
        hands = self.tracker.detect(canvas)
        if not hands:
            return image
        self.found += 1
        return hands[0].crop(canvas, self.contract.crop_margin, self.contract.crop_framing)[0]

    def close(self) -> None:
        """Close the hand tracker."""
        self.tracker.close()


def read_gestures(data: Path, hands: str, classifier: GestureClassifier,
                  hand_model: Path = HAND_MODEL) -> tuple[list[str], list[np.ndarray], np.ndarray, int, int]:
    """Gesture names, crops, targets, unreadable count and hands re-cut, from ``data``."""
    try:
        dataset = discover(data, min_classes=1)
    except DatasetError as exc:
        raise HandSignError(str(exc)) from None
    cropper = HandCropper(classifier, hand_model) if hands == "auto" else None
    crops, targets, skipped = [], [], sum(dataset.skipped.values())
    try:
        for f, t in zip(dataset.files, dataset.targets):
            try:
                image = as_bgr_uint8(read_bgr(dataset.root / f))
            except ImageReadError as exc:
                log.warning("skipped: %s", exc)
                skipped += 1
                continue
            crops.append(cropper(image) if cropper else image)
            targets.append(t)
    finally:
        if cropper:
            cropper.close()
    targets = np.array(targets, dtype=np.int64)
    counts = np.bincount(targets, minlength=len(dataset.labels))
    few = [f"{name} ({n})" for name, n in zip(dataset.labels, counts) if n < MIN_IMAGES]
    if few:
        raise HandSignError(f"gesture folder(s) with fewer than {MIN_IMAGES} readable images under "
                            f"{dataset.root}: {', '.join(few)}")
    return dataset.labels, crops, targets, skipped, cropper.found if cropper else 0


def teach(data: Path, out: Path, base: Path = GESTURE_MODEL, keep_base: bool = False,
          hands: str = "auto", base_data: Path | None = None, c: float = DEFAULT_C, folds: int = 5,
          flip: bool = False, validate: bool = True, threads: int = 2) -> TeachResult:
    """Embed, fit, cross-validate and write the taught model; raises HandSignError on bad input."""
    started = time.perf_counter()
    classifier = GestureClassifier(base, threads=threads)
    classifier.require_features()  # fails early, in one line
    names, crops, targets, skipped, found = read_gestures(data, hands, classifier)
    counts = {n: int(np.sum(targets == i)) for i, n in enumerate(names)}
    if keep_base:
        clash = sorted(set(names) & set(classifier.labels))
        if clash:
            raise HandSignError(f"gesture(s) {', '.join(clash)} are already labels of the base model: "
                                "rename the folder(s), or teach without --keep-base")
    elif len(names) < 2:
        raise HandSignError(f"need at least 2 gestures to tell apart, found {len(names)} under {data} "
                            "(or add them to the base model's with --keep-base)")
    log.info("embedding %d images of %d gestures with %s", len(crops), len(names), base.name)
    features = classifier.embed(crops)
    if flip:
        features = np.concatenate([features, classifier.embed([c_[:, ::-1] for c_ in crops])])
        targets = np.concatenate([targets, targets])
    classes = list(names)
    if keep_base:
        ref = base_reference(classifier, base, base_data)
        features = np.concatenate([ref.features, features])
        targets = np.concatenate([np.zeros(len(ref.features), np.int64), targets + 1])
        classes = [BASE_CLASS] + classes
    validation = cross_validate(features, targets, classes, c, folds) if validate else None
    weight, bias = fit_dense(features, targets, c)
    extra = {"teach": json.dumps({
        "gestures": names, "images": counts,
        "keep_base": keep_base, "base": base.name, "base_sha256": sha256_of(base), "c": c, "flip": flip,
        "hands": hands, "cv_accuracy": None if validation is None else round(validation.accuracy, 4),
        "created": datetime.now(UTC).isoformat(timespec="seconds")}),
        "producer": "handsign realtime.teach"}
    proto = with_taught_head(onnx.load(str(base)), weight, bias, names, keep_base, extra)
    notes = []
    if classifier.has_landmark_head:
        head, note = taught_shape_head(classifier, crops, targets[:len(crops)], names,
                                       ref if keep_base else None, list(onnx_labels(proto)))
        notes.append(note)
        log.info(note)
        if head is not None:
            proto = with_landmark_head(proto, head)
    prepare_out_dir(out.parent)
    write_bytes_atomic(out, proto.SerializeToString())
    taught = GestureClassifier(out)  # what we wrote loads like any HandSign model
    return TeachResult(out, list(taught.labels), counts, skipped, validation,
                       time.perf_counter() - started, found, notes)


def onnx_labels(proto: onnx.ModelProto) -> list[str]:
    """The labels in an ONNX model's metadata."""
    from realtime.classifier.graph import LABELS_KEY
    return json.loads({p.key: p.value for p in proto.metadata_props}[LABELS_KEY])


#: A taught gesture needs at least this many hand shapes for the taught landmark head.
MIN_SHAPES = 5


def crop_shapes(crops: list[np.ndarray], hand_model: Path = HAND_MODEL) -> list[tuple[np.ndarray, bool] | None]:
    """Each crop's hand shape: (landmarks, flip) of the hand MediaPipe finds on it padded with grey."""
    from realtime.core.hand_shape import image_flip
    from realtime.hands.tracker import HandTracker
    out = []
    with HandTracker(hand_model, max_hands=1, video=False, min_detection=0.3, tiles=False) as tracker:
        for crop in crops:
            pad = max(crop.shape[:2]) // 2
            hands = tracker.detect(np.pad(crop, ((pad, pad), (pad, pad), (0, 0)), constant_values=114))
            out.append((hands[0].landmarks, image_flip(hands[0].handedness, False)) if hands else None)
    return out


def taught_shape_head(classifier: GestureClassifier, crops: list[np.ndarray], targets: np.ndarray,
                      names: list[str], ref: Reference | None, labels: list[str]):
    """The taught model's landmark head (or None) and a line saying what was done."""
    from realtime.classifier.graph import FUSION_KEY
    from realtime.teaching import shape_head
    meta = classifier.session.get_modelmeta().custom_metadata_map
    weights = json.loads(meta.get(FUSION_KEY, "{}")).get("weights", {})
    gesture_w = max((w for l, w in weights.items() if l != "no_gesture"), default=0.6)
    shapes = crop_shapes(crops)
    lms, flips, rows = [], [], []
    for shape, t in zip(shapes, targets):
        if shape is not None:
            lms.append(shape[0])
            flips.append(shape[1])
            rows.append(names[t])
    few = [n for n in names if rows.count(n) < MIN_SHAPES]
    if few:
        return None, (f"taught model is crop only: too few hands found for the landmark head in "
                      f"{', '.join(few)} (need {MIN_SHAPES} each)")
    if ref is not None:
        if ref.shapes is None:
            return None, ("taught model is crop only: the base's reference has no hand shapes (--base-data, "
                          "or an older reference file)")
        lms += list(ref.shapes)
        flips += list(ref.shape_flips)
        rows += list(ref.shape_labels)
    groups = shape_head.label_groups(labels)
    index = {l: i for i, l in enumerate(labels)}
    known = [k for k, r in enumerate(rows) if r in index]
    group_t = shape_head.group_targets(labels, np.array([index[rows[k]] for k in known]), groups)
    x, y = shape_head.augmented(np.array([lms[k] for k in known]), np.array([flips[k] for k in known]), group_t)
    try:
        layers = shape_head.fit_layers(x, y)
    except ValueError as exc:
        return None, f"taught model is crop only: the landmark head could not be fitted ({exc})"
    head = shape_head.make_head(layers, groups, labels, gesture_w, weights.get("no_gesture", 0.0))
    found = sum(s is not None for s in shapes)
    return head, (f"landmark head taught too: hands found in {found} of {len(crops)} images, fused with "
                  f"gesture weight {gesture_w:g}")


def base_reference(classifier: GestureClassifier, base: Path, base_data: Path | None) -> Reference:
    """Examples of the base's own gestures: embedded from ``base_data``, else the shipped reference."""
    if base_data is None:
        return load(reference_path(base), classifier)
    try:
        return build(classifier, base_data, DEFAULT_PER_CLASS)
    except DatasetError as exc:
        raise HandSignError(f"--base-data: {exc}") from None
