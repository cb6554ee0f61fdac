"""2-D pooling kernels (NHWC), Keras/TensorFlow semantics.

"same" padding never lets padding win or count: a max window takes the max of its
in-bounds pixels, an average window divides by the number of in-bounds pixels.
Max pooling returns the flat position h*W + w of each window's winner so the backward
pass routes the gradient there without searching again; on ties the first pixel in
row-major order wins, and a NaN anywhere in the window wins (so it propagates).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import _threads, fanout
from ._common import as_float_array, output_size, padding_mode, pair
from .conv.blocks import better

__all__ = [
    "max_pool_forward",
    "max_pool_backward",
    "avg_pool_forward",
    "avg_pool_backward",
    "max_pool_plan",
    "max_pool_forward_planned",
    "max_pool_backward_planned",
]

# Below this many element visits a call runs serially: waking threads would cost more.
PARALLEL_MIN_WORK = 1 << 18


@njit(cache=True, nogil=True)
def _max_part(t, nt, x, kh, kw, sh, sw, ph, pw, oh_, ow_, want_arg, y, arg):
    """Max pooling of part t of nt of the batch, channels innermost so the compare runs in
    SIMD (every output is computed on its own: the parts make no difference to it)."""
    n0, n1 = fanout.part(t, nt, x.shape[0])
    h_in, w_in, c_in = x.shape[1], x.shape[2], x.shape[3]
    for n in range(n0, n1):
        for oh in range(oh_):
            h0 = oh * sh - ph
            h_lo, h_hi = max(h0, 0), min(h0 + kh, h_in)
            for ow in range(ow_):
                w0 = ow * sw - pw
                w_lo, w_hi = max(w0, 0), min(w0 + kw, w_in)
                # indices only, no views: a view's reference count is an atomic
                # update that two threads fight over (see _threads)
                for c in range(c_in):
                    y[n, oh, ow, c] = x[n, h_lo, w_lo, c]
                if want_arg:
                    p0 = h_lo * w_in + w_lo
                    for c in range(c_in):
                        arg[n, oh, ow, c] = p0
                for ih in range(h_lo, h_hi):
                    for iw in range(w_lo, w_hi):
                        if ih == h_lo and iw == w_lo:
                            continue
                        p = ih * w_in + iw
                        for c in range(c_in):
                            v = x[n, ih, iw, c]
                            b = y[n, oh, ow, c]
                            take = better(v, b)  # first maximum wins ties; NaN wins and stays
                            y[n, oh, ow, c] = v if take else b
                            if want_arg and take:
                                arg[n, oh, ow, c] = p


@njit(cache=True, nogil=True)
def _max_back_part(t, nt, dy, arg, dx):
    """dx of part t of nt of the batch (dx as (N, H*W, C)) = dy routed to each window's
    winner (a sample's sums do not depend on the parts)."""
    n0, n1 = fanout.part(t, nt, dy.shape[0])
    oh_, ow_, c_in = dy.shape[1], dy.shape[2], dy.shape[3]
    dx[n0:n1] = 0.0
    for n in range(n0, n1):
        for oh in range(oh_):
            for ow in range(ow_):
                for c in range(c_in):
                    dx[n, arg[n, oh, ow, c], c] += dy[n, oh, ow, c]


@njit(cache=True, nogil=True)
def _avg_pool_forward(x, kh, kw, sh, sw, ph, pw, oh_, ow_):
    n_batch, h_in, w_in, c_in = x.shape
    y = np.zeros((n_batch, oh_, ow_, c_in), dtype=x.dtype)  # (N, OH, OW, C)
    for n in range(n_batch):
        for oh in range(oh_):
            h0 = oh * sh - ph
            h_lo, h_hi = max(h0, 0), min(h0 + kh, h_in)
            for ow in range(ow_):
                w0 = ow * sw - pw
                w_lo, w_hi = max(w0, 0), min(w0 + kw, w_in)
                for ih in range(h_lo, h_hi):
                    for iw in range(w_lo, w_hi):
                        for c in range(c_in):
                            y[n, oh, ow, c] += x[n, ih, iw, c]
                inv = 1.0 / ((h_hi - h_lo) * (w_hi - w_lo))
                for c in range(c_in):
                    y[n, oh, ow, c] *= inv
    return y


@njit(cache=True, nogil=True)
def _avg_pool_backward(dy, h_in, w_in, kh, kw, sh, sw, ph, pw):
    n_batch, oh_, ow_, c_in = dy.shape
    dx = np.zeros((n_batch, h_in, w_in, c_in), dtype=dy.dtype)  # (N, H, W, C)
    for n in range(n_batch):
        for oh in range(oh_):
            h0 = oh * sh - ph
            h_lo, h_hi = max(h0, 0), min(h0 + kh, h_in)
            for ow in range(ow_):
                w0 = ow * sw - pw
                w_lo, w_hi = max(w0, 0), min(w0 + kw, w_in)
                inv = 1.0 / ((h_hi - h_lo) * (w_hi - w_lo))
                for ih in range(h_lo, h_hi):
                    for iw in range(w_lo, w_hi):
                        for c in range(c_in):
                            dx[n, ih, iw, c] += dy[n, oh, ow, c] * inv
    return dx


def _geometry(h_in, w_in, pool_size, strides, padding):
    kh, kw = pair("pool_size", pool_size)
    s = pair("strides", strides, allow_none=True)
    sh, sw = (kh, kw) if s is None else s  # Keras: strides=None means strides=pool_size
    padding = padding_mode(padding)
    if h_in < 1 or w_in < 1:
        raise ValueError(f"image height and width must be >= 1, got {h_in}x{w_in}")
    oh_, ph = output_size(h_in, kh, sh, padding)
    ow_, pw = output_size(w_in, kw, sw, padding)
    return kh, kw, sh, sw, ph, pw, oh_, ow_


def _input_shape(input_shape):
    try:
        shape = tuple(int(s) for s in input_shape)
    except (TypeError, ValueError):
        shape = ()
    if len(shape) != 4 or min(shape) < 0:
        raise ValueError(f"input_shape must be a 4-tuple (N, H, W, C), got {input_shape!r}")
    return shape


def max_pool_plan(input_shape, pool_size=2, strides=None, padding="valid"):
    """Geometry checked once: (kh, kw, sh, sw, ph, pw, oh, ow); input_shape (H, W, C) or (N, H, W, C)."""
    h_in, w_in = (int(s) for s in tuple(input_shape)[-3:-1])
    return _geometry(h_in, w_in, pool_size, strides, padding)


def _chunks(n_batch, work, chunks=None):
    if chunks is not None:  # forced (warm-up, tests)
        return max(1, min(int(chunks), n_batch))
    nt = _threads.n_chunks()
    return min(nt, n_batch) if nt > 1 and n_batch > 1 and work >= PARALLEL_MIN_WORK else 1


def max_pool_forward_planned(x, plan, want_argmax=True, chunks=None, mode=None):
    """Trusted fast path (C-contiguous writeable x, plan from max_pool_plan): (y, argmax or None)."""
    kh, kw, sh, sw, ph, pw, oh_, ow_ = plan
    n_batch, c_in = x.shape[0], x.shape[3]
    y = np.empty((n_batch, oh_, ow_, c_in), dtype=x.dtype)  # (N, OH, OW, C)
    shape = (n_batch, oh_, ow_, c_in) if want_argmax else (1, 1, 1, c_in)
    arg = np.empty(shape, dtype=np.int64)  # (N, OH, OW, C): flat h*W + w of each max
    nt = _chunks(n_batch, y.size * kh * kw, chunks)
    fanout.parts(("max pool", x.shape, plan, want_argmax), _max_part, nt,
                 (x, kh, kw, sh, sw, ph, pw, oh_, ow_, want_argmax, y, arg), mode)
    return y, (arg if want_argmax else None)


def max_pool_backward_planned(dy, argmax, input_shape, chunks=None, mode=None):
    """Trusted fast path of max_pool_backward (argmax from the forward, C-contiguous dy)."""
    n_batch, h_in, w_in, c_in = input_shape
    dx = np.empty((n_batch, h_in * w_in, c_in), dtype=dy.dtype)  # (N, H*W, C)
    nt = _chunks(n_batch, dx.size, chunks)
    fanout.parts(("max pool backward", dy.shape, tuple(input_shape)), _max_back_part, nt,
                 (dy, argmax, dx), mode)
    return dx.reshape(n_batch, h_in, w_in, c_in)


def max_pool_forward(x, pool_size=2, strides=None, padding="valid"):
    """x (N, H, W, C) -> (y (N, OH, OW, C), argmax int64 (N, OH, OW, C) = flat h*W + w of each max)."""
    x = as_float_array("x", x, ndim=4)
    return max_pool_forward_planned(x, _geometry(x.shape[1], x.shape[2], pool_size, strides, padding))


def max_pool_backward(dy, argmax, input_shape):
    """dL/dx (input_shape): each dy element added at the input position its window's max came from."""
    dy = as_float_array("dy", dy, ndim=4)
    n_batch, h_in, w_in, c_in = _input_shape(input_shape)
    if not isinstance(argmax, np.ndarray) or argmax.dtype != np.int64:
        raise ValueError("argmax must be the int64 array returned by max_pool_forward")
    if argmax.shape != dy.shape:
        raise ValueError(f"argmax shape {argmax.shape} does not match dy shape {dy.shape}")
    if dy.shape[0] != n_batch or dy.shape[3] != c_in:
        raise ValueError(f"dy shape {dy.shape} does not match input_shape {tuple(input_shape)}")
    if argmax.size and (argmax.min() < 0 or argmax.max() >= h_in * w_in):
        raise ValueError(f"argmax holds positions outside a {h_in}x{w_in} input")
    return max_pool_backward_planned(dy, np.ascontiguousarray(argmax), (n_batch, h_in, w_in, c_in))


def avg_pool_forward(x, pool_size=2, strides=None, padding="valid"):
    """x (N, H, W, C) -> y (N, OH, OW, C): mean of each window's in-bounds pixels."""
    x = as_float_array("x", x, ndim=4)
    geo = _geometry(x.shape[1], x.shape[2], pool_size, strides, padding)
    return _avg_pool_forward(x, *geo)


def avg_pool_backward(dy, input_shape, pool_size=2, strides=None, padding="valid"):
    """dL/dx (input_shape): each dy element shared equally among its window's in-bounds pixels."""
    dy = as_float_array("dy", dy, ndim=4)
    n_batch, h_in, w_in, c_in = _input_shape(input_shape)
    kh, kw, sh, sw, ph, pw, oh_, ow_ = _geometry(h_in, w_in, pool_size, strides, padding)
    expected = (n_batch, oh_, ow_, c_in)
    if dy.shape != expected:
        raise ValueError(f"dy must have shape {expected} for input_shape {tuple(input_shape)}, got {dy.shape}")
    return _avg_pool_backward(dy, h_in, w_in, kh, kw, sh, sw, ph, pw)
