"""LiteRT per-operator times (#14): LiteRT's C profiler (libLiteRt's CompiledModel profiler, through ctypes) on
real .tflite files of the S student, its kernels placed in the student's modules, and what happens when it
cannot run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edge_bench.profile.build import from_agent
from edge_bench.profile.litert_events import align, kernel_type, profile_from_events

pytest.importorskip("ai_edge_litert")

MODEL = "edgeclip-s-scratch"  # the S student the run tests convert: the session converts its fp32 set once
GALLERY_BATCH = 4


@pytest.fixture(scope="module")
def s_set():
    from edge_bench.converters import convert
    from edge_bench.models import create_model

    model = create_model(MODEL)
    return model, convert(model, "tflite", "fp32", batch_sizes=(1, GALLERY_BATCH))


def _input(model, tower: str) -> np.ndarray:
    from edge_bench.data import load_dataset
    from edge_bench.data.preprocess import normalize, preprocess_images

    ds = load_dataset("synthetic", "test", n_images=1)
    if tower == "image":
        pp = model.preprocess
        return normalize(preprocess_images(ds, pp), pp.mean, pp.std).astype(np.float32)
    return np.asarray(model.tokenizer(ds.captions[:1]), dtype=np.int32)


def _profile(path: Path, x: np.ndarray, out: Path, runs: int = 10) -> dict:
    from edge_bench.agent.runtimes.litert_rt import AiEdgeLitert

    return AiEdgeLitert(1, {}).profile(str(path), [x], runs, out)


def test_kernel_names_are_aligned_with_their_partitions_nodes():
    nodes = [("FULLY_CONNECTED", "a/qkv"), ("RESHAPE", "a/r"), ("BATCH_MATMUL", "a/bmm"), ("SOFTMAX", "a/sm"),
             ("BATCH_MATMUL", "a/bmm2"), ("DEQUANTIZE", "a/dq"), ("FULLY_CONNECTED", "a/out")]
    kernels = ["Fully Connected (NC, QS8, QC8W) GEMM", "Static Reshape (NC)", "Batch Matrix Multiply (NC, F32) GEMM",
               "Softmax (NC, F32)", "Batch Matrix Multiply (NC, F32) GEMM", "Convert (NC)", "Something New (ND)",
               "Fully Connected (NC, QS8, QC8W) GEMM"]
    # every kernel its own node; an unknown kernel takes its predecessor's node
    assert align(kernels, nodes) == ["a/qkv", "a/r", "a/bmm", "a/sm", "a/bmm2", "a/dq", "a/dq", "a/out"]
    assert kernel_type("Convert (NC)") == "QUANTIZE" and kernel_type("Invalid Unary Op") == ""


def test_runs_partitions_and_portable_nodes_from_the_event_stream():
    """Two runs of a two-partition model with a node TFLite runs itself between the partitions: XNNPACK's operator
    index restarting marks the second partition; the portable node is placed through its node index."""
    tags = ["LiteRT::Run[buffer registration]", "Invoke", "Fully Connected (NC, F32) GEMM", "BATCH_MATMUL", "GELU (NC)"]
    run = lambda fc, bmm, gelu: [[1, 0, 5, 0, 0], [1, 1, fc + bmm + gelu + 10, 0, 0], [8, 2, fc, 0, 0], [2, 3, bmm, 1, 0],  # noqa: E731
                                 [8, 4, gelu, 0, 0]]
    data = {"schema": 1, "tags": tags, "runs": [run(100, 40, 10), run(110, 60, 10)], "wall_us": [200, 230]}
    placement = {"partitions": 2, "run_order": [
        ["FULLY_CONNECTED", True, "m.EdgeClipImage/m.Block_0/m.Attention_attn/torch.nn.modules.linear.Linear_qkv;1", 0, 0],
        ["BATCH_MATMUL", False, "m.EdgeClipImage/m.Block_0/m.Attention_attn;3", -1, 1],
        ["GELU", True, "m.EdgeClipImage/m.Block_0/torch.nn.modules.container.Sequential_mlp/torch.nn.GELU_1;1", 1, 2]]}
    p = profile_from_events(data, placement, "image", timed_median_ms=0.2)
    assert [(r.name, r.kind, r.module, r.block) for r in p.ops] == [
        ("Fully Connected (NC, F32) GEMM", "delegate", "blocks.0.attn.qkv", "attention"),
        ("BATCH_MATMUL", "portable", "blocks.0.attn", "attention"),
        ("GELU (NC)", "delegate", "blocks.0.mlp.1", "mlp")]
    assert [r.median_ms for r in p.ops] == pytest.approx([0.105, 0.05, 0.01]) and p.runs == 2
    assert p.execute_ms == pytest.approx((160 + 190) / 2 / 1e3) and p.op_total_ms == pytest.approx(0.165)
    assert p.outside_delegate_ms == pytest.approx(0.05 + 0.01)  # the portable node, and what no event covers
    assert p.explained == pytest.approx(np.median([150 / 160, 180 / 190]))
    assert p.delegate_calls == 2 and p.block("runtime overhead").ms == pytest.approx(0.01)
    # the two kernels read in whole microseconds: up to 1 us each of theirs is in the runtime overhead's 10 us
    assert p.floored_kernels == 2 and p.floor_slack_ms == pytest.approx(0.002)
    assert p.coverage == pytest.approx(0.165 / 0.2) and p.coverage_upper == pytest.approx(0.167 / 0.2)
    # a remainder smaller than the kernels' microseconds bounds what they can have lost
    tight = {**data, "runs": [run(100, 40, 10)[:1] + [[1, 1, 151, 0, 0]] + run(100, 40, 10)[2:]]}
    assert profile_from_events(tight, placement, "image", timed_median_ms=0.2).floor_slack_ms == pytest.approx(0.001)


@pytest.mark.parametrize("tower", ["image", "text"])
def test_the_profiler_times_every_kernel_of_a_real_tflite_in_its_module(s_set, tmp_path, tower):
    model, artifact_set = s_set
    path = artifact_set.artifact(tower, 1)
    block = _profile(path, _input(model, tower), tmp_path, runs=10)
    assert block["source"] == "litert-profiler" and block["file"] == "litert-ops.json", block
    events = json.loads((tmp_path / block["file"]).read_text())
    assert len(events["runs"]) == 10 and events["threads"] == 1
    p = from_agent({**block, "wall_s": 0.5}, tmp_path, path, tower, timed_median_s=0.5e-3, job_wall_s=5.0)
    assert p.status == "ok" and p.source == "litert-profiler" and p.runs == 10 and p.files["op_events"].endswith("litert-ops.json")
    fc = [r for r in p.ops if r.name.startswith("Fully Connected")]
    layers = 2  # the S student's blocks per tower
    assert len(fc) == 4 * layers + 1 and all(r.kind == "delegate" for r in fc)
    modules = {r.module for r in fc}
    assert {f"blocks.{i}.{m}" for i in range(layers) for m in ("attn.qkv", "attn.out", "mlp.0", "mlp.2")} | {"proj"} == modules
    assert {r.block for r in p.ops if r.name.startswith(("Batch Matrix Multiply", "Softmax"))} == {"attention"}
    assert all(r.block == "norms" for r in p.ops if r.name.startswith(("Reciprocal Square Root", "Squared Difference")))
    if tower == "image":
        assert [r.block for r in p.ops if r.name.startswith("Convolution")] == ["patch embedding"]
    else:  # the token lookup runs on TFLite's own kernels, before the one partition
        (lookup,) = [r for r in p.ops if r.name == "EMBEDDING_LOOKUP"]
        assert lookup.kind == "portable" and lookup.block == "token embedding"
    assert p.delegate_calls == 1 and p.placement["partitions"] == 1
    assert 0 < p.op_total_ms <= p.execute_ms and 0.3 < p.explained <= 1.0
    # what the operator events leave of each run's Invoke, run by run, computed here from the raw events
    tags = events["tags"]
    left = [sum(e[2] for e in run if tags[e[1]] == "Invoke") - sum(e[2] for e in run if e[0] in (2, 8)) for run in events["runs"]]
    assert p.block("runtime overhead").ms == pytest.approx(float(np.median(left)) / 1e3)
    kernels = sum(1 for r in p.ops if r.kind == "delegate")
    assert p.floored_kernels == kernels > 0
    assert p.floor_slack_ms == pytest.approx(min(kernels * 1e-3, float(np.median(left)) / 1e3))


def test_a_profiler_that_cannot_run_leaves_the_placement_and_says_why(s_set, tmp_path):
    model, artifact_set = s_set
    path = artifact_set.artifact("image", 1)
    wrong = np.zeros((1, 3, 8, 8), dtype=np.float32)  # not the tower's input: the profiler refuses it, the child exits 3
    block = _profile(path, wrong, tmp_path, runs=3)
    assert block["source"] == "placement" and block["placement"]["partitions"] == 1
    assert block["op_times"].startswith("no per-operator times: the LiteRT profiler failed (input of shape [1, 3, 8, 8] for a tensor of shape [1, 3, ")
    p = from_agent({**block, "wall_s": 0.1}, tmp_path, path, "image", 1e-3)
    assert p.source == "placement" and p.notes == (block["op_times"],) and not (tmp_path / "litert-ops.json").exists()


def test_the_profiler_script_says_plainly_when_there_is_no_library(tmp_path, monkeypatch, capsys):
    from edge_bench.agent import litert_profiler

    monkeypatch.setattr(litert_profiler, "library_path", lambda: None)
    np.save(tmp_path / "x.npy", np.zeros((1, 4), dtype=np.float32))
    code = litert_profiler.main(["m.tflite", str(tmp_path / "x.npy"), str(tmp_path / "out.json")])
    assert code == 3 and capsys.readouterr().err.strip() == "litert-profiler: ai_edge_litert ships no libLiteRt here"
    assert not (tmp_path / "out.json").exists()
