"""Reading images from disk (the I/O edge of the contract)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from realtime.core.errors import HandSignError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


class ImageReadError(HandSignError, OSError):
    """A file could not be read as an image."""


def read_bgr(path: str | Path) -> np.ndarray:
    """Read an image file as BGR uint8; raises ImageReadError with a one-line reason."""
    path = Path(path)
    try:
        data = np.fromfile(path, dtype=np.uint8)  # works for non-ASCII paths, unlike cv2.imread
    except OSError as exc:
        raise ImageReadError(f"cannot read {path}: {exc.strerror or exc}") from None
    if data.size == 0:
        raise ImageReadError(f"cannot read {path}: file is empty")
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise ImageReadError(f"cannot read {path}: not a decodable image")
    return image
