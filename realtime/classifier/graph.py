"""Surgery on a HandSign ONNX graph: expose the backbone features, swap in a taught head.

Every HandSign model ends in the same head, ``features -> MatMul -> Add -> Softmax -> probabilities``
(a Keras Dense layer with softmax, as tf2onnx writes it; a Gemm is accepted too). The tensor that
enters that head is the pooled backbone output. :func:`expose_features` adds it as a second graph
output named in the metadata, so single-output loading is unchanged; :func:`with_taught_head`
replaces (or extends) the classifier on top of it. Pure functions of ``onnx.ModelProto``s.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from realtime.classifier.model import FeaturesUnavailable
from realtime.core.contract import FEATURE_MAP_NAME, FEATURES_NAME, METADATA_PREFIX, OUTPUT_NAME

FEATURE_KEY = METADATA_PREFIX + "feature_output"
FEATURE_MAP_KEY = METADATA_PREFIX + "feature_map_output"
FEATURE_MAP_LAYOUT_KEY = METADATA_PREFIX + "feature_map_layout"
#: Ops between the global pooling and the head that only reshape (tf2onnx writes a Squeeze).
_RESHAPES = ("Squeeze", "Reshape", "Flatten", "Identity")
LABELS_KEY = METADATA_PREFIX + "labels"


@dataclass(frozen=True)
class Head:
    """The classifier head found at the end of a graph."""

    features: str  # the tensor entering the head
    nodes: tuple[onnx.NodeProto, ...]
    output: str  # the probabilities tensor (a graph output)
    logits: str  # the tensor entering the softmax


def _producers(graph: onnx.GraphProto) -> dict[str, onnx.NodeProto]:
    return {out: node for node in graph.node for out in node.output}


def find_head(model: onnx.ModelProto) -> Head:
    """Locate ``features -> MatMul -> Add -> Softmax`` (or ``Gemm``/``MatMul -> Softmax``) before the output."""
    graph = model.graph
    outputs = [o.name for o in graph.output if o.name != _feature_output(model)]
    output = OUTPUT_NAME if OUTPUT_NAME in outputs else (outputs[0] if len(outputs) == 1 else None)
    made_by = _producers(graph)
    soft = made_by.get(output) if output else None
    if soft is None or soft.op_type != "Softmax":
        raise FeaturesUnavailable("the model does not end in a softmax classifier head, so its backbone "
                                  "features cannot be found")
    before = made_by.get(soft.input[0])
    if before is not None and before.op_type in ("Gemm", "MatMul"):  # MatMul alone: a zero bias folded away
        return Head(before.input[0], (before, soft), output, soft.input[0])
    if before is not None and before.op_type == "Add":
        matmul = next((made_by[i] for i in before.input if i in made_by and made_by[i].op_type == "MatMul"), None)
        if matmul is not None:
            return Head(matmul.input[0], (matmul, before, soft), output, soft.input[0])
    raise FeaturesUnavailable("the model's softmax is not fed by a dense layer (MatMul+Add or Gemm), so "
                              "its backbone features cannot be found")


def _feature_output(model: onnx.ModelProto, key: str = FEATURE_KEY) -> str:
    meta = {p.key: p.value for p in model.metadata_props}
    try:
        return json.loads(meta.get(key, '""'))
    except ValueError:
        return ""


def _axes(node: onnx.NodeProto, graph: onnx.GraphProto) -> list[int] | None:
    for a in node.attribute:
        if a.name == "axes":
            return list(a.ints)
    if len(node.input) > 1:  # opset 18: axes as an input
        init = next((i for i in graph.initializer if i.name == node.input[1]), None)
        return None if init is None else numpy_helper.to_array(init).tolist()
    return None


def find_feature_map(model: onnx.ModelProto) -> tuple[str, str]:
    """The tensor the head's features are globally averaged from, and its layout (NCHW or NHWC)."""
    head = find_head(model)
    made_by = _producers(model.graph)
    node = made_by.get(head.features)
    while node is not None and node.op_type in _RESHAPES:
        node = made_by.get(node.input[0])
    if node is not None and node.op_type == "GlobalAveragePool":
        return node.input[0], "NCHW"
    if node is not None and node.op_type == "ReduceMean":
        axes = sorted(a % 4 for a in (_axes(node, model.graph) or []))
        if axes in ([1, 2], [2, 3]):
            return node.input[0], "NHWC" if axes == [1, 2] else "NCHW"
    raise FeaturesUnavailable("the head's features are not a global average of a feature map, so there "
                              "is no class activation map (an occlusion map works for any model)")


