"""Converters: every backend x precision of the smallest built-in student converts,
runs on real inputs, and computes what PyTorch computes.

Artifacts are converted once per session (the session home's artifact cache);
later tests that ask for the same set get it from the cache.

What a manifest says about delegation, precision or a Core ML spec check is
checked against the artifact file itself (the .pte's program and XNNPACK
payloads, the .tflite flatbuffer and interpreter, the .mlpackage's ML program):
a string the converter writes whatever happened is no evidence.
"""

from __future__ import annotations

import importlib.resources
import json
import platform
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from edge_bench.converters import (
    PRECISIONS,
    convert,
    get_converter,
    host_embed,
    list_backends,
    load_artifact,
)
from edge_bench.converters.parity import NOT_RUN, PARITY_FLOORS
from edge_bench.converters.samples import batches, run_batched
from edge_bench.data import load_dataset
from edge_bench.data.preprocess import normalize, preprocess_images
from edge_bench.errors import BackendUnavailable, ConfigError
from edge_bench.models import create_model

MODEL = "edgeclip-s-scratch"  # the S student the run tests use, so the session converts each set once
COMBOS = [(b, p) for b in ("executorch", "coreml", "tflite") for p in get_converter(b).precisions]
MANIFEST_KEYS = {
    "schema", "model", "family", "weights", "backend", "precision", "embed_dim", "preprocess", "tokenizer",
    "towers", "versions", "key", "created",
}


@pytest.fixture(scope="session")
def clip():
    return create_model(MODEL)


@pytest.fixture(scope="session")
def unseen_inputs(clip):
    """Real inputs the converter never saw: the first test-split images and captions."""
    ds = load_dataset("synthetic", "test", n_images=16)
    pp = clip.preprocess
    pixels = normalize(preprocess_images(ds, pp), pp.mean, pp.std)
    return {"image": pixels, "text": clip.tokenizer(ds.captions[:32])}


def _eager(module, inputs):
    import torch

    with torch.inference_mode():
        return module(torch.from_numpy(inputs)).numpy()


def _cosines(a, b):
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


# What the artifact files hold, read back without the converters' code.


def _pte_contents(path: Path) -> dict:
    """An ExecuTorch program read back from its .pte: its delegates (backend ids), the kernel
    calls left outside them (operator name -> count), and the node types and value datatypes
    of the XNNPACK graphs (each delegate payload decoded with XNNPACK's flatbuffer schema)."""
    from executorch.backends.xnnpack.serialization.xnnpack_graph_serialize import XNNHeader
    from executorch.exir._serialize._flatbuffer import _flatc_decompile
    from executorch.exir._serialize._program import deserialize_pte_binary

    program = deserialize_pte_binary(path.read_bytes()).program
    (plan,) = program.execution_plan
    kernels: Counter = Counter()
    delegate_calls = 0
    for instruction in plan.chains[0].instructions:
        kind = type(instruction.instr_args).__name__
        if kind == "KernelCall":
            kernels[plan.operators[instruction.instr_args.op_index].name] += 1
        delegate_calls += kind == "DelegateCall"
    nodes: Counter = Counter()
    datatypes: Counter = Counter()
    schema = importlib.resources.files("executorch.backends.xnnpack.serialization").joinpath("schema.fbs")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "schema.fbs").write_bytes(schema.read_bytes())
        for i, delegate in enumerate(plan.delegates):
            payload = program.backend_delegate_data[delegate.processed.index].data
            assert payload[4:8] == XNNHeader.EXPECTED_MAGIC, f"delegate {i} of {path.name} is no XNNPACK payload"
            header = XNNHeader.from_bytes(payload[: XNNHeader.EXPECTED_LENGTH])
            graph = Path(tmp) / f"graph{i}.bin"
            graph.write_bytes(payload[header.flatbuffer_offset : header.flatbuffer_offset + header.flatbuffer_size])
            _flatc_decompile(tmp, str(Path(tmp) / "schema.fbs"), str(graph), ["--raw-binary"])
            decoded = json.loads(graph.with_suffix(".json").read_text())
            nodes.update(node["xnode_union_type"] for node in decoded["xnodes"])
            for value in decoded["xvalues"]:
                tensor = value["xvalue_union"]
                datatypes[tensor.get("tensor_value", tensor)["datatype"].removeprefix("xnn_datatype_")] += 1
    return {
        "delegates": [d.id for d in plan.delegates], "delegate_calls": delegate_calls, "kernels": dict(kernels),
        "xnn_nodes": dict(nodes), "xnn_datatypes": dict(datatypes),
    }


