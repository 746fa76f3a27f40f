"""TFLite (LiteRT) `.tflite` through litert-torch: fp32, fp16, int8-dynamic, int8.

litert-torch converts the float model; ai-edge-quantizer makes the others
(litert-torch's own PT2E int8 breaks the text tower's embedding lookup):
fp16 stores float16 weights (float casting), int8-dynamic int8 weights with
activations quantized at run time, int8 int8 weights and activations with
ranges calibrated on real inputs (the final L2 normalisation stays float).
Graph inputs and outputs stay float32 (int32 tokens) at every precision.
"""

from __future__ import annotations

import re
import time
import weakref
from collections import Counter
from pathlib import Path

import numpy as np

from edge_bench.converters.base import Converter, KeptFloat, Runner, TowerJob, io_spec, register_converter
from edge_bench.converters.export import as_tensor, package_version, write_bytes
from edge_bench.converters.kept_float import L2_NORM, LAYER_NORMS, RESIDUAL_STREAM


SIGNATURE = "serving_default"
PROJECTIONS = ("FULLY_CONNECTED", "BATCH_MATMUL", "CONV_2D")
"""Ops that end a tower's last projection: what follows is the L2 normalisation."""
_FLOAT_MODELS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
"""module -> {(weights sha256, shape, dtype): (float flatbuffer, conversion seconds)}: every
precision of a tower starts from the same float model, converted once per process."""
_PER_MODULE = 2


def _float_model(job: TowerJob) -> tuple[bytes, dict]:
    """The float model of a tower at a shape, converted once per module, weights and shape."""
    from edge_bench.converters.artifact import state_sha256

    memo = _FLOAT_MODELS.setdefault(job.module, {})
    key = (state_sha256(job.module), job.example.shape, str(job.example.dtype))
    reused = key in memo
    if not reused:
        while len(memo) >= _PER_MODULE:
            memo.pop(next(iter(memo)))
        started = time.perf_counter()
        model = _litert_convert(job)
        memo[key] = (model, round(time.perf_counter() - started, 3))
    model, seconds = memo[key]
    return model, {"convert_s": seconds, "reused": reused}


def _litert_convert(job: TowerJob) -> bytes:
    """litert-torch's conversion, without its progress log on stdout."""
    import litert_torch

    shown = litert_torch.config.show_progress
    litert_torch.config.show_progress = False
    try:
        return litert_torch.convert(job.module, (as_tensor(job.example),)).model_content()
    finally:
        litert_torch.config.show_progress = shown


def _input_name(model: bytes) -> str:
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter(model_content=model).get_signature_list()[SIGNATURE]["inputs"][0]


def declared_io(path: Path) -> dict:
    """The graph's inputs and outputs as the `.tflite` file declares them, in the interpreter's order.

    Names are the tensors' own names (`serving_default_args_0`), not the signature's
    argument keys (`args_0`): LiteRT's `benchmark_model` compares `--input_layer` with
    the tensor names of the graph's inputs (it warns "Tensor # i is named X but flags
    call it Y" otherwise) and matches `--input_layer_value_files` to `--input_layer` by
    name. Shapes are the static shapes the interpreter allocates.
    """
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    signatures = interpreter.get_signature_list()
    if SIGNATURE not in signatures:
        raise ValueError(f"{Path(path).name} has no {SIGNATURE!r} signature (it has {', '.join(signatures) or 'none'})")

    def specs(details: list[dict]) -> list[dict]:
        return [io_spec(d["name"], d["shape"], d["dtype"]) for d in details]

    return {"inputs": specs(interpreter.get_input_details()), "outputs": specs(interpreter.get_output_details())}


