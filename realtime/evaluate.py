"""Score what a user sees: labelled photos through the live tool's own path, end to end.

Every image goes through the hand tracker (IMAGE mode), the model's crop geometry and the ONNX
classifier, with the very objects ``realtime.run`` uses (:class:`GesturePipeline`). An image's
answer is the hand whose best gesture probability is highest (``no_gesture`` never counts as the
gesture); that hand's top class is the prediction. An image with no hand found counts as wrong.

    python -m realtime.evaluate --model models/handsign.onnx --data ../shared/data/hagrid_context --out runs/live

Writes metrics.json, predictions.jsonl, confusion_matrix.png (with a "no hand" column) and
errors.png (wrong images beside the crop the model saw, with its top 3, and the activation map of
the class it named: where it looked).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from realtime.core.cli import (
    ArgumentParser,
    add_crop_options,
    add_hand_options,
    add_heads_option,
    add_threads_option,
    check_shared_options,
    run_main,
    setup_logging,
)
from realtime.core.contract import FRAMINGS
from realtime.evaluation.live_path import evaluate_live


def parse_sweep(text: str) -> list[tuple[str, float]]:
    """'hand:0.1,context:0.2' -> [("hand", 0.1), ("context", 0.2)]."""
    settings = []
    for item in filter(None, (t.strip() for t in text.split(","))):
        framing, _, margin = item.partition(":")
        try:
            value = float(margin)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{item!r} is not FRAMING:MARGIN") from None
        if framing not in FRAMINGS or not 0 <= value <= 2:
            raise argparse.ArgumentTypeError(f"{item!r}: framing must be one of {FRAMINGS}, margin in 0..2")
        settings.append((framing, value))
    return settings



def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m realtime.evaluate", description=__doc__)
    p.add_argument("--model", required=True, type=Path, help="HandSign gesture model (.onnx)")
    p.add_argument("--data", required=True, type=Path,
                   help="one folder per class of photos or frames; class names must be labels of the model")
    p.add_argument("--out", required=True, type=Path, help="folder for the report files")
    add_hand_options(p, max_hands_help="hands the tracker looks for per image")
    add_crop_options(p)
    add_heads_option(p)
    add_threads_option(p)
    p.add_argument("--sweep", type=parse_sweep, default=[],
                   help="also score these crop settings, FRAMING:MARGIN comma-separated (e.g. "
                        "hand:0,hand:0.1,context:0.2), hands detected once; written to sweep.json")
    p.add_argument("--max-errors", type=int, default=24, help="wrong images shown in errors.png")
    p.add_argument("--verbose", action="store_true", help="debug logging")
    args = p.parse_args(argv)
    check_shared_options(p, args)
    if args.max_errors < 0:
        p.error("--max-errors must be >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    m = evaluate_live(args.model, args.data, args.out, args.max_hands, args.crop_margin, args.framing,
                      args.min_detection, args.hand_model, args.threads, args.max_errors, not args.no_tiles,
                      args.sweep, args.heads)
    gesture = "" if m["gesture_accuracy"] is None else \
        f"  gestures only {m['gesture_accuracy']:.4f} ({m['gesture_count']} images)"
    print(f"accuracy {m['accuracy']:.4f}  macro F1 {m['macro_f1']:.4f}  hands found {m['hand_found_rate']:.4f}  "
          f"accuracy given a hand {m['accuracy_given_hand']:.4f}  ({m['count']} images){gesture}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
