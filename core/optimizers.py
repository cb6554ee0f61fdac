"""Optimizers: the base class owns the loop over parameters, subclasses only the rule.

`apply` changes the parameters in place and returns each one's update (new − old),
which a training-step trace shows as "w ← w − η·∂L/∂w". Each rule is written once in
NumPy (`_update`, what a learner reads); where a compiled form exists it lives in
core/kernels/ and gives the same bits. A training step compiled as a whole
(core.fast.dense_step) asks the optimizer for its rule (`fused_rule`) and reports the
step it took (`count_step`): the optimizer stays the one owner of its rule and its state.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np


class FusedRule(NamedTuple):
    """An update a compiled training step may apply itself, as plain data.

    kind "sgd": p ← p + (−learning_rate)·g in float32, the rule of SGD without momentum
    (SGD._update in NumPy, core.kernels.sgd as a kernel).
    """

    kind: str
    learning_rate: np.float32


def _positive(value, what):
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{what} must be a positive finite number, got {value}")
    return value


def _fraction(value, what):
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{what} must be in [0, 1), got {value}")
    return value


def _kernel_ready(p, g) -> bool:
    """Can the in-place kernels take this pair (float32, same shape, C-contiguous)?"""
    return (p.dtype == np.float32 and g.dtype == np.float32 and p.shape == g.shape
            and p.flags.c_contiguous and g.flags.c_contiguous and p.flags.writeable)


class Optimizer:
    name = "optimizer"

    def __init__(self, learning_rate: float, clipnorm: float | None = None,
                 clipvalue: float | None = None):
        self.learning_rate = _positive(learning_rate, "learning_rate")
        #: Keras's gradient clipping: each gradient scaled down to norm ≤ clipnorm, and/or
        #: each value cut to ±clipvalue (an RNN's exploding gradients, tutorial 35)
        self.clipnorm = None if clipnorm is None else _positive(clipnorm, "clipnorm")
        self.clipvalue = None if clipvalue is None else _positive(clipvalue, "clipvalue")
        self.iterations = 0
        self._slots: dict[int, dict[str, np.ndarray]] = {}

    def clip(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        """The gradients as this optimizer applies them (clipped copies when it clips)."""
        if self.clipnorm is None and self.clipvalue is None:
            return grads
        out = []
        for g in grads:
            if self.clipnorm is not None:
                norm = float(np.sqrt(np.sum(np.square(g, dtype=np.float64))))
                if norm > self.clipnorm:
                    g = g * np.float32(self.clipnorm / norm)
            if self.clipvalue is not None:
                g = np.clip(g, -self.clipvalue, self.clipvalue)
            out.append(g)
        return out

    def apply(self, params: list[np.ndarray], grads: list[np.ndarray],
              return_updates: bool = True) -> list[np.ndarray] | None:
        """Change params in place; return each one's update unless return_updates is False
        (a plain training step: then an optimizer may update in place without temporaries)."""
        if len(params) != len(grads):
            raise ValueError("one gradient is needed per parameter")
        grads = self.clip(grads)
        self.count_step()
        if (not return_updates and all(_kernel_ready(p, g) for p, g in zip(params, grads))
                and self._apply_in_place(params, grads)):
            return None
        updates = []
        for p, g in zip(params, grads):
            delta = self._update(id(p), p, g).astype(p.dtype, copy=False)
            p += delta
            updates.append(delta)
        return updates

    def _apply_in_place(self, params, grads) -> bool:
        """Update without building the updates (every pair passed _kernel_ready); False if
        this optimizer has no such path."""
        return False

    def fused_rule(self) -> FusedRule | None:
        """The rule as data a compiled step can apply itself, or None (state such as
        momentum's velocity or Adam's moments lives here, so those rules are never fused)."""
        return None

    def count_step(self) -> None:
        """One more update was applied: by `apply`, or by a compiled step using `fused_rule`."""
        self.iterations += 1

    def _slot(self, i: int, key: str, like: np.ndarray) -> np.ndarray:
        """The state `key` (velocity, moments) of the parameter whose id() is i: by identity,
        not position, so freezing a layer between two steps leaves every other's state its own."""
        slots = self._slots.setdefault(i, {})
        if key not in slots or slots[key].shape != like.shape:
            slots[key] = np.zeros_like(like)
        return slots[key]

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def reset(self) -> None:
        self.iterations = 0
        self._slots.clear()

    def get_config(self) -> dict:
        config = {"name": self.name, "learning_rate": self.learning_rate}
        for key in ("clipnorm", "clipvalue"):
            if getattr(self, key) is not None:
                config[key] = getattr(self, key)
        return config


