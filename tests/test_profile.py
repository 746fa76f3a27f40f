"""Per-operator profiles (#14): ETDump through the ETRecord on a real .pte, benchmark_model's documented output
formats, LiteRT placement, the roll-up by block, and the profile stored with the typed record."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge_bench.agent.errors import AgentError
from edge_bench.agent.placement import placement
from edge_bench.agent.spec import JobSpec
from edge_bench.profile import benchmark_model
from edge_bench.profile.blocks import roll_up
from edge_bench.profile.build import from_agent
from edge_bench.profile.model import OpRow, TowerProfile
from edge_bench.profile.tflite_names import module_of
from edge_bench.records.codec import decode, encode
from edge_bench.records.tower import TowerResult

FIXTURES = Path(__file__).parent / "fixtures" / "benchmark_model"


# --- benchmark_model --enable_op_profiling: stdout and CSV ---------------------------------------------------------

@pytest.mark.parametrize("name", ["op_profile_stdout.txt", "op_profile.csv"])
def test_benchmark_model_run_order_rows_of_the_regular_runs(name):
    parsed = benchmark_model.parse((FIXTURES / name).read_text())
    primary, internal = parsed.graph("primary"), parsed.graph("delegate")
    # the initialization section (ModifyGraphWithDelegate) and the Top-by-time duplicates are not rows
    assert [n.type for n in primary] == ["TfLiteXNNPackDelegate", "BATCH_MATMUL", "SOFTMAX", "TfLiteXNNPackDelegate"]
    assert [n.type for n in internal] == ["Convolution (NHWC, F32) IGEMM", "Fully Connected (NC, F32) GEMM",
                                          "Transpose (ND, X32)", "Fully Connected (NC, F32) GEMM"]  # commas inside a CSV field
    assert primary[1].times_called == 2 and primary[1].avg_ms == pytest.approx(0.05)
    assert parsed.timings["primary"]["avg"] == 1100 and parsed.timings["primary"]["count"] == 120
    assert parsed.timings["delegate"]["avg"] == 870


def test_benchmark_model_profile_places_delegate_summary_rows_and_blocks():
    parsed = benchmark_model.parse((FIXTURES / "op_profile_stdout.txt").read_text())
    p = benchmark_model.tower_profile(parsed, "image", timed_median_ms=1.2)
    call = [r for r in p.ops if r.kind == "delegate-call"]
    # the two partitions' summary rows (0.62 + 0.30 ms) less their kernels (0.20 + 0.35 + 2 x 0.02 + 0.28 ms)
    assert len(call) == 1 and call[0].median_ms == pytest.approx(0.05)
    portable = {r.name: r for r in p.ops if r.kind == "portable"}
    assert portable["BATCH_MATMUL"].median_ms == pytest.approx(0.10)  # avg per call x times called
    assert portable["BATCH_MATMUL"].module == "blocks.0.attn" and portable["BATCH_MATMUL"].block == "attention"
    assert p.op_total_ms == pytest.approx(0.10 + 0.03 + 0.87 + 0.05)
    assert p.execute_ms == pytest.approx(1.1) and p.delegate_calls == 2
    assert p.outside_delegate_ms == pytest.approx(0.13 + 0.05)  # TFLite's kernels + what no row covers
    assert sum(b.ms for b in p.blocks) == pytest.approx(1.1)
    assert p.coverage == pytest.approx(1.05 / 1.2) and p.explained == pytest.approx(1.05 / 1.1)
    assert p.block("patch embedding").ms == pytest.approx(0.20) and p.block("layout").ms == pytest.approx(0.04)


def test_benchmark_model_flags_write_csv():
    assert benchmark_model.flags("/data/local/tmp/eb/op.csv") == [
        "--enable_op_profiling=true", "--op_profiling_output_mode=csv", "--op_profiling_output_file=/data/local/tmp/eb/op.csv"]


def test_litert_torch_tensor_names_give_the_module():
    root = "edge_bench.models.edgeclip.EdgeClipImage"
    qkv = (f"{root}/edge_bench.models.edgeclip.Block_0/torch.nn.modules.normalization.LayerNorm_ln1;;{root}/"
           "edge_bench.models.edgeclip.Block_0/edge_bench.models.edgeclip.Attention_attn/torch.nn.modules.linear.Linear_qkv;1")
    assert module_of(qkv) == ("blocks.0.attn.qkv", "Linear")
    assert module_of(f"{root}/torch.nn.modules.normalization.LayerNorm_ln;3") == ("ln", "LayerNorm")
    assert module_of(f"{root};9") == ("", "EdgeClipImage")
    block = f"{root}/edge_bench.models.edgeclip.Block_0"
    residual = f"{block};;{block}/edge_bench.models.edgeclip.Attention_attn/torch.nn.modules.linear.Linear_out;"
    assert module_of(residual, "ADD") == ("blocks.0", "Block") and module_of(residual, "FULLY_CONNECTED") == ("blocks.0.attn.out", "Linear")
    assert module_of("serving_default_x:0") == ("", "")


# --- LiteRT placement -------------------------------------------------------------------------------------------------

def _op(index, name, inputs, outputs):
    return {"index": index, "op_name": name, "inputs": inputs, "outputs": outputs}


def test_placement_walks_each_partition_back_to_its_inputs():
    # t0 -> QUANTIZE -> t1 -> FC -> t2 -> DEQUANTIZE -> t3 -> SOFTMAX (not delegated) -> t4 -> FC -> t5 ; t9 a weight
    ops = [_op(0, "QUANTIZE", [0], [1]), _op(1, "FULLY_CONNECTED", [1, 9], [2]), _op(2, "DEQUANTIZE", [2], [3]),
           _op(3, "SOFTMAX", [3], [4]), _op(4, "FULLY_CONNECTED", [4, 9], [5]),
           _op(5, "DELEGATE", [0, 9], [3]), _op(6, "DELEGATE", [4, 9], [5])]
    names = {4: "m/pkg.Block_0/pkg.Attention_attn;2", 5: "m/torch.nn.Linear_proj;1"}
    pl = placement(ops, names)
    assert pl["partitions"] == 2 and pl["partition_sizes"] == [3, 1]
    assert pl["not_delegated_ops"] == {"SOFTMAX": 1} and pl["delegated_nodes"] == 4
    assert pl["quantize"] == 1 and pl["dequantize"] == 1
    assert pl["run_order"][3] == ["SOFTMAX", False, "m/pkg.Block_0/pkg.Attention_attn;2", -1, 3]
    assert [entry[3] for entry in pl["run_order"]] == [0, 0, 0, -1, 1]  # each node's partition (-1: outside)
    p = from_agent({"status": "ok", "source": "placement", "placement": pl, "wall_s": 0.1}, Path("."), Path("x.tflite"),
                   "image", 0.001, job_wall_s=2.0)
    assert p.delegate_calls == 2 and p.placement["not_delegated_ops"] == {"SOFTMAX": 1} and "run_order" not in p.placement
    assert [r.kind for r in p.ops] == ["delegate", "delegate", "delegate", "portable", "delegate"]
    assert p.ops[3].module == "blocks.0.attn" and p.overhead_share == pytest.approx(0.05)


# --- roll-up, the typed record, the agent's spec ----------------------------------------------------------------------

def test_roll_up_shares_of_the_timed_median_and_time_outside_the_delegate():
    rows = [OpRow("ln", "portable", "norms", median_ms=0.2), OpRow("FC", "delegate", "mlp", median_ms=0.5),
            OpRow("FC", "delegate", "mlp", median_ms=0.3), OpRow("call", "delegate-call", "delegate overhead", median_ms=0.1)]
    blocks = {b.block: b for b in roll_up(rows, timed_median_ms=2.0, runtime_overhead_ms=0.4)}
    assert blocks["mlp"].ms == pytest.approx(0.8) and blocks["mlp"].share == pytest.approx(0.4) and blocks["mlp"].ops == 2
    assert blocks["norms"].outside_delegate_ms == pytest.approx(0.2) and blocks["mlp"].outside_delegate_ms == 0
    assert blocks["runtime overhead"].ms == pytest.approx(0.4) and "attention" not in blocks


def test_profile_is_stored_with_the_tower_and_old_rows_decode():
    p = TowerProfile(source="etdump", ops=(OpRow("FC", "delegate", "mlp", "blocks.0.mlp.0", ("aten.linear.default",), 0.5, 0.6, 20),),
                     op_total_ms=0.5, timed_median_ms=0.55, wall_s=0.2, job_wall_s=4.0)
    back = decode(TowerResult, encode(TowerResult(profile=p)))
    assert back.profile == p and back.profile.coverage == pytest.approx(0.5 / 0.55)
    assert decode(TowerResult, {"status": "ok", "latency": {"n": 0}}).profile is None  # a row written before #14


def test_job_spec_profile_runs():
    base = {"tower": "image", "backend": "executorch", "artifact": {"path": "a.pte"}, "output_dir": "out",
            "inputs": {"path": "x.npy", "kind": "uint8_images"}}
    assert JobSpec.from_dict(base).profile == 0
    assert JobSpec.from_dict({**base, "profile": 25}).profile == 25
    with pytest.raises(AgentError, match="profile"):
        JobSpec.from_dict({**base, "profile": -1})


def test_a_device_cannot_point_the_host_outside_its_output_folder(tmp_path):
    p = from_agent({"status": "ok", "source": "etdump", "file": "../../etc/passwd"}, tmp_path, tmp_path / "a.pte", "image", 0.001)
    assert p.status == "failed" and "plain file name" in p.reason
    unsupported = from_agent({"status": "unsupported", "reason": "no ETDump"}, tmp_path, tmp_path / "a.pte", "text", None)
    assert unsupported.status == "unsupported" and unsupported.reason == "no ETDump"


# --- ExecuTorch: a real .pte, its ETRecord, an ETDump from the agent's runtime ---------------------------------------

def _tiny_vit():
    import torch
    from torch import nn

    class Attention(nn.Module):
        def __init__(self, w):
            super().__init__()
            self.qkv, self.out = nn.Linear(w, 3 * w), nn.Linear(w, w)

        def forward(self, x):
            q, k, v = self.qkv(x).chunk(3, dim=-1)
            return self.out(torch.softmax(q @ k.transpose(-1, -2) / 4.0, dim=-1) @ v)

    class Block(nn.Module):
        def __init__(self, w):
            super().__init__()
            self.ln1, self.attn, self.ln2 = nn.LayerNorm(w), Attention(w), nn.LayerNorm(w)
            self.mlp = nn.Sequential(nn.Linear(w, 4 * w), nn.GELU(), nn.Linear(4 * w, w))

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))

    class Tower(nn.Module):
        def __init__(self, w=32):
            super().__init__()
            self.patch = nn.Conv2d(3, w, 8, 8)
            self.blocks = nn.ModuleList([Block(w), Block(w)])
            self.proj = nn.Linear(w, 16, bias=False)

        def forward(self, x):
            x = self.patch(x).flatten(2).transpose(1, 2)
            for block in self.blocks:
                x = block(x)
            return self.proj(x.mean(dim=1))

    torch.manual_seed(0)
    return Tower().eval()


@pytest.mark.slow  # a conversion and the devtools' Inspector: ~15 s of CPU
def test_etdump_of_a_real_pte_maps_kernels_to_the_students_modules(tmp_path):
    pytest.importorskip("executorch")
    from edge_bench.agent.runtimes.executorch_rt import ExecutorchPybind
    from edge_bench.converters.base import TowerJob
    from edge_bench.converters.executorch_backend import ExecuTorchConverter
    from edge_bench.profile.etdump import etrecord_path, read_etdump

    x = np.random.default_rng(0).random((1, 3, 32, 32), dtype=np.float32)
    pte = tmp_path / "image-b1.pte"
    ExecuTorchConverter().convert(TowerJob("image", _tiny_vit(), x), pte)
    assert etrecord_path(pte).exists()  # written at conversion, beside the .pte

    block = ExecutorchPybind(1, {}).profile(str(pte), [x], 10, tmp_path)
    assert block == {"status": "ok", "source": "etdump", "runs": 10, "file": "profile.etdp"}
    p = read_etdump(tmp_path / block["file"], etrecord_path(pte), "image", timed_median_ms=None)

    assert p.runs == 10 and p.execute_ms and p.delegate_calls >= 2
    # LayerNorm runs inside XNNPACK (the converter computes its means as linear layers): its kernels are delegate
    # events of the student's own module, in the norms block
    ln = [r for r in p.ops if r.module == "blocks.0.ln1"]
    assert ln and all(r.kind == "delegate" and r.block == "norms" for r in ln)
    assert {r.name.split(" (")[0] for r in ln} >= {"Fully Connected", "Subtract", "Multiply", "Add"}
    # what this tiny ViT leaves outside (its qkv split) runs on the portable kernels, mapped to its module
    split = [r for r in p.ops if r.kind == "portable" and r.op_types == ("aten.split_with_sizes_copy.default",)]
    assert {r.module for r in split} == {"blocks.0.attn", "blocks.1.attn"} and all(r.block == "layout" for r in split)
    fc = [r for r in p.ops if r.kind == "delegate" and r.name.startswith("Fully Connected")]
    assert {r.module for r in fc} >= {"blocks.0.attn.qkv", "blocks.0.attn.out", "blocks.0.mlp.0", "blocks.0.mlp.2", "blocks.1.mlp.2", "proj"}
    assert {r.module: r.block for r in fc}["blocks.1.mlp.0"] == "mlp" and {r.module: r.block for r in fc}["proj"] == "projection"
    assert any(r.block == "patch embedding" and r.name.startswith("Convolution") for r in p.ops)
    assert any(r.block == "attention" and r.name.startswith("Softmax") for r in p.ops)
    # the blocks are the operators plus the runtime's own overhead (taken run by run)
    overhead = p.block("runtime overhead").ms if p.block("runtime overhead") else 0.0
    assert sum(b.ms for b in p.blocks) == pytest.approx(p.op_total_ms + overhead) and overhead < p.execute_ms
    assert p.outside_delegate_ms >= max(r.median_ms for r in split)
    assert 0.5 < p.explained <= 1.0 + 1e-9  # the events lie inside Method::execute, run by run
    # XNNPACK's kernels read in whole microseconds; their remainders are in the delegate calls' rows, inside the sum
    assert p.floored_kernels == sum(1 for r in p.ops if r.kind == "delegate") > 0
    assert p.floor_slack_ms == 0 and p.coverage_upper is None
    (note,) = [n for n in p.notes if "whole microseconds" in n]  # how much of 'delegate overhead' may be kernel time
    calls = sum(r.median_ms for r in p.ops if r.kind == "delegate-call")
    assert f"up to {min(p.floored_kernels * 1e-3, calls):.3f} ms" in note


def test_numpy_runtime_says_plainly_it_cannot_profile():
    from edge_bench.agent.runtimes.executorch_rt import ExecutorchNumpy

    runtime = ExecutorchNumpy.__new__(ExecutorchNumpy)  # the package is not installed on the host; the answer needs no import
    runtime.threads, runtime.options = 1, {}
    block = ExecutorchNumpy.profile(runtime, "a.pte", [], 10, ".")
    assert block["status"] == "unsupported" and "cannot write an ETDump" in block["reason"]


def test_the_roll_up_is_a_tower_figure_for_the_reports():
    from edge_bench.records.tower import figures
    from edge_bench.report.schema import TOWER_COLUMNS

    rows = (OpRow("FC", "delegate", "attention", median_ms=0.4), OpRow("ln", "portable", "norms", median_ms=0.1))
    p = TowerProfile(source="etdump", ops=rows, blocks=roll_up(list(rows), 0.6), op_total_ms=0.5, outside_delegate_ms=0.1,
                     timed_median_ms=0.6, wall_s=0.25, job_wall_s=5.0)
    f = figures(TowerResult(profile=p))
    assert f["profile_attention_ms"] == pytest.approx(0.4) and f["profile_norms_ms"] == pytest.approx(0.1)
    assert f["profile_mlp_ms"] == 0.0 and f["profile_operators_ms"] == 0.5 and f["profile_pass_ms"] == pytest.approx(250)
    assert figures(TowerResult())["profile_attention_ms"] is None
    assert {"profile_attention_ms", "profile_outside_delegate_ms", "profile_job_wall_ms"} <= set(TOWER_COLUMNS)  # JSON and CSV


def test_explained_is_per_run_so_a_preempted_run_does_not_skew_it():
    from types import SimpleNamespace

    from edge_bench.profile.etdump import explained, runtime_overhead_ms

    def ev(name, raw):
        return SimpleNamespace(name=name, perf_data=SimpleNamespace(raw=raw))

    # run 2 was preempted inside the delegate call: its execute and its events grow together
    events = [ev("OPERATOR_CALL", [0.1, 0.1, 0.1]), ev("DELEGATE_CALL", [0.8, 5.8, 0.8]), ev("native_call_x", [9, 9, 9]),
              ev("Method::execute", [1.0, 6.0, 1.0])]
    assert explained(events) == pytest.approx(0.9)
    assert explained(events[:2]) is None  # no Method::execute
    assert runtime_overhead_ms(events) == pytest.approx(0.1)  # not the 5 ms a median-of-sums would make of run 2


def test_the_cli_block_table_has_every_block_of_both_towers_like_the_json():
    """`edge-bench profile`'s "time by block" table: a row for each block any tower's roll-up has, that tower's ms
    in it, "-" where a tower has no such block, in the roll-up's order, the same blocks as the --json output.
    The towers as ExecuTorch lowers float models since ac8da48: one XNNPACK call each, the text tower's
    token lookup on the portable kernels before it."""
    import io
    from types import SimpleNamespace

    from rich.console import Console
    from rich.table import Table

    from edge_bench.cli.profile_view import profile_tables
    from edge_bench.profile.model import BLOCKS

    def tower(stem: str, stem_kind: str) -> TowerProfile:
        rows = [OpRow("stem", stem_kind, stem, median_ms=0.04), OpRow("FC", "delegate", "attention", median_ms=0.26),
                OpRow("FC", "delegate", "mlp", median_ms=0.35), OpRow("sub", "delegate", "norms", median_ms=0.04),
                OpRow("Add", "delegate", "residual", median_ms=0.005), OpRow("FC", "delegate", "projection", median_ms=0.006),
                OpRow("Copy", "delegate", "layout", median_ms=0.02),
                OpRow("XnnpackBackend call", "delegate-call", "delegate overhead", median_ms=0.3)]
        total = sum(r.median_ms for r in rows)
        return TowerProfile(source="etdump", runs=5, ops=tuple(rows), blocks=roll_up(rows, 1.1, runtime_overhead_ms=0.001),
                            op_total_ms=total, execute_ms=total + 0.001, timed_median_ms=1.1, delegate_calls=1)

    towers = {"image": tower("patch embedding", "delegate"), "text": tower("token embedding", "portable")}
    row = SimpleNamespace(model="edgeclip-s-scratch", backend="executorch", precision="fp32",
                          record=SimpleNamespace(tower=lambda t: TowerResult(profile=towers[t])))
    (table,) = [item for item in profile_tables(row) if isinstance(item, Table) and "time by block" in item.title]
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(table)
    cells = [[c.strip() for c in line.strip("│").split("│")] for line in out.getvalue().splitlines() if line.startswith("│")]
    shown = {r[0]: r for r in cells}

    json_blocks = {t: [b["block"] for b in encode(p)["blocks"]] for t, p in towers.items()}  # what --json writes
    every = set(json_blocks["image"]) | set(json_blocks["text"])
    assert len(every) == 10 and {"attention", "mlp", "norms", "layout", "delegate overhead"} <= every
    assert [r[0] for r in cells] == [b for b in BLOCKS if b in every] + ["sum of operators"]
    for column, (name, p) in enumerate(towers.items()):
        for b in p.blocks:
            assert shown[b.block][1 + 3 * column] == f"{b.ms:.3f}", (name, b.block)
    assert shown["patch embedding"][4] == "-" and shown["token embedding"][1] == "-"
    assert shown["token embedding"][6] == "0.040"  # the text tower's portable token lookup ran outside the delegate


def test_kernels_read_in_whole_microseconds_give_the_coverage_an_upper_end_everywhere_it_is_shown():
    """LiteRT's kernels read in whole microseconds, rounded down, and what they lack sits in 'runtime overhead',
    outside the operators' sum: the CLI line and table, the TUI line and the record's figures give the range."""
    from edge_bench.cli.profile_view import blocks_table, summary_line
    from edge_bench.records.tower import figures
    from tui.profile_model import summary

    rows = [OpRow("Fully Connected (NC, F32) GEMM", "delegate", "mlp", median_ms=0.3)] + \
        [OpRow("Static Reshape (NC)", "delegate", "layout", median_ms=0.0)] * 40
    p = TowerProfile(source="litert-profiler", runs=5, ops=tuple(rows), blocks=roll_up(rows, 0.4, runtime_overhead_ms=0.08),
                     op_total_ms=0.3, execute_ms=0.38, timed_median_ms=0.4, floored_kernels=41, floor_slack_ms=0.041)
    assert p.coverage == pytest.approx(0.75) and p.coverage_upper == pytest.approx(0.3 / 0.4 + 0.041 / 0.4)
    assert "coverage 75.0%, up to 85.2% with 41 kernels' sub-microsecond remainders" in summary_line("image", p)
    assert "coverage 75%, up to 85% with the kernels' sub-microsecond remainders" in summary("image", p)
    assert "75.0% (up to 85.2%)" in [c for col in blocks_table("x", {"image": p}).columns for c in col._cells]
    assert figures(TowerResult(profile=p))["profile_floor_slack_ms"] == pytest.approx(0.041)
    # no slack (ExecuTorch: the delegate calls' own rows hold the remainders): the coverage alone
    plain = TowerProfile(**{**p.__dict__, "floor_slack_ms": 0.0})
    assert plain.coverage_upper is None and "up to" not in summary_line("image", plain) + summary("image", plain)
