"""A base model's reference features: examples of its own gestures, as features only, that a head
taught with ``--keep-base`` learns to tell the new gestures from (``<model>.reference.npz``, made by
``python -m realtime.reference``). The file holds a probe image and its features too, so it is only
used with a model whose backbone gives the same features."""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from realtime.classifier.model import GestureClassifier
from realtime.core.datasets import discover
from realtime.core.errors import HandSignError
from realtime.core.images import ImageReadError, read_bgr
from realtime.core.outputs import write_bytes_atomic

log = logging.getLogger(__name__)
DEFAULT_PER_CLASS = 64


class ReferenceFileError(HandSignError):
    """The reference features are missing or belong to another backbone."""


@dataclass
class Reference:
    """The base model's reference features (and hand shapes) that a taught model keeps its gestures by."""

    features: np.ndarray  # (N, D) float32
    labels: list[str]  # per row
    probe: np.ndarray  # a BGR image
    probe_features: np.ndarray  # (D,)
    #: hand shapes of the base's gestures, for a taught landmark head (absent in older files)
    shapes: np.ndarray | None = None  # (M, 21, 2) landmarks, pixels of a padded crop
    shape_labels: list[str] | None = None  # per row
    shape_flips: np.ndarray | None = None  # (M,) bool: flip to look like a right hand


def reference_path(model: Path) -> Path:
    """The reference file beside a model."""
    return model.with_name(model.stem + ".reference.npz")


def _probe_image() -> np.ndarray:
    """A fixed, structured BGR image (no randomness, no file): enough to fingerprint a backbone."""
    y, x = np.mgrid[0:96, 0:96].astype(np.float32)
    return np.stack([(x * 2.6) % 256, (y * 2.6) % 256, ((x + y) * 1.3) % 256], -1).astype(np.uint8)


def build(classifier: GestureClassifier, data: Path, per_class: int = DEFAULT_PER_CLASS,
          only: set[str] | None = None, seed: int = 0) -> Reference:
    """Embed up to ``per_class`` images of each class folder of ``data`` (restricted to ``only``)."""
    dataset = discover(data)
    rng = np.random.default_rng(seed)
    crops, labels = [], []
    for index, name in enumerate(dataset.labels):
        files = [f for f, t in zip(dataset.files, dataset.targets) if t == index and (only is None or f in only)]
        taken = 0
        for f in rng.permutation(files):
            if taken == per_class:
                break
            try:
                crops.append(read_bgr(dataset.root / str(f)))
            except ImageReadError as exc:
                log.warning("skipped: %s", exc)
                continue
            labels.append(name)
            taken += 1
    probe = _probe_image()
    return Reference(classifier.embed(crops), labels, probe, classifier.embed([probe])[0])


def save(reference: Reference, path: Path) -> Path:
    """Write a reference file atomically."""
    buffer = io.BytesIO()
    shapes = {}
    if reference.shapes is not None:
        shapes = {"shapes": reference.shapes.astype(np.float32), "shape_flips": reference.shape_flips.astype(bool),
                  "shape_labels": np.array(json.dumps(reference.shape_labels))}
    np.savez_compressed(buffer, features=reference.features.astype(np.float16),
                        labels=np.array(json.dumps(reference.labels)), probe=reference.probe,
                        probe_features=reference.probe_features.astype(np.float32), **shapes)
    return write_bytes_atomic(path, buffer.getvalue())


def load(path: Path, classifier: GestureClassifier) -> Reference:
    """Read a reference and check it was made with ``classifier``'s backbone."""
    if not path.is_file():
        raise ReferenceFileError(f"no reference features for {classifier.path.name} ({path} is missing): "
                             "pass --base-data DIR with crops of the base model's gestures")
    try:
        with np.load(path, allow_pickle=False) as f:
            ref = Reference(f["features"].astype(np.float32), json.loads(str(f["labels"])), f["probe"],
                            f["probe_features"])
            if "shapes" in f.files:
                ref.shapes, ref.shape_flips = f["shapes"], f["shape_flips"]
                ref.shape_labels = json.loads(str(f["shape_labels"]))
    except (OSError, ValueError, KeyError) as exc:
        raise ReferenceFileError(f"{path} is not a HandSign reference file: {exc}") from None
    got = classifier.embed([ref.probe])[0]
    if got.shape != ref.probe_features.shape or not np.allclose(got, ref.probe_features, atol=1e-3, rtol=1e-3):
        raise ReferenceFileError(f"{path} was made with another backbone than {classifier.path.name}'s: "
                             "rebuild it with `python -m realtime.reference`, or pass --base-data DIR")
    return ref
