"""Data set discovery and the reproducible train/val/test split manifest (no TensorFlow here)."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from realtime.core.datasets import Dataset, DatasetError, discover, find_class_root  # noqa: F401  (re-exported)

SPLITS = ("train", "val", "test")


@dataclass
class Split:
    """A reproducible split: file lists per subset, relative to the class root."""

    labels: list[str]
    seed: int
    fractions: tuple[float, float, float]
    subsets: dict[str, list[tuple[str, int]]]

    def files(self, subset: str) -> tuple[list[str], list[int]]:
        """The files and targets of one subset (train, val or test)."""
        if subset not in self.subsets:
            raise DatasetError(f"unknown split {subset!r}; choose one of {', '.join(SPLITS)}")
        rows = self.subsets[subset]
        return [r[0] for r in rows], [r[1] for r in rows]

    def sizes(self) -> dict[str, int]:
        """Images per subset."""
        return {k: len(v) for k, v in self.subsets.items()}

    def save(self, path: str | Path) -> None:
        """Write the split as JSON (split.json)."""
        Path(path).write_text(json.dumps({
            "labels": self.labels, "seed": self.seed, "fractions": list(self.fractions),
            **{k: [list(r) for r in v] for k, v in self.subsets.items()}}, indent=1))

    @classmethod
    def load(cls, path: str | Path) -> Split:
        """Read a split written by ``save``."""
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
