"""The ONNX gesture classifier: load and validate a model, preprocess crops, batch-predict."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from realtime.core.contract import HEADS, ContractError, ModelContract, to_batch
from realtime.core.errors import HandSignError

log = logging.getLogger(__name__)


class ModelLoadError(HandSignError):
    """The gesture model file is missing, not ONNX, or not a HandSign model."""


class FeaturesUnavailable(ModelLoadError):
    """The model does not expose its backbone features (needed to teach new gestures)."""


@dataclass(frozen=True)
class Prediction:
    """One crop's result: probabilities in label order, and the best label."""

    probabilities: np.ndarray
    labels: tuple[str, ...]

    @property
    def index(self) -> int:
        """The best class's index."""
        return int(np.argmax(self.probabilities))

    @property
    def label(self) -> str:
        """The best class's label."""
        return self.labels[self.index]

    @property
    def score(self) -> float:
        """The best class's probability."""
        return float(self.probabilities[self.index])

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` best (label, probability) pairs."""
        order = np.argsort(self.probabilities)[::-1][:k]
        return [(self.labels[i], float(self.probabilities[i])) for i in order]


def session_options(threads: int, spinning: bool = True) -> ort.SessionOptions:
    """Session options with a fixed thread count (0 lets onnxruntime choose).

    ``spinning=False`` makes idle intra-op threads sleep instead of spin-waiting for the next run,
    leaving their core to the hand tracker that runs beside the classifier in the live loop.
    """
    opts = ort.SessionOptions()
    if not spinning:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    return opts


class GestureClassifier:
    """A HandSign ONNX model with its contract; ``predict`` takes BGR crops of any size."""

    def __init__(self, path: str | Path, threads: int = 2, spinning: bool = True, heads: str = "fused") -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelLoadError(f"gesture model not found: {self.path}")
        try:
            self.session = ort.InferenceSession(
                str(self.path), sess_options=session_options(threads, spinning),
                providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own, unexported exception types
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelLoadError(f"{self.path} is not a loadable ONNX model: {first}") from None
        meta = self.session.get_modelmeta().custom_metadata_map
        try:
            self.contract = ModelContract.from_metadata(meta)
        except ContractError as exc:
            raise ModelLoadError(f"{self.path}: {exc}") from None
        self._check_signature()
        if heads not in HEADS:
            raise ModelLoadError(f"unknown heads {heads!r} (expected one of {', '.join(HEADS)})")
        if heads == "landmarks" and not self.has_landmark_head:
            raise ModelLoadError(f"{self.path} has no landmark head (use --heads crop, or a model made by "
                                 "`python -m training.landmark_head`)")
        #: Which answer ``predict_batch`` gives when it is handed hand-shape features.
        self.heads = heads if self.has_landmark_head else "crop"

    def _check_signature(self) -> None:
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        c = self.contract
        names = [o.name for o in outputs]
        for kind, name in (("feature", c.feature_output), ("feature-map", c.feature_map_output),
                           ("landmark", c.landmark_output), ("fused", c.fused_output)):
            if name and name not in names:
                raise ModelLoadError(f"{self.path}: the metadata names a {kind} output {name!r} the graph does "
                                     "not have")
        shape_inputs = [i for i in inputs if c.landmark_input and i.name == c.landmark_input]
        if c.landmark_input and not shape_inputs:
            raise ModelLoadError(f"{self.path}: the metadata names a landmark input {c.landmark_input!r} "
                                 "the graph does not have")
        self.shape_size = int(shape_inputs[0].shape[1]) if shape_inputs else 0
        inputs = [i for i in inputs if i not in shape_inputs]
        probs = [o for o in outputs if o.name not in (c.feature_output, c.feature_map_output, c.landmark_output,
                                                     c.fused_output)]
        if len(inputs) != 1 or len(probs) != 1:
            raise ModelLoadError(f"{self.path}: expected one input and one output, "
                                 f"got {len(inputs)} and {len(probs)}")
        shape = inputs[0].shape
        if len(shape) != 4 or shape[1:] not in ([c.image_size, c.image_size, 3],):
            raise ModelLoadError(f"{self.path}: input shape {shape} does not match the metadata "
                                 f"({c.layout} {c.image_size}x{c.image_size}x3)")
        out = probs[0].shape
        if len(out) != 2 or out[1] != len(c.labels):
            raise ModelLoadError(f"{self.path}: output has {out[-1]} classes but the metadata "
                                 f"lists {len(c.labels)} labels")
        self.input_name, self.output_name = inputs[0].name, probs[0].name
        self.feature_name = c.feature_output or None

    @property
    def labels(self) -> tuple[str, ...]:
        """The model's class labels, in its output order."""
        return self.contract.labels

    def __repr__(self) -> str:
        i = self.session.get_inputs()[0]
        o = next(o for o in self.session.get_outputs() if o.name == self.output_name)
        features = "".join(f" (+ {n})" for n in (self.feature_name, self.contract.feature_map_output) if n)
        return (f"GestureClassifier({self.path.name}: {i.name} {i.shape} {i.type} -> "
                f"{o.name} {o.shape}{features}, {len(self.labels)} labels, "
                f"{self.contract.color_order} {self.contract.value_range}, "
                f"resize={self.contract.resize_method})")

    @property
    def has_landmark_head(self) -> bool:
        """Whether the model has a landmark head and a fused output."""
        return bool(self.contract.landmark_input)

    def _feed(self, batch: np.ndarray, shapes: np.ndarray | None) -> tuple[dict, str]:
        """The input feed and the probabilities output to read: with hand-shape features and a
        landmark head, the one ``heads`` names; else the crop classifier's."""
        feed = {self.input_name: batch}
        if not self.has_landmark_head:
            return feed, self.output_name
        if shapes is None:  # a crop without landmarks: the crop head alone (the input must still be fed)
            feed[self.contract.landmark_input] = np.zeros((len(batch), self.shape_size), np.float32)
            return feed, self.output_name
        feed[self.contract.landmark_input] = np.asarray(shapes, np.float32)
        c = self.contract
        return feed, {"crop": self.output_name, "landmarks": c.landmark_output, "fused": c.fused_output}[self.heads]

    def predict_batch(self, batch: np.ndarray, shapes: np.ndarray | None = None) -> np.ndarray:
        """Run an already preprocessed float32 NHWC batch; returns probabilities (N, classes).
        ``shapes``: the hands' features (realtime.core.hand_shape), for a model with a landmark head."""
        feed, output = self._feed(batch, shapes)
        return self.session.run([output], feed)[0]

    def predict_with_feature_map(self, batch: np.ndarray, shapes: np.ndarray | None = None
                                 ) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and the last feature map of a preprocessed batch, in one run (the model
        must name a feature-map output)."""
        feed, output = self._feed(batch, shapes)
        probs, fmaps = self.session.run([output, self.contract.feature_map_output], feed)
        return probs, fmaps

    def predict(self, crops_bgr: Sequence[np.ndarray]) -> list[Prediction]:
        """Classify BGR crops in one batch, preprocessed exactly as in training."""
        if len(crops_bgr) == 0:
            return []
        probs = self.predict_batch(to_batch(crops_bgr, self.contract))
        return [Prediction(p, self.labels) for p in probs]

    def require_features(self) -> str:
        """The name of the feature output; raises FeaturesUnavailable (one line) if there is none."""
        if self.feature_name is None:
            raise FeaturesUnavailable(
                f"{self.path} has no backbone feature output (no 'handsign.feature_output' in its "
                "metadata): expose it with `python -m export.features MODEL.onnx`")
        return self.feature_name

    def embed(self, crops_bgr: Sequence[np.ndarray], batch_size: int = 32) -> np.ndarray:
        """The backbone's pooled features of BGR crops, (N, dim) float32, preprocessed by the contract."""
        name = self.require_features()
        parts = [self.session.run([name], self._feed(to_batch(crops_bgr[i:i + batch_size], self.contract), None)[0])[0]
                 for i in range(0, len(crops_bgr), batch_size)]
        return np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, 0), np.float32)


def load_classifier(path: Path | str | None, threads: int = 2, spinning: bool = False,
                    heads: str = "fused") -> GestureClassifier | None:
    """The gesture model: ``path``, else the shipped one; ``none`` tracks hands without labels."""
    from realtime.core.paths import GESTURE_MODEL

    if path is not None and str(path).lower() == "none":
        return None
    if path is None:
        if not GESTURE_MODEL.is_file():
            log.warning("no gesture model at %s: tracking hands without labels", GESTURE_MODEL)
            return None
        path = GESTURE_MODEL
    classifier = GestureClassifier(path, threads=threads, spinning=spinning, heads=heads)
    log.info("%r", classifier)
    return classifier
