"""Top-3 gestures for image files with a trained model (.keras run model or exported .onnx).

    python -m training.predict --model models/handsign.onnx photo1.jpg photo2.jpg

Images are classified whole (they should already be hand crops, like the training images).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from realtime.cli import ArgumentParser, HelpFormatter, positive_int, run_main, setup_logging
from realtime.images import ImageReadError, read_bgr
from training.inference import Predictor


def top_k(probs: np.ndarray, labels: Sequence[str], k: int = 3) -> list[tuple[str, float]]:
    order = np.argsort(probs)[::-1][:k]
    return [(labels[i], float(probs[i])) for i in order]


def main(argv: Sequence[str] | None = None) -> int:
    p = ArgumentParser(prog="python -m training.predict", description=__doc__,
                                formatter_class=HelpFormatter)
    p.add_argument("--model", required=True, type=Path, help=".keras run model or exported .onnx")
    p.add_argument("--top", type=positive_int, default=3, help="classes listed per image")
    p.add_argument("images", nargs="+", type=Path, help="image files")
    args = p.parse_args(argv)
    setup_logging()
    predictor = Predictor(args.model)
    failures = 0
    for path in args.images:
        try:
            probs = predictor.predict([read_bgr(path)])[0]
        except ImageReadError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failures += 1
            continue
        ranked = ", ".join(f"{name} {score:.3f}" for name, score in top_k(probs, predictor.labels, args.top))
        print(f"{path}: {ranked}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
