"""The inference contract: everything the model, its exporter and the live loop must agree on.

This is the one place for the label order, the input tensor (size, colour order, value range,
resize method), the metadata keys stored in the ONNX file, and the crop geometry that turns a
detected hand into the square image the classifier sees. Training, export and the live loop all
import it, so a crop made live is framed and resized exactly like a training image.

Everything here is a pure function of its arguments (numpy and OpenCV only, no TensorFlow).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from realtime.core.errors import HandSignError

#: HaGRID's 18 gestures in canonical order: sorted class-folder names (0 call ... 17 two_up_inverted).
HAGRID_LABELS: tuple[str, ...] = (
    "call", "dislike", "fist", "four", "like", "mute", "ok", "one", "palm", "peace",
    "peace_inverted", "rock", "stop", "stop_inverted", "three", "three2", "two_up",
    "two_up_inverted",
)

DEFAULT_IMAGE_SIZE = 160
COLOR_ORDER = "RGB"
VALUE_RANGE = (0.0, 255.0)
LAYOUT = "NHWC"
RESIZE_METHOD = "area"  # cv2.INTER_AREA: box-averaging, the right filter for downscaling hands
INPUT_NAME = "image"
OUTPUT_NAME = "probabilities"
#: Name of the optional second graph output: the pooled backbone features before the classifier,
#: which teach mode embeds new gestures with (see realtime.classifier.graph).
FEATURES_NAME = "features"
#: Name of the optional third output: the last convolutional feature map, before global pooling
#: (class activation maps, realtime.classifier.activation); its layout (NCHW or NHWC) is in the metadata.
FEATURE_MAP_NAME = "feature_map"
FEATURE_MAP_LAYOUTS = ("NCHW", "NHWC")
#: The landmark head (realtime.classifier.graph.with_landmark_head): its input, the hand-shape features
#: of realtime.core.hand_shape, and its two outputs: the landmark head alone and the fused answer.
LANDMARK_INPUT_NAME = "hand_shape"
LANDMARK_OUTPUT_NAME = "landmark_probabilities"
FUSED_NAME = "fused_probabilities"
#: Which answer the live path reads: the crop classifier, the landmark head or both fused.
HEADS = ("fused", "crop", "landmarks")
#: How a hand is cut from a frame (see :func:`crop_box`): "hand" = the landmark box grown by the
#: margin and padded to square with grey, like HaGRID's tight training crops; "context" = a square
#: of real surroundings centred on the hand. "hand" won on the live-path measurement (docs/how-it-works.md).
FRAMINGS = ("hand", "context")
DEFAULT_FRAMING = "hand"
#: Border added around the landmark box, as a fraction of its longer side, on each side.
DEFAULT_CROP_MARGIN = 0.1
#: The class of a hand that shows no gesture: a model may have it; it is never "the gesture".
NO_GESTURE = "no_gesture"
#: The label of a hand whose smoothed confidence is below the live threshold.
UNSURE = "unsure"
#: Gestures that differ only by what landmarks cannot see: ``mute`` is ``one`` with the finger on the lips,
#: each ``*_inverted`` its gesture with the back of the hand to the camera. Each maps to its look-alike.
LOOK_ALIKE_PAIRS = (("one", "mute"), ("stop", "stop_inverted"), ("peace", "peace_inverted"),
                    ("two_up", "two_up_inverted"))
LOOK_ALIKES = {**{a: b for a, b in LOOK_ALIKE_PAIRS}, **{b: a for a, b in LOOK_ALIKE_PAIRS}}


def shown_label(probabilities, labels: Sequence[str], threshold: float) -> tuple[str, float]:
    """The label a hand is shown with, and its probability: the best class, or ``unsure`` below ``threshold``."""
    best = int(np.argmax(probabilities))
    score = float(probabilities[best])
    return (labels[best] if score >= threshold else UNSURE), score


def is_gesture(label: str | None) -> bool:
    """A label that names a gesture: not None (no model), ``unsure`` or ``no_gesture``."""
    return label not in (None, UNSURE, NO_GESTURE)
#: Grey used where a square crop reaches past the frame (and to pad non-square training images).
PAD_VALUE = 114

METADATA_PREFIX = "handsign."
SCHEMA_VERSION = 1

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels, x1/y1 exclusive


class ContractError(HandSignError, ValueError):
    """A model or image does not follow the inference contract."""


# --------------------------------------------------------------------------- labels
def canonical_labels(names: Sequence[str]) -> list[str]:
    """Return class names in canonical label order (sorted), rejecting duplicates and blanks."""
    if any(not n or not n.strip() for n in names):
        raise ContractError("class names must not be empty")
    if len(set(names)) != len(names):
        raise ContractError(f"duplicate class names: {sorted(names)}")
    return sorted(names)


# --------------------------------------------------------------------------- metadata
@dataclass(frozen=True)
class ModelContract:
    """What a gesture model promises about its input and output; stored as ONNX metadata."""

    labels: tuple[str, ...]
    image_size: int = DEFAULT_IMAGE_SIZE
    color_order: str = COLOR_ORDER
    value_range: tuple[float, float] = VALUE_RANGE
    layout: str = LAYOUT
    resize_method: str = RESIZE_METHOD
    crop_margin: float = DEFAULT_CROP_MARGIN
    crop_framing: str = DEFAULT_FRAMING
    input_name: str = INPUT_NAME
    output_name: str = OUTPUT_NAME
    feature_output: str = ""  # graph output with the backbone features; "" = none (older models)
    feature_map_output: str = ""  # graph output with the last feature map; "" = none
    feature_map_layout: str = ""  # its layout, one of FEATURE_MAP_LAYOUTS
    landmark_input: str = ""  # second graph input: hand-shape features; "" = crop only
    landmark_features: str = ""  # the recipe of those features (realtime.core.hand_shape.FEATURES_RECIPE)
    landmark_output: str = ""  # the landmark head's probabilities
    fused_output: str = ""  # crop and landmark heads fused
    extra: Mapping[str, str] = field(default_factory=dict)  # opset, metrics, created, arch...

    def to_metadata(self) -> dict[str, str]:
        """Flatten into ONNX ``metadata_props`` (string keys and values)."""
        d = asdict(self)
        extra = d.pop("extra")
        meta = {METADATA_PREFIX + k: json.dumps(v) for k, v in d.items()}
        meta[METADATA_PREFIX + "schema_version"] = str(SCHEMA_VERSION)
        for k, v in extra.items():
            meta[METADATA_PREFIX + "extra." + k] = v if isinstance(v, str) else json.dumps(v)
        return meta

    @classmethod
    def from_metadata(cls, meta: Mapping[str, str]) -> ModelContract:
        """Rebuild from ONNX metadata; raises ContractError naming what is missing or wrong."""
        if METADATA_PREFIX + "labels" not in meta:
            raise ContractError(
                "model has no HandSign metadata (no 'handsign.labels'); export it with `python -m export`"
            )
        try:
            version = int(meta.get(METADATA_PREFIX + "schema_version", "0"))
            if version != SCHEMA_VERSION:
                raise ContractError(f"metadata schema version {version}, expected {SCHEMA_VERSION}")
            kwargs = {}
            for name in ("labels", "image_size", "color_order", "value_range", "layout",
                         "resize_method", "crop_margin", "crop_framing", "input_name", "output_name",
                         "feature_output", "feature_map_output", "feature_map_layout", "landmark_input",
                         "landmark_features", "landmark_output", "fused_output"):
                key = METADATA_PREFIX + name
                if key in meta:
                    kwargs[name] = json.loads(meta[key])
            kwargs.setdefault("crop_framing", "context")  # models from before the key were framed so
            extra_prefix = METADATA_PREFIX + "extra."
            extra = {k[len(extra_prefix):]: v for k, v in meta.items() if k.startswith(extra_prefix)}
            contract = cls(
                **{k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()},
                extra=extra,
            )
        except (json.JSONDecodeError, TypeError, ValueError) as exc:
            if isinstance(exc, ContractError):
                raise
            raise ContractError(f"malformed HandSign metadata: {exc}") from None
        contract.validate()
        return contract

    def validate(self) -> None:
        """Check the fields are ones this code knows how to honour."""
        if not self.labels or not all(isinstance(l, str) and l for l in self.labels):
            raise ContractError("metadata labels must be a non-empty list of names")
        if not isinstance(self.image_size, int) or not 8 <= self.image_size <= 1024:
            raise ContractError(f"metadata image_size {self.image_size!r} is not a size in 8..1024")
        if self.color_order not in ("RGB", "BGR"):
            raise ContractError(f"unknown colour order {self.color_order!r}")
        if self.layout != LAYOUT:
            raise ContractError(f"unsupported layout {self.layout!r} (expected {LAYOUT})")
        if self.resize_method not in RESIZE_FLAGS:
            raise ContractError(f"unknown resize method {self.resize_method!r}")
        if self.crop_framing not in FRAMINGS:
            raise ContractError(f"unknown crop framing {self.crop_framing!r} (expected one of {FRAMINGS})")
        if not isinstance(self.crop_margin, (int, float)) or not 0 <= self.crop_margin <= 2:
            raise ContractError(f"metadata crop_margin {self.crop_margin!r} is not a number in 0..2")
        if not isinstance(self.feature_output, str):
            raise ContractError(f"metadata feature_output {self.feature_output!r} is not a name")
        if not isinstance(self.feature_map_output, str) or (
                self.feature_map_output and self.feature_map_layout not in FEATURE_MAP_LAYOUTS):
            raise ContractError(f"metadata feature_map_output {self.feature_map_output!r} / layout "
                                f"{self.feature_map_layout!r} (expected a name and one of {FEATURE_MAP_LAYOUTS})")
        if self.landmark_input:
            from realtime.core.hand_shape import FEATURES_RECIPE
            if self.landmark_features != FEATURES_RECIPE:
                raise ContractError(f"the model's landmark head reads {self.landmark_features!r} features; this "
                                    f"HandSign computes {FEATURES_RECIPE!r} (update HandSign or re-fit the head)")
            if not (self.landmark_output and self.fused_output):
                raise ContractError("metadata names a landmark input but not its landmark and fused outputs")

    @property
    def gesture_indices(self) -> list[int]:
        """Indices of the labels that are gestures (all but ``no_gesture``)."""
        return [i for i, l in enumerate(self.labels) if l != NO_GESTURE]


RESIZE_FLAGS = {"area": cv2.INTER_AREA, "bilinear": cv2.INTER_LINEAR}


# --------------------------------------------------------------------------- crop geometry
def landmarks_box(points: np.ndarray) -> tuple[float, float, float, float]:
    """Tight box (x0, y0, x1, y1) around landmark points given in pixels, shape (N, 2)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) == 0:
        raise ContractError("no landmark points")
    if not np.isfinite(pts).all():
        raise ContractError("landmark points are not finite")
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


