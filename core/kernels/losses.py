"""Loss kernels, each returning (per_sample_loss (N,), grad).

All are mean-reduced over the batch as Keras does: the training loss is
per_sample_loss.mean() and `grad` is the derivative of that mean with respect to the
loss's input (logits or predictions), so it already carries the 1/N. Per-sample values of
the Keras-named losses average over the non-batch axes, as Keras averages over the last.

The Keras-named losses on probabilities (binary_crossentropy, categorical_crossentropy,
sparse_categorical_crossentropy) clip to [1e-7, 1 - 1e-7] exactly as Keras does, so
their values match a Keras model's; where clipping is active their gradient is zero,
which is also what Keras's automatic differentiation gives. The *_cross_entropy losses on
logits are the stable fused forms a Softmax/Sigmoid output layer should use.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._common import as_float_array, as_labels, same_dtype
from .fast_exp import exp_nonpositive_inplace

__all__ = [
    "softmax_cross_entropy",
    "softmax_cross_entropy_onehot",
    "sigmoid_binary_cross_entropy",
    "mean_squared_error",
    "mean_absolute_error",
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
]

EPSILON = 1e-7  # keras.backend.epsilon()


@njit(cache=True, nogil=True)
def _row_max(z, r):
    m = z[r, 0]
    for c in range(1, z.shape[1]):
        v = z[r, c]
        if v > m or v != v:
            m = v
            if v != v:
                break
    return m


@njit(cache=True, nogil=True)
def _softmax_rows(z, out):
    """Writes softmax(z[r]) into out[r] for every row; returns each row's log-sum-exp.

    The exponentials of the whole block go through one vectorised pass (fast_exp): the
    arguments z - max are never positive.
    """
    n_rows, n_cols = z.shape
    m = np.empty(n_rows, dtype=z.dtype)
    for r in range(n_rows):
        m[r] = _row_max(z, r)
        for c in range(n_cols):
            out[r, c] = z[r, c] - m[r]
    exp_nonpositive_inplace(out.reshape(-1))
    lse = np.empty(n_rows, dtype=np.float64)
    for r in range(n_rows):
        s = 0.0
        for c in range(n_cols):
            s += out[r, c]
        for c in range(n_cols):
            out[r, c] /= s
        lse[r] = m[r] + np.log(s)
    return lse


@njit(cache=True, nogil=True)
def softmax_xent_sparse_jit(z, labels):
    n_rows = z.shape[0]
    loss = np.empty(n_rows, dtype=z.dtype)
    grad = np.empty_like(z)  # (N, C)
    inv_n = 1.0 / max(n_rows, 1)
    lse = _softmax_rows(z, grad)
    for r in range(n_rows):
        y = labels[r]
        loss[r] = lse[r] - z[r, y]
        grad[r, y] -= 1.0
        for c in range(z.shape[1]):
            grad[r, c] *= inv_n
    return loss, grad


@njit(cache=True, nogil=True)
def _softmax_xent_onehot(z, t):
    n_rows, n_cols = z.shape
    loss = np.empty(n_rows, dtype=z.dtype)
    grad = np.empty_like(z)  # (N, C)
    inv_n = 1.0 / max(n_rows, 1)
    lse = _softmax_rows(z, grad)
    for r in range(n_rows):
        acc = 0.0
        t_sum = 0.0
        for c in range(n_cols):
            tc = t[r, c]
            t_sum += tc
            if tc != 0.0:  # skip 0 * (-inf) from a -inf logit the target ignores
                acc += tc * (lse[r] - z[r, c])
        loss[r] = acc
        # exact derivative of -sum t log softmax: equals softmax - t when t sums to 1
        for c in range(n_cols):
            grad[r, c] = (grad[r, c] * t_sum - t[r, c]) * inv_n
    return loss, grad


@njit(cache=True, nogil=True)
def _sigmoid_bce_logits(z, t):
    n_rows, d = z.shape
    loss = np.empty(n_rows, dtype=z.dtype)
    grad = np.empty_like(z)  # (N, D)
    scale = 1.0 / max(n_rows * d, 1)
    for r in range(n_rows):
        acc = 0.0
        for c in range(d):
            v = z[r, c]
            tc = t[r, c]
            acc += max(v, 0.0) - v * tc + np.log1p(np.exp(-abs(v)))
            if v >= 0:
                s = 1.0 / (1.0 + np.exp(-v))
            else:
                e = np.exp(v)
                s = e / (1.0 + e)
            grad[r, c] = (s - tc) * scale
        loss[r] = acc / d
    return loss, grad


@njit(cache=True, nogil=True)
def _mse(t, p):
    n_rows, d = p.shape
    loss = np.empty(n_rows, dtype=p.dtype)
    grad = np.empty_like(p)  # (N, D)
    scale = 2.0 / max(n_rows * d, 1)
    for r in range(n_rows):
        acc = 0.0
        for c in range(d):
            diff = p[r, c] - t[r, c]
            acc += diff * diff
            grad[r, c] = diff * scale
        loss[r] = acc / d
    return loss, grad


@njit(cache=True, nogil=True)
def _mae(t, p):
    n_rows, d = p.shape
    loss = np.empty(n_rows, dtype=p.dtype)
    grad = np.empty_like(p)  # (N, D)
    scale = 1.0 / max(n_rows * d, 1)
    for r in range(n_rows):
        acc = 0.0
        for c in range(d):
            diff = p[r, c] - t[r, c]
            acc += abs(diff)
            if diff > 0:
                grad[r, c] = scale
            elif diff < 0:
                grad[r, c] = -scale
            elif diff == 0:
                grad[r, c] = 0.0
            else:
                grad[r, c] = diff  # NaN
        loss[r] = acc / d
    return loss, grad


@njit(cache=True, nogil=True)
def _clip(v, lo, hi):
    # written out so that NaN passes through (np.clip's NaN handling is not a promise)
    if v < lo:
        return lo
    if v > hi:
        return hi
    return v


@njit(cache=True, nogil=True)
def _bce_probs(t, p, lo, hi):
    n_rows, d = p.shape
    loss = np.empty(n_rows, dtype=p.dtype)
    grad = np.empty_like(p)  # (N, D)
    scale = 1.0 / max(n_rows * d, 1)
    for r in range(n_rows):
        acc = 0.0
        for c in range(d):
            pv = p[r, c]
            tc = t[r, c]
            q = _clip(pv, lo, hi)
            acc -= tc * np.log(q) + (1.0 - tc) * np.log(1.0 - q)
            if pv < lo or pv > hi:
                grad[r, c] = 0.0
            else:
                grad[r, c] = (-tc / q + (1.0 - tc) / (1.0 - q)) * scale
        loss[r] = acc / d
    return loss, grad


@njit(cache=True, nogil=True)
def _cce_probs(t, p, lo, hi):
    """Keras on probabilities: q = p / sum(p), clipped; loss -sum t log q."""
    n_rows, n_cols = p.shape
    loss = np.empty(n_rows, dtype=p.dtype)
    grad = np.empty_like(p)  # (N, C): holds dL/dq first, then dL/dp
    inv_n = 1.0 / max(n_rows, 1)
    for r in range(n_rows):
        s = 0.0
        for c in range(n_cols):
            s += p[r, c]
        acc = 0.0
        gq = 0.0  # sum_j dL/dq_j * q_j
        for c in range(n_cols):
            q = p[r, c] / s
            qc = _clip(q, lo, hi)
            tc = t[r, c]
            acc -= tc * np.log(qc)
            g = 0.0 if (q < lo or q > hi) else -tc / qc
            grad[r, c] = g
            gq += g * q
        loss[r] = acc
        # through the normalisation q_j = p_j / s: dL/dp_k = (g_k - sum_j g_j q_j) / s
        for c in range(n_cols):
            grad[r, c] = (grad[r, c] - gq) / s * inv_n
    return loss, grad


@njit(cache=True, nogil=True)
def _sparse_cce_probs(labels, p, lo, hi):
    """As Keras: each score clipped to [lo, hi] first, then the row renormalised, so a row of
    scores that are all 0 (unscaled pixels through a sigmoid output) gives a large, finite
    loss instead of 0/0. L = log s - log c_y with c = clip(p), s = sum(c); the gradient
    flows only through the scores the clip left alone."""
    n_rows, n_cols = p.shape
    loss = np.empty(n_rows, dtype=p.dtype)
    grad = np.empty_like(p)  # (N, C)
    inv_n = 1.0 / max(n_rows, 1)
    for r in range(n_rows):
        s = 0.0
        for c in range(n_cols):
            s += _clip(p[r, c], lo, hi)
        y = labels[r]
        cy = _clip(p[r, y], lo, hi)
        loss[r] = np.log(s) - np.log(cy)
        for c in range(n_cols):
            v = p[r, c]
            grad[r, c] = inv_n / s if lo <= v <= hi else 0.0
        v = p[r, y]
        if lo <= v <= hi:
            grad[r, y] -= inv_n / cy
        elif v != v:  # NaN in, NaN out: the step's check must see it
            grad[r, y] = v
    return loss, grad


def _per_sample(name, a):
    """(N,) or (N, ...) -> 2-D (N, D) view for the element-wise losses."""
    if a.ndim < 1:
        raise ValueError(f"{name} needs a batch axis, got a scalar")
    return a if a.ndim == 2 else a.reshape(a.shape[0], int(np.prod(a.shape[1:])))


def _pair(name_t, t, name_p, p):
    t = as_float_array(name_t, t, min_ndim=1)
    p = as_float_array(name_p, p, min_ndim=1)
    if t.shape != p.shape:
        raise ValueError(f"{name_t} and {name_p} must have the same shape, got {t.shape} and {p.shape}")
    same_dtype(**{name_t: t, name_p: p})
    if p.ndim > 1 and int(np.prod(p.shape[1:])) == 0:
        raise ValueError(f"{name_p} has no values per sample (shape {p.shape})")
    return t, p


def _bounds(dtype):
    lo = dtype.type(EPSILON)
    return lo, dtype.type(1) - lo


def _class_scores(name, a):
    a = as_float_array(name, a, ndim=2)
    if a.shape[1] < 1:
        raise ValueError(f"{name} needs at least one class, got shape {a.shape}")
    return a


def softmax_cross_entropy(logits, labels):
    """Softmax + cross-entropy on logits (N, C) with int class ids (N,); grad = (softmax - onehot) / N."""
    logits = _class_scores("logits", logits)
    labels = as_labels("labels", labels, logits.shape[0], logits.shape[1])
    return softmax_xent_sparse_jit(logits, labels)


def softmax_cross_entropy_onehot(logits, targets):
    """Softmax + cross-entropy on logits (N, C) with target distributions (N, C)."""
    logits = _class_scores("logits", logits)
    targets = as_float_array("targets", targets, ndim=2)
    if targets.shape != logits.shape:
        raise ValueError(f"targets must have shape {logits.shape}, got {targets.shape}")
    same_dtype(logits=logits, targets=targets)
    return _softmax_xent_onehot(logits, targets)


def _flat_call(kernel, a, b, *extra):
    """Run an element-wise loss kernel on (N, D) views; grad gets the inputs' shape back."""
    loss, grad = kernel(_per_sample("a", a), _per_sample("b", b), *extra)
    return loss, grad.reshape(a.shape)


