"""Reference features of a base model's own gestures: what "none of the taught gestures" looks like.

Teaching with ``--keep-base`` fits a head that tells the new gestures from the base model's; it
needs examples of the latter. They ship beside the model as ``<model>.reference.npz`` (features
only, no images), made once with

    python -m realtime.reference --model models/handsign.onnx --data ../shared/data/hagrid_crops \
        --split-file runs/r1/split.json

The file also holds a probe image and its features, so a reference is only used with a model whose
backbone gives the same features (a taught model keeps its base's backbone).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from realtime.classifier import GestureClassifier
from realtime.core.cli import ArgumentParser, run_main, setup_logging
from realtime.core.datasets import DatasetError
from realtime.core.errors import HandSignError
from realtime.teaching.reference import DEFAULT_PER_CLASS, build, reference_path, save


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m realtime.reference", description=__doc__)
    p.add_argument("--model", type=Path, required=True, help="HandSign .onnx model with a feature output")
    p.add_argument("--data", type=Path, required=True, help="one folder per class of the model's crops")
    p.add_argument("--per-class", type=int, default=DEFAULT_PER_CLASS, help="images embedded per class")
    p.add_argument("--split-file", type=Path, default=None,
                   help="split.json of a training run: take only its train images (keep the test split unseen)")
    p.add_argument("--out", type=Path, default=None, help="file to write (default: MODEL.reference.npz)")
    p.add_argument("--verbose", action="store_true", help="debug logging")
    args = p.parse_args(argv)
    if args.per_class < 1:
        p.error("--per-class must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    classifier = GestureClassifier(args.model)
    only = None
    if args.split_file is not None:
        try:
            only = {f for f, _ in json.loads(args.split_file.read_text())["train"]}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise HandSignError(f"{args.split_file} is not a split.json with a train list: {exc}") from None
    try:
        ref = build(classifier, args.data, args.per_class, only)
    except DatasetError as exc:
        raise HandSignError(str(exc)) from None
    out = save(ref, args.out or reference_path(args.model))
    print(f"wrote {out}: {len(ref.labels)} feature rows of {len(set(ref.labels))} classes "
          f"({out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
