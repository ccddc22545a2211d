"""The train-gpu extra: TensorFlow with CUDA at the train extra's version, and nothing of tensorflow-cpu.

CI has no GPU and cannot download CUDA's wheels for every run, so the extra is checked as metadata:
what pip would be asked to install, parsed the way pip parses it."""

import tomllib

from packaging.requirements import Requirement

from conftest import ROOT


def _extras() -> dict[str, list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {name: [Requirement(r) for r in reqs] for name, reqs in project["optional-dependencies"].items()}


def test_train_gpu_brings_cuda_tensorflow_at_the_train_version():
    extras = _extras()
    gpu = {r.name: r for r in extras["train-gpu"]}
    train = {r.name: r for r in extras["train"]}
    assert "tensorflow-cpu" not in gpu
    tf = gpu["tensorflow"]
    assert tf.extras == {"and-cuda"}
    assert str(tf.specifier) == str(train["tensorflow-cpu"].specifier) == "==2.21.0"
    env = {"sys_platform": "linux", "platform_machine": "x86_64"}
    assert tf.marker.evaluate(env) and train["tensorflow-cpu"].marker.evaluate(env)
    # everything else the train extra brings, at the same versions
    for name, req in train.items():
        if not name.startswith("tensorflow"):
            assert name in gpu and gpu[name].specifier == req.specifier, name


def test_dev_and_notebook_stay_on_the_cpu_build():
    extras = _extras()
    for name in ("dev", "notebook"):
        assert any(r.name == "handsign" and r.extras == {"train"} for r in extras[name]), name
