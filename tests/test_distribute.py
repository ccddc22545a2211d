"""Training at scale: TFRecord shards, MirroredStrategy over logical CPUs, two workers on localhost."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, SHARED, draw_sample, python

CROPS = SHARED / "data" / "hagrid_crops"
#: HaGRIDv2: 33 gestures + no_gesture (nothing in training may assume HaGRID v1's 18)
HAGRID_V2 = ("call", "dislike", "fist", "four", "grabbing", "grip", "hand_heart", "hand_heart2", "holy", "like",
             "little_finger", "middle_finger", "mute", "no_gesture", "ok", "one", "palm", "peace",
             "peace_inverted", "point", "rock", "stop", "stop_inverted", "take_picture", "three", "three2",
             "three3", "three_gun", "thumb_index", "thumb_index2", "timeout", "two_up", "two_up_inverted", "xsign")


def real_subset(folder, classes, count, start=0):
    if not CROPS.is_dir():
        pytest.fail(f"HaGRID crops missing under {CROPS}")
    for cls in classes:
        (folder / cls).mkdir(parents=True, exist_ok=True)
        for f in sorted((CROPS / cls).glob("*.jpg"))[start:start + count]:
            (folder / cls / f.name).symlink_to(f)
    return folder


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """60 real crops each of like, palm, fist, sharded at 64 px in shards of 16, and 60 more held out."""
    d = tmp_path_factory.mktemp("dist")
    data = real_subset(d / "data", ("like", "palm", "fist"), 60)
    held = real_subset(d / "held", ("like", "palm", "fist"), 60, start=200)
    result = python("-m", "training.shards", "--data", str(data), "--out", str(d / "shards"),
                    "--image-size", "64", "--shard-size", "16")
    assert result.returncode == 0, result.stderr[-3000:]
    return d, data, held, d / "shards"


def read_back(shards):
    """Every record of every split, through the reader training uses."""
    import tensorflow as tf

    from training.data.shards import parse_fn, read_manifest
    m = read_manifest(shards)
    out = {}
    for split in ("train", "val", "test"):
        ds = tf.data.TFRecordDataset(m.files(split)).map(parse_fn(m.image_size, m.encoding))
        out[split] = [(p.numpy().decode(), int(y), x.numpy()) for x, y, p in ds]
    return m, out


def test_shard_round_trip_is_byte_identical_to_the_folder_pipeline(small):
    from training.data import Split
    from training.data.pipeline import load_for_model
    _, data, _, shards = small
    manifest, records = read_back(shards)
    split = Split.load(shards / "split.json")
    for name, rows in records.items():
        assert sorted((p, y) for p, y, _ in rows) == sorted(split.subsets[name]), name
        assert manifest.count(name) == len(rows)
        for path, _, image in rows:
            assert np.array_equal(image, load_for_model(data / path, 64)), path
    assert manifest.labels == ["fist", "like", "palm"] and len(manifest.files("train")) == 9


def test_png_shards_hold_the_same_pixels_as_raw_ones(small, tmp_path):
    """--encoding png: lossless, so the records read back equal the raw shards' (and take less disk)."""
    _, data, _, shards = small
    png = tmp_path / "png"
    result = python("-m", "training.shards", "--data", str(data), "--out", str(png), "--image-size", "64",
                    "--shard-size", "16", "--encoding", "png", "--split-file", str(shards / "split.json"))
    assert result.returncode == 0, result.stderr[-3000:]
    raw_manifest, raw = read_back(shards)
    png_manifest, packed = read_back(png)
    assert png_manifest.encoding == "png" and raw_manifest.encoding == "raw"
    for split in raw:
        a = sorted(raw[split], key=lambda r: r[0])
        b = sorted(packed[split], key=lambda r: r[0])
        assert [(p, y) for p, y, _ in a] == [(p, y) for p, y, _ in b], split
        assert all(np.array_equal(x, z) for (_, _, x), (_, _, z) in zip(a, b)), split

    def size(folder):
        return sum(f.stat().st_size for f in folder.glob("*.tfrecord*"))

    assert size(png) < size(shards)


