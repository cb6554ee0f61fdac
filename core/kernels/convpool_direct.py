"""3x3 one-channel convolution + bias + ReLU + 2x2 max pooling, in registers.

The course CNN's first block on digits. Through the generic fused kernel (convpool) each
pixel's 32 channels go to a buffer and a second loop pools them; here the four conv
pixels of one pooling window are computed from the window's 4x4 input patch at once, and
the maximum and its position are taken before anything is stored. The backward pass
stays with convpool's generic code: a per-window version written like this one was
slower (1.07 vs 0.69 ms of a course-CNN training step on real digits, 2 threads).

Same numbers as convpool up to rounding (the sum is taken per kernel row; ReLU before pooling;
the first maximum wins ties; a NaN wins its window). Only for stride-1 convolutions and
2x2 pooling with stride 2; `fits` says when.
"""
from __future__ import annotations

from numba import njit, prange

from .conv import _all_finite
from ._window import max4
from ._window import relu as relu_
from .conv_direct import _FASTMATH, _tap


def fits(kh, kw, c_in, sh, sw, pkh, pkw) -> bool:
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


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def forward(x, wm, b, n0, n1, ph, pw, ph_, pw_, relu, skip_zeros, want_arg, y, arg):
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


# Drivers of their own (not a branch of convpool's generic ones): the drawing pad's first
# prediction needs only this, and a first-ever launch compiles it in a few seconds.


@njit(cache=True, nogil=True, parallel=True)
def forward_threads(x, wm, b, ph, pw, ph_, pw_, relu, want_arg, y, arg, nt):
    skip_zeros = _all_finite(wm)
    step = (x.shape[0] + nt - 1) // nt
    for t in prange(nt):
        n0, n1 = t * step, min(x.shape[0], (t + 1) * step)
        if n0 < n1:
            forward(x, wm, b, n0, n1, ph, pw, ph_, pw_, relu, skip_zeros, want_arg, y, arg)


@njit(cache=True, nogil=True)
def forward_serial(x, wm, b, ph, pw, ph_, pw_, relu, want_arg, y, arg, nt):
    forward(x, wm, b, 0, x.shape[0], ph, pw, ph_, pw_, relu, _all_finite(wm), want_arg, y, arg)
