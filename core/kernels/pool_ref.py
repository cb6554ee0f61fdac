"""Pooling the slow, obvious way: the numbers pool.py (and conv/pool_fused.py) compute fast.

Plain NumPy in float64, one window at a time; nothing here calls a fast kernel. Windows
and padding follow TensorFlow's rules (conv/reference.py's out_size); a padded position is
simply not part of its window. tests/ check the fast kernels against these functions.
"""
from __future__ import annotations

import numpy as np

from .conv.reference import out_size, pair


def _windows(h, w, pool_size, strides, padding):
    """Yield (i, j, rows, cols): the in-bounds input rows/cols of output pixel (i, j)."""
    kh, kw = pair(pool_size)
    sh, sw = pair(strides)
    oh, pt, _ = out_size(h, kh, sh, padding)
    ow, pl, _ = out_size(w, kw, sw, padding)
    for i in range(oh):
        rows = [r for r in range(i * sh - pt, i * sh - pt + kh) if 0 <= r < h]
        for j in range(ow):
            cols = [c for c in range(j * sw - pl, j * sw - pl + kw) if 0 <= c < w]
            yield i, j, rows, cols


def _out_shape(x_shape, pool_size, strides, padding):
    kh, kw = pair(pool_size)
    sh, sw = pair(strides)
    return (x_shape[0], out_size(x_shape[1], kh, sh, padding)[0], out_size(x_shape[2], kw, sw, padding)[0], x_shape[3])


def max_pool_forward(x, pool_size, strides, padding):
    """y[n, i, j, c] = max over window (i, j) of x[n, r, q, c]; also returns the winner's
    flat position r·W + q. The first maximum in row-major order wins ties; a NaN wins."""
    n_batch, h, w, c = x.shape
    y = np.zeros(_out_shape(x.shape, pool_size, strides, padding))
    arg = np.zeros(y.shape, dtype=np.int64)
    for i, j, rows, cols in _windows(h, w, pool_size, strides, padding):
        for n in range(n_batch):
            for ch in range(c):
                vals = [x[n, r, q, ch] for r in rows for q in cols]  # row-major order
                pos = [r * w + q for r in rows for q in cols]
                k = int(np.argmax(vals))  # first max; first NaN if any
                y[n, i, j, ch] = vals[k]
                arg[n, i, j, ch] = pos[k]
    return y, arg


def max_pool_backward(dy, x, pool_size, strides, padding):
    """dL/dx: each window's gradient dy[n, i, j, c] goes to its winner, found by searching
    the window again (dx += where several windows share a winner); 0 elsewhere."""
    n_batch, h, w, c = x.shape
    dx = np.zeros(x.shape)
    for i, j, rows, cols in _windows(h, w, pool_size, strides, padding):
        for n in range(n_batch):
            for ch in range(c):
                best = max((x[n, r, q, ch], -r, -q) for r in rows for q in cols)
                dx[n, -best[1], -best[2], ch] += dy[n, i, j, ch]
    return dx


def avg_pool_forward(x, pool_size, strides, padding):
    """y[n, i, j, c] = mean of x[n, r, q, c] over window (i, j)'s in-bounds positions."""
    n_batch, h, w, c = x.shape
    y = np.zeros(_out_shape(x.shape, pool_size, strides, padding))
    for i, j, rows, cols in _windows(h, w, pool_size, strides, padding):
        y[:, i, j, :] = x[:, rows][:, :, cols].mean(axis=(1, 2))
    return y


def avg_pool_backward(dy, input_shape, pool_size, strides, padding):
    """dL/dx: each window shares dy[n, i, j, c] equally among its in-bounds positions,
    dx[n, r, q, c] += dy[n, i, j, c] / (window size)."""
    n_batch, h, w, c = input_shape
    dx = np.zeros(input_shape)
    for i, j, rows, cols in _windows(h, w, pool_size, strides, padding):
        share = dy[:, i, j, :] / (len(rows) * len(cols))  # (N, C)
        for r in rows:
            for q in cols:
                dx[:, r, q, :] += share
    return dx
