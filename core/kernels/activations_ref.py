"""Activations the slow, obvious way: the formulas activations.py computes fast.

Plain NumPy in float64, element by element as the formulas read; nothing here calls a fast
kernel. A backward function takes dy = dL/d(output) and returns dL/d(input).
tests/ check the fast kernels against these functions.
"""
from __future__ import annotations

import numpy as np


def relu(z):
    """relu(z) = max(z, 0)."""
    return np.where(z > 0, z, 0.0)


def relu_grad(z, dy):
    """dL/dz = dy where z > 0, else 0 (relu'(z) is 1 for z > 0, 0 otherwise)."""
    return np.where(z > 0, dy, 0.0)


def sigmoid(z):
    """σ(z) = 1 / (1 + e^(-z)), computed as e^z / (1 + e^z) for z < 0 so e^(-z) never overflows."""
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def sigmoid_grad(a, dy):
    """dL/dz = dy · σ'(z) = dy · a(1 - a), from the output a = σ(z)."""
    a = np.asarray(a, dtype=np.float64)
    return dy * a * (1.0 - a)


def tanh(z):
    """tanh(z) = (e^z - e^(-z)) / (e^z + e^(-z))."""
    return np.tanh(np.asarray(z, dtype=np.float64))


def tanh_grad(a, dy):
    """dL/dz = dy · (1 - a²), from the output a = tanh(z)."""
    a = np.asarray(a, dtype=np.float64)
    return dy * (1.0 - a * a)


def leaky_relu(z, alpha):
    """z for z > 0, else α·z."""
    return np.where(z > 0, z, alpha * z)


def leaky_relu_grad(z, dy, alpha):
    """dL/dz = dy for z > 0, else α·dy."""
    return np.where(z > 0, dy, alpha * dy)


def softmax(z):
    """p_k = e^(z_k) / Σ_j e^(z_j) over the last axis; the row's maximum is subtracted first
    (the same p, and e^(...) never overflows)."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_grad(p, dy):
    """dL/dz = Jᵀ·dy with the softmax's Jacobian J = diag(p) - p·pᵀ (∂p_i/∂z_j = p_i(δ_ij - p_j)),
    built in full, one sample at a time."""
    dz = np.zeros(p.shape)
    for n in range(p.shape[0]):
        jac = np.diag(p[n]) - np.outer(p[n], p[n])
        dz[n] = jac.T @ dy[n]
    return dz
