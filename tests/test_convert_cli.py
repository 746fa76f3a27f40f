"""`edge-bench convert` and the converters' failure paths: each bad input is one line naming its cause.

Conversions of the built-in student come from the session's artifact cache
when tests/test_convert.py made them first; the tiny models here convert in
seconds.
"""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from edge_bench.cli import main
from edge_bench.converters import convert, plan_conversions
from edge_bench.converters.executorch_backend import ExecuTorchConverter
from edge_bench.converters.parity import PARITY_FLOORS, judge
from edge_bench.errors import BackendUnavailable, ConfigError, ConversionError
from edge_bench.models import ClipModel, ModelSpec, Preprocess, list_models
from edge_bench.models import registry as model_registry

MODEL = "edgeclip-s-scratch"  # the S student the run tests use, so the session converts each set once
DIM = 16


def _unit(x: torch.Tensor) -> torch.Tensor:
    return x / torch.sqrt(torch.sum(x * x, dim=-1, keepdim=True) + 1e-12)


class TinyImage(nn.Module):
    """(B, 3, 64, 64) -> (B, DIM): pooled patches and one linear layer."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.proj = nn.Linear(3 * 16, DIM)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = nn.functional.avg_pool2d(x, 16).flatten(1)
        return _unit(self.proj(pooled))


class TinyText(nn.Module):
    """(B, L) int32 tokens -> (B, DIM): mean of token embeddings."""

    def __init__(self, vocab: int) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.embed = nn.Embedding(vocab, DIM)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return _unit(self.embed(tokens).mean(dim=1))


class DataDependent(TinyImage):
    """Python control flow on tensor values: torch.export cannot trace it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return super().forward(x)
        return super().forward(-x)


class ExportsDifferently(TinyImage):
    """Computes something else when exported, as a broken lowering would."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x)
        return _unit(out.flip(-1)) if torch.compiler.is_exporting() else out


class BreaksInFloat16(TinyImage):
    """Exact in float32, broken by float16 weights: every weight carries an offset of 1000 that
    the forward pass takes off again; float16's spacing at 1000 (0.5) rounds the real weights
    (|w| < 0.15) away."""

    OFFSET = 1000.0

    def __init__(self) -> None:
        super().__init__()
        with torch.no_grad():
            self.proj.weight.add_(self.OFFSET)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = nn.functional.avg_pool2d(x, 16).flatten(1)
        return _unit(self.proj(pooled) - self.OFFSET * pooled.sum(dim=1, keepdim=True))


def tiny_model(image: nn.Module, name: str = "tiny-test") -> ClipModel:
    from edge_bench.models.builtin import default_tokenizer

    tokenizer = default_tokenizer()
    return ClipModel(
        name=name, family="test", image_encoder=image.eval(), text_encoder=TinyText(tokenizer.vocab_size).eval(),
        tokenizer=tokenizer, preprocess=Preprocess(size=64, mean=(0.5,) * 3, std=(0.25,) * 3), embed_dim=DIM,
    )


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("backend", ["executorch", "coreml", "tflite"])
def test_a_tower_that_does_not_export_is_one_line(tmp_path, backend):
    with pytest.raises(ConversionError) as info:
        convert(tiny_model(DataDependent()), backend, "fp32", out_root=tmp_path, batch_sizes=(1,))
    message = info.value.one_line()
    assert "\n" not in message and "tiny-test image tower" in message and backend in message
    assert "torch.export failed" in message or "conversion failed" in message
    assert not list(tmp_path.rglob("image-b1*"))


@pytest.mark.parametrize("precision", list(PARITY_FLOORS))
def test_every_precision_fails_below_its_floor(precision):
    floor = PARITY_FLOORS[precision]
    figures = {"cosine_mean": 1.0, "max_abs_diff": 0.0, "n": 32}
    assert judge(precision, dict(figures, cosine_min=floor)) == dict(figures, cosine_min=floor, threshold=floor, status="ok")
    below = judge(precision, dict(figures, cosine_min=floor - 1e-9))
    assert below["status"] == "fail" and below["threshold"] == floor


def test_fp32_below_parity_fails_and_leaves_no_artifact(tmp_path):
    floor = re.escape(str(PARITY_FLOORS["fp32"]))
    with pytest.raises(ConversionError, match=rf"parity failed, cosine -?[0-9.]+ < {floor} against eager") as info:
        convert(tiny_model(ExportsDifferently()), "tflite", "fp32", out_root=tmp_path, batch_sizes=(1,))
    assert "image tower" in info.value.message
    assert not list(tmp_path.rglob("image-b1*"))
    # the same weights in a module that exports faithfully: nothing of the broken one is reused
    fine = convert(tiny_model(TinyImage()), "tflite", "fp32", out_root=tmp_path, batch_sizes=(1,))
    assert fine.manifest["towers"]["image"]["parity"]["status"] == "ok"


def test_fp16_below_its_floor_fails_naming_it(tmp_path):
    """A float16 artifact that computes something else fails the conversion (it used to pass with
    a warning), naming the cosine and fp16's floor; the same model passes at fp32."""
    floor = re.escape(str(PARITY_FLOORS["fp16"]))
    with pytest.raises(ConversionError, match=rf"image tower, tflite fp16, batch 1: parity failed, cosine -?[0-9.]+ < {floor} "):
        convert(tiny_model(BreaksInFloat16()), "tflite", "fp16", out_root=tmp_path, batch_sizes=(1,))
    assert not list(tmp_path.rglob("image-b1*"))
    fp32 = convert(tiny_model(BreaksInFloat16()), "tflite", "fp32", out_root=tmp_path, batch_sizes=(1,))
    parity = fp32.manifest["towers"]["image"]["parity"]
    assert parity["status"] == "ok" and parity["cosine_min"] >= PARITY_FLOORS["fp32"]


