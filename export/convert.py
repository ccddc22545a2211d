"""Keras -> ONNX conversion (tf2onnx) and the HandSign metadata stored in the file."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import onnx

from realtime.core.contract import DEFAULT_CROP_MARGIN, DEFAULT_FRAMING, INPUT_NAME, OUTPUT_NAME, ModelContract
from realtime.core.errors import HandSignError
from training.models.inference import load_keras_model

log = logging.getLogger(__name__)

DEFAULT_OPSET = 17


def load_run_model(path: Path):
    """The Keras model of a training run, with no training-only layers in it."""
    model = load_keras_model(path)
    random_layers = [l.name for l in _all_layers(model) if type(l).__name__.startswith("Random")]
    if random_layers:
        raise HandSignError(f"{path} contains augmentation layers {random_layers}; "
                            "export the inference model, not the training graph")
    shape = model.input_shape
    if len(shape) != 4 or shape[1] != shape[2] or shape[3] != 3:
        raise HandSignError(f"{path}: input shape {shape} is not (batch, size, size, 3)")
    return model


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)


def contract_for_run(model, run_dir: Path, opset: int, crop_margin: float | None = None,
                     framing: str | None = None, live_metrics: Path | None = None,
                     data_sources: str | None = None) -> ModelContract:
    """The contract to store: labels and settings from the run folder, metrics when evaluated.

    ``crop_margin``/``framing`` override the run's; ``live_metrics`` is a ``realtime.evaluate``
    metrics.json whose summary is stored as ``live_metrics``.
    """
    labels_file = run_dir / "labels.json"
    if not labels_file.is_file():
        raise HandSignError(f"no labels.json in {run_dir}; export a model from a training run folder")
    labels = json.loads(labels_file.read_text())
    if len(labels) != model.output_shape[-1]:
        raise HandSignError(f"{labels_file} lists {len(labels)} labels, the model has "
                            f"{model.output_shape[-1]} outputs")
    config = _read_json(run_dir / "config.json")
    extra = {
        "opset": str(opset),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "arch": str(config.get("arch", model.name)),
        "producer": "handsign export (tf2onnx)",
    }
    metrics = _read_json(run_dir / "eval" / "metrics.json") or _read_json(run_dir / "metrics.json")
    summary = {k: metrics[k] for k in ("accuracy", "macro_f1", "count", "split") if k in metrics}
    if config.get("best_val_accuracy") is not None:
        summary["best_val_accuracy"] = config["best_val_accuracy"]
    extra["metrics"] = json.dumps(summary)
    if live_metrics is not None:
        live = _read_json(live_metrics)
        if "hand_found_rate" not in live:
            raise HandSignError(f"{live_metrics} is not a metrics.json of realtime.evaluate")
        keys = ("data", "accuracy", "gesture_accuracy", "hand_found_rate", "accuracy_given_hand",
                "macro_f1", "count", "framing", "crop_margin")
        extra["live_metrics"] = json.dumps({k: live[k] for k in keys if k in live})
    if data_sources:
        extra["data_sources"] = data_sources
    contract = ModelContract(
        labels=tuple(labels), image_size=int(model.input_shape[1]),
        crop_margin=float(crop_margin if crop_margin is not None else config.get("crop_margin", DEFAULT_CROP_MARGIN)),
        crop_framing=framing or config.get("crop_framing", DEFAULT_FRAMING), extra=extra)
    try:
        contract.validate()
    except ValueError as exc:
        raise HandSignError(str(exc)) from None
    return contract


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def to_onnx(model, opset: int = DEFAULT_OPSET) -> onnx.ModelProto:
    """Convert with a dynamic-batch NHWC float32 input named ``image``, output ``probabilities``."""
    import tensorflow as tf
    import tf2onnx
    size = int(model.input_shape[1])
    spec = (tf.TensorSpec((None, size, size, 3), tf.float32, name=INPUT_NAME),)
    proto, _ = tf2onnx.convert.from_keras(model, input_signature=spec, opset=opset)
    _rename_output(proto, OUTPUT_NAME)
    for value in (proto.graph.input[0], proto.graph.output[0]):
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    return proto


def _rename_output(proto: onnx.ModelProto, name: str) -> None:
    old = proto.graph.output[0].name
    if old == name:
        return
    for node in proto.graph.node:
        node.output[:] = [name if o == old else o for o in node.output]
        node.input[:] = [name if i == old else i for i in node.input]
    proto.graph.output[0].name = name


def attach_contract(proto: onnx.ModelProto, contract: ModelContract) -> onnx.ModelProto:
    """Write the contract into ``metadata_props`` (replacing any earlier HandSign keys)."""
    meta = contract.to_metadata()
    keep = {p.key: p.value for p in proto.metadata_props if p.key not in meta}
    onnx.helper.set_model_props(proto, {**keep, **meta})
    proto.doc_string = (f"HandSign gesture classifier: {len(contract.labels)} gestures, "
                        f"{contract.image_size}x{contract.image_size} {contract.color_order} "
                        f"{contract.layout} float32 {contract.value_range[0]:g}..{contract.value_range[1]:g}")
    return proto
