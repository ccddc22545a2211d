"""Default file locations, resolved from the project, not from the current directory."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = PROJECT_ROOT / "models"
HAND_MODEL = MODELS_DIR / "hand_landmarker.task"
GESTURE_MODEL = MODELS_DIR / "handsign.onnx"
#: The peer classifier of this workplace (../shared beside the checkout), used by benchmarks only.
PEER_CLASSIFIER = PROJECT_ROOT.parent / "shared" / "peers" / "hagrid_crops_classifier.onnx"
HAND_MODEL_LITE = MODELS_DIR / "hand_landmarker_lite.task"
#: Names `--hand-model` takes besides a path: the two bundles shipped in models/.
HAND_MODELS = {"full": HAND_MODEL, "lite": HAND_MODEL_LITE}
#: The default: the lite landmark model where frames keep coming (VIDEO mode: cameras, clips),
#: the full one for single images (stills, evaluation, teach mode's re-cut, the tile search).
AUTO = "auto"


def hand_model_path(text: str) -> Path | str:
    """argparse type for --hand-model: ``auto``, ``full``, ``lite`` (the shipped bundles) or a path."""
    if text.lower() == AUTO:
        return AUTO
    return HAND_MODELS.get(text.lower(), Path(text))


def resolve_hand_model(model: Path | str, video: bool) -> Path:
    """The bundle ``auto`` means for this running mode; a path or name as given."""
    if model == AUTO:
        return HAND_MODEL_LITE if video else HAND_MODEL
    return HAND_MODELS.get(str(model).lower(), Path(model)) if isinstance(model, str) else model
