"""tf.distribute for training: the strategy of ``--distribute``, logical CPU devices, TF_CONFIG.

- ``mirrored``: MirroredStrategy over every local GPU (or, on a CPU-only machine, over
  ``--cpu-replicas`` logical CPU devices: a simulation, useful for tests, not for speed).
- ``multiworker``: MultiWorkerMirroredStrategy over the machines listed in ``TF_CONFIG``.

``--batch-size`` is per replica: the global batch is ``batch_size x replicas``, and the learning
rates are scaled by the same factor (the linear scaling rule, Goyal et al. 2017), so a recipe keeps
its per-replica behaviour on any number of devices.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass

import keras
import tensorflow as tf

from realtime.core.errors import HandSignError
from training.engine.options import BATCH_MODES, STRATEGIES  # noqa: F401  (re-exported)

log = logging.getLogger(__name__)


class DistributeError(HandSignError):
    """A distribution setting that cannot work here (TF_CONFIG, replicas, devices)."""


@dataclass(frozen=True)
class Worker:
    """This process's place in the cluster: the chief (index 0) writes the run folder."""

    index: int = 0
    count: int = 1

    @property
    def chief(self) -> bool:
        """Whether this worker writes the run folder (worker 0, or the only one)."""
        return self.index == 0


def parse_tf_config(text: str | None) -> tuple[dict, Worker]:
    """Validate ``TF_CONFIG`` (JSON with cluster.worker and task.type/index); one-line errors."""
    if not text:
        raise DistributeError("--distribute multiworker needs TF_CONFIG, e.g. "
                              '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                              '"task": {"type": "worker", "index": 0}} (docs/training-at-scale.md)')
    try:
        config = json.loads(text)
        workers = config["cluster"]["worker"]
        task = config["task"]
        index = int(task["index"])
    except (ValueError, KeyError, TypeError) as exc:
        raise DistributeError(f"TF_CONFIG does not parse ({type(exc).__name__}: {exc}); expected "
                              '{"cluster": {"worker": [...]}, "task": {"type": "worker", "index": N}}') from None
    if not isinstance(workers, list) or not workers or not all(isinstance(w, str) and ":" in w for w in workers):
        raise DistributeError("TF_CONFIG cluster.worker must be a non-empty list of host:port strings")
    if task.get("type") not in ("worker", "chief"):
        raise DistributeError(f"TF_CONFIG task.type {task.get('type')!r} is not 'worker' (or 'chief')")
    chiefs = config["cluster"].get("chief", [])
    count = len(workers) + len(chiefs)
    if task["type"] == "chief":
        return config, Worker(0, count)
    if not 0 <= index < len(workers):
        raise DistributeError(f"TF_CONFIG task.index {index} is outside cluster.worker (0..{len(workers) - 1})")
    return config, Worker(index + len(chiefs), count)


def split_cpu(replicas: int) -> list[str]:
    """Split the CPU into ``replicas`` logical devices; must run before TensorFlow starts its devices."""
    cores = os.cpu_count() or 1
    if replicas > cores:
        raise DistributeError(f"--cpu-replicas {replicas} asks for more replicas than this machine's "
                              f"{cores} CPU cores")
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * replicas)
    except RuntimeError as exc:
        raise DistributeError(f"cannot split the CPU after TensorFlow started: {exc}") from None
    return [d.name for d in tf.config.list_logical_devices("CPU")]


def device_line(gpus: list | None = None) -> str:
    """What this process trains on, for the log's first lines: the GPUs by name, or "CPU only"."""
    gpus = tf.config.list_physical_devices("GPU") if gpus is None else gpus
    if not gpus:
        cuda = "" if tf.test.is_built_with_cuda() else " (this TensorFlow has no CUDA: pip install '.[train-gpu]')"
        return f"devices: CPU only{cuda}"
    names = []
    for gpu in gpus:
        try:
            names.append(tf.config.experimental.get_device_details(gpu).get("device_name") or gpu.name)
        except (RuntimeError, ValueError):
            names.append(gpu.name)
    return f"devices: {len(gpus)} GPU(s): {', '.join(names)}"


def both_tensorflows() -> bool:
    """Whether tensorflow-cpu and tensorflow are both installed (the train and train-gpu extras mixed):
    two packages then write the same module, and which one wins is an accident of install order."""
    from importlib.metadata import PackageNotFoundError, distribution

    found = 0
    for name in ("tensorflow", "tensorflow-cpu"):
        try:
            distribution(name)
            found += 1
        except PackageNotFoundError:
            pass
    return found == 2


