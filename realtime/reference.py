"""Reference features of a base model's own gestures: what "none of the taught gestures" looks like.

Teaching with ``--keep-base`` fits a head that tells the new gestures from the base model's; it
needs examples of the latter. They ship beside the model as ``<model>.reference.npz`` (features
only, no images), made once with

    python -m realtime.reference --model models/handsign.onnx --data ../shared/data/hagrid_crops \
        --split-file runs/r1/split.json

The file also holds a probe image and its features, so a reference is only used with a model whose
backbone gives the same features (a taught model keeps its base's backbone).
"""

from __future__ import annotations

import argparse
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from realtime.classifier import GestureClassifier
from realtime.cli import ArgumentParser, HelpFormatter, run_main, setup_logging
from realtime.datasets import DatasetError, discover
from realtime.errors import HandSignError
from realtime.images import ImageReadError, read_bgr
from realtime.outputs import write_bytes_atomic

log = logging.getLogger("realtime.reference")
DEFAULT_PER_CLASS = 64


class ReferenceFileError(HandSignError):
    """The reference features are missing or belong to another backbone."""


@dataclass
class Reference:
    features: np.ndarray  # (N, D) float32
    labels: list[str]  # per row
    probe: np.ndarray  # a BGR image
    probe_features: np.ndarray  # (D,)


def reference_path(model: Path) -> Path:
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
    buffer = io.BytesIO()
    np.savez_compressed(buffer, features=reference.features.astype(np.float16),
                        labels=np.array(json.dumps(reference.labels)), probe=reference.probe,
                        probe_features=reference.probe_features.astype(np.float32))
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
    except (OSError, ValueError, KeyError) as exc:
        raise ReferenceFileError(f"{path} is not a HandSign reference file: {exc}") from None
    got = classifier.embed([ref.probe])[0]
    if got.shape != ref.probe_features.shape or not np.allclose(got, ref.probe_features, atol=1e-3, rtol=1e-3):
        raise ReferenceFileError(f"{path} was made with another backbone than {classifier.path.name}'s: "
                             "rebuild it with `python -m realtime.reference`, or pass --base-data DIR")
    return ref


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m realtime.reference", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--model", type=Path, required=True, help="HandSign .onnx model with a feature output")
    p.add_argument("--data", type=Path, required=True, help="one folder per class of the model's crops")
    p.add_argument("--per-class", type=int, default=DEFAULT_PER_CLASS, help="images embedded per class")
    p.add_argument("--split-file", type=Path, default=None,
                   help="split.json of a training run: take only its train images (keep the test split unseen)")
    p.add_argument("--out", type=Path, default=None, help="file to write (default: MODEL.reference.npz)")
    p.add_argument("--verbose", action="store_true", help="debug logging")
    args = p.parse_args(argv)
    if args.per_class < 1:
        p.error("--per-class must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    classifier = GestureClassifier(args.model)
    only = None
    if args.split_file is not None:
        try:
            only = {f for f, _ in json.loads(args.split_file.read_text())["train"]}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise HandSignError(f"{args.split_file} is not a split.json with a train list: {exc}") from None
    try:
        ref = build(classifier, args.data, args.per_class, only)
    except DatasetError as exc:
        raise HandSignError(str(exc)) from None
    out = save(ref, args.out or reference_path(args.model))
    print(f"wrote {out}: {len(ref.labels)} feature rows of {len(set(ref.labels))} classes "
          f"({out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
