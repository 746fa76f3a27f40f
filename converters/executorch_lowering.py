"""What makes a tower lower into XNNPACK whole: an export wrapper and edge-dialect passes.

ExecuTorch 1.5.1's XnnpackPartitioner has no LayerNorm, select or sum, and leaves
shape-preserving expands (from `torch.matmul` on batched tensors, a CLS token
expanded to batch 1) to the portable kernels. Each op it leaves splits the graph:
the built-in teacher's image tower was 23 delegate calls with 39 portable ops
between them. Here, with the weights and the math unchanged:

- `delegable_module`: a copy of the tower whose `nn.LayerNorm`s take their two means
  over the last dimension as a matmul with a constant 1/C column (`F.linear`,
  XNNPACK's fully-connected op), then subtract, rsqrt, multiply, add: all delegable.
  A quantized program keeps them in float (`in_layer_norm` is its quantizer's filter), so
  LayerNorm no longer splits an int8 graph into partitions either. open_clip's and timm's LayerNorm
  subclasses are the same op at fp32 and are replaced too; `nn.MultiheadAttention` becomes
  `MatmulAttention` (bmm, softmax, bmm), since torch's lowering of its attention leaves a "safe
  softmax" and scalar multiplies that XNNPACK does not take: ViT-B-32's towers were 62 delegate
  calls each, now 1 (image) and 2 (text: the token embedding and the end-of-text pooling stay portable).
- `transform_passes`: XNNPACK's own no-op expand removal (as its fp32 recipe uses),
  `select_copy` as a `slice_copy` and a `view_copy`, `squeeze_copy` as a `view_copy`
  (the text tower's end-of-text pooling), and the L2 normalisation's
  `sum(x * x, -1)` of a row as a `bmm` of the row with itself.

The teacher's image tower is then one delegate call (see the commit's ratios).
"""

from __future__ import annotations

import copy


_LAYER_NORMS = {"torch.nn.modules.normalization.LayerNorm", "open_clip.transformer.LayerNorm",
                "open_clip.transformer.LayerNormFp32", "timm.layers.norm.LayerNorm"}
"""LayerNorm classes that are `F.layer_norm` over the last dims at fp32 (open_clip's and timm's subclasses
only cast to and from the input's dtype, or pick a fused kernel of the same op)."""


def delegable_module(module):
    """A copy of the tower, sharing its parameters, whose 1-D affine LayerNorms are `LinearMeanLayerNorm`s
    and whose `nn.MultiheadAttention`s are `MatmulAttention`s."""
    from torch import nn

    module = copy.deepcopy(module)
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            kind = f"{type(child).__module__}.{type(child).__qualname__}"
            if kind in _LAYER_NORMS and len(child.normalized_shape) == 1 and child.elementwise_affine:
                setattr(parent, name, _linear_mean_layer_norm(child))
            elif type(child) is nn.MultiheadAttention:
                setattr(parent, name, _matmul_attention(child))
    return module


