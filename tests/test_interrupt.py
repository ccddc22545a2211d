"""Nothing lost on interrupt: a recording stays playable, training resumes from its checkpoint."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import cv2
import pytest

from conftest import CLIPS, ROOT, LineReader, require_fixtures


def start(*args):
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_recording_is_playable_and_summarised(tmp_path, sig):
    require_fixtures()
    video = tmp_path / "rec.mp4"
    proc = start("-m", "realtime.run", "--headless", "--source", str(CLIPS[0]), "--loop", "--model", "none",
                 "--max-hands", "1", "--record", str(video))
    reader = LineReader(proc.stdout)
    lines = reader.wait_for(50, timeout=120)  # beyond one pass of the 38-frame clip
    assert len(lines) >= 50, f"only {len(lines)} frame lines in 120 s"
    proc.send_signal(sig)
    err = proc.communicate(timeout=60)[1]
    lines = reader.rest(timeout=10)
    frames = [json.loads(l) for l in lines if l.strip()]
    assert proc.returncode == 130, err[-2000:]
    assert "frames in" in err and "Traceback" not in err  # the run summary
    cap = cv2.VideoCapture(str(video))
    count = 0
    while cap.read()[0]:
        count += 1
    cap.release()
    assert count >= 45 and abs(count - len(frames)) <= 1, (count, len(frames))


@pytest.mark.slow
def test_interrupted_training_resumes(dataset, tmp_path):
    run = tmp_path / "run"
    args = ["-m", "training.train", "--data", str(dataset), "--out", str(run), "--arch", "baseline",
            "--image-size", "32", "--batch-size", "8", "--epochs", "400", "--fine-tune-epochs", "0",
            "--patience", "400"]
    proc = start(*args)
    deadline = time.monotonic() + 240
    history = run / "history.csv"
    while time.monotonic() < deadline:
        if history.is_file() and len(history.read_text().splitlines()) >= 3:  # two epochs done
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "continue with --resume" in err and "Traceback" not in err
    assert (run / "last.keras").is_file()
    assert not [p for p in run.iterdir() if ".tmp" in p.name]  # no half-written checkpoint left
    done = len(list(csv.DictReader(open(history))))
    config = json.loads((run / "config.json").read_text())
    config["epochs"] = done + 1  # finish after one more epoch
    (run / "config.json").write_text(json.dumps(config))
    result = subprocess.run([sys.executable, *args[:6], "--resume"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, env={**os.environ})
    assert result.returncode == 0, result.stderr[-2000:]
    epochs = [int(r["epoch"]) for r in csv.DictReader(open(history))]
    assert epochs == list(range(done + 1)), epochs  # every epoch once, in order: none repeated or lost
