"""Slow, obviously correct NumPy references for core.kernels, written independently of it.

Explicit loops over output pixels and windows on purpose: these are what the fast kernels
are checked against, so they must be easy to read rather than quick. Nothing here imports
core/.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

EPS = 1e-7


def out_size(size, k, stride, padding):
    """(out, pad_before, pad_after) following TensorFlow's documented padding rules."""
    if padding == "valid":
        out = math.ceil((size - k + 1) / stride)
        return out, 0, 0
    out = math.ceil(size / stride)
    pad_total = max((out - 1) * stride + k - size, 0)
    return out, pad_total // 2, pad_total - pad_total // 2


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def finite_diff(f, x, eps=1e-6):
    """Centred finite-difference gradient of the scalar function f at x (float64)."""
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        hi = f(x)
        flat[i] = old - eps
        lo = f(x)
        flat[i] = old
        gflat[i] = (hi - lo) / (2 * eps)
    return g


# ---------------------------------------------------------------- dense

def dense_forward(x, w, b):
    n_batch, n_out = x.shape[0], w.shape[1]
    y = np.zeros((n_batch, n_out), dtype=np.float64)
    for n in range(n_batch):
        for o in range(n_out):
            y[n, o] = np.sum(x[n, :].astype(np.float64) * w[:, o]) + b[o]
    return y


def dense_backward(x, w, dy):
    dx = np.zeros(x.shape)
    dw = np.zeros(w.shape)
    db = np.zeros(w.shape[1])
    for n in range(x.shape[0]):
        for o in range(w.shape[1]):
            dx[n, :] += dy[n, o] * w[:, o]
            dw[:, o] += dy[n, o] * x[n, :]
            db[o] += dy[n, o]
    return dx, dw, db


# ---------------------------------------------------------------- conv

def _pad(x, kh, kw, sh, sw, padding):
    n_batch, h, w, c = x.shape
    oh, pt, pb = out_size(h, kh, sh, padding)
    ow, pl, pr = out_size(w, kw, sw, padding)
    xp = np.zeros((n_batch, h + pt + pb, w + pl + pr, c), dtype=np.float64)
    xp[:, pt : pt + h, pl : pl + w, :] = x
    return xp, oh, ow, pt, pl


def conv2d_forward(x, w, b, stride, padding):
    sh, sw = pair(stride)
    kh, kw, _, c_out = w.shape
    xp, oh, ow, _, _ = _pad(x, kh, kw, sh, sw, padding)
    y = np.zeros((x.shape[0], oh, ow, c_out))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, i * sh : i * sh + kh, j * sw : j * sw + kw, :]  # (N, KH, KW, C)
            y[:, i, j, :] = np.tensordot(window, w, axes=3) + b
    return y


def conv2d_grad_input(dy, w, input_shape, stride, padding):
    sh, sw = pair(stride)
    kh, kw = w.shape[:2]
    n_batch, h, wd, c = input_shape
    dxp, oh, ow, pt, pl = _pad(np.zeros(input_shape), kh, kw, sh, sw, padding)
    for i in range(oh):
        for j in range(ow):
            dxp[:, i * sh : i * sh + kh, j * sw : j * sw + kw, :] += np.tensordot(dy[:, i, j, :], w, axes=([1], [3]))
    return dxp[:, pt : pt + h, pl : pl + wd, :]


def conv2d_grad_weight(x, dy, kernel_size, stride, padding):
    sh, sw = pair(stride)
    kh, kw = kernel_size
    xp, oh, ow, _, _ = _pad(x, kh, kw, sh, sw, padding)
    dw = np.zeros((kh, kw, x.shape[3], dy.shape[3]))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, i * sh : i * sh + kh, j * sw : j * sw + kw, :]
            dw += np.tensordot(window, dy[:, i, j, :], axes=([0], [0]))
    return dw


