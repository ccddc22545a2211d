"""The ONNX gesture model: load and validate it, predict, change its graph, and show where it looked."""

from __future__ import annotations

from realtime.classifier.model import FeaturesUnavailable, GestureClassifier, ModelLoadError, load_classifier
from realtime.classifier.activation import ActivationMaps

__all__ = ["ActivationMaps", "FeaturesUnavailable", "GestureClassifier", "ModelLoadError", "load_classifier"]
