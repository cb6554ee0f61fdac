"""Preprocessing a lesson can show step by step: one-hot labels, scaling fitted on the
training data only, a stratified train/validation split, and class balancing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "ScalingParams",
    "class_weights",
    "min_max_scale",
    "one_hot",
    "oversample",
    "standardize",
    "train_validation_split",
    "undersample",
]


def _labels(y, name: str = "y") -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class ids, got shape {y.shape}")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        if not np.issubdtype(y.dtype, np.floating) or not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise ValueError(f"{name} must hold integer class ids, got dtype {y.dtype}")
    if y.size and y.min() < 0:
        raise ValueError(f"{name} holds a negative class id ({int(y.min())})")
    return y.astype(np.int64)


def _pair(x, y) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x)
    y = _labels(y)
    if x.ndim == 0 or len(x) != len(y):
        raise ValueError(f"x has {len(x) if x.ndim else 0} samples but y has {len(y)}")
    return x, y


def one_hot(y, num_classes: int | None = None) -> np.ndarray:
    """Class ids (N,) -> float32 (N, num_classes) with a single 1 per row.

    ``num_classes`` defaults to ``max(y) + 1``; an id outside ``0..num_classes-1``
    raises ValueError.
    """
    y = _labels(y)
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    if num_classes < 0:
        raise ValueError(f"num_classes must be >= 0, got {num_classes}")
    if y.size and y.max() >= num_classes:
        raise ValueError(f"class id {int(y.max())} does not fit num_classes={num_classes}")
    out = np.zeros((len(y), num_classes), dtype=np.float32)  # (N, C)
    out[np.arange(len(y)), y] = 1.0
    return out


@dataclass(frozen=True)
class ScalingParams:
    """A fitted scaling: ``apply(x) = (x - shift) / scale``, per feature.

    min-max: shift = training minimum, scale = max - min; standard: shift = mean,
    scale = standard deviation (population, as scikit-learn's StandardScaler). A
    feature that is constant in the training data gets scale 1 so it maps to 0.
    """

    kind: str
    shift: np.ndarray
    scale: np.ndarray

    def apply(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if x.shape[1:] != self.shift.shape:
            raise ValueError(
                f"x has feature shape {x.shape[1:]}, the scaling was fitted on {self.shift.shape}"
            )
        return ((x - self.shift) / self.scale).astype(np.float32)

    def invert(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        return (x * self.scale + self.shift).astype(np.float32)


def _fit_input(x_train) -> np.ndarray:
    # Statistics of the float32 values that apply() will see, so the training minimum
    # and maximum map to exactly 0 and 1.
    x = np.asarray(x_train, dtype=np.float32).astype(np.float64)
    if x.ndim < 1 or len(x) == 0:
        raise ValueError("cannot fit a scaling on an empty training set")
    if not np.all(np.isfinite(x)):
        raise ValueError("x_train contains NaN or infinity; clean the data before scaling")
    return x


def _scaled(params: ScalingParams, x_train, x_other):
    other = params.apply(x_other) if x_other is not None else None
    return params.apply(x_train), other, params


def min_max_scale(x_train, x_other=None):
    """Fit min-max scaling on ``x_train`` (per feature, over axis 0) and apply it to both.

    Returns ``(x_train_scaled, x_other_scaled_or_None, params)``; the training data lands
    in [0, 1], other data uses the same minimum and range (so it may fall outside).
    """
    x = _fit_input(x_train)
    lo = x.min(axis=0)
    span = x.max(axis=0) - lo
    span[span == 0] = 1.0
    params = ScalingParams("min-max", lo.astype(np.float32), span.astype(np.float32))
    return _scaled(params, x_train, x_other)


def standardize(x_train, x_other=None):
    """Fit standardisation (mean 0, standard deviation 1 per feature) on ``x_train`` and
    apply it to both. Returns ``(x_train_scaled, x_other_scaled_or_None, params)``."""
    x = _fit_input(x_train)
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std[std == 0] = 1.0
    params = ScalingParams("standard", mean.astype(np.float32), std.astype(np.float32))
    return _scaled(params, x_train, x_other)


def _stratified_counts(counts: np.ndarray, n_val: int) -> np.ndarray:
    # Largest-remainder apportionment: each class gets floor(share) and the leftover
    # places go to the largest fractional parts, so the total is exactly n_val.
    quota = counts * (n_val / counts.sum())
    take = np.floor(quota).astype(np.int64)
    leftover = n_val - int(take.sum())
    if leftover:
        order = np.lexsort((np.arange(len(counts)), -(quota - take)))
        take[order[:leftover]] += 1
    return take


def train_validation_split(x, y, validation_fraction: float = 0.2, stratify: bool = True, seed: int = 0):
    """Split into ``((x_train, y_train), (x_val, y_val))``, both shuffled.

    ``round(validation_fraction * N)`` samples go to validation. With ``stratify``
    every class keeps (to within one sample) the proportion it has in ``y``.
    """
    x, y = _pair(x, y)
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be between 0 and 1, got {validation_fraction}")
    n = len(y)
    n_val = int(round(validation_fraction * n))
    if n_val < 1 or n_val > n - 1:
        raise ValueError(
            f"{n} samples with validation_fraction={validation_fraction} leaves an empty split"
        )
    rng = np.random.default_rng(seed)
    if stratify:
        classes, counts = np.unique(y, return_counts=True)
        take = _stratified_counts(counts, n_val)
        val_parts, train_parts = [], []
        for cls, k in zip(classes, take):
            members = rng.permutation(np.flatnonzero(y == cls))
            val_parts.append(members[:k])
            train_parts.append(members[k:])
        val_idx = rng.permutation(np.concatenate(val_parts))
        train_idx = rng.permutation(np.concatenate(train_parts))
    else:
        order = rng.permutation(n)
        val_idx, train_idx = order[:n_val], order[n_val:]
    return (x[train_idx], y[train_idx]), (x[val_idx], y[val_idx])


def class_weights(y) -> dict[int, float]:
    """Keras ``class_weight`` dict with the 'balanced' rule: ``N / (n_classes * count_c)``
    for every class present in ``y`` (scikit-learn's compute_class_weight('balanced'))."""
    y = _labels(y)
    if y.size == 0:
        raise ValueError("y is empty")
    classes, counts = np.unique(y, return_counts=True)
    return {int(c): float(len(y) / (len(classes) * k)) for c, k in zip(classes, counts)}


def oversample(x, y, seed: int = 0):
    """Random oversampling: repeat randomly chosen samples of every smaller class until
    each class has as many as the largest. Keeps every original sample; returns
    ``(x, y)`` shuffled."""
    x, y = _pair(x, y)
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    target = counts.max()
    parts = []
    for cls, k in zip(classes, counts):
        members = np.flatnonzero(y == cls)
        extra = rng.choice(members, size=target - k, replace=True)
        parts.append(np.concatenate([members, extra]))
    idx = rng.permutation(np.concatenate(parts))
    return x[idx], y[idx]


def undersample(x, y, seed: int = 0):
    """Random undersampling: keep a random subset of every larger class so each class has
    as many as the smallest. Returns ``(x, y)`` shuffled."""
    x, y = _pair(x, y)
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    target = counts.min()
    parts = [rng.choice(np.flatnonzero(y == cls), size=target, replace=False) for cls in classes]
    idx = rng.permutation(np.concatenate(parts))
    return x[idx], y[idx]
