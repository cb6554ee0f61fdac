"""2-D convolution the slow, obvious way: the numbers im2col.py, direct.py and winograd.py
compute fast, by loops over output pixels.

Plain NumPy in float64; nothing here calls a fast kernel. Layout as in Keras: images NHWC
(N, H, W, C_in), kernels (KH, KW, C_in, C_out), and "convolution" is cross-correlation
(the kernel is not flipped). tests/ check the fast kernels against these functions.
"""
from __future__ import annotations

import math

import numpy as np


def out_size(size, k, stride, padding):
    """(out, pad_before, pad_after) along one axis, by TensorFlow's documented rules.

    valid: out = ceil((size - k + 1) / stride), no padding.
    same:  out = ceil(size / stride); pad_total = max((out - 1)·stride + k - size, 0), of
           which pad_total // 2 goes before and the rest after.
    """
    if padding == "valid":
        out = math.ceil((size - k + 1) / stride)
        return out, 0, 0
    out = math.ceil(size / stride)
    pad_total = max((out - 1) * stride + k - size, 0)
    return out, pad_total // 2, pad_total - pad_total // 2


def pair(v):
    """An int or a pair of ints, as (rows, cols)."""
    return (v, v) if isinstance(v, int) else tuple(v)


def _pad(x, kh, kw, sh, sw, padding):
    """x zero-padded as the padding asks, in float64; with the output size and padding before."""
    n_batch, h, w, c = x.shape
    oh, pt, pb = out_size(h, kh, sh, padding)
    ow, pl, pr = out_size(w, kw, sw, padding)
    xp = np.zeros((n_batch, h + pt + pb, w + pl + pr, c), dtype=np.float64)
    xp[:, pt : pt + h, pl : pl + w, :] = x
    return xp, oh, ow, pt, pl


def conv2d_forward(x, w, b, stride, padding):
    """y[n, i, j, o] = b[o] + Σ_{p, q, c} xpad[n, i·sh + p, j·sw + q, c] · w[p, q, c, o].

    Each output pixel is its receptive field (a KH x KW x C_in window of the padded input)
    multiplied element-wise with each filter and summed.
    """
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
    """dL/dx: each output pixel sends dy[n, i, j, :] back through the filters to the window
    it read, dxpad[n, i·sh + p, j·sw + q, c] += Σ_o dy[n, i, j, o] · w[p, q, c, o]; the
    padding's share is dropped."""
    sh, sw = pair(stride)
    kh, kw = w.shape[:2]
    n_batch, h, wd, c = input_shape
    dxp, oh, ow, pt, pl = _pad(np.zeros(input_shape), kh, kw, sh, sw, padding)
    for i in range(oh):
        for j in range(ow):
            dxp[:, i * sh : i * sh + kh, j * sw : j * sw + kw, :] += np.tensordot(dy[:, i, j, :], w, axes=([1], [3]))
    return dxp[:, pt : pt + h, pl : pl + wd, :]


def conv2d_grad_weight(x, dy, kernel_size, stride, padding):
    """dL/dw[p, q, c, o] = Σ_{n, i, j} xpad[n, i·sh + p, j·sw + q, c] · dy[n, i, j, o]:
    every receptive field weighted by its output pixel's gradient."""
    sh, sw = pair(stride)
    kh, kw = kernel_size
    xp, oh, ow, _, _ = _pad(x, kh, kw, sh, sw, padding)
    dw = np.zeros((kh, kw, x.shape[3], dy.shape[3]))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, i * sh : i * sh + kh, j * sw : j * sw + kw, :]
            dw += np.tensordot(window, dy[:, i, j, :], axes=([0], [0]))
    return dw


def conv2d_grad_bias(dy):
    """dL/db[o] = Σ_{n, i, j} dy[n, i, j, o]: every output pixel adds the bias once."""
    return np.asarray(dy, dtype=np.float64).sum(axis=(0, 1, 2))
