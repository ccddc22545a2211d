"""Default file locations, resolved from the project, not from the current directory."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = PROJECT_ROOT / "models"
HAND_MODEL = MODELS_DIR / "hand_landmarker.task"
GESTURE_MODEL = MODELS_DIR / "handsign.onnx"
#: The peer classifier of this workplace (../shared beside the checkout), used by benchmarks only.
PEER_CLASSIFIER = PROJECT_ROOT.parent / "shared" / "peers" / "hagrid_crops_classifier.onnx"