def _quantize(model: bytes, job: TowerJob) -> bytes:
    """ai-edge-quantizer recipes: fp16 weights, dynamic int8, or static int8 with float I/O."""
    from ai_edge_quantizer import qtyping, quantizer, recipe
    from ai_edge_quantizer.algorithm_manager import AlgorithmName

    q = quantizer.Quantizer(model)
    if job.precision == "fp16":
        q.add_weight_only_config(
            ".*", qtyping.TFLOperationName.ALL_SUPPORTED, num_bits=16, algorithm_key=AlgorithmName.FLOAT_CASTING
        )
        return bytes(q.quantize(enable_progress_report=False).quantized_model)
    if job.precision == "int8-dynamic":
        q.load_quantization_recipe(recipe.dynamic_wi8_afp32())
        return bytes(q.quantize(enable_progress_report=False).quantized_model)
    q.load_quantization_recipe(recipe.static_wi8_ai8())
    _keep_float(q, model)
    data = [{_input_name(model): batch} for batch in (job.calibration or [job.example])]
    calibration = q.calibrate({SIGNATURE: data}, num_threads=1)
    return bytes(q.quantize(calibration, enable_progress_report=False).quantized_model)


ELEMENTWISE_FLOAT = ("MEAN", "SUB", "SQUARED_DIFFERENCE", "RSQRT", "MUL", "ADD", "CONCATENATION")
"""Ops static int8 keeps in float (by TFLOperationName): LayerNorm's parts, and the residual stream: residual and
positional adds, the token concat (with the stem conv, `_stem_outputs`: see executorch_backend.residual_stream)."""
LAYOUT_FLOAT = ("RESHAPE", "TRANSPOSE", "SLICE", "STRIDED_SLICE", "SPLIT", "PACK", "UNPACK", "BROADCAST_TO")
"""Ops that only move data, kept float by static int8: ai-edge-quantizer quantizes them on their own, which put
int8 steps inside the float LayerNorms (their reshapes), on the image input and on the patch tokens (the stem's
transposes): the teacher's int8 image tower was cosine 0.984 to fp32 and lost 2.5 / 4.6 points of R@1; float, 0.9985
and 0.0 / 0.2. XNNPACK_FLOAT_ONLY and ELEMENTWISE_FLOAT ops read and write float around them anyway."""
XNNPACK_FLOAT_ONLY = ("BATCH_MATMUL", "SOFTMAX", "GELU")
"""Ops LiteRT's XNNPACK delegate takes in float but not in int8: quantized, each ran on TFLite's reference
kernels outside the delegate and split the graph (the S student's int8 image tower: 9 partitions, its four
int8 BATCH_MATMULs 0.68 of a 1.11 ms inference). Kept float, they run in XNNPACK with the rest."""


def _keep_float(q, model: bytes) -> None:
    """Static int8 leaves in float the graph's inputs and outputs, LayerNorms, the residual stream, the ops
    XNNPACK has no int8 kernel for, the final L2 normalisation and attention masks."""
    from ai_edge_quantizer import qtyping
    from ai_edge_quantizer.algorithm_manager import AlgorithmName

    ops, skip = qtyping.TFLOperationName, AlgorithmName.NO_QUANTIZE
    # LayerNorm (decomposed: MEAN, SUB, SQUARED_DIFFERENCE, RSQRT, MUL, ADD) and the residual
    # ADDs stay float: quantizing them too left one real test image of the trained EdgeCLIP-S
    # image tower at cosine 0.84 to fp32 (mean 0.983); float, the worst is 0.97 (mean 0.993).
    for op in (ops.INPUT, ops.OUTPUT, *(getattr(ops, name) for name in ELEMENTWISE_FLOAT + XNNPACK_FLOAT_ONLY + LAYOUT_FLOAT)):
        q.update_quantization_recipe(regex=".*", operation_name=op, algorithm_key=skip)
    nodes, interpreter = _nodes(model, delegate=False)  # one interpreter serves both scans
    for name in _normalisation_outputs(nodes, interpreter) + _mask_outputs(nodes, interpreter) + _stem_outputs(nodes, interpreter):
        scope = f"^{re.escape(name)};$"  # an op's scope: its output tensor names, each followed by ';'
        q.update_quantization_recipe(regex=scope, operation_name=ops.ALL_SUPPORTED, algorithm_key=skip)


