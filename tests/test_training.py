"""Training end to end on a small generated data set (with corrupt and non-image files in it)."""

import csv
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from realtime.core.contract import prepare_image
from realtime.core.images import read_bgr

from conftest import CLASSES, PHOTOS, python, train_run

LABELS = sorted(c.replace("-", "_") for c in CLASSES)
RUN_FILES = ("model.keras", "labels.json", "history.csv", "split.json", "config.json")


def check_run(run, epochs):
    for name in RUN_FILES:
        assert (run / name).is_file(), name
    assert json.loads((run / "labels.json").read_text()) == LABELS
    split = json.loads((run / "split.json").read_text())
    assert (len(split["train"]), len(split["val"]), len(split["test"])) == (60, 6, 6)  # 24 per class: 2 val, 2 test each
    config = json.loads((run / "config.json").read_text())
    assert config["skipped_files"] == {"not an image": 1, "corrupt or empty": 2}
    with open(run / "history.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == epochs and {"accuracy", "val_accuracy", "loss", "val_loss"} <= set(rows[0])


def test_efficientnet_run_outputs(effnet_run):
    check_run(effnet_run, epochs=2)  # one head epoch + one fine-tune epoch
    config = json.loads((effnet_run / "config.json").read_text())
    assert config["arch"] == "efficientnet_b0" and config["image_size"] == 48


@pytest.mark.slow
def test_baseline_trains_evaluates_and_beats_chance(dataset, tmp_path):
    run = tmp_path / "baseline"
    result = train_run(dataset, run, "baseline", "--epochs", "5", "--fine-tune-epochs", "3", "--patience", "8")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "devices: CPU only" in result.stderr  # a run says what it trains on (no GPU in CI)
    check_run(run, epochs=8)
    out = tmp_path / "eval"
    result = python("-m", "training.evaluate", "--model", str(run / "model.keras"), "--data", str(dataset),
                    "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["count"] == 6 and set(metrics["per_class"]) == set(LABELS)
    assert {"precision", "recall", "f1", "support"} == set(metrics["per_class"][LABELS[0]])
    assert metrics["accuracy"] > 0.6, metrics  # chance is 1/3 on colour+shape classes
    assert "macro avg" in (out / "classification_report.txt").read_text()
    for png in ("confusion_matrix.png", "curves.png", "errors.png"):
        image = cv2.imread(str(out / png))
        assert image is not None and image.shape[0] > 100, png


def test_evaluate_accepts_the_exported_onnx(exported, effnet_run, dataset, tmp_path):
    result = python("-m", "training.evaluate", "--model", str(exported), "--data", str(dataset),
                    "--split-file", str(effnet_run / "split.json"), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    onnx_metrics = json.loads((tmp_path / "metrics.json").read_text())
    result = python("-m", "training.evaluate", "--model", str(effnet_run / "model.keras"),
                    "--data", str(dataset), "--out", str(tmp_path / "keras"))
    keras_metrics = json.loads((tmp_path / "keras" / "metrics.json").read_text())
    assert onnx_metrics["count"] == keras_metrics["count"] == 6
    assert onnx_metrics["accuracy"] == pytest.approx(keras_metrics["accuracy"])


def optimizer_steps(*checkpoints: Path) -> list[int]:
    """How many optimizer steps each saved model has taken (kept in the .keras file with the weights);
    one process loads them all."""
    code = ("import sys, keras\nfor p in sys.argv[1:]: print(int(keras.models.load_model(p).optimizer.iterations.numpy()))")
    result = python("-c", code, *map(str, checkpoints))
    assert result.returncode == 0, result.stderr[-2000:]
    return [int(v) for v in result.stdout.split()[-len(checkpoints):]]


@pytest.mark.slow
def test_resume_continues_from_the_last_epoch(dataset, tmp_path):
    run = tmp_path / "resume"
    assert train_run(dataset, run, "baseline", "--epochs", "1", "--fine-tune-epochs", "0").returncode == 0
    shutil.copy(run / "last.keras", tmp_path / "after_epoch_0.keras")
    config = json.loads((run / "config.json").read_text())
    config["epochs"] = 2  # as if the first run had been interrupted after epoch 1 of 2
    (run / "config.json").write_text(json.dumps(config))
    result = train_run(dataset, run, "baseline", "--resume")
    assert result.returncode == 0, result.stderr[-3000:]
    with open(run / "history.csv") as fh:
        assert [r["epoch"] for r in csv.DictReader(fh)] == ["0", "1"]
    # the weights and the optimizer went on from epoch 1's: a re-initialised model would count only
    # the second epoch's steps
    first, resumed = optimizer_steps(tmp_path / "after_epoch_0.keras", run / "last.keras")
    assert first > 0 and resumed == 2 * first, (first, resumed)


def test_training_errors_are_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    result = train_run(tmp_path / "empty", tmp_path / "out", "baseline")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "Traceback" not in result.stderr
    result = train_run(tmp_path, tmp_path / "out2", "baseline", "--resume")
    assert result.returncode == 2 and "nothing to resume" in result.stderr


def test_pipeline_prepares_images_exactly_like_the_live_classifier(dataset):
    from training.data.pipeline import make_dataset
    paths = [PHOTOS[0], PHOTOS[2]]
    ds = make_dataset(paths, [0, 1], 64, batch_size=2, cache=None)
    images, targets = next(iter(ds))
    for got, path in zip(images.numpy(), paths):
        assert np.array_equal(got, prepare_image(read_bgr(path), 64).astype(np.float32))
    assert targets.numpy().tolist() == [0, 1]


def test_explore_writes_counts_and_sample_grids(dataset, tmp_path):
    result = python("-m", "training.explore", "--data", str(dataset), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "total" in result.stdout and "24" in result.stdout
    for label in LABELS:
        assert cv2.imread(str(tmp_path / f"samples_{label}.png")) is not None
    assert cv2.imread(str(tmp_path / "class_counts.png")) is not None


def test_predict_top3_and_unreadable_file(effnet_run, dataset, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"nope")
    image = next((dataset / "hagrid-like-512p" / "red_triangle").glob("0*.jpg"))
    result = python("-m", "training.predict", "--model", str(effnet_run / "model.keras"), str(bad), str(image))
    assert result.returncode == 1  # one file failed; the other still ran
    assert "error: cannot read" in result.stderr and "Traceback" not in result.stderr
    line = [l for l in result.stdout.splitlines() if l.startswith(str(image))][0]
    probs = [float(t.split()[-1]) for t in line.split(": ", 1)[1].split(", ")]
    assert len(probs) == 3 and probs == sorted(probs, reverse=True) and sum(probs) <= 1.002  # printed to 3 places


def test_missing_imagenet_weights_error_names_the_way_out(dataset, tmp_path):
    result = python("-m", "training.train", "--data", str(dataset), "--out", str(tmp_path / "r"),
                    "--weights", str(tmp_path / "missing.h5"))
    assert result.returncode == 2 and "weights file not found" in result.stderr


def test_imagenet_download_failure_is_actionable(dataset, tmp_path):
    # A proxy on a closed local port makes the download fail the same way with or without internet.
    env = {"KERAS_HOME": str(tmp_path / "keras"), "HTTPS_PROXY": "http://127.0.0.1:9",
           "HTTP_PROXY": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9"}
    result = python("-m", "training.train", "--data", str(dataset), "--out", str(tmp_path / "r"),
                    "--weights", "imagenet", env=env, timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: could not download the ImageNet weights") and "--weights none" in last
    assert "--arch efficientnet_lite0" in last


def test_evaluate_split_all_scores_any_labelled_folder(exported, dataset, tmp_path):
    """No manifest: every image of the folder; a subset of the model's classes is fine."""
    result = python("-m", "training.evaluate", "--model", str(exported), "--data", str(dataset),
                    "--split", "all", "--out", str(tmp_path / "all"))
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "all" / "metrics.json").read_text())
    assert metrics["count"] == 72 and metrics["split"] == "all"  # 24 per class; 3 bad files skipped
    subset = tmp_path / "subset"
    for name in CLASSES[:2]:
        shutil.copytree(dataset / "hagrid-like-512p" / name, subset / name)
    result = python("-m", "training.evaluate", "--model", str(exported), "--data", str(subset),
                    "--split", "all", "--out", str(tmp_path / "sub"))
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "sub" / "metrics.json").read_text())
    assert metrics["count"] == 48
    assert [metrics["per_class"][l]["support"] for l in LABELS] == [24, 24, 0]
    (subset / "zebra").mkdir()
    shutil.copy(next((subset / CLASSES[0]).glob("0*.jpg")), subset / "zebra" / "z.jpg")
    result = python("-m", "training.evaluate", "--model", str(exported), "--data", str(subset),
                    "--split", "all", "--out", str(tmp_path / "bad"))
    assert result.returncode == 2 and "error: class folder(s) zebra" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_lite0_imagenet_head_only_trains_and_exports(dataset, tmp_path):
    """The offline ImageNet backbone end to end: frozen Lite0, head only, then ONNX export."""
    run = tmp_path / "lite0"
    result = python("-m", "training.train", "--data", str(dataset), "--out", str(run), "--arch",
                    "efficientnet_lite0", "--image-size", "64", "--batch-size", "8", "--epochs", "2",
                    "--fine-tune-epochs", "0")
    assert result.returncode == 0, result.stderr[-3000:]
    config = json.loads((run / "config.json").read_text())
    assert config["arch"] == "efficientnet_lite0"
    assert config["head_phase"] == "cached features" and config["feature_views"] == 3
    with open(run / "history.csv") as fh:
        assert [r["epoch"] for r in csv.DictReader(fh)] == ["0", "1"]
    # the head trained on cached features is the saved model's head: the probe's reading of the model
    # on the test features equals training.evaluate's on the test images
    result = python("-m", "training.probe", "--run", str(run), "--data", str(dataset))
    assert result.returncode == 0, result.stderr[-3000:]
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["test_images"] == 6 and probe["feature_dims"] == 1280
    # ImageNet features separate three colour-and-shape classes: at least 5 of the 6 test images (chance: 2)
    assert probe["probe_test_accuracy"] >= 5 / 6, probe
    result = python("-m", "training.evaluate", "--model", str(run / "model.keras"), "--data", str(dataset),
                    "--out", str(tmp_path / "eval"))
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert probe["model_test_accuracy"] == pytest.approx(metrics["accuracy"], abs=1e-4)
    out = tmp_path / "lite0.onnx"
    result = python("-m", "export", "--model", str(run / "model.keras"), "--out", str(out),
                    "--check-data", str(dataset), "--check-images", "8")
    assert result.returncode == 0, result.stderr[-3000:]
    from realtime.classifier.model import GestureClassifier
    clf = GestureClassifier(out)
    assert clf.contract.crop_framing == "hand" and clf.contract.extra["arch"] == "efficientnet_lite0"


def same_weights(reference: Path, *others: Path) -> list[bool]:
    """Whether each of ``others`` holds exactly ``reference``'s weights; one process loads them all."""
    code = ("import sys, numpy as np, keras\n"
            "ref = keras.models.load_model(sys.argv[1]).get_weights()\n"
            "for p in sys.argv[2:]:\n"
            "    w = keras.models.load_model(p).get_weights()\n"
            "    print(len(w) == len(ref) and all(np.array_equal(u, v) for u, v in zip(w, ref)))")
    result = python("-c", code, str(reference), *map(str, others))
    assert result.returncode == 0, result.stderr[-2000:]
    return [v == "True" for v in result.stdout.split()[-len(others):]]


@pytest.mark.slow
def test_a_pseudo_label_round_with_init_from_class_weights_and_a_file_cache(dataset, tmp_path):
    """training.pseudolabel on an unlabelled pool, then a second run that starts from the first
    (--init-from), adds the pseudo-labels to its training subset (--extra-train), weighs classes
    (--class-weights sqrt) and caches resized images in files (--cache PREFIX)."""
    from conftest import draw_sample
    first = tmp_path / "r0"
    result = train_run(dataset, first, "baseline", "--epochs", "3", "--fine-tune-epochs", "0")
    assert result.returncode == 0, result.stderr[-2000:]
    pool = tmp_path / "pool" / "batch1"
    pool.mkdir(parents=True)
    rng = np.random.default_rng(5)
    for i in range(12):
        cv2.imwrite(str(pool / f"{i:02d}.jpg"), draw_sample(i % 3, rng))
    pseudo = tmp_path / "pseudo.json"
    result = python("-m", "training.pseudolabel", "--model", str(first / "model.keras"), "--data", str(dataset),
                    "--pool", str(tmp_path / "pool"), "--out", str(pseudo), "--threshold", "0.4",
                    "--min-precision", "0")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = json.loads(pseudo.read_text())["files"]
    assert rows and all(Path(f).parent == pool and label in LABELS for f, label in rows), rows

    # --init-from with no epochs to train: the model written is the one it started from
    same = tmp_path / "r1"
    result = train_run(dataset, same, "baseline", "--epochs", "0", "--fine-tune-epochs", "0",
                       "--init-from", str(first / "model.keras"))
    assert result.returncode == 0, result.stderr[-2000:]

    second = tmp_path / "r2"
    cache = tmp_path / "cache" / "c"
    cache.parent.mkdir()
    result = train_run(dataset, second, "baseline", "--epochs", "1", "--fine-tune-epochs", "0",
                       "--init-from", str(first / "model.keras"), "--extra-train", str(pseudo),
                       "--class-weights", "sqrt", "--cache", str(cache))
    assert result.returncode == 0, result.stderr[-2000:]
    config = json.loads((second / "config.json").read_text())
    assert config["init_from"] == str(first / "model.keras") and config["class_weights"] == "sqrt"
    assert config["extra_train_count"] == len(rows)
    assert f"added {len(rows)} pseudo-labelled images" in result.stderr
    assert list(cache.parent.glob("c-train*")) and list(cache.parent.glob("c-val*"))  # the file cache was written
    # --init-from with no epochs wrote the model it started from; with an epoch, it trained on from there
    assert same_weights(first / "model.keras", same / "model.keras", second / "model.keras") == [True, False]


def test_sqrt_class_weights_soften_balanced_ones():
    from training.engine.phases import class_weights
    targets = [0] * 40 + [1] * 10 + [2] * 10
    balanced, sqrt = class_weights(targets, 3, "balanced"), class_weights(targets, 3, "sqrt")
    assert balanced == pytest.approx({0: 0.5, 1: 2.0, 2: 2.0})
    assert sqrt == pytest.approx({k: v ** 0.5 for k, v in balanced.items()})
    assert class_weights(targets, 3, "none") is None
