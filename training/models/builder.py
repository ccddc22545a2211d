"""Models: EfficientNet-B0 / -Lite0 transfer learning, the report's baseline CNN, and augmentation.

Every model takes float32 RGB 0..255 images (the contract's input); any rescaling lives inside it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import keras
from keras import layers

from realtime.core.contract import INPUT_NAME, OUTPUT_NAME, PAD_VALUE
from realtime.core.errors import HandSignError
from training.engine.options import ARCHS  # noqa: F401  (re-exported)
from training.models import pretrained

log = logging.getLogger(__name__)

#: Name of the pre-trained backbone layer inside each transfer-learning model.
BASE_NAMES = {"efficientnet_b0": "efficientnetb0", "efficientnet_lite0": pretrained.LITE0_NAME}
WEIGHTS_URL = ("https://storage.googleapis.com/keras-applications/efficientnetb0_notop.h5")


BN_MOMENTUM_SCRATCH = 0.9  # Keras' 0.99 lags far behind the weights on small data sets


class WeightsError(HandSignError):
    """Pre-trained weights could not be loaded."""


def augmentation(seed: int = 42) -> keras.Sequential:
    """Random changes a webcam crop can show. Training only; never part of the saved model.

    No vertical flip and only small rotations: like/dislike, stop/stop_inverted, peace/
    peace_inverted and two_up/two_up_inverted differ by orientation alone. A horizontal flip
    only swaps left and right hands, which share every label.
    """
    return keras.Sequential([
        layers.RandomFlip("horizontal", seed=seed),
        # Pixels moved in from outside get the contract's padding grey, as live crops do.
        layers.RandomRotation(0.03, fill_mode="constant", fill_value=PAD_VALUE, seed=seed),  # +-11 degrees
        layers.RandomZoom((-0.15, 0.1), fill_mode="constant", fill_value=PAD_VALUE, seed=seed),
        layers.RandomTranslation(0.08, 0.08, fill_mode="constant", fill_value=PAD_VALUE, seed=seed),
        layers.RandomBrightness(0.15, value_range=(0, 255), seed=seed),
        layers.RandomContrast(0.2, value_range=(0, 255), seed=seed),
    ], name="augmentation")


def _resolve_weights(weights: str | None) -> str | None:
    if weights is None or str(weights).lower() == "none":
        return None
    if str(weights).lower() == "imagenet":
        return "imagenet"
    path = Path(weights)
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path} (use --weights imagenet, none or a .h5 path)")
    return str(path)


def _b0_base(image_size: int, resolved: str | None) -> keras.Model:
    try:
        return keras.applications.EfficientNetB0(
            include_top=False, weights=resolved, input_shape=(image_size, image_size, 3),
            pooling="avg")
    except Exception as exc:  # download errors come as URLError, HTTPError, OSError, ValueError...
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if resolved == "imagenet":
            raise WeightsError(
                f"could not download the ImageNet weights ({reason}). Use --arch efficientnet_lite0 "
                f"(ImageNet weights that install offline), pass --weights none to train from scratch, "
                f"or download {WEIGHTS_URL} and pass --weights PATH") from None
        raise WeightsError(f"could not load weights {resolved}: {reason}") from None


def _lite0_base(image_size: int, resolved: str | None) -> keras.Model:
    if resolved == "imagenet":
        return pretrained.lite0_imagenet(image_size)
    base = pretrained.build_lite0(image_size)
    if resolved is not None:
        try:
            base.load_weights(resolved)
        except Exception as exc:
            raise WeightsError(f"could not load weights {resolved}: {str(exc).splitlines()[0]}") from None
    pretrained.set_input_normalisation(base)
    return base


def build_efficientnet(arch: str, num_classes: int, image_size: int, weights: str | None = "imagenet",
                       dropout: float = 0.2) -> keras.Model:
    """EfficientNet-B0 or -Lite0 base (frozen unless from scratch) + pooled dropout/softmax head."""
    resolved = _resolve_weights(weights)
    base = (_b0_base if arch == "efficientnet_b0" else _lite0_base)(image_size, resolved)
    inputs = keras.Input((image_size, image_size, 3), name=INPUT_NAME)
    if resolved is None:  # from scratch: a frozen random base would learn nothing
        for layer in base.layers:  # faster-moving BatchNorm statistics, for small data sets
            if isinstance(layer, layers.BatchNormalization):
                layer.momentum = BN_MOMENTUM_SCRATCH
        x = base(inputs)
    else:
        base.trainable = False
        x = base(inputs, training=False)  # BatchNorm stays in inference mode, also when fine-tuning
    x = layers.Dropout(dropout, name="head_dropout")(x)
    # float32 under mixed precision
    outputs = layers.Dense(num_classes, activation="softmax", name=OUTPUT_NAME, dtype="float32")(x)
    return keras.Model(inputs, outputs, name=arch)


def build_baseline(num_classes: int, image_size: int) -> keras.Model:
    """The student report's plain CNN: Conv2D(32, 3x3) -> MaxPool -> Flatten -> Dense softmax.

    Inputs are scaled to 0..1 inside the model (the contract feeds 0..255), so the one conv
    layer starts in its working range; it trains whole, from scratch, in one phase.
    """
    inputs = keras.Input((image_size, image_size, 3), name=INPUT_NAME)
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.Conv2D(32, 3, activation="relu", name="conv")(x)
    x = layers.MaxPooling2D(name="pool")(x)
    x = layers.Flatten(name="flatten")(x)
    # float32 under mixed precision
    outputs = layers.Dense(num_classes, activation="softmax", name=OUTPUT_NAME, dtype="float32")(x)
    return keras.Model(inputs, outputs, name="baseline")


def build_model(arch: str, num_classes: int, image_size: int, weights: str | None = "imagenet") -> keras.Model:
    """Build one of :data:`ARCHS`."""
    if arch in BASE_NAMES:
        return build_efficientnet(arch, num_classes, image_size, weights)
    if arch == "baseline":
        return build_baseline(num_classes, image_size)
    raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHS)}")


def base_of(model: keras.Model) -> keras.Model | None:
    """The pre-trained backbone inside a transfer-learning model, if any."""
    for name in BASE_NAMES.values():
        try:
            return model.get_layer(name)
        except ValueError:
            continue
    return None


def unfreeze_top(model: keras.Model, from_block: str = "block6a") -> int:
    """Make a frozen backbone trainable from ``from_block`` on, BatchNorm excluded.

    Returns the number of layers unfrozen; a backbone already trainable (trained from scratch)
    is left whole.
    """
    base = base_of(model)
    if base is None or base.trainable:
        return 0
    base.trainable = True
    names = [l.name for l in base.layers]
    start = next((i for i, n in enumerate(names) if n.startswith(from_block)), len(names))
    count = 0
    for i, layer in enumerate(base.layers):
        layer.trainable = i >= start and not isinstance(layer, layers.BatchNormalization)
        count += layer.trainable
    return count


def compile_model(model: keras.Model, learning_rate: float) -> None:
    """Compile with Adam at ``learning_rate`` and sparse categorical cross-entropy, accuracy as the metric."""
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
