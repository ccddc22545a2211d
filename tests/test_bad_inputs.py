"""The catalogue of bad and odd inputs, over every command.

Bad: one ``error: ...`` line on stderr, exit code 2, no traceback, nothing half-written.
Odd but valid (greyscale, RGBA, 16-bit, 1x1, 6000x4000, EXIF-rotated images): they just work.
"""

import json
import shutil

import cv2
import numpy as np
import pytest

from conftest import CLIPS, PEER, PHOTOS, python, require_fixtures


@pytest.fixture(scope="module")
def files(tmp_path_factory, hagrid_shaped_model):
    require_fixtures()
    d = tmp_path_factory.mktemp("bad")
    (d / "empty.jpg").write_bytes(b"")
    (d / "text.jpg").write_text("not an image")
    (d / "truncated.jpg").write_bytes(PHOTOS[0].read_bytes()[:300])
    (d / "truncated.mp4").write_bytes(CLIPS[0].read_bytes()[:2000])
    (d / "noframes.mp4").write_bytes(CLIPS[0].read_bytes()[:48])  # the header alone
    (d / "broken.gif").write_bytes(b"GIF89a" + bytes(40))  # a GIF header and nothing readable
    (d / "truncated.onnx").write_bytes(hagrid_shaped_model.read_bytes()[:5000])
    (d / "afile").write_text("a file where a folder is expected")
    (d / "no_images").mkdir()
    (d / "no_images" / "readme.txt").write_text("nothing here")
    unreadable = d / "unreadable_class"
    for name in ("palm", "fist"):
        (unreadable / name).mkdir(parents=True)
    shutil.copy(PHOTOS[0], unreadable / "palm" / "a.jpg")
    (unreadable / "fist" / "a.jpg").write_bytes(b"\xff\xd8\xff garbage")  # looks like a JPEG, is not
    (unreadable / "fist" / "b.jpg").write_bytes(b"")
    photos = d / "photos"
    (photos / "palm").mkdir(parents=True)
    shutil.copy(PHOTOS[0], photos / "palm" / "a.jpg")
    return d


def substitute(args, files, model):
    out = []
    for a in args:
        a = a.replace("MODEL", str(model)).replace("PEER", str(PEER)).replace("PHOTO", str(PHOTOS[0]))
        a = a.replace("CLIP", str(CLIPS[0])).replace("BAD/", str(files) + "/")
        out.append(a)
    return out


