"""A dense layer the slow, obvious way: the formulas dense.py computes, for reading and testing.

Plain NumPy, one sample and one output at a time, in float64; nothing here calls a fast
kernel. tests/ check dense.py against these functions (and against finite differences).
"""
from __future__ import annotations

import numpy as np


def dense_forward(x, w, b):
    """y = x·W + b, i.e. y[n, o] = Σ_i x[n, i]·W[i, o] + b[o].

    x (N, I), W (I, O), b (O,) -> y (N, O), in float64.
    """
    n_batch, n_out = x.shape[0], w.shape[1]
    y = np.zeros((n_batch, n_out), dtype=np.float64)
    for n in range(n_batch):
        for o in range(n_out):
            y[n, o] = np.sum(x[n, :].astype(np.float64) * w[:, o]) + b[o]
    return y


def dense_backward(x, w, dy):
    """Gradients of L through y = x·W + b, given dy = dL/dy (N, O): returns (dx, dW, db).

        dx = dy·Wᵀ      dx[n, i] = Σ_o dy[n, o]·W[i, o]
        dW = xᵀ·dy      dW[i, o] = Σ_n x[n, i]·dy[n, o]
        db = Σ_n dy     db[o]    = Σ_n dy[n, o]

    Written as each sample's contribution added in turn.
    """
    dx = np.zeros(x.shape)
    dw = np.zeros(w.shape)
    db = np.zeros(w.shape[1])
    for n in range(x.shape[0]):
        for o in range(w.shape[1]):
            dx[n, :] += dy[n, o] * w[:, o]
            dw[:, o] += dy[n, o] * x[n, :]
            db[o] += dy[n, o]
    return dx, dw, db
