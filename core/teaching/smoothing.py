"""Preparing training curves for display: smoothing, and decimation that keeps peaks.

Smoothing is the debiased exponential moving average of TensorBoard's scalar plots. For
weight w in [0, 1) and the finite values x_1..x_n seen so far:

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

from core.kernels.smoothing import ema as _ema

__all__ = ["smooth", "Smoother", "check_weight", "PeakDecimator"]


def check_weight(weight) -> float:
    """A smoothing weight in [0, 1); 1 would freeze the average at its start."""
    try:
        w = float(weight)
    except (TypeError, ValueError):
        raise ValueError(f"smoothing weight must be a number, got {weight!r}") from None
    if not (0.0 <= w < 1.0):
        raise ValueError(f"smoothing weight must be in [0, 1), got {w}")
    return w


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


class PeakDecimator:
    """A long curve thinned for drawing: at most about 2·`cap` points, never losing a peak.

    The series is cut into blocks of `block` points (a power of two); each finished block is
    drawn as its lowest and its highest point (in x order), so spikes and dips stay visible
    however long the run gets; the unfinished last block is drawn as it is, so the newest
    points are exact. When the blocks outnumber `cap`, the block size doubles and the blocks
    are rebuilt from the full series: that happens log2(N / cap) times in all, so the total
    work stays proportional to N and each update costs only its new points (amortised).
    A block holding NaN/inf keeps a NaN point so a diverged stretch still shows as a gap.

    `update(x, y)` takes the whole series so far (arrays that only grow) and returns the
    (x, y) to draw.
    """

    def __init__(self, cap: int = 2000):
        if int(cap) < 1:
            raise ValueError(f"cap must be at least 1, got {cap}")
        self.cap = int(cap)
        self.reset()

    def reset(self) -> None:
        self.block = 1
        self._done = 0                      # points folded into finished blocks
        self._xs = np.empty(0)
        self._ys = np.empty(0)
        self._n_out = 0
        self._blocks = 0

    def _append(self, xs: np.ndarray, ys: np.ndarray) -> None:
        need = self._n_out + len(xs)
        if need > len(self._xs):
            cap = max(64, 2 * len(self._xs), need)
            gx, gy = np.empty(cap), np.empty(cap)
            gx[:self._n_out], gy[:self._n_out] = self._xs[:self._n_out], self._ys[:self._n_out]
            self._xs, self._ys = gx, gy
        self._xs[self._n_out:need] = xs
        self._ys[self._n_out:need] = ys
        self._n_out = need

    def _fold(self, x: np.ndarray, y: np.ndarray, start: int, stop: int) -> None:
        """Turn the finished blocks in [start, stop) into their min/max points."""
        b = self.block
        k = (stop - start) // b
        if k == 0:
            return
        xb = x[start:start + k * b].reshape(k, b)    # (K, B)
        yb = y[start:start + k * b].reshape(k, b)    # (K, B)
        self._blocks += k
        self._done = start + k * b
        if b == 1:
            self._append(xb[:, 0], yb[:, 0])
            return
        finite = np.isfinite(yb)
        lo = np.argmin(np.where(finite, yb, np.inf), axis=1)     # (K,)
        hi = np.argmax(np.where(finite, yb, -np.inf), axis=1)    # (K,)
        first, second = np.minimum(lo, hi), np.maximum(lo, hi)
        rows = np.arange(k)
        has_gap = ~finite.all(axis=1)                            # (K,)
        none_finite = ~finite.any(axis=1)
        # per block: first, second, and a NaN marker where the block had a gap
        out_x = np.stack([xb[rows, first], xb[rows, second], xb[rows, second]], axis=1)
        out_y = np.stack([yb[rows, first], yb[rows, second],
                          np.where(has_gap, np.nan, yb[rows, second])], axis=1)
        out_y[none_finite, :2] = np.nan
        keep = np.ones((k, 3), dtype=bool)
        keep[:, 2] = has_gap
        keep[first == second, 1] = False                         # one point is enough
        self._append(out_x[keep], out_y[keep])

    def update(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x, dtype=np.float64)    # (N,)
        y = np.asarray(y, dtype=np.float64)    # (N,)
        n = len(x)
        if len(y) != n:
            raise ValueError(f"x and y differ in length ({n} and {len(y)})")
        if n < self._done:                     # the series was replaced: start over
            self.reset()
        self._fold(x, y, self._done, n)
        while self._blocks > self.cap:
            self.block *= 2
            self._done, self._n_out, self._blocks = 0, 0, 0
            self._fold(x, y, 0, n)
        tail = slice(self._done, n)
        if self._done == n:
            return self._xs[:self._n_out], self._ys[:self._n_out]
        return (np.concatenate([self._xs[:self._n_out], x[tail]]),
                np.concatenate([self._ys[:self._n_out], y[tail]]))
