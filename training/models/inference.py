"""One prediction interface over a Keras run model and an exported ONNX model.

Both read images through the contract (:func:`realtime.core.contract.to_batch`), so evaluating the
ONNX file measures exactly what the live tool runs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from realtime.classifier.model import GestureClassifier
from realtime.core.contract import ModelContract, to_batch
from realtime.core.errors import HandSignError
from realtime.core.images import ImageReadError, read_bgr

log = logging.getLogger(__name__)


class Predictor:
    """``labels``, ``image_size`` and ``predict(bgr_images) -> probabilities (N, classes)``."""

    def __init__(self, path: str | Path, threads: int = 0) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise HandSignError(f"model not found: {self.path}")
        if self.path.suffix == ".onnx":
            self._onnx = GestureClassifier(self.path, threads=threads)
            self.contract = self._onnx.contract
            self._keras = None
        elif self.path.suffix in (".keras", ".h5"):
            self._keras = load_keras_model(self.path)
            self.contract = ModelContract(labels=tuple(keras_labels(self.path, self._keras)),
                                          image_size=int(self._keras.input_shape[1]))
            self._onnx = None
        else:
            raise HandSignError(f"{self.path}: expected a .keras or .onnx model")

    @property
    def labels(self) -> tuple[str, ...]:
        """The model's class labels."""
        return self.contract.labels

    @property
    def onnx(self) -> GestureClassifier | None:
        """The live classifier behind an .onnx model (None for a Keras model)."""
        return self._onnx

    def predict(self, images_bgr: Sequence[np.ndarray]) -> np.ndarray:
        """Probabilities for a list of BGR images, (N, classes)."""
        if not len(images_bgr):
            return np.zeros((0, len(self.labels)), np.float32)
        batch = to_batch(images_bgr, self.contract)
        if self._onnx is not None:
            return self._onnx.predict_batch(batch)
        return np.asarray(self._keras.predict_on_batch(batch))


def load_keras_model(path: Path):
    """A saved Keras model, uncompiled; a file Keras cannot read is a one-line HandSignError."""
    import keras

    import training  # noqa: F401  (quiets TensorFlow's start-up log)
    if not path.is_file():
        raise HandSignError(f"model not found: {path}")
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises ValueError, OSError, zipfile errors...
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HandSignError(f"{path} is not a loadable Keras model: {reason}") from None


def keras_labels(model_path: Path, model) -> list[str]:
    """Labels of a run model: ``labels.json`` beside it, checked against the output size."""
    labels_file = model_path.parent / "labels.json"
    if not labels_file.is_file():
        raise HandSignError(f"no labels.json beside {model_path} (a training run folder has one)")
    labels = json.loads(labels_file.read_text())
    if len(labels) != int(model.output_shape[-1]):
        raise HandSignError(f"{labels_file} lists {len(labels)} labels but the model has "
                            f"{model.output_shape[-1]} outputs")
    return labels


def predict_files(predictor: Predictor, paths: Iterable[Path], batch_size: int = 64,
                  progress: bool = True) -> tuple[list[Path], np.ndarray]:
    """Predict image files in batches; unreadable files are logged and left out."""
    from tqdm import tqdm

    paths = list(paths)
    kept, probs, batch, batch_paths = [], [], [], []

    def flush():
        if batch:
            probs.append(predictor.predict(batch))
            kept.extend(batch_paths)
            batch.clear()
            batch_paths.clear()

    for p in tqdm(paths, desc="predicting", unit="img", disable=not progress):
        try:
            batch.append(read_bgr(p))
            batch_paths.append(p)
        except ImageReadError as exc:
            log.warning("skipped %s", exc)
        if len(batch) >= batch_size:
            flush()
    flush()
    out = np.concatenate(probs) if probs else np.zeros((0, len(predictor.labels)), np.float32)
    return kept, out
