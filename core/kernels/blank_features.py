"""Input features that are zero in every sample of a batch, left out of a dense layer's products.

A handwritten digit's blank border is a third of a 28x28 image: in a batch of 128 digits
about 250 of the 784 pixels are 0 in every image. Such a feature adds exactly nothing to
x @ w and gets an exactly zero row of dw = x^T dz, provided the numbers it would multiply
(its row of w, the gradient dz) are finite: 0 * inf is NaN, and that NaN must show. So a
thread whose block of features has enough blank ones packs the others - contiguous runs
of columns of x, rows of w - into small buffers and multiplies those (a third less work
for both products of the course MLP's first layer), then writes zeros where the blank
rows of dw go. Everything here is decided by the data alone, never by timing, so the
result is the same on threads or not.

Indices are unsigned where they index arrays so the copying loops vectorise (Numba's
wrap-around for a possibly negative index keeps LLVM from using SIMD loads).
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

#: pack only when at least this share of a block's features is blank (packing costs a copy)
MIN_BLANK_SHARE = 1 / 8
#: and only for a block's product of at least this many multiply-adds (a smaller one costs
#: less than the scan for blank features)
MIN_WORK = 1 << 18
#: nor for fewer outputs than this: the scan and the copy cost about as much per input
#: number as ~20 multiply-adds, and a blank feature saves one per output
MIN_OUTPUTS = 32


@njit(cache=True, nogil=True)
def worth_scanning(n, f0, f1, n_out):
    return n_out >= MIN_OUTPUTS and n * (f1 - f0) * n_out >= MIN_WORK


@njit(cache=True, nogil=True)
def live_runs(x, f0, f1):
    """(starts, lengths, count): the runs of features in f0..f1 that are non-zero (or NaN)
    in some sample of x (N, I); count is their total length."""
    width = uint64(f1 - f0)
    base = uint64(f0)
    seen = np.zeros(f1 - f0, dtype=np.uint8)
    for r in range(uint64(x.shape[0])):
        for j in range(width):
            seen[j] |= x[r, base + j] != 0  # NaN != 0: kept
    starts = np.empty(f1 - f0, dtype=np.int64)
    lengths = np.empty(f1 - f0, dtype=np.int64)
    runs = 0
    count = 0
    j = 0
    while j < f1 - f0:
        if seen[j]:
            s = j
            while j < f1 - f0 and seen[j]:
                j += 1
            starts[runs] = f0 + s
            lengths[runs] = j - s
            count += j - s
            runs += 1
        else:
            j += 1
    return starts[:runs], lengths[:runs], count


@njit(cache=True, nogil=True)
def worth_packing(count, f0, f1):
    return (f1 - f0 - count) >= MIN_BLANK_SHARE * (f1 - f0)


@njit(cache=True, nogil=True)
def blank_rows_finite(w, f0, f1, starts, lengths):
    """Are the rows of w (I, O) in f0..f1 outside the live runs all finite?"""
    s = np.float32(0.0)
    n_out = uint64(w.shape[1])
    prev = f0
    for k in range(starts.size + 1):
        stop = starts[k] if k < starts.size else f1
        for p in range(uint64(prev), uint64(stop)):
            for o in range(n_out):
                s += w[p, o] * np.float32(0.0)
        if k < starts.size:
            prev = starts[k] + lengths[k]
    return s == 0.0


@njit(cache=True, nogil=True)
def all_finite_2d(a):
    s = a.dtype.type(0.0)
    for r in range(uint64(a.shape[0])):
        for c in range(uint64(a.shape[1])):
            s += a[r, c] * 0.0
    return s == 0.0


@njit(cache=True, nogil=True)
def pack_columns(x, starts, lengths, out):
    """out (N, count) = the live columns of x (N, I), side by side."""
    for r in range(uint64(x.shape[0])):
        pos = uint64(0)
        for k in range(starts.size):
            s = uint64(starts[k])
            for j in range(uint64(lengths[k])):
                out[r, pos + j] = x[r, s + j]
            pos += uint64(lengths[k])


@njit(cache=True, nogil=True)
def pack_rows(w, starts, lengths, count):
    """The live rows of w (I, O), one under the other: (count, O)."""
    n_out = uint64(w.shape[1])
    out = np.empty((count, w.shape[1]), dtype=w.dtype)
    pos = uint64(0)
    for k in range(starts.size):
        s = uint64(starts[k])
        for i in range(uint64(lengths[k])):
            for o in range(n_out):
                out[pos + i, o] = w[s + i, o]
        pos += uint64(lengths[k])
    return out


@njit(cache=True, nogil=True)
def unpack_rows(packed, starts, lengths, f0, f1, out):
    """out[f0:f1] = the packed live rows where they belong, 0 in the blank rows."""
    n_out = uint64(out.shape[1])
    pos = uint64(0)
    prev = f0
    for k in range(starts.size + 1):
        stop = starts[k] if k < starts.size else f1
        for p in range(uint64(prev), uint64(stop)):
            for o in range(n_out):
                out[p, o] = 0.0
        if k < starts.size:
            s = uint64(starts[k])
            for i in range(uint64(lengths[k])):
                for o in range(n_out):
                    out[s + i, o] = packed[pos + i, o]
            pos += uint64(lengths[k])
            prev = starts[k] + lengths[k]
