"""Conv2D: a bank of small filters slid over an NHWC image, one feature map per filter."""
from __future__ import annotations

import numpy as np

from core.kernels.conv import im2col as K
from core.layers.base import (ActivatedLayer, as_clean_float32, as_pair, check_padding,
                              glorot_uniform)


class Conv2D(ActivatedLayer):
    base_name = "conv2d"
    input_grad_optional = True

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid",
                 activation=None, name: str | None = None, trainable: bool = True):
        super().__init__(activation=activation, name=name, trainable=trainable)
        if isinstance(filters, bool) or not isinstance(filters, (int, np.integer)) or filters < 1:
            raise ValueError(f"Conv2D filters must be a positive integer, got {filters!r}")
        self.filters = int(filters)
        self.kernel_size = as_pair(kernel_size, "kernel_size")
        self.strides = as_pair(strides, "strides")
        self.padding = check_padding(padding)
        self._kplan = None  # (input shape, kernel geometry) of the last forward

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"Conv2D expects images (height, width, channels), got {tuple(input_shape)}")
        h, w, _ = input_shape
        oh, _ = K.conv_output_size(h, self.kernel_size[0], self.strides[0], self.padding)
        ow, _ = K.conv_output_size(w, self.kernel_size[1], self.strides[1], self.padding)
        return (oh, ow, self.filters)

    def param_shapes(self, input_shape):
        kh, kw = self.kernel_size
        return {"kernel": (kh, kw, int(input_shape[2]), self.filters),  # (KH, KW, C, F)
                "bias": (self.filters,)}

    def build(self, input_shape, rng=None):
        super().build(input_shape, rng)
        rng = rng if rng is not None else np.random.default_rng()
        kh, kw = self.kernel_size
        c_in = self.input_shape[2]
        shape = self.param_shapes(self.input_shape)["kernel"]
        self.params = {
            "kernel": glorot_uniform(rng, shape, kh * kw * c_in, kh * kw * self.filters),
            "bias": np.zeros(self.filters, np.float32),
        }

    def _plan(self, shape):
        plan = self._kplan
        if plan is None or plan[0] != shape:
            plan = (shape, K.conv2d_plan(shape, self.params["kernel"].shape, self.strides,
                                         self.padding))
            self._kplan = plan
        return plan[1]

    def _fused(self):
        """None or ReLU: computed inside the convolution's own pass (no separate sweep)."""
        return self.activation is None or self.activation.name == "relu"

    def forward(self, x, training=False):
        x = as_clean_float32(x)                                                 # (N, H, W, C)
        plan = self._plan(x.shape[1:])
        w, b = self.params["kernel"], self.params["bias"]
        if not self._fused():
            self._cache = {"x": x}
            return self._activate(K.conv2d_forward_planned(x, w, b, plan))      # (N, OH, OW, F)
        a = K.conv2d_forward_planned(x, w, b, plan, self.activation is not None)
        # z is only for lessons: it is recomputed on request from x and the weights as
        # they were here (a copy: the optimizer changes them in place after backward)
        if self.activation is None:
            self._cache = {"x": x, "a": a, "z": a}
        else:
            self._cache = {"x": x, "a": a, "weights": (w.copy(), b.copy()) if training else None}
        return a                                                                # (N, OH, OW, F)

    def _pre_activation(self):
        if "z" not in self._cache and "x" in self._cache:
            x = self._cache["x"]
            w, b = self._cache.get("weights") or (self.params["kernel"], self.params["bias"])
            self._cache["z"] = K.conv2d_forward_planned(x, w, b, self._plan(x.shape[1:]))
        return self._cache["z"]

    def preactivation(self):
        return self._pre_activation()

    def trace_extras(self):
        if self.activation is not None and "x" in self._cache:
            self._pre_activation()
        return super().trace_extras()

    def backward(self, dy, need_input_grad=True):                               # (N, OH, OW, F)
        if self.activation is not None and self.activation.name == "relu":
            return self._backward(dy, self._cache["a"], need_input_grad)       # mask fused
        dz = dy if self.activation is None else self.activation.backward(
            self._cache["z"], self._cache["a"], dy)
        return self._backward(dz, None, need_input_grad)

    def backward_from_preactivation(self, dz, need_input_grad=True):            # (N, OH, OW, F)
        return self._backward(dz, None, need_input_grad)

    def _backward(self, dy, relu_output, need_input_grad):
        x = self._cache["x"]
        dx, dw, db = K.conv2d_backward_planned(
            x, self.params["kernel"], as_clean_float32(dy), self._plan(x.shape[1:]),
            relu_output, need_input_grad)
        self.grads = {"kernel": dw, "bias": db}
        return dx                                                               # (N, H, W, C)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding}
