"""Benchmark the input pipeline (images/s decoded + resized) against the training step (images/s).

If the pipeline is not several times faster than the step, training waits on data.

    python -m training.bench --data data/hagrid --image-size 160
    python -m training.bench                   # synthetic 512x512 JPEGs, no data set needed
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

import training  # noqa: F401
from realtime.cli import ArgumentParser, HelpFormatter, positive_int, run_main, setup_logging
from realtime.contract import DEFAULT_IMAGE_SIZE
from training.data import discover
from training.model import ARCHS, augmentation, base_of, build_model, compile_model, unfreeze_top

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
    from training.pipeline import make_dataset
    ds = make_dataset(paths, [0] * len(paths), image_size, batch_size, cache=None)
    start, n = time.perf_counter(), 0
    for images, _ in ds:
        n += int(images.shape[0])
    return n / (time.perf_counter() - start)


def step_rate(arch: str, image_size: int, batch_size: int, steps: int, fine_tune: bool) -> float:
    """Images/s of train steps (forward + backward + update) on random batches, after warm-up."""
    import tensorflow as tf
    model = build_model(arch, 18, image_size, weights="none")
    base = base_of(model)
    if base is not None:  # as with ImageNet weights: frozen base, then its top blocks unfrozen
        base.trainable = False
        if fine_tune:
            unfreeze_top(model)
    compile_model(model, 1e-4)
    aug = augmentation()
    x = tf.random.uniform((batch_size, image_size, image_size, 3), 0, 255)
    y = tf.zeros((batch_size,), tf.int32)
    model.train_on_batch(aug(x, training=True), y)  # build + trace
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(aug(x, training=True), y)
    return steps * batch_size / (time.perf_counter() - start)


def main(argv: Sequence[str] | None = None) -> int:
    p = ArgumentParser(prog="python -m training.bench", description=__doc__,
                                formatter_class=HelpFormatter)
    p.add_argument("--data", type=Path, default=None, help="folder-per-class data (default: synthetic JPEGs)")
    p.add_argument("--images", type=positive_int, default=512, help="images read for the pipeline figure")
    p.add_argument("--image-size", type=positive_int, default=DEFAULT_IMAGE_SIZE, help="model input size")
    p.add_argument("--batch-size", type=positive_int, default=32, help="batch size")
    p.add_argument("--arch", choices=ARCHS, default="efficientnet_b0", help="model to time")
    p.add_argument("--steps", type=positive_int, default=5, help="timed training steps")
    p.add_argument("--verbose", action="store_true", help="debug logging")
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    import tensorflow as tf
    with tempfile.TemporaryDirectory() as tmp:
        if args.data:
            data = discover(args.data)
            paths = [data.root / f for f in data.files[: args.images]]
            source = str(data.root)
        else:
            paths = synthetic_jpegs(Path(tmp), args.images)
            source = "synthetic 512x512 JPEGs"
        pipe = pipeline_rate(paths, args.image_size, args.batch_size)
    devices = ", ".join(d.device_type for d in tf.config.list_physical_devices()) or "CPU"
    print(f"input pipeline: {pipe:8.1f} images/s  ({len(paths)} images from {source}, "
          f"decode + resize to {args.image_size}px, parallel map, no cache)")
    for phase, fine in (("head (frozen base)", False), ("fine-tune (top blocks)", True)):
        if args.arch == "baseline" and fine:
            continue
        rate = step_rate(args.arch, args.image_size, args.batch_size, args.steps, fine)
        verdict = "pipeline keeps up" if pipe > rate else "PIPELINE IS THE BOTTLENECK (use --cache)"
        print(f"train step {args.arch} {phase}: {rate:8.1f} images/s  (batch {args.batch_size}, "
              f"devices: {devices}) -> {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
