"""SGD's (and Adam's) update applied in place, one pass over each parameter, no temporaries.

The rules' readable forms are SGD._update and Adam._update (core/optimizers.py); these
are their one compiled form each. SGD's in-place update calls `sgd_in_place`, the fused
dense step (core.kernels.dense_step) `sgd_matrix_auto` and `sgd_plain` from compiled code:
the same loops either way.

NumPy's `p += -lr * g` makes a gradient-sized temporary and reads everything twice; for
the course CNN that was ~0.1-0.3 ms of a 6 ms step. These loops do the same float32
operations in the same order (no fastmath, so no fused multiply-add changes a bit):
the weights come out identical to the NumPy form.
"""
from __future__ import annotations

import functools

import numpy as np
from numba import njit, types, uint64

from . import _threads, fanout
from .dense import thread_block


@njit(cache=True, nogil=True)
def sgd_plain(p, g, lr):
    """p -= lr*g, as p + (-lr)*g (flat C-contiguous arrays of one dtype)."""
    neg = -lr
    for i in range(p.shape[0]):
        p[i] += neg * g[i]


@njit(cache=True, nogil=True)
def sgd_momentum(p, g, v, lr, mu, nesterov):
    """Keras's momentum: v = mu*v - lr*g; p += v (nesterov: p += mu*v - lr*g)."""
    for i in range(p.shape[0]):
        step = lr * g[i]
        vi = v[i] * mu - step
        v[i] = vi
        p[i] += (mu * vi - step) if nesterov else vi


@njit(cache=True, nogil=True, error_model="numpy")
def adam_in_place(p, g, m, v, b1, b2, step, eps):
    """Adam._update and the apply after it, for flat float32 arrays (m, v: the moments):
    m = b1*m + (1-b1)*g; v = b2*v + ((1-b2)*g)*g; p += (-step*m) / (sqrt(v) + eps). The
    same float32 operations in the same order as the NumPy form (no fastmath), so the
    same bits, in one pass instead of ten array-sized temporaries. NumPy's error model
    (x/0 is inf, as in NumPy) and unsigned indices let it run in SIMD lanes: Python's
    check for a zero divisor kept it scalar, 2.3 ns a parameter against 0.3 (an LSTM(128)
    step's 82,000 parameters: 190 us against 26; the NumPy form took ~320 us)."""
    c1 = np.float32(1) - b1
    c2 = np.float32(1) - b2
    neg = -step
    for i in range(uint64(p.shape[0])):
        gi = g[i]
        mi = m[i] * b1
        mi += c1 * gi
        m[i] = mi
        vi = v[i] * b2
        vi += c2 * gi * gi
        v[i] = vi
        p[i] += neg * mi / (np.sqrt(vi) + eps)


#: a weight matrix this big is updated by rows on the engine's threads
ROWS_MIN_SIZE = 1 << 16

# A big weight matrix is updated by rows in the blocks the dense kernels give each thread
# (dense.thread_block over its first axis): the thread that computed a block of the gradient
# updates that block while it is in its core's cache, and the next forward pass reads it
# from there (dense.BY_FEATURES). Same formula, so the same bits as sgd_plain.


@njit(cache=True, nogil=True)
def sgd_rows_part(t, nt, p, g, neg):
    """p[rows] += neg * g[rows] for block t of nt of the rows (dense.thread_block)."""
    r0, r1 = thread_block(p.shape[0], t, nt)
    n_cols = uint64(p.shape[1])
    for i in range(uint64(r0), uint64(r1)):
        for j in range(n_cols):
            p[i, j] += neg * g[i, j]


@njit(cache=True, nogil=True)
def by_rows(size, nt):
    """Is a 2-D parameter of this size updated by rows on nt threads?"""
    return nt > 1 and size >= ROWS_MIN_SIZE


@functools.cache
def rows_address():
    """(address, tag) of sgd_rows_part for float32 weights, for sgd_matrix_auto."""
    f32 = types.Array(types.float32, 2, "C")
    return fanout.address_for(sgd_rows_part, (f32, f32, types.float32))


@njit(cache=True, nogil=True)
def sgd_matrix_auto(p, g, lr, nt, addr, tag):
    """sgd_in_place's update of a 2-D p, from compiled code (the fused step of
    core.kernels.dense_step): by rows on the threads when big (sgd_rows_part at addr:
    rows_address()), else one flat pass. Returns fanout's status."""
    if by_rows(p.size, nt):
        return fanout.fan(addr, tag, nt, (p, g, -lr))
    sgd_plain(p.reshape(-1), g.reshape(-1), lr)
    return fanout.RAN


def sgd_in_place(p, g, lr):
    """p ← p + (−lr)·g for one parameter (float32, C-contiguous, g shaped like p): a big
    weight matrix by rows on the threads or serially, whichever is faster now
    (core.kernels._threads), anything else in one flat pass."""
    nt = _threads.n_chunks()
    if p.ndim == 2 and by_rows.py_func(p.size, nt):
        fanout.parts(("sgd", p.shape), sgd_rows_part, nt, (p, g, -lr))
    else:
        sgd_plain(p.reshape(-1), g.reshape(-1), lr)