def square_crop_box(box: Sequence[float], margin: float = DEFAULT_CROP_MARGIN) -> Box:
    """The square crop for a hand box: centred on it, side = longer side * (1 + 2 * margin).

    The result may reach past the frame; :func:`crop_padded` pads that part so the crop stays
    square and the hand stays centred (clamping would shift and distort it near the edges).
    """
    x0, y0, x1, y1 = (float(v) for v in box)
    if x1 < x0 or y1 < y0:
        raise ContractError(f"box {tuple(box)} has negative size")
    side = max(x1 - x0, y1 - y0, 1.0) * (1.0 + 2.0 * margin)
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    left = int(round(cx - side / 2.0))
    top = int(round(cy - side / 2.0))
    s = max(int(round(side)), 1)
    return left, top, left + s, top + s


def grown_box(box: Sequence[float], margin: float = DEFAULT_CROP_MARGIN) -> Box:
    """The hand box grown by ``margin`` x its longer side on every side; keeps its aspect."""
    x0, y0, x1, y1 = (float(v) for v in box)
    if x1 < x0 or y1 < y0:
        raise ContractError(f"box {tuple(box)} has negative size")
    grow = max(x1 - x0, y1 - y0, 1.0) * margin
    left, top = int(round(x0 - grow)), int(round(y0 - grow))
    right, bottom = max(int(round(x1 + grow)), left + 1), max(int(round(y1 + grow)), top + 1)
    return left, top, right, bottom


