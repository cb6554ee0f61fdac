"""Recurrent layer kernels: LSTM and SimpleRNN over all time steps, forward and exact BPTT.

The readable form of the same numbers is recurrent_ref.py; this file is about speed.

Layout. The input x is the layer's (N, T, F); everything a kernel keeps for the backward
pass is time-major, (T, N, ·), so that one step's rows are one contiguous block (BLAS takes
them as they are).

Per step: z_t = x_t·W + h_{t−1}·U (two BLAS products, no temporaries beyond one block's z),
then one fused pass per sample adds the bias, applies the gate functions, updates the cell
and writes h_t. The gate functions need exp; Numba's calls the C library one number at a
time, so float32 uses the SIMD exp of fast_exp.py (exp of −|z| only: σ(z) and tanh(z) are
written from that, which never overflows), float64 (the tests' precision) keeps np.exp /
np.tanh. The LSTM keeps tanh(c_t) too, so that the backward pass needs no transcendental.
Backwards, the weight gradients are summed step by step (dU += h_{t−1}ᵀ·dz_t, dW +=
x_tᵀ·dz_t) while dz_t is still in the cache: one product over every step at once was ~25 %
slower for dU and ~2x for dW here (its operands are bigger than L2).

Threads. Each step's units are shared out, every thread taking all samples for its block of
units (gate columns i, f, g, o of those units, side by side in a reordered copy of W and U
so that its part of z_t is one product), and the threads meet once per step (h_t must be
whole before step t+1). Splitting the batch instead needs no meeting, but each thread's
products then have half the rows against the same weights: BLAS packs U for every product
and at 32 rows that packing is not paid back (sgemm 32x128·128x512 ran at ~34 GMAC/s,
64x128·128x256 at ~41, the backward's dz·Uᵀ 31 against 40). Backwards, a step first takes
what step t+1's whole dz gives (∂L/∂h_t for the thread's units, and a block of gate columns
of the weight-gradient terms), then the thread's units' dz_t. The blocks are fixed by the
sizes and the thread count: the result does not depend on timing. Whether the threads or
one core is faster right now is measured per call site (_threads.run); one core runs the
same compiled kernels with the same blocks. One forward and one backward step kernel
serve both cells (g = 4 gates: LSTM, g = 1: SimpleRNN); each is compiled once and run on
the threads through its address (core.kernels.fanout) by a loop over the time steps.

The `*_planned` functions are the trusted fast path the layers use: no checks, so the
arrays must be C-contiguous, writeable and of one float dtype. `lstm_forward` /
`lstm_backward` / `rnn_forward` / `rnn_backward` check their arguments first.
"""
from __future__ import annotations

import numpy as np
from numba import njit, types, uint64
from numba.extending import overload

from . import _threads, fanout
from ._common import FASTMATH, all_finite_2d, as_float_array, same_dtype
from .blas import gemm, gemm_blocks, small_product_limit
from .dense import thread_block
from .fast_exp import exp_nonpositive_prefix as _exp_row

__all__ = ["lstm_forward", "lstm_backward", "rnn_forward", "rnn_backward",
           "lstm_forward_planned", "lstm_backward_planned",
           "rnn_forward_planned", "rnn_backward_planned", "ACTIVATION_CODES"]

#: SimpleRNN activations by the code the kernels take
LINEAR, TANH, RELU, SIGMOID, LEAKY_RELU = 0, 1, 2, 3, 4
ACTIVATION_CODES = {"linear": LINEAR, "tanh": TANH, "relu": RELU, "sigmoid": SIGMOID,
                    "leaky_relu": LEAKY_RELU}

# Below this many multiply-adds per time step a batch stays on one core: the threads meet
# once per step (a few microseconds each), which would cost more than they save (one
# sequence, a lesson's tiny network).
PARALLEL_MIN_WORK = 1 << 20

_TANH_SMALL = np.float32(0.625)  # below it, tanh by Cephes's polynomial (1 − e over 1 + e cancels)
_TP = tuple(np.float32(v) for v in (-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2,
                                    1.33314422036e-1, -3.33332819422e-1))


# ---------------------------------------------------------------- element-wise pieces


