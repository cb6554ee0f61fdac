"""Max and average pooling over NHWC feature maps."""
from __future__ import annotations

from core.kernels.conv import im2col as conv_k
from core.kernels import pool as K
from core.layers.base import Layer, as_clean_float32, as_pair, check_padding


class _Pool2D(Layer):
    def __init__(self, pool_size=2, strides=None, padding: str = "valid", name=None,
                 trainable=True):
        super().__init__(name=name, trainable=trainable)
        self.pool_size = as_pair(pool_size, "pool_size")
        # Keras: strides default to the pool size, so windows tile without overlap
        self.strides = self.pool_size if strides is None else as_pair(strides, "strides")
        self.padding = check_padding(padding)
        self._kplan = None  # (input shape, window geometry) of the last forward

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"{type(self).__name__} expects images (height, width, channels), "
                f"got {tuple(input_shape)}")
        h, w, c = input_shape
        oh, _ = conv_k.conv_output_size(h, self.pool_size[0], self.strides[0], self.padding)
        ow, _ = conv_k.conv_output_size(w, self.pool_size[1], self.strides[1], self.padding)
        return (oh, ow, c)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding}


class MaxPool2D(_Pool2D):
    base_name = "max_pooling2d"

    def forward(self, x, training=False):                                       # (N, H, W, C)
        x = as_clean_float32(x)
        plan = K.max_pool_plan(x.shape, self.pool_size, self.strides, self.padding) \
            if self._kplan is None or self._kplan[0] != x.shape[1:] else self._kplan[1]
        self._kplan = (x.shape[1:], plan)
        # the winners' positions are kept for backward; outside training they are only
        # found again if a backward (a saliency map) asks for them
        y, argmax = K.max_pool_forward_planned(x, plan, want_argmax=training)
        self._cache = {"shape": x.shape, "argmax": argmax} if training else \
            {"shape": x.shape, "x": x}
        return y                                                                # (N, OH, OW, C)

    def _argmax(self):
        if self._cache.get("argmax") is None and "x" in self._cache:
            self._cache["argmax"] = K.max_pool_forward_planned(self._cache["x"], self._kplan[1])[1]
        return self._cache["argmax"]

    def backward(self, dy):
        return K.max_pool_backward_planned(as_clean_float32(dy), self._argmax(),
                                           self._cache["shape"])

    def trace_extras(self):
        return {"argmax": self._argmax()} if "shape" in self._cache else {}


class AvgPool2D(_Pool2D):
    base_name = "average_pooling2d"

    def forward(self, x, training=False):
        self._cache = {"shape": x.shape}
        return K.avg_pool_forward(x, self.pool_size, self.strides, self.padding)

    def backward(self, dy):
        return K.avg_pool_backward(dy, self._cache["shape"], self.pool_size, self.strides,
                                   self.padding)


MaxPooling2D = MaxPool2D
AveragePooling2D = AvgPool2D
