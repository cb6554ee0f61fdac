"""`keras.datasets`: mnist and cifar10 `load_data()` in Keras's shapes and types (uint8 0–255).

Full MNIST and CIFAR-10 come through the app's checksummed downloader (cached in the user's
data folder). Offline, MNIST falls back to the 5,000 real MNIST digits bundled with the app
(4,000 to train, 1,000 to test), in the same format, and says so; CIFAR-10 has no offline
copy and says how to get one.
"""
from __future__ import annotations

import sys
import types

import numpy as np


def _as_uint8(x):
    return np.rint(np.asarray(x, np.float32) * 255.0).astype(np.uint8)


def _full_mnist():
    from core.data import load_mnist

    return load_mnist()


def _mnist_load_data(path="mnist.npz"):
    """((x_train, y_train), (x_test, y_test)): x uint8 (N, 28, 28), y uint8 (N,)."""
    try:
        (xt, yt), (xs, ys) = _full_mnist()
    except Exception as exc:  # noqa: BLE001 - offline, a stalled server, a damaged cache
        from core.data.offline import _raw_digits

        images, labels = _raw_digits()
        order = np.random.default_rng(0).permutation(len(labels))
        images, labels = images[order], labels[order].astype(np.uint8)
        print(f"Full MNIST could not be loaded ({exc}); using the 5,000 MNIST digits that "
              f"ship with Backprop Lab instead: 4,000 to train, 1,000 to test.", file=sys.stdout)
        return (images[:4000].copy(), labels[:4000].copy()), (images[4000:].copy(),
                                                              labels[4000:].copy())
    return ((_as_uint8(xt[..., 0]), yt.astype(np.uint8)),
            (_as_uint8(xs[..., 0]), ys.astype(np.uint8)))


def _cifar10_load_data():
    """((x_train, y_train), (x_test, y_test)): x uint8 (N, 32, 32, 3), y uint8 (N, 1)."""
    from core.data import load_cifar10

    try:
        (xt, yt), (xs, ys), _names = load_cifar10()
    except Exception as exc:  # noqa: BLE001
        raise OSError(
            f"CIFAR-10 could not be loaded ({exc}). It needs one download (170 MB) while "
            f"online; Backprop Lab keeps it in its data folder afterwards.") from exc
    return ((_as_uint8(xt), yt.astype(np.uint8).reshape(-1, 1)),
            (_as_uint8(xs), ys.astype(np.uint8).reshape(-1, 1)))


mnist = types.SimpleNamespace(load_data=_mnist_load_data)
cifar10 = types.SimpleNamespace(load_data=_cifar10_load_data)

__all__ = ["mnist", "cifar10"]