def _tanh_from(v, e2):
    """tanh(v) given e2 = exp(−2|v|) (jitted code only, see the overload)."""
    raise NotImplementedError


@overload(_tanh_from)
def _tanh_from_impl(v, e2):
    if v != types.float32:
        def plain(v, e2):
            return np.tanh(v)
        return plain

    def f32(v, e2):
        v2 = v * v
        small = ((((_TP[0] * v2 + _TP[1]) * v2 + _TP[2]) * v2 + _TP[3]) * v2 + _TP[4]) * v2 * v + v
        big = (np.float32(1.0) - e2) / (np.float32(1.0) + e2)
        big = big if v >= 0 else -big
        return small if abs(v) < _TANH_SMALL else big
    return f32


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FASTMATH)
def _sigmoid_from(v, e, one):
    """σ(v) given e = exp(−|v|): 1/(1+e) or e/(1+e), never an overflowing exp. (`one` is
    1 in the arrays' dtype: a float literal would turn float32 arithmetic into float64.)"""
    d = one / (one + e)
    return d if v >= 0 else e * d


@njit(cache=True, nogil=True)
def _thread_order(w, u, b, g, nt):
    """W, U and b with each thread's gate columns side by side: block t holds the columns of
    its units j0:j1 gate after gate (i, f, g, o of those units), so that the thread's part
    of z_t is one product. With one gate or one block that is the order they have."""
    m = u.shape[0]
    if g == 1 or nt == 1:
        return w, u, b
    perm = np.empty(g * m, dtype=np.int64)
    for t in range(nt):
        j0, j1 = thread_block(m, t, nt)
        for q in range(g):
            for j in range(j1 - j0):
                perm[g * j0 + q * (j1 - j0) + j] = q * m + j0 + j
    wp, up, bp = np.empty_like(w), np.empty_like(u), np.empty_like(b)
    for c in range(g * m):
        bp[c] = b[perm[c]]
    for r in range(w.shape[0]):
        for c in range(g * m):
            wp[r, c] = w[r, perm[c]]
    for r in range(m):
        for c in range(g * m):
            up[r, c] = u[r, perm[c]]
    return wp, up, bp


