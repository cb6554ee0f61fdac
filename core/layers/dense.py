"""Dense: every input connected to every unit, z = x·W + b, a = f(z)."""
from __future__ import annotations

import numpy as np

from core.kernels import dense as K
from core.layers.base import ActivatedLayer, as_clean_float32, glorot_uniform


class Dense(ActivatedLayer):
    base_name = "dense"
    input_grad_optional = True

    def __init__(self, units: int, activation=None, name: str | None = None,
                 trainable: bool = True):
        super().__init__(activation=activation, name=name, trainable=trainable)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units < 1:
            raise ValueError(f"Dense units must be a positive integer, got {units!r}")
        self.units = int(units)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise ValueError(
                f"Dense expects flat inputs (features,), got {tuple(input_shape)}: "
                "put a Flatten() layer before it")
        return (self.units,)

    def param_shapes(self, input_shape):
        return {"kernel": (int(input_shape[0]), self.units), "bias": (self.units,)}  # (I, O), (O,)

    def build(self, input_shape, rng=None):
        super().build(input_shape, rng)
        rng = rng if rng is not None else np.random.default_rng()
        kernel, bias = self.param_shapes(self.input_shape).values()
        self.params = {
            "kernel": glorot_uniform(rng, kernel, *kernel),
            "bias": np.zeros(bias, np.float32),
        }

    def forward(self, x, training=False):
        x = as_clean_float32(x)                                                  # (N, I)
        relu = self.activation is not None and self.activation.name == "relu"
        z, a = K.dense_forward_planned(x, self.params["kernel"], self.params["bias"], relu)
        if relu or self.activation is None:  # ReLU was applied in the product's own pass
            self._cache = {"x": x, "z": z, "a": a}
            return a                                                             # (N, O)
        self._cache = {"x": x}
        return self._activate(z)

    def backward(self, dy, need_input_grad=True):                                # (N, O)
        if self.activation is not None and self.activation.name == "relu":
            return self._backward(dy, self._cache["a"], need_input_grad)        # mask fused
        dz = dy if self.activation is None else self.activation.backward(
            self._cache["z"], self._cache["a"], dy)
        return self._backward(dz, None, need_input_grad)

    def backward_from_preactivation(self, dz, need_input_grad=True):
        return self._backward(dz, None, need_input_grad)

    def _backward(self, dy, relu_output, need_input_grad):
        dx, dw, db, finite = K.dense_backward_planned(
            self._cache["x"], self.params["kernel"], as_clean_float32(dy), relu_output,
            need_input_grad, report_finite=True)
        self.grads = {"kernel": dw, "bias": db}
        self.finite_grads = ("kernel",) if finite else ()
        return dx                                                               # (N, I)

    def get_config(self):
        return {**super().get_config(), "units": self.units}
