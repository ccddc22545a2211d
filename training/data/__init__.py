"""The data: class folders and their seeded split (no TensorFlow), the tf.data pipelines
(``training.data.pipeline``) and TFRecord shards (``training.data.shards``)."""

from __future__ import annotations

from training.data.folders import SPLITS, Dataset, DatasetError, Split, discover, find_class_root, make_split

__all__ = ["SPLITS", "Dataset", "DatasetError", "Split", "discover", "find_class_root", "make_split"]
