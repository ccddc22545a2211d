"""tf.data input pipeline: parallel decode + contract resize, cache, shuffle, augment, batch, prefetch."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf

from realtime.core.contract import prepare_image
from realtime.core.images import ImageReadError, read_bgr

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
    return _batched(ds, batch_size, augment if training else None)


def _batched(ds: tf.data.Dataset, batch_size: int, augment: tf.keras.Sequential | None) -> tf.data.Dataset:
    """uint8 (image, label) pairs -> prefetched float32 batches, augmented when ``augment`` is given."""
    ds = ds.batch(batch_size).map(lambda x, y: (tf.cast(x, tf.float32), y), num_parallel_calls=AUTOTUNE)
    if augment is not None:
        ds = ds.map(lambda x, y: (augment(x, training=True), y), num_parallel_calls=AUTOTUNE)
    return ds.prefetch(AUTOTUNE)


def make_shard_dataset(files: Sequence[str], image_size: int, batch_size: int, encoding: str = "raw", *,
                       training: bool = False, augment: tf.keras.Sequential | None = None, seed: int = 42,
                       shuffle_buffer: int = 4096, per_worker_files: bool = False) -> tf.data.Dataset:
    """Batches of (float32 RGB 0..255 NHWC, int label) from TFRecord shards of `training.shards`.

    Shards are read interleaved and in parallel; only ``shuffle_buffer`` images are held for
    shuffling. ``per_worker_files`` sets the FILE auto-shard policy: under multi-worker training
    each worker reads its own shards instead of every worker reading (and skipping) all of them.
    """
    from training.data.shards import parse_fn
    parse = parse_fn(image_size, encoding)
    ds = tf.data.Dataset.from_tensor_slices(list(map(str, files)))
    if training:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    ds = ds.interleave(tf.data.TFRecordDataset, cycle_length=min(8, max(len(files), 1)),
                       num_parallel_calls=AUTOTUNE, deterministic=not training)
    ds = ds.map(lambda record: parse(record)[:2], num_parallel_calls=AUTOTUNE)
    if training:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.FILE if per_worker_files else tf.data.experimental.AutoShardPolicy.DATA)
    return _batched(ds, batch_size, augment if training else None).with_options(options)
