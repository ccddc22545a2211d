"""The head phase on cached frozen-backbone features.

While the backbone is frozen (phase 1), every epoch of a plain Keras fit pushes every image through
it again to train one dense layer. Here the backbone sees each image a fixed number of times
(``views``: the images as they are, plus augmented passes), its pooled features are kept in memory,
and the head (the full model's own dropout and softmax layers, so the trained weights are the
model's) trains on them for many cheap epochs. Validation features are exact: a frozen backbone in
inference mode gives the same features every time, so the head's validation accuracy is the full
model's.
"""

from __future__ import annotations

import logging
import time

import keras
import numpy as np
import tensorflow as tf
from tqdm import tqdm

from realtime.core.contract import OUTPUT_NAME
from training.models.builder import base_of

log = logging.getLogger(__name__)


def embed(base: keras.Model, ds: tf.data.Dataset, desc: str) -> tuple[np.ndarray, np.ndarray]:
    """(features, labels) of every batch of ``ds`` through the frozen ``base``."""
    feats, labels = [], []

    @tf.function(reduce_retracing=True)
    def forward(x):
        return base(x, training=False)

    for x, y in tqdm(ds, desc=desc, unit="batch", leave=False):
        feats.append(forward(x).numpy())
        labels.append(np.asarray(y))
    if not feats:
        return np.zeros((0, base.output_shape[-1]), np.float32), np.zeros((0,), np.int32)
    return np.concatenate(feats).astype(np.float32), np.concatenate(labels).astype(np.int32)


def cache_features(model: keras.Model, plain_train: tf.data.Dataset, augmented_train: tf.data.Dataset | None,
                   val: tf.data.Dataset, views: int
                   ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Training features of ``views`` passes (the plain images, then ``views - 1`` augmented passes)
    and the validation features."""
    base = base_of(model)
    started = time.time()
    parts = [embed(base, plain_train, "features: train")]
    for i in range(1, views if augmented_train is not None else 1):
        parts.append(embed(base, augmented_train, f"features: augmented view {i}"))
    train = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    val_features = embed(base, val, "features: val")
    log.info("cached %d training features (%d view(s)) and %d validation features of %d dims in %.1f s",
             len(train[1]), len(parts), len(val_features[1]), train[0].shape[1], time.time() - started)
    return train, val_features


def head_of(model: keras.Model) -> keras.Model:
    """A model from pooled features to probabilities made of ``model``'s own head layers (shared
    weights: training it trains the full model's head)."""
    features = keras.Input((base_of(model).output_shape[-1],), name="features")
    x = model.get_layer("head_dropout")(features)
    return keras.Model(features, model.get_layer(OUTPUT_NAME)(x), name="head")


def feature_datasets(train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray], batch: int,
                     seed: int) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """Shuffled training batches and validation batches of cached features."""
    train_ds = (tf.data.Dataset.from_tensor_slices(train)
                .shuffle(len(train[1]), seed=seed, reshuffle_each_iteration=True)
                .batch(batch).prefetch(tf.data.AUTOTUNE))
    val_ds = tf.data.Dataset.from_tensor_slices(val).batch(batch).prefetch(tf.data.AUTOTUNE)
    return train_ds, val_ds


class FullModelCallback(keras.callbacks.Callback):
    """Runs a callback written for the full model (checkpoints) while the head model trains."""

    def __init__(self, inner: keras.callbacks.Callback, full: keras.Model) -> None:
        super().__init__()
        self.inner, self.full = inner, full

    def set_model(self, model) -> None:
        """Hand the wrapped callback the full model instead of the head."""
        super().set_model(model)
        self.inner.set_model(self.full)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Pass the epoch's end on to the wrapped callback."""
        self.inner.on_epoch_end(epoch, logs)
