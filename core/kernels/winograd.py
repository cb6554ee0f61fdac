"""3x3 convolution + bias + ReLU + 2x2 max pooling with Winograd's F(2x2, 3x3).

A 2x2 pooling window over a 3x3 convolution needs four outputs from one 4x4 input patch.
Computed directly that is 4 x 9 = 36 multiplications per input and output channel;
Winograd's minimal filtering algorithm (Lavin & Gray, "Fast Algorithms for Convolutional
Neural Networks", 2016) does it with 16: transform the patch (V = B^T d B) and the filter
(U = G g G^T) into a 4x4 domain where the convolution is an element-wise product summed
over input channels, then transform the 16 sums back (Y = A^T M A). The sums over
channels are 16 matrix products, M[k] = V[k] @ U[k] (tiles x C_in @ C_in x C_out), which
BLAS runs at full speed; the transforms are a few additions each. The four outputs of a
tile are exactly one pooling window, so bias, ReLU and the maximum (with the winner's
position) are taken from registers and the convolution's output is never stored.

For the course CNN's second block (13x13x32 -> 64 filters -> 5x5 pooled) that is 2.25x
fewer multiplications than im2col, whose product also computes the output row and
column pooling drops.

Rounding: the transforms add and subtract inputs before multiplying, so results differ
from the direct sum by a few float32 ulps (tests compare with a float64 reference). With
small integers (exact in float32) the results are exact, ties included. A block whose
input or filters hold NaN or inf goes through im2col instead (the caller checks
`finite`): in the transformed domain one inf would reach all four outputs of its tile as
inf - inf = NaN, where the direct sum keeps it to the outputs that really see it.
"""
from __future__ import annotations

import numpy as np
from numba import njit

_FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}  # never nnan/ninf: NaN must show

#: elements of the transformed input and output (16 * tiles * (C_in + C_out)) per block:
#: ~1 MiB of float32, so a block's 16 products run from cache
BLOCK_ELEMENTS = 1 << 18


def fits(kh, kw, sh, sw, pkh, pkw) -> bool:
    """3x3 kernels, stride 1, 2x2 pooling with stride 2 (the only case this does)."""
    return kh == 3 and kw == 3 and sh == 1 and sw == 1 and pkh == 2 and pkw == 2


_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
#: U[r*4 + s] = sum over (i, j) of G[r, i] * G[s, j] * g[i, j]: G g G^T as one (16, 9) matrix
_GG = np.ascontiguousarray(np.einsum("ri,sj->rsij", _G, _G).reshape(16, 9))


def kernel_transform(w):
    """U (16, C_in, C_out) = G g G^T for every filter g = w[:, :, c, o] (one BLAS product)."""
    c_in, c_out = w.shape[2], w.shape[3]
    gg = _GG.astype(w.dtype)  # entries are 0, +-1/4, +-1/2, 1: exact in float32
    with np.errstate(all="ignore"):  # non-finite filters are fine here: such blocks use im2col
        return np.dot(gg, w.reshape(9, c_in * c_out)).reshape(16, c_in, c_out)


@njit(cache=True, nogil=True)
def finite(x, s0, s1):
    """Are samples s0..s1-1 of x (N, H, W, C) all finite? (v*0 is NaN exactly for NaN/inf.)"""
    s = 0.0
    for n in range(s0, s1):
        for i in range(x.shape[1]):
            for j in range(x.shape[2]):
                for c in range(x.shape[3]):
                    s += x[n, i, j, c] * 0.0
    return s == 0.0