# ---------------------------------------------------------------- forward


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FASTMATH)
def _lstm_cell_row(row, b, c_prev, first, c_row, tc_row, h_row, e, ec, bits, one):
    """One sample's step for a block of mb units after their z = x_t·W + h_{t−1}·U is in
    `row` (4mb: gates i, f, g, o of those units): bias, gate functions (row ends as i, f,
    g, o), c_t, tanh(c_t), h_t. 1-D rows and unsigned indices, so that every loop runs in
    SIMD lanes (a signed index might be negative, and Numba's wrap-around for it keeps
    LLVM from vectorising)."""
    m = uint64(c_row.shape[0])
    m2, m3, m4 = m + m, m + m + m, m + m + m + m
    two = one + one
    for j in range(m4):
        row[j] += b[j]
    for j in range(m2):
        e[j] = -abs(row[j])
    for j in range(m2, m3):
        e[j] = -two * abs(row[j])
    for j in range(m3, m4):
        e[j] = -abs(row[j])
    _exp_row(e, bits, m4)
    # short loops over few arrays each: with many, LLVM gives up proving they do not
    # overlap and leaves the loop scalar (~10x slower)
    for j in range(m2):
        row[j] = _sigmoid_from(row[j], e[j], one)
    for j in range(m2, m3):
        row[j] = _tanh_from(row[j], e[j])
    for j in range(m3, m4):
        row[j] = _sigmoid_from(row[j], e[j], one)
    if first:
        for j in range(m):
            c_row[j] = row[j] * row[m2 + j]
    else:
        for j in range(m):
            c_row[j] = row[m + j] * c_prev[j] + row[j] * row[m2 + j]
    for j in range(m):
        ec[j] = -two * abs(c_row[j])
    _exp_row(ec, bits, m)
    for j in range(m):
        tc_row[j] = _tanh_from(c_row[j], ec[j])
    for j in range(m):
        h_row[j] = row[m3 + j] * tc_row[j]


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FASTMATH)
def _gates_out(row, out, j0, m):
    """A block's gate values (i, f, g, o of units j0:j0+mb side by side in row) into the
    sample's (4m) row of the gates array, in Keras's order."""
    mb = uint64(row.shape[0]) // uint64(4)
    for q in range(uint64(4)):
        o = q * uint64(m) + uint64(j0)
        for j in range(mb):
            out[o + j] = row[q * mb + j]


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FASTMATH)
def _rnn_cell_row(z_row, b, act, slope, h_row, e, bits, one):
    """One sample's step after z = x_t·W + h_{t−1}·U is in z_row: bias, then h = f(z).
    Unsigned indices: SIMD loops (see _lstm_cell_row)."""
    m = uint64(z_row.shape[0])
    for j in range(m):
        z_row[j] += b[j]
    if act == TANH or act == SIGMOID:
        two = one + one if act == TANH else one
        for j in range(m):
            e[j] = -two * abs(z_row[j])
        _exp_row(e, bits, m)
        if act == TANH:
            for j in range(m):
                h_row[j] = _tanh_from(z_row[j], e[j])
        else:
            for j in range(m):
                h_row[j] = _sigmoid_from(z_row[j], e[j], one)
    elif act == RELU or act == LEAKY_RELU:
        for j in range(m):
            v = z_row[j]
            h_row[j] = v if (v > 0 or v != v) else slope * v   # slope 0 for relu
    else:
        for j in range(m):
            h_row[j] = z_row[j]


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FASTMATH, inline="always")
def _forward_step(x, wp, up, bp, g, act, alpha, zg, cs, tcs, hs, s, t, nt, small):
    """Step s, every sample, units block t of nt: that block's z = x_s·W + h_{s−1}·U as one
    product each (its gate columns side by side in wp, up, bp: _thread_order), then the
    cell. zg (T, N, g·m): the LSTM's gates after their functions in Keras's order, or the
    SimpleRNN's pre-activations; cs, tcs (LSTM only) c_t and tanh(c_t), hs h_t (T, N, m)."""
    n, m = x.shape[0], up.shape[0]
    j0, j1 = thread_block(m, t, nt)
    if j0 >= j1:
        return
    mb = j1 - j0
    c0, c1 = g * j0, g * j1
    dt = zg.dtype
    one = np.ones(1, dtype=dt)[0]
    bb = bp[c0:c1]
    # every product on 'A'-layout views ([:, :]): one compiled gemm per transposition
    # instead of one per mix of layouts
    if g == 4:
        z = np.empty((n, 4 * mb), dtype=dt)    # this block's gates, side by side
        target = z[:, :]
    else:
        z = np.empty((0, 0), dtype=dt)
        target = zg[s][:, c0:c1]
    if n == 1 and nt == 1:
        # one sequence: vector-matrix products (BLAS gemv). Asked as one-row gemms, the
        # AVX2 kernels of OpenBLAS (Haswell, Zen) packed both operands at every step: a
        # one-sequence LSTM(128) prediction took 1.31 ms with them against 0.17 ms with the
        # AVX-512 ones, whose small-matrix kernels skip the packing
        row = z[0] if g == 4 else zg[s, 0]
        np.dot(x[0, s], wp, row)
        if s > 0:
            row += np.dot(hs[s - 1, 0], up)
    else:
        gemm(x[:, s], wp[:, c0:c1], target, False, False, 0.0)
        if s > 0:
            gemm_blocks(hs[s - 1][:, :], up[:, c0:c1], target, False, False, 1.0, small)
    if g == 4:
        e = np.empty(4 * mb, dtype=dt)      # exp(−|z|) per gate column (−2|z| for g)
        ec = np.empty(mb, dtype=dt)         # exp(−2|c|)
        bits = np.empty(4 * mb, dtype=np.int32)
        sp = s - 1 if s > 0 else 0
        for r in range(n):
            _lstm_cell_row(z[r], bb, cs[sp, r, j0:j1], s == 0, cs[s, r, j0:j1],
                           tcs[s, r, j0:j1], hs[s, r, j0:j1], e, ec, bits, one)
            _gates_out(z[r], zg[s, r], j0, m)
    else:
        slope = np.full(1, alpha if act == LEAKY_RELU else 0.0, dtype=dt)[0]
        e = np.empty(mb, dtype=dt)
        bits = np.empty(mb, dtype=np.int32)
        for r in range(n):
            _rnn_cell_row(zg[s, r, j0:j1], bb, act, slope, hs[s, r, j0:j1], e, bits, one)


