"""Where the model looked: class activation maps, or occlusion maps for any model.

A HandSign model ends in global average pooling and one dense softmax layer, so the map of class k
needs no gradients: the last feature map weighted by the dense weights of k (Zhou et al. 2016,
"Learning Deep Features for Discriminative Localization"). Models exported by `python -m export`
(or upgraded by `python -m export.features`) expose that feature map as an output named in the
metadata. For any other model (a taught model, whose head is not one dense layer, or a model without
the output) :func:`occlusion_map` greys out patches of the crop and measures how much the class's
probability drops: slower, and the same meaning. Numpy on onnxruntime outputs; no TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import onnx

from realtime.classifier.graph import head_weights
from realtime.classifier.model import FeaturesUnavailable, GestureClassifier
from realtime.core.contract import PAD_VALUE, batch_from_prepared, prepare_image

#: Occlusion: the crop is covered by a grid of OCCLUSION_GRID x OCCLUSION_GRID grey patches, one at a time.
OCCLUSION_GRID = 7


def class_activation_map(feature_map: np.ndarray, weights: np.ndarray, layout: str = "NCHW") -> np.ndarray:
    """One image's feature map ((C, H, W) for NCHW, (H, W, C) for NHWC) and one class's dense weights
    (C,) -> the (H, W) map, negative evidence clipped, scaled to 0..1 (all zeros if nothing is positive)."""
    fmap = feature_map if layout == "NCHW" else np.moveaxis(feature_map, -1, 0)
    cam = np.maximum(np.tensordot(weights.astype(np.float32), fmap.astype(np.float32), axes=(0, 0)), 0.0)
    top = float(cam.max())
    return cam / top if top > 0 else cam


def upsample(small: np.ndarray, size: int) -> np.ndarray:
    """A coarse map -> (size, size), bilinear (what the overlay and the grids draw)."""
    return cv2.resize(small.astype(np.float32), (size, size), interpolation=cv2.INTER_LINEAR)


def occlusion_map(classifier: GestureClassifier, prepared: np.ndarray, class_index: int,
                  grid: int = OCCLUSION_GRID) -> np.ndarray:
    """(grid, grid) map of how much covering each cell of the prepared model input (uint8
    (S, S, 3)) with the padding grey lowers the class's probability, scaled to 0..1."""
    size = prepared.shape[0]
    edges = np.linspace(0, size, grid + 1).round().astype(int)
    images = [prepared]
    for y in range(grid):
        for x in range(grid):
            covered = prepared.copy()
            covered[edges[y]:edges[y + 1], edges[x]:edges[x + 1]] = PAD_VALUE
            images.append(covered)
    probs = classifier.predict_batch(batch_from_prepared(images, classifier.contract))[:, class_index]
    drop = np.maximum(probs[0] - probs[1:], 0.0).reshape(grid, grid)
    top = float(drop.max())
    return drop / top if top > 0 else drop


class ActivationMaps:
    """Maps for one classifier: ``cam`` where the model exposes its feature map and its head is one
    dense layer, else ``occlusion``."""

    def __init__(self, classifier: GestureClassifier) -> None:
        self.classifier = classifier
        c = classifier.contract
        self.method, self.weights = "occlusion", None
        if c.feature_map_output and c.feature_map_output in [o.name for o in classifier.session.get_outputs()]:
            try:
                self.weights = head_weights(onnx.load(str(classifier.path)))
                self.method = "cam"
            except FeaturesUnavailable:  # e.g. a taught head: probabilities are not one softmax
                pass

    def from_feature_map(self, feature_map: np.ndarray, class_index: int) -> np.ndarray:
        """The (S, S) map of one crop's feature map (from the classifier's own run) for a class."""
        c = self.classifier.contract
        return upsample(class_activation_map(feature_map, self.weights[:, class_index], c.feature_map_layout),
                        c.image_size)

    def maps(self, crops_bgr: Sequence[np.ndarray], classes: Sequence[int] | None = None
             ) -> tuple[np.ndarray, list[np.ndarray]]:
        """(probabilities (N, K), one (S, S) map in 0..1 per crop at the model's input size) for
        ``classes`` (default: each crop's predicted class)."""
        c = self.classifier.contract
        prepared = [prepare_image(im, c.image_size, c.color_order, c.resize_method) for im in crops_bgr]
        if not prepared:
            return np.zeros((0, len(c.labels)), np.float32), []
        batch = batch_from_prepared(prepared, c)
        if self.method == "cam":
            probs, fmaps = self.classifier.predict_with_feature_map(batch)
        else:
            probs, fmaps = self.classifier.predict_batch(batch), None
        chosen = probs.argmax(1) if classes is None else np.asarray(classes)
        return probs, [self.from_feature_map(fmaps[i], int(k)) if fmaps is not None
                       else upsample(occlusion_map(self.classifier, prepared[i], int(k)), c.image_size)
                       for i, k in enumerate(chosen)]


def overlay_map(rgb_or_bgr: np.ndarray, heat: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """A BGR image with the map over it as a JET heat map (the map is resized to the image)."""
    colour = cv2.applyColorMap((np.clip(heat, 0, 1) * 255).astype(np.uint8), cv2.COLORMAP_JET)
    if colour.shape[:2] != rgb_or_bgr.shape[:2]:
        colour = cv2.resize(colour, rgb_or_bgr.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    return cv2.addWeighted(rgb_or_bgr, 1 - alpha, colour, alpha, 0)


def mass_inside(heat: np.ndarray, box: Sequence[float]) -> float:
    """Fraction of the map's total inside ``box`` (x0, y0, x1, y1 in the map's pixels)."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    total = float(heat.sum())
    inside = float(heat[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)].sum())
    return inside / total if total > 0 else 0.0
