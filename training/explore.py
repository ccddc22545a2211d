"""Explore a folder-per-class data set: class counts (table + bar chart) and a sample grid per class.

    python -m training.explore --data data/hagrid --out runs/explore
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from realtime.core.cli import ArgumentParser, HelpFormatter, positive_int, run_main, setup_logging
from realtime.core.images import ImageReadError, read_bgr
from training.data import Dataset, discover
from training.evaluation import plots

log = logging.getLogger("training.explore")


def counts_table(data: Dataset) -> str:
    """A plain-text table of images per class with shares."""
    counts = data.counts()
    total = sum(counts.values())
    width = max(len(n) for n in counts)
    lines = [f"{'class':<{width}}  images  share"]
    lines += [f"{n:<{width}}  {c:>6}  {c / total:6.1%}" for n, c in counts.items()]
    lines.append(f"{'total':<{width}}  {total:>6}")
    return "\n".join(lines)


def sample_grid(data: Dataset, label: str, n: int = 12, seed: int = 0):
    """A grid of up to ``n`` random images of one class, captioned with their sizes."""
    index = data.labels.index(label)
    files = [f for f, t in zip(data.files, data.targets) if t == index]
    picks = random.Random(seed).sample(files, min(n, len(files)))
    images, titles = [], []
    for f in picks:
        try:
            bgr = read_bgr(data.root / f)
        except ImageReadError as exc:
            log.warning("skipped %s", exc)
            continue
        images.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        titles.append(f"{bgr.shape[1]}x{bgr.shape[0]}")
    return plots.image_grid(images, titles, title=f"{label} ({len(files)} images)")


def main(argv: Sequence[str] | None = None) -> int:
    p = ArgumentParser(prog="python -m training.explore", description=__doc__,
                                formatter_class=HelpFormatter)
    p.add_argument("--data", required=True, type=Path, help="folder-per-class data root")
    p.add_argument("--out", required=True, type=Path, help="folder for counts.txt, class_counts.png, samples_*.png")
    p.add_argument("--samples", type=positive_int, default=12, help="images per class sample grid")
    p.add_argument("--seed", type=int, default=0, help="seed for picking samples")
    p.add_argument("--verbose", action="store_true", help="debug logging")
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    data = discover(args.data)
    args.out.mkdir(parents=True, exist_ok=True)
    table = counts_table(data)
    print(table)
    (args.out / "counts.txt").write_text(table + "\n")
    plots.save(plots.class_counts(data.counts()), args.out / "class_counts.png")
    for label in data.labels:
        plots.save(sample_grid(data, label, args.samples, args.seed), args.out / f"samples_{label}.png")
    counts = np.array(list(data.counts().values()))
    log.info("%d classes, %d images (min %d, max %d per class); figures in %s",
             len(counts), counts.sum(), counts.min(), counts.max(), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