# The step kernels are inlined here (their one caller), under the same flags: compiled on
# their own too, each step's code was optimised and compiled once more.
@njit(cache=True, nogil=True, error_model="numpy", fastmath=FASTMATH)
def _forward_part(t, nt, s0, s1, x, wp, up, bp, g, act, alpha, zg, cs, tcs, hs, small):
    """Steps s0..s1-1 of thread t's block of units (W, U, b in _thread_order)."""
    for s in range(s0, s1):
        _forward_step(x, wp, up, bp, g, act, alpha, zg, cs, tcs, hs, s, t, nt, small)


@njit(cache=True, nogil=True)
def _forward_loop(addr, tag, nt, n_steps, args):
    """LSTM (g = 4) or SimpleRNN (g = 1) forward through every step: _forward_part at
    `addr` (fanout) on nt threads, which meet once per step: h_t must be whole before step
    t+1. One block runs every step in one go (a parallel launch per step cost a
    one-sequence prediction ~30 % more). Returns fanout's status."""
    for k in range(1 if nt == 1 else n_steps):
        s0, s1 = (0, n_steps) if nt == 1 else (k, k + 1)
        status = fanout.fan_or_here(addr, tag, nt, (s0, s1) + args)
        if status != fanout.RAN:
            return status
    return fanout.RAN


