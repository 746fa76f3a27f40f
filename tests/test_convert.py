"""Converters: every backend x precision of the smallest built-in student converts,
runs on real inputs, and computes what PyTorch computes.

Artifacts are converted once per session (the session home's artifact cache);
later tests that ask for the same set get it from the cache.
"""

from __future__ import annotations

import json
import platform

import numpy as np
import pytest

from edge_bench.converters import (
    PRECISIONS,
    THRESHOLDS,
    convert,
    get_converter,
    host_embed,
    list_backends,
    load_artifact,
)
from edge_bench.converters.parity import NOT_RUN
from edge_bench.converters.samples import batches, run_batched
from edge_bench.data import load_dataset
from edge_bench.data.preprocess import normalize, preprocess_images
from edge_bench.errors import BackendUnavailable, ConfigError
from edge_bench.models import create_model

MODEL = "edgeclip-s-distilled"
COMBOS = [(b, p) for b in ("executorch", "coreml", "tflite") for p in get_converter(b).precisions]
MANIFEST_KEYS = {
    "schema", "model", "family", "weights", "backend", "precision", "embed_dim", "preprocess", "tokenizer",
    "towers", "versions", "key", "created",
}
COLLAPSE_FLOOR = 0.9
"""A quantized artifact below this cosine on real inputs has collapsed, whatever its precision."""


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
    assert manifest["scheme"] == get_converter(backend).schemes[precision]
    assert artifact_set.dir.name == f"{MODEL}-{backend}-{precision}-{manifest['key'][:12]}"
    converter = get_converter(backend)
    for tower, dtype, width in (("image", "float32", clip.preprocess.size), ("text", "int32", clip.context_length)):
        entry = manifest["towers"][tower]
        record = entry["artifacts"][0]
        path = artifact_set.artifact(tower, 1)
        assert path.name == f"{tower}-b1{converter.suffix}" and record["size_bytes"] > 10_000
        assert record["inputs"][0]["dtype"] == dtype and record["inputs"][0]["shape"][:2] == [1, 3 if tower == "image" else width]
        assert record["outputs"][0]["shape"] == [1, clip.embed_dim] and record["outputs"][0]["dtype"] == "float32"
        assert entry["flops"] > 0 and entry["convert_s"] > 0 and entry["delegation"]
        _check_runs_like_eager(artifact_set, tower, entry["parity"], precision, clip, unseen_inputs)


def _check_runs_like_eager(artifact_set, tower, parity, precision, clip, unseen_inputs):
    """The manifest's parity, and a second run of the artifact on inputs it never saw."""
    if not get_converter(artifact_set.backend).can_run_here():
        assert parity["status"] == NOT_RUN and parity["spec_checks"].startswith("passed")
        with pytest.raises(BackendUnavailable, match="macOS"):
            load_artifact(artifact_set.artifact(tower, 1), artifact_set.backend)
        return
    assert parity["status"] in ("ok", "warn") and parity["n"] >= 32 and parity["threshold"] == THRESHOLDS[precision]
    runner = load_artifact(artifact_set.artifact(tower, 1), artifact_set.backend, threads=1)
    module = clip.image_encoder if tower == "image" else clip.text_encoder
    inputs = unseen_inputs[tower]
    cosine = _cosines(run_batched(runner, inputs, 1), _eager(module, inputs))
    floor = THRESHOLDS["fp32"] if precision == "fp32" else COLLAPSE_FLOOR
    assert cosine.min() >= floor, f"{artifact_set.backend} {precision} {tower}: cosine {cosine.min():.4f}"
    if tower == "text":  # padding only, no end-of-text: a zero vector to normalise must not abort the run
        assert np.all(np.isfinite(runner(np.zeros_like(inputs[:1]))))


@pytest.mark.parametrize("backend,precision", COMBOS, ids=[f"{b}-{p}" for b, p in COMBOS])
def test_the_other_student_size_passes_parity(backend, precision):
    """The M student (trained weights) converts at every backend x precision and passes parity."""
    other = create_model("edgeclip-m-distilled")
    assert other.weights.trained
    for tower, entry in convert(other, backend, precision, batch_sizes=(1,)).manifest["towers"].items():
        parity = entry["parity"]
        if not get_converter(backend).can_run_here():
            assert parity["status"] == NOT_RUN and parity["spec_checks"].startswith("passed")
            continue
        assert parity["status"] in ("ok", "warn") and parity["n"] >= 32, (tower, parity)
        floor = THRESHOLDS["fp32"] if precision == "fp32" else COLLAPSE_FLOOR
        assert parity["cosine_min"] >= floor, f"{backend} {precision} {tower}: {parity}"


def test_delegation_summaries_name_the_ops(clip):
    et = convert(clip, "executorch", "fp32", batch_sizes=(1,)).manifest["towers"]["image"]["delegation"]
    assert et["delegated_nodes"] > 0 and et["ops"]["aten_linear_default"]["delegated"] > 0
    assert set(et["not_delegated_ops"]) == {op for op, c in et["ops"].items() if c["not_delegated"]}
    tfl = convert(clip, "tflite", "fp32", batch_sizes=(1,)).manifest["towers"]["image"]
    assert tfl["artifacts"][0]["ops"]["FULLY_CONNECTED"] > 0 and tfl["delegation"]["partitions"] >= 1
    cml = convert(clip, "coreml", "int8", batch_sizes=(1,)).manifest["towers"]["image"]
    assert cml["artifacts"][0]["ops"]["linear"] > 0 and cml["delegation"]["weights"] == "int8 per-channel"


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
    artifact_set = convert(clip, backend, "fp32", batch_sizes=(1, 8) if backend == "tflite" else (1,))
    image, text = host_embed(artifact_set, ds, threads=1)
    assert image.shape == (ds.n_images, clip.embed_dim) and text.shape == (ds.n_captions, clip.embed_dim)
    converted = retrieval_recall(image, text, ds.caption_image)
    for metric, value in eager.items():
        assert abs(converted[metric] - value) <= 0.002, f"{metric}: eager {value:.4f}, {backend} {converted[metric]:.4f}"


def test_gallery_batch_pads_the_last_partial_batch(clip):
    artifact_set = convert(clip, "tflite", "fp32", batch_sizes=(1, 8))
    assert artifact_set.batch_sizes("image") == [1, 8]
    ds = load_dataset("synthetic", "test", n_images=13)  # 13 images, 65 captions: neither a multiple of 8
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
