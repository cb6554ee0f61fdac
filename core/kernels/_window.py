"""Per-element rules every fused conv + ReLU + 2x2 max-pool kernel shares, in one place.

They are tiny and run once per element in the innermost loops, so they are inlined where
they are used (Numba-level inlining: the compiler then vectorises them with the loop).
"""
from __future__ import annotations

from numba import njit


@njit(cache=True, nogil=True, inline="always")
def relu(v, on):
    """max(v, 0) when on, NaN stays NaN; v unchanged otherwise."""
    if on:
        return v if (v > 0 or v != v) else 0.0
    return v


@njit(cache=True, nogil=True, inline="always")
def better(v, best):
    """Does v replace the best so far? The first maximum wins ties; NaN wins and stays."""
    return v > best or (v != v and best == best)


@njit(cache=True, nogil=True, inline="always")
def max4(v00, v01, v10, v11):
    """(maximum, its position 0..3) of a 2x2 window given row by row, by `better`."""
    best, k = v00, 0
    if better(v01, best):
        best, k = v01, 1
    if better(v10, best):
        best, k = v10, 2
    if better(v11, best):
        best, k = v11, 3
    return best, k


@njit(cache=True, nogil=True, inline="always")
def relu_grad(g, a):
    """dL/dz from g = dL/da and the ReLU's output a: g where a > 0, g*0 where a <= 0 (so a
    NaN or inf arriving in g stays visible), and a itself where a is NaN."""
    if a > 0:
        return g
    return g * 0.0 if a <= 0 else a