def test_shards_resume_skips_finished_shards(small, tmp_path):
    _, data, _, shards = small
    copy = tmp_path / "shards"
    result = python("-m", "training.shards", "--data", str(data), "--out", str(copy), "--image-size", "64",
                    "--shard-size", "16")
    assert result.returncode == 0
    victim = sorted(copy.glob("train-*.tfrecord"))[3]
    victim.unlink()  # as if the run had died while writing it
    (copy / "manifest.json").unlink()
    result = python("-m", "training.shards", "--data", str(data), "--out", str(copy), "--image-size", "64",
                    "--shard-size", "16")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "13 shards (12 already done)" in result.stdout and victim.is_file()
    again, before = read_back(copy)[1]["train"], read_back(shards)[1]["train"]
    assert [(p, y) for p, y, _ in again] == [(p, y) for p, y, _ in before]
    assert all(np.array_equal(a[2], b[2]) for a, b in zip(again, before))
    result = python("-m", "training.shards", "--data", str(data), "--out", str(copy), "--image-size", "96")
    assert result.returncode == 2 and "other settings" in result.stderr


def held_out_accuracy(run, held):
    """Accuracy of RUN/model.keras on the held-out crops (in-process: TensorFlow is loaded already)."""
    from realtime.core.images import read_bgr
    from training.models.inference import Predictor
    predictor = Predictor(run / "model.keras")
    files = sorted(held.rglob("*.jpg"))
    probs = predictor.predict([read_bgr(f) for f in files])
    truth = [predictor.labels.index(f.parent.name) for f in files]
    return float(np.mean(probs.argmax(1) == truth))


@pytest.mark.slow
def test_mirrored_over_two_cpu_devices_reaches_single_device_accuracy(small, tmp_path):
    d, _, held, shards = small
    common = ["--data", str(shards), "--arch", "efficientnet_lite0", "--weights", "imagenet", "--epochs", "3",
              "--fine-tune-epochs", "0", "--batch-size", "16"]
    single, mirrored = tmp_path / "single", tmp_path / "mirrored"
    result = python("-m", "training.train", *common, "--out", str(single))
    assert result.returncode == 0, result.stderr[-3000:]
    result = python("-m", "training.train", *common, "--out", str(mirrored), "--distribute", "mirrored",
                    "--cpu-replicas", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    config = json.loads((mirrored / "config.json").read_text())
    # --batch-scaling global (the default): the same global batch and rate as the single device
    assert config["replicas"] == 2 and config["global_batch_size"] == 16 and config["batch_scaling"] == "global"
    assert config["scaled_learning_rate"] == pytest.approx(config["learning_rate"])
    assert config["head_phase"] == "cached features"
    a_single, a_mirrored = held_out_accuracy(single, held), held_out_accuracy(mirrored, held)
    assert a_single >= 0.6 and a_mirrored >= 0.6, (a_single, a_mirrored)  # chance is 1/3
    assert abs(a_mirrored - a_single) <= 0.1, (a_single, a_mirrored)


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.mark.slow
def test_two_workers_on_localhost_complete_an_epoch(small, tmp_path):
    _, _, _, shards = small
    ports = free_ports(2)
    out = tmp_path / "run"
    procs = []
    for index in range(2):
        tf_config = {"cluster": {"worker": [f"localhost:{p}" for p in ports]}, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(tf_config)}
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "training.train", "--data", str(shards), "--out", str(out), "--arch", "baseline",
             "--image-size", "64", "--epochs", "1", "--fine-tune-epochs", "0", "--batch-size", "8",
             "--distribute", "multiworker", "--batch-scaling", "per-replica"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        results = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p in procs:  # both workers' ends: one's failure aborts the other
        assert p.returncode == 0, "\n".join(f"worker {i}: {e[-2500:]}" for i, (_, e) in enumerate(results))
    config = json.loads((out / "config.json").read_text())
    assert config["workers"] == 2 and config["replicas"] == 2 and config["global_batch_size"] == 16
    assert config["scaled_learning_rate"] == pytest.approx(2 * config["learning_rate"])
    assert (out / "model.keras").is_file() and len((out / "history.csv").read_text().splitlines()) == 2
    assert (out / ".worker-1" / "config.json").is_file()  # the other worker never writes the chief's files


@pytest.mark.slow
def test_hagrid_v2_labels_shard_and_train_the_same_way(tmp_path):
    import cv2
    rng = np.random.default_rng(0)
    for i, name in enumerate(HAGRID_V2):
        (tmp_path / "data" / name).mkdir(parents=True)
        for j in range(4):
            cv2.imwrite(str(tmp_path / "data" / name / f"{j}.jpg"), draw_sample(i % 3, rng))
    result = python("-m", "training.shards", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "shards"),
                    "--image-size", "32", "--split", "0.5", "0.25", "0.25")
    assert result.returncode == 0, result.stderr[-2000:]
    result = python("-m", "training.train", "--data", str(tmp_path / "shards"), "--out", str(tmp_path / "run"),
                    "--arch", "baseline", "--epochs", "1", "--fine-tune-epochs", "0", "--batch-size", "16")
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((tmp_path / "run" / "labels.json").read_text()) == sorted(HAGRID_V2)