def _matmul_attention(attention):
    """`nn.MultiheadAttention` as `MatmulAttention` (the class is built lazily: torch imports late)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class MatmulAttention(nn.Module):
        """nn.MultiheadAttention's forward with need_weights=False, its attention as bmm, softmax, bmm.

        torch lowers `scaled_dot_product_attention` to its math form with a "safe" softmax
        (`eq`, `logical_not`, `any`, `where`, `full_like`: a row that is all -inf gives zeros, not NaN)
        and scales q and k by sqrt(scale) each (`mul.Scalar`). XNNPACK takes none of those, so every
        attention split the graph five times (ViT-B-32's towers: 62 delegate calls each). Here the
        scores are q @ k^T * scale (+ mask), the plain softmax: the same result wherever a row has a
        finite entry, which a CLIP tower's causal or padding mask always leaves. Any other use (the
        weights asked for, a different key and value width) runs the original module.
        """

        def __init__(self, mha: nn.MultiheadAttention) -> None:
            super().__init__()
            self.original = mha
            self.heads, self.batch_first = mha.num_heads, mha.batch_first
            if mha._qkv_same_embed_dim:  # q, k and v's weights as views of in_proj's (cross-attention: no split in the graph)
                bias = mha.in_proj_bias.chunk(3) if mha.in_proj_bias is not None else (None,) * 3
                for part, weight, b in zip("qkv", mha.in_proj_weight.chunk(3), bias):
                    setattr(self, f"w_{part}", nn.Parameter(weight, requires_grad=False))
                    setattr(self, f"b_{part}", None if b is None else nn.Parameter(b, requires_grad=False))

        def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                    average_attn_weights=True, is_causal=False):
            mha = self.original
            if need_weights or is_causal or not mha._qkv_same_embed_dim or mha.bias_k is not None or query.dim() != 3:
                return mha(query, key, value, key_padding_mask=key_padding_mask, need_weights=need_weights,
                           attn_mask=attn_mask, average_attn_weights=average_attn_weights, is_causal=is_causal)
            if not self.batch_first:
                query, key, value = (t.transpose(0, 1) for t in (query, key, value))
            batch, tokens, width = query.shape
            sources = key.shape[1]
            head_dim = width // self.heads
            if query is key and key is value:  # self-attention: one GEMM, its output sliced (slices delegate; a split does not)
                qkv = F.linear(query, mha.in_proj_weight, mha.in_proj_bias)
                q, k, v = qkv[..., :width], qkv[..., width:2 * width], qkv[..., 2 * width:]
            else:
                q, k, v = F.linear(query, self.w_q, self.b_q), F.linear(key, self.w_k, self.b_k), F.linear(value, self.w_v, self.b_v)

            def heads(t, length):
                return t.reshape(batch, length, self.heads, head_dim).transpose(1, 2).reshape(batch * self.heads, length, head_dim)

            q, k, v = heads(q, tokens), heads(k, sources), heads(v, sources)
            scores = torch.bmm(q, k.transpose(1, 2)) * (head_dim**-0.5)
            mask = _additive(attn_mask, scores.dtype)
            if mask is not None:
                scores = scores + (mask if mask.dim() == 3 else mask.reshape(1, tokens, sources))
            padding = _additive(key_padding_mask, scores.dtype)
            if padding is not None:
                scores = (scores.view(batch, self.heads, tokens, sources) + padding.view(batch, 1, 1, sources)).view(
                    batch * self.heads, tokens, sources)
            weights = torch.softmax(scores, dim=-1)
            if mha.dropout and self.training:
                weights = F.dropout(weights, p=mha.dropout)
            out = torch.bmm(weights, v).reshape(batch, self.heads, tokens, head_dim).transpose(1, 2).reshape(batch, tokens, width)
            out = mha.out_proj(out)
            return (out if self.batch_first else out.transpose(0, 1)), None

    return MatmulAttention(attention)


def _additive(mask, dtype):
    """An attention mask as additive scores: a bool mask's True (not allowed) becomes -inf."""
    import torch

    if mask is None or mask.dtype != torch.bool:
        return None if mask is None else mask.to(dtype)
    return torch.zeros(mask.shape, dtype=dtype).masked_fill(mask, float("-inf"))


