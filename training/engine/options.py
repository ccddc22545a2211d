"""The training commands' fixed choices, importable without TensorFlow (so a command checks its
arguments before it pays for loading TensorFlow)."""

from __future__ import annotations

#: --arch: EfficientNet-B0, EfficientNet-Lite0, and the student report's plain CNN
ARCHS = ("efficientnet_b0", "efficientnet_lite0", "baseline")
#: --distribute: one device, all local GPUs (or --cpu-replicas), the machines of TF_CONFIG
STRATEGIES = ("none", "mirrored", "multiworker")
#: --batch-scaling: --batch-size is the global batch, or each replica's
BATCH_MODES = ("global", "per-replica")
#: --class-weights
CLASS_WEIGHTS = ("none", "balanced", "sqrt")
#: --encoding of training.shards
ENCODINGS = ("raw", "png")
