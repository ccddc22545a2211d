"""Parity proof: the same batch through Keras and onnxruntime must give the same answers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from realtime.classifier.model import GestureClassifier
from realtime.core.contract import ModelContract, to_batch
from realtime.core.datasets import label_for_folder, looks_like_image
from realtime.core.images import IMAGE_SUFFIXES, ImageReadError, read_bgr

log = logging.getLogger(__name__)

ATOL = 1e-4


@dataclass(frozen=True)
class ParityReport:
    images: int
    source: str
    max_abs_diff: float
    top1_agreement: float
    tolerance: float = ATOL

    @property
    def ok(self) -> bool:
        return self.max_abs_diff <= self.tolerance and self.top1_agreement == 1.0

    def __str__(self) -> str:
        verdict = "OK" if self.ok else f"FAILED (tolerance {self.tolerance:g} and 100% top-1)"
        return (f"parity on {self.images} {self.source} images: max abs diff {self.max_abs_diff:.2e}, "
                f"top-1 agreement {self.top1_agreement:.2%} -> {verdict}")


def image_files(folder: Path, limit: int) -> list[Path]:
    """Up to ``limit`` image files under ``folder``, spread over its sub-folders (classes)."""
    files = sorted(p for p in folder.rglob("*")
                   if p.suffix.lower() in IMAGE_SUFFIXES and looks_like_image(p))
    if len(files) <= limit:
        return files
    step = len(files) / limit
    return [files[int(i * step)] for i in range(limit)]


def check_batch(contract: ModelContract, check_data: Path | None, count: int = 32,
                seed: int = 0) -> tuple[np.ndarray, str, np.ndarray | None]:
    """A batch to compare on, its source, and true label indices when known.

    Real images from ``check_data`` prepared by the contract (labels known when their folders
    are named after the model's classes), else random 0..255 pixels.
    """
    if check_data is not None:
        images, targets = [], []
        for p in image_files(check_data, count):
            try:
                images.append(read_bgr(p))
            except ImageReadError as exc:
                log.warning("skipped %s", exc)
                continue
            name = label_for_folder(p.parent.name)
            targets.append(contract.labels.index(name) if name in contract.labels else -1)
        if images:
            known = np.array(targets) if min(targets) >= 0 else None
            return to_batch(images, contract), "real", known
        log.warning("no readable images in %s: checking parity on random pixels", check_data)
    rng = np.random.default_rng(seed)
    s = contract.image_size
    return rng.uniform(0, 255, (count, s, s, 3)).astype(np.float32), "random", None


def check_parity(keras_model, onnx_path: Path, batch: np.ndarray, source: str,
                 tolerance: float = ATOL) -> ParityReport:
    expected = np.asarray(keras_model.predict_on_batch(batch))
    got = GestureClassifier(onnx_path).predict_batch(batch)
    return ParityReport(
        images=len(batch), source=source,
        max_abs_diff=float(np.max(np.abs(expected - got))),
        top1_agreement=float(np.mean(expected.argmax(1) == got.argmax(1))), tolerance=tolerance)