def test_tiny_model_converts_with_exact_parity(tmp_path):
    artifact_set = convert(tiny_model(TinyImage()), "tflite", "fp32", out_root=tmp_path, batch_sizes=(2,))
    for tower in ("image", "text"):
        parity = artifact_set.manifest["towers"][tower]["parity"]
        assert parity["status"] == "ok" and parity["cosine_min"] > 0.99999 and parity["max_abs_diff"] < 1e-5


def test_other_weights_get_another_set(tmp_path):
    ours = convert(tiny_model(TinyImage()), "tflite", "fp32", out_root=tmp_path, batch_sizes=(1,))
    other = tiny_model(TinyImage())
    with torch.no_grad():
        other.image_encoder.proj.weight.mul_(-1)
    theirs = convert(other, "tflite", "fp32", out_root=tmp_path, batch_sizes=(1,))
    assert theirs.dir != ours.dir and theirs.dir.name.startswith("tiny-test-tflite-fp32-")
    assert theirs.manifest["weights"]["state_sha256"] != ours.manifest["weights"]["state_sha256"]
    assert theirs.manifest["towers"]["text"]["artifacts"][0]["sha256"] == ours.manifest["towers"]["text"]["artifacts"][0]["sha256"]


def test_plan_expands_all_and_skips_what_it_must(monkeypatch):
    plan = plan_conversions("all", "all")
    assert plan.jobs == [
        ("executorch", "fp32"), ("executorch", "int8-dynamic"), ("executorch", "int8"),
        ("coreml", "fp32"), ("coreml", "fp16"), ("coreml", "int8"),
        ("tflite", "fp32"), ("tflite", "fp16"), ("tflite", "int8-dynamic"), ("tflite", "int8"),
    ]
    plan = plan_conversions("all", "fp16")
    assert plan.jobs == [("coreml", "fp16"), ("tflite", "fp16")] and "executorch: skipped" in plan.skipped[0]
    with pytest.raises(ConfigError, match="'executorch' does not offer precision 'fp16'"):
        plan_conversions("executorch", "fp16")
    monkeypatch.setattr(ExecuTorchConverter, "requires", ("edge_bench_no_such_module",))
    assert plan_conversions("all", "fp32").jobs == [("coreml", "fp32"), ("tflite", "fp32")]
    with pytest.raises(BackendUnavailable, match="edge_bench_no_such_module"):
        plan_conversions("executorch", "fp32")


@pytest.mark.parametrize(
    "argv,cause",
    [
        (["-b", "onnx"], "unknown backend 'onnx'"),
        (["-p", "int4"], "unknown precision 'int4'"),
        (["-b", "coreml", "-p", "int8-dynamic"], "backend 'coreml' does not offer precision 'int8-dynamic'"),
        (["--batch-sizes", "1,x"], "--batch-sizes takes positive integers"),
    ],
)
def test_cli_bad_options_are_one_line(capsys, argv, cause):
    code, out, err = run_cli(capsys, "convert", MODEL, *argv)
    assert code == 1 and out == ""
    assert err.strip().splitlines() == [err.strip()] and err.startswith("edge-bench: error: ") and cause in err


def test_cli_unwritable_out_is_one_line(capsys, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code, _, err = run_cli(capsys, "convert", MODEL, "-b", "tflite", "--out", str(blocker / "artifacts"))
    assert code == 1 and err.count("\n") == 1
    assert f"cannot write artifacts to {blocker / 'artifacts'}: Not a directory" in err


def test_cli_model_that_fails_to_export_is_one_line(capsys, monkeypatch, tmp_path):
    list_models()  # load the zoo before adding to it
    spec = ModelSpec(name="broken-tower", family="test", builder=lambda weights: tiny_model(DataDependent()), image_size=64)
    monkeypatch.setitem(model_registry._REGISTRY, "broken-tower", spec)
    code, _, err = run_cli(capsys, "convert", "broken-tower", "-b", "executorch", "--out", str(tmp_path))
    line = err.strip().splitlines()[-1]
    assert code == 1 and line.startswith("edge-bench: error: broken-tower image tower, executorch fp32")
    assert "torch.export failed" in line


def test_cli_converts_skips_and_summarises(capsys, monkeypatch):
    monkeypatch.setattr(ExecuTorchConverter, "requires", ("edge_bench_no_such_module",))
    code, out, err = run_cli(capsys, "convert", MODEL, "--batch-sizes", "1")
    assert code == 0
    assert "executorch: skipped, the Python package 'edge_bench_no_such_module' is not installed" in " ".join(err.split())
    rows = [line for line in out.splitlines() if "│" in line]
    assert sum("coreml fp32" in r for r in rows) == 2 and sum("tflite fp32" in r for r in rows) == 2
    assert all(" ok " in r for r in rows if "tflite" in r) and all("spec only" in r for r in rows if "coreml" in r)
    code, _, err = run_cli(capsys, "convert", MODEL, "-b", "executorch")
    assert code == 1 and "nothing to convert" in err and err.count("\n") == 1
