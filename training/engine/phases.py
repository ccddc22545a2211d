"""Training phases, as functions over one :class:`Run`: start (strategy, run folder, scaled batch and
rates), data, model (new, resumed or --init-from), the head phase (on cached features or on
images), fine-tuning, and the run's end. ``python -m training.train`` is the command in front of it.
"""


from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import keras
import numpy as np

import training  # noqa: F401  (quiets TensorFlow's start-up log)
from realtime.core.contract import DEFAULT_CROP_MARGIN, DEFAULT_FRAMING, DEFAULT_IMAGE_SIZE
from realtime.core.errors import HandSignError
from training.data import DatasetError, Split, discover, find_class_root, make_split
from training.data.pipeline import make_dataset, make_shard_dataset
from training.data.shards import is_shard_folder, read_manifest
from training.engine.config import TrainConfig
from training.engine.distribute import WarmUp, Worker, make_strategy, scaled
from training.engine.history import read_history
from training.models.builder import ARCHS, BASE_NAMES, augmentation, base_of, build_model, compile_model, unfreeze_top
from training.models.head import FullModelCallback, cache_features, feature_datasets, head_of
from training.models.inference import load_keras_model

log = logging.getLogger(__name__)

MODEL_FILE, LAST_FILE, LABELS_FILE = "model.keras", "last.keras", "labels.json"
HISTORY_FILE, SPLIT_FILE, CONFIG_FILE = "history.csv", "split.json", "config.json"


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
        """Save the model through a temporary file (only when improved, if best_only)."""
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


def prepare_run(cfg: TrainConfig) -> tuple[Split, dict]:
    """Create or (with --resume) reopen the run folder; returns the split and the config."""
    out: Path = cfg.out
    if cfg.resume:
        if not (out / LAST_FILE).is_file() or not (out / CONFIG_FILE).is_file():
            raise HandSignError(f"nothing to resume in {out}: no {LAST_FILE} and {CONFIG_FILE}")
        config = json.loads((out / CONFIG_FILE).read_text())
        return Split.load(out / SPLIT_FILE), config
    if (out / MODEL_FILE).exists():
        raise HandSignError(f"{out} already holds a trained model; pick another --out or pass --resume")
    if is_shard_folder(cfg.data):
        return prepare_shard_run(cfg)
    cfg = replace(cfg, image_size=cfg.image_size or DEFAULT_IMAGE_SIZE)
    data = discover(cfg.data)
    if cfg.split_file is not None:
        split = Split.load(cfg.split_file)
        if split.labels != data.labels:
            raise DatasetError(f"{cfg.split_file} has labels {split.labels}, {data.root} has {data.labels}")
    else:
        split = make_split(data, cfg.split, cfg.seed)
    extra = read_extra_train(cfg.extra_train, split.labels) if cfg.extra_train else []
    if min(split.sizes()["train"], split.sizes()["val"]) == 0:
        raise DatasetError(f"too few images in {data.root} for a train/val split: {split.sizes()}")
    return write_run_folder(cfg, split, {
        "data": str(data.root.resolve()), "data_format": "folders", "split_sizes": split.sizes(),
        "skipped_files": data.skipped, "extra_train": str(cfg.extra_train) if cfg.extra_train else None,
        "extra_train_count": len(extra)})


def prepare_shard_run(cfg: TrainConfig) -> tuple[Split, dict]:
    """The run folder for shard data: the split, labels and image size come from the manifest."""
    manifest = read_manifest(cfg.data)
    if cfg.image_size not in (None, manifest.image_size):
        raise HandSignError(f"--image-size {cfg.image_size}: the shards in {cfg.data} are "
                            f"{manifest.image_size} px (make shards at {cfg.image_size} px, or leave it out)")
    if cfg.split_file is not None or cfg.extra_train is not None:
        raise HandSignError("--split-file and --extra-train apply to folder data; a shard folder has its split")
    cfg = replace(cfg, image_size=manifest.image_size)
    sizes = {k: manifest.count(k) for k in ("train", "val", "test")}
    if min(sizes["train"], sizes["val"]) == 0:
        raise DatasetError(f"too few images in {cfg.data} for training: {sizes}")
    return write_run_folder(cfg, manifest.split(), {
        "data": str(Path(cfg.data).resolve()), "data_format": "shards", "split_sizes": sizes,
        "skipped_files": manifest.raw.get("skipped_files", {}), "extra_train": None, "extra_train_count": 0})


