"""Debiased exponential moving average, the smoothing TensorBoard's scalar plots use.

For weight w in [0, 1) and the finite values x_1..x_n seen so far:

    s_n = Σ_i w^(n-i) (1-w) x_i  /  (1 - w^n)

The division by 1 - w^n ("debiasing") removes the pull towards 0 that a plain EMA started
at 0 has, so the first smoothed value is the first value itself and a two-point series
keeps both points' information (s_2 = x_1 + (x_2 - x_1)/(1 + w)): it is never smoothed away.

TensorBoard's users complain that smoothing bends flat lines. Here the average is taken of
the deviations from the first finite value and added back afterwards: a constant series has
deviations exactly 0, so it comes back exactly constant for every weight, and a constant
stretch at the start stays exactly flat too. (Mathematically the same average, since a
normalised weighted mean commutes with adding a constant.)

Non-finite values (a diverged loss) are passed through unchanged and do not enter the
average, as in TensorBoard.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["smooth", "Smoother", "check_weight"]


def check_weight(weight) -> float:
    """A smoothing weight in [0, 1); 1 would freeze the average at its start."""
    try:
        w = float(weight)
    except (TypeError, ValueError):
        raise ValueError(f"smoothing weight must be a number, got {weight!r}") from None
    if not (0.0 <= w < 1.0):
        raise ValueError(f"smoothing weight must be in [0, 1), got {w}")
    return w


@njit(cache=True, nogil=True)
def _ema(values, weight, ref, last, count, out):
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


def _as_values(values) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"values must be 1-D, got shape {a.shape}")
    return np.ascontiguousarray(a)


def smooth(values, weight: float) -> np.ndarray:
    """The debiased EMA of `values` (1-D) as float64; weight 0 returns the values as they are."""
    w = check_weight(weight)
    a = _as_values(values)  # (N,)
    if w == 0.0 or a.size == 0:
        return a.copy()
    out = np.empty_like(a)
    _ema(a, w, 0.0, 0.0, 0, out)
    return out


class Smoother:
    """The same average kept up to date as values arrive: each `extend` costs only the new
    points, so a live curve's smoothing does not get slower as the run grows."""

    def __init__(self, weight: float = 0.0):
        self.weight = check_weight(weight)
        self.reset()

    def reset(self) -> None:
        self._ref = 0.0
        self._last = 0.0
        self._count = 0

    @property
    def count(self) -> int:
        """How many finite values have entered the average."""
        return self._count

    def extend(self, values) -> np.ndarray:
        """Smoothed values for `values`, continuing the series seen so far."""
        a = _as_values(values)  # (K,)
        if self.weight == 0.0 or a.size == 0:
            finite = np.isfinite(a)
            if finite.any() and self._count == 0:
                self._ref = float(a[finite][0])
            self._count += int(finite.sum())
            return a.copy()
        out = np.empty_like(a)
        ref, last, count = _ema(a, self.weight, self._ref, self._last, self._count, out)
        self._ref, self._last, self._count = float(ref), float(last), int(count)
        return out


def debias_factor(weight: float, count: int) -> float:
    """1 - w^n, the debiasing divisor after n values (for explanations in the GUI)."""
    return 1.0 - math.pow(check_weight(weight), int(count))
