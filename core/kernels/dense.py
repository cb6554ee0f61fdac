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
blocks of input features - and the optimizer too, see sgd.sgd_rows_part - keeps each
block of a weight matrix in the cache of the core whose thread uses it every step: read
from the other core's cache, a just-updated 784x128 matrix made the forward product ~1.7x
slower. The blocks are fixed by the sizes and the thread count, so the result does not
depend on timing. Bias and ReLU are applied row by row after the products; the ReLU's
backward reads its output (a > 0 exactly where z > 0).

The `*_planned` functions are the trusted fast path the layers use: no checks, so the
arrays must already be C-contiguous, writeable and of one float dtype.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit, types, uint64

from . import _threads, fanout
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


# How a forward pass is split between threads (see _forward_part).
BY_SAMPLES, BY_COLUMNS, BY_FEATURES = 0, 1, 2


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _forward_part(t, nt, x, w, split, z):
    """Block t of nt of z = x @ w (bias and ReLU come after, in _finish_part): a block of
    output columns when split is BY_COLUMNS (the thread reads only its columns of w), else
    a block of samples. (BY_FEATURES has its own kernel: _features_part.)"""
    n, n_out = z.shape
    if split == BY_COLUMNS:
        o0, o1 = thread_block(n_out, t, nt)
        if o0 < o1:
            weights_product(x, w[:, o0:o1], z[:, o0:o1], False)
    else:
        r0, r1 = fanout.part(t, nt, n)
        if r0 < r1:
            np.dot(x[r0:r1], w, z[r0:r1])


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _features_part(t, nt, x, w, z, parts, packed, runs, info):
    """Block t of nt of the input features: its partial product x[:, F] @ w[F], into z for
    t == 0 and parts[t - 1] otherwise. Each thread reads only its rows of w and columns of
    x - the least of both when the features are the longest side - and the rows of w it
    reads are the ones its thread of the backward pass wrote the gradient of and its
    thread of the optimizer updated, so they are in its core's cache. Features blank in
    every sample are left out (blank_features); `pack` notes what was packed, for the
    backward pass (see blank_features.new_pack; its three arrays come one by one: Numba's
    parallel loops take no tuple of arrays inside their arguments).
    """
    pack = (packed, runs, info)
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
def _finish_part(t, nt, z, parts, b, relu, a):
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
def _backward_part(t, nt, x, w, dz, need_dx, dw, dx, finite, packed, runs, info):
    """Block t of nt of the input features: those rows of dw and columns of dx.

    Each thread reads only its features' columns of x and rows of w (no copies: the
    products take strided blocks), needs no partial sums added afterwards, and each
    product runs over the whole batch. finite[t] says whether its rows of dw are all
    finite, read while they are in cache (the training step must know before it updates).
    """
    pack = (packed, runs, info)
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


# ---------------------------------------------------------------- drivers
# Each pass's parts run on Numba's threads through the part kernels' addresses
# (core.kernels.fanout) or one after another on the calling thread: the same kernels, the
# same blocks, the same result; _threads.run picks whichever is faster right now. Compiled
# code (the fused step, core.kernels.dense_step) calls them through `fanout.fan_or_here`
# with the addresses `part_addresses()` gives for its types.

_NO_PARTS = {np.dtype(t): np.empty((0, 0, 0), t) for t in (np.float32, np.float64)}

#: which part kernel sits where in part_addresses()
FEATURES, SPLIT, FINISH, BACKWARD = 0, 1, 2, 3
PARTS = (_features_part, _forward_part, _finish_part, _backward_part)


def _forward(x, w, b, relu, split, z, a, pack, nt, run):
    if nt == 1 and split != BY_FEATURES:  # one image, say: two calls, nothing else
        parts = _NO_PARTS[z.dtype]
        _forward_part(0, 1, x, w, split, z)
        _finish_part(0, 1, z, parts, b, relu, a)
        return
    parts = np.empty((nt - 1 if split == BY_FEATURES else 0, z.shape[0], z.shape[1]), z.dtype)
    if split == BY_FEATURES:
        run(_features_part, nt, (x, w, z, parts) + pack)
    else:
        run(_forward_part, nt, (x, w, split, z))
    run(_finish_part, nt, (z, parts, b, relu, a))


_forward_threads = functools.partial(_forward, run=fanout.run)
_forward_in_turn = functools.partial(_forward, run=fanout.in_turn)


def _backward(x, w, a, dy, relu, need_dx, dx, dw, pack, nt, run):
    """Fills dx (if need_dx) and dw (I, O); returns (db, whether dw is all finite)."""
    dz = np.empty_like(dy)  # (N, O)
    db = _relu_grad(a, dy, relu, dz)
    finite = np.empty(nt, dtype=np.bool_)
    run(_backward_part, nt, (x, w, dz, need_dx, dw, dx, finite) + pack)
    with np.errstate(over="ignore"):  # an inf gradient is reported (finite), not warned of
        return db.astype(dy.dtype), bool(finite.all())


_backward_threads = functools.partial(_backward, run=fanout.run)
_backward_in_turn = functools.partial(_backward, run=fanout.in_turn)


