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

from ._common import all_finite_2d

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
    prev = f0
    for k in range(starts.size + 1):
        stop = starts[k] if k < starts.size else f1
        if not all_finite_2d(w[prev:stop]):
            return False
        if k < starts.size:
            prev = starts[k] + lengths[k]
    return True


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
def pack_columns_into(pack, x, f0, starts, lengths, count):
    """The live columns of block f0.. of x, packed: into the block's own columns of the
    kept buffer when pack keeps one (see new_pack), else into a new array."""
    packed = pack[0]
    if packed.shape[0] == x.shape[0] and packed.shape[1] == x.shape[1]:
        xc = packed[:, f0:f0 + count]
    else:
        xc = np.empty((x.shape[0], count), dtype=x.dtype)[:, :]
    pack_columns(x, starts, lengths, xc)
    return xc


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


# A forward pass by features can leave what it packed to the backward pass of the same
# step (the fused step does, core.kernels.dense_step): pack = (packed (N, I), runs (2, I),
# info (nt, 2)); block t's live columns are packed[:, f0:f0 + count], its runs are
# runs[:, f0:f0 + k], and info[t] = (count, k), or -1 where block t packed nothing.


def new_pack(n, n_in, nt, keep, dtype):
    """A pack for a forward pass; with keep False, one that keeps nothing (empty arrays,
    never written: the backward pass then packs again, same numbers, a little more work)."""
    if not keep:
        return np.empty((0, 0), dtype), np.empty((2, 0), np.int64), np.empty((0, 2), np.int64)
    info = np.full((nt, 2), -1, dtype=np.int64)
    return np.empty((n, n_in), dtype), np.empty((2, n_in), np.int64), info


new_pack_jit = njit(cache=True, nogil=True)(new_pack)
NO_PACK = {np.dtype(t): new_pack(0, 0, 0, False, t) for t in (np.float32, np.float64)}


@njit(cache=True, nogil=True)
def note_pack(pack, t, f0, starts, lengths, count):
    """Block t (from feature f0) packed `count` live columns in these runs."""
    packed, runs, info = pack
    if runs.shape[1] == 0:
        return  # a pack that keeps nothing
    k = starts.size
    runs[0, f0:f0 + k] = starts
    runs[1, f0:f0 + k] = lengths
    info[t, 0] = count
    info[t, 1] = k


@njit(cache=True, nogil=True)
def kept_block(pack, t, f0):
    """(starts, lengths, packed columns) block t left in the pack, or count -1 if none."""
    packed, runs, info = pack
    if t < info.shape[0] and info[t, 0] >= 0:
        k, count = info[t, 1], info[t, 0]
        return runs[0, f0:f0 + k], runs[1, f0:f0 + k], packed[:, f0:f0 + count], count
    return runs[0, 0:0], runs[1, 0:0], packed[:, 0:0], -1