def _tflite_contents(path: Path) -> dict:
    """A .tflite read back: operators and tensor types from the flatbuffer (constant tensors,
    i.e. weights, apart from the others), and the DELEGATE nodes the interpreter makes when it
    applies its default XNNPACK delegate."""
    from ai_edge_litert import schema_py_generated as fb
    from ai_edge_litert.interpreter import Interpreter

    model = fb.Model.GetRootAs(path.read_bytes(), 0)
    op_names = {v: k for k, v in vars(fb.BuiltinOperator).items() if not k.startswith("_")}
    type_names = {v: k for k, v in vars(fb.TensorType).items() if not k.startswith("_")}
    ops: Counter = Counter()
    weights: Counter = Counter()
    activations: Counter = Counter()
    float_outputs: set = set()  # op types that write a float32 tensor
    for s in range(model.SubgraphsLength()):
        graph = model.Subgraphs(s)
        for i in range(graph.OperatorsLength()):
            op = graph.Operators(i)
            code = model.OperatorCodes(op.OpcodeIndex())
            name = op_names[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())]
            ops[name] += 1
            if any(type_names[graph.Tensors(op.Outputs(k)).Type()] == "FLOAT32" for k in range(op.OutputsLength())):
                float_outputs.add(name)
        for i in range(graph.TensorsLength()):
            tensor = graph.Tensors(i)
            buffer = model.Buffers(tensor.Buffer())
            constant = buffer.DataLength() > 0 or buffer.Size() > 0
            (weights if constant else activations)[type_names[tensor.Type()]] += 1
    interpreter = Interpreter(model_path=str(path))  # the default op resolver applies XNNPACK
    interpreter.allocate_tensors()
    partitions = sum(op["op_name"] == "DELEGATE" for op in interpreter._get_ops_details())
    return {"ops": dict(ops), "weights": dict(weights), "activations": dict(activations), "partitions": partitions,
            "float_outputs": float_outputs}


def _coreml_contents(path: Path) -> dict:
    """A .mlpackage's spec read back with coremltools: inputs and outputs (name, shape, dtype),
    op types, the storage dtypes of weight tensors (rank >= 2 constants) and the dtypes the
    compute ops (linear, matmul, conv) produce."""
    import coremltools as ct
    from coremltools.proto import MIL_pb2
    from coremltools.proto.FeatureTypes_pb2 import ArrayFeatureType

    spec = ct.models.MLModel(str(path), skip_model_load=True).get_spec()

    def features(items):
        return [(f.name, list(f.type.multiArrayType.shape), ArrayFeatureType.ArrayDataType.Name(f.type.multiArrayType.dataType))
                for f in items]

    ops: Counter = Counter()
    weights: Counter = Counter()
    compute: Counter = Counter()
    for function in spec.mlProgram.functions.values():
        for block in function.block_specializations.values():
            for op in block.operations:
                ops[op.type] += 1
                if op.type == "const" or op.type.startswith("constexpr"):
                    for value in op.attributes.values():
                        if value.type.WhichOneof("type") == "tensorType" and value.type.tensorType.rank >= 2:
                            weights[MIL_pb2.DataType.Name(value.type.tensorType.dataType)] += 1
                if op.type in ("linear", "matmul", "conv"):
                    compute.update(MIL_pb2.DataType.Name(out.type.tensorType.dataType) for out in op.outputs)
    return {"inputs": features(spec.description.input), "outputs": features(spec.description.output),
            "ops": dict(ops), "weights": dict(weights), "compute": dict(compute)}


