"""HandSign export: a trained Keras model -> ONNX with its contract in the metadata, proven equal."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
