"""exp of many non-positive float32 numbers at once, in SIMD lanes.

A softmax needs exp(z - max z), never of a positive number. Numba's np.exp calls the C
library's expf one number at a time (~9 ns each here); for the course MLP's 128x10 logits
that was ~12 us of a ~0.3 ms training step. This is Cephes's expf - exp(x) = 2^n e^r
with n = round(x / ln 2), r = x - n ln 2 in two parts (Cody and Waite), e^r by a
degree-7 polynomial, 2^n written straight into a float's exponent bits - which LLVM
vectorises. Accuracy: within 1 unit in the last place of exp in float64 (0.94 at most
over 200,000 points of [-87.3, 0], tests/test_kernels_fast_exp.py). Below x = -88 the
result is 0 (exp(-88) is ~6e-39, under float32's smallest normal number); -inf gives 0,
NaN gives NaN. float64 arrays keep np.exp.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types, uint64
from numba.extending import overload

_LOG2E = np.float32(1.44269504088896341)
_C1 = np.float32(0.693359375)       # ln 2 in two parts: C1 + C2 = ln 2 to ~2^-32
_C2 = np.float32(-2.12194440e-4)
_P = tuple(np.float32(v) for v in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
                                   4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1))
_LOW = np.float32(-88.0)


def exp_nonpositive_inplace(a):
    """a[i] = exp(a[i]) for a flat float array whose numbers are <= 0 (or -inf, NaN)."""
    raise NotImplementedError  # jitted code only: see the overload below


def exp_nonpositive_prefix(a, bits, n):
    """a[:n] = exp(a[:n]) as exp_nonpositive_inplace, with a scratch int32 array `bits` (at
    least n long) the caller keeps: for kernels calling it once per row (the recurrent
    cells), no allocation per call. Jitted code only: see the overload below."""
    raise NotImplementedError


@overload(exp_nonpositive_prefix)
def _exp_prefix_impl(a, bits, n):
    if a.dtype != types.float32:
        def plain(a, bits, n):
            for i in range(uint64(n)):
                a[i] = np.exp(a[i])
        return plain

    def simd(a, bits, n):
        n = uint64(n)
        for i in range(n):
            x = a[i]
            x = _LOW if x < _LOW else x  # -inf and tiny values: 2^n below becomes 0
            k = np.floor(x * _LOG2E + np.float32(0.5))
            r = x - k * _C1 - k * _C2
            p = _P[0]
            p = p * r + _P[1]
            p = p * r + _P[2]
            p = p * r + _P[3]
            p = p * r + _P[4]
            p = p * r + _P[5]
            a[i] = p * r * r + r + np.float32(1.0)
            kk = np.int32(k) if k == k else np.int32(0)  # NaN: any scale, a[i] stays NaN
            bits[i] = (kk + np.int32(127)) << np.int32(23)
        scale = bits.view(np.float32)
        for i in range(n):
            a[i] = a[i] * scale[i]
    return simd


@overload(exp_nonpositive_inplace)
def _exp_impl(a):
    def impl(a):
        exp_nonpositive_prefix(a, np.empty(a.size, dtype=np.int32), a.size)
    return impl


@njit(cache=True, nogil=True)
def exp_nonpositive(a):
    """A copy of the flat array a with exp applied (for tests and benchmarks)."""
    out = a.copy()
    exp_nonpositive_inplace(out)
    return out
