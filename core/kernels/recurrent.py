"""Recurrent layer kernels: LSTM and SimpleRNN over all time steps, forward and exact BPTT.

The readable form of the same numbers is recurrent_ref.py; this file is about speed.

Layout. The input x is the layer's (N, T, F); everything a kernel keeps for the backward
pass is time-major, (T, N, ·), so that one step's rows are one contiguous block (BLAS takes
them as they are) and the recurrent weights' gradient is one product over every step at
once: dU = Σ_t h_{t−1}ᵀ·dz_t is h[0:T−1] (flat) transposed times dz[1:T] (flat).

Per step, for a block of samples: z_t = x_t·W + h_{t−1}·U (two BLAS products written
straight into z_t's rows of the state buffer, no temporaries), then one fused pass per
sample adds the bias, applies the gate functions, updates the cell and writes h_t. The
gate functions need exp; Numba's calls the C library one number at a time, so float32
uses the SIMD exp of fast_exp.py (exp of −|z| only: σ(z) and tanh(z) are written from
that, which never overflows), float64 (the tests' precision) keeps np.exp / np.tanh. The
LSTM keeps tanh(c_t) too, so that the backward pass needs no transcendental at all.

Threads. Samples never meet in a recurrent layer, so a batch is split into one block of
samples per thread and each thread runs the whole time loop on its block (no meeting point
per step); the weight gradients after the loop are split by blocks of the gate columns.
The blocks are fixed by the sizes and the thread count: the result does not depend on
timing. Whether the threads or one core is faster right now is measured per call site
(_threads.run); one core runs the same compiled code (no second driver to compile).

The `*_planned` functions are the trusted fast path the layers use: no checks, so the
arrays must be C-contiguous, writeable and of one float dtype. `lstm_forward` /
`lstm_backward` / `rnn_forward` / `rnn_backward` check their arguments first.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange, types, uint64
from numba.extending import overload

from . import _threads
from ._common import FASTMATH, all_finite_2d, as_float_array, same_dtype
from .blas import gemm
from .fast_exp import _C1, _C2, _LOG2E, _LOW, _P

__all__ = ["lstm_forward", "lstm_backward", "rnn_forward", "rnn_backward",
           "lstm_forward_planned", "lstm_backward_planned",
           "rnn_forward_planned", "rnn_backward_planned", "ACTIVATION_CODES"]

#: SimpleRNN activations by the code the kernels take
LINEAR, TANH, RELU, SIGMOID, LEAKY_RELU = 0, 1, 2, 3, 4
ACTIVATION_CODES = {"linear": LINEAR, "tanh": TANH, "relu": RELU, "sigmoid": SIGMOID,
                    "leaky_relu": LEAKY_RELU}

# Below this many multiply-adds per time step a batch stays on one core: waking threads
# would cost more than they save (one sequence, a lesson's tiny network).
PARALLEL_MIN_WORK = 1 << 18

_TANH_SMALL = np.float32(0.625)  # below it, tanh by Cephes's polynomial (1 − e over 1 + e cancels)
_TP = tuple(np.float32(v) for v in (-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2,
                                    1.33314422036e-1, -3.33332819422e-1))


# ---------------------------------------------------------------- element-wise pieces


def _exp_row(a, bits, n):
    """a[:n] = exp(a[:n]) for a[:n] <= 0 (jitted code only, see the overload)."""
    raise NotImplementedError


@overload(_exp_row)
def _exp_row_impl(a, bits, n):
    if a.dtype != types.float32:
        def plain(a, bits, n):
            for i in range(uint64(n)):
                a[i] = np.exp(a[i])
        return plain

    def simd(a, bits, n):  # fast_exp's Cephes expf, into a scratch row the caller keeps
        n = uint64(n)
        for i in range(n):
            x = a[i]
            x = _LOW if x < _LOW else x
            k = np.floor(x * _LOG2E + np.float32(0.5))
            r = x - k * _C1 - k * _C2
            p = _P[0]
            p = p * r + _P[1]
            p = p * r + _P[2]
            p = p * r + _P[3]
            p = p * r + _P[4]
            p = p * r + _P[5]
            a[i] = p * r * r + r + np.float32(1.0)
            kk = np.int32(k) if k == k else np.int32(0)
            bits[i] = (kk + np.int32(127)) << np.int32(23)
        scale = bits.view(np.float32)
        for i in range(n):
            a[i] = a[i] * scale[i]
    return simd


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
def _block(size, t, nt):
    """Block t of nt over range(size)."""
    step = (size + nt - 1) // nt
    return min(size, t * step), min(size, (t + 1) * step)


@njit(cache=True, nogil=True)
def _column_block(size, t, nt):
    """Block t of nt of gate columns, on multiples of 16 (64 bytes of float32): two threads
    never write the same cache line of a row."""
    step = ((size + nt - 1) // nt + 15) // 16 * 16
    return min(size, t * step), min(size, (t + 1) * step)


# ---------------------------------------------------------------- LSTM forward


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FASTMATH)
def _lstm_cell_row(row, b, c_prev, first, c_row, tc_row, h_row, e, ec, bits, one):
    """One sample's step after z = x_t·W + h_{t−1}·U is in `row` (4m): bias, gate
    functions (row ends as i, f, g, o), c_t, tanh(c_t), h_t. 1-D rows and unsigned
    indices, so that every loop runs in SIMD lanes (a signed index might be negative, and
    Numba's wrap-around for it keeps LLVM from vectorising)."""
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
def _lstm_forward_rows(x, w, u, b, gates, cs, tcs, hs, r0, r1):
    """Samples r0:r1 through every step: gates (T, N, 4m) ends as i, f, g, o after their
    functions; cs the cell states, tcs tanh of them, hs the hidden states (T, N, m)."""
    n_steps = x.shape[1]
    m = u.shape[0]
    if r0 >= r1:
        return
    dt = gates.dtype
    one = np.ones(1, dtype=dt)[0]
    e = np.empty(4 * m, dtype=dt)       # exp(−|z|) per gate column (−2|z| for the candidate)
    ec = np.empty(m, dtype=dt)          # exp(−2|c|)
    bits = np.empty(4 * m, dtype=np.int32)
    for s in range(n_steps):
        z = gates[s, r0:r1]
        gemm(x[r0:r1, s], w, z, False, False, 0.0)            # x_t·W
        if s > 0:
            gemm(hs[s - 1, r0:r1], u, z, False, False, 1.0)   # + h_{t−1}·U
        for n in range(r0, r1):
            _lstm_cell_row(gates[s, n], b, cs[s - 1 if s > 0 else 0, n], s == 0, cs[s, n],
                           tcs[s, n], hs[s, n], e, ec, bits, one)


@njit(cache=True, nogil=True, parallel=True)
def _lstm_forward_threads(x, w, u, b, gates, cs, tcs, hs, nt):
    for t in prange(nt):
        r0, r1 = _block(x.shape[0], t, nt)
        _lstm_forward_rows(x, w, u, b, gates, cs, tcs, hs, r0, r1)


# ---------------------------------------------------------------- LSTM backward


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FASTMATH)
def _lstm_grad_row(g_row, c_prev, first, tc_row, dy_row, arrives, dh_next, dc_next, z_row,
                   dh_row, one):
    """One sample's step backwards: ∂L/∂h_t (what arrives from above, if anything, plus
    dh_next through step t+1), then ∂L/∂z_t of each gate into z_row; dc_next becomes
    ∂L/∂c_{t−1}. Unsigned indices: SIMD loops (see _lstm_cell_row)."""
    m = uint64(dh_row.shape[0])
    m2, m3 = m + m, m + m + m
    if arrives:
        for j in range(m):
            dh_next[j] += dy_row[j]
    # short loops over few arrays each (see _lstm_cell_row); dc_next holds ∂L/∂c_t
    for j in range(m):
        dh_row[j] = dh_next[j]
    for j in range(m):
        o, tc = g_row[m3 + j], tc_row[j]
        dc_next[j] += dh_row[j] * o * (one - tc * tc)
    for j in range(m):
        o, tc = g_row[m3 + j], tc_row[j]
        z_row[m3 + j] = dh_row[j] * tc * o * (one - o)                  # output gate
    for j in range(m):
        i, g = g_row[j], g_row[m2 + j]
        z_row[j] = dc_next[j] * g * i * (one - i)                       # input gate
    for j in range(m):
        i, g = g_row[j], g_row[m2 + j]
        z_row[m2 + j] = dc_next[j] * i * (one - g * g)                  # candidate
    if first:
        for j in range(m):
            z_row[m + j] = dc_next[j] * (one - one)                     # forget gate: c_{−1} = 0
    else:
        for j in range(m):
            f = g_row[m + j]
            z_row[m + j] = dc_next[j] * c_prev[j] * f * (one - f)       # forget gate
    for j in range(m):
        dc_next[j] *= g_row[m + j]                                      # ∂L/∂c_{t−1}


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FASTMATH)
def _lstm_backward_rows(dy, u, gates, cs, tcs, dz, dhs, r0, r1):
    """BPTT for samples r0:r1: dz (T, N, 4m) = ∂L/∂z per step, dhs (T, N, m) = ∂L/∂h per
    step (every path). dy is (N, T, m), or (N, 1, m) when only the last step's h is output."""
    n_steps, m = gates.shape[0], u.shape[0]
    rows = r1 - r0
    if rows <= 0:
        return
    dt = gates.dtype
    one = np.ones(1, dtype=dt)[0]
    dh_next = np.zeros((rows, m), dtype=dt)   # ∂L/∂h_t through step t+1 (dz_{t+1}·Uᵀ)
    dc_next = np.zeros((rows, m), dtype=dt)   # ∂L/∂c_t through step t+1
    every_step = dy.shape[1] > 1
    for s in range(n_steps - 1, -1, -1):
        if s < n_steps - 1:
            gemm(dz[s + 1, r0:r1], u, dh_next, False, True, 0.0)
        arrives = every_step or s == n_steps - 1
        ds = s if every_step else 0
        for n in range(r0, r1):
            k = n - r0
            _lstm_grad_row(gates[s, n], cs[s - 1 if s > 0 else 0, n], s == 0, tcs[s, n],
                           dy[n, ds], arrives, dh_next[k], dc_next[k], dz[s, n], dhs[s, n], one)


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FASTMATH)
def _weight_grads_columns(xt, hsf, dzf, n_batch, dw, du, db, finite, t, nt):
    """Gate columns block t of nt of dW = Σ_t x_tᵀ·dz_t, dU = Σ_t h_{t−1}ᵀ·dz_t and
    db = Σ dz (float64 sums), each one product over every step; finite[t]: all finite."""
    k = dzf.shape[1]
    c0, c1 = _column_block(k, t, nt)
    finite[t] = True
    if c0 >= c1:
        return
    gemm(xt, dzf[:, c0:c1], dw[:, c0:c1], True, False, 0.0)
    rows = hsf.shape[0] - n_batch     # (T−1)·N pairs (h_{t−1}, dz_t); none when T = 1
    if rows > 0:
        gemm(hsf[:rows], dzf[n_batch:, c0:c1], du[:, c0:c1], True, False, 0.0)
    else:
        du[:, c0:c1] = 0.0
    acc = np.zeros(c1 - c0, dtype=np.float64)
    for r in range(dzf.shape[0]):
        for j in range(c0, c1):
            acc[j - c0] += dzf[r, j]
    ok = True
    for j in range(c0, c1):
        db[j] = acc[j - c0]
        ok = ok and db[j] * 0.0 == 0.0
    finite[t] = ok and all_finite_2d(dw[:, c0:c1]) and all_finite_2d(du[:, c0:c1])


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FASTMATH)
def _input_grad_rows(dzf, w, dxt, t, nt):
    """Rows block t of nt of dx = dz·Wᵀ (time-major rows)."""
    r0, r1 = _block(dzf.shape[0], t, nt)
    if r0 < r1:
        gemm(dzf[r0:r1], w, dxt[r0:r1], False, True, 0.0)


