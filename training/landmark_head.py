"""Fit the landmark head on folder-per-class crops and fuse it into a HandSign ONNX model.

    python -m training.landmark_head --data ../shared/data/hagrid_crops --tune-data \\
        ../shared/data/hagrid_context --out models/handsign.onnx

1. Landmarks of up to --per-class crops per class (each padded with grey, MediaPipe IMAGE mode, full
   model; crops with no hand found are left out and counted), cached under --cache-dir.
2. A small network on their hand-shape features (realtime.core.hand_shape), over groups of look-alike
   gestures; scored on a seeded fifth of its own hands, then refitted on all of them.
3. The fusion weights: each setting of the grid is scored through the live path on --tune-data (a
   validation set, never a test set); the best accuracy wins, a tie going to more landmark weight.
4. The base model with the head and the fused output (realtime.classifier.graph.with_landmark_head),
   checked against the same rule in numpy, written atomically to --out with a report beside it.

No TensorFlow: this runs on the base ONNX model.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx

from realtime.classifier.graph import with_landmark_head, without_landmark_head
from realtime.classifier.model import GestureClassifier
from realtime.core.cli import ArgumentParser, HelpFormatter, add_threads_option, positive_int, run_main, setup_logging
from realtime.core.errors import HandSignError
from realtime.core.outputs import write_text_atomic
from realtime.core.paths import GESTURE_MODEL, hand_model_path, resolve_hand_model
from realtime.evaluation.crop_landmarks import extract, live_inputs
from realtime.teaching import shape_head
from realtime.teaching.landmark_fit import check_graph, choose_fusion, fit_head, store_shapes

log = logging.getLogger("training.landmark_head")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m training.landmark_head", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--data", required=True, type=Path, help="folder-per-class crops to fit the head on")
    p.add_argument("--tune-data", required=True, type=Path,
                   help="folder-per-class photos with context to choose the fusion weights on (validation only)")
    p.add_argument("--model", type=Path, default=GESTURE_MODEL,
                   help="base HandSign ONNX model (a landmark head it already has is replaced)")
    p.add_argument("--out", type=Path, required=True, help="ONNX file to write (a report .json beside it)")
    p.add_argument("--per-class", type=positive_int, default=800, help="crops per class to look for hands in")
    p.add_argument("--hidden", type=positive_int, default=64, help="hidden units of the landmark head")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample, the split and the fit")
    p.add_argument("--cache-dir", type=Path, default=Path("runs/landmarks"), help="where landmarks are cached")
    p.add_argument("--hand-model", type=hand_model_path, default="full",
                   help="MediaPipe hand bundle for the crops and the tuning photos: full, lite or a path")
    p.add_argument("--reference", type=Path, default=None,
                   help="also store --reference-per-class hand shapes per class in this teach-mode reference file "
                        "(models/handsign.reference.npz), so `realtime.teach --keep-base` can fit a landmark head")
    p.add_argument("--reference-per-class", type=positive_int, default=64, help="hand shapes per class in --reference")
    p.add_argument("--reference-only", action="store_true",
                   help="with --reference: store the hand shapes and stop (no head is fitted, --out is not written)")
    add_threads_option(p)
    p.add_argument("--verbose", action="store_true", help="debug logging")
    args = p.parse_args(argv)
    if args.reference_only and args.reference is None:
        p.error("--reference-only goes with --reference PATH")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    hand_model = resolve_hand_model(args.hand_model, video=False)
    base_path = args.out.with_name(args.out.stem + ".crop-only.tmp.onnx")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    base = crop_only(args.model)
    onnx.save(base, str(base_path))
    try:
        classifier = GestureClassifier(base_path, threads=args.threads, heads="crop")
        labels = list(classifier.labels)
        found = extract(args.data, args.cache_dir / f"{args.data.resolve().name}-{args.per_class}-{args.seed}.npz",
                        hand_model, args.per_class, args.seed)
        groups, targets, names = group_hands(found, labels, args)
        log.info("hands found in %d of %d crops (%d unreadable)", len(targets), found.tried, found.unreadable)
        if args.reference is not None:
            stored = store_shapes(args.reference, classifier, found, args.reference_per_class, args.seed)
            log.info("stored %d hand shapes in %s", stored, args.reference)
            if args.reference_only:
                print(f"stored {stored} hand shapes in {args.reference}")
                return 0
        fitted = fit_head(found.landmarks, found.flips, targets, args.hidden, args.seed)
        log.info("landmark head on its own held-out fifth (%d hands, %d groups): accuracy %.4f",
                 fitted.held_count, len(groups), fitted.split_accuracy)
        truths, hands = live_inputs(classifier, args.tune_data, hand_model)
        choice = choose_fusion(truths, hands, labels, fitted.layers, groups)
        best = choice.best
        log.info("live path on %s: crop %.4f, landmarks %.4f, fused %.4f (weight %.1f, no_gesture %.1f)",
                 args.tune_data, choice.crop_accuracy, choice.landmarks_accuracy, best["accuracy"],
                 best["gesture_weight"], best["no_gesture_weight"])
        head = shape_head.make_head(fitted.layers, groups, labels, best["gesture_weight"], best["no_gesture_weight"])
        fused = with_landmark_head(base, head)
        check_graph(fused, head, labels, fitted.held_features[:64])
        tmp = args.out.with_name(args.out.name + ".tmp")
        onnx.save(fused, str(tmp))
        tmp.replace(args.out)
    finally:
        base_path.unlink(missing_ok=True)
    report = {"data": str(args.data), "crops_tried": found.tried, "hands_found": int(len(targets)),
              "per_class_found": {label: int(sum(n == label for n in names)) for label in found.labels},
              "groups": [list(g) for g in groups], "hidden": args.hidden, "own_split_accuracy": fitted.split_accuracy,
              "tune_data": str(args.tune_data), "tune_images": len(truths), "grid": choice.grid,
              "crop_accuracy": choice.crop_accuracy, "landmarks_accuracy": choice.landmarks_accuracy,
              "chosen": best}
    write_text_atomic(args.out.with_suffix(".landmark_head.json"), json.dumps(report, indent=1))
    print(f"wrote {args.out}: landmark head ({len(groups)} groups, own split {fitted.split_accuracy:.4f}); on "
          f"{args.tune_data}: crop {choice.crop_accuracy:.4f}, landmarks {choice.landmarks_accuracy:.4f}, "
          f"fused {best['accuracy']:.4f}")
    return 0


def crop_only(model: Path) -> onnx.ModelProto:
    """The base model without a landmark head it may have."""
    try:
        return without_landmark_head(onnx.load(str(model)))
    except Exception as exc:
        raise HandSignError(f"{model} is not a loadable HandSign ONNX model: {str(exc).splitlines()[0]}") from None


def group_hands(found, labels: list[str], args: argparse.Namespace) -> tuple[tuple, np.ndarray, list[str]]:
    """The look-alike groups, each found hand's group and its class name; refuses classes the model
    lacks and groups with no hand."""
    missing = [label for label in found.labels if label not in labels]
    if missing:
        raise HandSignError(f"class folder(s) {', '.join(missing)} under {args.data} are not labels of {args.model}")
    names = [found.labels[t] for t in found.targets]
    groups = shape_head.label_groups(labels)
    absent = [g for g in groups if not any(n in g for n in names)]
    if absent:
        raise HandSignError(f"no hand found for {', '.join('/'.join(g) for g in absent)} in {args.data}")
    targets = shape_head.group_targets(labels, np.array([labels.index(n) for n in names]), groups)
    return groups, targets, names


if __name__ == "__main__":
    raise SystemExit(run_main(main))
