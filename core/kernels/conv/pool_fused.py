"""Convolution + bias + ReLU + max pooling in one pass, and its backward in one pass.

The course CNN's blocks are Conv2D(relu) followed by MaxPool2D with non-overlapping
windows. Run separately, the convolution writes its whole output to memory, pooling reads
it back, and the backward pass writes a mostly-zero gradient map of the same size and reads
it again (the first block's map is 64x26x26x32 floats, 5.5 MB, far bigger than any
cache). Fused, each chunk of samples is convolved into a buffer that stays in cache,
ReLU'd and pooled from there, and only the pooled maps and the winners' positions (one
byte each) go to memory; the backward pass rebuilds each chunk's sparse gradient map in a
cache-sized buffer and feeds it straight to the weight and input gradients.

A 3x3 kernel on one channel with 2x2 pooling (the first block on digits) has a forward
loop of its own that never stores the convolution's output at all
(direct.convpool3x3_forward); other 3x3 kernels with stride 1 and 2x2 pooling take
Winograd's F(2x2, 3x3) (winograd).

Exactly the unfused chain's numbers: same convolution code, ReLU before pooling, the first
maximum wins ties, a NaN wins its window. The only difference is where a gradient cannot
reach the loss at all (pixels outside every pooling window, non-winning NaNs): unfused
gives NaN there, fused gives nothing.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .. import _threads, fanout
from . import winograd
from .blocks import (bias_act, block_samples, block_samples_backward, im2col, im2col_rows,
                     pool_block, pool_rows, sum_chunks, unpool_block)
from .direct import conv_forward, convpool3x3_fits, convpool3x3_part
from .im2col import block_gradients, conv2d_plan

__all__ = ["convpool_plan", "convpool_forward", "convpool_backward"]

# Below this many multiply-adds a call runs serially: waking threads would cost more.
PARALLEL_MIN_WORK = 1 << 20


# ---------------------------------------------------------------- one chunk of samples


# One image has no batch to split, so its pooled rows are split between the threads instead:
# the prediction a learner waits for after each stroke on the drawing pad.


@njit(cache=True, nogil=True)
def _forward_one_part(t, nt, x, wm, b, kh, kw, sh, sw, ph, pw, ow_, relu, pkh, pkw, ph_, pw_,
                      want_arg, y, arg):
    """Part t of nt of a single image's pooled rows: its part of the convolution, then
    pooling."""
    p0, p1 = fanout.part(t, nt, ph_)
    if p0 >= p1:
        return
    k, c_out = wm.shape
    rows = (p1 - p0) * pkh * ow_
    cols = np.empty((rows, k), dtype=x.dtype)  # (rows, KH*KW*C_in)
    z = np.empty((rows, c_out), dtype=x.dtype)
    im2col_rows(x, 0, p0 * pkh, p1 * pkh, kh, kw, sh, sw, ph, pw, ow_, cols, 0)
    np.dot(cols, wm, z)
    bias_act(z, b, relu)
    pool_rows(z, 0, 0, p0, p1, ow_, pkh, pkw, pw_, want_arg, y, arg)


@njit(cache=True, nogil=True)
def _forward_part(t, nt, x, wm, b, kh, kw, sh, sw, ph, pw, oh_, ow_, relu, direct,
                  pkh, pkw, ph_, pw_, want_arg, y, arg):
    """Pooled outputs of part t of nt of the batch (the 3x3 one-channel and the Winograd
    cases have kernels of their own, in direct and winograd)."""
    n0, n1 = fanout.part(t, nt, x.shape[0])
    if n0 >= n1:
        return
    per = oh_ * ow_
    k, c_out = wm.shape
    bs = 1 if direct else block_samples(per, k, n1 - n0)
    zb = np.empty((bs * per, c_out), dtype=x.dtype)  # (rows, C_out): conv output, in cache
    cols = np.empty((0 if direct else bs * per, k), dtype=x.dtype)  # (rows, KH*KW*C_in)
    for s0 in range(n0, n1, bs):
        s1 = min(n1, s0 + bs)
        _block(x, wm, b, s0, s1, kh, kw, sh, sw, ph, pw, oh_, ow_, relu, direct, pkh, pkw, ph_,
               pw_, want_arg, y, arg, zb, cols)


@njit(cache=True, nogil=True, inline="always")
def _block(x, wm, b, s0, s1, kh, kw, sh, sw, ph, pw, oh_, ow_, relu, direct, pkh, pkw, ph_, pw_,
           want_arg, y, arg, zb, cols):
    """Samples s0..s1-1 through the convolution (direct loops or im2col + BLAS), then pooled."""
    rows = (s1 - s0) * oh_ * ow_
    if direct:
        conv_forward(x[s0:s1], wm, b, 0, s1 - s0, kh, kw, sh, sw, ph, pw, oh_, ow_, relu, zb)
    else:
        im2col(x, s0, s1, kh, kw, sh, sw, ph, pw, oh_, ow_, cols)
        np.dot(cols[:rows], wm, zb[:rows])
        bias_act(zb[:rows], b, relu)
    pool_block(zb, s0, s1, oh_, ow_, pkh, pkw, ph_, pw_, want_arg, y, arg)


@njit(cache=True, nogil=True)
def _backward_part(t, nt, x, wm, y, arg, dy, kh, kw, sh, sw, ph, pw, oh_, ow_, relu,
                   need_dx, pkh, pkw, dwp, dbp, dx):
    """Gradients of part t of nt of the batch: into its partial sums dwp[t] and dbp[t];
    its samples' rows of dx are written."""
    n0, n1 = fanout.part(t, nt, x.shape[0])
    if n0 >= n1:
        return
    dw, db = dwp[t], dbp[t]
    if need_dx:
        dx[n0:n1] = 0.0
    per = oh_ * ow_
    k, c_out = wm.shape
    bs = block_samples_backward(per, k, c_out, n1 - n0)
    dz = np.empty((bs * per, c_out), dtype=dy.dtype)  # (rows, C_out): mostly zeros, in cache
    cols = np.empty((bs * per, k), dtype=x.dtype)  # (rows, KH*KW*C_in)
    dcols = np.empty((bs * per if need_dx else 0, k), dtype=dy.dtype)
    g = np.empty(c_out, dtype=dy.dtype)
    wm_t = np.ascontiguousarray(wm.T)  # (C_out, KH*KW*C_in)
    for s0 in range(n0, n1, bs):
        s1 = min(n1, s0 + bs)
        rows = (s1 - s0) * per
        unpool_block(y, arg, dy, s0, s1, oh_, ow_, pkh, pkw, relu, g, dz, db)
        block_gradients(x, wm_t, dz[:rows], s0, s1, kh, kw, sh, sw, ph, pw, oh_, ow_, True,
                         need_dx, cols, dcols, dw, dx)