# ---------------------------------------------------------------- backward


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FASTMATH)
def _lstm_grad_row(g_row, c_prev, first, tc_row, dy_row, arrives, dh_next, dc_next, z_row,
                   dh_row, one, j0, m):
    """One sample's step backwards for units j0:j0+mb: ∂L/∂h_t (what arrives from above, if
    anything, plus dh_next through step t+1), then ∂L/∂z_t of each gate into z_row (4m,
    Keras's order, like g_row); dc_next becomes ∂L/∂c_{t−1}. Unsigned indices: SIMD loops
    (see _lstm_cell_row)."""
    mb = uint64(dh_row.shape[0])
    oi = uint64(j0)
    of = oi + uint64(m)
    og = of + uint64(m)
    oo = og + uint64(m)
    if arrives:
        for j in range(mb):
            dh_next[j] += dy_row[j]
    # short loops over few arrays each (see _lstm_cell_row); dc_next holds ∂L/∂c_t
    for j in range(mb):
        dh_row[j] = dh_next[j]
    for j in range(mb):
        o, tc = g_row[oo + j], tc_row[j]
        dc_next[j] += dh_row[j] * o * (one - tc * tc)
    for j in range(mb):
        o, tc = g_row[oo + j], tc_row[j]
        z_row[oo + j] = dh_row[j] * tc * o * (one - o)                  # output gate
    for j in range(mb):
        i, gv = g_row[oi + j], g_row[og + j]
        z_row[oi + j] = dc_next[j] * gv * i * (one - i)                 # input gate
    for j in range(mb):
        i, gv = g_row[oi + j], g_row[og + j]
        z_row[og + j] = dc_next[j] * i * (one - gv * gv)                # candidate
    if first:
        for j in range(mb):
            z_row[of + j] = dc_next[j] * (one - one)                    # forget gate: c_{−1} = 0
    else:
        for j in range(mb):
            f = g_row[of + j]
            z_row[of + j] = dc_next[j] * c_prev[j] * f * (one - f)      # forget gate
    for j in range(mb):
        dc_next[j] *= g_row[of + j]                                     # ∂L/∂c_{t−1}


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FASTMATH)
def _rnn_grad_row(z_row, h_row, dy_row, arrives, act, leak, dh_next, d_row, dh_row, one):
    """One sample's step backwards: ∂L/∂h_t into dh_row, ∂L/∂z_t = f'(z_t)·∂L/∂h_t into d_row."""
    m = uint64(z_row.shape[0])
    if arrives:
        for j in range(m):
            dh_next[j] += dy_row[j]
    for j in range(m):
        dh_row[j] = dh_next[j]
    if act == TANH:
        for j in range(m):
            h = h_row[j]
            d_row[j] = dh_next[j] * (one - h * h)
    elif act == SIGMOID:
        for j in range(m):
            h = h_row[j]
            d_row[j] = dh_next[j] * h * (one - h)
    elif act == RELU or act == LEAKY_RELU:
        for j in range(m):
            v, dh = z_row[j], dh_next[j]
            # z <= 0 multiplies (NaN/inf arriving stay visible); a NaN z gives NaN
            d_row[j] = dh if v > 0 else (dh * leak if v <= 0 else v)
    else:
        for j in range(m):
            d_row[j] = dh_next[j]


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FASTMATH)
def _add_outer(a, v, out):
    """out (len(a), len(v)) += a ⊗ v, row by row (SIMD over v)."""
    n_cols = uint64(v.shape[0])
    for i in range(a.shape[0]):
        ai = a[i]
        row = out[i]
        for j in range(n_cols):
            row[j] += ai * v[j]


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FASTMATH)
def _weight_grads_step(x, hs, dz, dw, du, db_sum, s, t, nt, small):
    """Gate columns block t of nt of step s's share of the weight gradients:
    dW += x_sᵀ·dz_s, dU += h_{s−1}ᵀ·dz_s, db += Σ dz_s (float64 sums). Done step by step
    while dz_s is still in the cache: one product over every step at once reads operands
    bigger than the cache, and ran ~25 % slower (dW ~2x) on this machine's L2."""
    c0, c1 = thread_block(dz.shape[2], t, nt)
    if c0 >= c1:
        return
    d = dz[s]
    if d.shape[0] == 1 and nt == 1:
        # one sequence: rank-one updates, written out (as one-row gemms they were packed at
        # every step by OpenBLAS's AVX2 kernels, see _forward_step)
        _add_outer(x[0, s], d[0], dw)
        if s > 0:
            _add_outer(hs[s - 1, 0], d[0], du)
    else:
        gemm(x[:, s], d[:, c0:c1], dw[:, c0:c1], True, False, 1.0)
        if s > 0:
            gemm_blocks(hs[s - 1][:, :], d[:, c0:c1], du[:, c0:c1], True, False, 1.0, small)
    for r in range(d.shape[0]):
        row = dz[s, r]
        for j in range(c0, c1):
            db_sum[j] += row[j]


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FASTMATH, inline="always")
def _backward_step(x, u, g, act, alpha, zg, cs, tcs, hs, dy, dz, dhs, dh_next, dc_next, dw,
                   du, db_sum, s, t, nt, small):
    """Step s backwards, every sample, units block t of nt. First what step s+1's dz
    (whole: the threads met since) gives: ∂L/∂h_s through it for this block's units,
    dh_next = dz_{s+1}·U[units]ᵀ, and gate columns block t of its weight-gradient terms.
    Then this block's dz_s and ∂L/∂h_s."""
    n_steps, n, m = zg.shape[0], zg.shape[1], u.shape[0]
    j0, j1 = thread_block(m, t, nt)
    if s + 1 < n_steps:
        _weight_grads_step(x, hs, dz, dw, du, db_sum, s + 1, t, nt, small)
        if n == 1 and nt == 1:
            np.dot(u, dz[s + 1, 0], dh_next[0])     # one sequence: gemv (see _forward_step)
        elif j0 < j1:
            gemm_blocks(dz[s + 1][:, :], u[j0:j1, :], dh_next[:, j0:j1], False, True, 0.0,
                        small)
    if j0 >= j1:
        return
    one = np.ones(1, dtype=zg.dtype)[0]
    every_step = dy.shape[1] > 1
    arrives = every_step or s == n_steps - 1
    ds = s if every_step else 0
    if g == 4:
        sp = s - 1 if s > 0 else 0
        for r in range(n):
            _lstm_grad_row(zg[s, r], cs[sp, r, j0:j1], s == 0, tcs[s, r, j0:j1],
                           dy[r, ds, j0:j1], arrives, dh_next[r, j0:j1], dc_next[r, j0:j1],
                           dz[s, r], dhs[s, r, j0:j1], one, j0, m)
    else:
        leak = np.full(1, alpha if act == LEAKY_RELU else 0.0, dtype=zg.dtype)[0]
        for r in range(n):
            _rnn_grad_row(zg[s, r, j0:j1], hs[s, r, j0:j1], dy[r, ds, j0:j1], arrives, act,
                          leak, dh_next[r, j0:j1], dz[s, r, j0:j1], dhs[s, r, j0:j1], one)


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FASTMATH, inline="always")
def _finish_block(x, w, hs, dz, dw, du, db, db_sum, need_dx, dxt, finite, t, nt, small):
    """Block t of nt once every dz is known: step 0's weight-gradient terms and db for gate
    columns block t (finite[t]: all finite), and rows block t of dx = dz·Wᵀ (time-major)."""
    _weight_grads_step(x, hs, dz, dw, du, db_sum, np.int64(0), t, nt, small)
    c0, c1 = thread_block(dz.shape[2], t, nt)
    ok = True
    for j in range(c0, c1):
        db[j] = db_sum[j]
        ok = ok and db[j] * 0.0 == 0.0
    finite[t] = ok and all_finite_2d(dw[:, c0:c1]) and all_finite_2d(du[:, c0:c1])
    if need_dx:
        dzf = dz.reshape(dz.shape[0] * dz.shape[1], dz.shape[2])
        r0, r1 = fanout.part(t, nt, dzf.shape[0])
        if r0 < r1:
            gemm(dzf[r0:r1, :], w[:, :], dxt[r0:r1, :], False, True, 0.0)


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FASTMATH)
def _backward_part(t, nt, s0, s1, x, w, u, g, act, alpha, zg, cs, tcs, hs, dy, need_dx, dz,
                   dhs, dw, du, db, dxt, dh_next, dc_next, db_sum, finite, small):
    """Steps s0 down to s1+1 of thread t's block; the pass after step 0 (s = -1) finishes
    the gradients."""
    for s in range(s0, s1, -1):
        if s >= 0:
            _backward_step(x, u, g, act, alpha, zg, cs, tcs, hs, dy, dz, dhs, dh_next,
                           dc_next, dw, du, db_sum, s, t, nt, small)
        else:
            _finish_block(x, w, hs, dz, dw, du, db, db_sum, need_dx, dxt, finite, t, nt,
                          small)


