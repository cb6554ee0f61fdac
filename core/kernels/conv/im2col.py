"""2-D convolution kernels (NHWC images, Keras kernels (KH, KW, C_in, C_out)).

Cross-correlation as Keras computes it, one chunk of the batch at a time, in one of two ways:

- im2col + BLAS: each output pixel's receptive field is copied into one row of a
  "columns" matrix (channels-last, so a kernel row of KW pixels is KW*C contiguous
  values), and one matrix product with the kernel reshaped to (KH*KW*C_in, C_out) gives
  every output channel at once. Columns are built a few samples at a time so they are
  still in cache when BLAS reads them, and bias + ReLU are applied to that block of output
  while it is in cache too. The input gradient runs the product backwards and scatters the
  rows back (col2im).
- direct loops, in the forward pass, when a receptive field is tiny (a first layer on grey
  images: 3x3x1 = 9 values): a product with 9 columns keeps BLAS waiting on memory, plain
  loops do not, and they can skip the zero pixels of a digit's background. 3x3 kernels
  on one channel, the common case, have loops of their own (direct), for the weight
  gradient too; other gradients go through BLAS.

The batch is split into one chunk per Numba thread with BLAS single-threaded (see
_threads), so two thread pools never compete for the cores. Weight gradients are summed per
chunk and the chunk sums added in a fixed order: results depend on the thread count, never
on timing.

The `*_planned` functions are the trusted fast path the layers use: no argument checks,
so the arrays must already be C-contiguous, writeable, of one float dtype and of the
shapes the plan was made for. Everyone else uses the checked functions.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .. import _threads, fanout
from .._common import as_float_array, output_size, padding_mode, pair, same_dtype
from .blocks import (bias_act, block_samples, block_samples_backward, col2im, im2col,
                     sum_chunks)
from .direct import conv3x3_weight_grad, conv_forward

__all__ = [
    "conv_output_size",
    "conv2d_forward",
    "conv2d_backward",
    "conv2d_grad_input",
    "conv2d_grad_weight",
    "conv2d_grad_bias",
    "conv2d_plan",
    "conv2d_forward_planned",
    "conv2d_backward_planned",
]

# Receptive fields of at most this many values (KH*KW*C_in) use the direct loops.
DIRECT_MAX_K = 16
# Below this many multiply-adds a call runs serially: waking threads would cost more.
PARALLEL_MIN_WORK = 1 << 20


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


# ---------------------------------------------------------------- gradient rows (shared blocks: blocks.py)


@njit(cache=True, nogil=True)
def _relu_grad(a, dy, dz, db):
    """dz = dL/dz from dL/da and a = relu(z); db (float64) += column sums of dz.

    a > 0 passes dy; a == 0 gives dy*0 (so NaN/inf arriving in dy stay visible); a NaN
    pre-activation (a is NaN) gives NaN. Exactly ReLU's backward, read from its output.
    """
    for r in range(dy.shape[0]):
        for o in range(dy.shape[1]):
            v = a[r, o]
            g = dy[r, o]
            if not v > 0:
                g = g * 0.0 if v <= 0 else v
            dz[r, o] = g
            db[o] += g


@njit(cache=True, nogil=True)
def _col_sums(dz, db):
    """db (float64) += column sums of dz: a float32 running sum over a batch loses digits."""
    for r in range(dz.shape[0]):
        for o in range(dz.shape[1]):
            db[o] += dz[r, o]


# ---------------------------------------------------------------- one chunk of samples


@njit(cache=True, nogil=True)
def _forward_part(t, nt, x, wm, b, kh, kw, sh, sw, ph, pw, oh_, ow_, relu, direct, y2):
    """y2 rows of part t of nt of the batch (y2 is the output as (N*OH*OW, C_out))."""
    n0, n1 = fanout.part(t, nt, x.shape[0])
    if n0 >= n1:
        return
    if direct:
        conv_forward(x, wm, b, n0, n1, kh, kw, sh, sw, ph, pw, oh_, ow_, relu, y2)
        return
    per = oh_ * ow_
    k = wm.shape[0]
    bs = block_samples(per, k, n1 - n0)
    cols = np.empty((bs * per, k), dtype=x.dtype)  # (rows, KH*KW*C_in)
    for s0 in range(n0, n1, bs):
        s1 = min(n1, s0 + bs)
        rows = (s1 - s0) * per
        im2col(x, s0, s1, kh, kw, sh, sw, ph, pw, oh_, ow_, cols)
        out = y2[s0 * per : s1 * per]  # (rows, C_out)
        np.dot(cols[:rows], wm, out)
        bias_act(out, b, relu)


@njit(cache=True, nogil=True)
def _backward_part(t, nt, x, wm, a, dy2, n, kh, kw, sh, sw, ph, pw, oh_, ow_, relu, need_dw,
                   need_dx, dwp, dbp, dx):
    """Gradients from part t of nt of the n samples: into its partial sums dwp[t] and dbp[t]
    (float64); its samples' rows of dx are written.

    With relu, dy2 is dL/d(ReLU output) and a that output; the mask is applied on the way.
    im2col + BLAS, except the weight gradient of a 3x3 one-channel kernel (direct).
    """
    n0, n1 = fanout.part(t, nt, n)
    if n0 >= n1:
        return
    dw, db = dwp[t], dbp[t]
    per = oh_ * ow_
    k, c_out = wm.shape
    if need_dx:
        dx[n0:n1] = 0.0
    bs = block_samples_backward(per, k, c_out, n1 - n0)
    dzb = np.empty((bs * per if relu else 0, c_out), dtype=dy2.dtype)  # (rows, C_out)
    cols = np.empty((bs * per if need_dw else 0, k), dtype=dy2.dtype)  # (rows, KH*KW*C_in)
    dcols = np.empty((bs * per if need_dx else 0, k), dtype=dy2.dtype)
    wm_t = np.ascontiguousarray(wm.T)  # (C_out, KH*KW*C_in)
    for s0 in range(n0, n1, bs):
        s1 = min(n1, s0 + bs)
        rows = (s1 - s0) * per
        if relu:
            dz = dzb[:rows]
            _relu_grad(a[s0 * per : s1 * per], dy2[s0 * per : s1 * per], dz, db)
        else:
            dz = dy2[s0 * per : s1 * per]
            _col_sums(dz, db)
        block_gradients(x, wm_t, dz, s0, s1, kh, kw, sh, sw, ph, pw, oh_, ow_, need_dw, need_dx,
                         cols, dcols, dw, dx)


@njit(cache=True, nogil=True, inline="always")
def block_gradients(x, wm_t, dz, s0, s1, kh, kw, sh, sw, ph, pw, oh_, ow_, need_dw, need_dx,
                     cols, dcols, dw, dx):
    """dw += patches^T dz and dx[s0:s1] += col2im(dz wm^T) for one block of samples."""
    rows = dz.shape[0]
    if need_dw and kh == 3 and kw == 3 and x.shape[3] == 1:
        conv3x3_weight_grad(x, dz, s0, s1, sh, sw, ph, pw, oh_, ow_, dw)
    elif need_dw:
        im2col(x, s0, s1, kh, kw, sh, sw, ph, pw, oh_, ow_, cols)
        dw += np.dot(cols[:rows].T, dz)
    if need_dx:
        np.dot(dz, wm_t, dcols[:rows])
        col2im(dcols, s0, s1, kh, kw, sh, sw, ph, pw, oh_, ow_, dx)


@njit(cache=True, nogil=True)
def _conv_grad_bias(dy):
    c_out = dy.shape[3]
    dy2 = dy.reshape(dy.size // max(c_out, 1), c_out)
    acc = np.zeros(c_out, dtype=np.float64)
    _col_sums(dy2, acc)
    return acc.astype(dy.dtype)


# ---------------------------------------------------------------- planned (trusted) calls


def conv2d_plan(input_shape, kernel_shape, stride=1, padding="valid"):
    """Geometry of a convolution, checked once: (kh, kw, sh, sw, ph, pw, oh, ow, direct).

    input_shape is (H, W, C_in) or (N, H, W, C_in); kernel_shape (KH, KW, C_in, C_out).
    """
    h_in, w_in, c_in = (int(s) for s in tuple(input_shape)[-3:])
    kh, kw = int(kernel_shape[0]), int(kernel_shape[1])
    sh, sw, ph, pw, oh_, ow_ = _geometry(h_in, w_in, kh, kw, stride, padding)
    direct = kh * kw * c_in <= DIRECT_MAX_K
    return (kh, kw, sh, sw, ph, pw, oh_, ow_, direct)


def _chunks(n_batch, plan, c_in, c_out, chunks):
    """How many chunks a batch is split into: fixed by its size and the thread count."""
    if chunks is not None:  # forced (warm-up, tests)
        return max(1, min(int(chunks), n_batch))
    kh, kw, _, _, _, _, oh_, ow_, _ = plan
    nt = _threads.n_chunks()
    if nt > 1 and n_batch > 1 and n_batch * oh_ * ow_ * kh * kw * c_in * c_out >= PARALLEL_MIN_WORK:
        return min(nt, n_batch)
    return 1


def conv2d_forward_planned(x, w, b, plan, relu=False, chunks=None, mode=None):
    """Trusted fast path of conv2d_forward (+ ReLU when relu): see the module docstring.

    chunks / mode ("threads" or "serial") force what is otherwise chosen (warm-up, tests).
    """
    kh, kw, sh, sw, ph, pw, oh_, ow_, direct = plan
    n_batch = x.shape[0]
    c_out = w.shape[3]
    y = np.empty((n_batch, oh_, ow_, c_out), dtype=x.dtype)  # (N, OH, OW, C_out)
    y2 = y.reshape(n_batch * oh_ * ow_, c_out)
    wm = w.reshape(kh * kw * w.shape[2], c_out)  # (KH*KW*C_in, C_out)
    nt = _chunks(n_batch, plan, w.shape[2], c_out, chunks)
    fanout.parts(("conv", x.shape, w.shape), _forward_part, nt,
                 (x, wm, b, kh, kw, sh, sw, ph, pw, oh_, ow_, relu, direct, y2), mode)
    return y


def conv2d_backward_planned(x, w, dy, plan, relu_output=None, need_input_grad=True,
                            need_weight_grad=True, input_shape=None, chunks=None, mode=None):
    """Trusted fast path of conv2d_backward: returns (dx or None, dw, db)."""
    kh, kw, sh, sw, ph, pw, oh_, ow_, direct = plan
    c_in, c_out = w.shape[2], w.shape[3]
    shape = x.shape if input_shape is None else input_shape
    n_batch = shape[0]
    dy2 = dy.reshape(n_batch * oh_ * ow_, c_out)
    relu = relu_output is not None
    a = relu_output.reshape(dy2.shape) if relu else dy2
    dx = np.empty(shape if need_input_grad else (0, 1, 1, 1), dtype=dy.dtype)
    if x is None:
        x = np.empty((0, 1, 1, 1), dtype=dy.dtype)
    wm = w.reshape(kh * kw * c_in, c_out)
    nt = _chunks(n_batch, plan, c_in, c_out, chunks)
    dwp = np.zeros((nt, wm.shape[0], wm.shape[1]), dtype=dy2.dtype)  # one partial sum per part
    dbp = np.zeros((nt, wm.shape[1]), dtype=np.float64)
    key = ("conv backward", tuple(shape), w.shape, relu, need_weight_grad, need_input_grad)
    fanout.parts(key, _backward_part, nt, (x, wm, a, dy2, n_batch, kh, kw, sh, sw, ph, pw, oh_,
                                           ow_, relu, need_weight_grad, need_input_grad, dwp,
                                           dbp, dx), mode)
    dw, db = sum_chunks(dwp, dbp, dy2)
    return (dx if need_input_grad else None), dw.reshape(w.shape), db


# ---------------------------------------------------------------- checked public API


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


def _activation(activation):
    if activation is None or activation == "linear":
        return False
    if activation == "relu":
        return True
    raise ValueError(f'activation must be None or "relu", got {activation!r}')


def conv2d_forward(x, w, b, stride=1, padding="valid", activation=None):
    """x (N, H, W, C_in), w (KH, KW, C_in, C_out), b (C_out,) -> y (N, OH, OW, C_out).

    activation="relu" returns max(y, 0) computed in the same pass.
    """
    x = as_float_array("x", x, ndim=4)
    w = _check_kernel(w)
    b = as_float_array("b", b, ndim=1)
    if x.shape[3] != w.shape[2]:
        raise ValueError(f"x has {x.shape[3]} channels but w expects {w.shape[2]} (x {x.shape}, w {w.shape})")
    if b.shape[0] != w.shape[3]:
        raise ValueError(f"b must have shape ({w.shape[3]},), got {b.shape}")
    same_dtype(x=x, w=w, b=b)
    relu = _activation(activation)
    plan = conv2d_plan(x.shape, w.shape, stride, padding)
    return conv2d_forward_planned(x, w, b, plan, relu)


def conv2d_backward(x, w, dy, stride=1, padding="valid", relu_output=None, need_input_grad=True):
    """All gradients of y = conv(x, w) + b in one pass: returns (dx or None, dw, db).

    With relu_output (the forward's ReLU output a), dy is dL/da and the ReLU's mask is
    applied on the way; need_input_grad=False skips dx (a first layer has no use for it).
    """
    x = as_float_array("x", x, ndim=4)
    w = _check_kernel(w)
    dy = as_float_array("dy", dy, ndim=4)
    if x.shape[3] != w.shape[2]:
        raise ValueError(f"x has {x.shape[3]} channels but w expects {w.shape[2]} (x {x.shape}, w {w.shape})")
    same_dtype(x=x, w=w, dy=dy)
    plan = conv2d_plan(x.shape, w.shape, stride, padding)
    expected = (x.shape[0], plan[6], plan[7], w.shape[3])
    if dy.shape != expected:
        raise ValueError(f"dy must have shape {expected}, got {dy.shape}")
    if relu_output is not None:
        relu_output = as_float_array("relu_output", relu_output, ndim=4)
        if relu_output.shape != dy.shape:
            raise ValueError(f"relu_output must have dy's shape {dy.shape}, got {relu_output.shape}")
        same_dtype(dy=dy, relu_output=relu_output)
    return conv2d_backward_planned(x, w, dy, plan, relu_output, bool(need_input_grad))


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
    plan = conv2d_plan((h_in, w_in, c_in), w.shape, stride, padding)
    expected = (n_batch, plan[6], plan[7], w.shape[3])
    if dy.shape != expected:
        raise ValueError(f"dy must have shape {expected} for input_shape {tuple(input_shape)}, got {dy.shape}")
    dx, _, _ = conv2d_backward_planned(None, w, dy, plan, None, True, False,
                                       (n_batch, h_in, w_in, c_in))
    return dx


def conv2d_grad_weight(x, dy, kernel_size, stride=1, padding="valid"):
    """dL/dw (KH, KW, C_in, C_out) from x (N, H, W, C_in) and dy (N, OH, OW, C_out)."""
    x = as_float_array("x", x, ndim=4)
    dy = as_float_array("dy", dy, ndim=4)
    same_dtype(x=x, dy=dy)
    kh, kw = pair("kernel_size", kernel_size)
    plan = conv2d_plan(x.shape, (kh, kw), stride, padding)
    if dy.shape[:3] != (x.shape[0], plan[6], plan[7]):
        raise ValueError(f"dy must have shape {(x.shape[0], plan[6], plan[7])} + (C_out,), got {dy.shape}")
    w = np.zeros((kh, kw, x.shape[3], dy.shape[3]), dtype=x.dtype)  # only its shape is read
    _, dw, _ = conv2d_backward_planned(x, w, dy, plan, None, False, True)
    return dw


def conv2d_grad_bias(dy):
    """dL/db (C_out,): dy (N, OH, OW, C_out) summed over batch and pixels."""
    dy = as_float_array("dy", dy, ndim=4)
    return _conv_grad_bias(dy)
