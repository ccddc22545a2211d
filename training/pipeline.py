"""tf.data input pipeline: parallel decode + contract resize, cache, shuffle, augment, batch, prefetch."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import tensorflow as tf

from realtime.contract import prepare_image
from realtime.images import ImageReadError, read_bgr

log = logging.getLogger(__name__)
AUTOTUNE = tf.data.AUTOTUNE


def load_for_model(path: str | Path, image_size: int) -> np.ndarray:
    """One file -> uint8 (size, size, 3) RGB, exactly as the live classifier prepares a crop."""
    return prepare_image(read_bgr(path), image_size)


def _decode_fn(image_size: int):
    def decode(path: bytes) -> tuple[np.ndarray, bool]:
        try:
            return load_for_model(path.decode(), image_size), True
        except (ImageReadError, ValueError) as exc:
            log.warning("skipped %s", exc)
            return np.zeros((image_size, image_size, 3), np.uint8), False
    return decode


def make_dataset(paths: Sequence[str], targets: Sequence[int], image_size: int, batch_size: int,
                 *, training: bool = False, augment: tf.keras.Sequential | None = None,
                 cache: str | None = "memory", seed: int = 42) -> tf.data.Dataset:
    """Batches of (float32 RGB 0..255 NHWC, int label).

    ``cache`` is "memory", a file path prefix, or None. Decoding and resizing are deterministic
    and cached; shuffling and augmentation come after the cache so each epoch differs.
    """
    decode = _decode_fn(image_size)

    def load(path, target):
        image, ok = tf.numpy_function(decode, [path], (tf.uint8, tf.bool))
        image.set_shape((image_size, image_size, 3))
        ok.set_shape(())
        return image, target, ok

    def decoded(image, target, ok):
        return ok

    def drop_flag(image, target, ok):
        return image, target

    def to_float(images, targets):
        return tf.cast(images, tf.float32), targets

    def augmented(images, targets):
        return augment(images, training=True), targets

    ds = tf.data.Dataset.from_tensor_slices((list(map(str, paths)), np.asarray(targets, np.int32)))
    ds = ds.map(load, num_parallel_calls=AUTOTUNE, deterministic=True)
    ds = ds.filter(decoded).map(drop_flag)
    if cache == "memory":
        ds = ds.cache()
    elif cache:
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        ds = ds.cache(str(cache))
    if training:
        ds = ds.shuffle(min(len(paths), 10_000), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    ds = ds.map(to_float, num_parallel_calls=AUTOTUNE)
    if training and augment is not None:
        ds = ds.map(augmented, num_parallel_calls=AUTOTUNE)
    return ds.prefetch(AUTOTUNE)
