"""Activation kernels.

Element-wise ones work on any shape: the wrapper hands the kernel a flat view and reshapes
the result, so each kernel compiles once per dtype. NaN in gives NaN out, including in the
backward passes (a NaN pre-activation makes its gradient NaN rather than a masked 0), so
a diverging network is noticed instead of silently frozen.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._common import as_float_array, same_dtype

__all__ = [
    "relu_forward",
    "relu_backward",
    "sigmoid_forward",
    "sigmoid_backward",
    "tanh_forward",
    "tanh_backward",
    "leaky_relu_forward",
    "leaky_relu_backward",
    "softmax_forward",
    "softmax_backward",
]


@njit(cache=True, nogil=True)
def _relu_forward(z):
    out = np.empty_like(z)
    for i in range(z.size):
        v = z[i]
        out[i] = v if (v > 0 or v != v) else 0.0
    return out


@njit(cache=True, nogil=True)
def _relu_backward(z, dy):
    out = np.empty_like(dy)
    for i in range(z.size):
        v = z[i]
        if v > 0:
            out[i] = dy[i]
        elif v <= 0:
            out[i] = dy[i] * 0.0  # keeps NaN/inf arriving in dy visible
        else:
            out[i] = v  # NaN pre-activation
    return out


@njit(cache=True, nogil=True)
def _sigmoid_scalar(v):
    # exp of a non-positive number only: never overflows for large |v|
    if v >= 0:
        return 1.0 / (1.0 + np.exp(-v))
    e = np.exp(v)
    return e / (1.0 + e)


@njit(cache=True, nogil=True)
def _sigmoid_forward(z):
    out = np.empty_like(z)
    for i in range(z.size):
        out[i] = _sigmoid_scalar(z[i])
    return out


@njit(cache=True, nogil=True)
def _sigmoid_backward(a, dy):
    out = np.empty_like(dy)
    for i in range(a.size):
        out[i] = dy[i] * a[i] * (1.0 - a[i])
    return out


@njit(cache=True, nogil=True)
def _tanh_forward(z):
    out = np.empty_like(z)
    for i in range(z.size):
        out[i] = np.tanh(z[i])
    return out


@njit(cache=True, nogil=True)
def _tanh_backward(a, dy):
    out = np.empty_like(dy)
    for i in range(a.size):
        out[i] = dy[i] * (1.0 - a[i] * a[i])
    return out


@njit(cache=True, nogil=True)
def _leaky_relu_forward(z, alpha):
    out = np.empty_like(z)
    for i in range(z.size):
        v = z[i]
        out[i] = v if v > 0 else alpha * v  # NaN: alpha * NaN is NaN
    return out


@njit(cache=True, nogil=True)
def _leaky_relu_backward(z, dy, alpha):
    out = np.empty_like(dy)
    for i in range(z.size):
        v = z[i]
        if v > 0:
            out[i] = dy[i]
        elif v <= 0:  # TensorFlow's rule: slope alpha at exactly 0
            out[i] = alpha * dy[i]
        else:
            out[i] = v
    return out


@njit(cache=True, nogil=True)
def softmax_forward_jit(z):
    n_rows, n_cols = z.shape
    p = np.empty_like(z)  # (N, C)
    for r in range(n_rows):
        m = z[r, 0]
        for c in range(1, n_cols):
            v = z[r, c]
            if v > m or v != v:  # a NaN max makes the whole row NaN
                m = v
                if v != v:
                    break
        s = 0.0
        for c in range(n_cols):
            e = np.exp(z[r, c] - m)
            p[r, c] = e
            s += e
        inv = 1.0 / s
        for c in range(n_cols):
            p[r, c] *= inv
    return p


@njit(cache=True, nogil=True)
def _softmax_backward(p, dy):
    n_rows, n_cols = p.shape
    dz = np.empty_like(dy)  # (N, C)
    for r in range(n_rows):
        s = 0.0
        for c in range(n_cols):
            s += dy[r, c] * p[r, c]
        for c in range(n_cols):
            dz[r, c] = p[r, c] * (dy[r, c] - s)
    return dz


def _unary(name, z):
    return as_float_array(name, z, min_ndim=0)


def _binary(name_a, a, name_b, b):
    a = as_float_array(name_a, a)
    b = as_float_array(name_b, b)
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}")
    same_dtype(**{name_a: a, name_b: b})
    return a, b


def _alpha(alpha, dtype):
    if isinstance(alpha, bool) or not np.isscalar(alpha) or not np.isreal(alpha):
        raise ValueError(f"alpha must be a real number, got {alpha!r}")
    return dtype.type(alpha)  # same type as the data: one specialisation per dtype


def relu_forward(z):
    """max(z, 0) element-wise, any shape."""
    z = _unary("z", z)
    return _relu_forward(z.ravel()).reshape(z.shape)


def relu_backward(z, dy):
    """dy where z > 0, else 0 (z is the pre-activation input)."""
    z, dy = _binary("z", z, "dy", dy)
    return _relu_backward(z.ravel(), dy.ravel()).reshape(z.shape)


def sigmoid_forward(z):
    """1 / (1 + exp(-z)) element-wise, without overflow for large |z|."""
    z = _unary("z", z)
    return _sigmoid_forward(z.ravel()).reshape(z.shape)


def sigmoid_backward(a, dy):
    """dy * a * (1 - a), where a = sigmoid_forward(z) is the layer's output."""
    a, dy = _binary("a", a, "dy", dy)
    return _sigmoid_backward(a.ravel(), dy.ravel()).reshape(a.shape)


def tanh_forward(z):
    """tanh(z) element-wise."""
    z = _unary("z", z)
    return _tanh_forward(z.ravel()).reshape(z.shape)


def tanh_backward(a, dy):
    """dy * (1 - a**2), where a = tanh_forward(z) is the layer's output."""
    a, dy = _binary("a", a, "dy", dy)
    return _tanh_backward(a.ravel(), dy.ravel()).reshape(a.shape)


def leaky_relu_forward(z, alpha=0.01):
    """z where z > 0, else alpha * z."""
    z = _unary("z", z)
    return _leaky_relu_forward(z.ravel(), _alpha(alpha, z.dtype)).reshape(z.shape)


def leaky_relu_backward(z, dy, alpha=0.01):
    """dy where z > 0, else alpha * dy (z is the pre-activation input)."""
    z, dy = _binary("z", z, "dy", dy)
    return _leaky_relu_backward(z.ravel(), dy.ravel(), _alpha(alpha, z.dtype)).reshape(z.shape)


def _rows(name, a):
    if a.ndim < 1 or a.shape[-1] < 1:
        raise ValueError(f"{name} needs a non-empty last axis (classes), got shape {a.shape}")
    return a.reshape(-1, a.shape[-1])


def softmax_forward(z):
    """Softmax over the last axis of z (N, C) (any leading axes accepted), max-subtracted."""
    z = as_float_array("z", z, min_ndim=1)
    return softmax_forward_jit(_rows("z", z)).reshape(z.shape)


def softmax_backward(p, dy):
    """dz = p * (dy - sum(dy * p, last axis)), where p = softmax_forward(z)."""
    p, dy = _binary("p", p, "dy", dy)
    if p.ndim < 1:
        raise ValueError(f"p must have at least 1 dimension, got shape {p.shape}")
    return _softmax_backward(_rows("p", p), _rows("dy", dy)).reshape(p.shape)
