"""Flatten: (N, H, W, C) → (N, H·W·C), the hand-over from feature maps to dense layers."""
from __future__ import annotations

import math

import numpy as np

from core.layers.base import Layer


class Flatten(Layer):
    base_name = "flatten"

    def compute_output_shape(self, input_shape):
        return (int(math.prod(input_shape)),)

    def forward(self, x, training=False):
        self._cache = {"shape": x.shape}
        return np.ascontiguousarray(x).reshape(x.shape[0], -1)

    def backward(self, dy):
        return dy.reshape(self._cache["shape"])