@functools.cache
def part_addresses():
    """(addresses, tags) of PARTS for the fused step's arguments (float32, C-contiguous,
    every layer's input typed alike), for fanout.fan_or_here in compiled code. If its
    types ever differed from these, fan would call nothing and say so (the step refuses)."""
    f32 = types.Array(types.float32, 2, "C")
    i64 = types.Array(types.int64, 2, "C")
    pack = (f32, i64, i64)
    parts = types.Array(types.float32, 3, "C")
    vec = types.Array(types.float32, 1, "C")
    flags = types.Array(types.boolean, 1, "C")
    signatures = {FEATURES: (f32, f32, f32, parts) + pack,
                  SPLIT: (f32, f32, types.int64, f32),
                  FINISH: (f32, parts, vec, types.boolean, f32),
                  BACKWARD: (f32, f32, f32, types.boolean, f32, f32, flags) + pack}
    found = [fanout.address_for(PARTS[i], signatures[i]) for i in range(len(PARTS))]
    return (np.array([a for a, _ in found], np.int64),
            np.array([t for _, t in found], np.int64))


@njit(cache=True, nogil=True)
def layer_chunks(n, n_in, n_out, nt):
    """Chunks a layer of this size is split into on nt threads (1: not worth waking them)."""
    return min(nt, n) if nt > 1 and n > 1 and n * n_in * n_out >= PARALLEL_MIN_WORK else 1


@njit(cache=True, nogil=True)
def forward_split(n, n_in, n_out):
    """Which way a forward pass is split between threads (see _forward_part): the input
    features when they are the longest side (halves of x and w), else the bigger of x and
    w. One sample stays a vector product, which np.dot hands to BLAS's gemv (a one-row
    gemm is up to 8x slower on some BLAS)."""
    if n == 1:
        return BY_SAMPLES
    if n_in >= n and n_in >= n_out:
        return BY_FEATURES
    return BY_COLUMNS if n < n_out else BY_SAMPLES


@njit(cache=True, nogil=True)
def forward_auto(x, w, b, relu, nt, addrs, tags):
    """(z, a, pack, fanout status) of a layer inside compiled code, split as
    dense_forward_planned splits it (the fused training step of core.kernels.dense_step:
    same blocks, same bits); pack is for backward_auto; addrs, tags: part_addresses()."""
    n, n_in = x.shape
    n_out = w.shape[1]
    z = np.empty((n, n_out), dtype=x.dtype)
    a = np.empty_like(z) if relu else z
    chunks = layer_chunks(n, n_in, n_out, nt)
    split = forward_split(n, n_in, n_out)
    pack = blank.new_pack_jit(n, n_in, chunks, split == BY_FEATURES, x.dtype)
    if split == BY_FEATURES:
        parts = np.empty((chunks - 1, n, n_out), dtype=z.dtype)
        status = fanout.fan_or_here(addrs[FEATURES], tags[FEATURES], chunks,
                                    (x, w, z, parts) + pack)
    else:
        parts = np.empty((0, n, n_out), dtype=z.dtype)
        status = fanout.fan_or_here(addrs[SPLIT], tags[SPLIT], chunks, (x, w, split, z))
    if status == fanout.RAN:
        status = fanout.fan_or_here(addrs[FINISH], tags[FINISH], chunks, (z, parts, b, relu, a))
    return z, a, pack, status


@njit(cache=True, nogil=True)
def backward_auto(x, w, a, dy, relu, need_dx, nt, dw, pack, addrs, tags):
    """(dx, db, dw all finite, fanout status), filling dw (I, O), inside compiled code, as
    dense_backward_planned; pack is what forward_auto returned for this x."""
    dx = np.empty((x.shape[0], x.shape[1]) if need_dx else (0, 0), dtype=dy.dtype)
    chunks = layer_chunks(x.shape[0], w.shape[0], w.shape[1], nt)
    dz = np.empty_like(dy)  # (N, O)
    db = _relu_grad(a, dy, relu, dz)
    finite = np.empty(chunks, dtype=np.bool_)
    status = fanout.fan_or_here(addrs[BACKWARD], tags[BACKWARD], chunks,
                                (x, w, dz, need_dx, dw, dx, finite) + pack)
    return dx, db.astype(dy.dtype), status == fanout.RAN and finite.all(), status


def _chunks(n, n_in, n_out, chunks=None):
    if chunks is not None:  # forced (warm-up, tests)
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
    # the layer-by-layer step keeps no pack (empty arrays: nothing is written)
    args = (x, w, b, relu, split, z, a, blank.NO_PACK[x.dtype], nt)
    if nt > 1:
        _threads.run(("dense", x.shape, w.shape), _forward_threads, _forward_in_turn, *args,
                     mode=mode)
    else:
        _forward_in_turn(*args)
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
                                  _backward_threads, _backward_in_turn, x, w, a, dy, relu,
                                  need_input_grad, dx, dw, pack, nt, mode=mode)
    else:
        db, finite = _backward_in_turn(x, w, a, dy, relu, need_input_grad, dx, dw, pack, 1)
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
