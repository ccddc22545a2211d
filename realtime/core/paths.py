"""Default file locations, resolved from the installed package or the checkout, never from the
current directory.

The shipped files live in the repository's top-level ``models/`` (and the stream's page in
``examples/web/``). A wheel carries them inside the package as ``realtime/models`` and
``realtime/web`` (``pyproject.toml`` maps the folders); a checkout or an editable install reads them
where they are.
"""

from importlib.resources import files
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def shipped_dir(name: str, checkout: Path) -> Path:
    """The installed package's ``realtime/<name>`` folder if there is one, else ``checkout``."""
    installed = files("realtime") / name
    # A real folder: MediaPipe and onnxruntime open files by path (a zipped install is not supported).
    return Path(str(installed)) if installed.is_dir() else checkout


MODELS_DIR = shipped_dir("models", PROJECT_ROOT / "models")
WEB_DIR = shipped_dir("web", PROJECT_ROOT / "examples" / "web")
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
