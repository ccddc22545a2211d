"""HandSign training: HaGRID folder-per-class data -> EfficientNet-B0 / baseline CNN -> evaluation."""

import os

# TensorFlow's C++ start-up chatter hides our own messages; users can still raise it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