def _check_artifact(backend: str, precision: str, path: Path, entry: dict, shape: list, dtype: str, embed_dim: int) -> None:
    """The artifact file holds the precision it claims, and the manifest's delegation summary
    and op counts are what the file shows."""
    record = next(a for a in entry["artifacts"] if a["file"] == path.name)
    where = f"{backend} {precision} {path.name}"
    if backend == "executorch":
        pte = _pte_contents(path)
        delegation = record["delegation"]
        assert pte["delegates"] and set(pte["delegates"]) == {"XnnpackBackend"}, where
        assert pte["delegate_calls"] == len(pte["delegates"]) == delegation["delegated_subgraphs"], where
        assert pte["xnn_nodes"].get("XNNFullyConnected", 0) > 0, f"{where}: no linear layer in XNNPACK: {pte['xnn_nodes']}"
        # the kernel calls outside XNNPACK are the ops the manifest says were not delegated
        left = {name.replace("::", "_"): count for name, count in pte["kernels"].items()}
        claimed: Counter = Counter()
        for op, counts in delegation["ops"].items():
            if counts["not_delegated"]:
                owner = max((name for name in left if op.startswith(name + "_") or op == name), key=len, default=op)
                claimed[owner] += counts["not_delegated"]
        assert dict(claimed) == left, f"{where}: manifest {dict(claimed)}, program {left}"
        types = pte["xnn_datatypes"]
        quantized = {t for t in types if t.startswith("q")}
        want = {"fp32": set(), "int8-dynamic": {"qcint8", "qdint8"}, "int8": {"qcint8", "qint8"}}[precision]
        assert want <= quantized and (precision != "fp32" or not quantized), f"{where}: XNNPACK datatypes {types}"
        if precision == "int8":
            assert "qdint8" not in types, f"{where}: static int8 quantizes activations at run time: {types}"
    elif backend == "tflite":
        tfl = _tflite_contents(path)
        assert tfl["partitions"] >= 1 and tfl["partitions"] == record["delegation"]["partitions"], where
        assert tfl["ops"] == record["ops"] and tfl["ops"].get("FULLY_CONNECTED", 0) > 0, where
        weights, activations = tfl["weights"], tfl["activations"]
        if precision == "fp32":
            assert not {"FLOAT16", "INT8"} & (set(weights) | set(activations)), f"{where}: {weights} {activations}"
        elif precision == "fp16":
            assert weights.get("FLOAT16", 0) > 0 and tfl["ops"].get("DEQUANTIZE", 0) > 0 and "INT8" not in weights, where
        elif precision == "int8-dynamic":
            assert weights.get("INT8", 0) > 0 and "INT8" not in activations and "QUANTIZE" not in tfl["ops"], where
        else:
            assert weights.get("INT8", 0) > 0 and activations.get("INT8", 0) > 0 and tfl["ops"].get("QUANTIZE", 0) > 0, where
            # settings 6: the ops XNNPACK has no int8 kernel for stay float, inside the one partition (before: 9 partitions,
            # the int8 BATCH_MATMULs on TFLite's reference kernels)
            assert tfl["partitions"] == 1 and not record["delegation"]["not_delegated_ops"].keys() & {"BATCH_MATMUL", "SOFTMAX", "GELU"}, where
            assert tfl["float_outputs"] >= {"BATCH_MATMUL", "SOFTMAX", "GELU"} & set(tfl["ops"]), where
    else:
        cml = _coreml_contents(path)
        assert cml["inputs"] == [("x", shape, dtype.upper())], f"{where}: {cml['inputs']}"
        assert cml["outputs"] == [("y", [shape[0], embed_dim], "FLOAT32")], f"{where}: {cml['outputs']}"
        assert cml["ops"] == record["ops"] and cml["ops"].get("linear", 0) > 0, where
        weights, compute = cml["weights"], cml["compute"]
        stored = {"fp32": "FLOAT32", "fp16": "FLOAT16", "int8": "INT8"}[precision]
        assert weights.get(stored, 0) > 0, f"{where}: weights {weights}"
        if precision == "fp32":
            assert set(weights) == {"FLOAT32"} and set(compute) == {"FLOAT32"}, f"{where}: {weights} {compute}"
        else:
            assert "FLOAT32" not in weights and set(compute) == {"FLOAT16"}, f"{where}: {weights} {compute}"


def test_registry_names_suffixes_and_precisions():
    assert list_backends() == ["executorch", "coreml", "tflite"]
    offered = {name: (get_converter(name).suffix, get_converter(name).precisions) for name in list_backends()}
    assert offered == {
        "executorch": (".pte", ("fp32", "int8-dynamic", "int8")),
        "coreml": (".mlpackage", ("fp32", "fp16", "int8")),
        "tflite": (".tflite", ("fp32", "fp16", "int8-dynamic", "int8")),
    }
    assert all(p in PRECISIONS for _, ps in offered.values() for p in ps)
    assert all(set(get_converter(name).schemes) == set(get_converter(name).precisions) for name in offered)
    assert get_converter("coreml").can_run_here() == (platform.system() == "Darwin")
    with pytest.raises(ConfigError, match="unknown backend 'onnx'"):
        get_converter("onnx")


