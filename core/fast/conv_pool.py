"""How a model's layers run outside a trace: one step per layer, or a fused pair.

A Conv2D with ReLU (or no activation) followed by a MaxPool2D whose windows tile without
overlap is computed as one kernel (core.kernels.conv.pool_fused): the convolution's full-size
output never goes to memory. That is only for training steps and predictions, which
need nothing but the result; traces, `layer_outputs` and saliency maps run layer by layer
and see every intermediate array as before. The numbers are the same either way.

While a pair runs fused, its two layers' own caches are emptied, so nothing can read a
stale array from them; the Conv2D's `grads` are filled as usual after backward.
"""
from __future__ import annotations

from core.kernels.conv import pool_fused as CP
from core.layers.base import as_clean_float32
from core.layers.conv import Conv2D
from core.layers.pooling import MaxPool2D


class LayerRun:
    """One layer on its own."""

    __slots__ = ("layer", "has_params")

    def __init__(self, layer):
        self.layer = layer
        self.has_params = bool(layer.params)

    @property
    def updates_weights(self) -> bool:
        return self.layer.updates_weights

    def forward(self, x, training):
        return self.layer.forward(x, training=training)

    def backward(self, dy, need_input_grad=True):
        if not need_input_grad and self.layer.input_grad_optional:
            return self.layer.backward(dy, need_input_grad=False)
        return self.layer.backward(dy)

    def backward_from_preactivation(self, dz, need_input_grad=True):
        if not need_input_grad and self.layer.input_grad_optional:
            return self.layer.backward_from_preactivation(dz, need_input_grad=False)
        return self.layer.backward_from_preactivation(dz)


class ConvPoolRun:
    """Conv2D (ReLU or linear) + non-overlapping MaxPool2D as one kernel."""

    __slots__ = ("conv", "pool", "has_params", "_plans", "_saved")

    def __init__(self, conv, pool):
        self.conv, self.pool = conv, pool
        self.has_params = True
        self._plans = None
        self._saved = None

    @property
    def updates_weights(self) -> bool:
        return self.conv.updates_weights

    @staticmethod
    def fits(conv, pool) -> bool:
        if type(conv) is not Conv2D or type(pool) is not MaxPool2D or not conv.built:
            return False
        if conv.activation is not None and conv.activation.name != "relu":
            return False
        return CP.convpool_plan(conv.input_shape, conv.params["kernel"].shape, conv.strides,
                                conv.padding, pool.pool_size, pool.strides,
                                pool.padding) is not None

    def _plan(self, shape):
        if self._plans is None or self._plans[0] != shape:
            c = self.conv
            self._plans = (shape, CP.convpool_plan(shape, c.params["kernel"].shape, c.strides,
                                                   c.padding, self.pool.pool_size,
                                                   self.pool.strides, self.pool.padding))
        return self._plans[1]

    def forward(self, x, training):
        x = as_clean_float32(x)                                                 # (N, H, W, C)
        plans = self._plan(x.shape[1:])
        c = self.conv
        relu = c.activation is not None
        # a training step's backward sees the same filters: transform them once
        u = CP.winograd_filters(c.params["kernel"], plans) if training else None
        y, arg = CP.convpool_forward(x, c.params["kernel"], c.params["bias"], plans, relu,
                                     want_argmax=training, u=u)
        c.forget_forward()
        self.pool.forget_forward()
        self._saved = (x, y, arg, u) if training else None
        return y                                                                # (N, PH, PW, F)

    def backward(self, dy, need_input_grad=True):
        x, y, arg, u = self._saved
        c = self.conv
        dx, dw, db = CP.convpool_backward(x, c.params["kernel"], y, arg, as_clean_float32(dy),
                                          self._plan(x.shape[1:]), c.activation is not None,
                                          need_input_grad, u=u)
        c.grads = {"kernel": dw, "bias": db}
        self._saved = None
        return dx                                                               # (N, H, W, C)

    backward_from_preactivation = backward  # never the last run: a loss never fuses with it


def plan_runs(layers) -> list:
    """The runs a forward/backward pass outside a trace goes through, in order."""
    runs, i = [], 0
    while i < len(layers):
        if i + 1 < len(layers) and ConvPoolRun.fits(layers[i], layers[i + 1]):
            runs.append(ConvPoolRun(layers[i], layers[i + 1]))
            i += 2
        else:
            runs.append(LayerRun(layers[i]))
            i += 1
    return runs
