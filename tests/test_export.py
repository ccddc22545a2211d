"""Export: parity, metadata round trip, the realtime classifier on the exported file, bad files."""

import json

import numpy as np
import onnx
import pytest

from realtime.classifier.model import GestureClassifier, ModelLoadError
from realtime.core.contract import ModelContract
from realtime.core.images import read_bgr

from conftest import PEER, python


def test_exported_file_carries_the_contract(exported, effnet_run):
    proto = onnx.load(str(exported))
    assert [i.name for i in proto.graph.input] == ["image"]
    # the second output: the pooled backbone features, named in the metadata (realtime.teach uses it);
    # the third: the feature map they are pooled from (realtime.classifier.activation)
    assert [o.name for o in proto.graph.output] == ["probabilities", "features", "feature_map"]
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [48, 48, 3]
    meta = {p.key: p.value for p in proto.metadata_props}
    contract = ModelContract.from_metadata(meta)
    assert list(contract.labels) == json.loads((effnet_run / "labels.json").read_text())
    assert (contract.image_size, contract.color_order, contract.value_range) == (48, "RGB", (0.0, 255.0))
    assert contract.resize_method == "area" and contract.extra["opset"] == "17"
    assert contract.feature_output == "features"
    assert contract.feature_map_output == "feature_map" and contract.feature_map_layout in ("NCHW", "NHWC")
    assert "best_val_accuracy" in json.loads(contract.extra["metrics"])
    assert contract.extra["created"].startswith("20")
    assert not any(n.op_type.startswith("Random") for n in proto.graph.node)


def test_realtime_classifier_matches_keras_top1(exported, effnet_run, dataset):
    import keras

    from realtime.core.contract import to_batch
    images = [read_bgr(p) for p in sorted((dataset / "hagrid-like-512p").rglob("0*.jpg"))[:12]]
    clf = GestureClassifier(exported, threads=1)
    predictions = clf.predict(images)
    model = keras.models.load_model(effnet_run / "model.keras", compile=False)
    expected = model.predict_on_batch(to_batch(images, clf.contract))
    got = np.stack([p.probabilities for p in predictions])
    assert [p.index for p in predictions] == expected.argmax(1).tolist()
    assert np.abs(got - expected).max() < 1e-4
    assert predictions[0].label in clf.labels and len(predictions[0].top(3)) == 3
    assert "image" in repr(clf) and "probabilities" in repr(clf)


def test_parity_line_and_int8(effnet_run, dataset, tmp_path):
    out = tmp_path / "m.onnx"
    result = python("-m", "export", "--model", str(effnet_run / "model.keras"), "--out", str(out),
                    "--check-data", str(dataset), "--check-images", "12", "--quantize", "int8")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "parity on 12 real images" in result.stdout and "-> OK" in result.stdout
    assert "int8 model" in result.stdout and "accuracy on the 12 check images" in result.stdout
    int8 = GestureClassifier(tmp_path / "m.int8.onnx")
    assert int8.labels == GestureClassifier(out).labels
    assert any(n.op_type == "QuantizeLinear" for n in onnx.load(str(tmp_path / "m.int8.onnx")).graph.node)