R, E, T = "realtime.run", "realtime.evaluate", "training.train"
CASES = [
    # realtime.run
    (R, ["--headless", "--source", "PHOTO", "--crop-margin", "-1"], "crop-margin"),
    (R, ["--headless", "--source", "PHOTO", "--max-frames", "-5"], "max-frames"),
    (R, ["--headless", "--source", "PHOTO", "--threshold", "nan"], "threshold"),
    (R, ["--headless", "--source", "PHOTO", "--max-hands", "0"], "max-hands"),
    (R, ["--headless", "--source", "PHOTO", "--width", "0"], "width"),
    (R, ["--headless", "--source", "CLIP", "--still-frames", "-1"], "still-frames"),
    (R, ["--headless", "--source", "CLIP", "--second-hand-ms", "-100"], "second-hand-ms"),
    (R, ["--headless", "--source", "BAD/empty.jpg"], "BAD/empty.jpg"),
    (R, ["--headless", "--source", "BAD/text.jpg"], "BAD/text.jpg"),
    (R, ["--headless", "--source", "BAD/truncated.mp4"], "truncated.mp4"),
    (R, ["--headless", "--source", "BAD/noframes.mp4"], "noframes.mp4"),
    (R, ["--headless", "--source", "BAD/broken.gif"], "broken.gif"),
    ("realtime.scorecard", ["--fixtures", "BAD/no_images"], "no_images"),
    (R, ["--headless", "--source", "BAD/no_images"], "no_images"),
    (R, ["--headless", "--source", "PHOTO", "--model", "BAD/truncated.onnx"], "truncated.onnx"),
    (R, ["--headless", "--source", "PHOTO", "--model", "PEER"], "no HandSign metadata"),
    (R, ["--headless", "--source", "PHOTO", "--record", "/proc/handsign/x.mp4"], "not writable"),
    (R, ["--headless", "--source", "PHOTO", "--snapshot-dir", "BAD/afile"], "not writable"),
    (R, ["--background", "--headless", "--source", "CLIP"], "--background has no output of its own"),
    # realtime.pointer_test and realtime.autostart
    ("realtime.pointer_test", ["--targets", "4"], "--targets must be an odd number"),
    ("realtime.pointer_test", ["--distances", "700", "--size", "800x600"], "does not fit a 800x600 window"),
    ("realtime.pointer_test", ["--report", "BAD/text.jpg"], "is not a pointing test's results"),
    ("realtime.autostart", ["enable", "--", "--bindings", "BAD/missing.toml"], "missing.toml does not exist"),
    # realtime.bench
    ("realtime.bench", ["--source", "/nonexistent.mp4"], "source not found"),
    ("realtime.bench", ["--source", "CLIP", "--size", "0x0"], "size"),
    ("realtime.bench", ["--source", "CLIP", "--seconds", "-1"], "seconds"),
    ("realtime.bench", ["--source", "BAD/noframes.mp4"], "noframes.mp4"),
    # realtime.evaluate
    (E, ["--model", "MODEL", "--data", "BAD/no_images", "--out", "BAD/o1"], "not a folder-per-class"),
    (E, ["--model", "MODEL", "--data", "BAD/unreadable_class", "--out", "BAD/o2"], "fist"),
    (E, ["--model", "MODEL", "--data", "BAD/photos", "--out", "/proc/handsign/out"], "/proc/handsign/out"),
    (E, ["--model", "MODEL", "--data", "BAD/photos", "--out", "BAD/afile"], "is a file"),
    (E, ["--model", "MODEL", "--data", "BAD/photos", "--out", "BAD/o3", "--crop-margin", "-0.1"], "crop-margin"),
    (E, ["--model", "BAD/truncated.onnx", "--data", "BAD/photos", "--out", "BAD/o4"], "truncated.onnx"),
    # training
    (T, ["--data", "BAD/photos", "--out", "BAD/t1", "--batch-size", "0"], "batch-size"),
    (T, ["--data", "BAD/photos", "--out", "BAD/t2", "--image-size", "0"], "image-size"),
    (T, ["--data", "BAD/photos", "--out", "BAD/t3", "--epochs", "-1"], "epochs"),
    (T, ["--data", "/nonexistent", "--out", "BAD/t4"], "data folder not found"),
    (T, ["--data", "BAD/unreadable_class", "--out", "BAD/t5", "--extra-train", "BAD/missing.json"], "missing.json"),
    (T, ["--data", "BAD/photos", "--out", "BAD/t6", "--mixed-precision"], "--mixed-precision needs a GPU"),
    ("training.evaluate", ["--model", "MODEL", "--data", "BAD/photos", "--split", "all", "--out", "BAD/afile"],
     "is a file"),
    ("training.evaluate", ["--model", "MODEL", "--data", "BAD/photos", "--split", "all", "--out", "BAD/e2",
                           "--batch-size", "0"], "batch-size"),
    ("training.explore", ["--data", "BAD/no_images", "--out", "BAD/x1"], "not a folder-per-class"),
    ("training.predict", ["--model", "PEER", "PHOTO"], "no HandSign metadata"),
    ("training.predict", ["--model", "MODEL", "--top", "0", "PHOTO"], "top"),
    ("training.bench", ["--data", "/nonexistent"], "data folder not found"),
    ("training.pseudolabel", ["--model", "MODEL", "--data", "BAD/photos", "--pool", "BAD/no_images",
                              "--out", "BAD/p.json", "--threshold", "2"], "threshold"),
    ("export", ["--model", "/nonexistent.keras", "--out", "BAD/x.onnx"], "not found"),
    ("export", ["--model", "MODEL", "--out", "BAD/x.onnx", "--check-images", "0"], "check-images"),
    ("export.bench", ["--model", "BAD/truncated.onnx"], "truncated.onnx"),
]


