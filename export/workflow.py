"""The whole export: convert, attach the contract, save, prove parity, optionally quantize."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import onnx

import export  # noqa: F401  (quiets TensorFlow's start-up log)
from export.convert import DEFAULT_OPSET, attach_contract, contract_for_run, load_run_model, to_onnx
from export.parity import ATOL, ParityReport, check_batch, check_parity
from realtime.classifier.graph import expose_feature_map, expose_features
from realtime.classifier.model import FeaturesUnavailable
from realtime.core.errors import HandSignError
from realtime.core.outputs import prepare_out_dir

log = logging.getLogger("export")


def export_model(model_path: Path, out: Path, opset: int = DEFAULT_OPSET,
                 check_data: Path | None = None, check_images: int = 64,
                 quantize: str = "none", crop_margin: float | None = None, framing: str | None = None,
                 live_metrics: Path | None = None, data_sources: str | None = None,
                 tolerance: float = ATOL) -> ParityReport:
    """Convert, attach the contract, save, and check parity; returns the parity report.

    The file is written under a temporary name, checked there, and renamed to ``out`` only once
    complete and in parity with Keras. A file that fails the check is kept beside it as
    ``<out>.parity-failed.onnx`` for inspection, and ``out`` is left as it was.
    """
    model = load_run_model(model_path)
    contract = contract_for_run(model, model_path.parent, opset, crop_margin, framing, live_metrics,
                                data_sources)
    log.info("converting %s (%s, %dpx, %d labels) with opset %d", model_path, model.name,
             contract.image_size, len(contract.labels), opset)
    proto = attach_contract(to_onnx(model, opset), contract)
    try:  # the second output (pooled features) is what realtime.teach embeds new gestures with
        proto = expose_features(proto)
    except FeaturesUnavailable as exc:
        log.warning("no feature output (the model cannot be taught new gestures): %s", exc)
    try:  # the third (the last feature map) gives class activation maps (realtime.classifier.activation)
        proto = expose_feature_map(proto)
    except FeaturesUnavailable as exc:
        log.info("no feature-map output (activation maps fall back to occlusion): %s", exc)
    prepare_out_dir(out.parent)
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.tmp.onnx")
    try:
        onnx.save(proto, str(tmp))
        batch, source, targets = check_batch(contract, check_data, check_images)
        report = check_parity(model, tmp, batch, source, tolerance)
        print(report)
        if not report.ok:
            failed = out.with_name(f"{out.stem}.parity-failed.onnx")
            os.replace(tmp, failed)
            log.warning("kept the file that failed the check as %s; %s is unchanged", failed, out)
            return report
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    if quantize == "int8":
        from export.quantize import quantize_int8
        if source != "real":
            raise HandSignError("--quantize int8 needs real calibration images: pass --check-data DIR")
        q = quantize_int8(out, out.with_suffix(".int8.onnx"), batch, contract)
        print(q)
        if targets is not None:
            from realtime.classifier.model import GestureClassifier
            acc = [float(np.mean(GestureClassifier(p).predict_batch(batch).argmax(1) == targets))
                   for p in (out, q.path)]
            print(f"accuracy on the {len(batch)} check images: fp32 {acc[0]:.2%}, int8 {acc[1]:.2%} "
                  f"({(acc[1] - acc[0]) * 100:+.1f} points)")
    return report
