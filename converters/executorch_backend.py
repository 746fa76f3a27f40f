"""ExecuTorch `.pte` with the XNNPACK delegate: fp32, int8-dynamic, int8 (static).

Stages: torch.export -> (PT2E quantization with XNNPACKQuantizer, static int8
calibrated on real inputs) -> to_edge_transform_and_lower(XnnpackPartitioner, with the
passes of `executorch_lowering` that keep the graph in XNNPACK) -> to_executorch -> file.
Every tower is exported through `delegable_module` (LayerNorm as delegable ops, left in float by the
quantizers; nn.MultiheadAttention as matmuls and a softmax). The delegation summary records which ops XNNPACK took and which stay on ExecuTorch's portable kernels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_bench.converters.base import Converter, Runner, TowerJob, io_spec, register_converter
from edge_bench.converters.export import as_tensor, export_program, package_version, write_bytes
from edge_bench.converters.kept_float import L2_NORM, LAYER_NORMS, RESIDUAL_STREAM

_ET_DTYPES = {6: "float32", 3: "int32", 4: "int64", 5: "float16", 1: "int8", 0: "uint8"}
"""ExecuTorch ScalarType codes of the tensor metadata."""


METHOD = "forward"


def declared_io(path: Path) -> dict:
    """The method's inputs and outputs as the `.pte` program declares them (its MethodMeta).

    A program names no inputs: a method's inputs are positional, and `executor_runner`
    takes them so (`--inputs FILE0,FILE1,...`, each file the raw bytes of one input, its
    size checked against the tensor's). They are recorded as `input_<i>` / `output_<i>`,
    with the sizes and dtypes of the method's tensor metadata. Reads the program without
    loading the method, so no delegate is initialised.
    """
    from executorch.extension.pybindings import portable_lib

    meta = portable_lib._load_program(str(path)).method_meta(METHOD)

    def spec(prefix: str, info, i: int) -> dict:
        code = int(info.dtype())
        if code not in _ET_DTYPES:
            raise ValueError(f"{Path(path).name}: {prefix}{i} has ExecuTorch ScalarType {code}, not one edge-bench feeds")
        return io_spec(f"{prefix}{i}", info.sizes(), _ET_DTYPES[code])

    return {
        "inputs": [spec("input_", meta.input_tensor_meta(i), i) for i in range(meta.num_inputs())],
        "outputs": [spec("output_", meta.output_tensor_meta(i), i) for i in range(meta.num_outputs())],
    }


def _quantize(program, job: TowerJob):
    """PT2E quantization of an exported tower; static int8 runs the calibration batches."""
    import torch
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    from edge_bench.converters.executorch_lowering import in_layer_norm

    dynamic = job.precision == "int8-dynamic"
    config = get_symmetric_quantization_config(is_per_channel=True, is_dynamic=dynamic)
    graph = program.module()
    before = _before_normalisation(graph)
    stream = set() if dynamic else residual_stream(graph)

    def quantized(node) -> bool:  # LayerNorms (as delegable ops) stay float: in int8 their means and rsqrt lose precision
        return before(node) and not in_layer_norm(node) and node not in stream

    quantizer = XNNPACKQuantizer().set_global(config).set_filter_function(quantized)
    _leave_cats_float(graph, quantized)
    prepared = prepare_pt2e(graph, quantizer)
    observed = [job.example] if dynamic else (job.calibration or [job.example])
    with torch.no_grad():
        for batch in observed:
            prepared(as_tensor(batch))
    return export_program(convert_pt2e(prepared), job.example)


def residual_stream(graph) -> set:
    """What static int8 leaves float: the residual stream of a transformer tower, i.e. every add (residual and
    positional), the token concat (a CLS token) and the stem (the graph's first convolution, whose output is the
    image tokens). Each of these alone in int8 cost the built-in teacher 1.2 to 1.5 points of image R@1 on the
    synthetic test split; every linear layer and the attention scale alone 0 to 0.16 (PT2E reference
    simulation, one block quantized at a time). XNNPACK runs them in fp32 inside the same partition."""
    import torch

    aten = torch.ops.aten
    nodes = list(graph.graph.nodes)
    stem = next((n for n in nodes if n.target == aten.conv2d.default), None)
    return {n for n in nodes if n.target in (aten.add.Tensor, aten.cat.default) or n is stem}


def _leave_cats_float(graph, quantized) -> None:
    """XNNPACKQuantizer's cat annotator ignores the filter function (ExecuTorch 1.5.1): a cat the filter leaves
    float is marked annotated with nothing, so that annotator passes it by."""
    import torch
    from torchao.quantization.pt2e.quantizer import QuantizationAnnotation

    for node in graph.graph.nodes:
        if node.target == torch.ops.aten.cat.default and not quantized(node):
            node.meta["quantization_annotation"] = QuantizationAnnotation(_annotated=True)


def _before_normalisation(graph):
    """A node filter: quantize up to the tower's last projection, keep the L2 normalisation
    after it in float (in int8 its epsilon rounds away and a zero norm gives NaN), and keep
    additive attention masks in float: a -1e4 mask entry in an int8 tensor stretches its
    scale until every real attention score rounds to the same value (trained text towers
    then lose all attention; untrained ones hardly notice)."""
    import torch

    aten = torch.ops.aten
    projections = {
        aten.linear.default, aten.conv2d.default, aten.matmul.default, aten.mm.default, aten.bmm.default, aten.addmm.default
    }
    order = {node: i for i, node in enumerate(graph.graph.nodes)}
    last = max((i for node, i in order.items() if node.target in projections), default=len(order))
    masks = {node for node in graph.graph.nodes if node.target in (aten.add.Tensor, aten.add_.Tensor) and _adds_a_mask(graph, node)}
    return lambda node: order.get(node, 0) <= last and node not in masks


def _adds_a_mask(graph, node) -> bool:
    """Whether an add's operand is a constant holding mask values (<= -1e3)."""
    for arg in node.args:
        if getattr(arg, "op", None) == "get_attr":
            value = graph
            for part in str(arg.target).split("."):
                value = getattr(value, part, None)
            if value is not None and hasattr(value, "min") and value.numel() and float(value.min()) <= -1e3:
                return True
    return False


def _delegation(edge_program) -> dict:
    """Ops delegated to XNNPACK and ops left to the portable kernels."""
    from executorch.devtools.backend_debug import get_delegation_info

    info = get_delegation_info(edge_program.exported_program().graph_module)
    ops = {
        op: {"delegated": b.delegated, "not_delegated": b.non_delegated}
        for op, b in sorted(info.delegation_by_operator.items())
        if op != "getitem"
    }
    return {
        "delegate": "XnnpackBackend",
        "delegated_subgraphs": info.num_delegated_subgraphs,
        "delegated_nodes": info.num_delegated_nodes,
        "not_delegated_nodes": info.num_non_delegated_nodes,
        "not_delegated_ops": sorted(op for op, c in ops.items() if c["not_delegated"]),
        "ops": ops,
    }


def _write_etrecord(program, path: Path) -> None:
    """The ETRecord beside the .pte (same stem, .etrecord): it maps an ETDump's events to the student's modules."""
    from edge_bench.profile.etdump import etrecord_path

    program.get_etrecord().save(str(etrecord_path(path)))


def _set_threads(threads: int | None) -> None:
    """Size ExecuTorch's process-wide thread pool before a program loads (None: leave it)."""
    from executorch.extension.pybindings import portable_lib

    if threads is not None and portable_lib._threadpool_get_thread_count() != threads:
        portable_lib._unsafe_reset_threadpool(int(threads))


@register_converter
class ExecuTorchConverter(Converter):
    """ExecuTorch with the XNNPACK delegate."""

    name = "executorch"
    suffix = ".pte"
    precisions = ("fp32", "int8-dynamic", "int8")
    requires = ("executorch.exir", "torchao")
    extra = "executorch"
    runs_on = ("linux", "android", "macos", "ios")
    sidecars = (".etrecord",)
    settings_version = 8  # 2: int8 keeps the L2 normalisation in float; 3: and attention masks; 4: an ETRecord beside each .pte;
    # 5: executorch_lowering (no-op expands removed, selects as slices, the L2 sum as a bmm; fp32 LayerNorm delegable);
    # 6: the int8 programs too, their LayerNorms in float; 7: open_clip's LayerNorm subclasses too, and
    # nn.MultiheadAttention as bmm/softmax/bmm (no safe-softmax ops between partitions); 8: static int8 leaves
    # the residual stream float (adds, the token concat, the stem conv)
    schemes = {
        "fp32": "float32, XNNPACK delegate",
        "int8-dynamic": "PT2E XNNPACKQuantizer: per-channel symmetric int8 weights, activations quantized at run time",
        "int8": "PT2E XNNPACKQuantizer: per-channel symmetric int8 weights, int8 activations calibrated on real inputs; "
        "the residual stream (adds, token concat, stem conv), LayerNorms and L2 normalisation float",
    }

    kept_float = {"int8": (RESIDUAL_STREAM, LAYER_NORMS, L2_NORM)}

    def versions(self) -> dict[str, str]:
        return {"executorch": package_version("executorch"), "torchao": package_version("torchao")}

    def convert(self, job: TowerJob, path: Path) -> dict:
        from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
        from executorch.exir import to_edge_transform_and_lower

        from edge_bench.converters import executorch_lowering as lowering

        program = export_program(lowering.delegable_module(job.module), job.example)
        if job.precision != "fp32":
            program = _quantize(program, job)
        edge = to_edge_transform_and_lower(
            program,
            transform_passes=lowering.transform_passes(),
            partitioner=[XnnpackPartitioner()],
            compile_config=lowering.compile_config(),
            generate_etrecord=True,
        )
        delegation = _delegation(edge)
        program = edge.to_executorch()
        write_bytes(path, program.buffer)
        _write_etrecord(program, path)
        return delegation

    def inspect(self, path: Path) -> dict:
        return declared_io(path)

    def load(self, path: Path, threads: int | None = 1) -> Runner:
        from executorch.extension.pybindings import portable_lib

        _set_threads(threads)
        module = portable_lib._load_for_executorch(str(path))

        def run(batch: np.ndarray) -> np.ndarray:
            return module.forward((as_tensor(batch),))[0].numpy()

        return run