# ---------------------------------------------------------------- trusted entry points


def convpool_plan(input_shape, kernel_shape, stride, padding, pool_size, pool_strides, pool_padding):
    """(conv plan, (pkh, pkw, PH, PW)) if the pair can run fused, else None.

    Fused pooling must tile without overlap ("valid", strides == pool size) and fit a
    window position in one byte.
    """
    pkh, pkw = int(pool_size[0]), int(pool_size[1])
    if pool_padding != "valid" or tuple(pool_strides) != (pkh, pkw) or pkh * pkw > 255:
        return None
    plan = conv2d_plan(input_shape, kernel_shape, stride, padding)
    oh_, ow_ = plan[6], plan[7]
    if oh_ < pkh or ow_ < pkw:
        return None
    return plan, (pkh, pkw, oh_ // pkh, ow_ // pkw)


def _chunks(n_batch, plan, c_in, c_out, chunks):
    if chunks is not None:
        return max(1, min(int(chunks), n_batch))
    kh, kw, _, _, _, _, oh_, ow_, _ = plan
    nt = _threads.n_chunks()
    if nt > 1 and n_batch > 1 and n_batch * oh_ * ow_ * kh * kw * c_in * c_out >= PARALLEL_MIN_WORK:
        return min(nt, n_batch)
    return 1


# A single image's rows are split between threads from this many multiply-adds on (the
# course CNN's second block: 4.5 million).
PARALLEL_MIN_WORK_ONE = 1 << 21


def _chunks_one(plan, c_in, c_out, ph_, chunks):
    if chunks is not None:
        return max(1, min(int(chunks), ph_))
    kh, kw, _, _, _, _, oh_, ow_, _ = plan
    nt = _threads.n_chunks()
    if nt > 1 and ph_ > 1 and oh_ * ow_ * kh * kw * c_in * c_out >= PARALLEL_MIN_WORK_ONE:
        return min(nt, ph_)
    return 1


def winograd_filters(w, plans):
    """The filters transformed for Winograd's path (16, C_in, C_out), or None when this pair
    does not take it. A training step computes them once for its forward and backward."""
    (kh, kw, sh, sw, _, _, _, _, direct), (pkh, pkw, _, _) = plans
    if direct or not winograd.fits(kh, kw, sh, sw, pkh, pkw):
        return None
    return winograd.kernel_transform(w)


def convpool_forward(x, w, b, plans, relu, want_argmax, chunks=None, mode=None, u=None):
    """Trusted: x (N, H, W, C_in) C-contiguous -> (pooled (N, PH, PW, F), winners uint8 or None).

    chunks / mode ("threads" or "serial") force what is otherwise chosen (warm-up, tests);
    u: `winograd_filters(w, plans)` if the caller has them already.
    """
    (kh, kw, sh, sw, ph, pw, oh_, ow_, direct), (pkh, pkw, ph_, pw_) = plans
    n_batch, c_out = x.shape[0], w.shape[3]
    wm = w.reshape(kh * kw * w.shape[2], c_out)  # (KH*KW*C_in, C_out)
    y = np.empty((n_batch, ph_, pw_, c_out), dtype=x.dtype)  # (N, PH, PW, F)
    arg = np.empty((n_batch, ph_, pw_, c_out) if want_argmax else (1, 1, 1, c_out), dtype=np.uint8)
    use_winograd = not direct and winograd.fits(kh, kw, sh, sw, pkh, pkw)
    if direct and convpool3x3_fits(kh, kw, w.shape[2], sh, sw, pkh, pkw):
        nt = _chunks(n_batch, plans[0], w.shape[2], c_out, chunks)
        fanout.parts(("convpool grey", x.shape, w.shape, want_argmax), convpool3x3_part, nt,
                     (x, wm, b, ph, pw, ph_, pw_, relu, want_argmax, y, arg),
                     mode)
        return y, (arg if want_argmax else None)
    if n_batch == 1 and not direct:
        nt = _chunks_one(plans[0], w.shape[2], c_out, ph_, chunks)
        # one image: rows split between threads (0.031 ms for the course CNN's second
        # block) beats Winograd on one thread (0.035 ms) and im2col on one (0.043 ms)
        if nt > 1 or not use_winograd:
            args = (x, wm, b, kh, kw, sh, sw, ph, pw, ow_, relu, pkh, pkw, ph_, pw_, want_argmax,
                    y, arg)
            fanout.parts(("convpool one", x.shape, w.shape, want_argmax), _forward_one_part, nt,
                   args, mode)
            return y, (arg if want_argmax else None)
    nt = _chunks(n_batch, plans[0], w.shape[2], c_out, chunks)
    key = ("convpool", x.shape, w.shape, want_argmax)
    if use_winograd:
        u = winograd.kernel_transform(w) if u is None else u
        fanout.parts(key, winograd.forward_part, nt,
               (x, wm, u, b, ph, pw, oh_, ow_, relu, ph_, pw_, want_argmax, y, arg), mode)
    else:
        fanout.parts(key, _forward_part, nt, (x, wm, b, kh, kw, sh, sw, ph, pw, oh_, ow_, relu, direct,
                                        pkh, pkw, ph_, pw_, want_argmax, y, arg), mode)
    return y, (arg if want_argmax else None)


def convpool_backward(x, w, y, argmax, dy, plans, relu, need_input_grad=True, chunks=None,
                      mode=None, u=None):
    """Trusted: gradients of pool(relu(conv(x))) given dy (N, PH, PW, F): (dx or None, dw, db)."""
    (kh, kw, sh, sw, ph, pw, oh_, ow_, direct), (pkh, pkw, _, _) = plans
    c_in, c_out = w.shape[2], w.shape[3]
    wm = w.reshape(kh * kw * c_in, c_out)
    dx = np.empty(x.shape if need_input_grad else (0, 1, 1, 1), dtype=dy.dtype)
    nt = _chunks(x.shape[0], plans[0], c_in, c_out, chunks)
    key = ("convpool backward", x.shape, w.shape, need_input_grad)
    dwp = np.zeros((nt, wm.shape[0], wm.shape[1]), dtype=dy.dtype)  # one partial sum per part
    dbp = np.zeros((nt, wm.shape[1]), dtype=np.float64)
    if not direct and winograd.fits(kh, kw, sh, sw, pkh, pkw):
        u = winograd.kernel_transform(w) if u is None else u
        u_t = np.ascontiguousarray(u.transpose(0, 2, 1))  # (16, O, C)
        ubp = np.zeros((nt, 16, c_in, c_out), dtype=dy.dtype)
        fanout.parts(key, winograd.backward_part, nt, (x, wm, u_t, y, argmax, dy, ph, pw, oh_, ow_,
                                                 relu, need_input_grad, dwp, ubp, dbp, dx), mode)
        dw, db = sum_chunks(dwp, dbp, dy)
        dw += winograd.weight_grad(winograd.sum_parts(ubp)).reshape(dw.shape)
    else:
        fanout.parts(key, _backward_part, nt, (x, wm, y, argmax, dy, kh, kw, sh, sw, ph, pw, oh_, ow_,
                                         relu, need_input_grad, pkh, pkw, dwp, dbp, dx), mode)
        dw, db = sum_chunks(dwp, dbp, dy)
    return (dx if need_input_grad else None), dw.reshape(w.shape), db
