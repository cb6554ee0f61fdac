"""Dense: every input connected to every unit, z = x·W + b, a = f(z)."""
from __future__ import annotations

import numpy as np

from core.kernels import dense as K
from core.layers.base import ActivatedLayer, glorot_uniform


class Dense(ActivatedLayer):
    base_name = "dense"

    def __init__(self, units: int, activation=None, name: str | None = None):
        super().__init__(activation=activation, name=name)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units < 1:
            raise ValueError(f"Dense units must be a positive integer, got {units!r}")
        self.units = int(units)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise ValueError(
                f"Dense expects flat inputs (features,), got {tuple(input_shape)}: "
                "put a Flatten() layer before it")
        return (self.units,)

    def build(self, input_shape, rng=None):
        super().build(input_shape, rng)
        rng = rng if rng is not None else np.random.default_rng()
        n_in = self.input_shape[0]
        self.params = {
            "kernel": glorot_uniform(rng, (n_in, self.units), n_in, self.units),  # (I, O)
            "bias": np.zeros(self.units, np.float32),                            # (O,)
        }

    def forward(self, x, training=False):
        self._cache = {"x": x}                                                   # (N, I)
        z = K.dense_forward(x, self.params["kernel"], self.params["bias"])     # (N, O)
        return self._activate(z)

    def backward_from_preactivation(self, dz):
        dx, dw, db = K.dense_backward(self._cache["x"], self.params["kernel"], dz)
        self.grads = {"kernel": dw, "bias": db}
        return dx                                                               # (N, I)

    def get_config(self):
        return {**super().get_config(), "units": self.units}
