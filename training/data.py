"""Data set discovery and the reproducible train/val/test split manifest (no TensorFlow here)."""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from realtime.contract import canonical_labels
from realtime.errors import HandSignError
from realtime.images import IMAGE_SUFFIXES

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"BM", b"GIF8", b"II*\x00", b"MM\x00*")


class DatasetError(HandSignError, ValueError):
    """The data folder is missing, empty or not laid out one folder per class."""


def label_for_folder(name: str) -> str:
    """Class label for a folder name: hyphens read as underscores ('two-up' -> 'two_up')."""
    return name.strip().replace("-", "_")


def looks_like_image(path: Path) -> bool:
    """True when the file starts like an image format OpenCV decodes (cheap: 12 bytes)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    return head.startswith(_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def find_class_root(root: str | Path) -> Path:
    """The folder whose sub-folders are the classes.

    Accepts the class folders directly under ``root`` and the Kaggle layout, where ``root``
    holds a single folder (e.g. ``hagrid-classification-512p``) that holds the class folders.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"data folder not found: {root}")
    current = root
    for _ in range(3):
        subdirs = sorted(p for p in current.iterdir() if p.is_dir() and not p.name.startswith("."))
        files = [p for p in current.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
        if len(subdirs) == 1 and not files:
            current = subdirs[0]
            continue
        if len(subdirs) >= 2:
            return current
        break
    raise DatasetError(
        f"{root} is not a folder-per-class data set: expected at least two class folders of "
        f"images (e.g. {root}/call/*.jpg, {root}/fist/*.jpg)")


@dataclass
class Dataset:
    """Images found under a class root: relative paths and label indices, plus what was skipped."""

    root: Path
    labels: list[str]
    files: list[str]
    targets: list[int]
    skipped: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out = {name: 0 for name in self.labels}
        for t in self.targets:
            out[self.labels[t]] += 1
        return out


def discover(root: str | Path) -> Dataset:
    """Scan a folder-per-class root; non-image and unreadable files are skipped and counted."""
    class_root = find_class_root(root)
    folders = {}
    for d in sorted(p for p in class_root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        label = label_for_folder(d.name)
        if label in folders:
            raise DatasetError(f"folders {folders[label].name!r} and {d.name!r} both mean class {label!r}")
        folders[label] = d
    labels = canonical_labels(list(folders))
    files, targets = [], []
    skipped = {"not an image": 0, "corrupt or empty": 0}
    for index, label in enumerate(labels):
        for path in sorted(p for p in folders[label].rglob("*") if p.is_file()):
            if path.name.startswith("."):
                continue
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                skipped["not an image"] += 1
            elif not looks_like_image(path):
                skipped["corrupt or empty"] += 1
            else:
                files.append(path.relative_to(class_root).as_posix())
                targets.append(index)
    skipped = {k: v for k, v in skipped.items() if v}
    if skipped:
        log.warning("skipped %d files under %s (%s)", sum(skipped.values()), class_root,
                    ", ".join(f"{v} {k}" for k, v in skipped.items()))
    data = Dataset(class_root, labels, files, targets, skipped)
    empty = [name for name, n in data.counts().items() if n == 0]
    if not files:
        raise DatasetError(f"no images found in the class folders of {class_root}")
    if empty:
        raise DatasetError(f"class folders without images under {class_root}: {', '.join(empty)}")
    return data


@dataclass
class Split:
    """A reproducible split: file lists per subset, relative to the class root."""

    labels: list[str]
    seed: int
    fractions: tuple[float, float, float]
    subsets: dict[str, list[tuple[str, int]]]

    def files(self, subset: str) -> tuple[list[str], list[int]]:
        if subset not in self.subsets:
            raise DatasetError(f"unknown split {subset!r}; choose one of {', '.join(SPLITS)}")
        rows = self.subsets[subset]
        return [r[0] for r in rows], [r[1] for r in rows]

    def sizes(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.subsets.items()}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps({
            "labels": self.labels, "seed": self.seed, "fractions": list(self.fractions),
            **{k: [list(r) for r in v] for k, v in self.subsets.items()}}, indent=1))

    @classmethod
    def load(cls, path: str | Path) -> "Split":
        try:
            raw = json.loads(Path(path).read_text())
            return cls(raw["labels"], raw["seed"], tuple(raw["fractions"]),
                       {k: [(r[0], int(r[1])) for r in raw[k]] for k in SPLITS})
        except (OSError, KeyError, ValueError, TypeError, IndexError) as exc:
            raise DatasetError(f"cannot read split manifest {path}: {exc}") from None


def make_split(data: Dataset, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 42) -> Split:
    """Stratified, seeded split: each class is shuffled and cut by ``fractions`` on its own.

    Every class with at least three images gets at least one validation and one test image.
    """
    if len(fractions) != 3 or abs(sum(fractions) - 1.0) > 1e-6 or min(fractions) < 0:
        raise DatasetError(f"split fractions {tuple(fractions)} must be three numbers summing to 1")
    rng = random.Random(seed)
    subsets: dict[str, list[tuple[str, int]]] = {k: [] for k in SPLITS}
    by_class: dict[int, list[str]] = {}
    for f, t in zip(data.files, data.targets):
        by_class.setdefault(t, []).append(f)
    for t in sorted(by_class):
        files = sorted(by_class[t])
        rng.shuffle(files)
        n = len(files)
        n_val = round(n * fractions[1])
        n_test = round(n * fractions[2])
        if n >= 3:
            n_val = max(n_val, 1 if fractions[1] > 0 else 0)
            n_test = max(n_test, 1 if fractions[2] > 0 else 0)
        n_train = n - n_val - n_test
        subsets["train"] += [(f, t) for f in files[:n_train]]
        subsets["val"] += [(f, t) for f in files[n_train:n_train + n_val]]
        subsets["test"] += [(f, t) for f in files[n_train + n_val:]]
    for rows in subsets.values():
        rng.shuffle(rows)
    return Split(list(data.labels), seed, tuple(float(f) for f in fractions), subsets)
