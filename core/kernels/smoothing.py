"""The debiased exponential moving average of training curves (core.teaching.smoothing).

A display kernel rather than an engine one: a live plot smooths its new points on the GUI
thread, so it is compiled with the engine's warm-up (core.fast.warmup) instead of at the
first curve, where a first-ever launch would freeze the window while Numba compiles.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def ema(values, weight, ref, last, count, out):
    """Smooth `values` into `out`, continuing from state (ref, last, count)."""
    for i in range(values.shape[0]):
        v = values[i]
        if not np.isfinite(v):
            out[i] = v
            continue
        if count == 0:
            ref = v
        last = last * weight + (1.0 - weight) * (v - ref)
        count += 1
        out[i] = ref + last / (1.0 - weight ** count)
    return ref, last, count
