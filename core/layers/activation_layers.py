"""Activation functions as layers of their own: `ReLU()` is `Dense(..., activation="relu")`'s f."""
from __future__ import annotations

from core import activations
from core.layers.base import Layer


class _ActivationLayer(Layer):
    _fn_name = "linear"
    takes_any_length = True   # element by element: the length does not matter

    def __init__(self, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self.activation = activations.get(self._fn_name)

    def forward(self, x, training=False):
        a = self.activation.forward(x)
        self._cache = {"z": x, "a": a}
        return a

    def backward(self, dy):
        return self.activation.backward(self._cache["z"], self._cache["a"], dy)

    def output_activation(self):
        return self.activation.name

    def backward_from_preactivation(self, dz):
        return dz


class ReLU(_ActivationLayer):
    base_name = "re_lu"
    _fn_name = "relu"


class Sigmoid(_ActivationLayer):
    base_name = "sigmoid"
    _fn_name = "sigmoid"


class Tanh(_ActivationLayer):
    base_name = "tanh"
    _fn_name = "tanh"


class Softmax(_ActivationLayer):
    base_name = "softmax"
    _fn_name = "softmax"


class LeakyReLU(_ActivationLayer):
    base_name = "leaky_re_lu"

    def __init__(self, alpha: float = 0.01, name=None, trainable=True):
        Layer.__init__(self, name=name, trainable=trainable)
        self.alpha = float(alpha)
        self.activation = activations.LeakyReLUFn(self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}
