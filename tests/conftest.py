"""Shared fixtures: a small generated folder-per-class data set, trained runs, exported models,
and the real photos and clips in ../shared/fixtures."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("HANDSIGN_SHARED", ROOT.parent / "shared"))  # beside the checkout
FIXTURES = SHARED / "fixtures"
PHOTOS = sorted((FIXTURES / "photos").glob("hand_*.jpg"))
CLIPS = sorted((FIXTURES / "clips").glob("*.mp4"))
CLIP_BY_NAME = {p.name: p for p in CLIPS}
PEER = SHARED / "peers" / "hagrid_crops_classifier.onnx"
CLASSES = ("blue-disc", "green_square", "red_triangle")  # a hyphenated folder, like some Kaggle sets


def python(*args: str, env: dict | None = None, timeout: float = 600, cwd: Path = ROOT,
           unset: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """Run ``python -m ...`` of this project, as a user would, capturing output."""
    full_env = {k: v for k, v in {**os.environ, **(env or {})}.items() if k not in unset}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd,
                          env=full_env, timeout=timeout, stdin=subprocess.DEVNULL)


class LineReader:
    """Reads a process's text stream on a thread, so a test waits for lines with a deadline instead
    of blocking in ``readline()`` on a process that went quiet."""

    def __init__(self, stream) -> None:
        import queue
        import threading
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put(None)

    def _take(self, timeout: float) -> bool:
        import queue
        try:
            line = self._queue.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return False
        if line is None:
            self._queue.put(None)  # the end stays the end
            return False
        self.lines.append(line)
        return True

    def wait_for(self, count: int, timeout: float, match=lambda line: True) -> list[str]:
        """Lines so far, once ``count`` of them satisfy ``match`` or ``timeout`` s have passed."""
        import time
        deadline = time.monotonic() + timeout
        while sum(1 for l in self.lines if match(l)) < count and self._take(deadline - time.monotonic()):
            pass
        return list(self.lines)

    def rest(self, timeout: float) -> list[str]:
        """Every line until the stream ends (or ``timeout`` s)."""
        import time
        deadline = time.monotonic() + timeout
        while self._take(deadline - time.monotonic()):
            pass
        return list(self.lines)


def wait_until(predicate, timeout: float, interval: float = 0.05, what: str = "the condition"):
    """Poll ``predicate`` until it returns something true; fail the test after ``timeout`` s."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value is not None if isinstance(value, np.ndarray) else value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def draw_sample(cls: int, rng: np.random.Generator) -> np.ndarray:
    """A non-square image whose class shows in both shape and colour."""
    h, w = int(rng.integers(56, 80)), int(rng.integers(56, 80))
    img = np.full((h, w, 3), rng.integers(90, 170), np.uint8)
    img = cv2.add(img, rng.integers(0, 25, img.shape, dtype=np.uint8))
    color = [(220, 60, 40), (40, 200, 60), (40, 50, 220)][cls]
    cx, cy, r = w // 2 + int(rng.integers(-5, 6)), h // 2 + int(rng.integers(-5, 6)), min(h, w) // 3
    if cls == 0:
        cv2.circle(img, (cx, cy), r, color, -1)
    elif cls == 1:
        cv2.rectangle(img, (cx - r, cy - r), (cx + r, cy + r), color, -1)
    else:
        cv2.fillPoly(img, [np.array([[cx, cy - r], [cx - r, cy + r], [cx + r, cy + r]])], color)
    return img


def make_dataset(root: Path, per_class: int = 24, seed: int = 0, kaggle_layout: bool = True) -> Path:
    """Folder-per-class JPEGs (Kaggle layout: one folder holding the classes), with a corrupt
    JPEG, an empty file and a non-image file mixed in. Returns the root to pass as --data."""
    rng = np.random.default_rng(seed)
    class_root = root / "hagrid-like-512p" if kaggle_layout else root
    for i, name in enumerate(CLASSES):
        folder = class_root / name
        folder.mkdir(parents=True)
        for j in range(per_class):
            cv2.imwrite(str(folder / f"{j:03d}.jpg"), draw_sample(i, rng))
    (class_root / CLASSES[0] / "corrupt.jpg").write_bytes(b"this is not a jpeg")
    (class_root / CLASSES[1] / "empty.jpg").write_bytes(b"")
    (class_root / CLASSES[2] / "notes.txt").write_text("not an image")
    return root


