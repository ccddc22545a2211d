"""Files: writing reports and snapshots safely (a temporary name, then an atomic rename); checksums."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import cv2
import numpy as np

from realtime.core.errors import HandSignError


def prepare_out_dir(folder: str | Path, what: str = "output folder") -> Path:
    """Create ``folder`` (and parents) or fail with a one-line error; returns it as a Path."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise HandSignError(f"{what} {folder} is a file, not a folder") from None
    except OSError as exc:
        raise HandSignError(f"cannot create {what} {folder}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK):
        raise HandSignError(f"{what} {folder} is not writable")
    return folder


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that a crash never leaves a half-written file under that name."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file, so a reader never sees half of it."""
    return write_bytes_atomic(path, text.encode())


def write_image_atomic(path: str | Path, image: np.ndarray) -> Path:
    """Encode by the file's suffix (e.g. PNG) and write atomically."""
    path = Path(path)
    ok, encoded = cv2.imencode(path.suffix, image)
    if not ok:
        raise OSError(f"cannot encode an image as {path.suffix}")
    return write_bytes_atomic(path, encoded.tobytes())


def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
