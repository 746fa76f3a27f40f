"""What the quantized recipes leave in float and why, shared by the backends that make the same choice.

Measured on the built-in teacher, static int8 with one part of the image tower
quantized at a time (PT2E reference simulation; `bench/int8_sensitivity.py`
prints the table): the residual stream is where int8 costs recall.
"""

from __future__ import annotations

from edge_bench.converters.base import KeptFloat

RESIDUAL_STREAM = KeptFloat(
    "the residual stream: residual and positional adds, the token concat, the stem conv", ("residual", "patch embedding"),
    "in int8 each alone cost the built-in teacher 1.2 to 1.5 points of image R@1, every linear layer 0 to 0.16 "
    "(bench/int8_sensitivity.py)")
LAYER_NORMS = KeptFloat("LayerNorms", ("norms",), "in int8 their 1/C means and rsqrt lose the normalisation's precision")
L2_NORM = KeptFloat("the final L2 normalisation", ("projection",), "in int8 its epsilon rounds away and a zero norm divides by zero")
