"""Losses the slow, obvious way: the per-sample values losses.py computes fast (with Keras's
conventions: probabilities clipped to [ε, 1 - ε], ε = 1e-7).

Plain NumPy in float64; nothing here calls a fast kernel. Each function returns one loss
per sample (a model's loss is their mean). tests/ check the fast kernels against these and
their gradients against finite differences of these.
"""
from __future__ import annotations

import numpy as np

EPS = 1e-7  # keras.backend.epsilon()


def _logsumexp(z, axis):
    """log Σ e^z, with the maximum taken out first so that e^(...) never overflows."""
    m = z.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True))).squeeze(axis)


def softmax_cross_entropy(z, labels):
    """From logits z (N, C) and class ids: L_n = -log softmax(z_n)[y_n] = log Σ_k e^(z_nk) - z_n,y_n."""
    z = np.asarray(z, dtype=np.float64)
    return np.array([_logsumexp(z[n], 0) - z[n, labels[n]] for n in range(z.shape[0])])


def softmax_cross_entropy_onehot(z, t):
    """From logits z and target distributions t (N, C): L_n = -Σ_k t_nk · log softmax(z_n)_k."""
    z = np.asarray(z, dtype=np.float64)
    logp = z - _logsumexp(z, 1)[:, None]
    return -(t * logp).sum(axis=1)


def sigmoid_binary_cross_entropy(z, t):
    """From logits z and targets t in [0, 1]: the mean over a sample's outputs of
    -t·log σ(z) - (1 - t)·log(1 - σ(z)) = t·log(1 + e^(-z)) + (1 - t)·log(1 + e^z)."""
    z = np.asarray(z, dtype=np.float64).reshape(len(z), -1)
    t = np.asarray(t, dtype=np.float64).reshape(len(t), -1)
    # log(1 + e^x) as logaddexp(0, x): NumPy evaluates it without overflow
    per = t * np.logaddexp(0, -z) + (1 - t) * np.logaddexp(0, z)
    return per.mean(axis=1)


def mean_squared_error(t, p):
    """Mean over a sample's outputs of (p - t)²."""
    d = np.asarray(p, np.float64) - t
    return (d**2).reshape(len(d), -1).mean(axis=1)


def mean_absolute_error(t, p):
    """Mean over a sample's outputs of |p - t|."""
    d = np.asarray(p, np.float64) - t
    return np.abs(d).reshape(len(d), -1).mean(axis=1)


def binary_crossentropy(t, p, eps=EPS):
    """From probabilities p: mean over a sample's outputs of -t·log q - (1 - t)·log(1 - q),
    q = p clipped to [ε, 1 - ε]."""
    t = np.asarray(t, np.float64).reshape(len(t), -1)
    q = np.clip(np.asarray(p, np.float64).reshape(len(p), -1), eps, 1 - eps)
    return -(t * np.log(q) + (1 - t) * np.log(1 - q)).mean(axis=1)


def categorical_crossentropy(t, p, eps=EPS):
    """From scores p (N, C): L_n = -Σ_k t_nk · log q_nk, q = p / Σ_k p (each row rescaled to
    sum to 1, as Keras does) clipped to [ε, 1 - ε]."""
    p = np.asarray(p, np.float64)
    q = np.clip(p / p.sum(axis=1, keepdims=True), eps, 1 - eps)
    return -(t * np.log(q)).sum(axis=1)


def sparse_categorical_crossentropy(labels, p, eps=EPS):
    """From scores p (N, C) and class ids, as Keras (TensorFlow) computes it: every score
    clipped to [ε, 1 - ε] first, then the row rescaled to sum to 1: L_n = -log(c_n,y / Σ_k c_nk)."""
    c = np.clip(np.asarray(p, np.float64), eps, 1 - eps)
    return -np.log(c[np.arange(len(c)), labels] / c.sum(axis=1))
