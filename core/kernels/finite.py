"""Is every value finite? The training step asks this of every gradient, every step.

One pass with no temporary array: adding v*0 for every v gives 0 when all are finite and
NaN as soon as one is NaN or ±inf (inf*0 is NaN). The fastmath flags allow the sum to run
in SIMD lanes but never assume "no NaN/inf" (no nnan/ninf), so v*0 is not folded to 0.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["all_finite"]


_FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def all_finite_2d(a):
    """Every value of the 2-D array a (any strides) finite? (Summed in a's own type: twice
    the SIMD lanes for float32.)"""
    s = a.dtype.type(0.0)
    for r in range(a.shape[0]):
        for o in range(a.shape[1]):
            s += a[r, o] * 0.0
    return s == 0.0


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _finite_sum(a):
    s = 0.0
    for i in range(a.size):
        s += a[i] * 0.0
    return s


def all_finite(*arrays) -> bool:
    """True if every element of every array is finite (float32/float64; others via NumPy)."""
    for a in arrays:
        if (isinstance(a, np.ndarray) and a.dtype in (np.float32, np.float64)
                and a.flags.c_contiguous and a.flags.writeable):
            if a.size and _finite_sum(a.reshape(-1)) != 0.0:
                return False
        elif not np.all(np.isfinite(a)):
            return False
    return True