@njit(cache=True, nogil=True)
def _backward_loop(addr, tag, nt, n_steps, args):
    """LSTM (g = 4) or SimpleRNN (g = 1) backpropagation through time: _backward_part at
    `addr` on nt threads, units shared out per step as in the forward pass, the weight
    gradients step by step, then the pass that finishes them. dw, du, dh_next, dc_next
    and db_sum come zeroed. Returns fanout's status."""
    for k in range(1 if nt == 1 else n_steps + 1):
        s0, s1 = (n_steps - 1, -2) if nt == 1 else (n_steps - 1 - k, n_steps - 2 - k)
        status = fanout.fan_or_here(addr, tag, nt, (s0, s1) + args)
        if status != fanout.RAN:
            return status
    return fanout.RAN


# ---------------------------------------------------------------- the layers' fast path


def _chunks(n, m, gates, chunks):
    if chunks is not None:
        return max(1, int(chunks))
    nt = _threads.n_chunks()
    work = n * m * gates * m   # one step's h·U
    blocks = (m + 15) // 16    # units are shared out in blocks of 16
    return min(nt, blocks) if nt > 1 and work >= PARALLEL_MIN_WORK else 1


_small = []     # small_product_limit(), looked up once


def _run(key, loop, part, args, nt, n_steps, mode):
    """loop(addr, tag, nt, n_steps, args + (small,)) with `part`'s address (fanout) on nt
    threads (or the faster way, _threads.run); small: the limit below which the per-step
    products are asked of BLAS in small blocks (blas.gemm_blocks)."""
    if not _small:
        _small.append(small_product_limit())
    args = (*args, _small[0])

    def go():
        fanout.with_address(part, (0, 0) + args,
                            lambda addr, tag: loop(addr, tag, nt, n_steps, args))
    if nt > 1:
        return _threads.run(key, go, None, mode=mode)
    return go()  # one block: on the calling thread alone (fan_or_here launches nothing)


