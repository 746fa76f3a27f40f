"""The student's module behind a LiteRT node, from the tensor names litert-torch writes.

litert-torch names an op's output tensor after the module stack it came from:
`pkg.EdgeClipImage/pkg.Block_0/pkg.Attention_attn/torch.nn.modules.linear.Linear_qkv;1`
(one `Class_attribute` per level below the root, `;N` a counter, `;;` joins
the names of fused ops). A numeric attribute is an item of a container: of a
`Sequential`, which the stack keeps (`Sequential_mlp/GELU_1` is `mlp.1`), or of
a ModuleList, whose own name the stack does not keep: that is written `blocks.N`.
"""

from __future__ import annotations


OP_CLASSES = {"FULLY_CONNECTED": "Linear", "CONV_2D": "Conv", "DEPTHWISE_CONV_2D": "Conv", "EMBEDDING_LOOKUP": "Embedding"}
"""The module class a node type comes from, for a fused name (`Linear_proj;;LayerNorm_ln;`) that names several."""
OUTERMOST = ("ADD",)
"""Node types that belong to the outermost module of a fused name (`Block_0;;Block_0/Attention_attn/Linear_out;`: the
residual add of block 0)."""


def module_of(tensor_name: str, op: str = "") -> tuple[str, str]:
    """(module path, class name) of a litert-torch tensor name; ('', '') when it carries no stack. Of a fused name,
    the piece whose module is of the class `op` comes from (a FULLY_CONNECTED's Linear), else the last."""
    pieces = [p for p in tensor_name.split(";") if "/" in p or "." in p]
    if not pieces:
        return "", ""
    wanted = OP_CLASSES.get(op, "")
    chosen = next((p for p in pieces if wanted and wanted in p.split("/")[-1].rsplit(".", 1)[-1].split("_")[0]), pieces[-1])
    if op in OUTERMOST and len(pieces) > 1:  # a residual ADD is named with the layer whose output it adds: it is the block's
        chosen = min(pieces, key=lambda p: p.count("/"))
    levels = chosen.split("/")
    path, cls = [], levels[0].rsplit(".", 1)[-1]
    for level in levels[1:]:
        qual = level.rsplit(".", 1)[-1]
        if "_" not in qual:
            continue
        parent = cls
        cls, attr = qual.split("_", 1)
        path.append(attr if not attr.isdigit() or parent == "Sequential" else f"blocks.{attr}")
    return ".".join(path), cls


def node_name(benchmark_name: str) -> str:
    """The tensor name in a benchmark_model row's name ('[name]:12' -> 'name')."""
    text = benchmark_name.strip()
    if text.startswith("[") and "]" in text:
        return text[1:text.rindex("]")]
    return text
