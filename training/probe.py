"""A linear probe beside a trained run: how good can a head on these frozen features get?

Embeds the run's training and test images (the run's split, as they are, no augmentation) with the
run model's own backbone, fits scikit-learn's logistic regression on the training features, and
prints its test accuracy beside the run model's test accuracy on the same images.

    python -m training.probe --run runs/lite0_96 --data data/hands10
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import training  # noqa: F401  (quiets TensorFlow's start-up log)
from realtime.core.cli import ArgumentParser, HelpFormatter, positive_int, run_main, setup_logging
from realtime.core.errors import HandSignError
from training.data import Split, find_class_root

log = logging.getLogger("training.probe")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m training.probe", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--run", required=True, type=Path, help="a training.train run folder (model.keras, split.json)")
    p.add_argument("--data", required=True, type=Path, help="the folder-per-class data the run was trained on")
    p.add_argument("--C", type=float, default=1.0, help="inverse L2 strength of the logistic regression")
    p.add_argument("--batch-size", type=positive_int, default=64, help="images per embedding batch")
    p.add_argument("--verbose", action="store_true", help="debug logging")
    return p.parse_args(argv)


def probe(run: Path, data: Path, C: float = 1.0, batch_size: int = 64) -> dict:
    """{'probe_test_accuracy', 'model_test_accuracy', ...} of ``run`` on its test split."""
    from sklearn.linear_model import LogisticRegression

    from training.data.pipeline import make_dataset
    from training.models.builder import base_of
    from training.models.head import embed, head_of  # TensorFlow loads here, after the arguments were checked
    from training.models.inference import load_keras_model
    if not (run / "model.keras").is_file() or not (run / "split.json").is_file():
        raise HandSignError(f"{run} is not a training run folder (needs model.keras and split.json)")
    model = load_keras_model(run / "model.keras")
    if base_of(model) is None:
        raise HandSignError(f"{run}/model.keras has no pre-trained backbone to probe (arch {model.name})")
    split, root = Split.load(run / "split.json"), find_class_root(data)
    size = int(model.input_shape[1])
    feats = {}
    for subset in ("train", "test"):
        files, targets = split.files(subset)
        if not files:
            raise HandSignError(f"the run's split has no {subset} images")
        ds = make_dataset([root / f for f in files], targets, size, batch_size, cache=None)
        feats[subset] = embed(base_of(model), ds, f"features: {subset}")
    (x_train, y_train), (x_test, y_test) = feats["train"], feats["test"]
    clf = LogisticRegression(C=C, max_iter=5000).fit(x_train, y_train)
    head_pred = head_of(model).predict(x_test, verbose=0).argmax(1)
    return {"run": str(run), "train_images": int(len(y_train)), "test_images": int(len(y_test)),
            "feature_dims": int(x_train.shape[1]), "C": C,
            "probe_test_accuracy": round(float(np.mean(clf.predict(x_test) == y_test)), 4),
            "model_test_accuracy": round(float(np.mean(head_pred == y_test)), 4)}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    result = probe(args.run, args.data, args.C, args.batch_size)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