def _nodes(model: Path | bytes, delegate: bool) -> tuple[list[dict], object]:
    """The interpreter's nodes (and the interpreter), with or without the default XNNPACK delegate."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = OpResolverType.AUTO if delegate else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    source = {"model_content": model} if isinstance(model, bytes) else {"model_path": str(model)}
    interpreter = Interpreter(**source, experimental_op_resolver_type=resolver)
    interpreter.allocate_tensors()
    return interpreter._get_ops_details(), interpreter


def _normalisation_outputs(ops: list[dict], interpreter) -> list[str]:
    """Output tensors of the ops after the last projection: the L2 normalisation, kept in
    float by static int8 (in int8 a zero norm, as from tokens without an end-of-text,
    loses its epsilon, divides by the zero point and aborts LiteRT's DIV kernel)."""
    names = {t["index"]: t["name"] for t in interpreter.get_tensor_details()}
    last = max((i for i, op in enumerate(ops) if op["op_name"] in PROJECTIONS), default=len(ops))
    return [names[int(t)] for op in ops[last + 1 :] for t in op["outputs"] if int(t) in names]


def _stem_outputs(ops: list[dict], interpreter) -> list[str]:
    """Output tensors of the graph's first convolution (an image tower's patch embedding): its output is the image
    tokens, the start of the residual stream static int8 keeps float."""
    names = {t["index"]: t["name"] for t in interpreter.get_tensor_details()}
    first = next((op for op in ops if op["op_name"] in ("CONV_2D", "DEPTHWISE_CONV_2D")), None)
    return [names[int(t)] for t in first["outputs"] if int(t) in names] if first else []


def _mask_outputs(ops: list[dict], interpreter) -> list[str]:
    """Output tensors of each ADD of a constant attention mask (entries <= -1e3) and of the ops
    reading its sum (the softmax). In int8 the mask's -1e4 stretches the tensor's scale until
    every real attention score rounds to the same value: a trained text tower loses its
    attention (cosine to fp32 near 0), an untrained one hardly notices."""
    names = {t["index"]: t["name"] for t in interpreter.get_tensor_details()}
    produced = {int(t) for op in ops for t in op["outputs"]}
    graph_inputs = {d["index"] for d in interpreter.get_input_details()}

    def is_mask(index: int) -> bool:
        if index < 0 or index in produced or index in graph_inputs:
            return False  # only constants hold a mask
        value = interpreter.get_tensor(index)
        return value.dtype.kind == "f" and value.size > 1 and float(value.min()) <= -1e3

    sums = {int(t) for op in ops if op["op_name"] == "ADD" and any(is_mask(int(i)) for i in op["inputs"])
            for t in op["outputs"]}
    readers = {int(t) for op in ops if sums & {int(i) for i in op["inputs"]} for t in op["outputs"]}
    return [names[i] for i in sorted(sums | readers) if i in names]


def _op_counts(path: Path) -> dict[str, int]:
    """The model's ops (before any delegate) and how often each occurs."""
    return dict(sorted(Counter(op["op_name"] for op in _nodes(path, delegate=False)[0]).items()))


def _xnnpack_split(path: Path) -> dict:
    """Which ops the XNNPACK delegate takes, inferred from data flow.

    After delegation the node list keeps the original nodes and appends one
    DELEGATE node per partition, whose inputs and outputs are the partition's
    boundary tensors. A node producing a delegate output is delegated; one
    producing a delegate input or a graph output is not; any other node shares
    the status of its consumers (nodes are in topological order).
    """
    ops, interpreter = _nodes(path, delegate=True)
    delegates = [op for op in ops if op["op_name"] == "DELEGATE"]
    nodes = [op for op in ops if op["op_name"] != "DELEGATE"]
    produced = {int(t) for d in delegates for t in d["outputs"]}
    crossing = {int(t) for d in delegates for t in d["inputs"]} | {int(o["index"]) for o in interpreter.get_output_details()}
    consumers: dict[int, int] = {}
    for node in nodes:
        for tensor in node["inputs"]:
            consumers.setdefault(int(tensor), node["index"])
    delegated: dict[int, bool] = {}
    for node in reversed(nodes):
        outputs = {int(t) for t in node["outputs"]}
        later = [consumers[t] for t in outputs if t in consumers]
        delegated[node["index"]] = bool(outputs & produced) or (
            not outputs & crossing and bool(later) and delegated.get(later[0], False)
        )
    kept = Counter(n["op_name"] for n in nodes if not delegated[n["index"]])
    return {
        "delegate": "XNNPACK (LiteRT default)",
        "partitions": len(delegates),
        "delegated_nodes": sum(delegated.values()),
        "not_delegated_nodes": sum(kept.values()),
        "not_delegated_ops": dict(sorted(kept.items())),
    }


@register_converter
class TFLiteConverter(Converter):
    """LiteRT (TFLite) with the XNNPACK delegate the interpreter applies by default."""

    name = "tflite"
    suffix = ".tflite"
    precisions = ("fp32", "fp16", "int8-dynamic", "int8")
    requires = ("litert_torch", "ai_edge_litert.interpreter", "ai_edge_quantizer")
    extra = "tflite"
    runs_on = ("linux", "android", "macos", "ios")
    settings_version = 6  # 2: static int8 keeps the L2 normalisation in float; 3: and attention masks; 4: LayerNorms,
    # residuals; 5: the manifest names inputs and outputs by their tensor names (serving_default_args_0), not
    # the signature's keys (args_0), so benchmark_model's --input_layer matches: older sets are made again;
    # 6: static int8 keeps BATCH_MATMUL, SOFTMAX and GELU float (XNNPACK has no int8 kernels for them), and the
    # residual stream (concat, stem conv) and the layout ops (reshape, transpose, slice)
    schemes = {
        "fp32": "litert-torch float32; XNNPACK delegate at run time",
        "fp16": "ai-edge-quantizer float casting: float16 weights, float32 compute",
        "int8-dynamic": "ai-edge-quantizer dynamic_wi8_afp32: per-channel int8 weights, activations quantized at run time",
        "int8": "ai-edge-quantizer static_wi8_ai8: int8 weights and activations calibrated on real inputs; "
        "float inputs, outputs, LayerNorms, the residual stream (adds, token concat, stem conv), layout ops, "
        "attention matmuls, softmax, GELU, masks and L2 normalisation",
    }

    kept_float = {"int8": (
        RESIDUAL_STREAM, LAYER_NORMS, L2_NORM,
        KeptFloat("layout ops: reshape, transpose, slice", ("layout",),
                  "ai-edge-quantizer quantizes them on their own: int8 steps inside the float LayerNorms and on the patch "
                  "tokens cost the teacher's image tower 2.5 / 4.6 points of R@1 (cosine 0.984 to fp32; float: 0.9985)"),
        KeptFloat("attention matmuls, softmax and GELU", ("attention", "mlp"),
                  "LiteRT's XNNPACK delegate has no int8 kernel for them: in int8 they ran on TFLite's reference kernels "
                  "outside the delegate (the S student's image tower: 9 partitions, 0.68 of 1.11 ms in its int8 matmuls)"),
    )}

    def versions(self) -> dict[str, str]:
        return {name: package_version(name) for name in ("litert-torch", "ai-edge-litert", "ai-edge-quantizer")}

    def convert(self, job: TowerJob, path: Path) -> dict:
        model, float_model = _float_model(job)
        if job.precision != "fp32":
            model = _quantize(model, job)
        write_bytes(path, model)
        return dict(_xnnpack_split(path), float_model=float_model)

    def inspect(self, path: Path) -> dict:
        return dict(declared_io(path), ops=_op_counts(path))

    def load(self, path: Path, threads: int | None = 1) -> Runner:
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=str(path), num_threads=int(threads or 1))
        runner = interpreter.get_signature_runner(SIGNATURE)
        name = next(iter(runner.get_input_details()))
        output = next(iter(runner.get_output_details()))

        def run(batch: np.ndarray) -> np.ndarray:
            return np.asarray(runner(**{name: batch})[output], dtype=np.float32)

        return run