@pytest.mark.parametrize("backend,precision", COMBOS, ids=[f"{b}-{p}" for b, p in COMBOS])
def test_converts_and_matches_eager(clip, unseen_inputs, backend, precision):
    artifact_set = convert(clip, backend, precision, batch_sizes=(1,))
    manifest = json.loads((artifact_set.dir / "manifest.json").read_text())
    assert manifest == artifact_set.manifest and MANIFEST_KEYS <= set(manifest)
    assert (manifest["model"], manifest["backend"], manifest["precision"]) == (MODEL, backend, precision)
    assert artifact_set.dir.name == f"{MODEL}-{backend}-{precision}-{manifest['key'][:12]}"
    converter = get_converter(backend)
    for tower, dtype, width in (("image", "float32", clip.preprocess.size), ("text", "int32", clip.context_length)):
        entry = manifest["towers"][tower]
        record = entry["artifacts"][0]
        path = artifact_set.artifact(tower, 1)
        assert path.name == f"{tower}-b1{converter.suffix}" and record["size_bytes"] > 10_000
        assert record["inputs"][0]["dtype"] == dtype and record["inputs"][0]["shape"][:2] == [1, 3 if tower == "image" else width]
        assert record["outputs"][0]["shape"] == [1, clip.embed_dim] and record["outputs"][0]["dtype"] == "float32"
        assert entry["flops"] > 0 and entry["convert_s"] > 0
        _check_artifact(backend, precision, path, entry, record["inputs"][0]["shape"], dtype, clip.embed_dim)
        _check_runs_like_eager(artifact_set, tower, entry["parity"], precision, clip, unseen_inputs)


def _check_runs_like_eager(artifact_set, tower, parity, precision, clip, unseen_inputs):
    """The manifest's parity, and a second run of the artifact on inputs it never saw."""
    if not get_converter(artifact_set.backend).can_run_here():  # the spec was checked from the file above
        assert parity["status"] == NOT_RUN and parity["cosine_min"] is None
        with pytest.raises(BackendUnavailable, match="macOS"):
            load_artifact(artifact_set.artifact(tower, 1), artifact_set.backend)
        return
    floor = PARITY_FLOORS[precision]
    assert parity["status"] == "ok" and parity["n"] >= 32 and parity["threshold"] == floor
    assert parity["cosine_min"] >= floor
    runner = load_artifact(artifact_set.artifact(tower, 1), artifact_set.backend, threads=1)
    module = clip.image_encoder if tower == "image" else clip.text_encoder
    inputs = unseen_inputs[tower]
    cosine = _cosines(run_batched(runner, inputs, 1), _eager(module, inputs))
    assert cosine.min() >= floor, f"{artifact_set.backend} {precision} {tower}: cosine {cosine.min():.4f} < floor {floor}"
    if tower == "text":  # padding only, no end-of-text: a zero vector to normalise must not abort the run
        assert np.all(np.isfinite(runner(np.zeros_like(inputs[:1]))))


@pytest.mark.slow  # the S student covers every backend x precision in the fast suite; the M student's ~4 minutes run with -m slow
@pytest.mark.parametrize("backend,precision", COMBOS, ids=[f"{b}-{p}" for b, p in COMBOS])
def test_the_other_student_size_passes_parity(backend, precision):
    """The M student (trained weights) converts at every backend x precision and passes its
    precision's parity floor (Core ML off macOS: its spec, read from the file)."""
    other = create_model("edgeclip-m-distilled")
    assert other.weights.trained
    artifact_set = convert(other, backend, precision, batch_sizes=(1,))
    for tower, entry in artifact_set.manifest["towers"].items():
        parity = entry["parity"]
        if not get_converter(backend).can_run_here():
            assert parity["status"] == NOT_RUN and parity["cosine_min"] is None
            spec = entry["artifacts"][0]["inputs"][0]
            _check_artifact(backend, precision, artifact_set.artifact(tower, 1), entry, spec["shape"], spec["dtype"], other.embed_dim)
            continue
        floor = PARITY_FLOORS[precision]
        assert parity["status"] == "ok" and parity["n"] >= 32 and parity["threshold"] == floor, (tower, parity)
        assert parity["cosine_min"] >= floor, f"{backend} {precision} {tower}: {parity}"