def expose_feature_map(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy with the last feature map as an output ``feature_map``, named (with its layout) in the
    metadata. The probabilities are the same graph's: nothing is changed, one output is added."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    if _feature_output(out, FEATURE_MAP_KEY) in [o.name for o in out.graph.output]:
        return out
    source, layout = find_feature_map(out)
    out.graph.node.append(helper.make_node("Identity", [source], [FEATURE_MAP_NAME], name="handsign_feature_map"))
    out.graph.output.append(helper.make_tensor_value_info(FEATURE_MAP_NAME, TensorProto.FLOAT,
                                                          ["batch", "d1", "d2", "d3"]))
    _set_metadata(out, {FEATURE_MAP_KEY: json.dumps(FEATURE_MAP_NAME), FEATURE_MAP_LAYOUT_KEY: json.dumps(layout)})
    onnx.checker.check_model(out)
    return out


def head_weights(model: onnx.ModelProto, head: Head | None = None) -> np.ndarray:
    """The dense head's weight, (features, classes) float32."""
    dense = (head or find_head(model)).nodes[0]
    weight = next((numpy_helper.to_array(i) for i in model.graph.initializer if i.name == dense.input[1]), None)
    if weight is None:
        raise FeaturesUnavailable("the head's weights are not constants of the graph")
    if dense.op_type == "Gemm" and any(a.name == "transB" and a.i for a in dense.attribute):
        weight = weight.T
    return weight.astype(np.float32)


def _set_metadata(model: onnx.ModelProto, updates: dict[str, str], drop: Sequence[str] = ()) -> None:
    meta = {p.key: p.value for p in model.metadata_props if p.key not in drop}
    meta.update(updates)
    del model.metadata_props[:]
    helper.set_model_props(model, meta)


def expose_features(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy with the head's input as a second output ``features``, named in the metadata."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    if _feature_output(out) in [o.name for o in out.graph.output]:
        return out
    head = find_head(out)
    try:
        dim = head_weights(out, head).shape[0]
    except FeaturesUnavailable:  # weights computed in the graph: the size stays unnamed
        dim = None
    out.graph.node.append(helper.make_node("Identity", [head.features], [FEATURES_NAME], name="handsign_features"))
    out.graph.output.append(helper.make_tensor_value_info(FEATURES_NAME, TensorProto.FLOAT, ["batch", dim]))
    _set_metadata(out, {FEATURE_KEY: json.dumps(FEATURES_NAME)})
    onnx.checker.check_model(out)
    return out


def _prune(graph: onnx.GraphProto) -> None:
    """Drop nodes and initializers no graph output depends on (the replaced head)."""
    made_by = _producers(graph)
    needed, stack = set(), [o.name for o in graph.output]
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        needed.add(name)
        node = made_by.get(name)
        if node is not None:
            stack.extend(i for i in node.input if i)
    keep = [n for n in graph.node if any(o in needed for o in n.output)]
    del graph.node[:]
    graph.node.extend(keep)
    inits = [i for i in graph.initializer if i.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(inits)


def with_taught_head(base: onnx.ModelProto, weight: np.ndarray, bias: np.ndarray, labels: Sequence[str],
                     keep_base: bool, extra: dict[str, str]) -> onnx.ModelProto:
    """The base backbone with a new softmax head ``features @ weight + bias``.

    Without ``keep_base`` the head's classes are ``labels``. With it, column 0 of the new head is
    "one of the base's gestures" and the output is ``[p_base * p(column 0), p(taught...)]``: the
    base head's probabilities are kept as they are, scaled by how sure the new head is that the
    hand shows none of the taught gestures; ``labels`` then lists only the taught gestures.
    A landmark head of the base is left out: it knows none of the taught gestures.
    """
    model = expose_features(without_landmark_head(base))
    graph = model.graph
    head = find_head(model)
    meta = {p.key: p.value for p in model.metadata_props}
    base_labels = json.loads(meta[LABELS_KEY])
    weight, bias = np.asarray(weight, np.float32), np.asarray(bias, np.float32)
    graph.initializer.extend([numpy_helper.from_array(weight, "teach_weight"),
                              numpy_helper.from_array(bias, "teach_bias")])
    nodes = [helper.make_node("MatMul", [head.features, "teach_weight"], ["teach_matmul"], name="teach_matmul"),
             helper.make_node("Add", ["teach_matmul", "teach_bias"], ["teach_logits"], name="teach_add")]
    if keep_base:
        all_labels = list(base_labels) + list(labels)
        base_probs = "teach_base_probabilities"
        for node in graph.node:  # the base softmax now feeds the mixture, not the output
            node.output[:] = [base_probs if o == head.output else o for o in node.output]
        graph.initializer.extend([numpy_helper.from_array(np.array(v, np.int64), n) for n, v in
                                  (("teach_0", [0]), ("teach_1", [1]), ("teach_end", [2 ** 62]))])
        nodes += [helper.make_node("Softmax", ["teach_logits"], ["teach_probs"], name="teach_softmax", axis=-1),
                  helper.make_node("Slice", ["teach_probs", "teach_0", "teach_1", "teach_1"], ["teach_other"],
                                   name="teach_other"),
                  helper.make_node("Slice", ["teach_probs", "teach_1", "teach_end", "teach_1"], ["teach_new"],
                                   name="teach_new"),
                  helper.make_node("Mul", [base_probs, "teach_other"], ["teach_base_scaled"], name="teach_scale"),
                  helper.make_node("Concat", ["teach_base_scaled", "teach_new"], [head.output],
                                   name="teach_concat", axis=1)]
    else:
        all_labels = list(labels)
        old = {o for n in head.nodes for o in n.output}
        kept = [n for n in graph.node if not set(n.output) & old]
        del graph.node[:]
        graph.node.extend(kept)
        nodes.append(helper.make_node("Softmax", ["teach_logits"], [head.output], name="teach_softmax", axis=-1))
    graph.node.extend(nodes)
    for out in graph.output:
        if out.name == head.output:
            out.type.tensor_type.shape.dim[1].dim_value = len(all_labels)
    _prune(graph)
    dropped = [METADATA_PREFIX + "extra." + k for k in ("metrics", "live_metrics")]  # they scored the base
    _set_metadata(model, {LABELS_KEY: json.dumps(all_labels),
                          **{METADATA_PREFIX + "extra." + k: v for k, v in extra.items()}}, drop=dropped)
    model.doc_string = f"HandSign gesture classifier, taught: {', '.join(all_labels)}"
    onnx.checker.check_model(model)
    return model


LANDMARK_INPUT_KEY = METADATA_PREFIX + "landmark_input"
LANDMARK_RECIPE_KEY = METADATA_PREFIX + "landmark_features"
LANDMARK_OUTPUT_KEY = METADATA_PREFIX + "landmark_output"
FUSED_OUTPUT_KEY = METADATA_PREFIX + "fused_output"
FUSION_KEY = METADATA_PREFIX + "fusion"
#: Keeps log() finite where a head gives a class exactly zero.
FUSION_EPS = 1e-6


@dataclass(frozen=True)
class LandmarkHead:
    """A small dense network on hand-shape features, over shape groups, and how it is fused.

    ``layers``: (weight (in, out), bias (out,)) pairs, ReLU between them, softmax at the end over
    ``groups`` (each a tuple of the model's labels that look alike as landmarks, e.g. ``one`` and
    ``mute``). ``weights``: per label, how far the fused log-probability leans on the landmark head
    (0: crop only, 1: landmarks only).
    """

    layers: tuple[tuple[np.ndarray, np.ndarray], ...]
    groups: tuple[tuple[str, ...], ...]
    weights: dict[str, float]
    recipe: str

    def group_matrix(self, labels: Sequence[str]) -> np.ndarray:
        """(groups, labels) 0/1: which group each label belongs to."""
        m = np.zeros((len(self.groups), len(labels)), np.float32)
        for g, members in enumerate(self.groups):
            for name in members:
                m[g, list(labels).index(name)] = 1.0
        if not (m.sum(axis=0) == 1).all():
            raise ValueError("every label must be in exactly one landmark group")
        return m


def with_landmark_head(base: onnx.ModelProto, head: LandmarkHead) -> onnx.ModelProto:
    """The base model with a second input (hand-shape features), the landmark head on it, and the fused
    probabilities, as two more outputs named in the metadata. The crop output is unchanged, so a loader
    that knows nothing of landmarks still works (it feeds zeros to the second input)."""
    from realtime.core.contract import FUSED_NAME, LANDMARK_INPUT_NAME, LANDMARK_OUTPUT_NAME, OUTPUT_NAME

    model = onnx.ModelProto()
    model.CopyFrom(base)
    graph = model.graph
    if LANDMARK_INPUT_NAME in [i.name for i in graph.input]:
        raise ValueError(f"{LANDMARK_INPUT_NAME!r} is already an input: the model has a landmark head")
    labels = json.loads({p.key: p.value for p in model.metadata_props}[LABELS_KEY])
    outputs = [o.name for o in graph.output]
    # a taught --keep-base model ends in its mixture (not a softmax): its output is the crop's answer
    crop = OUTPUT_NAME if OUTPUT_NAME in outputs else find_head(model).output
    size = head.layers[0][0].shape[0]
    graph.input.append(helper.make_tensor_value_info(LANDMARK_INPUT_NAME, TensorProto.FLOAT, ["batch", size]))
    inits, nodes, logits = _landmark_layers(head, LANDMARK_INPUT_NAME)
    inits.update(_fusion_constants(head, labels))
    nodes += _fusion_nodes(logits, crop, LANDMARK_OUTPUT_NAME, FUSED_NAME)
    graph.initializer.extend(numpy_helper.from_array(np.asarray(v, np.float32), n) for n, v in inits.items())
    graph.node.extend(nodes)
    for name in (LANDMARK_OUTPUT_NAME, FUSED_NAME):
        graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", len(labels)]))
    fusion = {"rule": "softmax((1 - w) * log(p_crop) + w * log(p_landmark_group))",
              "groups": [list(g) for g in head.groups], "weights": head.weights,
              "hidden": [int(w.shape[1]) for w, _ in head.layers[:-1]]}
    _set_metadata(model, {LANDMARK_INPUT_KEY: json.dumps(LANDMARK_INPUT_NAME),
                          LANDMARK_RECIPE_KEY: json.dumps(head.recipe),
                          LANDMARK_OUTPUT_KEY: json.dumps(LANDMARK_OUTPUT_NAME),
                          FUSED_OUTPUT_KEY: json.dumps(FUSED_NAME), FUSION_KEY: json.dumps(fusion)})
    onnx.checker.check_model(model)
    return model


def _landmark_layers(head: LandmarkHead, x: str) -> tuple[dict[str, np.ndarray], list, str]:
    """The head's dense layers on input ``x`` (ReLU between them): weights, nodes and the logits' name."""
    inits, nodes = {}, []
    for k, (w, b) in enumerate(head.layers):
        inits[f"lm_w{k}"], inits[f"lm_b{k}"] = np.asarray(w, np.float32), np.asarray(b, np.float32)
        nodes += [helper.make_node("MatMul", [x, f"lm_w{k}"], [f"lm_mm{k}"], name=f"lm_matmul{k}"),
                  helper.make_node("Add", [f"lm_mm{k}", f"lm_b{k}"], [f"lm_z{k}"], name=f"lm_add{k}")]
        x = f"lm_z{k}"
        if k < len(head.layers) - 1:
            nodes.append(helper.make_node("Relu", [x], [f"lm_h{k}"], name=f"lm_relu{k}"))
            x = f"lm_h{k}"
    return inits, nodes, x


def _fusion_constants(head: LandmarkHead, labels: Sequence[str]) -> dict[str, np.ndarray]:
    """The group matrix, each label's share of its group, the epsilon and the fusion weights."""
    groups = head.group_matrix(labels)
    return {"lm_groups": groups, "lm_share": 1.0 / groups.sum(axis=1) @ groups,
            "lm_eps": np.array(FUSION_EPS, np.float32),
            "lm_w": np.array([head.weights[l] for l in labels], np.float32),
            "lm_1w": np.array([1.0 - head.weights[l] for l in labels], np.float32)}


def _fusion_nodes(logits: str, crop: str, landmark_output: str, fused_output: str) -> list:
    """The group softmax, the landmark head's own output, and the fused softmax of both answers."""
    return [
        helper.make_node("Softmax", [logits], ["lm_group_probs"], name="lm_softmax", axis=-1),
        helper.make_node("MatMul", ["lm_group_probs", "lm_groups"], ["lm_class_group"], name="lm_to_labels"),
        # alone, a group's probability is shared among its labels (the head cannot tell them apart)
        helper.make_node("Mul", ["lm_class_group", "lm_share"], [landmark_output], name="lm_share_out"),
        helper.make_node("Add", ["lm_class_group", "lm_eps"], ["lm_q"], name="lm_q_eps"),
        helper.make_node("Log", ["lm_q"], ["lm_log_q"], name="lm_log_q"),
        helper.make_node("Add", [crop, "lm_eps"], ["lm_p"], name="lm_p_eps"),
        helper.make_node("Log", ["lm_p"], ["lm_log_p"], name="lm_log_p"),
        helper.make_node("Mul", ["lm_log_q", "lm_w"], ["lm_wq"], name="lm_weigh_q"),
        helper.make_node("Mul", ["lm_log_p", "lm_1w"], ["lm_wp"], name="lm_weigh_p"),
        helper.make_node("Add", ["lm_wq", "lm_wp"], ["lm_fused_logits"], name="lm_fuse"),
        helper.make_node("Softmax", ["lm_fused_logits"], [fused_output], name="lm_fused_softmax", axis=-1),
    ]


def without_landmark_head(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy with the landmark head, its input, outputs and metadata removed (crop only)."""
    from realtime.core.contract import FUSED_NAME, LANDMARK_INPUT_NAME, LANDMARK_OUTPUT_NAME

    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    if LANDMARK_INPUT_NAME not in [i.name for i in graph.input]:
        return out
    keep = [o for o in graph.output if o.name not in (LANDMARK_OUTPUT_NAME, FUSED_NAME)]
    del graph.output[:]
    graph.output.extend(keep)
    _prune(graph)
    inputs = [i for i in graph.input if i.name != LANDMARK_INPUT_NAME]
    del graph.input[:]
    graph.input.extend(inputs)
    _set_metadata(out, {}, drop=(LANDMARK_INPUT_KEY, LANDMARK_RECIPE_KEY, LANDMARK_OUTPUT_KEY, FUSED_OUTPUT_KEY,
                                 FUSION_KEY))
    onnx.checker.check_model(out)
    return out
