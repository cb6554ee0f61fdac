"""3x3 convolutions of one-channel images (a first layer on grey digits) by direct loops.

A receptive field of nine values is too thin for a matrix product: im2col + BLAS spends
its time moving the nine-column matrix, and the generic direct loops keep the output in
memory and update it once per tap. Here the nine input values of a pixel are read once,
and every output channel is computed as one expression `b + x0*w0 + ... + x8*w8`, so the
compiler keeps the nine taps in registers and vectorises over the channels. The weight
gradient is the same sum turned around: per pixel, nine rows of dw gain x_t * dz.

Zeros: a digit's background is mostly zero pixels. Where all nine inputs are zero the
output is the bias, when every weight is finite (0 * inf must stay NaN); a gradient row
that is all zero adds nothing, when the nine inputs are finite. The skipped sums are
exactly zero, so skipping changes no result.

Same order of the sum as the generic loops (bias, then taps row by row), same padding and
stride rules; the tests compare both with SciPy.
"""
from __future__ import annotations

import numpy as np
from numba import njit

_FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}  # never nnan/ninf: NaN must show


def fits(kh, kw, c_in) -> bool:
    """Does this geometry take the 3x3 one-channel loops?"""
    return kh == 3 and kw == 3 and c_in == 1


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


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def forward(x, wm, b, n0, n1, sh, sw, ph, pw, oh_, ow_, relu, skip_zeros, y2, row0):
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


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def weight_grad(x, dz, s0, s1, sh, sw, ph, pw, oh_, ow_, dw):
    """dw (9, C_out) += sum over the rows of dz (samples s0..s1-1, block-relative) of patch^T dz.

    Summed per sample into a small buffer first, then added to dw: a long float32 sum
    loses digits, like BLAS's own blocked sums do not.
    """
    h_in, w_in = x.shape[1], x.shape[2]
    c_out = dz.shape[1]
    acc = np.empty((9, c_out), dtype=dw.dtype)
    # row views taken once per call, never in the loops: see conv._im2col
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