def test_delegation_summaries_match_the_artifacts(clip):
    """The manifest's delegation figures are what the files show: the .pte's XnnpackBackend
    delegate calls and the kernel calls left outside them, the DELEGATE partitions LiteRT makes
    of the .tflite, the int8 weights stored in the .mlpackage."""
    et_set = convert(clip, "executorch", "fp32", batch_sizes=(1,))
    et = et_set.manifest["towers"]["image"]
    pte = _pte_contents(et_set.artifact("image", 1))
    assert len(pte["delegates"]) == et["delegation"]["delegated_subgraphs"] >= 1
    assert sum(pte["kernels"].values()) == sum(c["not_delegated"] for c in et["delegation"]["ops"].values())
    # every linear of the MLPs at least runs inside XNNPACK
    assert pte["xnn_nodes"]["XNNFullyConnected"] >= 2 * clip.image_encoder.config.vision_layers
    _check_artifact("executorch", "fp32", et_set.artifact("image", 1), et, [1, 3, clip.preprocess.size, clip.preprocess.size],
                    "float32", clip.embed_dim)
    tfl_set = convert(clip, "tflite", "fp32", batch_sizes=(1,))
    tfl = tfl_set.manifest["towers"]["image"]
    contents = _tflite_contents(tfl_set.artifact("image", 1))
    assert contents["partitions"] == tfl["delegation"]["partitions"] >= 1
    assert contents["ops"]["FULLY_CONNECTED"] == tfl["artifacts"][0]["ops"]["FULLY_CONNECTED"] > 0
    cml_set = convert(clip, "coreml", "int8", batch_sizes=(1,))
    cml = _coreml_contents(cml_set.artifact("image", 1))
    assert cml["weights"].get("INT8", 0) > 0 and "FLOAT32" not in cml["weights"]
    assert cml["ops"]["linear"] == cml_set.manifest["towers"]["image"]["artifacts"][0]["ops"]["linear"] > 0


def test_executorch_fp32_towers_run_in_one_xnnpack_call(clip):
    """executorch_lowering keeps a float tower in XNNPACK: the image tower is one delegate call
    with no portable kernel at all (LayerNorm, the CLS select, the L2 sum included); the text
    tower's portable kernels are only its prologue (token lookup, end-of-text mask) before its one call."""
    from executorch.exir._serialize._program import deserialize_pte_binary

    et_set = convert(clip, "executorch", "fp32", batch_sizes=(1,))
    image = _pte_contents(et_set.artifact("image", 1))
    assert image["delegate_calls"] == 1 and image["kernels"] == {}, image
    assert et_set.manifest["towers"]["image"]["delegation"]["not_delegated_ops"] == []
    text = _pte_contents(et_set.artifact("text", 1))
    assert text["delegate_calls"] == 1, text
    plan = deserialize_pte_binary(et_set.artifact("text", 1).read_bytes()).program.execution_plan[0]
    kinds = [type(i.instr_args).__name__ for i in plan.chains[0].instructions]
    assert "KernelCall" not in kinds[kinds.index("DelegateCall"):], "nothing runs outside XNNPACK after the text tower's call"
    assert not {"aten::native_layer_norm", "aten::select_copy", "aten::sum"} & set(text["kernels"]), text