@njit(cache=True, nogil=True, parallel=True)
def _lstm_backward_threads(x, w, u, gates, cs, tcs, hs, dy, need_dx, dz, dhs, dw, du, db,
                           dxt, nt):
    n = gates.shape[1]
    for t in prange(nt):
        r0, r1 = _block(n, t, nt)
        _lstm_backward_rows(dy, u, gates, cs, tcs, dz, dhs, r0, r1)
    return _finish_backward(x, w, hs, dz, need_dx, dw, du, db, dxt, nt)


@njit(cache=True, nogil=True, parallel=True)
def _finish_backward(x, w, hs, dz, need_dx, dw, du, db, dxt, nt):
    """The weight gradients (and dx) once every step's dz is known: all finite?"""
    n, n_steps, f_in = x.shape
    xt = np.empty((n_steps, n, f_in), dtype=x.dtype)   # time-major, like dz
    for s in range(n_steps):
        xt[s] = x[:, s]
    xtf = xt.reshape(n_steps * n, f_in)
    hsf = hs.reshape(n_steps * n, hs.shape[2])
    dzf = dz.reshape(n_steps * n, dz.shape[2])
    finite = np.empty(nt, dtype=np.bool_)
    for t in prange(nt):
        _weight_grads_columns(xtf, hsf, dzf, n, dw, du, db, finite, t, nt)
    if need_dx:
        for t in prange(nt):
            _input_grad_rows(dzf, w, dxt, t, nt)
    return finite.all()


