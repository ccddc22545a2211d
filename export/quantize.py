"""Optional static int8 (QDQ) quantization, calibrated on real images, measured against fp32."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

from realtime.classifier.model import GestureClassifier
from realtime.core.contract import ModelContract
from realtime.core.errors import HandSignError
from realtime.core.timing import time_calls

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuantReport:
    path: Path
    top1_agreement: float
    max_abs_diff: float
    fp32_ms: float
    int8_ms: float

    def __str__(self) -> str:
        return (f"int8 model {self.path}: top-1 agreement with fp32 {self.top1_agreement:.2%}, "
                f"max prob diff {self.max_abs_diff:.3f}; latency batch 1: fp32 {self.fp32_ms:.2f} ms, "
                f"int8 {self.int8_ms:.2f} ms ({self.fp32_ms / self.int8_ms:.2f}x)")


class _Reader:
    """onnxruntime CalibrationDataReader over a prepared batch, one image at a time."""

    def __init__(self, input_name: str, batch: np.ndarray) -> None:
        self._items = iter([{input_name: batch[i:i + 1]} for i in range(len(batch))])

    def get_next(self):
        return next(self._items, None)


def quantize_int8(fp32_path: Path, out_path: Path, calibration: np.ndarray,
                  contract: ModelContract) -> QuantReport:
    """Static QDQ int8 (per-channel weights) with the contract copied over; returns the comparison."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if len(calibration) == 0:
        raise HandSignError("int8 quantization needs calibration images: pass --check-data DIR")
    with tempfile.TemporaryDirectory() as tmp:
        prepped = Path(tmp) / "prepped.onnx"
        quant_pre_process(str(fp32_path), str(prepped), skip_symbolic_shape=True)
        quantize_static(str(prepped), str(out_path), _Reader(contract.input_name, calibration),
                        quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    proto = onnx.load(str(out_path))
    # the fp32 file's own metadata: it also names the feature output added after conversion
    meta = {p.key: p.value for p in onnx.load(str(fp32_path), load_external_data=False).metadata_props}
    onnx.helper.set_model_props(proto, {**contract.to_metadata(), **meta})
    onnx.save(proto, str(out_path))

    fp32, int8 = GestureClassifier(fp32_path), GestureClassifier(out_path)
    a, b = fp32.predict_batch(calibration), int8.predict_batch(calibration)
    one = calibration[:1]
    return QuantReport(out_path, float(np.mean(a.argmax(1) == b.argmax(1))),
                       float(np.abs(a - b).max()),
                       time_calls(lambda: fp32.predict_batch(one))[0],
                       time_calls(lambda: int8.predict_batch(one))[0])
