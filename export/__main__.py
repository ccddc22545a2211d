"""Export a trained Keras model to ONNX, store its contract in the file, and prove parity.

    python -m export --model runs/effb0/model.keras --out models/handsign.onnx --check-data data/hagrid

The parity check always runs: the same batch through Keras and onnxruntime must agree within
1e-4 (--max-diff) on every probability and on every top-1 label, or the command fails (exit 1)
and --out is not written.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from export.convert import DEFAULT_OPSET
from export.parity import ATOL
from realtime.core.cli import ArgumentParser, HelpFormatter, run_main, setup_logging
from realtime.core.contract import FRAMINGS

log = logging.getLogger("export")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m export", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--model", required=True, type=Path, help="RUN_DIR/model.keras from training.train")
    p.add_argument("--out", type=Path, default=Path("models/handsign.onnx"), help="ONNX file to write")
    p.add_argument("--opset", type=int, default=DEFAULT_OPSET, help="ONNX opset")
    p.add_argument("--check-data", type=Path, default=None,
                   help="folder of real images for the parity check and int8 calibration (default: random pixels)")
    p.add_argument("--check-images", type=int, default=64, help="images used from --check-data")
    p.add_argument("--max-diff", type=float, default=ATOL,
                   help="largest difference of any probability between Keras and ONNX that still passes the "
                        "parity check (every top-1 label must agree too); a model that fails is not written to "
                        "--out but kept as OUT.parity-failed.onnx, and the command exits with code 1")
    p.add_argument("--quantize", choices=("none", "int8"), default="none",
                   help="also write a static int8 (QDQ) model beside --out; fp32 stays the default model")
    p.add_argument("--crop-margin", type=float, default=None,
                   help="crop margin stored in the model (default: the training run's)")
    p.add_argument("--framing", choices=FRAMINGS, default=None,
                   help="crop framing stored in the model (default: the training run's)")
    p.add_argument("--live-metrics", type=Path, default=None,
                   help="metrics.json of `python -m realtime.evaluate` to store in the model")
    p.add_argument("--data-sources", default=None, help="text naming the training data, stored in the model")
    p.add_argument("--verbose", action="store_true", help="debug logging")
    args = p.parse_args(argv)
    if args.check_images < 1:
        p.error("--check-images must be >= 1")
    if not 0 <= args.max_diff <= 1:
        p.error("--max-diff must be within 0..1")
    if args.crop_margin is not None and not 0 <= args.crop_margin <= 2:
        p.error("--crop-margin must be within 0..2")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    if not args.verbose:
        logging.getLogger("tf2onnx").setLevel(logging.WARNING)
    from export.workflow import export_model  # TensorFlow loads here, once the arguments are known good

    report = export_model(args.model, args.out, args.opset, args.check_data, args.check_images,
                          args.quantize, args.crop_margin, args.framing, args.live_metrics, args.data_sources,
                          args.max_diff)
    if not report.ok:
        print(f"error: the ONNX model disagrees with Keras: {report}; {args.out} not written", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
