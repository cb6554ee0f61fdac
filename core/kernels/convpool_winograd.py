"""Drivers of the fused conv 3x3 + ReLU + 2x2 pool by Winograd's F(2x2, 3x3) (see winograd).

Kept apart from convpool's generic drivers so that a prediction, which only needs those
(one image goes through convpool's row-split im2col path), compiles none of this on a
first-ever launch. Same chunking and order of partial sums as convpool: a result depends
on the thread count, never on timing. There is no serial copy of these drivers: the serial
way runs them on one thread (`_threads.one_thread`), which halves what a first-ever launch
compiles (each copy took 10-20 s).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from . import winograd
from .conv import _all_finite, _bias_act, _col2im, _im2col, _sum_chunks
from .convpool import _pool_block, _unpool_block

__all__ = ["forward_threads", "backward_threads"]


@njit(cache=True, nogil=True)
def _forward_range(x, wm, u, b, n0, n1, ph, pw, oh_, ow_, relu, ph_, pw_, want_arg, y, arg):
    """Blocks of samples by Winograd's F(2x2, 3x3); a block holding NaN or inf (in its
    input or the filters) goes through im2col, which keeps non-finite values where the
    direct sum puts them (see winograd)."""
    c_in, c_out = x.shape[3], wm.shape[1]
    bs = winograd.block_samples(ph_, pw_, c_in, c_out, n1 - n0)
    bufs = winograd.scratch(ph_, pw_, c_in, c_out, bs, x)
    filters_finite = _all_finite(wm)
    for s0 in range(n0, n1, bs):
        s1 = min(n1, s0 + bs)
        if filters_finite and winograd.finite(x, s0, s1):
            d, v, m, p4, p8 = winograd.views(bufs, (s1 - s0) * ph_ * pw_, c_in, c_out)
            winograd.forward_block(x, u, b, s0, s1, ph, pw, ph_, pw_, relu, want_arg, d, v, m, p4,
                                   p8, y, arg)
        else:  # im2col only: this fallback compiles nothing it does not need
            rows = (s1 - s0) * oh_ * ow_
            zb = np.empty((rows, c_out), dtype=x.dtype)
            cols = np.empty((rows, wm.shape[0]), dtype=x.dtype)
            _im2col(x, s0, s1, 3, 3, 1, 1, ph, pw, oh_, ow_, cols)
            np.dot(cols, wm, zb)
            _bias_act(zb, b, relu)
            _pool_block(zb, s0, s1, oh_, ow_, 2, 2, ph_, pw_, want_arg, y, arg)


@njit(cache=True, nogil=True)
def _backward_range(x, wm, u_t, y, arg, dy, n0, n1, ph, pw, oh_, ow_, relu, need_dx, dw, ubar,
                    db, dx):
    """Blocks by Winograd's adjoint; a block with NaN or inf in its input or gradient (or
    non-finite filters) goes through im2col, which puts them where the direct sum does."""
    if need_dx:
        dx[n0:n1] = 0.0
    ph_, pw_ = dy.shape[1], dy.shape[2]
    c_in, c_out = x.shape[3], wm.shape[1]
    bs = winograd.block_samples(ph_, pw_, c_in, c_out, n1 - n0)
    bufs = winograd.scratch(ph_, pw_, c_in, c_out, bs, x)
    filters_finite = _all_finite(wm)
    for s0 in range(n0, n1, bs):
        s1 = min(n1, s0 + bs)
        if filters_finite and winograd.finite(x, s0, s1) and winograd.finite(dy, s0, s1):
            d, v, m, g4, p8 = winograd.views(bufs, (s1 - s0) * ph_ * pw_, c_in, c_out)
            winograd.backward_block(x, u_t, y, arg, dy, s0, s1, ph, pw, ph_, pw_, relu, need_dx,
                                    d, v, m, g4, p8, ubar, db, dx)
            continue
        per = oh_ * ow_
        k = wm.shape[0]
        rows = (s1 - s0) * per
        dz = np.empty((rows, c_out), dtype=dy.dtype)
        cols = np.empty((rows, k), dtype=x.dtype)
        dcols = np.empty((rows if need_dx else 0, k), dtype=dy.dtype)
        g = np.empty(c_out, dtype=dy.dtype)
        _unpool_block(y, arg, dy, s0, s1, oh_, ow_, 2, 2, relu, g, dz, db)
        _im2col(x, s0, s1, 3, 3, 1, 1, ph, pw, oh_, ow_, cols)  # im2col only, as forward
        dw += np.dot(cols.T, dz)
        if need_dx:
            np.dot(dz, np.ascontiguousarray(wm.T), dcols)
            _col2im(dcols, s0, s1, 3, 3, 1, 1, ph, pw, oh_, ow_, dx)



@njit(cache=True, nogil=True, parallel=True)
def forward_threads(x, wm, u, b, kh, kw, ph, pw, oh_, ow_, relu, ph_, pw_, want_arg, y, arg, nt):
    step = (x.shape[0] + nt - 1) // nt
    for t in prange(nt):
        n0, n1 = t * step, min(x.shape[0], (t + 1) * step)
        if n0 < n1:
            _forward_range(x, wm, u, b, n0, n1, ph, pw, oh_, ow_, relu, ph_, pw_, want_arg, y, arg)


@njit(cache=True, nogil=True, parallel=True)
def backward_threads(x, wm, u_t, y, arg, dy, kh, kw, ph, pw, oh_, ow_, relu, need_dx, dx, nt):
    """(dw from im2col blocks, U' from Winograd blocks, db); the caller adds G^T U' G to dw."""
    dwp = np.zeros((nt, wm.shape[0], wm.shape[1]), dtype=dy.dtype)  # one partial sum per chunk
    ubp = np.zeros((nt, 16, x.shape[3], wm.shape[1]), dtype=dy.dtype)
    dbp = np.zeros((nt, wm.shape[1]), dtype=np.float64)
    step = (x.shape[0] + nt - 1) // nt
    for t in prange(nt):
        n0, n1 = t * step, min(x.shape[0], (t + 1) * step)
        if n0 < n1:
            _backward_range(x, wm, u_t, y, arg, dy, n0, n1, ph, pw, oh_, ow_, relu, need_dx,
                            dwp[t], ubp[t], dbp[t], dx)
    dw, db = _sum_chunks(dwp, dbp, dy)
    return dw, _sum_u(ubp), db


@njit(cache=True, nogil=True)
def _sum_u(ubp):
    """The chunks' Winograd weight gradients added in a fixed order."""
    u = ubp[0].copy()
    for t in range(1, ubp.shape[0]):
        u += ubp[t]
    return u
