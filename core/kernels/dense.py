"""Fully connected layer kernels: y = x @ w + b (optionally ReLU'd) and its gradients.

The matrix products go to BLAS on strided blocks (blas.gemm; the products with the
weights through blas.weights_product, which asks for each one the way OpenBLAS computes
it faster when a few samples meet a big weight block). A large product is split
into one block per Numba thread with BLAS single-threaded (see _threads), each thread
reading as little as it can: the forward pass by input features when they are the longest
side (each thread multiplies its columns of x by its rows of w; the partial products are
added in a fixed order), else by output columns when the weights are the bigger operand,
else by samples; the backward pass by input features (rows of dw, columns of dx: nothing
is copied and no partial sums are added afterwards). Splitting both passes by the same
blocks of input features - and the optimizer too, see sgd.sgd_rows_threads - keeps each
block of a weight matrix in the cache of the core whose thread uses it every step: read
from the other core's cache, a just-updated 784x128 matrix made the forward product ~1.7x
slower. The blocks are fixed by the sizes and the thread count, so the result does not
depend on timing. Bias and ReLU are applied row by row after the products; the ReLU's
backward reads its output (a > 0 exactly where z > 0).

The `*_planned` functions are the trusted fast path the layers use: no checks, so the
arrays must already be C-contiguous, writeable and of one float dtype.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, uint64

from . import _threads
from . import blank_features as blank
from ._common import FASTMATH, all_finite_2d, as_float_array, same_dtype
from .blas import gemm, weights_product

__all__ = ["dense_forward", "dense_backward", "dense_forward_planned", "dense_backward_planned"]

# Below this many multiply-adds a call runs serially: waking threads would cost more.
PARALLEL_MIN_WORK = 1 << 19


@njit(cache=True, nogil=True)
def thread_block(size, t, nt):
    """Block t of nt over range(size), boundaries on multiples of 16 elements (64 bytes of
    float32) so that two threads never write the same cache line of a row."""
    step = ((size + nt - 1) // nt + 15) // 16 * 16
    return min(size, t * step), min(size, (t + 1) * step)


# How a forward pass is split between threads (see _forward_block).
BY_SAMPLES, BY_COLUMNS, BY_FEATURES = 0, 1, 2


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _forward_block(x, w, t, nt, split, z):
    """Block t of nt of z = x @ w (bias and ReLU come after, in _finish_rows): a block of
    output columns when split is BY_COLUMNS (the thread reads only its columns of w), else
    a block of samples. (BY_FEATURES has its own drivers: _features_block.)"""
    n, n_out = z.shape
    if split == BY_COLUMNS:
        o0, o1 = thread_block(n_out, t, nt)
        if o0 < o1:
            weights_product(x, w[:, o0:o1], z[:, o0:o1], False)
    else:
        step = (n + nt - 1) // nt
        r0, r1 = t * step, min(n, (t + 1) * step)
        if r0 < r1:
            np.dot(x[r0:r1], w, z[r0:r1])


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _features_block(x, w, t, nt, z, parts, pack):
    """Block t of nt of the input features: its partial product x[:, F] @ w[F], into z for
    t == 0 and parts[t - 1] otherwise. Each thread reads only its rows of w and columns of
    x - the least of both when the features are the longest side - and the rows of w it
    reads are the ones its thread of the backward pass wrote the gradient of and its
    thread of the optimizer updated, so they are in its core's cache. Features blank in
    every sample are left out (blank_features); `pack` notes what was packed, for the
    backward pass (see blank_features.new_pack).
    """
    n, n_out = z.shape
    f0, f1 = thread_block(x.shape[1], t, nt)
    out = z if t == 0 else parts[t - 1]
    if f0 >= f1:
        out[:, :] = 0.0
        return
    if not blank.worth_scanning(n, f0, f1, n_out):
        weights_product(x[:, f0:f1], w[f0:f1], out, False)
        return
    starts, lengths, count = blank.live_runs(x, f0, f1)
    if not blank.worth_packing(count, f0, f1) or not blank.blank_rows_finite(
            w, f0, f1, starts, lengths):
        weights_product(x[:, f0:f1], w[f0:f1], out, False)
    elif count == 0:
        out[:, :] = 0.0
        blank.note_pack(pack, t, f0, starts, lengths, count)
    else:
        xc = blank.pack_columns_into(pack, x, f0, starts, lengths, count)
        weights_product(xc, blank.pack_rows(w, starts, lengths, count), out, False)
        blank.note_pack(pack, t, f0, starts, lengths, count)


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _finish_rows(z, parts, b, relu, a, t, nt):
    """Rows block t of nt: z = z + parts[0] + parts[1] + ... + b (in that order), a = relu(z).

    Indices are unsigned so the loops vectorise (a signed index might be negative, and
    Numba's wrap-around for negative indices keeps LLVM from using SIMD loads).
    """
    n = z.shape[0]
    step = (n + nt - 1) // nt
    r0, r1 = uint64(min(n, t * step)), uint64(min(n, (t + 1) * step))
    n_out = uint64(z.shape[1])
    n_parts = uint64(parts.shape[0])
    for r in range(r0, r1):
        for j in range(n_parts):
            for o in range(n_out):
                z[r, o] += parts[j, r, o]
        for o in range(n_out):
            z[r, o] += b[o]
        if relu:
            for o in range(n_out):
                v = z[r, o]
                a[r, o] = v if (v > 0 or v != v) else 0.0


# Each driver twice, chunks on Numba's threads or one after the other: same chunks, same
# result; _threads.run picks whichever is faster right now.


@njit(cache=True, nogil=True, parallel=True)
def _forward_threads(x, w, b, relu, split, z, a, nt):
    parts = np.empty((0, 0, 0), dtype=z.dtype)
    for t in prange(nt):
        _forward_block(x, w, t, nt, split, z)
    for t in prange(nt):
        _finish_rows(z, parts, b, relu, a, t, nt)


@njit(cache=True, nogil=True)
def _forward_serial(x, w, b, relu, split, z, a, nt):
    parts = np.empty((0, 0, 0), dtype=z.dtype)
    for t in range(nt):
        _forward_block(x, w, t, nt, split, z)
    for t in range(nt):
        _finish_rows(z, parts, b, relu, a, t, nt)


# The split by features has drivers of its own: a one-image prediction never takes it,
# so the kernels a first-ever launch compiles before the drawing pad works stay small.


@njit(cache=True, nogil=True, parallel=True)
def _features_threads(x, w, b, relu, z, a, pack, nt):
    parts = np.empty((nt - 1, z.shape[0], z.shape[1]), dtype=z.dtype)
    for t in prange(nt):
        _features_block(x, w, t, nt, z, parts, pack)
    for t in prange(nt):
        _finish_rows(z, parts, b, relu, a, t, nt)


@njit(cache=True, nogil=True)
def _features_serial(x, w, b, relu, z, a, pack, nt):
    parts = np.empty((nt - 1, z.shape[0], z.shape[1]), dtype=z.dtype)
    for t in range(nt):
        _features_block(x, w, t, nt, z, parts, pack)
    for t in range(nt):
        _finish_rows(z, parts, b, relu, a, t, nt)


@njit(cache=True, nogil=True)
def _relu_grad(a, dy, relu, dz):
    """dz = dL/dz (ReLU's mask from its output a when relu); returns db as float64 sums.

    a > 0 passes dy; a == 0 gives dy*0 (NaN/inf arriving in dy stay visible); a NaN
    output (a NaN pre-activation) gives NaN. The float64 sums keep a large batch's digits.
    """
    db = np.zeros(dy.shape[1], dtype=np.float64)
    for r in range(dy.shape[0]):
        for o in range(dy.shape[1]):
            g = dy[r, o]
            if relu:
                v = a[r, o]
                if not v > 0:
                    g = g * 0.0 if v <= 0 else v
            dz[r, o] = g
            db[o] += g
    return db


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _backward_block(x, w, dz, t, nt, need_dx, dw, dx, finite, pack):
    """Block t of nt of the input features: those rows of dw and columns of dx.

    Each thread reads only its features' columns of x and rows of w (no copies: the
    products take strided blocks), needs no partial sums added afterwards, and each
    product runs over the whole batch. finite[t] says whether its rows of dw are all
    finite, read while they are in cache (the training step must know before it updates).
    """
    f0, f1 = thread_block(x.shape[1], t, nt)
    finite[t] = True
    if f0 >= f1:
        return
    starts, lengths, xc, count = blank.kept_block(pack, t, f0)
    packs = count >= 0  # the forward pass packed this block's live columns already
    if not packs and blank.worth_scanning(x.shape[0], f0, f1, dz.shape[1]):
        starts, lengths, count = blank.live_runs(x, f0, f1)
        packs = blank.worth_packing(count, f0, f1)
    if packs and all_finite_2d(dz):
        # the features blank in every sample get rows of zeros (blank_features)
        if xc.shape[1] < count:  # not packed by the forward pass
            xc = blank.pack_columns_into(pack, x, f0, starts, lengths, count)
        dwc = np.empty((count, dz.shape[1]), dtype=dz.dtype)
        if count:
            gemm(xc, dz, dwc, True, False, 0.0)
        blank.unpack_rows(dwc, starts, lengths, f0, f1, dw)
    else:
        gemm(x[:, f0:f1], dz, dw[f0:f1], True, False, 0.0)     # (F, O) = x_F^T dz
    finite[t] = all_finite_2d(dw[f0:f1])
    if need_dx:
        if dz.shape[0] == 1:  # one sample: a vector product (gemv), see dense_forward_planned
            np.dot(w[f0:f1], dz[0], dx[0, f0:f1])
        else:
            weights_product(dz, w[f0:f1], dx[:, f0:f1], True)  # (N, F) = dz w_F^T


@njit(cache=True, nogil=True, parallel=True)
def _backward_threads(x, w, a, dy, relu, need_dx, dx, dw, pack, nt):
    """Fills dx (if need_dx) and dw (I, O); returns (db, whether dw is all finite)."""
    dz = np.empty_like(dy)  # (N, O)
    db = _relu_grad(a, dy, relu, dz)
    finite = np.empty(nt, dtype=np.bool_)
    for t in prange(nt):
        _backward_block(x, w, dz, t, nt, need_dx, dw, dx, finite, pack)
    return db.astype(dy.dtype), finite.all()


@njit(cache=True, nogil=True)
def _backward_serial(x, w, a, dy, relu, need_dx, dx, dw, pack, nt):
    dz = np.empty_like(dy)  # (N, O)
    db = _relu_grad(a, dy, relu, dz)
    finite = np.empty(nt, dtype=np.bool_)
    for t in range(nt):
        _backward_block(x, w, dz, t, nt, need_dx, dw, dx, finite, pack)
    return db.astype(dy.dtype), finite.all()


@njit(cache=True, nogil=True)
def layer_chunks(n, n_in, n_out, nt):
    """Chunks a layer of this size is split into on nt threads (1: not worth waking them)."""
    return min(nt, n) if nt > 1 and n > 1 and n * n_in * n_out >= PARALLEL_MIN_WORK else 1


@njit(cache=True, nogil=True)
def forward_split(n, n_in, n_out):
    """Which way a forward pass is split between threads (see _forward_block): the input
    features when they are the longest side (halves of x and w), else the bigger of x and
    w. One sample stays a vector product, which np.dot hands to BLAS's gemv (a one-row
    gemm is up to 8x slower on some BLAS)."""
    if n == 1:
        return BY_SAMPLES
    if n_in >= n and n_in >= n_out:
        return BY_FEATURES
    return BY_COLUMNS if n < n_out else BY_SAMPLES


@njit(cache=True, nogil=True)
def forward_auto(x, w, b, relu, nt):
    """(z, a, pack) of a layer inside compiled code, split as dense_forward_planned splits it
    (the fused training step of core.kernels.dense_step: same blocks, same bits); pack is
    for backward_auto."""
    n, n_in = x.shape
    n_out = w.shape[1]
    z = np.empty((n, n_out), dtype=x.dtype)
    a = np.empty_like(z) if relu else z
    chunks = layer_chunks(n, n_in, n_out, nt)
    split = forward_split(n, n_in, n_out)
    pack = blank.new_pack_jit(n, n_in, chunks, split == BY_FEATURES, x.dtype)
    if split == BY_FEATURES:
        if chunks > 1:
            _features_threads(x, w, b, relu, z, a, pack, chunks)
        else:
            _features_serial(x, w, b, relu, z, a, pack, 1)
    elif chunks > 1:
        _forward_threads(x, w, b, relu, split, z, a, chunks)
    else:
        _forward_serial(x, w, b, relu, split, z, a, 1)
    return z, a, pack


@njit(cache=True, nogil=True)
def backward_auto(x, w, a, dy, relu, need_dx, nt, dw, pack):
    """(dx, db, dw all finite), filling dw (I, O), inside compiled code, as
    dense_backward_planned; pack is what forward_auto returned for this x."""
    dx = np.empty((x.shape[0], x.shape[1]) if need_dx else (0, 0), dtype=dy.dtype)
    chunks = layer_chunks(x.shape[0], w.shape[0], w.shape[1], nt)
    if chunks > 1:
        db, finite = _backward_threads(x, w, a, dy, relu, need_dx, dx, dw, pack, chunks)
    else:
        db, finite = _backward_serial(x, w, a, dy, relu, need_dx, dx, dw, pack, 1)
    return dx, db, finite


def _chunks(n, n_in, n_out, chunks=None):
    if chunks is not None:  # forced (warm-up compiles both drivers on a tiny batch)
        return max(1, int(chunks))
    return layer_chunks.py_func(n, n_in, n_out, _threads.n_chunks())  # plain Python: no dispatch


def dense_forward_planned(x, w, b, relu=False, chunks=None, mode=None):
    """Trusted fast path: returns (z, a) with a = relu(z) when relu, else a is z.

    chunks / mode ("threads" or "serial") force what is otherwise chosen (warm-up, tests).
    """
    n, n_in = x.shape
    n_out = w.shape[1]
    z = np.empty((n, n_out), dtype=x.dtype)  # (N, O)
    a = np.empty_like(z) if relu else z
    nt = _chunks(n, n_in, n_out, chunks)
    split = forward_split.py_func(n, n_in, n_out)
    if split == BY_FEATURES:
        # the layer-by-layer step keeps no pack (empty arrays: nothing is written)
        args = (x, w, b, relu, z, a, blank.NO_PACK[x.dtype], nt)
        threaded, serial = _features_threads, _features_serial
    else:
        args = (x, w, b, relu, split, z, a, nt)
        threaded, serial = _forward_threads, _forward_serial
    if nt > 1:
        _threads.run(("dense", x.shape, w.shape), threaded, serial, *args, mode=mode)
    else:
        serial(*args)
    return z, a


def dense_backward_planned(x, w, dy, relu_output=None, need_input_grad=True, chunks=None,
                           mode=None, report_finite=False):
    """Trusted fast path: (dx or None, dw, db); with relu_output, dy is dL/d(ReLU output).

    report_finite=True adds a fourth value: whether every element of dw is finite.
    """
    relu = relu_output is not None
    a = relu_output if relu else dy
    dx = np.empty(x.shape if need_input_grad else (0, 0), dtype=dy.dtype)  # (N, I)
    dw = np.empty(w.shape, dtype=dy.dtype)  # (I, O)
    nt = _chunks(x.shape[0], w.shape[0], w.shape[1], chunks)
    pack = blank.NO_PACK[dy.dtype]
    if nt > 1:
        db, finite = _threads.run(("dense backward", x.shape, w.shape, need_input_grad),
                                  _backward_threads, _backward_serial, x, w, a, dy, relu,
                                  need_input_grad, dx, dw, pack, nt, mode=mode)
    else:
        db, finite = _backward_serial(x, w, a, dy, relu, need_input_grad, dx, dw, pack, 1)
    dx = dx if need_input_grad else None
    return (dx, dw, db, bool(finite)) if report_finite else (dx, dw, db)


def _check_xw(x, w):
    x = as_float_array("x", x, ndim=2)
    w = as_float_array("w", w, ndim=2)
    if x.shape[1] != w.shape[0]:
        raise ValueError(f"x has {x.shape[1]} features but w expects {w.shape[0]} (x {x.shape}, w {w.shape})")
    return x, w


def dense_forward(x, w, b, activation=None):
    """x (N, I), w (I, O), b (O,) -> y (N, O) = x @ w + b (ReLU'd in the same pass if activation="relu")."""
    x, w = _check_xw(x, w)
    b = as_float_array("b", b, ndim=1)
    if b.shape[0] != w.shape[1]:
        raise ValueError(f"b must have shape ({w.shape[1]},), got {b.shape}")
    same_dtype(x=x, w=w, b=b)
    if activation not in (None, "linear", "relu"):
        raise ValueError(f'activation must be None or "relu", got {activation!r}')
    return dense_forward_planned(x, w, b, activation == "relu")[1]


def dense_backward(x, w, dy, relu_output=None, need_input_grad=True):
    """Gradients of y = x @ w + b: returns (dx (N, I), dw (I, O), db (O,)) given dy (N, O).

    With relu_output (a = relu(x @ w + b) from the forward), dy is dL/da and the ReLU's
    mask is applied on the way; need_input_grad=False returns None for dx.
    """
    x, w = _check_xw(x, w)
    dy = as_float_array("dy", dy, ndim=2)
    if dy.shape != (x.shape[0], w.shape[1]):
        raise ValueError(f"dy must have shape {(x.shape[0], w.shape[1])}, got {dy.shape}")
    same_dtype(x=x, w=w, dy=dy)
    if relu_output is not None:
        relu_output = as_float_array("relu_output", relu_output, ndim=2)
        if relu_output.shape != dy.shape:
            raise ValueError(f"relu_output must have dy's shape {dy.shape}, got {relu_output.shape}")
        same_dtype(dy=dy, relu_output=relu_output)
    return dense_backward_planned(x, w, dy, relu_output, bool(need_input_grad))
