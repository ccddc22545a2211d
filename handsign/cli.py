"""``handsign SUBCOMMAND ...``: one entry point for the packages' commands.

Each subcommand is the module of the same job (``handsign run`` is ``python -m realtime.run``), with
the same options; ``handsign SUBCOMMAND --help`` shows them.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import realtime.core.cli
from realtime.core.cli import EXIT_USER_ERROR, TRAIN_EXTRA, run_main

#: subcommand -> (module with main(argv), one line of help, needs the `train` extra)
COMMANDS: dict[str, tuple[str, str, bool]] = {
    "run": ("realtime.run", "live recognition from a camera, clip, photo or folder (window or headless JSON)", False),
    "bench": ("realtime.bench", "time the live loop per stage (and MediaPipe's Gesture Recognizer with --peer-task)",
              False),
    "evaluate": ("realtime.evaluate", "score the live path on labelled photos (class folders)", False),
    "evaluate-events": ("realtime.evaluate_events", "count events on clips (false triggers per minute) and score "
                                                    "them against labels", False),
    "scorecard": ("realtime.scorecard", "the events scorecard over every fixture folder: wanted events that "
                                        "come, wrong ones, false ones a minute, by person", False),
    "evaluate-pointer": ("realtime.evaluate_pointer", "pointer mode on clips: jitter of a still hand and the "
                                                      "smoothing filter's lag", False),
    "autostart": ("realtime.autostart", "start HandSign at login: enable, disable or status of the login entry",
                  False),
    "pointer-test": ("realtime.pointer_test", "ISO 9241-9 pointing test for the hand or a mouse: throughput, errors, "
                                              "movement time", False),
    "teach": ("realtime.teach", "teach new gestures from recorded crops into a new model", False),
    "reference": ("realtime.reference", "build the teach-mode reference file beside a model", False),
    "landmark-head": ("training.landmark_head", "fit the landmark head on crops and fuse it into a HandSign "
                                                "ONNX model (no TensorFlow)", False),
    "predict": ("training.predict", "classify crops or photos with a Keras or ONNX model", True),
    "train": ("training.train", "train a gesture model on class folders or shards", True),
    "shards": ("training.shards", "write resumable TFRecord shards for large or distributed training", True),
    "probe": ("training.probe", "a logistic-regression probe on a run's frozen features, beside the run's accuracy",
              True),
    "evaluate-crops": ("training.evaluate", "per-class metrics of a model on a split of hand crops", True),
    "explore": ("training.explore", "look at a dataset: counts, sizes, sample grids", True),
    "pseudolabel": ("training.pseudolabel", "label an unlabelled pool with a model, above a confidence gate", True),
    "train-bench": ("training.bench", "time the training input pipeline (folders or shards) and steps", True),
    "export": ("export", "Keras model -> ONNX with its contract and a parity proof", True),
    "export-bench": ("export.bench", "time an ONNX gesture model in onnxruntime (threads, batch sizes)", False),
    "export-features": ("export.features", "upgrade an older .onnx: expose its features and feature map", False),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    rows = "\n".join(f"  {name:<{width}}  {text}" for name, (_, text, _) in COMMANDS.items())
    return ("usage: handsign SUBCOMMAND [options]   (handsign SUBCOMMAND --help for its options)\n\n"
            f"subcommands:\n{rows}\n\nEach is also `python -m MODULE` (handsign run = python -m realtime.run).")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"error: unknown subcommand {name!r}; choose from {', '.join(COMMANDS)} (see handsign --help)",
              file=sys.stderr)
        return EXIT_USER_ERROR
    module_name, _, needs_train = COMMANDS[name]
    try:
        module = importlib.import_module(module_name if module_name != "export" else "export.__main__")
    except ModuleNotFoundError as exc:
        if needs_train and (exc.name or "").split(".")[0] in TRAIN_EXTRA:
            print(f"error: `handsign {name}` needs the training dependencies ({exc.name} is not installed): "
                  "pip install 'handsign[train]'", file=sys.stderr)
            return EXIT_USER_ERROR
        raise
    realtime.core.cli.COMMAND_NAME = f"handsign {name}"  # so its --help and errors name this command
    return run_main(module.main, rest)