@pytest.fixture(scope="session")
def dataset(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("data"))


def train_run(data: Path, out: Path, arch: str, *extra: str) -> subprocess.CompletedProcess:
    return python("-m", "training.train", "--data", str(data), "--out", str(out), "--arch", arch,
                  "--image-size", "48", "--batch-size", "8", "--weights", "none", *extra)


@pytest.fixture(scope="session")
def effnet_run(dataset, tmp_path_factory) -> Path:
    """An EfficientNet-B0 run trained one short epoch per phase (weights=None)."""
    out = tmp_path_factory.mktemp("runs") / "effb0"
    result = train_run(dataset, out, "efficientnet_b0", "--epochs", "1", "--fine-tune-epochs", "1")
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.fixture(scope="session")
def exported(effnet_run, dataset, tmp_path_factory) -> Path:
    """The EfficientNet run exported to ONNX with the parity check on real (generated) images."""
    out = tmp_path_factory.mktemp("export") / "handsign.onnx"
    result = python("-m", "export", "--model", str(effnet_run / "model.keras"), "--out", str(out),
                    "--check-data", str(dataset), "--check-images", "16")
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.fixture(scope="session")
def hagrid_shaped_model(tmp_path_factory) -> Path:
    """A tiny untrained ONNX model with HaGRID's 18 labels at 160 px and the shipped model's interface:
    NHWC float input ``image``, a convolution, a global average pool and a dense softmax head (the shape
    teach mode and the activation maps look for), the contract in its metadata.

    Built with onnx.helper in milliseconds, for the live loop's plumbing only: its labels are meaningless
    and it is never shipped. The real export path is tested with a trained run (test_export.py)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from realtime.core.contract import HAGRID_LABELS, INPUT_NAME, OUTPUT_NAME, ModelContract

    rng = np.random.default_rng(0)
    size, channels, classes = 160, 1280, len(HAGRID_LABELS)  # 1280 features, like EfficientNet-B0
    init = [numpy_helper.from_array((rng.normal(0, 0.05, (channels, 3, 3, 3))).astype(np.float32), "conv_w"),
            numpy_helper.from_array(np.zeros(channels, np.float32), "conv_b"),
            numpy_helper.from_array(rng.normal(0, 0.1, (channels, classes)).astype(np.float32), "dense_w"),
            numpy_helper.from_array(np.zeros(classes, np.float32), "dense_b"),
            numpy_helper.from_array(np.array([2, 3], np.int64), "squeeze_axes")]
    nodes = [helper.make_node("Transpose", [INPUT_NAME], ["nchw"], perm=[0, 3, 1, 2]),
             helper.make_node("Conv", ["nchw", "conv_w", "conv_b"], ["conv"], strides=[4, 4], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["conv"], ["relu"]),
             helper.make_node("GlobalAveragePool", ["relu"], ["pooled"]),
             helper.make_node("Squeeze", ["pooled", "squeeze_axes"], ["pooled_flat"]),
             helper.make_node("MatMul", ["pooled_flat", "dense_w"], ["dense"]),
             helper.make_node("Add", ["dense", "dense_b"], ["logits"]),
             helper.make_node("Softmax", ["logits"], [OUTPUT_NAME], axis=-1)]
    graph = helper.make_graph(nodes, "hagrid_shaped", [helper.make_tensor_value_info(
        INPUT_NAME, TensorProto.FLOAT, ["batch", size, size, 3])], [helper.make_tensor_value_info(
        OUTPUT_NAME, TensorProto.FLOAT, ["batch", classes])], init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, ModelContract(labels=HAGRID_LABELS, image_size=size).to_metadata())
    onnx.checker.check_model(model)
    out = tmp_path_factory.mktemp("hagrid_shaped") / "untrained.onnx"
    onnx.save(model, str(out))
    return out


def constant_model(base: Path, label: str, out: Path) -> Path:
    """``base`` (``hagrid_shaped_model``) made to name ``label`` for every crop, with probability ~1: a stub
    classifier for tests of what follows the classifier (events, bindings), whatever the shipped model
    would read in a clip."""
    import onnx
    from onnx import numpy_helper

    from realtime.core.contract import HAGRID_LABELS

    proto = onnx.load(str(base))
    for init in proto.graph.initializer:
        if init.name in ("dense_w", "dense_b"):
            value = np.zeros(numpy_helper.to_array(init).shape, np.float32)
            if init.name == "dense_b":
                value[HAGRID_LABELS.index(label)] = 20.0
            init.CopyFrom(numpy_helper.from_array(value, init.name))
    onnx.save(proto, str(out))
    return out


def require_fixtures() -> None:
    """Fail with one clear message when the shared fixtures (photos, clips, the dev set, data, peers) are missing."""
    needed = [FIXTURES / "dev" / "labels.json", FIXTURES / "nongesture", SHARED / "data", SHARED / "peers"]
    if not PHOTOS or not CLIPS or not all(p.exists() for p in needed):
        pytest.fail(f"real fixtures missing under {SHARED} (the shared/ folder beside the repo: photos, clips, "
                    "nongesture, dev, data, peers)")


@contextlib.contextmanager
def xvfb(size: str = "1024x768x24"):
    """A fresh Xvfb server; yields its display name (``:N``)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the window test drives an X server (Xvfb); it runs on Linux")
    for tool in ("Xvfb", "xdotool", "import", "xdpyinfo"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: install xvfb, xdotool, imagemagick and x11-utils (see .ci/run)")
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", size, "-nolisten", "tcp"],
                              pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    os.close(write)
    number = b""
    while not number.endswith(b"\n"):  # Xvfb writes the number and the newline separately:
        chunk = os.read(read, 16)      # closing the pipe before both arrive kills it (EPIPE)
        if not chunk:
            break
        number += chunk
    os.close(read)
    name = f":{number.decode().strip()}"
    for _ in range(50):  # Xvfb announces its number before every client can connect
        if subprocess.run(["xdpyinfo", "-display", name], capture_output=True).returncode == 0:
            break
        if server.poll() is not None:
            pytest.fail(f"Xvfb exited with code {server.returncode}: {server.stderr.read()[-1500:]}")
        time.sleep(0.1)
    else:
        pytest.fail(f"Xvfb display {name} never accepted a connection")
    try:
        yield name
    finally:
        server.terminate()
        server.wait(timeout=10)


@contextlib.contextmanager
def xev_window(display: str, log_path, events: str = "button", geometry: str = "1000x700+0+0", focus: bool = False):
    """An xev window (at the origin) logging ``events`` (button, keyboard ...) to ``log_path``, given the
    keyboard focus with ``focus``; yields the env for programs on that display."""
    if shutil.which("xev") is None:
        pytest.fail("xev is missing: install x11-utils (see .ci/run)")
    env = {**os.environ, "DISPLAY": display}
    with open(log_path, "w") as log:
        xev = subprocess.Popen(["xev", "-geometry", geometry, "-event", events], env=env, stdout=log,
                               stderr=subprocess.STDOUT)
        try:
            found = subprocess.run(["timeout", "20", "xdotool", "search", "--sync", "--name", "Event Tester"],
                                   env=env, capture_output=True, text=True)
            assert found.returncode == 0, "xev's window never appeared"
            if focus:
                subprocess.run(["xdotool", "windowfocus", "--sync", found.stdout.split()[0]], env=env, check=True)
            yield env
        finally:
            xev.terminate()
            xev.wait(timeout=10)


@pytest.fixture(scope="session")
def display():
    with xvfb() as name:
        yield name
