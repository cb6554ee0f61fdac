"""2-D convolution kernels (NHWC images, Keras kernels (KH, KW, C_in, C_out)).

Cross-correlation as Keras computes it, done as im2col + one matrix product: each output
pixel's receptive field is copied into one row of a "columns" matrix (channels-last, so a
kernel row of KW pixels is KW*C contiguous values), and the product with the kernel
reshaped to (KH*KW*C_in, C_out) gives every output channel at once through BLAS. The input
gradient runs the same product backwards and scatters the rows back (col2im).

The columns matrix is built a few samples at a time so its size stays bounded however
large the batch is.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._checks import as_float_array, output_size, padding_mode, pair, same_dtype

__all__ = [
    "conv_output_size",
    "conv2d_forward",
    "conv2d_grad_input",
    "conv2d_grad_weight",
    "conv2d_grad_bias",
]

# Largest columns matrix built at once, in elements (8 MiB at float32): big enough for
# BLAS to run at full speed, small enough that a CIFAR batch does not allocate gigabytes.
_CHUNK_ELEMENTS = 1 << 21


def conv_output_size(size, k, stride, padding):
    """Keras output length and padding-before along one axis: returns (out, pad_before).

    valid: out = (size - k) // stride + 1 (ValueError if size < k);
    same:  out = ceil(size / stride), pad_total = max((out-1)*stride + k - size, 0),
           pad_before = pad_total // 2 (the extra pixel, if any, goes after).
    """
    for name, v, lo in (("size", size, 0), ("k", k, 1), ("stride", stride, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"{name} must be an int >= {lo}, got {v!r}")
    return output_size(int(size), int(k), int(stride), padding_mode(padding))


@njit(cache=True, nogil=True)
def _samples_per_chunk(rows_per_sample, k):
    return max(1, _CHUNK_ELEMENTS // max(1, rows_per_sample * k))


@njit(cache=True, nogil=True)
def _im2col(x, n0, n1, kh, kw, sh, sw, ph, pw, oh_, ow_, cols):
    """Fill cols[: (n1-n0)*oh_*ow_] with the receptive fields of samples n0..n1-1."""
    h_in, w_in, c_in = x.shape[1], x.shape[2], x.shape[3]
    r = 0
    for n in range(n0, n1):
        for oh in range(oh_):
            h0 = oh * sh - ph
            for ow in range(ow_):
                w0 = ow * sw - pw
                col = 0
                for i in range(kh):
                    ih = h0 + i
                    for j in range(kw):
                        iw = w0 + j
                        if ih >= 0 and ih < h_in and iw >= 0 and iw < w_in:
                            for c in range(c_in):
                                cols[r, col + c] = x[n, ih, iw, c]
                        else:  # zero padding
                            for c in range(c_in):
                                cols[r, col + c] = 0.0
                        col += c_in
                r += 1


@njit(cache=True, nogil=True)
def _col2im(dcols, n0, n1, kh, kw, sh, sw, ph, pw, oh_, ow_, dx):
    """Scatter-add rows of dcols back onto dx; padding positions are dropped."""
    h_in, w_in, c_in = dx.shape[1], dx.shape[2], dx.shape[3]
    r = 0
    for n in range(n0, n1):
        for oh in range(oh_):
            h0 = oh * sh - ph
            for ow in range(ow_):
                w0 = ow * sw - pw
                col = 0
                for i in range(kh):
                    ih = h0 + i
                    for j in range(kw):
                        iw = w0 + j
                        if ih >= 0 and ih < h_in and iw >= 0 and iw < w_in:
                            for c in range(c_in):
                                dx[n, ih, iw, c] += dcols[r, col + c]
                        col += c_in
                r += 1


@njit(cache=True, nogil=True)
def _conv_forward(x, w, b, sh, sw, ph, pw, oh_, ow_):
    n_batch = x.shape[0]
    kh, kw, c_in, c_out = w.shape
    k = kh * kw * c_in
    wm = w.reshape(k, c_out)  # (KH*KW*C_in, C_out)
    y = np.empty((n_batch, oh_, ow_, c_out), dtype=x.dtype)  # (N, OH, OW, C_out)
    y2 = y.reshape(n_batch * oh_ * ow_, c_out)
    per = oh_ * ow_
    step = _samples_per_chunk(per, k)
    cols = np.empty((min(step, n_batch) * per, k), dtype=x.dtype)  # (rows, KH*KW*C_in)
    for n0 in range(0, n_batch, step):
        n1 = min(n_batch, n0 + step)
        rows = (n1 - n0) * per
        _im2col(x, n0, n1, kh, kw, sh, sw, ph, pw, oh_, ow_, cols)
        y2[n0 * per : n1 * per] = np.dot(cols[:rows], wm)
    for r in range(y2.shape[0]):
        for o in range(c_out):
            y2[r, o] += b[o]
    return y


@njit(cache=True, nogil=True)
def _conv_grad_input(dy, w, h_in, w_in, sh, sw, ph, pw):
    n_batch, oh_, ow_, c_out = dy.shape
    kh, kw, c_in, _ = w.shape
    k = kh * kw * c_in
    wm_t = w.reshape(k, c_out).T  # (C_out, KH*KW*C_in)
    dx = np.zeros((n_batch, h_in, w_in, c_in), dtype=dy.dtype)  # (N, H, W, C_in)
    dy2 = dy.reshape(n_batch * oh_ * ow_, c_out)
    per = oh_ * ow_
    step = _samples_per_chunk(per, k)
    for n0 in range(0, n_batch, step):
        n1 = min(n_batch, n0 + step)
        dcols = np.dot(dy2[n0 * per : n1 * per], wm_t)  # (rows, KH*KW*C_in)
        _col2im(dcols, n0, n1, kh, kw, sh, sw, ph, pw, oh_, ow_, dx)
    return dx


@njit(cache=True, nogil=True)
def _conv_grad_weight(x, dy, kh, kw, sh, sw, ph, pw):
    n_batch = x.shape[0]
    c_in = x.shape[3]
    _, oh_, ow_, c_out = dy.shape
    k = kh * kw * c_in
    dw = np.zeros((k, c_out), dtype=x.dtype)  # (KH*KW*C_in, C_out)
    dy2 = dy.reshape(n_batch * oh_ * ow_, c_out)
    per = oh_ * ow_
    step = _samples_per_chunk(per, k)
    cols = np.empty((min(step, n_batch) * per, k), dtype=x.dtype)
    for n0 in range(0, n_batch, step):
        n1 = min(n_batch, n0 + step)
        rows = (n1 - n0) * per
        _im2col(x, n0, n1, kh, kw, sh, sw, ph, pw, oh_, ow_, cols)
        dw += np.dot(cols[:rows].T, dy2[n0 * per : n1 * per])
    return dw.reshape(kh, kw, c_in, c_out)


@njit(cache=True, nogil=True)
def _conv_grad_bias(dy):
    c_out = dy.shape[3]
    dy2 = dy.reshape(dy.size // max(c_out, 1), c_out)
    acc = np.zeros(c_out, dtype=np.float64)
    for r in range(dy2.shape[0]):
        for o in range(c_out):
            acc[o] += dy2[r, o]
    return acc.astype(dy.dtype)


def _geometry(h_in, w_in, kh, kw, stride, padding):
    sh, sw = pair("stride", stride)
    padding = padding_mode(padding)
    if h_in < 1 or w_in < 1:
        raise ValueError(f"image height and width must be >= 1, got {h_in}x{w_in}")
    oh_, ph = output_size(h_in, kh, sh, padding)
    ow_, pw = output_size(w_in, kw, sw, padding)
    return sh, sw, ph, pw, oh_, ow_


def _check_kernel(w):
    w = as_float_array("w", w, ndim=4)
    if w.shape[0] < 1 or w.shape[1] < 1:
        raise ValueError(f"kernel height and width must be >= 1, got w shape {w.shape}")
    return w


def conv2d_forward(x, w, b, stride=1, padding="valid"):
    """x (N, H, W, C_in), w (KH, KW, C_in, C_out), b (C_out,) -> y (N, OH, OW, C_out)."""
    x = as_float_array("x", x, ndim=4)
    w = _check_kernel(w)
    b = as_float_array("b", b, ndim=1)
    if x.shape[3] != w.shape[2]:
        raise ValueError(f"x has {x.shape[3]} channels but w expects {w.shape[2]} (x {x.shape}, w {w.shape})")
    if b.shape[0] != w.shape[3]:
        raise ValueError(f"b must have shape ({w.shape[3]},), got {b.shape}")
    same_dtype(x=x, w=w, b=b)
    sh, sw, ph, pw, oh_, ow_ = _geometry(x.shape[1], x.shape[2], w.shape[0], w.shape[1], stride, padding)
    return _conv_forward(x, w, b, sh, sw, ph, pw, oh_, ow_)


def conv2d_grad_input(dy, w, input_shape, stride=1, padding="valid"):
    """dL/dx (input_shape) from dy (N, OH, OW, C_out) and w (KH, KW, C_in, C_out)."""
    dy = as_float_array("dy", dy, ndim=4)
    w = _check_kernel(w)
    same_dtype(dy=dy, w=w)
    try:
        n_batch, h_in, w_in, c_in = (int(s) for s in input_shape)
    except (TypeError, ValueError):
        raise ValueError(f"input_shape must be a 4-tuple (N, H, W, C), got {input_shape!r}") from None
    if c_in != w.shape[2]:
        raise ValueError(f"input_shape has {c_in} channels but w expects {w.shape[2]}")
    sh, sw, ph, pw, oh_, ow_ = _geometry(h_in, w_in, w.shape[0], w.shape[1], stride, padding)
    expected = (n_batch, oh_, ow_, w.shape[3])
    if dy.shape != expected:
        raise ValueError(f"dy must have shape {expected} for input_shape {tuple(input_shape)}, got {dy.shape}")
    return _conv_grad_input(dy, w, h_in, w_in, sh, sw, ph, pw)


def conv2d_grad_weight(x, dy, kernel_size, stride=1, padding="valid"):
    """dL/dw (KH, KW, C_in, C_out) from x (N, H, W, C_in) and dy (N, OH, OW, C_out)."""
    x = as_float_array("x", x, ndim=4)
    dy = as_float_array("dy", dy, ndim=4)
    same_dtype(x=x, dy=dy)
    kh, kw = pair("kernel_size", kernel_size)
    sh, sw, ph, pw, oh_, ow_ = _geometry(x.shape[1], x.shape[2], kh, kw, stride, padding)
    if dy.shape[:3] != (x.shape[0], oh_, ow_):
        raise ValueError(f"dy must have shape {(x.shape[0], oh_, ow_)} + (C_out,), got {dy.shape}")
    return _conv_grad_weight(x, dy, kh, kw, sh, sw, ph, pw)


def conv2d_grad_bias(dy):
    """dL/db (C_out,): dy (N, OH, OW, C_out) summed over batch and pixels."""
    dy = as_float_array("dy", dy, ndim=4)
    return _conv_grad_bias(dy)
