"""Centred finite differences in float64: the check beside every backprop gradient.

The loss is recomputed here from the weights alone, in float64, by a forward pass
written independently of the engine (the engine runs in float32), so the estimate
[L(w + h) − L(w − h)] / (2h) is a real second opinion on the analytic gradient.
"""
from __future__ import annotations

import numpy as np

#: Keras's clip for log loss on probabilities (keras.backend.epsilon())
EPSILON = 1e-7
#: step of the centred difference; in float64 the error is ~h² ≈ 1e-10
DEFAULT_H = 1e-5


def _act64(name: str, z: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name in (None, "linear"):
        return z
    raise ValueError(f"finite differences do not know the activation {name!r}")


def loss64(weights: list[np.ndarray], activations: list[str | None], loss_name: str,
           x: np.ndarray, y: np.ndarray) -> float:
    """Mean loss of a stack of Dense layers (weights in Keras order) in float64."""
    a = np.asarray(x, np.float64)                                 # (N, I)
    z = a
    for k, act in enumerate(activations):
        kernel = np.asarray(weights[2 * k], np.float64)          # (I, U)
        bias = np.asarray(weights[2 * k + 1], np.float64)        # (U,)
        z = a @ kernel + bias                                     # (N, U)
        a = _act64(act, z)
    t = np.asarray(y, np.float64).reshape(a.shape)               # (N, U)
    if loss_name == "binary_crossentropy":
        if activations[-1] == "sigmoid":
            # from the logits, as the engine's fused loss: exact where σ(z) rounds to 0 or 1
            per = np.maximum(z, 0.0) - z * t + np.log1p(np.exp(-np.abs(z)))
        else:
            p = np.clip(a, EPSILON, 1.0 - EPSILON)
            per = -(t * np.log(p) + (1.0 - t) * np.log(1.0 - p))
    elif loss_name == "mean_squared_error":
        per = (a - t) ** 2
    else:
        raise ValueError(f"finite differences do not know the loss {loss_name!r}")
    return float(np.mean(per))


def centred_differences(weights: list[np.ndarray], activations: list[str | None],
                        loss_name: str, x: np.ndarray, y: np.ndarray, h: float = DEFAULT_H):
    """For every scalar weight: (L(w + h), L(w − h), estimate), on float64 copies.

    Returns a list shaped like `weights` of arrays (..., 3).
    """
    base = [np.array(w, dtype=np.float64) for w in weights]      # copies: the model is untouched
    out = []
    for k, w in enumerate(base):
        res = np.empty(w.shape + (3,), np.float64)
        for idx in np.ndindex(w.shape):
            old = w[idx]
            w[idx] = old + h
            plus = loss64(base, activations, loss_name, x, y)
            w[idx] = old - h
            minus = loss64(base, activations, loss_name, x, y)
            w[idx] = old
            res[idx] = (plus, minus, (plus - minus) / (2.0 * h))
        out.append(res)
    return out
