"""The wheel as a user gets it: built from this checkout, installed without -e into a fresh venv, run
from a folder outside the checkout. Proves the shipped models travel inside the package."""

import json
import os
import subprocess
import sys
import venv

import pytest

from realtime.core.contract import HAGRID_LABELS

from conftest import PHOTOS, ROOT, require_fixtures

pytestmark = pytest.mark.slow  # builds and installs the wheel: about a minute


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv bin folder, an empty working folder): the wheel and its dependencies, nothing else."""
    tmp = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(ROOT)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel, = (tmp / "dist").glob("handsign-*.whl")
    venv.create(tmp / "venv", with_pip=True)
    bin_dir = tmp / "venv" / ("Scripts" if os.name == "nt" else "bin")
    done = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    work = tmp / "elsewhere"
    work.mkdir()
    return bin_dir, work


def run_in(installed, *args: str) -> subprocess.CompletedProcess:
    bin_dir, work = installed
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(list(args), cwd=work, env=env, capture_output=True, text=True, timeout=300)


def test_wheel_carries_the_models_and_runs_from_anywhere(installed):
    require_fixtures()
    bin_dir, _ = installed
    where = run_in(installed, str(bin_dir / "python"), "-c",
                   "import realtime.core.paths as p, realtime.actions.stream as s; "
                   "print(p.MODELS_DIR, p.HAND_MODEL.is_file(), p.HAND_MODEL_LITE.is_file(), "
                   "p.GESTURE_MODEL.with_suffix('.reference.npz').is_file(), s.PAGE.is_file())")
    assert where.returncode == 0, where.stderr[-2000:]
    folder, *present = where.stdout.split()
    assert folder.startswith(str(bin_dir.parent)) and present == ["True"] * 4, where.stdout  # the venv's, not ours
    for command in ([str(bin_dir / "handsign"), "run"], [str(bin_dir / "python"), "-m", "realtime.run"]):
        result = run_in(installed, *command, "--source", str(PHOTOS[1]), "--headless", "--max-frames", "1")
        assert result.returncode == 0, result.stderr[-2000:]
        frame = json.loads(result.stdout.splitlines()[0])
        assert frame["hands"] and frame["hands"][0]["top3"][0][0] in HAGRID_LABELS, frame


def test_installed_command_lists_subcommands_and_says_what_training_needs(installed):
    bin_dir, _ = installed
    listing = run_in(installed, str(bin_dir / "handsign"), "--help")
    assert listing.returncode == 0 and all(f"  {c} " in listing.stdout for c in ("run", "bench", "train", "export"))
    help_run = run_in(installed, str(bin_dir / "handsign"), "run", "--help")
    assert help_run.returncode == 0 and help_run.stdout.startswith("usage: handsign run")
    # the base install has no TensorFlow: its options still show (they are checked before TensorFlow
    # loads), and training itself says how to get it, in one line
    help_train = run_in(installed, str(bin_dir / "handsign"), "train", "--help")
    assert help_train.returncode == 0 and help_train.stdout.startswith("usage: handsign train")
    train = run_in(installed, str(bin_dir / "handsign"), "train", "--data", "data", "--out", "runs/x")
    assert train.returncode == 2 and train.stderr.strip().splitlines() == [train.stderr.strip()]
    assert "pip install 'handsign[train]'" in train.stderr
    direct = run_in(installed, str(bin_dir / "python"), "-m", "training.train", "--data", "data", "--out", "runs/x")
    assert direct.returncode == 2 and "pip install 'handsign[train]'" in direct.stderr
    assert "Traceback" not in direct.stderr
    unknown = run_in(installed, str(bin_dir / "handsign"), "fly")
    assert unknown.returncode == 2 and unknown.stderr.startswith("error: unknown subcommand 'fly'")