def crop_box(hand_box: Sequence[float], margin: float = DEFAULT_CROP_MARGIN,
             framing: str = DEFAULT_FRAMING) -> Box:
    """The region cut for a hand: :func:`grown_box` ("hand") or :func:`square_crop_box` ("context")."""
    if framing == "hand":
        return grown_box(hand_box, margin)
    if framing == "context":
        return square_crop_box(hand_box, margin)
    raise ContractError(f"unknown crop framing {framing!r} (expected one of {FRAMINGS})")


def clamp_box(box: Sequence[float], width: int, height: int) -> Box:
    """Clip a box to the frame (for drawing and for JSON output)."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    x0, x1 = sorted((min(max(x0, 0), width), min(max(x1, 0), width)))
    y0, y1 = sorted((min(max(y0, 0), height), min(max(y1, 0), height)))
    return x0, y0, x1, y1


def crop_padded(frame: np.ndarray, box: Box, pad_value: int = PAD_VALUE) -> np.ndarray:
    """Cut ``box`` (possibly past the frame) out of ``frame``, padding the outside part with grey."""
    h, w = frame.shape[:2]
    x0, y0, x1, y1 = box
    cx0, cy0, cx1, cy1 = clamp_box(box, w, h)
    inner = frame[cy0:cy1, cx0:cx1]
    pads = (cy0 - y0, y1 - cy1, cx0 - x0, x1 - cx1)
    if any(pads) or inner.size == 0:
        if inner.size == 0:  # box wholly outside: all padding
            return np.full((y1 - y0, x1 - x0) + frame.shape[2:], pad_value, dtype=frame.dtype)
        inner = cv2.copyMakeBorder(inner, *pads, cv2.BORDER_CONSTANT, value=(pad_value,) * 3)
    return inner


def hand_crop(frame: np.ndarray, points: np.ndarray, margin: float = DEFAULT_CROP_MARGIN,
              framing: str = DEFAULT_FRAMING) -> tuple[np.ndarray, Box]:
    """The crop the classifier sees for a hand given by landmark pixels, and its (unclamped) box.

    With "hand" framing the crop is not square; :func:`prepare_image` pads it to square with grey,
    exactly as it pads HaGRID's non-square training crops.
    """
    box = crop_box(landmarks_box(points), margin, framing)
    return crop_padded(as_bgr_uint8(frame), box), box


def points_in_model_view(points: np.ndarray, box: Sequence[float], image_size: int) -> np.ndarray:
    """Frame pixels (N, 2) -> pixels of the model's input image for the crop ``box`` (as
    :func:`hand_crop` cut it): :func:`pad_to_square` centres the crop, then it is resized."""
    x0, y0, x1, y1 = (float(v) for v in box)
    w, h = x1 - x0, y1 - y0
    side = max(w, h)
    offset = np.array([(side - w) // 2, (side - h) // 2], np.float64)
    return (np.asarray(points, np.float64).reshape(-1, 2) - [x0, y0] + offset) * (image_size / side)


def as_bgr_uint8(image: np.ndarray) -> np.ndarray:
    """Any decoded image (grey, BGR, BGRA; 8-bit, 16-bit or float 0..255) as BGR uint8."""
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0 \
            or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise ContractError("empty or malformed image")
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.clip(np.nan_to_num(image.astype(np.float32)), 0, 255).astype(np.uint8)
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


# --------------------------------------------------------------------------- preprocessing
def pad_to_square(image: np.ndarray, pad_value: int = PAD_VALUE) -> np.ndarray:
    """Centre a non-square image on a square canvas so resizing never distorts the hand."""
    h, w = image.shape[:2]
    if h == w:
        return image
    side = max(h, w)
    top, left = (side - h) // 2, (side - w) // 2
    return cv2.copyMakeBorder(image, top, side - h - top, left, side - w - left,
                              cv2.BORDER_CONSTANT, value=(pad_value,) * 3)


def prepare_image(bgr: np.ndarray, image_size: int, color_order: str = COLOR_ORDER,
                  resize_method: str = RESIZE_METHOD) -> np.ndarray:
    """BGR uint8 image or crop -> uint8 (size, size, 3) in the model's colour order.

    Training (through tf.data) and the live classifier both call this, so they resize alike.
    """
    square = pad_to_square(as_bgr_uint8(bgr))
    interp = RESIZE_FLAGS[resize_method]
    if square.shape[0] < image_size:  # upscaling: area falls back to nearest-like, use linear
        interp = cv2.INTER_LINEAR
    resized = cv2.resize(square, (image_size, image_size), interpolation=interp)
    if color_order == "RGB":
        resized = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB)
    return resized


def to_batch(images: Sequence[np.ndarray], contract: ModelContract) -> np.ndarray:
    """BGR crops -> float32 NHWC batch in the contract's colour order and value range."""
    return batch_from_prepared([prepare_image(im, contract.image_size, contract.color_order,
                                              contract.resize_method) for im in images], contract)


def batch_from_prepared(prepared: Sequence[np.ndarray], contract: ModelContract) -> np.ndarray:
    """Outputs of :func:`prepare_image` -> float32 NHWC batch in the contract's value range."""
    lo, hi = contract.value_range
    batch = np.stack(prepared).astype(np.float32)
    if (lo, hi) != (0.0, 255.0):
        batch = batch * ((hi - lo) / 255.0) + lo
    return batch