# ---------------------------------------------------------------- SimpleRNN


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


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FASTMATH)
def _rnn_forward_rows(x, w, u, b, act, alpha, zs, hs, r0, r1):
    """Samples r0:r1 through every step: zs the pre-activations, hs = f(zs) (T, N, m)."""
    n_steps, m = x.shape[1], u.shape[0]
    if r0 >= r1:
        return
    one = np.ones(1, dtype=zs.dtype)[0]
    slope = np.full(1, alpha if act == LEAKY_RELU else 0.0, dtype=zs.dtype)[0]
    e = np.empty(m, dtype=zs.dtype)
    bits = np.empty(m, dtype=np.int32)
    for s in range(n_steps):
        z = zs[s, r0:r1]
        gemm(x[r0:r1, s], w, z, False, False, 0.0)
        if s > 0:
            gemm(hs[s - 1, r0:r1], u, z, False, False, 1.0)
        for n in range(r0, r1):
            _rnn_cell_row(zs[s, n], b, act, slope, hs[s, n], e, bits, one)


@njit(cache=True, nogil=True, parallel=True)
def _rnn_forward_threads(x, w, u, b, act, alpha, zs, hs, nt):
    for t in prange(nt):
        r0, r1 = _block(x.shape[0], t, nt)
        _rnn_forward_rows(x, w, u, b, act, alpha, zs, hs, r0, r1)


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
def _rnn_backward_rows(dy, u, act, alpha, zs, hs, dz, dhs, r0, r1):
    """BPTT for samples r0:r1: dz = ∂L/∂z_t, dhs = ∂L/∂h_t per step (T, N, m)."""
    n_steps, m = zs.shape[0], u.shape[0]
    rows = r1 - r0
    if rows <= 0:
        return
    dh_next = np.zeros((rows, m), dtype=zs.dtype)
    one = np.ones(1, dtype=zs.dtype)[0]
    leak = np.full(1, alpha if act == LEAKY_RELU else 0.0, dtype=zs.dtype)[0]
    every_step = dy.shape[1] > 1
    for s in range(n_steps - 1, -1, -1):
        if s < n_steps - 1:
            gemm(dz[s + 1, r0:r1], u, dh_next, False, True, 0.0)
        arrives = every_step or s == n_steps - 1
        ds = s if every_step else 0
        for n in range(r0, r1):
            k = n - r0
            _rnn_grad_row(zs[s, n], hs[s, n], dy[n, ds], arrives, act, leak, dh_next[k],
                          dz[s, n], dhs[s, n], one)


