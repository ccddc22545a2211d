"""Teach HandSign your own gestures: a new head on the shipped backbone, in seconds, on a CPU.

    python -m realtime.teach --data teach/ --out my_gestures.onnx
    python -m realtime.teach --data teach/ --out my_gestures.onnx --keep-base   # + the 18 HaGRID ones

DATA holds one folder per gesture (at least 5 images each): the crops the live window records
(`t` in `python -m realtime.run`), or any photos of the hand. Each image is embedded by the base
model's backbone (its contract's preprocessing), a balanced softmax regression is fitted on the
embeddings, cross-validated, and a complete HandSign model is written: `realtime.run --model`,
`realtime.evaluate` and `training.evaluate` take it like any other.
"""


from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from realtime.core.cli import ArgumentParser, add_threads_option, run_main, setup_logging
from realtime.core.paths import GESTURE_MODEL
from realtime.teaching.head import DEFAULT_C
from realtime.teaching.teach import HAND_MODES, teach


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m realtime.teach", description=__doc__)
    p.add_argument("--data", type=Path, required=True, help="one folder per new gesture, >= 5 images each")
    p.add_argument("--out", type=Path, required=True, help="the taught model (.onnx) to write")
    p.add_argument("--base", type=Path, default=GESTURE_MODEL, help="model whose backbone embeds the images")
    p.add_argument("--keep-base", action="store_true",
                   help="keep the base model's gestures and add the new ones (uses BASE.reference.npz)")
    p.add_argument("--base-data", type=Path, default=None,
                   help="with --keep-base: crops of the base's gestures, instead of BASE.reference.npz")
    p.add_argument("--hands", choices=HAND_MODES, default="auto",
                   help="auto: cut each image around the hand MediaPipe finds (as live), whole image if "
                        "none; none: every image is already a crop")
    p.add_argument("--flip", action="store_true",
                   help="also learn each image mirrored (left and right hands alike; not for gestures "
                        "whose meaning has a direction)")
    p.add_argument("--c", type=float, default=DEFAULT_C, help="inverse regularisation of the regression")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (bounded by the smallest gesture)")
    add_threads_option(p, help="onnxruntime threads")
    p.add_argument("--verbose", action="store_true", help="debug logging")
    args = p.parse_args(argv)
    if args.c <= 0 or args.folds < 2 or args.threads < 0:
        p.error("--c must be > 0, --folds >= 2 and --threads >= 0")
    if args.out.suffix.lower() != ".onnx":
        p.error(f"--out must be an .onnx file, not {args.out}")
    if args.base_data is not None and not args.keep_base:
        p.error("--base-data only applies with --keep-base")
    if args.out.resolve() == args.base.resolve():
        p.error("--out would overwrite the base model: write the taught model to another file")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    result = teach(args.data, args.out, args.base, args.keep_base, args.hands, args.base_data, args.c,
                   args.folds, args.flip, threads=args.threads)
    print(result.report())
    if args.hands == "auto":
        print(f"hands re-cut by the tracker: {result.hands_found} of {sum(result.counts.values())} images")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