class SGD(Optimizer):
    """w ← w − η·g; with momentum (Keras's form) v ← μ·v − η·g, w ← w + v."""

    name = "sgd"

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0,
                 nesterov: bool = False, clipnorm=None, clipvalue=None):
        super().__init__(learning_rate, clipnorm, clipvalue)
        self.momentum = _fraction(momentum, "momentum")
        self.nesterov = bool(nesterov)
        self._fused = (None, None)  # (learning rate, its FusedRule): one per rate, not per step

    def _update(self, i, p, g):
        lr = np.float32(self.learning_rate)
        if self.momentum == 0.0:
            return -lr * g  # apply adds it: p + (−η)·g, in float32, as the kernel does
        mu = np.float32(self.momentum)
        v = self._slot(i, "velocity", p)
        v *= mu
        v -= lr * g
        return mu * v - lr * g if self.nesterov else v.copy()

    def _apply_in_place(self, params, grads) -> bool:
        """_update's rule as the kernels of core.kernels.sgd: the same float32 operations in
        the same order, without a gradient-sized temporary."""
        from core.kernels import sgd as K

        lr = np.float32(self.learning_rate)
        mu = np.float32(self.momentum)
        for p, g in zip(params, grads):
            if self.momentum == 0.0:
                K.sgd_in_place(p, g, lr)
            else:
                v = self._slot(id(p), "velocity", p)
                K.sgd_momentum(p.reshape(-1), g.reshape(-1), v.reshape(-1), lr, mu, self.nesterov)
        return True

    def fused_rule(self):
        if self.momentum != 0.0 or self.clipnorm is not None or self.clipvalue is not None:
            return None
        lr, rule = self._fused
        if lr != self.learning_rate:  # set between steps (a lesson's slider)
            rule = FusedRule("sgd", np.float32(self.learning_rate))
            self._fused = (self.learning_rate, rule)
        return rule

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam with Keras's defaults and bias correction folded into the step size."""

    name = "adam"

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, clipnorm=None, clipvalue=None):
        super().__init__(learning_rate, clipnorm, clipvalue)
        self.beta_1 = _fraction(beta_1, "beta_1")
        self.beta_2 = _fraction(beta_2, "beta_2")
        self.epsilon = _positive(epsilon, "epsilon")

    def _update(self, i, p, g):
        m = self._slot(i, "m", p)
        v = self._slot(i, "v", p)
        b1, b2 = np.float32(self.beta_1), np.float32(self.beta_2)
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        return -self._step_size() * m / (np.sqrt(v) + np.float32(self.epsilon))

    def _step_size(self) -> np.float32:
        t = self.iterations
        return np.float32(
            self.learning_rate * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t))

    def _apply_in_place(self, params, grads) -> bool:
        """_update's rule and the apply as one kernel pass (core.kernels.sgd.adam_in_place):
        the same float32 operations in the same order, without the temporaries."""
        from core.kernels import sgd as K

        b1, b2 = np.float32(self.beta_1), np.float32(self.beta_2)
        step, eps = self._step_size(), np.float32(self.epsilon)
        for p, g in zip(params, grads):
            m = self._slot(id(p), "m", p)
            v = self._slot(id(p), "v", p)
            K.adam_in_place(p.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1),
                            b1, b2, step, eps)
        return True

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class RMSprop(Optimizer):
    """Keras's RMSprop: v ← ρ·v + (1 − ρ)·g², w ← w − η·g / √(v + ε)."""

    name = "rmsprop"

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9, epsilon: float = 1e-7,
                 clipnorm=None, clipvalue=None):
        super().__init__(learning_rate, clipnorm, clipvalue)
        self.rho = _fraction(rho, "rho")
        self.epsilon = _positive(epsilon, "epsilon")

    def _update(self, i, p, g):
        v = self._slot(i, "v", p)
        rho = np.float32(self.rho)
        v *= rho
        v += (1 - rho) * g * g
        return -np.float32(self.learning_rate) * g / np.sqrt(v + np.float32(self.epsilon))

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


_BY_NAME = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}


def get(spec) -> Optimizer:
    """An Optimizer, a name ("sgd", "adam") or a config dict → an Optimizer."""
    if isinstance(spec, Optimizer):
        return spec
    if isinstance(spec, str) and spec.lower() in _BY_NAME:
        return _BY_NAME[spec.lower()]()
    if isinstance(spec, dict) and spec.get("name") in _BY_NAME:
        cfg = dict(spec)
        return _BY_NAME[cfg.pop("name")](**cfg)
    raise ValueError(f"unknown optimizer {spec!r}; choose 'sgd', 'adam' or 'rmsprop'")
