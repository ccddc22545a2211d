"""Pseudo-label an unlabelled pool with a trained model's confident predictions (FixMatch-style gate).

Before any pseudo-label is used, the same confidence gate is applied to the run's held-out
labelled images (the validation subset of its split): per class, how many would pass and how many
of those are right. Only classes whose gated precision reaches ``--min-precision`` contribute.

    python -m training.pseudolabel --model runs/r0/model.keras --data crops/ --pool pool/ --out pseudo.json

The JSON lists ``files`` as [path, label] rows; ``training.train --extra-train`` adds them to the
training subset only.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from realtime.core.cli import ArgumentParser, HelpFormatter, positive_int, run_main, setup_logging
from realtime.core.errors import HandSignError
from realtime.core.images import IMAGE_SUFFIXES
from realtime.core.outputs import prepare_out_dir, write_text_atomic
from training.data import Split, find_class_root
from training.models.inference import Predictor, predict_files

log = logging.getLogger("training.pseudolabel")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m training.pseudolabel", description=__doc__,
                                formatter_class=HelpFormatter)
    p.add_argument("--model", required=True, type=Path, help="RUN_DIR/model.keras (or an exported .onnx)")
    p.add_argument("--data", required=True, type=Path, help="the labelled data root the run was trained on")
    p.add_argument("--pool", required=True, type=Path, help="folder of unlabelled images (searched recursively)")
    p.add_argument("--out", required=True, type=Path, help="pseudo-labels JSON to write")
    p.add_argument("--split-file", type=Path, default=None,
                   help="split manifest (default: split.json beside the model)")
    p.add_argument("--threshold", type=float, default=0.9, help="confidence a prediction needs to become a label")
    p.add_argument("--min-precision", type=float, default=0.9,
                   help="a class contributes only if its gated precision on held-out images reaches this")
    p.add_argument("--classes", default=None,
                   help="comma-separated classes that may receive pseudo-labels (default: all)")
    p.add_argument("--batch-size", type=positive_int, default=64, help="images per prediction batch")
    p.add_argument("--verbose", action="store_true", help="debug logging")
    args = p.parse_args(argv)
    if not 0 < args.threshold <= 1 or not 0 <= args.min_precision <= 1 or args.batch_size < 1:
        p.error("--threshold must be in (0, 1], --min-precision in [0, 1], --batch-size >= 1")
    return args


def gated_precision(probs: np.ndarray, targets: np.ndarray, threshold: float,
                    labels: Sequence[str]) -> dict[str, dict]:
    """Per class: held-out images whose prediction passes the gate, and the share of them right."""
    pred, conf = probs.argmax(1), probs.max(1)
    out = {}
    for i, name in enumerate(labels):
        gated = (pred == i) & (conf >= threshold)
        n = int(gated.sum())
        out[name] = {"passed": n, "correct": int((targets[gated] == i).sum()),
                     "precision": float((targets[gated] == i).mean()) if n else None,
                     "recall_at_gate": float(((pred == i) & (conf >= threshold) & (targets == i)).sum()
                                             / max((targets == i).sum(), 1))}
    return out


def pseudolabel(model: Path, data: Path, pool: Path, out: Path, split_file: Path | None = None,
                threshold: float = 0.9, min_precision: float = 0.9, classes: Sequence[str] | None = None,
                batch_size: int = 64) -> dict:
    predictor = Predictor(model)
    labels = list(predictor.labels)
    unknown = [c for c in classes or () if c not in labels]
    if unknown:
        raise HandSignError(f"--classes {', '.join(unknown)} are not labels of the model")
    split_file = split_file or model.parent / "split.json"
    if not split_file.is_file():
        raise HandSignError(f"no split manifest at {split_file}; pass --split-file")
    split = Split.load(split_file)
    if split.labels != labels:
        raise HandSignError(f"the model's labels differ from those of {split_file}")
    if not pool.is_dir():
        raise HandSignError(f"pool folder not found: {pool}")
    pool_files = sorted(p for p in pool.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not pool_files:
        raise HandSignError(f"no images in the pool folder {pool}")
    out_dir = prepare_out_dir(out.parent)

    root = find_class_root(data)
    val_files, val_targets = split.files("val")
    by_path = {root / f: t for f, t in zip(val_files, val_targets)}
    kept, val_probs = predict_files(predictor, list(by_path), batch_size)
    check = gated_precision(val_probs, np.array([by_path[p] for p in kept]), threshold, labels)
    allowed = [c for c in (classes or labels)
               if check[c]["precision"] is not None and check[c]["precision"] >= min_precision]
    log.info("classes trusted at threshold %.2f (held-out precision >= %.2f): %s", threshold,
             min_precision, ", ".join(allowed) or "none")

    pool_kept, pool_probs = predict_files(predictor, pool_files, batch_size)
    pred, conf = pool_probs.argmax(1), pool_probs.max(1)
    rows = [[str(p.resolve()), labels[k]] for p, k, c in zip(pool_kept, pred, conf)
            if c >= threshold and labels[k] in allowed]
    counts = {c: sum(r[1] == c for r in rows) for c in labels if any(r[1] == c for r in rows)}
    result = {"model": str(model), "pool": str(pool), "threshold": threshold, "min_precision": min_precision,
              "pool_images": len(pool_kept), "accepted": len(rows), "counts": counts,
              "held_out_check": check, "trusted_classes": allowed, "files": rows}
    write_text_atomic(out_dir / out.name, json.dumps(result, indent=1))
    log.info("%d of %d pool images pseudo-labelled: %s", len(rows), len(pool_kept), counts)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    classes = [c.strip() for c in args.classes.split(",")] if args.classes else None
    r = pseudolabel(args.model, args.data, args.pool, args.out, args.split_file, args.threshold,
                    args.min_precision, classes, args.batch_size)
    print(f"{r['accepted']} of {r['pool_images']} pool images labelled: "
          + ", ".join(f"{k} {v}" for k, v in r["counts"].items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