# ---------------------------------------------------------------- pooling

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
    """Gradient of sum(dy * maxpool(x)) found by searching each window again."""
    n_batch, h, w, c = x.shape
    dx = np.zeros(x.shape)
    for i, j, rows, cols in _windows(h, w, pool_size, strides, padding):
        for n in range(n_batch):
            for ch in range(c):
                best = max((x[n, r, q, ch], -r, -q) for r in rows for q in cols)
                dx[n, -best[1], -best[2], ch] += dy[n, i, j, ch]
    return dx


def avg_pool_forward(x, pool_size, strides, padding):
    n_batch, h, w, c = x.shape
    y = np.zeros(_out_shape(x.shape, pool_size, strides, padding))
    for i, j, rows, cols in _windows(h, w, pool_size, strides, padding):
        y[:, i, j, :] = x[:, rows][:, :, cols].mean(axis=(1, 2))
    return y


def avg_pool_backward(dy, input_shape, pool_size, strides, padding):
    n_batch, h, w, c = input_shape
    dx = np.zeros(input_shape)
    for i, j, rows, cols in _windows(h, w, pool_size, strides, padding):
        share = dy[:, i, j, :] / (len(rows) * len(cols))  # (N, C)
        for r in rows:
            for q in cols:
                dx[:, r, q, :] += share
    return dx


# ---------------------------------------------------------------- activations

def relu(z):
    return np.where(z > 0, z, 0.0)


def relu_grad(z, dy):
    return np.where(z > 0, dy, 0.0)


def sigmoid(z):
    return special.expit(np.asarray(z, dtype=np.float64))


def leaky_relu(z, alpha):
    return np.where(z > 0, z, alpha * z)


def leaky_relu_grad(z, dy, alpha):
    return np.where(z > 0, dy, alpha * dy)


def softmax(z):
    z = np.asarray(z, dtype=np.float64)
    return special.softmax(z, axis=-1)


def softmax_grad(p, dy):
    """Full Jacobian-vector product, one sample at a time: J = diag(p) - p p^T."""
    dz = np.zeros(p.shape)
    for n in range(p.shape[0]):
        jac = np.diag(p[n]) - np.outer(p[n], p[n])
        dz[n] = jac.T @ dy[n]
    return dz


# ---------------------------------------------------------------- losses (per-sample values)

def softmax_cross_entropy(z, labels):
    z = np.asarray(z, dtype=np.float64)
    return np.array([special.logsumexp(z[n]) - z[n, labels[n]] for n in range(z.shape[0])])


def softmax_cross_entropy_onehot(z, t):
    z = np.asarray(z, dtype=np.float64)
    logp = z - special.logsumexp(z, axis=1, keepdims=True)
    return -(t * logp).sum(axis=1)


def sigmoid_binary_cross_entropy(z, t):
    z = np.asarray(z, dtype=np.float64).reshape(len(z), -1)
    t = np.asarray(t, dtype=np.float64).reshape(len(t), -1)
    # log(sigmoid(z)) = -logaddexp(0, -z) evaluated without overflow by NumPy
    per = t * np.logaddexp(0, -z) + (1 - t) * np.logaddexp(0, z)
    return per.mean(axis=1)


def mean_squared_error(t, p):
    d = np.asarray(p, np.float64) - t
    return (d**2).reshape(len(d), -1).mean(axis=1)


def mean_absolute_error(t, p):
    d = np.asarray(p, np.float64) - t
    return np.abs(d).reshape(len(d), -1).mean(axis=1)


def binary_crossentropy(t, p, eps=EPS):
    t = np.asarray(t, np.float64).reshape(len(t), -1)
    q = np.clip(np.asarray(p, np.float64).reshape(len(p), -1), eps, 1 - eps)
    return -(t * np.log(q) + (1 - t) * np.log(1 - q)).mean(axis=1)


def categorical_crossentropy(t, p, eps=EPS):
    p = np.asarray(p, np.float64)
    q = np.clip(p / p.sum(axis=1, keepdims=True), eps, 1 - eps)
    return -(t * np.log(q)).sum(axis=1)


def sparse_categorical_crossentropy(labels, p, eps=EPS):
    onehot = np.eye(p.shape[1])[labels]
    return categorical_crossentropy(onehot, p, eps)
