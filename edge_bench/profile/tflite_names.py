"""The student's module behind a LiteRT node, from the tensor names litert-torch writes.

litert-torch names an op's output tensor after the module stack it came from:
`pkg.EdgeClipImage/pkg.Block_0/pkg.Attention_attn/torch.nn.modules.linear.Linear_qkv;1`
(one `Class_attribute` per level below the root, `;N` a counter, `;;` joins
the names of fused ops). A numeric attribute is an item of a ModuleList whose
own name the stack does not keep: it is written `blocks.N`.
"""

from __future__ import annotations


def module_of(tensor_name: str) -> tuple[str, str]:
    """(module path, class name) of a litert-torch tensor name; ('', '') when it carries no stack."""
    pieces = [p for p in tensor_name.split(";") if "/" in p or "." in p]
    if not pieces:
        return "", ""
    levels = pieces[-1].split("/")
    path, cls = [], levels[0].rsplit(".", 1)[-1]
    for level in levels[1:]:
        qual = level.rsplit(".", 1)[-1]
        if "_" not in qual:
            continue
        cls, attr = qual.split("_", 1)
        path.append(f"blocks.{attr}" if attr.isdigit() else attr)
    return ".".join(path), cls


def node_name(benchmark_name: str) -> str:
    """The tensor name in a benchmark_model row's name ('[name]:12' -> 'name')."""
    text = benchmark_name.strip()
    if text.startswith("[") and "]" in text:
        return text[1:text.rindex("]")]
    return text
