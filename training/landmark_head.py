"""Fit the landmark head on folder-per-class crops and fuse it into a HandSign ONNX model.

    python -m training.landmark_head --data ../shared/data/hagrid_crops --tune-data ../shared/data/hagrid_context --out models/handsign.onnx

1. Landmarks of up to --per-class crops per class (each padded with grey, MediaPipe IMAGE mode, full
   model; crops with no hand found are left out and counted), cached under --cache-dir.
2. A small network on their hand-shape features (realtime.core.hand_shape), over groups of look-alike
   gestures; scored on a seeded 20 % of its own hands, then refitted on all of them.
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
from pathlib import Path
from typing import Sequence

import numpy as np
import onnx

from realtime.core.cli import ArgumentParser, HelpFormatter, add_threads_option, positive_int, run_main, setup_logging
from realtime.core.errors import HandSignError
from realtime.core.paths import GESTURE_MODEL, hand_model_path, resolve_hand_model

log = logging.getLogger("training.landmark_head")
GESTURE_WEIGHTS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
NO_GESTURE_WEIGHTS = (0.0, 0.2, 0.4)


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


def store_shapes(path: Path, classifier, found, per_class: int, seed: int) -> int:
    """Up to ``per_class`` hands of each class of ``found`` into the reference file at ``path``."""
    from realtime.teaching import reference

    ref = reference.load(path, classifier)
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(len(found.labels)):
        mine = np.flatnonzero(found.targets == k)
        rows += sorted(rng.permutation(mine)[:per_class].tolist())
    ref.shapes = found.landmarks[rows].astype(np.float32)
    ref.shape_flips = found.flips[rows].astype(bool)
    ref.shape_labels = [found.labels[found.targets[r]] for r in rows]
    reference.save(ref, path)
    return len(rows)


def live_inputs(classifier, data: Path, hand_model: Path) -> tuple[list[str], list[list[tuple[np.ndarray, np.ndarray]]]]:
    """Per photo of ``data``: its class and, per hand found by the live path, (crop probabilities, features)."""
    from realtime.core.datasets import discover
    from realtime.core.hand_shape import batch_features, image_flip
    from realtime.evaluation.live_path import check_classes, run_images
    from realtime.hands.tracker import HandTracker
    from realtime.live.pipeline import GesturePipeline

    dataset = discover(data, min_classes=1)
    check_classes(dataset.labels, classifier.labels, data)
    items = [(dataset.root / f, dataset.labels[t]) for f, t in zip(dataset.files, dataset.targets)]
    with HandTracker(hand_model, 2, video=False) as tracker:
        (outcomes,), _ = run_images([GesturePipeline(tracker, classifier, threshold=0.0, smoothing=1)], items)
    truths, hands = [], []
    for o in outcomes:
        truths.append(o.true)
        shapes = batch_features([h.landmarks for h in o.hands], [image_flip(h.handedness, False) for h in o.hands])
        hands.append([(h.probabilities, s) for h, s in zip(o.hands, shapes)])
    return truths, hands


def live_accuracy(truths, hands, labels, layers, groups, weights: np.ndarray) -> float:
    """The live path's accuracy with these fusion weights (the hand chosen as realtime.evaluate does)."""
    from realtime.teaching.shape_head import fuse, group_probabilities
    from realtime.classifier.graph import LandmarkHead

    matrix = LandmarkHead(layers, groups, {}, "").group_matrix(labels)
    gestures = [i for i, l in enumerate(labels) if l != "no_gesture"]
    right = 0
    for true, found in zip(truths, hands):
        if not found:
            continue
        p = fuse(np.stack([h[0] for h in found]), group_probabilities(layers, np.stack([h[1] for h in found])),
                 matrix, weights)
        chosen = p[int(np.argmax(p[:, gestures].max(axis=1)))]
        right += labels[int(np.argmax(chosen))] == true
    return right / max(len(truths), 1)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    from realtime.classifier.graph import with_landmark_head, without_landmark_head
    from realtime.classifier.model import GestureClassifier
    from realtime.core.outputs import write_text_atomic
    from realtime.teaching import shape_head
    from training.landmarks import extract

    hand_model = resolve_hand_model(args.hand_model, video=False)
    base_path = args.out.with_name(args.out.stem + ".crop-only.tmp.onnx")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    try:
        base = without_landmark_head(onnx.load(str(args.model)))
    except Exception as exc:
        raise HandSignError(f"{args.model} is not a loadable HandSign ONNX model: {str(exc).splitlines()[0]}") from None
    onnx.save(base, str(base_path))
    try:
        classifier = GestureClassifier(base_path, threads=args.threads, heads="crop")
        labels = list(classifier.labels)
        found = extract(args.data, args.cache_dir / f"{args.data.resolve().name}-{args.per_class}-{args.seed}.npz",
                        hand_model, args.per_class, args.seed)
        missing = [l for l in found.labels if l not in labels]
        if missing:
            raise HandSignError(f"class folder(s) {', '.join(missing)} under {args.data} are not labels of {args.model}")
        names = [found.labels[t] for t in found.targets]
        groups = shape_head.label_groups(labels)
        absent = [g for g in groups if not any(n in g for n in names)]
        if absent:
            raise HandSignError(f"no hand found for {', '.join('/'.join(g) for g in absent)} in {args.data}")
        targets = shape_head.group_targets(labels, np.array([labels.index(n) for n in names]), groups)
        log.info("hands found in %d of %d crops (%d unreadable)", len(targets), found.tried, found.unreadable)
        if args.reference is not None:
            stored = store_shapes(args.reference, classifier, found, args.reference_per_class, args.seed)
            log.info("stored %d hand shapes in %s", stored, args.reference)
            if args.reference_only:
                print(f"stored {stored} hand shapes in {args.reference}")
                return 0

        rng = np.random.default_rng(args.seed)
        order = rng.permutation(len(targets))
        test, train = order[: len(order) // 5], order[len(order) // 5:]
        x, y = shape_head.augmented(found.landmarks[train], found.flips[train], targets[train], args.seed)
        layers = shape_head.fit_layers(x, y, args.hidden, args.seed)
        from realtime.core.hand_shape import batch_features
        held = batch_features(list(found.landmarks[test]), list(found.flips[test]))
        split_acc = float((shape_head.group_probabilities(layers, held).argmax(1) == targets[test]).mean())
        log.info("landmark head on its own held-out 20 %% (%d hands, %d groups): accuracy %.4f",
                 len(test), len(groups), split_acc)
        x, y = shape_head.augmented(found.landmarks, found.flips, targets, args.seed)
        layers = shape_head.fit_layers(x, y, args.hidden, args.seed)

        truths, hands = live_inputs(classifier, args.tune_data, hand_model)
        grid = []
        for wg in GESTURE_WEIGHTS:
            for wn in NO_GESTURE_WEIGHTS:
                w = np.array([wn if l == "no_gesture" else wg for l in labels])
                grid.append({"gesture_weight": wg, "no_gesture_weight": wn,
                             "accuracy": live_accuracy(truths, hands, labels, layers, groups, w)})
        landmarks_only = live_accuracy(truths, hands, labels, layers, groups, np.ones(len(labels)))
        best = max(grid, key=lambda r: (round(r["accuracy"], 6), r["gesture_weight"], -r["no_gesture_weight"]))
        crop = next(r for r in grid if r["gesture_weight"] == 0 and r["no_gesture_weight"] == 0)
        for r in grid:
            log.debug("w %.1f / no_gesture %.1f: %.4f", r["gesture_weight"], r["no_gesture_weight"], r["accuracy"])
        log.info("live path on %s: crop %.4f, landmarks %.4f, fused %.4f (weight %.1f, no_gesture %.1f)",
                 args.tune_data, crop["accuracy"], landmarks_only, best["accuracy"], best["gesture_weight"],
                 best["no_gesture_weight"])
        head = shape_head.make_head(layers, groups, labels, best["gesture_weight"], best["no_gesture_weight"])
        fused = with_landmark_head(base, head)
        check_graph(fused, head, labels, held[:64])
        tmp = args.out.with_name(args.out.name + ".tmp")
        onnx.save(fused, str(tmp))
        tmp.replace(args.out)
    finally:
        base_path.unlink(missing_ok=True)
    report = {"data": str(args.data), "crops_tried": found.tried, "hands_found": int(len(targets)),
              "per_class_found": {l: int(sum(n == l for n in names)) for l in found.labels},
              "groups": [list(g) for g in groups], "hidden": args.hidden, "own_split_accuracy": split_acc,
              "tune_data": str(args.tune_data), "tune_images": len(truths), "grid": grid,
              "crop_accuracy": crop["accuracy"], "landmarks_accuracy": landmarks_only, "chosen": best}
    write_text_atomic(args.out.with_suffix(".landmark_head.json"), json.dumps(report, indent=1))
    print(f"wrote {args.out}: landmark head ({len(groups)} groups, own split {split_acc:.4f}); on {args.tune_data}: "
          f"crop {crop['accuracy']:.4f}, landmarks {landmarks_only:.4f}, fused {best['accuracy']:.4f}")
    return 0


def check_graph(model: onnx.ModelProto, head, labels: Sequence[str], shapes: np.ndarray) -> None:
    """The graph's fused output equals the numpy rule the weights were chosen with."""
    import onnxruntime as ort
    from realtime.core.contract import FUSED_NAME, LANDMARK_INPUT_NAME, OUTPUT_NAME
    from realtime.teaching.shape_head import fuse, group_probabilities

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    image = session.get_inputs()[0]
    size = image.shape[1]
    images = np.random.default_rng(0).uniform(0, 255, (len(shapes), size, size, 3)).astype(np.float32)
    crop, got = session.run([OUTPUT_NAME, FUSED_NAME], {image.name: images, LANDMARK_INPUT_NAME: shapes})
    weights = np.array([head.weights[l] for l in labels])
    want = fuse(crop, group_probabilities(head.layers, shapes), head.group_matrix(labels), weights)
    if np.abs(got - want).max() > 1e-4:
        raise HandSignError(f"the fused graph differs from the fusion rule by {np.abs(got - want).max():.2g}")


if __name__ == "__main__":
    raise SystemExit(run_main(main))