def test_flops_match_a_hand_count_of_the_image_tower(clip):
    cfg = clip.image_encoder.config
    tokens, width = (cfg.image_size // cfg.patch_size) ** 2 + 1, cfg.vision_width
    patch = 2 * 3 * cfg.patch_size**2 * width * (tokens - 1)
    block = 24 * tokens * width**2 + 4 * tokens**2 * width  # qkv, out, mlp matmuls + two attention matmuls
    expected = patch + cfg.vision_layers * block + 2 * width * cfg.embed_dim
    manifest = convert(clip, "coreml", "fp32", batch_sizes=(1,)).manifest
    assert manifest["towers"]["image"]["flops"] == expected


def test_flops_see_fused_attention_projections():
    import torch
    from torch import nn

    from edge_bench.converters.export import count_flops

    class Attend(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.mha = nn.MultiheadAttention(64, 4, batch_first=True)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.mha(x, x, x, need_weights=False)[0]

    tokens, width = 10, 64
    projections = 2 * tokens * width * 3 * width + 2 * tokens * width * width  # in_proj (q, k, v) and out_proj
    attention = 2 * (2 * tokens * tokens * width)  # q k^T and attn v over all heads
    x = np.random.default_rng(0).standard_normal((1, tokens, width)).astype(np.float32)
    assert count_flops(Attend().eval(), x) == projections + attention


@pytest.fixture(scope="session")
def eager_test_recall(clip):
    """Recall of the eager model on the whole synthetic test split (1000 images, 5000 captions)."""
    from edge_bench.evaluate import embed_dataset
    from edge_bench.metrics import retrieval_recall

    ds = load_dataset("synthetic", "test")
    return ds, retrieval_recall(*embed_dataset(clip, ds)[:2], ds.caption_image)


@pytest.mark.parametrize("backend", ["executorch", "tflite"])
def test_recall_from_fp32_artifacts_matches_eager(clip, eager_test_recall, backend):
    from edge_bench.metrics import retrieval_recall

    ds, eager = eager_test_recall
    artifact_set = convert(clip, backend, "fp32", batch_sizes=(1, 4))  # the run tests' set: converted once per session
    image, text = host_embed(artifact_set, ds, threads=1)
    assert image.shape == (ds.n_images, clip.embed_dim) and text.shape == (ds.n_captions, clip.embed_dim)
    converted = retrieval_recall(image, text, ds.caption_image)
    for metric, value in eager.items():
        assert abs(converted[metric] - value) <= 0.002, f"{metric}: eager {value:.4f}, {backend} {converted[metric]:.4f}"


def test_gallery_batch_pads_the_last_partial_batch(clip):
    artifact_set = convert(clip, "tflite", "fp32", batch_sizes=(1, 4))  # the run tests' gallery batch: made once
    sizes = artifact_set.batch_sizes("image")
    assert 4 in sizes and 4 in artifact_set.batch_sizes("text")
    largest = sizes[-1]  # host_embed runs the largest batch the set holds
    ds = load_dataset("synthetic", "test", n_images=13)  # 13 images, 65 captions: a multiple of neither 4 nor 8
    assert 13 % largest and 65 % largest
    image, text = host_embed(artifact_set, ds)
    pp = clip.preprocess
    want_image = _eager(clip.image_encoder, normalize(preprocess_images(ds, pp), pp.mean, pp.std))
    want_text = _eager(clip.text_encoder, clip.tokenizer(ds.captions))
    assert image.shape == want_image.shape == (13, clip.embed_dim) and text.shape == want_text.shape
    assert _cosines(image, want_image).min() > 0.9999 and _cosines(text, want_text).min() > 0.9999


def test_batches_pad_by_repeating_the_last_row():
    items = np.arange(10).reshape(5, 2)
    got = list(batches(items, 2))
    assert [real for _, real in got] == [2, 2, 1]
    np.testing.assert_array_equal(got[-1][0], [[8, 9], [8, 9]])
    doubled = run_batched(lambda x: x.astype(np.float32) * 2, items, 4)
    np.testing.assert_array_equal(doubled, items * 2)


def test_cached_set_is_reused_and_a_damaged_file_is_rebuilt(clip):
    first = convert(clip, "tflite", "fp32", batch_sizes=(1,))
    path = first.artifact("text", 1)
    stamp = path.stat().st_mtime_ns
    again = convert(clip, "tflite", "fp32", batch_sizes=(1,))
    assert again.dir == first.dir and path.stat().st_mtime_ns == stamp
    path.write_bytes(b"not a model")
    rebuilt = convert(clip, "tflite", "fp32", batch_sizes=(1,))
    assert rebuilt.dir == first.dir and path.stat().st_size > 10_000
    assert rebuilt.manifest["towers"]["text"]["artifacts"][0]["sha256"] == first.manifest["towers"]["text"]["artifacts"][0]["sha256"]


def test_artifact_set_errors_name_the_cause(clip):
    artifact_set = convert(clip, "coreml", "fp32", batch_sizes=(1,))
    with pytest.raises(ConfigError, match="no image artifact at batch 4"):
        artifact_set.artifact("image", 4)
    with pytest.raises(ConfigError, match="artifact not found"):
        load_artifact(artifact_set.dir / "nope.pte", "executorch")
    with pytest.raises(ConfigError, match="does not offer precision 'fp16'"):
        convert(clip, "executorch", "fp16")
    with pytest.raises(ConfigError, match="unknown precision 'int4'"):
        convert(clip, "tflite", "int4")
    with pytest.raises(ConfigError, match="batch sizes must be positive"):
        convert(clip, "tflite", "fp32", batch_sizes=(0,))