def sigmoid_binary_cross_entropy(logits, targets):
    """Sigmoid + binary cross-entropy on logits (N,) or (N, D): max(z,0) - z*t + log1p(exp(-|z|))."""
    logits, targets = _pair("logits", logits, "targets", targets)
    return _flat_call(_sigmoid_bce_logits, logits, targets)


def mean_squared_error(y_true, y_pred):
    """mean((p - t)**2) per sample; grad = 2 (p - t) / (N * D)."""
    y_true, y_pred = _pair("y_true", y_true, "y_pred", y_pred)
    return _flat_call(_mse, y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    """mean(|p - t|) per sample; grad = sign(p - t) / (N * D)."""
    y_true, y_pred = _pair("y_true", y_true, "y_pred", y_pred)
    return _flat_call(_mae, y_true, y_pred)


def binary_crossentropy(y_true, y_pred):
    """Keras binary cross-entropy on probabilities, p clipped to [1e-7, 1 - 1e-7]; grad wrt p."""
    y_true, y_pred = _pair("y_true", y_true, "y_pred", y_pred)
    return _flat_call(_bce_probs, y_true, y_pred, *_bounds(y_pred.dtype))


def categorical_crossentropy(y_true, y_pred):
    """Keras categorical cross-entropy on probabilities (N, C): rows renormalised, then clipped."""
    y_pred = _class_scores("y_pred", y_pred)
    y_true = as_float_array("y_true", y_true, ndim=2)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true must have shape {y_pred.shape}, got {y_true.shape}")
    same_dtype(y_true=y_true, y_pred=y_pred)
    return _cce_probs(y_true, y_pred, *_bounds(y_pred.dtype))


def sparse_categorical_crossentropy(labels, y_pred):
    """categorical_crossentropy with int class ids (N,) in place of one-hot rows."""
    y_pred = _class_scores("y_pred", y_pred)
    labels = as_labels("labels", labels, y_pred.shape[0], y_pred.shape[1])
    return _sparse_cce_probs(labels, y_pred, *_bounds(y_pred.dtype))
