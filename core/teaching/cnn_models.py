"""The networks of the CNN lessons, built the way the course's notebooks build them.

* ``digits_cnn`` — tutorial 23/24's CNN for 28×28 digits: Conv2D 32 3×3 relu → MaxPool 2 →
  Conv2D 64 3×3 relu → MaxPool 2 → Flatten → Dense 128 relu → Dense 10 softmax
  (``size="small"`` keeps the shape with 8 and 16 filters and 32 hidden units, for speed).
* ``digits_dense`` — the dense 784-128-10 network the CNN is compared with.
* ``cifar_cnn`` — the course's CIFAR-10 CNN (32 and 64 filters, Dense 64), or a smaller one.

All are compiled with Adam and sparse categorical cross-entropy, as in the course.
"""
from __future__ import annotations

from core.layers import Conv2D, Dense, Flatten, MaxPool2D
from core.model import Sequential
from core.optimizers import Adam

__all__ = ["CNN_SIZES", "cifar_cnn", "digits_cnn", "digits_dense", "describe"]

#: size name -> (filters of conv 1, filters of conv 2, hidden units)
CNN_SIZES = {
    "course": (32, 64, 128),
    "small": (8, 16, 32),
}
_CIFAR_SIZES = {
    "course": (32, 64, 64),
    "small": (16, 32, 32),
}


def _compile(model: Sequential, learning_rate: float) -> Sequential:
    model.compile(optimizer=Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _conv_stack(f1: int, f2: int, hidden: int, input_shape, seed: int, name: str,
                classes: int = 10) -> Sequential:
    return Sequential([
        Conv2D(f1, 3, activation="relu"),
        MaxPool2D(2),
        Conv2D(f2, 3, activation="relu"),
        MaxPool2D(2),
        Flatten(),
        Dense(hidden, activation="relu"),
        Dense(classes, activation="softmax"),
    ], input_shape=input_shape, seed=seed, name=name)


def digits_cnn(size: str = "course", seed: int = 0, learning_rate: float = 0.001) -> Sequential:
    """The course's digit CNN (input (28, 28, 1)), compiled."""
    if size not in CNN_SIZES:
        raise ValueError(f"size must be one of {list(CNN_SIZES)}, got {size!r}")
    f1, f2, hidden = CNN_SIZES[size]
    return _compile(_conv_stack(f1, f2, hidden, (28, 28, 1), seed, f"cnn_{size}"), learning_rate)


def digits_dense(seed: int = 0, learning_rate: float = 0.001) -> Sequential:
    """Flatten → Dense 128 relu → Dense 10 softmax on (28, 28, 1) digits, compiled."""
    model = Sequential([Flatten(), Dense(128, activation="relu"),
                        Dense(10, activation="softmax")],
                       input_shape=(28, 28, 1), seed=seed, name="dense_784_128_10")
    return _compile(model, learning_rate)


def cifar_cnn(size: str = "small", seed: int = 0, learning_rate: float = 0.001,
              classes: int = 10) -> Sequential:
    """A CIFAR-10 CNN on (32, 32, 3) images, compiled; `classes` outputs (a folder of the
    learner's own photos has as many as it has class sub-folders)."""
    if size not in _CIFAR_SIZES:
        raise ValueError(f"size must be one of {list(_CIFAR_SIZES)}, got {size!r}")
    f1, f2, hidden = _CIFAR_SIZES[size]
    return _compile(_conv_stack(f1, f2, hidden, (32, 32, 3), seed, f"cifar_cnn_{size}",
                                classes), learning_rate)


def describe(model: Sequential) -> str:
    """One line naming the layers: "Conv2D 32 3×3 relu → MaxPool 2 → … → Dense 10 softmax"."""
    parts = []
    for lay in model.layers:
        kind = type(lay).__name__
        act = lay.output_activation() if hasattr(lay, "output_activation") else None
        if kind == "Conv2D":
            kh, kw = lay.kernel_size
            parts.append(f"Conv2D {lay.filters} {kh}×{kw}" + (f" {act}" if act else ""))
        elif kind in ("MaxPool2D", "AvgPool2D"):
            parts.append(f"{kind[:-2]} {lay.pool_size[0]}")
        elif kind == "Dense":
            parts.append(f"Dense {lay.units}" + (f" {act}" if act else ""))
        else:
            parts.append(kind)
    return " → ".join(parts)