def write_run_folder(cfg: TrainConfig, split: Split, data_config: dict) -> tuple[Split, dict]:
    """Write split.json, labels.json and config.json (the arguments plus ``data_config``) into --out."""
    out: Path = cfg.out
    out.mkdir(parents=True, exist_ok=True)
    split.save(out / SPLIT_FILE)
    (out / LABELS_FILE).write_text(json.dumps(split.labels, indent=1))
    config = {
        "arch": cfg.arch, "image_size": cfg.image_size,
        "epochs": cfg.epochs, "fine_tune_epochs": cfg.fine_tune_epochs,
        "batch_size": cfg.batch_size, "learning_rate": cfg.learning_rate,
        "fine_tune_learning_rate": cfg.fine_tune_learning_rate,
        "fine_tune_from": cfg.fine_tune_from, "weights": str(cfg.weights), "seed": cfg.seed,
        "class_weights": cfg.class_weights, "augment": cfg.augment,
        "crop_margin": DEFAULT_CROP_MARGIN, "crop_framing": DEFAULT_FRAMING,
        "labels": split.labels, "init_from": str(cfg.init_from) if cfg.init_from else None,
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


@dataclass
class Run:
    """What the phases of one training run share: where it writes, its data, its model and progress."""

    cfg: TrainConfig
    strategy: Any
    worker: Worker
    split: Split
    config: dict
    out: Path
    batch: int
    lr: float
    fine_lr: float
    warm: bool
    aug: Any = None
    train_ds: Any = None
    val_ds: Any = None
    augmented_train: Any = None  # one pass of the training set, augmented (the head phase's extra views)
    plain_train: Any = None  # () -> the training set, not augmented
    n_train: int = 0
    n_val: int = 0
    steps: int | None = None
    weights: dict[int, float] | None = None
    model: Any = None
    done: int = 0  # epochs finished (both phases count)
    best: float | None = None

    @property
    def replicas(self) -> int:
        """Devices the strategy trains on at once."""
        return self.strategy.num_replicas_in_sync

    @property
    def distributed(self) -> bool:
        """Whether a distribution strategy is in use."""
        return self.cfg.distribute != "none"

    def backup(self, phase: int) -> Path | None:
        """Where a distributed run keeps its phase's backup (None on one device)."""
        return self.out / "backup" / f"phase{phase}" if self.distributed else None

    def warmup(self, target: float, first_epoch: bool, per_epoch: int) -> WarmUp | None:
        """The linear warm-up of a per-replica scaled rate, on a phase's first epoch only."""
        if not (self.warm and first_epoch):
            return None
        return WarmUp(target / self.replicas, target, int(self.cfg.warmup_epochs * per_epoch))

    def improved(self, fit) -> None:
        """Keep the best validation accuracy so far after a fit."""
        self.best = max([self.best or 0.0] + fit.history.get("val_accuracy", []))


def start_run(cfg: TrainConfig) -> Run:
    """The strategy, the run folder (new or resumed) and the batch and rates scaled to the replicas."""
    strategy, worker = make_strategy(cfg.distribute, cfg.cpu_replicas)  # before TensorFlow starts
    if not worker.chief:  # only the chief writes the run folder; the others keep theirs beside it
        cfg = replace(cfg, out=cfg.out / f".worker-{worker.index}")
    out: Path = cfg.out
    if cfg.distribute != "none" and not cfg.resume and (out / LAST_FILE).is_file() and (out / CONFIG_FILE).is_file():
        # a worker (or all of them) died and was started again with the same command: continue
        log.warning("%s holds an interrupted %s run: continuing after its last finished epoch", out, cfg.distribute)
        cfg = replace(cfg, resume=True)
    if cfg.mixed_precision:
        use_mixed_precision()
    split, config = prepare_run(cfg)
    config["mixed_precision"] = bool(cfg.mixed_precision)
    keras.utils.set_random_seed(config["seed"])
    replicas = strategy.num_replicas_in_sync
    mode = config.setdefault("batch_scaling", cfg.batch_scaling)
    try:
        batch, lr = scaled(config["batch_size"], config["learning_rate"], replicas, mode)
        _, fine_lr = scaled(config["batch_size"], config["fine_tune_learning_rate"], replicas, mode)
    except ValueError as exc:
        raise HandSignError(f"{exc} (--batch-scaling global)") from None
    config.update(distribute=cfg.distribute, replicas=replicas, workers=worker.count, global_batch_size=batch,
                  scaled_learning_rate=lr, scaled_fine_tune_learning_rate=fine_lr)
    warm = replicas > 1 and mode == "per-replica" and cfg.warmup_epochs > 0
    history = read_history(out / HISTORY_FILE)
    return Run(cfg, strategy, worker, split, config, out, batch, lr, fine_lr, warm,
               done=len(history.get("epoch", [])), best=max(history.get("val_accuracy", []), default=None))


def use_mixed_precision() -> None:
    """Keras' mixed_float16 policy, on GPUs only (float16 on a CPU is slower, not faster)."""
    import tensorflow as tf

    if not tf.config.list_physical_devices("GPU"):
        raise HandSignError("--mixed-precision needs a GPU, and TensorFlow sees none here: leave it out on a "
                            "CPU, or install the train-gpu extra on a machine with an NVIDIA GPU")
    keras.mixed_precision.set_global_policy("mixed_float16")
    log.info("mixed precision: float16 compute, float32 weights and softmax")


def load_data(run: Run) -> None:
    """The training and validation sets (shards or folders), per-worker epochs and class weights."""
    config = run.config
    run.aug = augmentation(config["seed"]) if config["augment"] else None
    if config.get("data_format") == "shards":
        data = shard_datasets(run.cfg.data, config, run.batch, run.aug, run.worker)
    else:
        data = folder_datasets(run.cfg, run.split, config, run.batch, run.aug)
    train_ds, run.val_ds, train_targets, run.n_train, run.n_val, run.plain_train = data
    run.augmented_train = train_ds
    run.train_ds, run.steps = worker_epochs(train_ds, run.n_train, run.batch, run.worker)
    weighting = config["class_weights"]
    run.weights = class_weights(train_targets, len(run.split.labels), "balanced" if weighting is True else weighting)


def build_or_resume(run: Run) -> None:
    """The model: the run's last checkpoint, --init-from's, or a new one (created mirrored)."""
    config, size, labels = run.config, run.config["image_size"], run.split.labels
    with run.strategy.scope():  # variables (model and optimizer) are created mirrored
        if run.cfg.resume:
            run.model = keras.models.load_model(run.out / LAST_FILE)
            log.info("resuming %s after epoch %d (best val accuracy %s)", run.out, run.done, run.best)
        elif config.get("init_from"):
            model = load_keras_model(Path(config["init_from"]))
            if tuple(model.input_shape[1:3]) != (size, size) or model.output_shape[-1] != len(labels):
                raise HandSignError(f"--init-from {config['init_from']}: input {model.input_shape} / output "
                                    f"{model.output_shape} do not fit {size}px and {len(labels)} labels")
            if model.name in ARCHS:
                config["arch"] = model.name  # the loaded network decides, not the --arch default
            run.model = model
        else:
            run.model = build_model(config["arch"], len(labels), size, config["weights"])


def head_phase_on_features(run: Run, epochs: int) -> None:
    """Phase 1 on cached frozen-backbone features: the head alone, from plain and augmented views."""
    views = 1 if run.aug is None else run.cfg.feature_views
    run.config["feature_views"] = views
    (features, targets), val_features = cache_features(run.model, run.plain_train(),
                                                       run.augmented_train if run.aug is not None else None,
                                                       run.val_ds, views)
    head_train, head_val = feature_datasets((features, targets), val_features, run.batch, run.config["seed"])
    head_train, head_steps = worker_epochs(head_train, len(targets), run.batch, run.worker)
    with run.strategy.scope():
        head = head_of(run.model)
        compile_model(head, run.lr)
    fit = head.fit(head_train, validation_data=head_val, epochs=epochs, initial_epoch=run.done,
                   class_weight=run.weights, steps_per_epoch=head_steps, verbose=2 if run.cfg.verbose else 0,
                   callbacks=callbacks(run.out, run.best, run.cfg.patience, run.backup(1), full_model=run.model,
                                       warmup=run.warmup(run.lr, run.done == 0,
                                                         head_steps or -(-len(targets) // run.batch))))
    log.info("head phase on cached features: %d epochs, val accuracy %.4f at the last",
             len(fit.history["loss"]), fit.history["val_accuracy"][-1])
    run.done = epochs
    run.improved(fit)


def head_phase_on_images(run: Run, epochs: int) -> None:
    """Phase 1 on images: the whole model with the backbone frozen (or a model without one)."""
    if not run.cfg.resume:
        with run.strategy.scope():
            compile_model(run.model, run.lr)
    fit = run.model.fit(run.train_ds, validation_data=run.val_ds, epochs=epochs, initial_epoch=run.done,
                        class_weight=run.weights, steps_per_epoch=run.steps,
                        callbacks=callbacks(run.out, run.best, run.cfg.patience, run.backup(1),
                                            warmup=run.warmup(run.lr, run.done == 0, epoch_steps(run))))
    run.done = epochs  # an early stop here only means the head has converged: go on to phase 2
    run.improved(fit)


def fine_tune_phase(run: Run, phase1: int, phase2: int) -> None:
    """Phase 2: the top of the backbone unfrozen (BatchNorm stays frozen), at the low rate."""
    with run.strategy.scope():
        unfrozen = unfreeze_top(run.model, run.config["fine_tune_from"])
        log.info("fine-tuning: %d backbone layers unfrozen from %s", unfrozen, run.config["fine_tune_from"])
        compile_model(run.model, run.fine_lr)  # recompile after changing trainable
    fit = run.model.fit(run.train_ds, validation_data=run.val_ds, epochs=phase1 + phase2,
                        initial_epoch=max(run.done, phase1), class_weight=run.weights, steps_per_epoch=run.steps,
                        callbacks=callbacks(run.out, run.best, run.cfg.patience, run.backup(2),
                                            warmup=run.warmup(run.fine_lr, run.done <= phase1, epoch_steps(run))))
    run.improved(fit)


def epoch_steps(run: Run) -> int:
    """Batches per epoch of the training set."""
    return run.steps or -(-run.n_train // run.batch)


def finish_run(run: Run, seconds: float) -> dict:
    """Leave a usable model (even after zero epochs) and the config with the best accuracy and time."""
    if not (run.out / MODEL_FILE).exists():
        run.model.save(run.out / MODEL_FILE)
    config = run.config
    config["best_val_accuracy"] = run.best
    config["train_seconds"] = config.get("train_seconds", 0.0) + round(seconds, 1)
    (run.out / CONFIG_FILE).write_text(json.dumps(config, indent=1))
    log.info("best val accuracy %.4f; model written to %s", run.best or 0.0, run.out / MODEL_FILE)
    return config


def train(cfg: TrainConfig) -> dict:
    """Run both phases; returns the updated config (also written to RUN_DIR/config.json)."""
    run = start_run(cfg)
    load_data(run)
    build_or_resume(run)
    config = run.config
    phase1, phase2 = config["epochs"], config["fine_tune_epochs"]
    if config["arch"] not in BASE_NAMES:  # no backbone to fine-tune: same epoch budget, one phase
        phase1, phase2 = phase1 + phase2, 0
    log.info("training %s at %dpx on %d images (%d val), %d classes; %d replica(s), global batch %d, lr %g",
             config["arch"], config["image_size"], run.n_train, run.n_val, len(run.split.labels), run.replicas,
             run.batch, run.lr)
    started = time.time()
    base = base_of(run.model)
    on_features = base is not None and not base.trainable and not cfg.head_on_images
    config["head_phase"] = "cached features" if on_features else "images"
    if run.done < phase1 and on_features:
        head_phase_on_features(run, phase1)
    if run.done < phase1:
        head_phase_on_images(run, phase1)
    if phase2 and run.done < phase1 + phase2:
        fine_tune_phase(run, phase1, phase2)
    return finish_run(run, time.time() - started)


def worker_epochs(ds, count: int, batch: int, worker: Worker):
    """(dataset, steps per epoch): as they are on one machine; with several workers, repeated and
    cut at ``count // batch`` steps. Each worker then steps the same number of times: workers reading
    their own shards rarely hold the same number of batches, and the one that runs out first would
    step on an empty batch (oneDNN's MaxPoolGrad aborts the process on one, tensorflow#126128)."""
    if worker.count > 1:
        return ds.repeat(), max(1, count // batch)
    return ds, None


def folder_datasets(cfg: TrainConfig, split: Split, config: dict, batch: int, aug):
    """tf.data from a folder of class folders (decoded, resized and cached once)."""
    root = find_class_root(cfg.data)
    size = config["image_size"]
    train_files, train_targets = split.files("train")
    train_paths = [root / f for f in train_files]
    if config.get("extra_train"):
        extra = read_extra_train(Path(config["extra_train"]), split.labels)
        train_paths += [Path(f) for f, _ in extra]
        train_targets = list(train_targets) + [t for _, t in extra]
        log.info("added %d pseudo-labelled images from %s", len(extra), config["extra_train"])
    val_files, val_targets = split.files("val")
    cache = None if str(cfg.cache).lower() == "none" else cfg.cache
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
