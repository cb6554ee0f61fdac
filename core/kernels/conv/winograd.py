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
input or filters hold NaN or inf goes through im2col instead (the part kernels check
`finite`): in the transformed domain one inf would reach all four outputs of its tile as
inf - inf = NaN, where the direct sum keeps it to the outputs that really see it.

The part kernels at the end are only ever reached from pool_fused, so a prediction, which
only needs pool_fused's generic kernels (one image goes through its row-split im2col path),
compiles none of this on a first-ever launch. Same parts and order of partial sums as
pool_fused: a result depends on the thread count, never on timing. Each part kernel is
compiled once and run on the threads through its address (core.kernels.fanout) or in turn
on one: a prange calling it had compiled it twice more (~40 s of a first launch).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .. import fanout
from .._common import FASTMATH, all_finite_2d
from .blocks import bias_act, col2im, im2col, max4, pool_block, relu_grad, unpool_block
from .blocks import relu as relu_


#: elements of a block's scratch (tiles * (32 C_in + 28 C_out)): ~1 MiB of float32, so a
#: block's products run from cache
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


# The transforms are separable: B^T d B is B^T applied along one index of the 4x4 tile,
# then along the other, and likewise for A^T, A and B. Applied to every tile and channel
# at once, each step is a handful of additions of whole rows of T*C values (the scratch
# buffers hold one row per position of the tile), loops the compiler vectorises: a loop
# writing all 16 values of a tile at once would not be (too many separate arrays for it to
# prove independent), and as (16, 16) matrix products they cost 3x more.


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _bt_along(src, dst, inner):
    """B^T along one index of 4x4 rows: (x0 - x2, x1 + x2, x2 - x1, x1 - x3)."""
    n = src.shape[1]
    sg, su = (4, 1) if inner else (1, 4)  # row of (other g, position u) = g*sg + u*su
    for g in range(4):
        s0, s1, s2, s3 = g * sg, g * sg + su, g * sg + 2 * su, g * sg + 3 * su
        for j in range(n):
            dst[s0, j] = src[s0, j] - src[s2, j]
        for j in range(n):
            dst[s1, j] = src[s1, j] + src[s2, j]
        for j in range(n):
            dst[s2, j] = src[s2, j] - src[s1, j]
        for j in range(n):
            dst[s3, j] = src[s1, j] - src[s3, j]


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _b_along(src, dst, inner):
    """B along one index of 4x4 rows: (x0, x1 - x2 + x3, -x0 + x1 + x2, -x3)."""
    n = src.shape[1]
    sg, su = (4, 1) if inner else (1, 4)
    for g in range(4):
        s0, s1, s2, s3 = g * sg, g * sg + su, g * sg + 2 * su, g * sg + 3 * su
        for j in range(n):
            dst[s0, j] = src[s0, j]
        for j in range(n):
            dst[s1, j] = src[s1, j] - src[s2, j] + src[s3, j]
        for j in range(n):
            dst[s2, j] = src[s1, j] + src[s2, j] - src[s0, j]
        for j in range(n):
            dst[s3, j] = -src[s3, j]


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _at_along(src, dst, inner, other):
    """A^T along one index, 4 positions to 2: (x0 + x1 + x2, x1 - x2 - x3)."""
    n = src.shape[1]
    sg, su = (4, 1) if inner else (1, other)  # rows of src: 4 positions along the index
    dg, du = (2, 1) if inner else (1, other)  # rows of dst: 2
    for g in range(other):
        s0, s1, s2, s3 = g * sg, g * sg + su, g * sg + 2 * su, g * sg + 3 * su
        d0, d1 = g * dg, g * dg + du
        for j in range(n):
            dst[d0, j] = src[s0, j] + src[s1, j] + src[s2, j]
        for j in range(n):
            dst[d1, j] = src[s1, j] - src[s2, j] - src[s3, j]


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _a_along(src, dst, inner, other):
    """A along one index, 2 positions to 4: (x0, x0 + x1, x0 - x1, -x1)."""
    n = src.shape[1]
    sg, su = (2, 1) if inner else (1, other)  # rows of src: 2 positions along the index
    dg, du = (4, 1) if inner else (1, other)  # rows of dst: 4
    for g in range(other):
        s0, s1 = g * sg, g * sg + su
        d0, d1, d2, d3 = g * dg, g * dg + du, g * dg + 2 * du, g * dg + 3 * du
        for j in range(n):
            dst[d0, j] = src[s0, j]
        for j in range(n):
            dst[d1, j] = src[s0, j] + src[s1, j]
        for j in range(n):
            dst[d2, j] = src[s0, j] - src[s1, j]
        for j in range(n):
            dst[d3, j] = -src[s1, j]


