"""Activation functions by name, each a forward and a backward through the kernels.

Layers hold one of these for `activation="relu"` and friends, and the standalone
activation layers (`ReLU()`, ...) wrap the same objects, so both spellings compute
exactly the same numbers.

`CATALOGUE` is how the app *talks* about each activation (the word in a sentence, the
title in a menu, the formula and its derivative): the activations lesson, the network
diagram and the playground all read it, so a learner meets one name and one formula.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.kernels import activations as K


@dataclass(frozen=True)
class ActivationInfo:
    """One activation as the app writes it; `name` is the engine's (`activation="relu"`)."""

    name: str
    word: str        # inside a sentence: "then leaky ReLU: a = f(z)"
    title: str       # a menu entry or a heading: "Leaky ReLU"
    formula: str
    derivative: str


CATALOGUE = {info.name: info for info in (
    ActivationInfo("sigmoid", "sigmoid", "Sigmoid", "a = σ(z) = 1 / (1 + e^(−z))",
                   "da/dz = a·(1 − a)"),
    ActivationInfo("tanh", "tanh", "tanh", "a = tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z))",
                   "da/dz = 1 − a²"),
    ActivationInfo("relu", "ReLU", "ReLU", "a = max(0, z)", "da/dz = 1 if z > 0, else 0"),
    ActivationInfo("leaky_relu", "leaky ReLU", "Leaky ReLU", "a = z if z > 0, else α·z",
                   "da/dz = 1 if z > 0, else α"),
    # the diagonal of softmax's Jacobian ∂a_i/∂z_j = a_i·(δ_ij − a_j): how a_i answers
    # its own z_i, the curve the activations lesson draws
    ActivationInfo("softmax", "softmax", "Softmax", "a_i = e^(z_i) / Σ_j e^(z_j)",
                   "∂a_i/∂z_i = a_i·(1 − a_i)"),
    ActivationInfo("linear", "no activation", "Linear", "a = z", "da/dz = 1"),
)}

#: the word for an activation inside a sentence; None (no activation given) reads as linear
WORDS = {None: CATALOGUE["linear"].word, **{k: v.word for k, v in CATALOGUE.items()}}


class Activation:
    """y = f(z). `backward` turns dL/dy into dL/dz; it may use z or y, whichever is exact."""

    name = "linear"
    formula = CATALOGUE["linear"].formula
    derivative = CATALOGUE["linear"].derivative

    def forward(self, z: np.ndarray) -> np.ndarray:
        return z

    def backward(self, z: np.ndarray, a: np.ndarray, da: np.ndarray) -> np.ndarray:
        return da

    def get_config(self):
        return self.name

    def __repr__(self):
        return f"{type(self).__name__}()"


class Linear(Activation):
    pass


class ReLUFn(Activation):
    name = "relu"
    formula = CATALOGUE["relu"].formula
    derivative = CATALOGUE["relu"].derivative

    def forward(self, z):
        return K.relu_forward(z)

    def backward(self, z, a, da):
        return K.relu_backward(z, da)


class SigmoidFn(Activation):
    name = "sigmoid"
    formula = CATALOGUE["sigmoid"].formula
    derivative = CATALOGUE["sigmoid"].derivative

    def forward(self, z):
        return K.sigmoid_forward(z)

    def backward(self, z, a, da):
        return K.sigmoid_backward(a, da)


class TanhFn(Activation):
    name = "tanh"
    formula = CATALOGUE["tanh"].formula
    derivative = CATALOGUE["tanh"].derivative

    def forward(self, z):
        return K.tanh_forward(z)

    def backward(self, z, a, da):
        return K.tanh_backward(a, da)


class LeakyReLUFn(Activation):
    name = "leaky_relu"
    derivative = CATALOGUE["leaky_relu"].derivative

    def __init__(self, alpha: float = 0.01):
        alpha = float(alpha)
        if not np.isfinite(alpha) or alpha < 0:
            raise ValueError(f"LeakyReLU alpha must be a finite number ≥ 0, got {alpha}")
        self.alpha = alpha
        self.formula = CATALOGUE["leaky_relu"].formula.replace("α", f"{alpha:g}")

    def forward(self, z):
        return K.leaky_relu_forward(z, self.alpha)

    def backward(self, z, a, da):
        return K.leaky_relu_backward(z, da, self.alpha)

    def get_config(self):
        return {"name": self.name, "alpha": self.alpha}

    def __repr__(self):
        return f"LeakyReLUFn(alpha={self.alpha})"


class SoftmaxFn(Activation):
    name = "softmax"
    formula = CATALOGUE["softmax"].formula
    derivative = CATALOGUE["softmax"].derivative

    def forward(self, z):
        if z.ndim != 2:
            raise ValueError(f"softmax expects (batch, classes) inputs, got shape {z.shape}")
        return K.softmax_forward(z)

    def backward(self, z, a, da):
        return K.softmax_backward(a, da)


_BY_NAME = {
    "linear": Linear,
    "relu": ReLUFn,
    "sigmoid": SigmoidFn,
    "tanh": TanhFn,
    "leaky_relu": LeakyReLUFn,
    "softmax": SoftmaxFn,
}

NAMES = tuple(_BY_NAME)


def get(spec) -> Activation | None:
    """None/"linear" → None (no activation); a name, a config dict or an Activation → object."""
    if spec is None or spec == "linear":
        return None
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, dict):
        spec = dict(spec)
        name = spec.pop("name", None)
        if name not in _BY_NAME:
            raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(NAMES)}")
        return _BY_NAME[name](**spec)
    if isinstance(spec, str):
        key = spec.lower().replace("-", "_")
        if key == "leakyrelu":
            key = "leaky_relu"
        if key not in _BY_NAME:
            raise ValueError(f"unknown activation {spec!r}; choose one of {', '.join(NAMES)}")
        return _BY_NAME[key]()
    raise ValueError(f"activation must be a name such as 'relu', got {spec!r}")


def name_of(act: Activation | None) -> str:
    return "linear" if act is None else act.name
