"""Fully connected layer kernels: y = x @ w + b and its gradients.

The matrix products go through np.dot inside @njit, which Numba hands to BLAS; the bias
sum is a plain loop so it runs without the GIL as well.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._checks import as_float_array, same_dtype

__all__ = ["dense_forward", "dense_backward"]


@njit(cache=True, nogil=True)
def _dense_forward(x, w, b):
    y = np.dot(x, w)  # (N, O)
    for n in range(y.shape[0]):
        for o in range(y.shape[1]):
            y[n, o] += b[o]
    return y


@njit(cache=True, nogil=True)
def _dense_backward(x, w, dy):
    dx = np.dot(dy, w.T)  # (N, I)
    dw = np.dot(x.T, dy)  # (I, O)
    # float64 accumulator: a float32 running sum over a large batch loses digits
    acc = np.zeros(dy.shape[1], dtype=np.float64)
    for n in range(dy.shape[0]):
        for o in range(dy.shape[1]):
            acc[o] += dy[n, o]
    db = acc.astype(dy.dtype)  # (O,)
    return dx, dw, db


def _check_xw(x, w):
    x = as_float_array("x", x, ndim=2)
    w = as_float_array("w", w, ndim=2)
    if x.shape[1] != w.shape[0]:
        raise ValueError(f"x has {x.shape[1]} features but w expects {w.shape[0]} (x {x.shape}, w {w.shape})")
    return x, w


def dense_forward(x, w, b):
    """x (N, I), w (I, O), b (O,) -> y (N, O) = x @ w + b."""
    x, w = _check_xw(x, w)
    b = as_float_array("b", b, ndim=1)
    if b.shape[0] != w.shape[1]:
        raise ValueError(f"b must have shape ({w.shape[1]},), got {b.shape}")
    same_dtype(x=x, w=w, b=b)
    return _dense_forward(x, w, b)


def dense_backward(x, w, dy):
    """Gradients of y = x @ w + b: returns (dx (N, I), dw (I, O), db (O,)) given dy (N, O)."""
    x, w = _check_xw(x, w)
    dy = as_float_array("dy", dy, ndim=2)
    if dy.shape != (x.shape[0], w.shape[1]):
        raise ValueError(f"dy must have shape {(x.shape[0], w.shape[1])}, got {dy.shape}")
    same_dtype(x=x, w=w, dy=dy)
    return _dense_backward(x, w, dy)
