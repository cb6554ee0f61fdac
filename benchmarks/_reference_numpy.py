"""Plain-NumPy reference for benchmarks/speed.py when PyTorch is not installed.

The course's networks written directly in NumPy (im2col through sliding_window_view and
matrix products on NumPy's BLAS): the baseline a learner would write by hand. Same
layouts as the engine (NHWC, Keras kernel shapes), float32, SGD without momentum.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def conv_forward(x, w, b):
    """valid 3x3 (any k) stride-1 convolution: x (N, H, W, C), w (KH, KW, C, F)."""
    kh, kw, c, f = w.shape
    win = sliding_window_view(x, (kh, kw), axis=(1, 2))  # (N, OH, OW, C, KH, KW)
    n, oh, ow = win.shape[:3]
    cols = win.transpose(0, 1, 2, 4, 5, 3).reshape(n * oh * ow, kh * kw * c)
    y = cols @ w.reshape(kh * kw * c, f) + b
    return y.reshape(n, oh, ow, f), cols


def conv_grad_input(dy, w, x_shape):
    kh, kw, c, f = w.shape
    n, oh, ow, _ = dy.shape
    dcols = (dy.reshape(-1, f) @ w.reshape(-1, f).T).reshape(n, oh, ow, kh, kw, c)
    dx = np.zeros(x_shape, np.float32)
    for i in range(kh):
        for j in range(kw):
            dx[:, i:i + oh, j:j + ow, :] += dcols[:, :, :, i, j, :]
    return dx


def conv_grad_weight(cols, dy, w_shape):
    return (cols.T @ dy.reshape(-1, w_shape[3])).reshape(w_shape)


def max_pool_forward(x):
    n, h, w, c = x.shape
    v = x[:, : h // 2 * 2, : w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2, c)
    y = v.max(axis=(2, 4))
    return y, v


def max_pool_backward(dy, v, x_shape):
    """Route dy to the window maxima (every tied maximum gets it: fine for timing)."""
    mask = v == v.max(axis=(2, 4))[:, :, None, :, None, :]
    dx = np.zeros(x_shape, np.float32)
    n, oh, _, ow, _, c = v.shape
    dx[:, : oh * 2, : ow * 2] = (mask * dy[:, :, None, :, None, :]).reshape(n, oh * 2, ow * 2, c)
    return dx


def softmax_xent(z, y):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    n = len(y)
    loss = -np.log(p[np.arange(n), y]).mean()
    p[np.arange(n), y] -= 1
    return loss, p / n


class NumpyCNN:
    """Conv 32 ReLU, pool, Conv 64 ReLU, pool, Flatten, Dense 128 ReLU, Dense 10; SGD."""

    def __init__(self, weights, lr=0.01):
        self.w = [np.array(a, np.float32) for a in weights]
        self.lr = np.float32(lr)

    def logits(self, x):
        w1, b1, w2, b2, w3, b3, w4, b4 = self.w
        z1, _ = conv_forward(x, w1, b1)
        p1, _ = max_pool_forward(np.maximum(z1, 0))
        z2, _ = conv_forward(p1, w2, b2)
        p2, _ = max_pool_forward(np.maximum(z2, 0))
        h = np.maximum(p2.reshape(len(x), -1) @ w3 + b3, 0)
        return h @ w4 + b4

    def train_step(self, x, y):
        w1, b1, w2, b2, w3, b3, w4, b4 = self.w
        z1, cols1 = conv_forward(x, w1, b1)
        a1 = np.maximum(z1, 0)
        p1, v1 = max_pool_forward(a1)
        z2, cols2 = conv_forward(p1, w2, b2)
        a2 = np.maximum(z2, 0)
        p2, v2 = max_pool_forward(a2)
        f = p2.reshape(len(x), -1)
        z3 = f @ w3 + b3
        h = np.maximum(z3, 0)
        loss, dz4 = softmax_xent(h @ w4 + b4, y)
        g4, gb4 = h.T @ dz4, dz4.sum(0)
        dz3 = (dz4 @ w4.T) * (z3 > 0)
        g3, gb3 = f.T @ dz3, dz3.sum(0)
        dp2 = (dz3 @ w3.T).reshape(p2.shape)
        dz2 = max_pool_backward(dp2, v2, a2.shape) * (z2 > 0)
        g2, gb2 = conv_grad_weight(cols2, dz2, w2.shape), dz2.sum((0, 1, 2))
        dp1 = conv_grad_input(dz2, w2, p1.shape)
        dz1 = max_pool_backward(dp1, v1, a1.shape) * (z1 > 0)
        g1, gb1 = conv_grad_weight(cols1, dz1, w1.shape), dz1.sum((0, 1, 2))
        for p, g in zip(self.w, (g1, gb1, g2, gb2, g3, gb3, g4, gb4)):
            p -= self.lr * g
        return loss


class NumpyMLP:
    """Flatten, Dense 128 ReLU, Dense 10; SGD."""

    def __init__(self, weights, lr=0.01):
        self.w = [np.array(a, np.float32) for a in weights]
        self.lr = np.float32(lr)

    def train_step(self, x, y):
        w1, b1, w2, b2 = self.w
        f = x.reshape(len(x), -1)
        z1 = f @ w1 + b1
        h = np.maximum(z1, 0)
        loss, dz2 = softmax_xent(h @ w2 + b2, y)
        dz1 = (dz2 @ w2.T) * (z1 > 0)
        for p, g in zip(self.w, (f.T @ dz1, dz1.sum(0), h.T @ dz2, dz2.sum(0))):
            p -= self.lr * g
        return loss