@njit(cache=True, nogil=True)
def _gather_patches(x, s0, s1, ph, pw, ph_, pw_, d):
    """d[p*4 + q, t, :] = x[n, r + p, c + q, :] for tile t at (r, c) (zeros outside x)."""
    h_in, w_in, c_in = x.shape[1], x.shape[2], x.shape[3]
    t = 0
    for n in range(s0, s1):
        for ti in range(ph_):
            r = 2 * ti - ph
            for tj in range(pw_):
                q0 = 2 * tj - pw
                for p in range(4):
                    i = r + p
                    for q in range(4):
                        j = q0 + q
                        k = p * 4 + q
                        if i < 0 or i >= h_in or j < 0 or j >= w_in:
                            for c in range(c_in):
                                d[k, t, c] = 0.0
                        else:
                            for c in range(c_in):
                                d[k, t, c] = x[n, i, j, c]
                t += 1


@njit(cache=True, nogil=True)
def _scatter_patches(d, s0, s1, ph, pw, ph_, pw_, dx):
    """dx[n, r + p, c + q, :] += d[p*4 + q, t, :]: the adjoint of _gather_patches."""
    h_in, w_in, c_in = dx.shape[1], dx.shape[2], dx.shape[3]
    t = 0
    for n in range(s0, s1):
        for ti in range(ph_):
            r = 2 * ti - ph
            for tj in range(pw_):
                q0 = 2 * tj - pw
                for p in range(4):
                    i = r + p
                    if i < 0 or i >= h_in:
                        continue
                    for q in range(4):
                        j = q0 + q
                        if j < 0 or j >= w_in:
                            continue
                        k = p * 4 + q
                        for c in range(c_in):
                            dx[n, i, j, c] += d[k, t, c]
                t += 1


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _bias_relu_pool(p, b, s0, s1, ph_, pw_, relu, want_arg, y, arg):
    """p[i*2 + j, t, :] are tile t's four outputs: + bias, ReLU, their maximum into y (arg)."""
    c_out = p.shape[2]
    t = 0
    for n in range(s0, s1):
        for ti in range(ph_):
            for tj in range(pw_):
                for o in range(c_out):
                    bias = b[o]
                    best, k = max4(relu_(p[0, t, o] + bias, relu), relu_(p[1, t, o] + bias, relu),
                                   relu_(p[2, t, o] + bias, relu), relu_(p[3, t, o] + bias, relu))
                    y[n, ti, tj, o] = best
                    if want_arg:
                        arg[n, ti, tj, o] = k
                t += 1


