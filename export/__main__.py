"""Export a trained Keras model to ONNX, store its contract in the file, and prove parity.

    python -m export --model runs/effb0/model.keras --out models/handsign.onnx --check-data data/hagrid

The parity check always runs: the same batch through Keras and onnxruntime must agree within
1e-4 on every probability and on every top-1 label, or the command fails (exit 1).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Sequence

import numpy as np
import onnx

import export  # noqa: F401  (quiets TensorFlow's start-up log)
from export.convert import DEFAULT_OPSET, attach_contract, contract_for_run, load_run_model, to_onnx
from export.parity import check_batch, check_parity
from realtime.cli import HelpFormatter, run_main, setup_logging
from realtime.errors import HandSignError

log = logging.getLogger("export")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m export", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--model", required=True, type=Path, help="RUN_DIR/model.keras from training.train")
    p.add_argument("--out", type=Path, default=Path("models/handsign.onnx"), help="ONNX file to write")
    p.add_argument("--opset", type=int, default=DEFAULT_OPSET, help="ONNX opset")
    p.add_argument("--check-data", type=Path, default=None,
                   help="folder of real images for the parity check and int8 calibration (default: random pixels)")
    p.add_argument("--check-images", type=int, default=64, help="images used from --check-data")
    p.add_argument("--quantize", choices=("none", "int8"), default="none",
                   help="also write a static int8 (QDQ) model beside --out; fp32 stays the default model")
    p.add_argument("--verbose", action="store_true", help="debug logging")
    return p.parse_args(argv)


def export_model(model_path: Path, out: Path, opset: int = DEFAULT_OPSET,
                 check_data: Path | None = None, check_images: int = 64, quantize: str = "none"):
    """Convert, attach the contract, save, and check parity; returns the parity report."""
    model = load_run_model(model_path)
    contract = contract_for_run(model, model_path.parent, opset)
    log.info("converting %s (%s, %dpx, %d labels) with opset %d", model_path, model.name,
             contract.image_size, len(contract.labels), opset)
    proto = attach_contract(to_onnx(model, opset), contract)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(proto, str(out))
    batch, source, targets = check_batch(contract, check_data, check_images)
    report = check_parity(model, out, batch, source)
    print(report)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    if quantize == "int8":
        from export.quantize import quantize_int8
        if source != "real":
            raise HandSignError("--quantize int8 needs real calibration images: pass --check-data DIR")
        q = quantize_int8(out, out.with_suffix(".int8.onnx"), batch, contract)
        print(q)
        if targets is not None:
            from realtime.classifier import GestureClassifier
            acc = [float(np.mean(GestureClassifier(p).predict_batch(batch).argmax(1) == targets))
                   for p in (out, q.path)]
            print(f"accuracy on the {len(batch)} check images: fp32 {acc[0]:.2%}, int8 {acc[1]:.2%} "
                  f"({(acc[1] - acc[0]) * 100:+.1f} points)")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    if not args.verbose:
        logging.getLogger("tf2onnx").setLevel(logging.WARNING)
    report = export_model(args.model, args.out, args.opset, args.check_data, args.check_images,
                          args.quantize)
    if not report.ok:
        print(f"error: the ONNX model disagrees with Keras: {report}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
