"""The ONNX gesture model: load and validate it, predict, change its graph, and show where it looked."""

from __future__ import annotations

from realtime.classifier.activation import ActivationMaps
from realtime.classifier.model import FeaturesUnavailable, GestureClassifier, ModelLoadError, load_classifier

__all__ = ["ActivationMaps", "FeaturesUnavailable", "GestureClassifier", "ModelLoadError", "load_classifier"]
