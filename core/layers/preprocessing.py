"""Keras's preprocessing layers the course's augmentation tutorial puts in its models:
Rescaling, and RandomFlip / RandomRotation / RandomZoom, which change every training image
anew each epoch and pass images through untouched when predicting.

The random layers belong at the start of a model (where Keras's examples put them): no
weights come before them, so a training step never needs a gradient through a random
warp, and asking for one is a clear NotImplementedError. Rescaling's gradient is exact.
"""
from __future__ import annotations

import math

import numpy as np

from core import augment
from core.layers.base import Layer, as_clean_float32

#: Keras's fill modes the warps support ("reflect", Keras's default, reads as "nearest")
_FILL = {"nearest": "nearest", "reflect": "nearest", "constant": "constant"}


class Rescaling(Layer):
    """y = x · scale + offset (Keras's `Rescaling(1./255)` turns pixels into 0–1)."""

    base_name = "rescaling"

    def __init__(self, scale, offset=0.0, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self.scale, self.offset = float(scale), float(offset)
        if not (math.isfinite(self.scale) and math.isfinite(self.offset)):
            raise ValueError("Rescaling needs finite scale and offset")

    def forward(self, x, training=False):
        return as_clean_float32(np.asarray(x, np.float32) * np.float32(self.scale)
                                + np.float32(self.offset))

    def backward(self, dy):
        return dy * np.float32(self.scale)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class _RandomImageLayer(Layer):
    """Images (N, H, W, C); a fresh random change per image in training, identity otherwise."""

    def __init__(self, seed=None, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    def reseed(self, rng):
        self._rng = rng

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"{type(self).__name__} takes images (height, width, channels), "
                             f"got input shape {tuple(input_shape)}")
        return tuple(input_shape)

    def forward(self, x, training=False):
        if not training:
            return x
        return as_clean_float32(self._change(as_clean_float32(x)))

    def backward(self, dy):
        raise NotImplementedError(
            f"{type(self).__name__} passes no gradient back: put the random augmentation "
            f"layers first in the model, before any layer with weights (as Keras's examples do)")

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class RandomFlip(_RandomImageLayer):
    base_name = "random_flip"

    def __init__(self, mode="horizontal_and_vertical", seed=None, name=None, trainable=True):
        super().__init__(seed=seed, name=name, trainable=trainable)
        if mode not in ("horizontal", "vertical", "horizontal_and_vertical"):
            raise ValueError(f"RandomFlip mode must be 'horizontal', 'vertical' or "
                             f"'horizontal_and_vertical', got {mode!r}")
        self.mode = mode

    def _change(self, x):
        n = len(x)
        flips = [self._rng.random(n) < 0.5 if m in self.mode else np.zeros(n, bool)
                 for m in ("horizontal", "vertical")]
        return augment.flip_images(x, horizontal=flips[0], vertical=flips[1])

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


def _range(factor, what):
    lo, hi = (-factor, factor) if np.isscalar(factor) else tuple(factor)
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise ValueError(f"{what} must be a number or a (low, high) pair, got {factor!r}")
    return lo, hi


class RandomRotation(_RandomImageLayer):
    """Rotate each image by a random angle in factor · [−360°, 360°] (Keras's convention)."""

    base_name = "random_rotation"

    def __init__(self, factor, fill_mode="reflect", seed=None, name=None, trainable=True):
        super().__init__(seed=seed, name=name, trainable=trainable)
        self.factor = _range(factor, "RandomRotation factor")
        if fill_mode not in _FILL:
            raise ValueError(f"fill_mode must be one of {tuple(_FILL)}, got {fill_mode!r}")
        self.fill_mode = fill_mode

    def _change(self, x):
        n, h, w, _ = x.shape
        angles = self._rng.uniform(*self.factor, size=n) * 360.0
        rows, cols = augment.affine_grid(h, w, angles, 1.0, 1.0, 0.0, 0.0, 0.0)
        return augment.warp_images(x, rows, cols, _FILL[self.fill_mode])

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor), "fill_mode": self.fill_mode}


class RandomZoom(_RandomImageLayer):
    """Zoom each image by a random amount: height_factor 0.2 → between 20 % in and 20 % out
    (Keras: a positive factor zooms out, a negative one in)."""

    base_name = "random_zoom"

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", seed=None,
                 name=None, trainable=True):
        super().__init__(seed=seed, name=name, trainable=trainable)
        self.height_factor = _range(height_factor, "RandomZoom height_factor")
        self.width_factor = None if width_factor is None else _range(width_factor,
                                                                      "RandomZoom width_factor")
        if min(self.height_factor) <= -1:
            raise ValueError("RandomZoom height_factor must stay above -1")
        if fill_mode not in _FILL:
            raise ValueError(f"fill_mode must be one of {tuple(_FILL)}, got {fill_mode!r}")
        self.fill_mode = fill_mode

    def _change(self, x):
        n, h, w, _ = x.shape
        zy = self._rng.uniform(*self.height_factor, size=n)
        zx = zy if self.width_factor is None else self._rng.uniform(*self.width_factor, size=n)
        # Keras's zoom factor z shows (1 + z) times as much of the image: scale 1 / (1 + z)
        rows, cols = augment.affine_grid(h, w, 0.0, 1.0 / (1.0 + zy), 1.0 / (1.0 + zx),
                                         0.0, 0.0, 0.0)
        return augment.warp_images(x, rows, cols, _FILL[self.fill_mode])

    def get_config(self):
        return {**super().get_config(), "height_factor": list(self.height_factor),
                "width_factor": None if self.width_factor is None else list(self.width_factor),
                "fill_mode": self.fill_mode}


__all__ = ["Rescaling", "RandomFlip", "RandomRotation", "RandomZoom"]
