"""A training run's settings as one frozen value (``TrainConfig``), checked once when made; the
phases read it and never change it (a derived setting is a new value, made by ``dataclasses.replace``).
No TensorFlow here: ``python -m training.train`` builds it before TensorFlow loads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from realtime.core.errors import HandSignError
from training.engine.options import ARCHS, BATCH_MODES, CLASS_WEIGHTS, STRATEGIES


@dataclass(frozen=True)
class TrainConfig:
    """Everything one training run is asked to do; the defaults are ``training.train``'s."""

    #: folder-per-class data root, or a shard folder of ``training.shards``
    data: Path
    #: the run folder (model, labels, history, split, config)
    out: Path
    #: one of ``ARCHS``
    arch: str = "efficientnet_b0"
    #: square input size in pixels; None: a shard folder's own size, else the contract's default
    image_size: int | None = None
    #: phase 1 epochs (head on the frozen base) and phase 2 epochs (top blocks unfrozen)
    epochs: int = 6
    fine_tune_epochs: int = 12
    #: images per batch: the global batch, or each replica's (``batch_scaling``)
    batch_size: int = 64
    #: "global" or "per-replica"
    batch_scaling: str = "global"
    #: per-replica scaling: epochs of linear warm-up to the scaled learning rate
    warmup_epochs: float = 1.0
    #: head phase: passes over the training images whose frozen-backbone features are cached
    feature_views: int = 3
    #: train the head with the plain Keras fit on images instead of cached features
    head_on_images: bool = False
    learning_rate: float = 1e-3
    fine_tune_learning_rate: float = 1e-4
    #: first EfficientNet block unfrozen in phase 2
    fine_tune_from: str = "block6a"
    #: "imagenet", "none", or a weights file
    weights: str = "imagenet"
    seed: int = 42
    #: train / val / test fractions
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)
    #: one of ``CLASS_WEIGHTS``
    class_weights: str = "none"
    augment: bool = True
    #: cache of resized images: "memory", "none", or a file prefix
    cache: str = "memory"
    #: early-stopping patience in epochs (the learning rate drops after half of it)
    patience: int = 6
    #: reuse this split manifest instead of making one
    split_file: Path | None = None
    #: start from this trained model (.keras)
    init_from: Path | None = None
    #: pseudo-labels JSON of ``training.pseudolabel``: images added to the training subset
    extra_train: Path | None = None
    #: one of ``STRATEGIES``
    distribute: str = "none"
    #: on a CPU-only machine, logical devices to mirror over (0: off)
    cpu_replicas: int = 0
    mixed_precision: bool = False
    #: continue an interrupted run in ``out`` from its last epoch
    resume: bool = False
    #: Keras progress lines per epoch
    verbose: bool = False

    def __post_init__(self) -> None:
        checks = [(self.arch in ARCHS, f"arch must be one of {', '.join(ARCHS)}"),
                  (self.image_size is None or self.image_size >= 32, "image_size must be at least 32"),
                  (self.epochs >= 0 and self.fine_tune_epochs >= 0, "epochs must be >= 0"),
                  (self.batch_size >= 1, "batch_size must be >= 1"),
                  (self.batch_scaling in BATCH_MODES, f"batch_scaling must be one of {', '.join(BATCH_MODES)}"),
                  (self.warmup_epochs >= 0, "warmup_epochs must be >= 0"),
                  (self.feature_views >= 1, "feature_views must be >= 1"),
                  (self.class_weights in CLASS_WEIGHTS, f"class_weights must be one of {', '.join(CLASS_WEIGHTS)}"),
                  (self.distribute in STRATEGIES, f"distribute must be one of {', '.join(STRATEGIES)}"),
                  (self.cpu_replicas >= 0, "cpu_replicas must be >= 0"),
                  (self.patience >= 0, "patience must be >= 0"),
                  (len(self.split) == 3 and all(f >= 0 for f in self.split), "split must be three fractions >= 0")]
        for ok, message in checks:
            if not ok:
                raise HandSignError(f"training config: {message}")