@pytest.mark.parametrize("module,args,message", CASES, ids=lambda v: v if isinstance(v, str) else None)
def test_bad_input_is_one_error_line_and_exit_2(files, hagrid_shaped_model, module, args, message):
    message = substitute([message], files, hagrid_shaped_model)[0]
    before = set(files.rglob("*"))
    result = python("-m", module, *substitute(args, files, hagrid_shaped_model), timeout=300)
    assert result.returncode == 2, (module, args, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    errors = [l for l in result.stderr.splitlines() if l.startswith("error: ")]
    assert len(errors) == 1 and message in errors[0], result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1] == errors[0]
    leftovers = [p for p in set(files.rglob("*")) - before if p.is_file()]
    assert not leftovers, leftovers  # nothing half-written


def odd_images(folder):
    """Valid but unusual image files, each made from a real photo."""
    photo = cv2.imread(str(PHOTOS[0]))
    folder.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(folder / "grey.png"), cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY))
    cv2.imwrite(str(folder / "rgba.png"), cv2.cvtColor(photo, cv2.COLOR_BGR2BGRA))
    cv2.imwrite(str(folder / "deep16.png"), photo.astype(np.uint16) * 257)
    cv2.imwrite(str(folder / "tiny1x1.png"), photo[:1, :1])
    cv2.imwrite(str(folder / "huge6000x4000.jpg"), cv2.resize(photo, (6000, 4000)))
    # EXIF orientation 6 (rotate 90 cw to view): the pixels are stored rotated back
    ok, jpg = cv2.imencode(".jpg", cv2.rotate(photo, cv2.ROTATE_90_COUNTERCLOCKWISE))
    exif = (b"Exif\x00\x00" + b"II*\x00\x08\x00\x00\x00" + b"\x01\x00"
            + b"\x12\x01\x03\x00\x01\x00\x00\x00\x06\x00\x00\x00" + b"\x00\x00\x00\x00")
    app1 = b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif
    (folder / "exif_rotated.jpg").write_bytes(jpg.tobytes()[:2] + app1 + jpg.tobytes()[2:])
    return folder


def test_odd_images_just_work_in_the_live_tool(tmp_path):
    require_fixtures()
    folder = odd_images(tmp_path / "odd")
    result = python("-m", "realtime.run", "--headless", "--source", str(folder), "--model", "none")
    assert result.returncode == 0, result.stderr[-2000:]
    lines = {json.loads(l)["frame"]: json.loads(l) for l in result.stdout.splitlines()}
    assert len(lines) == 6  # every file read, none skipped
    sizes = sorted((l["width"], l["height"]) for l in lines.values())
    assert (1, 1) in sizes and (6000, 4000) in sizes
    photo = cv2.imread(str(PHOTOS[0]))
    assert (photo.shape[1], photo.shape[0]) in sizes  # the EXIF-rotated file is shown upright
    assert sum(bool(l["hands"]) for l in lines.values()) >= 4  # grey, rgba, 16-bit, exif (and huge)


def test_odd_images_just_work_in_predict(tmp_path, hagrid_shaped_model):
    require_fixtures()
    folder = odd_images(tmp_path / "odd")
    paths = sorted(str(p) for p in folder.iterdir())
    result = python("-m", "training.predict", "--model", str(hagrid_shaped_model), *paths)
    assert result.returncode == 0, result.stderr[-2000:]
    assert sum(l.split(":")[0] in paths for l in result.stdout.splitlines()) == 6
