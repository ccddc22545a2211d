"""Folder-per-class image sets: find the class folders, list their images, skip what is not one.

Shared by the live-path evaluator and by training (no TensorFlow here).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from realtime.core.contract import canonical_labels
from realtime.core.errors import HandSignError
from realtime.core.images import IMAGE_SUFFIXES

log = logging.getLogger(__name__)

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


def _listing(folder: Path) -> tuple[list[Path], list[Path]]:
    subdirs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    return subdirs, files


def find_class_root(root: str | Path, min_classes: int = 2) -> Path:
    """The folder whose sub-folders are the classes.

    Accepts the class folders directly under ``root`` and the Kaggle layout, where ``root``
    holds a single folder (e.g. ``hagrid-classification-512p``) that holds the class folders.
    With ``min_classes=1`` (scoring a subset of a model's classes), one class folder will do.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"data folder not found: {root}")
    current = root
    for _ in range(3):
        subdirs, files = _listing(current)
        if len(subdirs) == 1 and not files:
            if min_classes == 1 and _listing(subdirs[0])[1] and not _listing(subdirs[0])[0]:
                return current  # one class folder of images
            current = subdirs[0]
            continue
        if len(subdirs) >= 2:
            return current
        break
    need = "at least two class folders" if min_classes > 1 else "class folders"
    raise DatasetError(
        f"{root} is not a folder-per-class data set: expected {need} of "
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
        """Images per class, in label order."""
        out = {name: 0 for name in self.labels}
        for t in self.targets:
            out[self.labels[t]] += 1
        return out


def discover(root: str | Path, min_classes: int = 2) -> Dataset:
    """Scan a folder-per-class root; non-image and unreadable files are skipped and counted."""
    class_root = find_class_root(root, min_classes)
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