def _forward(key, x, w, u, b, g, act, alpha, zg, cs, tcs, hs, nt, mode):
    wp, up, bp = _thread_order(w, u, b, g, nt)
    _run(key, _forward_loop, _forward_part, (x, wp, up, bp, g, act, alpha, zg, cs, tcs, hs),
         nt, x.shape[1], mode)


def lstm_forward_planned(x, w, u, b, chunks=None, mode=None):
    """Trusted fast path: x (N, T, F) → (gates (T, N, 4m): i, f, g, o after their functions,
    cs, tanh(cs), hs (T, N, m))."""
    n, n_steps, _ = x.shape
    m = u.shape[0]
    gates = np.empty((n_steps, n, 4 * m), dtype=x.dtype)
    cs, tcs, hs = (np.empty((n_steps, n, m), dtype=x.dtype) for _ in range(3))
    nt = _chunks(n, m, 4, chunks)
    _forward(("lstm forward", x.shape, m), x, w, u, b, 4, 0, 0.0, gates, cs, tcs, hs, nt, mode)
    return gates, cs, tcs, hs


def _last_or_all(dy, n_steps):
    """dy (N, m) for the last step only, or (N, T, m) for every step, as (N, T or 1, m)."""
    return dy[:, None, :] if dy.ndim == 2 else dy


def _backward_buffers(x, u, n_steps, k, need_input_grad, nt):
    n, _, f_in = x.shape
    m = u.shape[0]
    dt = x.dtype
    dz = np.empty((n_steps, n, k), dtype=dt)
    dhs = np.empty((n_steps, n, m), dtype=dt)
    dxt = np.empty((n_steps * n, f_in) if need_input_grad else (0, f_in), dtype=dt)
    return (dz, dhs, np.zeros((f_in, k), dt), np.zeros((m, k), dt), np.empty(k, dt), dxt,
            np.zeros((n, m), dt), np.zeros((n, m), dt), np.zeros(k, np.float64),
            np.empty(nt, np.bool_))


def _input_grad(dxt, n, n_steps, need_input_grad):
    if not need_input_grad:
        return None
    return np.ascontiguousarray(dxt.reshape(n_steps, n, -1).transpose(1, 0, 2))   # (N, T, F)


def _backward(key, x, w, u, g, act, alpha, zg, cs, tcs, hs, dy, need_input_grad, chunks, mode):
    n, n_steps, _ = x.shape
    m = u.shape[0]
    nt = _chunks(n, m, g, chunks)
    bufs = _backward_buffers(x, u, n_steps, g * m, need_input_grad, nt)
    dz, dhs, dw, du, db, dxt = bufs[:6]
    finite = bufs[-1]
    _run(key, _backward_loop, _backward_part,
         (x, w, u, g, act, alpha, zg, cs, tcs, hs, _last_or_all(dy, n_steps),
          need_input_grad, dz, dhs, dw, du, db, dxt, *bufs[6:]), nt, n_steps, mode)
    return _input_grad(dxt, n, n_steps, need_input_grad), dw, du, db, dhs, bool(finite.all())


def lstm_backward_planned(x, w, u, gates, cs, tcs, hs, dy, need_input_grad=True, chunks=None,
                          mode=None):
    """Trusted fast path: dy (N, m) for the last step's h or (N, T, m) for every step's →
    (dx (N, T, F) or None, dW, dU, db, dhs (T, N, m) ∂L/∂h_t by every path, all finite)."""
    return _backward(("lstm backward", x.shape, u.shape[0], need_input_grad), x, w, u, 4, 0,
                     0.0, gates, cs, tcs, hs, dy, need_input_grad, chunks, mode)


def _no_cell(hs):
    """The SimpleRNN's stand-in for the LSTM's cell arrays (never read)."""
    return np.empty((0,) + hs.shape[1:], dtype=hs.dtype)


def rnn_forward_planned(x, w, u, b, activation="tanh", alpha=0.0, chunks=None, mode=None):
    """Trusted fast path: x (N, T, F) → (zs, hs) (T, N, m), hs = activation(zs)."""
    n, n_steps, _ = x.shape
    m = u.shape[0]
    zs, hs = (np.empty((n_steps, n, m), dtype=x.dtype) for _ in range(2))
    nt = _chunks(n, m, 1, chunks)
    cell = _no_cell(hs)
    _forward(("rnn forward", x.shape, m), x, w, u, b, 1, ACTIVATION_CODES[activation],
             float(alpha), zs, cell, cell, hs, nt, mode)
    return zs, hs


