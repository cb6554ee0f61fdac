"""Dense: every input connected to every unit, z = x·W + b, a = f(z).

As in Keras, a Dense layer after a recurrent layer with `return_sequences=True` reads
(N, T, F) and applies the same W and b at every time step, giving (N, T, units): that is
how a many-to-many RNN says something at each step."""
from __future__ import annotations

import numpy as np

from core.kernels import dense as K
from core.layers.base import ActivatedLayer, as_clean_float32, glorot_uniform


class Dense(ActivatedLayer):
    base_name = "dense"
    takes_any_length = True   # on sequences it applies the same W at every step
    input_grad_optional = True

    def __init__(self, units: int, activation=None, name: str | None = None,
                 trainable: bool = True):
        super().__init__(activation=activation, name=name, trainable=trainable)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units < 1:
            raise ValueError(f"Dense units must be a positive integer, got {units!r}")
        self.units = int(units)

    def compute_output_shape(self, input_shape):
        if input_shape and input_shape[-1] is None:
            raise ValueError("Dense needs to know how many features it reads: its kernel "
                             "has one row per feature, so the last size of the input shape "
                             "cannot be None")
        if len(input_shape) == 2:           # (time steps, features): one output per step
            return (input_shape[0], self.units)   # None steps: any length
        if len(input_shape) != 1:
            raise ValueError(
                f"Dense expects flat inputs (features,), got {tuple(input_shape)}: "
                "put a Flatten() layer before it")
        return (self.units,)

    def param_shapes(self, input_shape):
        return {"kernel": (int(input_shape[-1]), self.units), "bias": (self.units,)}  # (I, O), (O,)

    def build(self, input_shape, rng=None):
        super().build(input_shape, rng)
        rng = rng if rng is not None else np.random.default_rng()
        kernel, bias = self.param_shapes(self.input_shape).values()
        self.params = {
            "kernel": glorot_uniform(rng, kernel, *kernel),
            "bias": np.zeros(bias, np.float32),
        }

    def forward(self, x, training=False):
        x = as_clean_float32(x)
        self._steps = x.shape[:2] if x.ndim == 3 else None
        if self._steps is None:
            return self._forward(x)
        # every time step through the same weights: the steps are rows of one product
        return self._forward(x.reshape(-1, x.shape[2])).reshape(*self._steps, self.units)

    def _per_step(self, a):
        """(N·T, k) → (N, T, k) when the last forward read sequences."""
        steps = getattr(self, "_steps", None)
        return a if steps is None or a is None else a.reshape(*steps, a.shape[-1])

    def _rows(self, a):
        steps = getattr(self, "_steps", None)
        return a if steps is None else a.reshape(-1, a.shape[-1])

    def preactivation(self):
        return self._per_step(self._cache["z"])

    def trace_extras(self):
        extras = super().trace_extras()
        if "pre_activation" in extras:
            extras["pre_activation"] = self._per_step(extras["pre_activation"])
        return extras

    def _forward(self, x):                                                       # (N, I)
        relu = self.activation is not None and self.activation.name == "relu"
        z, a = K.dense_forward_planned(x, self.params["kernel"], self.params["bias"], relu)
        if relu or self.activation is None:  # ReLU was applied in the product's own pass
            self._cache = {"x": x, "z": z, "a": a}
            return a                                                             # (N, O)
        self._cache = {"x": x}
        return self._activate(z)

    def backward(self, dy, need_input_grad=True):                                # (N, O)
        dy = self._rows(dy)
        if self.activation is not None and self.activation.name == "relu":
            return self._backward(dy, self._cache["a"], need_input_grad)        # mask fused
        dz = dy if self.activation is None else self.activation.backward(
            self._cache["z"], self._cache["a"], dy)
        return self._backward(dz, None, need_input_grad)

    def backward_from_preactivation(self, dz, need_input_grad=True):
        return self._backward(self._rows(dz), None, need_input_grad)

    def _backward(self, dy, relu_output, need_input_grad):
        dx, dw, db, finite = K.dense_backward_planned(
            self._cache["x"], self.params["kernel"], as_clean_float32(dy), relu_output,
            need_input_grad, report_finite=True)
        self.grads = {"kernel": dw, "bias": db}
        self.finite_grads = ("kernel",) if finite else ()
        return self._per_step(dx)                                    # (N, I) or (N, T, I)

    def get_config(self):
        return {**super().get_config(), "units": self.units}
