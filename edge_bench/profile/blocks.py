"""Which block of a CLIP student an operator belongs to, and the roll-up by block.

A row is placed by (in order): layout ops by their op type alone; norms by op
or module class; then the student's module path (patch/stem, token embedding,
attn, mlp, proj/head); ops of the root module before the first transformer
block are the stem (patch or token embedding), after it the projection; a
Block's own ops (residual adds) are 'residual'; then the op type alone
(convolution, softmax, gelu, ...). Works on ExecuTorch aten names, XNNPACK
kernel names and TFLite node types alike.
"""

from __future__ import annotations

import re
from dataclasses import replace

from .model import BLOCKS, BlockShare, OpRow

LAYOUT = re.compile(
    r"(view|permute|expand|select|slice|clone|cat|unsqueeze|squeeze|transpose|_to_copy|alias|split|unbind|reshape|"
    r"t_copy|copy|concatenat|pack|unpack|broadcast|expand_dims|strided_slice|tile|pad)", re.I)
NORM = re.compile(r"(layer_norm|batch_norm|group_norm|rms_norm|layernorm|batchnorm|rmsnorm|groupnorm|norm\b)", re.I)
STEM = re.compile(r"(^|\.)(patch|patch_embed|stem|conv1|conv_stem|patch_embedding)(\.|$)", re.I)
TOKEN = re.compile(r"(^|\.)(embed|token_embedding|embed_tokens|tok_emb|wte|embeddings)(\.|$)", re.I)
ATTN = re.compile(r"(^|\.)(attn|attention|self_attn|mha)(\.|$)", re.I)
MLP = re.compile(r"(^|\.)(mlp|ffn|feed_forward|c_fc|fc1|fc2)(\.|$)", re.I)
PROJ = re.compile(r"(^|\.)(proj|head|projection|text_projection|visual_proj)$", re.I)
BLOCK_LEVEL = re.compile(r"(^|\.)(blocks|layers|resblocks|layer|h|stages)\.\d+$", re.I)
IN_BLOCKS = re.compile(r"(^|\.)(blocks|layers|resblocks|layer|h|stages)\.\d+", re.I)
BY_OP = (
    (re.compile(r"(conv)", re.I), "patch embedding"),
    (re.compile(r"(embedding|gather)", re.I), "token embedding"),
    (re.compile(r"(softmax|bmm|batch matrix|matmul|batch_matmul|attention)", re.I), "attention"),
    (re.compile(r"(gelu|silu|relu|hard_swish)", re.I), "mlp"),
)


def _words(row: OpRow) -> list[str]:
    return list(row.op_types) or [row.name]


def is_layout(row: OpRow) -> bool:
    """Every op behind the row only moves data (view, permute, expand, select, reshape, transpose, copy ...)."""
    return all(LAYOUT.search(w.split("(")[0]) for w in _words(row))


def classify(row: OpRow, tower: str, after_blocks: bool, module_class: str = "") -> str:
    """The block of one row (see the module docstring for the order of the rules)."""
    if row.kind == "delegate-call":
        return "delegate overhead"
    if is_layout(row):
        return "layout"
    if any(NORM.search(w) for w in _words(row)) or "Norm" in module_class:
        return "norms"
    path = row.module
    for pattern, block in ((STEM, "patch embedding"), (TOKEN, "token embedding"), (ATTN, "attention"), (MLP, "mlp")):
        if path and pattern.search(path):
            return block
    if path and PROJ.search(path) and not IN_BLOCKS.search(path):
        return "projection"
    if path and BLOCK_LEVEL.search(path):
        return "residual"
    for pattern, block in BY_OP:
        if any(pattern.search(w) for w in _words(row)):
            return block
    if path == "" and (row.op_types or row.kind == "delegate"):  # the root module's own ops
        return "projection" if after_blocks else ("patch embedding" if tower == "image" else "token embedding")
    return "other"


def place(rows: list[OpRow], tower: str, classes: dict[str, str] | None = None) -> list[OpRow]:
    """Rows with their block set, in run order (the root's ops before the first block are the stem)."""
    out, seen_blocks = [], False
    classes = classes or {}
    for row in rows:
        seen_blocks = seen_blocks or bool(IN_BLOCKS.search(row.module))
        out.append(replace(row, block=classify(row, tower, seen_blocks, classes.get(row.module, ""))))
    return out


def roll_up(rows: list[OpRow], timed_median_ms: float | None, runtime_overhead_ms: float = 0.0) -> tuple[BlockShare, ...]:
    """Per-block totals of the rows' medians (plus the runtime's overhead), each as a share of the timed median."""
    ms = {b: 0.0 for b in BLOCKS}
    outside = {b: 0.0 for b in BLOCKS}
    count = {b: 0 for b in BLOCKS}
    for row in rows:
        block = row.block if row.block in ms else "other"
        ms[block] += row.median_ms or 0.0
        count[block] += 1
        if row.kind == "portable":
            outside[block] += row.median_ms or 0.0
    if runtime_overhead_ms > 0:
        ms["runtime overhead"] += runtime_overhead_ms
        outside["runtime overhead"] += runtime_overhead_ms
        count["runtime overhead"] += 1

    def share(value: float) -> float | None:
        return value / timed_median_ms if timed_median_ms else None

    return tuple(BlockShare(b, ms[b], share(ms[b]), count[b], outside[b]) for b in BLOCKS if count[b])