@njit(cache=True, nogil=True, inline="always")
def _load(x, n, i, j, c, h_in, w_in):
    if i < 0 or i >= h_in or j < 0 or j >= w_in:
        return x.dtype.type(0.0)  # zero padding
    return x[n, i, j, c]


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _input_transform(x, s0, s1, ph, pw, ph_, pw_, v):
    """v[k, t, c] = (B^T d B)[k] for every tile t of samples s0..s1-1 and channel c."""
    h_in, w_in, c_in = x.shape[1], x.shape[2], x.shape[3]
    t = 0
    for n in range(s0, s1):
        for ti in range(ph_):
            r = 2 * ti - ph
            for tj in range(pw_):
                q = 2 * tj - pw
                inside = r >= 0 and q >= 0 and r + 4 <= h_in and q + 4 <= w_in
                for c in range(c_in):
                    if inside:
                        d00, d01, d02, d03 = x[n, r, q, c], x[n, r, q + 1, c], x[n, r, q + 2, c], x[n, r, q + 3, c]
                        d10, d11, d12, d13 = x[n, r + 1, q, c], x[n, r + 1, q + 1, c], x[n, r + 1, q + 2, c], x[n, r + 1, q + 3, c]
                        d20, d21, d22, d23 = x[n, r + 2, q, c], x[n, r + 2, q + 1, c], x[n, r + 2, q + 2, c], x[n, r + 2, q + 3, c]
                        d30, d31, d32, d33 = x[n, r + 3, q, c], x[n, r + 3, q + 1, c], x[n, r + 3, q + 2, c], x[n, r + 3, q + 3, c]
                    else:
                        d00, d01, d02, d03 = (_load(x, n, r, q, c, h_in, w_in), _load(x, n, r, q + 1, c, h_in, w_in),
                                              _load(x, n, r, q + 2, c, h_in, w_in), _load(x, n, r, q + 3, c, h_in, w_in))
                        d10, d11, d12, d13 = (_load(x, n, r + 1, q, c, h_in, w_in), _load(x, n, r + 1, q + 1, c, h_in, w_in),
                                              _load(x, n, r + 1, q + 2, c, h_in, w_in), _load(x, n, r + 1, q + 3, c, h_in, w_in))
                        d20, d21, d22, d23 = (_load(x, n, r + 2, q, c, h_in, w_in), _load(x, n, r + 2, q + 1, c, h_in, w_in),
                                              _load(x, n, r + 2, q + 2, c, h_in, w_in), _load(x, n, r + 2, q + 3, c, h_in, w_in))
                        d30, d31, d32, d33 = (_load(x, n, r + 3, q, c, h_in, w_in), _load(x, n, r + 3, q + 1, c, h_in, w_in),
                                              _load(x, n, r + 3, q + 2, c, h_in, w_in), _load(x, n, r + 3, q + 3, c, h_in, w_in))
                    # B^T d: rows (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
                    a0, a1, a2, a3 = d00 - d20, d01 - d21, d02 - d22, d03 - d23
                    b0, b1, b2, b3 = d10 + d20, d11 + d21, d12 + d22, d13 + d23
                    e0, e1, e2, e3 = d20 - d10, d21 - d11, d22 - d12, d23 - d13
                    f0, f1, f2, f3 = d10 - d30, d11 - d31, d12 - d32, d13 - d33
                    # (B^T d) B: the same along each row
                    v[0, t, c], v[1, t, c], v[2, t, c], v[3, t, c] = a0 - a2, a1 + a2, a2 - a1, a1 - a3
                    v[4, t, c], v[5, t, c], v[6, t, c], v[7, t, c] = b0 - b2, b1 + b2, b2 - b1, b1 - b3
                    v[8, t, c], v[9, t, c], v[10, t, c], v[11, t, c] = e0 - e2, e1 + e2, e2 - e1, e1 - e3
                    v[12, t, c], v[13, t, c], v[14, t, c], v[15, t, c] = f0 - f2, f1 + f2, f2 - f1, f1 - f3
                t += 1


@njit(cache=True, nogil=True, inline="always")
def _relu(v, relu):
    if relu:
        return v if (v > 0 or v != v) else 0.0
    return v


@njit(cache=True, nogil=True, inline="always")
def _better(v, best):
    """First maximum wins ties; NaN wins and stays."""
    return v > best or (v != v and best == best)


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _output_pool(m, b, s0, s1, ph_, pw_, relu, want_arg, y, arg):
    """Each tile's 2x2 outputs (A^T M A) + bias, ReLU, then their maximum into y (and arg)."""
    c_out = m.shape[2]
    t = 0
    for n in range(s0, s1):
        for ti in range(ph_):
            for tj in range(pw_):
                for o in range(c_out):
                    # A^T M: rows (m0 + m1 + m2, m1 - m2 - m3)
                    p0 = m[0, t, o] + m[4, t, o] + m[8, t, o]
                    p1 = m[1, t, o] + m[5, t, o] + m[9, t, o]
                    p2 = m[2, t, o] + m[6, t, o] + m[10, t, o]
                    p3 = m[3, t, o] + m[7, t, o] + m[11, t, o]
                    q0 = m[4, t, o] - m[8, t, o] - m[12, t, o]
                    q1 = m[5, t, o] - m[9, t, o] - m[13, t, o]
                    q2 = m[6, t, o] - m[10, t, o] - m[14, t, o]
                    q3 = m[7, t, o] - m[11, t, o] - m[15, t, o]
                    bias = b[o]
                    v00 = _relu(p0 + p1 + p2 + bias, relu)
                    v01 = _relu(p1 - p2 - p3 + bias, relu)
                    v10 = _relu(q0 + q1 + q2 + bias, relu)
                    v11 = _relu(q1 - q2 - q3 + bias, relu)
                    best = v00
                    k = 0
                    if _better(v01, best):
                        best = v01
                        k = 1
                    if _better(v10, best):
                        best = v10
                        k = 2
                    if _better(v11, best):
                        best = v11
                        k = 3
                    y[n, ti, tj, o] = best
                    if want_arg:
                        arg[n, ti, tj, o] = k
                t += 1


@njit(cache=True, nogil=True)
def block_samples(ph_, pw_, c_in, c_out, n):
    """Samples per block so that a block's transformed input and output stay in cache."""
    per = 16 * ph_ * pw_ * (c_in + c_out)
    return min(max(1, BLOCK_ELEMENTS // max(1, per)), max(n, 1))


@njit(cache=True, nogil=True)
def forward_block(x, u, b, s0, s1, ph, pw, ph_, pw_, relu, want_arg, v, m, y, arg):
    """Pooled outputs of samples s0..s1-1; v (16, >= tiles, C_in) and m (16, >= tiles,
    C_out) are the caller's scratch buffers."""
    tiles = (s1 - s0) * ph_ * pw_
    _input_transform(x, s0, s1, ph, pw, ph_, pw_, v)
    for k in range(16):
        np.dot(v[k, :tiles], u[k], m[k, :tiles])
    _output_pool(m, b, s0, s1, ph_, pw_, relu, want_arg, y, arg)