@pytest.mark.parametrize("setup, args, env, expected", [
    ("no_manifest", [], {}, "no manifest.json"),
    ("missing_shard", [], {}, "are missing"),
    ("ok", ["--distribute", "multiworker"], {"TF_CONFIG": "{cluster: oops"}, "TF_CONFIG does not parse"),
    ("ok", ["--distribute", "mirrored", "--cpu-replicas", "512"], {}, "more replicas than"),
])
def test_bad_distributed_inputs_are_one_line_errors(small, tmp_path, setup, args, env, expected):
    import shutil
    _, _, _, shards = small
    data = tmp_path / "shards"
    shutil.copytree(shards, data)
    if setup == "no_manifest":
        (data / "manifest.json").unlink()
    elif setup == "missing_shard":
        sorted(data.glob("val-*.tfrecord"))[0].unlink()
    result = python("-m", "training.train", "--data", str(data), "--out", str(tmp_path / "run"), "--arch", "baseline",
                    "--epochs", "1", "--fine-tune-epochs", "0", *args, env=env)
    assert result.returncode == 2, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and expected in last and "Traceback" not in result.stderr, last
    assert not (tmp_path / "run" / "model.keras").exists()


def test_more_distribution_mistakes_raise_one_line_errors(small, tmp_path):
    """The same checks in-process (each CLI start costs a TensorFlow import)."""
    from realtime.core.errors import HandSignError
    from training.engine.config import TrainConfig
    from training.engine.distribute import make_strategy, parse_tf_config
    from training.engine.phases import prepare_shard_run
    with pytest.raises(HandSignError, match="needs TF_CONFIG"):
        parse_tf_config("")
    with pytest.raises(HandSignError, match="task.index 5 is outside"):
        parse_tf_config('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 5}}')
    with pytest.raises(HandSignError, match="--cpu-replicas needs --distribute"):
        make_strategy("none", cpu_replicas=2)
    config = TrainConfig(data=small[3], out=tmp_path / "run", image_size=96)
    with pytest.raises(HandSignError, match="the shards in .* are 64 px"):
        prepare_shard_run(config)
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_a_killed_mirrored_run_started_again_continues(small, tmp_path):
    """SIGKILL after the first epoch (no cleanup at all), then the same command: it continues."""
    import signal
    import time
    _, _, _, shards = small
    out = tmp_path / "run"
    # far more epochs than it gets to run: it is killed after the first, whatever the machine's speed
    command = [sys.executable, "-m", "training.train", "--data", str(shards), "--out", str(out), "--arch", "baseline",
               "--epochs", "400", "--patience", "400", "--fine-tune-epochs", "0", "--batch-size", "8",
               "--distribute", "mirrored", "--cpu-replicas", "2"]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    history = out / "history.csv"
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if history.is_file() and len(history.read_text().splitlines()) >= 2 and (out / "last.keras").is_file():
                break
            time.sleep(0.2)
        assert proc.poll() is None, "the run ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    epochs_before = len(history.read_text().splitlines()) - 1
    assert epochs_before >= 1
    config = json.loads((out / "config.json").read_text())
    config["epochs"] = epochs_before + 2  # two more epochs, then done
    (out / "config.json").write_text(json.dumps(config))
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "continuing after its last finished epoch" in result.stderr
    rows = history.read_text().splitlines()[1:]
    # each epoch once, none repeated or lost
    assert [int(r.split(",")[0]) for r in rows] == list(range(epochs_before + 2)), rows


def test_batch_scaling_and_warm_up():
    import keras

    from training.engine.distribute import WarmUp, scaled
    assert scaled(64, 1e-3, 2, "global") == (64, 1e-3)
    assert scaled(64, 1e-3, 2, "per-replica") == (128, 2e-3)
    with pytest.raises(ValueError):
        scaled(63, 1e-3, 2, "global")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(float(self.model.optimizer.learning_rate.numpy()))

    x = np.zeros((8, 2), np.float32)
    model.fit(x, x[:, :1], batch_size=1, epochs=1, verbose=0, callbacks=[WarmUp(0.1, 0.5, 4), Record()])
    assert seen[:5] == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5]) and seen[-1] == pytest.approx(0.5)
