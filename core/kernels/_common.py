"""What every kernel family shares: the fastmath flags, finiteness checks, argument checks.

FASTMATH is the one set of LLVM fast-math flags the kernels compile with. It lets sums run
in SIMD lanes in any order (reassoc), fuse multiply-adds (contract) and so on, but never
assumes "no NaN/inf" (no nnan/ninf): a NaN or inf must stay visible so a training step can
see it and refuse to apply the update.

Is every value finite? The training step asks this of every gradient, every step. One pass
with no temporary array: adding v*0 for every v gives 0 when all are finite and NaN as soon
as one is NaN or ±inf (inf*0 is NaN). Because FASTMATH has no nnan/ninf, v*0 is not folded
to 0.

The argument checks: the Numba kernels assume clean, C-contiguous float32/float64 arrays;
these helpers turn anything else into a ValueError that names the argument, so a wrong call
fails at the wrapper with a readable message instead of deep inside a compiled function.
"""

from __future__ import annotations

import numbers

import numpy as np
from numba import njit

FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}  # never nnan/ninf: NaN must show

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


# ---------------------------------------------------------------- finite checks


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def all_finite_2d(a):
    """Every value of the 2-D array a (any strides) finite? (Summed in a's own type: twice
    the SIMD lanes for float32.)"""
    s = a.dtype.type(0.0)
    for r in range(a.shape[0]):
        for o in range(a.shape[1]):
            s += a[r, o] * 0.0
    return s == 0.0


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def finite_sum(a):
    """Sum of v*0 over the 1-D array a: 0.0 when every value is finite, else NaN."""
    s = 0.0
    for i in range(a.size):
        s += a[i] * 0.0
    return s


def all_finite(*arrays) -> bool:
    """True if every element of every array is finite (float32/float64; others via NumPy)."""
    for a in arrays:
        if (isinstance(a, np.ndarray) and a.dtype in (np.float32, np.float64)
                and a.flags.c_contiguous and a.flags.writeable):
            if a.size and finite_sum(a.reshape(-1)) != 0.0:
                return False
        elif not np.all(np.isfinite(a)):
            return False
    return True


# ---------------------------------------------------------------- argument checks


def as_float_array(name: str, a, ndim: int | None = None, min_ndim: int | None = None) -> np.ndarray:
    """Return `a` as a C-contiguous float32/float64 array (dtype kept) or raise ValueError."""
    if not isinstance(a, np.ndarray):
        a = np.asarray(a)
    if a.dtype not in FLOAT_DTYPES:
        raise ValueError(f"{name} must be float32 or float64, got dtype {a.dtype}")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {a.shape}")
    if min_ndim is not None and a.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape {a.shape}")
    a = np.asarray(a, order="C")  # not ascontiguousarray: that turns 0-d into 1-d
    if not a.flags.writeable:  # read-only arrays would compile a second specialisation
        a = a.copy()
    return a


def same_dtype(**arrays: np.ndarray) -> np.dtype:
    """Require one float dtype across arrays: mixing would compile a new specialisation per pair."""
    names = list(arrays)
    dtypes = [arrays[n].dtype for n in names]
    if any(d != dtypes[0] for d in dtypes[1:]):
        desc = ", ".join(f"{n}={d}" for n, d in zip(names, dtypes))
        raise ValueError(f"dtypes must match ({desc})")
    return dtypes[0]


def as_labels(name: str, labels, n: int, n_classes: int) -> np.ndarray:
    """Integer class ids of shape (n,) in [0, n_classes), as C-contiguous int64."""
    if not isinstance(labels, np.ndarray):
        labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":  # integers, not booleans (cheap: runs every step)
        raise ValueError(f"{name} must be integer class ids, got dtype {labels.dtype}")
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]  # Keras accepts (N, 1) sparse labels
    if labels.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"{name} must lie in [0, {n_classes}), got values in [{labels.min()}, {labels.max()}]"
        )
    return np.ascontiguousarray(labels, dtype=np.int64)


def pair(name: str, value, allow_none: bool = False) -> tuple[int, int] | None:
    """An int or a 2-sequence of positive ints, as (rows, cols)."""
    if value is None and allow_none:
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        items = (value, value)
    else:
        try:
            items = tuple(value)
        except TypeError:
            raise ValueError(f"{name} must be a positive int or a pair of them, got {value!r}") from None
        if len(items) != 2:
            raise ValueError(f"{name} must be a positive int or a pair of them, got {value!r}")
    out = []
    for v in items:
        if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive int or a pair of them, got {value!r}")
        out.append(int(v))
    return out[0], out[1]


def padding_mode(padding) -> str:
    if isinstance(padding, str) and padding.lower() in ("valid", "same"):
        return padding.lower()
    raise ValueError(f'padding must be "valid" or "same", got {padding!r}')


def output_size(size: int, k: int, stride: int, padding: str) -> tuple[int, int]:
    """Keras/TensorFlow output length and padding before, for one spatial axis."""
    if padding == "valid":
        if size < k:
            raise ValueError(f"input size {size} is smaller than the window {k} with padding='valid'")
        return (size - k) // stride + 1, 0
    out = -(-size // stride)  # ceil without floats
    pad_total = max((out - 1) * stride + k - size, 0)
    return out, pad_total // 2
