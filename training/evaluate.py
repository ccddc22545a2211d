"""Evaluate a trained model (.keras run model or exported .onnx) on a split of its run's manifest,
or on every image of any labelled folder of crops (``--split all``).

Writes metrics.json, classification_report.txt, confusion_matrix.png, curves.png and errors.png.

    python -m training.evaluate --model runs/effb0/model.keras --data data/hagrid --out runs/effb0/eval
    python -m training.evaluate --model models/handsign.onnx --data other_crops --split all --out runs/other
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from realtime.core.cli import ArgumentParser, HelpFormatter, non_negative_int, positive_int, run_main, setup_logging
from realtime.core.errors import HandSignError
from realtime.core.images import read_bgr
from realtime.core.outputs import prepare_out_dir, write_text_atomic
from realtime.evaluation.metrics import compute_metrics
from training.data import SPLITS, Split, discover, find_class_root
from training.engine.history import read_history
from training.evaluation import plots
from training.models.inference import Predictor, predict_files

log = logging.getLogger("training.evaluate")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m training.evaluate", description=__doc__,
                                formatter_class=HelpFormatter)
    p.add_argument("--model", required=True, type=Path, help="RUN_DIR/model.keras or an exported .onnx")
    p.add_argument("--data", required=True, type=Path,
                   help="the data root the run was trained on (with --split all: any folder-per-class set)")
    p.add_argument("--split", choices=SPLITS + ("all",), default="test",
                   help="which subset of the manifest; all: every image under --data, no manifest needed "
                        "(class folders must be labels of the model)")
    p.add_argument("--split-file", type=Path, default=None,
                   help="split manifest (default: split.json beside the model)")
    p.add_argument("--out", required=True, type=Path, help="folder for the report files")
    p.add_argument("--batch-size", type=positive_int, default=64, help="images per prediction batch")
    p.add_argument("--max-errors", type=non_negative_int, default=24, help="misclassified images shown in errors.png")
    p.add_argument("--verbose", action="store_true", help="debug logging")
    return p.parse_args(argv)


def errors_figure(paths: Sequence[Path], y_true, y_pred, probs, labels, limit: int):
    wrong = np.flatnonzero(y_true != y_pred)[:limit]
    images = [cv2.cvtColor(read_bgr(paths[i]), cv2.COLOR_BGR2RGB) for i in wrong]
    titles = [f"true {labels[y_true[i]]}\npred {labels[y_pred[i]]} {probs[i, y_pred[i]]:.2f}" for i in wrong]
    title = f"{len(np.flatnonzero(y_true != y_pred))} misclassified" if len(wrong) else "no misclassified images"
    return plots.image_grid(images, titles, title=title, title_colors=["red"] * len(images))


def split_images(model: Path, data: Path, split_name: str, split_file: Path | None,
                 labels: list[str]) -> tuple[Path, list[str], list[int]]:
    """Files and targets of one subset of a run's split manifest."""
    split_file = split_file or model.parent / "split.json"
    if not split_file.is_file():
        raise HandSignError(f"no split manifest at {split_file}; pass --split-file RUN_DIR/split.json "
                            "or --split all")
    split = Split.load(split_file)
    if labels != list(split.labels):
        raise HandSignError(f"the model's labels {labels} differ from the split's {split.labels}")
    files, targets = split.files(split_name)
    if not files:
        raise HandSignError(f"the {split_name} split of {split_file} is empty")
    return find_class_root(data), files, targets


def all_images(data: Path, labels: list[str]) -> tuple[Path, list[str], list[int]]:
    """Every image of a folder-per-class set whose classes are (some of) the model's labels."""
    found = discover(data, min_classes=1)
    unknown = [c for c in found.labels if c not in labels]
    if unknown:
        raise HandSignError(f"class folder(s) {', '.join(unknown)} under {data} are not labels of the "
                            f"model (it knows {', '.join(labels)})")
    return found.root, found.files, [labels.index(found.labels[t]) for t in found.targets]


def evaluate(model: Path, data: Path, out: Path, split_name: str = "test",
             split_file: Path | None = None, batch_size: int = 64, max_errors: int = 24) -> dict:
    """Run the whole evaluation and write the report files; returns the metrics."""
    predictor = Predictor(model)
    labels = list(predictor.labels)
    if split_name == "all":
        root, files, targets = all_images(data, labels)
    else:
        root, files, targets = split_images(model, data, split_name, split_file, labels)
    by_path = {root / f: t for f, t in zip(files, targets)}
    kept, probs = predict_files(predictor, list(by_path), batch_size)
    if not kept:
        raise HandSignError(f"none of the {len(files)} {split_name} images under {root} could be read")
    y_true = np.array([by_path[p] for p in kept])
    y_pred = probs.argmax(axis=1)

    from sklearn.metrics import classification_report, confusion_matrix
    out = prepare_out_dir(out)
    metrics = {"model": str(model), "split": split_name, **compute_metrics(y_true, y_pred, labels)}
    write_text_atomic(out / "metrics.json", json.dumps(metrics, indent=1))
    write_text_atomic(out / "classification_report.txt", classification_report(
        y_true, y_pred, labels=np.arange(len(labels)), target_names=labels, digits=4, zero_division=0))
    cm = confusion_matrix(y_true, y_pred, labels=np.arange(len(labels)))
    plots.save(plots.confusion_matrix(cm, labels), out / "confusion_matrix.png")
    history = model.parent / "history.csv"
    if history.is_file():
        plots.save(plots.training_curves({model.parent.name: read_history(history)}), out / "curves.png")
    else:
        log.info("no history.csv beside %s: curves.png not written", model)
    plots.save(errors_figure(kept, y_true, y_pred, probs, labels, max_errors), out / "errors.png")
    log.info("%s on %d %s images: accuracy %.4f, macro F1 %.4f; report in %s", model.name,
             len(kept), split_name, metrics["accuracy"], metrics["macro_f1"], out)
    return metrics


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    metrics = evaluate(args.model, args.data, args.out, args.split, args.split_file,
                       args.batch_size, args.max_errors)
    print(f"accuracy {metrics['accuracy']:.4f}  macro F1 {metrics['macro_f1']:.4f}  "
          f"({metrics['count']} {args.split} images)")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
