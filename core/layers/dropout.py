"""Dropout: during training each unit is zeroed with probability `rate`.

Inverted dropout (Keras's form): the survivors are scaled by 1/(1 − rate) during
training, so nothing changes at inference time.
"""
from __future__ import annotations

import numpy as np

from core.layers.base import Layer


class Dropout(Layer):
    base_name = "dropout"
    takes_any_length = True

    def __init__(self, rate: float, seed: int | None = None, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        rate = float(rate)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout rate must be in [0, 1), got {rate}")
        self.rate = rate
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def reseed(self, rng: np.random.Generator) -> None:
        """`fit(seed=...)` hands every dropout layer its own stream, for repeatable runs."""
        if self.seed is None:
            self.rng = rng

    def forward(self, x, training=False):
        if not training or self.rate == 0.0:
            self._cache = {"mask": None}
            return x
        keep = (self.rng.random(x.shape, dtype=np.float32) >= self.rate)
        scale = np.float32(1.0 / (1.0 - self.rate))
        mask = keep.astype(np.float32) * scale
        self._cache = {"mask": mask, "kept": keep}
        return x * mask

    def backward(self, dy):
        mask = self._cache.get("mask")
        return dy if mask is None else dy * mask

    def trace_extras(self):
        kept = self._cache.get("kept")
        return {} if kept is None else {"kept": kept, "rate": self.rate}

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