@njit(cache=True, nogil=True, parallel=True)
def _rnn_backward_threads(x, w, u, act, alpha, zs, hs, dy, need_dx, dz, dhs, dw, du, db,
                          dxt, nt):
    for t in prange(nt):
        r0, r1 = _block(zs.shape[1], t, nt)
        _rnn_backward_rows(dy, u, act, alpha, zs, hs, dz, dhs, r0, r1)
    return _finish_backward(x, w, hs, dz, need_dx, dw, du, db, dxt, nt)


# ---------------------------------------------------------------- the layers' fast path


def _chunks(n, m, gates, chunks):
    if chunks is not None:
        return max(1, int(chunks))
    nt = _threads.n_chunks()
    work = n * m * gates * m   # one step's h·U
    return min(nt, n) if nt > 1 and n > 1 and work >= PARALLEL_MIN_WORK else 1


def _run(key, fn, args, nt, mode):
    if nt > 1:
        return _threads.run(key, fn, None, *args, mode=mode)
    # one block: on the calling thread alone (no worker woken for nothing)
    return _threads.one_thread(fn, *args) if numba.get_num_threads() > 1 else fn(*args)


def lstm_forward_planned(x, w, u, b, chunks=None, mode=None):
    """Trusted fast path: x (N, T, F) → (gates (T, N, 4m): i, f, g, o after their functions,
    cs, tanh(cs), hs (T, N, m))."""
    n, n_steps, _ = x.shape
    m = u.shape[0]
    gates = np.empty((n_steps, n, 4 * m), dtype=x.dtype)
    cs, tcs, hs = (np.empty((n_steps, n, m), dtype=x.dtype) for _ in range(3))
    nt = _chunks(n, m, 4, chunks)
    _run(("lstm forward", x.shape, m), _lstm_forward_threads,
         (x, w, u, b, gates, cs, tcs, hs, nt), nt, mode)
    return gates, cs, tcs, hs


