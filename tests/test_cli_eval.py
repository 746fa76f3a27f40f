"""`edge-bench eval` and `edge-bench models` from the command line: real output, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import write_karpathy, naive_recall


def cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edge_bench.cli", *args], capture_output=True, text=True, timeout=timeout)


def _drawn_karpathy(root: Path, n: int) -> Path:
    """A Karpathy folder whose test images are synthetic scenes with their five real captions.

    (write_karpathy's noise images and 'Image N caption c.' captions tokenise to the same unknown words, so every
    caption embeds alike and recall would only measure tie-breaking; here the model tells images and captions apart.)
    """
    from PIL import Image

    from edge_bench.data.render import render
    from edge_bench.data.synthetic_set import scenes

    write_karpathy(root, "flickr30k", splits={"train": 2, "test": n})
    path = root / "dataset_flickr30k.json"
    data = json.loads(path.read_text())
    test = [entry for entry in data["images"] if entry["split"] == "test"]
    for entry, scene in zip(test, scenes("test", n)):
        Image.fromarray(render(scene)).save(root / "flickr30k-images" / entry["filename"], quality=95)
        for sentence, caption in zip(entry["sentences"], scene.captions()):
            sentence["raw"] = caption
    path.write_text(json.dumps(data))
    return root


def _embeddings(model_name: str, ds) -> tuple[np.ndarray, np.ndarray]:
    """Both towers of the model over the split, straight through its encoders (float64 out)."""
    import torch

    from edge_bench.data.preprocess import normalize, preprocess_images
    from edge_bench.models import create_model

    model = create_model(model_name)
    pixels = normalize(preprocess_images(ds, model.preprocess), model.preprocess.mean, model.preprocess.std)
    with torch.inference_mode():
        images = model.image_encoder(torch.from_numpy(pixels)).double().numpy()
        texts = model.text_encoder(torch.from_numpy(model.tokenizer(ds.captions))).double().numpy()
    return images, texts


def _closest_call(images: np.ndarray, texts: np.ndarray, owner: np.ndarray) -> float:
    """The smallest score gap between a query's best correct item and any wrong one (both directions)."""
    scores = texts @ images.T
    gaps = []
    for s, positive in ((scores, owner[:, None] == np.arange(len(images))[None, :]),
                        (scores.T, np.arange(len(images))[:, None] == owner[None, :])):
        best = np.where(positive, s, -np.inf).max(axis=1, keepdims=True)
        gaps.append(np.abs(np.where(positive, np.inf, s - best)).min())
    return float(min(gaps))


def test_eval_on_a_karpathy_folder_writes_the_record(tmp_path):
    from edge_bench.data import load_dataset

    root = _drawn_karpathy(tmp_path / "flickr", 32)
    out = cli("eval", "--model", "edgeclip-s-distilled", "--dataset", "flickr30k", "--data-dir", str(root),
              "--json", str(tmp_path / "r.json"))
    assert out.returncode == 0, out.stderr[-2000:]
    record = json.loads((tmp_path / "r.json").read_text())
    assert (record["model"], record["weights"], record["dataset"], record["split"]) == ("edgeclip-s-distilled", "trained", "flickr30k", "test")
    assert record["n_images"] == 32 and record["n_captions"] == 160
    # the record's recall, recomputed by definition from the model's own embeddings of the same split
    ds = load_dataset("flickr30k", split="test", data_dir=root)
    images, texts = _embeddings("edgeclip-s-distilled", ds)
    assert _closest_call(images, texts, ds.caption_image) > 1e-4, "near-tie: recall would depend on float rounding"
    expected = naive_recall(images, texts, ds.caption_image)
    assert set(record["metrics"]) == set(expected)
    # CLIP_benchmark averages hits in float32 (~3e-8 from the exact fraction); one query moves a recall by >= 1/160
    assert record["metrics"] == pytest.approx(expected, abs=1e-6)
    t2i, i2t = ([expected[f"{d}_retrieval_recall@{k}"] for k in (1, 5, 10)] for d in ("image", "text"))
    assert t2i[0] < 1 and i2t[0] != t2i[0] and sum(i2t) != sum(t2i), "the case must tell k and the two directions apart"
    assert record["images_per_s"] > 0 and record["texts_per_s"] > 0
    assert "images/s" in out.stdout


def test_eval_labels_untrained_recall():
    out = cli("eval", "--model", "edgeclip-s-scratch", "--weights", "untrained", "--n-images", "10", "--batch-size", "10")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "UNTRAINED" in out.stdout


def _bad(tmp_path, case: str):
    root = tmp_path / "data"
    if case == "missing json":
        root.mkdir()
    else:
        write_karpathy(root, "flickr30k")
    if case == "malformed json":
        (root / "dataset_flickr30k.json").write_text("{oops")
    if case == "bad image":
        (root / "flickr30k-images" / "00006.jpg").write_bytes(b"not a jpeg")
    if case == "empty split":
        data = json.loads((root / "dataset_flickr30k.json").read_text())
        data["images"] = [i for i in data["images"] if i["split"] != "test"]
        (root / "dataset_flickr30k.json").write_text(json.dumps(data))
    return ["eval", "--model", "edgeclip-s-scratch", "--dataset", "flickr30k", "--data-dir", str(root)]


@pytest.mark.parametrize("case, message", [
    ("missing json", "not found"),
    ("malformed json", "not valid JSON"),
    ("bad image", "does not decode"),
    ("empty split", "split is empty"),
])
def test_eval_bad_inputs_one_line(tmp_path, case, message):
    out = cli(*_bad(tmp_path, case))
    assert out.returncode == 1
    errors = [line for line in out.stderr.splitlines() if line.startswith("edge-bench: error:")]
    assert len(errors) == 1 and message in errors[0], out.stderr[-2000:]
    assert "Traceback" not in out.stderr


def test_eval_unknown_model_one_line():
    out = cli("eval", "--model", "MobileCLIP-S0")
    assert out.returncode == 1 and "unknown model 'MobileCLIP-S0'" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.slow  # builds all 14 entries (ViT-B-32, MobileCLIP-B ...) to count their parameters
def test_models_lists_every_entry():
    out = subprocess.run([sys.executable, "-m", "edge_bench.cli", "models"], capture_output=True, text=True, timeout=900,
                         env={**__import__("os").environ, "COLUMNS": "200"})
    assert out.returncode == 0, out.stderr[-2000:]
    from edge_bench.models import list_models

    for name in list_models():
        assert name in out.stdout


def test_models_lists_the_entries_a_pattern_selects():
    out = subprocess.run([sys.executable, "-m", "edge_bench.cli", "models", "edgeclip*"], capture_output=True, text=True,
                         timeout=900, env={**__import__("os").environ, "COLUMNS": "200"})
    assert out.returncode == 0, out.stderr[-2000:]
    from edge_bench.models import list_models

    rows = [line.split()[0] for line in out.stdout.splitlines() if line.strip().startswith("edgeclip")]
    assert rows == list_models("edgeclip*") and len(rows) == 5
    assert "MobileCLIP" not in out.stdout and "ViT-B-32" not in out.stdout
