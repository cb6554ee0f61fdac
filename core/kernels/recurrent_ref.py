"""LSTM and SimpleRNN the slow, obvious way: the formulas recurrent.py computes, for reading
and testing.

Plain NumPy in float64, one time step after the other, batch-major (N, T, ·) as the layers
see it; nothing here calls a fast kernel. tests/test_kernels_recurrent.py checks
recurrent.py against these functions and against centred finite differences.

    LSTM       z_t = x_t·W + h_{t−1}·U + b, gate blocks i, f, c, o (Keras's order)
               i, f, o = σ(z_i), σ(z_f), σ(z_o);  g = tanh(z_c)
               c_t = f·c_{t−1} + i·g;  h_t = o·tanh(c_t);  h_{−1} = c_{−1} = 0
    SimpleRNN  h_t = act(x_t·W + h_{t−1}·U + b)
"""
from __future__ import annotations

import numpy as np

ACTIVATIONS = {
    "linear": (lambda z: z, lambda z, h: np.ones_like(z)),
    "tanh": (np.tanh, lambda z, h: 1.0 - h ** 2),
    "sigmoid": (lambda z: 1.0 / (1.0 + np.exp(-z)), lambda z, h: h * (1.0 - h)),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z, h: (z > 0).astype(np.float64)),
}


def _act(name, alpha):
    if name == "leaky_relu":
        return (lambda z: np.where(z > 0, z, alpha * z),
                lambda z, h: np.where(z > 0, 1.0, alpha))
    return ACTIVATIONS[name]


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def lstm_forward(x, w, u, b):
    """Every step's (h, c, i, f, g, o), each (N, T, m), in float64."""
    x, w, u, b = (np.asarray(a, np.float64) for a in (x, w, u, b))
    n, t_len, _ = x.shape
    m = u.shape[0]
    out = {k: np.zeros((n, t_len, m)) for k in ("h", "c", "i", "f", "g", "o")}
    h, c = np.zeros((n, m)), np.zeros((n, m))
    for t in range(t_len):
        z = x[:, t] @ w + h @ u + b
        i, f = _sig(z[:, :m]), _sig(z[:, m:2 * m])
        g, o = np.tanh(z[:, 2 * m:3 * m]), _sig(z[:, 3 * m:])
        c = f * c + i * g
        h = o * np.tanh(c)
        for k, v in (("h", h), ("c", c), ("i", i), ("f", f), ("g", g), ("o", o)):
            out[k][:, t] = v
    return out


def _arriving(dy, n, t_len, m):
    """∂L/∂h_t arriving from above at every step: dy at the last step only (N, m), as
    a many-to-one network gives it, or at every step (N, T, m)."""
    arriving = np.zeros((n, t_len, m))
    if dy.ndim == 2:
        arriving[:, -1] = dy
    else:
        arriving[:] = dy
    return arriving


def lstm_backward(x, w, u, b, dy):
    """(dx, dW, dU, db, dh per step) given dy = ∂L/∂h: (N, m) for the last step only, or
    (N, T, m) for every step. Backpropagation through time, one step at a time."""
    x, w, u, dy = (np.asarray(a, np.float64) for a in (x, w, u, dy))
    s = lstm_forward(x, w, u, b)
    n, t_len, _ = x.shape
    m = u.shape[0]
    arriving = _arriving(dy, n, t_len, m)
    dx, dw, du, db = np.zeros(x.shape), np.zeros(w.shape), np.zeros(u.shape), np.zeros(w.shape[1])
    dh_steps = np.zeros((n, t_len, m))
    dh_next, dc_next = np.zeros((n, m)), np.zeros((n, m))
    for t in range(t_len - 1, -1, -1):
        i, f, g, o, c = (s[k][:, t] for k in ("i", "f", "g", "o", "c"))
        c_prev = s["c"][:, t - 1] if t > 0 else np.zeros((n, m))
        h_prev = s["h"][:, t - 1] if t > 0 else np.zeros((n, m))
        dh = arriving[:, t] + dh_next
        dh_steps[:, t] = dh
        dc = dc_next + dh * o * (1.0 - np.tanh(c) ** 2)
        dz = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f),
                             dc * i * (1 - g ** 2), dh * np.tanh(c) * o * (1 - o)], axis=1)
        dw += x[:, t].T @ dz
        du += h_prev.T @ dz
        db += dz.sum(axis=0)
        dx[:, t] = dz @ w.T
        dh_next = dz @ u.T
        dc_next = dc * f
    return dx, dw, du, db, dh_steps


def rnn_forward(x, w, u, b, activation="tanh", alpha=0.0):
    """Every step's (z, h), each (N, T, m), in float64."""
    x, w, u, b = (np.asarray(a, np.float64) for a in (x, w, u, b))
    f, _ = _act(activation, alpha)
    n, t_len, _ = x.shape
    m = u.shape[0]
    zs, hs = np.zeros((n, t_len, m)), np.zeros((n, t_len, m))
    h = np.zeros((n, m))
    for t in range(t_len):
        zs[:, t] = x[:, t] @ w + h @ u + b
        h = hs[:, t] = f(zs[:, t])
    return zs, hs


def rnn_backward(x, w, u, b, dy, activation="tanh", alpha=0.0):
    """(dx, dW, dU, db, dh per step) of a SimpleRNN, as lstm_backward."""
    x, w, u, dy = (np.asarray(a, np.float64) for a in (x, w, u, dy))
    _, df = _act(activation, alpha)
    zs, hs = rnn_forward(x, w, u, b, activation, alpha)
    n, t_len, _ = x.shape
    m = u.shape[0]
    arriving = _arriving(dy, n, t_len, m)
    dx, dw, du, db = np.zeros(x.shape), np.zeros(w.shape), np.zeros(u.shape), np.zeros(m)
    dh_steps = np.zeros((n, t_len, m))
    dh_next = np.zeros((n, m))
    for t in range(t_len - 1, -1, -1):
        h_prev = hs[:, t - 1] if t > 0 else np.zeros((n, m))
        dh = arriving[:, t] + dh_next
        dh_steps[:, t] = dh
        dz = dh * df(zs[:, t], hs[:, t])
        dw += x[:, t].T @ dz
        du += h_prev.T @ dz
        db += dz.sum(axis=0)
        dx[:, t] = dz @ w.T
        dh_next = dz @ u.T
    return dx, dw, du, db, dh_steps