def _last_or_all(dy, n_steps):
    """dy (N, m) for the last step only, or (N, T, m) for every step, as (N, T or 1, m)."""
    return dy[:, None, :] if dy.ndim == 2 else dy


def _backward_buffers(x, w, u, n_steps, k, need_input_grad):
    n, _, f_in = x.shape
    m = u.shape[0]
    dz = np.empty((n_steps, n, k), dtype=x.dtype)
    dhs = np.empty((n_steps, n, m), dtype=x.dtype)
    dxt = np.empty((n_steps * n, f_in) if need_input_grad else (0, f_in), dtype=x.dtype)
    return dz, dhs, np.empty(w.shape, x.dtype), np.empty(u.shape, x.dtype), np.empty(k, x.dtype), dxt


def _input_grad(dxt, n, n_steps, need_input_grad):
    if not need_input_grad:
        return None
    return np.ascontiguousarray(dxt.reshape(n_steps, n, -1).transpose(1, 0, 2))   # (N, T, F)


def lstm_backward_planned(x, w, u, gates, cs, tcs, hs, dy, need_input_grad=True, chunks=None,
                          mode=None):
    """Trusted fast path: dy (N, m) for the last step's h or (N, T, m) for every step's →
    (dx (N, T, F) or None, dW, dU, db, dhs (T, N, m) ∂L/∂h_t by every path, all finite)."""
    n, n_steps, _ = x.shape
    m = u.shape[0]
    dz, dhs, dw, du, db, dxt = _backward_buffers(x, w, u, n_steps, 4 * m, need_input_grad)
    nt = _chunks(n, m, 4, chunks)
    finite = _run(("lstm backward", x.shape, m, need_input_grad), _lstm_backward_threads,
                  (x, w, u, gates, cs, tcs, hs, _last_or_all(dy, n_steps), need_input_grad,
                   dz, dhs, dw, du, db, dxt, nt), nt, mode)
    return _input_grad(dxt, n, n_steps, need_input_grad), dw, du, db, dhs, bool(finite)


def rnn_forward_planned(x, w, u, b, activation="tanh", alpha=0.0, chunks=None, mode=None):
    """Trusted fast path: x (N, T, F) → (zs, hs) (T, N, m), hs = activation(zs)."""
    n, n_steps, _ = x.shape
    m = u.shape[0]
    zs, hs = (np.empty((n_steps, n, m), dtype=x.dtype) for _ in range(2))
    nt = _chunks(n, m, 1, chunks)
    _run(("rnn forward", x.shape, m), _rnn_forward_threads,
         (x, w, u, b, ACTIVATION_CODES[activation], float(alpha), zs, hs, nt), nt, mode)
    return zs, hs


def rnn_backward_planned(x, w, u, zs, hs, dy, activation="tanh", alpha=0.0,
                         need_input_grad=True, chunks=None, mode=None):
    """Trusted fast path, as lstm_backward_planned for a SimpleRNN."""
    n, n_steps, _ = x.shape
    m = u.shape[0]
    dz, dhs, dw, du, db, dxt = _backward_buffers(x, w, u, n_steps, m, need_input_grad)
    nt = _chunks(n, m, 1, chunks)
    finite = _run(("rnn backward", x.shape, m, need_input_grad), _rnn_backward_threads,
                  (x, w, u, ACTIVATION_CODES[activation], float(alpha), zs, hs,
                   _last_or_all(dy, n_steps), need_input_grad, dz, dhs, dw, du, db, dxt, nt),
                  nt, mode)
    return _input_grad(dxt, n, n_steps, need_input_grad), dw, du, db, dhs, bool(finite)


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