def make_strategy(kind: str, cpu_replicas: int = 0) -> tuple[tf.distribute.Strategy, Worker]:
    """The strategy for ``--distribute`` and this process's place in the cluster."""
    if kind not in STRATEGIES:
        raise DistributeError(f"unknown --distribute {kind!r} (expected one of {', '.join(STRATEGIES)})")
    if cpu_replicas and kind == "none":
        raise DistributeError("--cpu-replicas needs --distribute mirrored (or multiworker)")
    gpus = tf.config.list_physical_devices("GPU")
    log.info("%s", device_line(gpus))
    if both_tensorflows():
        log.warning("both tensorflow and tensorflow-cpu are installed (the train and train-gpu extras): "
                    "reinstall into a fresh environment with one of them")
    if cpu_replicas and gpus:
        raise DistributeError(f"--cpu-replicas is for machines without a GPU; this one has {len(gpus)}: "
                              "leave it out to mirror over the GPUs")
    if kind == "none":
        return tf.distribute.get_strategy(), Worker()
    if kind == "mirrored":
        devices = split_cpu(cpu_replicas) if cpu_replicas else None
        strategy = tf.distribute.MirroredStrategy(devices)
        log.info("mirrored over %d replica(s)%s: %s", strategy.num_replicas_in_sync,
                 "" if gpus else " (no GPU: mirroring over CPU devices)",
                 ", ".join(devices or [d.name for d in tf.config.list_logical_devices("GPU")] or ["CPU:0"]))
        return strategy, Worker()
    _, worker = parse_tf_config(os.environ.get("TF_CONFIG"))
    if cpu_replicas:
        split_cpu(cpu_replicas)
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    _patch_multiworker_reduce(strategy)
    log.info("worker %d of %d, %d replica(s) in sync", worker.index, worker.count, strategy.num_replicas_in_sync)
    return strategy, worker


def _patch_multiworker_reduce(strategy: tf.distribute.Strategy) -> None:
    """Work around Keras 3 + MultiWorkerMirroredStrategy (keras-team/keras#20585).

    Keras 3.15's ``fit`` calls ``strategy.reduce`` with a nested (images, labels) batch and with
    ``axis=0`` on scalar per-replica losses; MirroredStrategy accepts both, the multi-worker
    strategy raises. Reduce nested values one by one, and scalars across replicas (axis None),
    which is what Keras means by both calls.
    """
    original = strategy.reduce

    def reduce(reduce_op, value, axis=None):
        if axis is None:
            return tf.nest.map_structure(lambda v: original(reduce_op, v, None), value)
        local = strategy.experimental_local_results(value)
        if local and getattr(local[0], "shape", None) is not None and local[0].shape.rank == 0:
            axis = None
        return original(reduce_op, value, axis)

    strategy.reduce = reduce




def scaled(batch_size: int, learning_rate: float, replicas: int, mode: str = "per-replica") -> tuple[int, float]:
    """Global batch and learning rate for ``replicas`` replicas.

    ``global``: ``batch_size`` is the global batch, split over the replicas; the learning rate and the
    updates per epoch are a single device's, so the run learns like one. ``per-replica``: each replica
    takes ``batch_size`` (the global batch grows with the replicas) and the learning rate follows
    the linear scaling rule; warm up to it (:class:`WarmUp`).
    """
    if mode == "global":
        if batch_size % replicas:
            raise ValueError(f"--batch-size {batch_size} does not split over {replicas} replicas")
        return batch_size, learning_rate
    return batch_size * replicas, learning_rate * replicas


class WarmUp(keras.callbacks.Callback):
    """Raises the learning rate linearly from ``start`` to ``target`` over the first ``steps``
    training steps of a fit (Goyal et al.'s warm-up for the linearly scaled rate), then leaves it
    to the other callbacks."""

    def __init__(self, start: float, target: float, steps: int) -> None:
        super().__init__()
        self.start, self.target, self.steps, self.step = start, target, max(1, steps), 0

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Raise the learning rate linearly over the warm-up steps."""
        if self.step <= self.steps:
            rate = self.start + (self.target - self.start) * min(1.0, self.step / self.steps)
            self.model.optimizer.learning_rate.assign(rate)
            self.step += 1