def rnn_backward_planned(x, w, u, zs, hs, dy, activation="tanh", alpha=0.0,
                         need_input_grad=True, chunks=None, mode=None):
    """Trusted fast path, as lstm_backward_planned for a SimpleRNN."""
    cell = _no_cell(hs)
    return _backward(("rnn backward", x.shape, u.shape[0], need_input_grad), x, w, u, 1,
                     ACTIVATION_CODES[activation], float(alpha), zs, cell, cell, hs, dy,
                     need_input_grad, chunks, mode)



# ---------------------------------------------------------------- checked entry points


def _check(x, w, u, b, gates):
    x = as_float_array("x", x, ndim=3)
    w = as_float_array("kernel", w, ndim=2)
    u = as_float_array("recurrent_kernel", u, ndim=2)
    b = as_float_array("bias", b, ndim=1)
    same_dtype(x=x, kernel=w, recurrent_kernel=u, bias=b)
    m = u.shape[0]
    if u.shape != (m, gates * m):
        raise ValueError(f"recurrent_kernel must have shape (units, {gates} × units), got {u.shape}")
    if w.shape != (x.shape[2], gates * m):
        raise ValueError(f"kernel must have shape ({x.shape[2]}, {gates * m}) for {x.shape[2]} "
                         f"features, got {w.shape}")
    if b.shape != (gates * m,):
        raise ValueError(f"bias must have shape ({gates * m},), got {b.shape}")
    if x.shape[1] < 1:
        raise ValueError("a sequence needs at least one time step")
    return x, w, u, b


def _check_dy(dy, x, m, dtype):
    dy = as_float_array("dy", dy)
    n, n_steps = x.shape[0], x.shape[1]
    if dy.shape not in ((n, m), (n, n_steps, m)):
        raise ValueError(f"dy must have shape {(n, m)} (last step) or {(n, n_steps, m)} "
                         f"(every step), got {dy.shape}")
    same_dtype(x=x, dy=dy)
    return dy


def lstm_forward(x, w, u, b):
    """Every step's hidden state (N, T, m) of an LSTM (Keras's weights and gate order)."""
    x, w, u, b = _check(x, w, u, b, 4)
    return np.ascontiguousarray(lstm_forward_planned(x, w, u, b)[3].transpose(1, 0, 2))


def lstm_backward(x, w, u, b, dy, need_input_grad=True):
    """(dx, dW, dU, db) of an LSTM given dy = ∂L/∂h: (N, m) for the last step, (N, T, m) for
    every step. Runs the forward pass again for what backward needs."""
    x, w, u, b = _check(x, w, u, b, 4)
    dy = _check_dy(dy, x, u.shape[0], x.dtype)
    state = lstm_forward_planned(x, w, u, b)
    return lstm_backward_planned(x, w, u, *state, dy, bool(need_input_grad))[:4]


def _activation(activation, alpha):
    if activation not in ACTIVATION_CODES:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATION_CODES)}, got "
                         f"{activation!r}")
    return activation, float(alpha)


def rnn_forward(x, w, u, b, activation="tanh", alpha=0.0):
    """Every step's hidden state (N, T, m) of a SimpleRNN."""
    x, w, u, b = _check(x, w, u, b, 1)
    activation, alpha = _activation(activation, alpha)
    hs = rnn_forward_planned(x, w, u, b, activation, alpha)[1]
    return np.ascontiguousarray(hs.transpose(1, 0, 2))


def rnn_backward(x, w, u, b, dy, activation="tanh", alpha=0.0, need_input_grad=True):
    """(dx, dW, dU, db) of a SimpleRNN, as lstm_backward."""
    x, w, u, b = _check(x, w, u, b, 1)
    activation, alpha = _activation(activation, alpha)
    dy = _check_dy(dy, x, u.shape[0], x.dtype)
    zs, hs = rnn_forward_planned(x, w, u, b, activation, alpha)
    return rnn_backward_planned(x, w, u, zs, hs, dy, activation, alpha,
                                bool(need_input_grad))[:4]
