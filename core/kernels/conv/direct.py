"""Convolutions by direct loops, where a matrix product would mostly move memory.

A receptive field of a few values (a first layer on grey images: 3x3x1 = 9) is too thin
for im2col + BLAS: the product with a nine-column matrix keeps BLAS waiting on memory,
plain loops do not, and they can skip the zero pixels of a digit's background.

- conv_forward: the generic direct loops for any receptive field of at most
  im2col.DIRECT_MAX_K values, one output row (OW, C_out) at a time.
- conv3x3_forward / conv3x3_weight_grad: 3x3 kernels on one channel. The nine input values
  of a pixel are read once, and every output channel is computed as one expression
  `b + x0*w0 + ... + x8*w8`, so the compiler keeps the nine taps in registers and
  vectorises over the channels. The weight gradient is the same sum turned around: per
  pixel, nine rows of dw gain x_t * dz.
- convpool3x3_*: 3x3 one-channel convolution + bias + ReLU + 2x2 max pooling, in
  registers (the course CNN's first block on digits). Through the generic fused kernel
  (pool_fused) each pixel's 32 channels go to a buffer and a second loop pools them; here
  the four conv pixels of one pooling window are computed from the window's 4x4 input
  patch at once, and the maximum and its position are taken before anything is stored.
  The backward pass stays with pool_fused's generic code: a per-window version written
  like this one was slower (1.07 vs 0.69 ms of a course-CNN training step on real
  digits, 2 threads). Only for stride-1 convolutions and 2x2 pooling with stride 2;
  `convpool3x3_fits` says when.

Zeros: a digit's background is mostly zero pixels. Where all nine inputs are zero the
output is the bias, when every weight is finite (0 * inf must stay NaN); a gradient row
that is all zero adds nothing, when the nine inputs are finite. The skipped sums are
exactly zero, so skipping changes no result.

Same order of the sum as the generic loops (bias, then taps row by row), same padding and
stride rules (the fused 3x3 pooling kernel sums per kernel row: the same numbers up to
rounding; ReLU before pooling, the first maximum wins ties, a NaN wins its window); the
tests compare them with SciPy and with the unfused chain.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .. import fanout
from .._common import FASTMATH, all_finite_2d
from .blocks import max4
from .blocks import relu as relu_


# ---------------------------------------------------------------- any tiny receptive field


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def conv_forward(x, wm, b, n0, n1, kh, kw, sh, sw, ph, pw, oh_, ow_, relu, y2):
    """Direct loops for a tiny receptive field, one output row (OW, C_out) at a time.

    A zero pixel adds exactly nothing when every weight is finite, so it is skipped (the
    background of a digit is most of it); with a NaN or inf weight nothing is skipped and
    0 * inf stays NaN as it should.
    """
    h_in, w_in, c_in = x.shape[1], x.shape[2], x.shape[3]
    c_out = wm.shape[1]
    per = oh_ * ow_
    skip_zeros = all_finite_2d(wm)
    if kh == 3 and kw == 3 and c_in == 1:
        conv3x3_forward(x, wm, b, n0, n1, sh, sw, ph, pw, oh_, ow_, relu, skip_zeros, y2, n0 * per)
        return
    for n in range(n0, n1):
        for oh in range(oh_):
            r0 = n * per + oh * ow_  # rows r0..r0+OW-1 of y2: this output row
            for ow in range(ow_):
                for o in range(c_out):
                    y2[r0 + ow, o] = b[o]
            for i in range(kh):
                ih = oh * sh - ph + i
                if ih < 0 or ih >= h_in:
                    continue
                for j in range(kw):
                    for c in range(c_in):
                        t = (i * kw + j) * c_in + c
                        for ow in range(ow_):
                            iw = ow * sw - pw + j
                            if iw >= 0 and iw < w_in:
                                xv = x[n, ih, iw, c]
                                if xv == 0.0 and skip_zeros:
                                    continue
                                for o in range(c_out):
                                    y2[r0 + ow, o] += xv * wm[t, o]
            if relu:
                for ow in range(ow_):
                    for o in range(c_out):
                        v = y2[r0 + ow, o]
                        y2[r0 + ow, o] = v if (v > 0 or v != v) else 0.0


# ---------------------------------------------------------------- 3x3 kernels, one channel


@njit(cache=True, nogil=True, inline="always")
def _tap(x, n, ih, iw, h_in, w_in):
    if ih < 0 or ih >= h_in or iw < 0 or iw >= w_in:
        return x.dtype.type(0.0)  # zero padding
    return x[n, ih, iw, 0]


@njit(cache=True, nogil=True, inline="always")
def _taps(x, n, i0, j0, h_in, w_in):
    """The nine inputs under the 3x3 window at (i0, j0), row by row (zeros outside x)."""
    return (_tap(x, n, i0, j0, h_in, w_in), _tap(x, n, i0, j0 + 1, h_in, w_in),
            _tap(x, n, i0, j0 + 2, h_in, w_in), _tap(x, n, i0 + 1, j0, h_in, w_in),
            _tap(x, n, i0 + 1, j0 + 1, h_in, w_in), _tap(x, n, i0 + 1, j0 + 2, h_in, w_in),
            _tap(x, n, i0 + 2, j0, h_in, w_in), _tap(x, n, i0 + 2, j0 + 1, h_in, w_in),
            _tap(x, n, i0 + 2, j0 + 2, h_in, w_in))


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def conv3x3_forward(x, wm, b, n0, n1, sh, sw, ph, pw, oh_, ow_, relu, skip_zeros, y2, row0):
    """Rows row0.. of y2 (N*OH*OW, C_out) for samples n0..n1-1 of x (N, H, W, 1).

    wm is the kernel as (9, C_out); skip_zeros only when every weight is finite.
    """
    h_in, w_in = x.shape[1], x.shape[2]
    c_out = wm.shape[1]
    w0, w1, w2, w3, w4, w5, w6, w7, w8 = wm[0], wm[1], wm[2], wm[3], wm[4], wm[5], wm[6], wm[7], wm[8]
    r = row0
    for n in range(n0, n1):
        for oh in range(oh_):
            i0 = oh * sh - ph
            for ow in range(ow_):
                j0 = ow * sw - pw
                x0, x1, x2, x3, x4, x5, x6, x7, x8 = _taps(x, n, i0, j0, h_in, w_in)
                if skip_zeros and (x0 == 0.0 and x1 == 0.0 and x2 == 0.0 and x3 == 0.0 and x4 == 0.0
                                   and x5 == 0.0 and x6 == 0.0 and x7 == 0.0 and x8 == 0.0):
                    for o in range(c_out):
                        v = b[o]
                        if relu:
                            v = v if (v > 0 or v != v) else 0.0
                        y2[r, o] = v
                    r += 1
                    continue
                for o in range(c_out):
                    v = (b[o] + x0 * w0[o] + x1 * w1[o] + x2 * w2[o] + x3 * w3[o] + x4 * w4[o]
                         + x5 * w5[o] + x6 * w6[o] + x7 * w7[o] + x8 * w8[o])
                    if relu:
                        v = v if (v > 0 or v != v) else 0.0
                    y2[r, o] = v
                r += 1


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def conv3x3_weight_grad(x, dz, s0, s1, sh, sw, ph, pw, oh_, ow_, dw):
    """dw (9, C_out) += sum over the rows of dz (samples s0..s1-1, block-relative) of patch^T dz.

    Summed per sample into a small buffer first, then added to dw: a long float32 sum
    loses digits, like BLAS's own blocked sums do not.
    """
    h_in, w_in = x.shape[1], x.shape[2]
    c_out = dz.shape[1]
    acc = np.empty((9, c_out), dtype=dw.dtype)
    # row views taken once per call, never in the loops: see blocks.im2col
    a0, a1, a2, a3, a4, a5, a6, a7, a8 = acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7], acc[8]
    r = 0
    for n in range(s0, s1):
        acc[:] = 0.0
        for oh in range(oh_):
            i0 = oh * sh - ph
            for ow in range(ow_):
                j0 = ow * sw - pw
                x0, x1, x2, x3, x4, x5, x6, x7, x8 = _taps(x, n, i0, j0, h_in, w_in)
                nonzero = 0
                for o in range(c_out):
                    nonzero += dz[r, o] != 0.0
                zero = nonzero == 0
                # an all-zero row adds exactly zero unless an input is inf/NaN (0*inf = NaN)
                if zero and (x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8) * 0.0 == 0.0:
                    r += 1
                    continue
                for o in range(c_out):
                    v = dz[r, o]
                    a0[o] += x0 * v
                    a1[o] += x1 * v
                    a2[o] += x2 * v
                    a3[o] += x3 * v
                    a4[o] += x4 * v
                    a5[o] += x5 * v
                    a6[o] += x6 * v
                    a7[o] += x7 * v
                    a8[o] += x8 * v
                r += 1
        for t in range(9):
            for o in range(c_out):
                dw[t, o] += acc[t, o]


# ---------------------------------------------------------------- 3x3, one channel, + 2x2 max pool


def convpool3x3_fits(kh, kw, c_in, sh, sw, pkh, pkw) -> bool:
    return kh == 3 and kw == 3 and c_in == 1 and sh == 1 and sw == 1 and pkh == 2 and pkw == 2


@njit(cache=True, nogil=True)
def _patch4(x, n, r, c, h_in, w_in):
    """The 4x4 input patch under one pooling window, row by row (zeros outside the image)."""
    if r >= 0 and c >= 0 and r + 4 <= h_in and c + 4 <= w_in:
        a, b_, c_, d = x[n, r], x[n, r + 1], x[n, r + 2], x[n, r + 3]  # (W, 1) rows
        return (a[c, 0], a[c + 1, 0], a[c + 2, 0], a[c + 3, 0],
                b_[c, 0], b_[c + 1, 0], b_[c + 2, 0], b_[c + 3, 0],
                c_[c, 0], c_[c + 1, 0], c_[c + 2, 0], c_[c + 3, 0],
                d[c, 0], d[c + 1, 0], d[c + 2, 0], d[c + 3, 0])
    return (_tap(x, n, r, c, h_in, w_in), _tap(x, n, r, c + 1, h_in, w_in),
            _tap(x, n, r, c + 2, h_in, w_in), _tap(x, n, r, c + 3, h_in, w_in),
            _tap(x, n, r + 1, c, h_in, w_in), _tap(x, n, r + 1, c + 1, h_in, w_in),
            _tap(x, n, r + 1, c + 2, h_in, w_in), _tap(x, n, r + 1, c + 3, h_in, w_in),
            _tap(x, n, r + 2, c, h_in, w_in), _tap(x, n, r + 2, c + 1, h_in, w_in),
            _tap(x, n, r + 2, c + 2, h_in, w_in), _tap(x, n, r + 2, c + 3, h_in, w_in),
            _tap(x, n, r + 3, c, h_in, w_in), _tap(x, n, r + 3, c + 1, h_in, w_in),
            _tap(x, n, r + 3, c + 2, h_in, w_in), _tap(x, n, r + 3, c + 3, h_in, w_in))


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def convpool3x3_forward(x, wm, b, n0, n1, ph, pw, ph_, pw_, relu, skip_zeros, want_arg, y, arg):
    """y[n0:n1] (N, PH, PW, C) and the winners arg (uint8, 0..3) from x (N, H, W, 1).

    ph, pw: the convolution's zero padding before; wm the kernel as (9, C).
    """
    h_in, w_in = x.shape[1], x.shape[2]
    c_out = wm.shape[1]
    w0, w1, w2, w3, w4, w5, w6, w7, w8 = wm[0], wm[1], wm[2], wm[3], wm[4], wm[5], wm[6], wm[7], wm[8]
    for n in range(n0, n1):
        for i_ in range(ph_):
            r = 2 * i_ - ph
            for j_ in range(pw_):
                c = 2 * j_ - pw
                (p00, p01, p02, p03, p10, p11, p12, p13,
                 p20, p21, p22, p23, p30, p31, p32, p33) = _patch4(x, n, r, c, h_in, w_in)
                empty = skip_zeros and (
                    p00 == 0.0 and p01 == 0.0 and p02 == 0.0 and p03 == 0.0 and p10 == 0.0
                    and p11 == 0.0 and p12 == 0.0 and p13 == 0.0 and p20 == 0.0 and p21 == 0.0
                    and p22 == 0.0 and p23 == 0.0 and p30 == 0.0 and p31 == 0.0 and p32 == 0.0
                    and p33 == 0.0)
                if empty:  # all four pixels are the bias: the first one wins
                    for o in range(c_out):
                        y[n, i_, j_, o] = relu_(b[o], relu)
                    if want_arg:
                        for o in range(c_out):
                            arg[n, i_, j_, o] = 0
                    continue
                for o in range(c_out):
                    # one partial sum per kernel row: four pixels x three short chains
                    # keep both FMA units busy (one nine-term chain would wait on each add)
                    k0, k1, k2, k3, k4, k5, k6, k7, k8 = (w0[o], w1[o], w2[o], w3[o], w4[o], w5[o],
                                                          w6[o], w7[o], w8[o])
                    v00 = relu_((b[o] + p00 * k0 + p01 * k1 + p02 * k2) + (p10 * k3 + p11 * k4 + p12 * k5)
                                + (p20 * k6 + p21 * k7 + p22 * k8), relu)
                    v01 = relu_((b[o] + p01 * k0 + p02 * k1 + p03 * k2) + (p11 * k3 + p12 * k4 + p13 * k5)
                                + (p21 * k6 + p22 * k7 + p23 * k8), relu)
                    v10 = relu_((b[o] + p10 * k0 + p11 * k1 + p12 * k2) + (p20 * k3 + p21 * k4 + p22 * k5)
                                + (p30 * k6 + p31 * k7 + p32 * k8), relu)
                    v11 = relu_((b[o] + p11 * k0 + p12 * k1 + p13 * k2) + (p21 * k3 + p22 * k4 + p23 * k5)
                                + (p31 * k6 + p32 * k7 + p33 * k8), relu)
                    best, k = max4(v00, v01, v10, v11)
                    y[n, i_, j_, o] = best
                    if want_arg:
                        arg[n, i_, j_, o] = k


# A part kernel of its own (not a branch of pool_fused's generic ones): the drawing pad's
# first prediction needs only this, and a first-ever launch compiles it in a few seconds.


@njit(cache=True, nogil=True)
def convpool3x3_part(t, nt, x, wm, b, ph, pw, ph_, pw_, relu, want_arg, y, arg):
    """convpool3x3_forward of part t of nt of the batch (core.kernels.fanout runs the parts);
    blank pixels are skipped when the filters are finite (9 x C values: checked per part)."""
    n0, n1 = fanout.part(t, nt, x.shape[0])
    if n0 < n1:
        convpool3x3_forward(x, wm, b, n0, n1, ph, pw, ph_, pw_, relu, all_finite_2d(wm),
                            want_arg, y, arg)
