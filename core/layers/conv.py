"""Conv2D: a bank of small filters slid over an NHWC image, one feature map per filter."""
from __future__ import annotations

import numpy as np

from core.kernels import conv as K
from core.layers.base import ActivatedLayer, as_pair, check_padding, glorot_uniform


class Conv2D(ActivatedLayer):
    base_name = "conv2d"

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid",
                 activation=None, name: str | None = None):
        super().__init__(activation=activation, name=name)
        if isinstance(filters, bool) or not isinstance(filters, (int, np.integer)) or filters < 1:
            raise ValueError(f"Conv2D filters must be a positive integer, got {filters!r}")
        self.filters = int(filters)
        self.kernel_size = as_pair(kernel_size, "kernel_size")
        self.strides = as_pair(strides, "strides")
        self.padding = check_padding(padding)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"Conv2D expects images (height, width, channels), got {tuple(input_shape)}")
        h, w, _ = input_shape
        oh, _ = K.conv_output_size(h, self.kernel_size[0], self.strides[0], self.padding)
        ow, _ = K.conv_output_size(w, self.kernel_size[1], self.strides[1], self.padding)
        return (oh, ow, self.filters)

    def build(self, input_shape, rng=None):
        super().build(input_shape, rng)
        rng = rng if rng is not None else np.random.default_rng()
        kh, kw = self.kernel_size
        c_in = self.input_shape[2]
        shape = (kh, kw, c_in, self.filters)
        self.params = {
            "kernel": glorot_uniform(rng, shape, kh * kw * c_in, kh * kw * self.filters),
            "bias": np.zeros(self.filters, np.float32),
        }

    def forward(self, x, training=False):
        self._cache = {"x": x}                                                  # (N, H, W, C)
        z = K.conv2d_forward(x, self.params["kernel"], self.params["bias"],
                             self.strides, self.padding)                        # (N, OH, OW, F)
        return self._activate(z)

    def backward_from_preactivation(self, dz):                                  # (N, OH, OW, F)
        x = self._cache["x"]
        dw = K.conv2d_grad_weight(x, dz, self.kernel_size, self.strides, self.padding)
        db = K.conv2d_grad_bias(dz)
        dx = K.conv2d_grad_input(dz, self.params["kernel"], x.shape, self.strides, self.padding)
        self.grads = {"kernel": dw, "bias": db}
        return dx                                                               # (N, H, W, C)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding}