def test_export_without_check_data_uses_random_pixels(effnet_run, tmp_path):
    result = python("-m", "export", "--model", str(effnet_run / "model.keras"), "--out", str(tmp_path / "r.onnx"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "parity on 64 random images" in result.stdout


def test_a_model_that_fails_parity_is_not_written_and_exits_1(effnet_run, tmp_path):
    """The parity gate: with no tolerance at all (--max-diff 0) float32 Keras and onnxruntime differ by
    rounding, so the export fails; --out is left alone and the failed file kept for a look."""
    out = tmp_path / "m.onnx"
    out.write_bytes(b"the user's earlier model")
    result = python("-m", "export", "--model", str(effnet_run / "model.keras"), "--out", str(out),
                    "--max-diff", "0", "--check-images", "8")
    assert result.returncode == 1, result.stderr[-3000:]
    assert "FAILED (tolerance 0 and 100% top-1)" in result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: the ONNX model disagrees with Keras") and "not written" in last
    assert out.read_bytes() == b"the user's earlier model"
    failed = tmp_path / "m.parity-failed.onnx"
    assert GestureClassifier(failed).labels  # a complete model, kept beside it
    assert not [f for f in tmp_path.iterdir() if ".tmp" in f.name]


def _strip_metadata(src, dst):
    proto = onnx.load(str(src))
    del proto.metadata_props[:]
    onnx.save(proto, str(dst))


def _wrong_label_count(src, dst):
    proto = onnx.load(str(src))
    meta = {p.key: p.value for p in proto.metadata_props}
    meta["handsign.labels"] = json.dumps(["a", "b", "c", "d", "e"])
    onnx.helper.set_model_props(proto, meta)
    onnx.save(proto, str(dst))


@pytest.mark.parametrize("kind,message", [
    ("missing", "not found"),
    ("text", "is not a loadable ONNX model"),
    ("no_metadata", "no HandSign metadata"),
    ("label_mismatch", "output has 3 classes but the metadata lists 5 labels"),
    ("peer", "no HandSign metadata"),
])
def test_bad_model_files_are_rejected_clearly(exported, tmp_path, kind, message):
    path = tmp_path / f"{kind}.onnx"
    if kind == "text":
        path.write_text("not a model")
    elif kind == "no_metadata":
        _strip_metadata(exported, path)
    elif kind == "label_mismatch":
        _wrong_label_count(exported, path)
    elif kind == "peer":
        path = PEER  # a real ONNX classifier, but not a HandSign one
    with pytest.raises(ModelLoadError, match=message) as err:
        GestureClassifier(path)
    assert "\n" not in str(err.value)


def test_export_rejects_a_non_keras_file(tmp_path):
    bad = tmp_path / "model.keras"
    bad.write_text("nope")
    result = python("-m", "export", "--model", str(bad), "--out", str(tmp_path / "x.onnx"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: ") and "Traceback" not in result.stderr


def test_classifier_bench_prints_ours_and_the_peer(exported):
    result = python("-m", "export.bench", "--model", str(exported), "--peer", str(PEER), "--repeats", "5")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [l for l in result.stdout.splitlines() if l.strip().startswith(("1 ", "2 "))]
    assert len(rows) == 4 and all(l.rstrip().endswith("x") for l in rows)


def test_parity_fails_on_top1_disagreement_even_within_the_tolerance(exported, effnet_run, tmp_path):
    """One weight of the exported graph perturbed: the bias of one class raised, so onnxruntime names that
    class where Keras does not. With a tolerance loose enough to pass any difference, the top-1 check
    alone fails the parity."""
    import keras

    from export.parity import check_parity
    model = keras.models.load_model(effnet_run / "model.keras", compile=False)
    batch = np.random.default_rng(0).uniform(0, 255, (8, 48, 48, 3)).astype(np.float32)
    keras_top = np.asarray(model.predict_on_batch(batch)).argmax(1)
    proto = onnx.load(str(exported))
    labels = GestureClassifier(exported).labels
    producer = {o: n for n in proto.graph.node for o in n.output}
    softmax = producer["probabilities"]
    while softmax.op_type != "Softmax":  # an Identity or Cast may sit after it
        softmax = producer[softmax.input[0]]
    logits = producer[softmax.input[0]]  # the last Dense: Add(MatMul, bias) or Gemm(x, W, bias)
    inits = {i.name: i for i in proto.graph.initializer}
    bias = next(inits[name] for name in logits.input
                if name in inits and list(inits[name].dims) == [len(labels)])
    values = onnx.numpy_helper.to_array(bias).copy()
    k = int(next(c for c in range(len(labels)) if c != keras_top[0]))
    values[k] += 100.0
    bias.CopyFrom(onnx.numpy_helper.from_array(values, bias.name))
    perturbed = tmp_path / "perturbed.onnx"
    onnx.save(proto, str(perturbed))
    assert check_parity(model, exported, batch, "random", tolerance=1.0).ok  # the export as written passes
    report = check_parity(model, perturbed, batch, "random", tolerance=1.0)
    assert not report.ok and report.top1_agreement < 1.0
    assert "FAILED" in str(report) and f"top-1 agreement {report.top1_agreement:.2%}" in str(report)