def _linear_mean_layer_norm(layer_norm):
    """The LayerNorm as `LinearMeanLayerNorm` (the class is built lazily: torch imports late)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class LinearMeanLayerNorm(nn.Module):
        """LayerNorm over the last dim whose means are matmuls with a 1/C column (delegable to XNNPACK)."""

        def __init__(self, ln: nn.LayerNorm) -> None:
            super().__init__()
            (width,) = ln.normalized_shape
            self.eps = ln.eps
            self.weight, self.bias = ln.weight, ln.bias
            self.register_buffer("mean_weight", torch.full((1, width), 1.0 / width), persistent=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            centred = x - F.linear(x, self.mean_weight)
            variance = F.linear(centred * centred, self.mean_weight)
            return centred * torch.rsqrt(variance + self.eps) * self.weight + self.bias

    return LinearMeanLayerNorm(layer_norm)


def in_layer_norm(node) -> bool:
    """Whether an exported node belongs to a `LinearMeanLayerNorm`: a quantizer leaves these in float
    (its 1/C means and the rsqrt lose the LayerNorm's precision in int8) and XNNPACK runs them in fp32,
    inside the same partition as the quantized ops around them."""
    stack = node.meta.get("nn_module_stack") or {}
    return any(str(kind).endswith("LinearMeanLayerNorm") for _, kind in stack.values())


def transform_passes() -> list:
    """Edge-dialect passes run before partitioning (exact: they move no arithmetic)."""
    from executorch.backends.xnnpack.utils.configs import get_transform_passes

    return get_transform_passes([_select_to_slice_pass(), _squeeze_to_view_pass(), _sum_of_squares_pass()])


def compile_config():
    """XNNPACK's own edge compile config (its fp32 recipe's)."""
    from executorch.backends.xnnpack.utils.configs import get_xnnpack_edge_compile_config

    return get_xnnpack_edge_compile_config()


def _select_to_slice_pass():
    """select_copy(x, d, i) -> view_copy(slice_copy(x, d, i, i + 1)): XNNPACK slices and reshapes."""
    from executorch.exir.dialects._ops import ops as exir_ops
    from executorch.exir.pass_base import ExportPass, PassResult

    aten = exir_ops.edge.aten

    class SelectToSlicePass(ExportPass):
        def call(self, graph_module):
            graph = graph_module.graph
            for node in list(graph.nodes):
                if node.target != aten.select_copy.int:
                    continue
                x, dim, index = node.args
                index = index % x.meta["val"].shape[dim]
                with graph.inserting_before(node):
                    sliced = graph.call_function(aten.slice_copy.Tensor, (x, dim, index, index + 1))
                    sliced.meta = dict(node.meta, val=aten.slice_copy.Tensor(x.meta["val"], dim, index, index + 1))
                    view = graph.call_function(aten.view_copy.default, (sliced, list(node.meta["val"].shape)))
                    view.meta = dict(node.meta)
                node.replace_all_uses_with(view)
                graph.erase_node(node)
            graph.lint()
            graph_module.recompile()
            return PassResult(super().call(graph_module).graph_module, True)

    return SelectToSlicePass()


def _squeeze_to_view_pass():
    """squeeze_copy.dims(x, dims) -> view_copy(x, shape): shapes are static, XNNPACK reshapes."""
    from executorch.exir.dialects._ops import ops as exir_ops
    from executorch.exir.pass_base import ExportPass, PassResult

    aten = exir_ops.edge.aten

    class SqueezeToViewPass(ExportPass):
        def call(self, graph_module):
            graph = graph_module.graph
            for node in list(graph.nodes):
                if node.target != aten.squeeze_copy.dims:
                    continue
                with graph.inserting_before(node):
                    view = graph.call_function(aten.view_copy.default, (node.args[0], list(node.meta["val"].shape)))
                    view.meta = dict(node.meta)
                node.replace_all_uses_with(view)
                graph.erase_node(node)
            graph.lint()
            graph_module.recompile()
            return PassResult(super().call(graph_module).graph_module, True)

    return SqueezeToViewPass()


def _sum_of_squares_pass():
    """sum(mul(a, a), [-1]) of a 2-D a -> view_copy(bmm(a as (B, 1, D), a as (B, D, 1))): the L2 norm's sum."""
    import torch
    from executorch.exir.dialects._ops import ops as exir_ops
    from executorch.exir.pass_base import ExportPass, PassResult

    aten = exir_ops.edge.aten

    def squared(node):
        src = node.args[0]
        if getattr(src, "target", None) != aten.mul.Tensor or src.args[0] is not src.args[1]:
            return None
        a = src.args[0]
        shape = a.meta["val"].shape
        dims = [int(d) for d in node.args[1]]
        return a if len(shape) == 2 and dims in ([-1], [1]) and node.meta["val"].dtype == torch.float32 else None

    class SumOfSquaresToBmmPass(ExportPass):
        def call(self, graph_module):
            graph = graph_module.graph
            for node in list(graph.nodes):
                a = squared(node) if node.target == aten.sum.dim_IntList else None
                if a is None:
                    continue
                rows, width = a.meta["val"].shape
                with graph.inserting_before(node):
                    left = graph.call_function(aten.view_copy.default, (a, [rows, 1, width]))
                    left.meta = dict(node.meta, val=a.meta["val"].reshape(rows, 1, width))
                    right = graph.call_function(aten.view_copy.default, (a, [rows, width, 1]))
                    right.meta = dict(node.meta, val=a.meta["val"].reshape(rows, width, 1))
                    product = graph.call_function(aten.bmm.default, (left, right))
                    product.meta = dict(node.meta, val=torch.bmm(left.meta["val"], right.meta["val"]))
                    view = graph.call_function(aten.view_copy.default, (product, list(node.meta["val"].shape)))
                    view.meta = dict(node.meta)
                node.replace_all_uses_with(view)
                graph.erase_node(node)
            graph.eliminate_dead_code()
            graph.lint()
            graph_module.recompile()
            return PassResult(super().call(graph_module).graph_module, True)

    return SumOfSquaresToBmmPass()
