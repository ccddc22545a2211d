"""Benchmark the input pipeline (images/s decoded + resized) against the training step (images/s).

If the pipeline is not several times faster than the step, training waits on data.

    python -m training.bench --data data/hagrid --image-size 160
    python -m training.bench                   # synthetic 512x512 JPEGs, no data set needed
    python -m training.bench --data data/hagrid --shards shards/hagrid_160    # shards vs folders
    python -m training.bench --distribute mirrored --cpu-replicas 2          # a step over 2 replicas
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

import training  # noqa: F401
from realtime.core.cli import ArgumentParser, HelpFormatter, positive_int, run_main, setup_logging
from realtime.core.contract import DEFAULT_IMAGE_SIZE
from training.data import discover
from training.engine.options import ARCHS

log = logging.getLogger("training.bench")


def synthetic_jpegs(folder: Path, count: int, size: int = 512, seed: int = 0) -> list[Path]:
    """Noise-and-shape JPEGs of HaGRID's size, for benchmarking without the data set."""
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        img = cv2.GaussianBlur(rng.integers(0, 255, (size, size, 3), dtype=np.uint8), (0, 0), 3)
        path = folder / f"{i:05d}.jpg"
        cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(path)
    return paths


def pipeline_rate(paths: Sequence[Path], image_size: int, batch_size: int) -> float:
    """Images/s through decode + resize + batch (no cache: the first epoch's cost)."""
    from training.data.pipeline import make_dataset
    ds = make_dataset(paths, [0] * len(paths), image_size, batch_size, cache=None)
    start, n = time.perf_counter(), 0
    for images, _ in ds:
        n += int(images.shape[0])
    return n / (time.perf_counter() - start)


def report_folder_pipeline(data: Path | None, images: int, image_size: int, batch_size: int) -> float:
    """Print and return the folder pipeline's images/s on ``data`` (default: synthetic JPEGs)."""
    with tempfile.TemporaryDirectory() as tmp:
        if data:
            found = discover(data)
            paths, source = [found.root / f for f in found.files[:images]], str(found.root)
        else:
            paths, source = synthetic_jpegs(Path(tmp), images), "synthetic 512x512 JPEGs"
        rate = pipeline_rate(paths, image_size, batch_size)
    print(f"input pipeline: {rate:8.1f} images/s  ({len(paths)} images from {source}, "
          f"decode + resize to {image_size}px, parallel map, no cache)")
    return rate


def shard_rate(folder: Path, batch_size: int, limit: int) -> tuple[float, int, int]:
    """Images/s read from a shard folder's train split (parse + batch; no augmentation)."""
    from training.data.pipeline import make_shard_dataset
    from training.data.shards import read_manifest
    m = read_manifest(folder)
    ds = make_shard_dataset(m.files("train"), m.image_size, batch_size, m.encoding).take(-(-limit // batch_size))
    start, n = time.perf_counter(), 0
    for images, _ in ds:
        n += int(images.shape[0])
    return n / (time.perf_counter() - start), n, m.image_size


def step_rate(arch: str, image_size: int, batch_size: int, steps: int, fine_tune: bool, strategy=None) -> float:
    """Images/s of train steps (forward + backward + update) on random batches, after warm-up.

    With a strategy, ``batch_size`` is per replica and the step runs on every replica at once.
    """
    import tensorflow as tf

    from training.models.builder import augmentation, base_of, build_model, compile_model, unfreeze_top
    strategy = strategy or tf.distribute.get_strategy()
    global_batch = batch_size * strategy.num_replicas_in_sync
    with strategy.scope():
        model = build_model(arch, 18, image_size, weights="none")
        base = base_of(model)
        if base is not None:  # as with ImageNet weights: frozen base, then its top blocks unfrozen
            base.trainable = False
            if fine_tune:
                unfreeze_top(model)
        compile_model(model, 1e-4)
    aug = augmentation()
    x = tf.random.uniform((global_batch, image_size, image_size, 3), 0, 255)
    y = tf.zeros((global_batch,), tf.int32)
    ds = tf.data.Dataset.from_tensors((x, y)).repeat().map(lambda a, b: (aug(a, training=True), b))
    model.fit(ds, steps_per_epoch=1, epochs=1, verbose=0)  # build + trace
    start = time.perf_counter()
    model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0)
    return steps * global_batch / (time.perf_counter() - start)


def main(argv: Sequence[str] | None = None) -> int:
    p = ArgumentParser(prog="python -m training.bench", description=__doc__,
                                formatter_class=HelpFormatter)
    p.add_argument("--data", type=Path, default=None, help="folder-per-class data (default: synthetic JPEGs)")
    p.add_argument("--images", type=positive_int, default=512, help="images read for the pipeline figure")
    p.add_argument("--image-size", type=positive_int, default=DEFAULT_IMAGE_SIZE, help="model input size")
    p.add_argument("--batch-size", type=positive_int, default=32, help="batch size")
    p.add_argument("--arch", choices=ARCHS, default="efficientnet_b0", help="model to time")
    p.add_argument("--steps", type=positive_int, default=5, help="timed training steps")
    p.add_argument("--shards", type=Path, default=None,
                   help="also time reading this shard folder (training.shards) against the folder pipeline")
    p.add_argument("--distribute", choices=("none", "mirrored"), default="none",
                   help="time the step mirrored over the local GPUs or --cpu-replicas logical CPUs")
    p.add_argument("--cpu-replicas", type=int, default=0, help="logical CPU devices for --distribute mirrored")
    p.add_argument("--no-pipeline", action="store_true", help="skip the input-pipeline figures")
    p.add_argument("--verbose", action="store_true", help="debug logging")
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    from training.engine.distribute import make_strategy
    strategy, _ = make_strategy(args.distribute, args.cpu_replicas)  # before TensorFlow starts its devices
    import tensorflow as tf
    rates = []  # the input pipelines' images/s, to compare with the step
    if not args.no_pipeline:
        rates.append(report_folder_pipeline(args.data, args.images, args.image_size, args.batch_size))
    if args.shards:
        rate, n, size = shard_rate(args.shards, args.batch_size, args.images)
        print(f"shard pipeline: {rate:8.1f} images/s  ({n} images from {args.shards}, {size}px, "
              "interleaved TFRecord reads, parse + batch)")
        rates.append(rate)
    devices = ", ".join(d.device_type for d in tf.config.list_physical_devices()) or "CPU"
    replicas = strategy.num_replicas_in_sync
    for phase, fine in (("head (frozen base)", False), ("fine-tune (top blocks)", True)):
        if args.arch == "baseline" and fine:
            continue
        rate = step_rate(args.arch, args.image_size, args.batch_size, args.steps, fine, strategy)
        verdict = ("" if not rates else " -> pipeline keeps up" if max(rates) > rate
                   else " -> PIPELINE IS THE BOTTLENECK (use --cache or shards)")
        print(f"train step {args.arch} {phase}: {rate:8.1f} images/s  (batch {args.batch_size} x "
              f"{replicas} replica(s), {args.distribute}, devices: {devices}){verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