@njit(cache=True, nogil=True)
def block_samples(ph_, pw_, c_in, c_out, n):
    """Samples per block so that a block's transformed input and output stay in cache."""
    per = ph_ * pw_ * (32 * c_in + 28 * c_out)
    return min(max(1, BLOCK_ELEMENTS // max(1, per)), max(n, 1))


@njit(cache=True, nogil=True, inline="always")
def forward_block(x, u, b, s0, s1, ph, pw, ph_, pw_, relu, want_arg, d, v, m, p4, p8, y, arg):
    """Pooled outputs of samples s0..s1-1. Scratch buffers sized for exactly this block's
    tiles T = (s1 - s0) * ph_ * pw_: d, v (16, T, C_in), m (16, T, C_out), p4 (4, T, C_out),
    p8 (8, T, C_out)."""
    _gather_patches(x, s0, s1, ph, pw, ph_, pw_, d)
    d2, v2 = d.reshape(16, -1), v.reshape(16, -1)
    _bt_along(d2, v2, True)   # d B
    _bt_along(v2, d2, False)  # B^T d B: V, in d
    for k in range(16):
        np.dot(d[k], u[k], m[k])
    p8_2, p4_2 = p8.reshape(8, -1), p4.reshape(4, -1)
    _at_along(m.reshape(16, -1), p8_2, True, 4)  # M A
    _at_along(p8_2, p4_2, False, 2)               # A^T M A
    _bias_relu_pool(p4, b, s0, s1, ph_, pw_, relu, want_arg, y, arg)


@njit(cache=True, nogil=True)
def scratch(ph_, pw_, c_in, c_out, bs, dtype_like):
    """Flat buffers for blocks of up to bs samples: (d, v, m, p4, p8), cut to size by `views`."""
    tiles = bs * ph_ * pw_
    dt = dtype_like.dtype
    return (np.empty(16 * tiles * c_in, dt), np.empty(16 * tiles * c_in, dt),
            np.empty(16 * tiles * c_out, dt), np.empty(4 * tiles * c_out, dt),
            np.empty(8 * tiles * c_out, dt))


@njit(cache=True, nogil=True)
def views(bufs, tiles, c_in, c_out):
    """The scratch buffers as contiguous (16, tiles, C), (4, ...) and (8, tiles, C_out) arrays."""
    d, v, m, p4, p8 = bufs
    return (d[: 16 * tiles * c_in].reshape(16, tiles, c_in),
            v[: 16 * tiles * c_in].reshape(16, tiles, c_in),
            m[: 16 * tiles * c_out].reshape(16, tiles, c_out),
            p4[: 4 * tiles * c_out].reshape(4, tiles, c_out),
            p8[: 8 * tiles * c_out].reshape(8, tiles, c_out))


# ---------------------------------------------------------------- backward
#
# The adjoint of Y = A^T [U . (B^T d B)] A, tile by tile: the pooled gradient goes to its
# window's winner (the other three outputs get zero, as the unfused chain's sparse map
# gives them), M' = A Y' A^T, then
#   U' = sum over tiles of V^T M'   (16 products; dW = G^T U' G, done by the caller)
#   V' = M' U^T                     (16 products; dx += B V' B^T, the 4x4 patches overlap-add)
# 2.25x fewer multiplications than im2col for each, like the forward pass.


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _window_grads(y, arg, dy, s0, s1, ph_, pw_, relu, g4, db):
    """g4[k, t, o] = the gradient at position k of tile t's window (the winner's, else 0);
    db (float64) += what reaches the pre-activations (ReLU's mask from the pooled output)."""
    c_out = dy.shape[3]
    t = 0
    for n in range(s0, s1):
        for ti in range(ph_):
            for tj in range(pw_):
                for o in range(c_out):
                    g = dy[n, ti, tj, o]
                    if relu:
                        g = relu_grad(g, y[n, ti, tj, o])
                    db[o] += g
                    k = arg[n, ti, tj, o]
                    g4[0, t, o] = g if k == 0 else 0.0
                    g4[1, t, o] = g if k == 1 else 0.0
                    g4[2, t, o] = g if k == 2 else 0.0
                    g4[3, t, o] = g if k == 3 else 0.0
                t += 1


@njit(cache=True, nogil=True, inline="always")
def backward_block(x, u_t, y, arg, dy, s0, s1, ph, pw, ph_, pw_, relu, need_dx, d, v, m, g4, p8,
                   ubar, db, dx):
    """Samples s0..s1-1: ubar (16, C_in, C_out) += U', db += bias gradient, dx += input
    gradient (dx[s0:s1] zeroed by the caller). u_t is U transposed: (16, C_out, C_in).
    Scratch buffers as `views` gives them (g4 is its (4, T, C_out) one)."""
    _gather_patches(x, s0, s1, ph, pw, ph_, pw_, d)
    d2, v2 = d.reshape(16, -1), v.reshape(16, -1)
    _bt_along(d2, v2, True)
    _bt_along(v2, d2, False)  # V, in d
    _window_grads(y, arg, dy, s0, s1, ph_, pw_, relu, g4, db)
    p8_2 = p8.reshape(8, -1)
    _a_along(g4.reshape(4, -1), p8_2, True, 2)   # Y' A^T
    _a_along(p8_2, m.reshape(16, -1), False, 4)  # A Y' A^T: M'
    tmp = np.empty((d.shape[2], m.shape[2]), dtype=d.dtype)  # (C_in, C_out)
    for k in range(16):
        np.dot(d[k].T, m[k], tmp)
        ubar[k] += tmp
    if need_dx:
        for k in range(16):
            np.dot(m[k], u_t[k], v[k])  # V'
        _b_along(v2, d2, True)
        _b_along(d2, v2, False)  # B V' B^T, in v
        _scatter_patches(v, s0, s1, ph, pw, ph_, pw_, dx)


def weight_grad(ubar):
    """dW as (9, C_in * C_out) from U' (16, C_in, C_out): the adjoint of kernel_transform."""
    gg = _GG.astype(ubar.dtype)
    with np.errstate(all="ignore"):
        return np.dot(gg.T, ubar.reshape(16, -1))


# ---------------------------------------------------------------- part kernels (from pool_fused)


@njit(cache=True, nogil=True)
def forward_part(t, nt, x, wm, u, b, ph, pw, oh_, ow_, relu, ph_, pw_, want_arg, y, arg):
    """Part t of nt of the batch, in blocks by Winograd's F(2x2, 3x3); a block holding NaN
    or inf (in its input or the filters) goes through im2col, which keeps non-finite
    values where the direct sum puts them (see the module docstring)."""
    n0, n1 = fanout.part(t, nt, x.shape[0])
    if n0 >= n1:
        return
    c_in, c_out = x.shape[3], wm.shape[1]
    bs = block_samples(ph_, pw_, c_in, c_out, n1 - n0)
    bufs = scratch(ph_, pw_, c_in, c_out, bs, x)
    filters_finite = all_finite_2d(wm)
    for s0 in range(n0, n1, bs):
        s1 = min(n1, s0 + bs)
        if filters_finite and finite(x, s0, s1):
            d, v, m, p4, p8 = views(bufs, (s1 - s0) * ph_ * pw_, c_in, c_out)
            forward_block(x, u, b, s0, s1, ph, pw, ph_, pw_, relu, want_arg, d, v, m, p4, p8,
                          y, arg)
        else:  # im2col only: this fallback compiles nothing it does not need
            rows = (s1 - s0) * oh_ * ow_
            zb = np.empty((rows, c_out), dtype=x.dtype)
            cols = np.empty((rows, wm.shape[0]), dtype=x.dtype)
            im2col(x, s0, s1, 3, 3, 1, 1, ph, pw, oh_, ow_, cols)
            np.dot(cols, wm, zb)
            bias_act(zb, b, relu)
            pool_block(zb, s0, s1, oh_, ow_, 2, 2, ph_, pw_, want_arg, y, arg)


@njit(cache=True, nogil=True)
def backward_part(t, nt, x, wm, u_t, y, arg, dy, ph, pw, oh_, ow_, relu, need_dx, dwp, ubp,
                  dbp, dx):
    """Part t of nt of the batch, in blocks by Winograd's adjoint, into its own partial sums
    dwp[t], ubp[t], dbp[t]; a block with NaN or inf in its input or gradient (or non-finite
    filters) goes through im2col, which puts them where the direct sum does."""
    n0, n1 = fanout.part(t, nt, x.shape[0])
    if n0 >= n1:
        return
    dw, ubar, db = dwp[t], ubp[t], dbp[t]
    if need_dx:
        dx[n0:n1] = 0.0
    ph_, pw_ = dy.shape[1], dy.shape[2]
    c_in, c_out = x.shape[3], wm.shape[1]
    bs = block_samples(ph_, pw_, c_in, c_out, n1 - n0)
    bufs = scratch(ph_, pw_, c_in, c_out, bs, x)
    filters_finite = all_finite_2d(wm)
    for s0 in range(n0, n1, bs):
        s1 = min(n1, s0 + bs)
        if filters_finite and finite(x, s0, s1) and finite(dy, s0, s1):
            d, v, m, g4, p8 = views(bufs, (s1 - s0) * ph_ * pw_, c_in, c_out)
            backward_block(x, u_t, y, arg, dy, s0, s1, ph, pw, ph_, pw_, relu, need_dx, d, v, m,
                           g4, p8, ubar, db, dx)
            continue
        per = oh_ * ow_
        k = wm.shape[0]
        rows = (s1 - s0) * per
        dz = np.empty((rows, c_out), dtype=dy.dtype)
        cols = np.empty((rows, k), dtype=x.dtype)
        dcols = np.empty((rows if need_dx else 0, k), dtype=dy.dtype)
        g = np.empty(c_out, dtype=dy.dtype)
        unpool_block(y, arg, dy, s0, s1, oh_, ow_, 2, 2, relu, g, dz, db)
        im2col(x, s0, s1, 3, 3, 1, 1, ph, pw, oh_, ow_, cols)  # im2col only, as forward
        dw += np.dot(cols.T, dz)
        if need_dx:
            np.dot(dz, np.ascontiguousarray(wm.T), dcols)
            col2im(dcols, s0, s1, 3, 3, 1, 1, ph, pw, oh_, ow_, dx)


@njit(cache=True, nogil=True)
def sum_parts(ubp):
    """The parts' Winograd weight gradients (backward_part's ubp) added in a fixed order."""
    u = ubp[0].copy()
    for t in range(1, ubp.shape[0]):
        u += ubp[t]
    return u
