"""`keras.utils`: to_categorical."""
from __future__ import annotations

import numpy as np


def to_categorical(y, num_classes=None, dtype="float32"):
    """Class ids → one-hot rows, as Keras: shape y.shape + (num_classes,) (a trailing axis
    of 1 is dropped first)."""
    y = np.asarray(y)
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise ValueError("to_categorical needs whole class ids")
    elif y.dtype.kind not in "iub":
        raise ValueError(f"to_categorical needs class ids, got {y.dtype} values")
    y = y.astype(np.int64)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y[..., 0]
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical needs class ids ≥ 0, got {int(y.min())}")
    n = int(y.max()) + 1 if num_classes is None else int(num_classes)
    if y.size and y.max() >= n:
        raise ValueError(f"class id {int(y.max())} does not fit num_classes={n}")
    out = np.zeros(y.shape + (n,), dtype=dtype)
    np.put_along_axis(out, y[..., None], 1, axis=-1)
    return out


_seeds: list = []   # a generator of seeds once set_random_seed was called


def set_random_seed(seed):
    """As Keras: make what follows repeatable (Python's and NumPy's generators, and every
    model's initial weights, dropout masks and shuffling drawn from this seed)."""
    import random

    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    _seeds[:] = [np.random.default_rng(seed)]


def next_seed():
    """A seed for a new model or fit: None (fresh randomness) unless set_random_seed was called."""
    return int(_seeds[0].integers(2**31)) if _seeds else None


__all__ = ["to_categorical", "set_random_seed"]
