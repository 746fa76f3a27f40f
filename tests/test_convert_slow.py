"""Real students from open_clip convert at fp32 for ExecuTorch and TFLite and pass parity.

Slow: each conversion of MobileCLIP2-S0 or ViT-B-32 takes minutes on two cores.
`bench/convert_table.py` measures the same models with timings.
"""

from __future__ import annotations

import pytest

from edge_bench.converters import convert
from edge_bench.converters.parity import PARITY_FLOORS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["MobileCLIP2-S0", "ViT-B-32"])
def open_clip_model(request):
    from edge_bench import _torchvision_compat  # noqa: F401  (before open_clip imports torchvision)
    from edge_bench.models import create_model

    pytest.importorskip("open_clip")
    return create_model(request.param)


@pytest.mark.parametrize("backend", ["executorch", "tflite"])
def test_open_clip_student_converts_at_fp32_with_parity(open_clip_model, backend):
    artifact_set = convert(open_clip_model, backend, "fp32", batch_sizes=(1,))
    size = open_clip_model.preprocess.size
    for tower, shape in (("image", [1, 3, size, size]), ("text", [1, open_clip_model.context_length])):
        entry = artifact_set.manifest["towers"][tower]
        assert entry["artifacts"][0]["inputs"][0]["shape"] == shape
        assert entry["artifacts"][0]["outputs"][0]["shape"] == [1, open_clip_model.embed_dim]
        parity = entry["parity"]
        assert parity["status"] == "ok" and parity["cosine_min"] >= PARITY_FLOORS["fp32"] and parity["n"] >= 32
        assert entry["flops"] > 1e8
