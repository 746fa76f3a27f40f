"""Static int8, one part at a time: which part of a tower costs recall when it is quantized.

For each part (the residual stream's adds, the token concat, the stem conv, the
attention's qkv and output linears, the attention scale, the MLP's two linears,
the projection), the tower is quantized with ExecuTorch's PT2E XNNPACKQuantizer
(per-channel int8 weights, int8 activations calibrated on the same real val
images the converter uses) on that part alone, everything else float, and run
as PT2E's reference (quantize/dequantize) graph in eager PyTorch; then every
part but the residual stream (the converter's recipe), and everything. Prints
Recall@1 both ways on the synthetic test split and the cosine to fp32, against
eager fp32. The other tower stays fp32. Asserts nothing.

    python bench/int8_sensitivity.py [--model edgeclip-teacher] [--tower image] [--n-images 1000]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np

PARTS = {
    "residual adds": lambda n, p, aten: n.target == aten.add.Tensor,
    "token concat": lambda n, p, aten: n.target == aten.cat.default,
    "stem conv": lambda n, p, aten: n.target == aten.conv2d.default,
    "attn.qkv": lambda n, p, aten: p.endswith(".attn.qkv") or ".attn.qkv " in p,
    "attn.out": lambda n, p, aten: p.endswith(".attn.out") or ".attn.out " in p,
    "attention scale": lambda n, p, aten: n.target == aten.mul.Tensor and ".attn" in p,
    "mlp.0": lambda n, p, aten: ".mlp.0" in p,
    "mlp.2": lambda n, p, aten: ".mlp.2" in p,
    "projection": lambda n, p, aten: p.rstrip().endswith("proj") and "blocks" not in p,
}
"""A part: a predicate on an exported node (its op, its module path)."""
STREAM = ("residual adds", "token concat", "stem conv")


def _path(node) -> str:
    stack = node.meta.get("nn_module_stack") or {}
    return " ".join(str(v[0]) for v in stack.values())


def quantize(module, calibration: np.ndarray, only):
    """The tower as PT2E's reference int8 graph, quantized where `only(node)` holds (and the converter would)."""
    import torch
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import XNNPACKQuantizer, get_symmetric_quantization_config
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    from edge_bench.converters.executorch_backend import _before_normalisation, _leave_cats_float
    from edge_bench.converters.executorch_lowering import delegable_module, in_layer_norm
    from edge_bench.converters.export import export_program

    graph = export_program(delegable_module(module), calibration[:1]).module()
    before = _before_normalisation(graph)

    def quantized(node) -> bool:
        return before(node) and not in_layer_norm(node) and only(node)

    quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True)).set_filter_function(quantized)
    _leave_cats_float(graph, quantized)
    prepared = prepare_pt2e(graph, quantizer)
    with torch.no_grad():
        for i in range(len(calibration)):
            prepared(torch.from_numpy(calibration[i:i + 1]))
    return convert_pt2e(prepared)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="edgeclip-teacher")
    parser.add_argument("--tower", choices=("image", "text"), default="image")
    parser.add_argument("--n-images", type=int, default=None, help="test-split images (default: all)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    os.environ.setdefault("TQDM_DISABLE", "1")
    import torch

    from edge_bench.converters.samples import default_dataset, real_samples
    from edge_bench.data import load_dataset
    from edge_bench.data.preprocess import normalize, preprocess_images
    from edge_bench.metrics import retrieval_recall
    from edge_bench.models import create_model

    torch.set_num_threads(1)
    aten = torch.ops.aten
    clip = create_model(args.model)
    ds = load_dataset("synthetic", "test", n_images=args.n_images)
    pp = clip.preprocess
    inputs = {"image": normalize(preprocess_images(ds, pp), pp.mean, pp.std).astype(np.float32),
              "text": np.asarray(clip.tokenizer(ds.captions), dtype=np.int32)}
    towers = {"image": clip.image_encoder, "text": clip.text_encoder}
    calibration = real_samples(clip, default_dataset()).calibration[args.tower]

    def run(module, items: np.ndarray, batch: int) -> np.ndarray:
        with torch.no_grad():
            return np.concatenate([module(torch.from_numpy(items[i:i + batch])).numpy() for i in range(0, len(items), batch)])

    ref = {t: run(towers[t], inputs[t], 256) for t in towers}

    def line(name: str, emb: np.ndarray, seconds: float | None = None) -> None:
        both = dict(ref, **{args.tower: emb})
        r = retrieval_recall(both["image"], both["text"], ds.caption_image, ks=(1,))
        cos = np.sum(emb * ref[args.tower], axis=1)
        took = "" if seconds is None else f"  ({seconds:.0f} s)"
        print(f"{name:<34} {100 * r['image_retrieval_recall@1']:>8.2f} {100 * r['text_retrieval_recall@1']:>8.2f} "
              f"{cos.mean():>9.4f} {cos.min():>9.4f}{took}", flush=True)

    print(f"# {clip.name} ({clip.weights.status}), {args.tower} tower in int8, {ds.describe()}")
    print(f"{'quantized':<34} {'T>I R@1':>8} {'I>T R@1':>8} {'cos mean':>9} {'cos min':>9}")
    line("nothing (eager fp32)", ref[args.tower])
    variants = [(f"{name} alone", lambda n, p, pred=pred: pred(n, p, aten)) for name, pred in PARTS.items()]
    variants.append(("all but the residual stream (recipe)", lambda n, p: not any(PARTS[s](n, p, aten) for s in STREAM)))
    variants.append(("everything", lambda n, p: True))
    for name, only in variants:
        started = time.perf_counter()
        graph = quantize(towers[args.tower], calibration, lambda node, only=only: only(node, _path(node)))
        line(name, run(graph, inputs[args.tower], 1), time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
