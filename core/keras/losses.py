"""`keras.losses`: Keras's loss classes (with `from_logits=`) and names."""
from __future__ import annotations

from core import losses as _Lo
from core.keras._unsupported import refuse


def SparseCategoricalCrossentropy(from_logits=False, **kwargs):
    refuse("SparseCategoricalCrossentropy", kwargs)
    return _Lo.SparseCategoricalCrossentropy(from_logits=from_logits)


def CategoricalCrossentropy(from_logits=False, label_smoothing=0.0, **kwargs):
    refuse("CategoricalCrossentropy", {"label_smoothing": label_smoothing, **kwargs},
           {"label_smoothing": 0.0})
    return _Lo.CategoricalCrossentropy(from_logits=from_logits)


def BinaryCrossentropy(from_logits=False, label_smoothing=0.0, **kwargs):
    refuse("BinaryCrossentropy", {"label_smoothing": label_smoothing, **kwargs},
           {"label_smoothing": 0.0})
    return _Lo.BinaryCrossentropy(from_logits=from_logits)


def MeanSquaredError(**kwargs):
    refuse("MeanSquaredError", kwargs)
    return _Lo.MeanSquaredError()


def MeanAbsoluteError(**kwargs):
    refuse("MeanAbsoluteError", kwargs)
    return _Lo.MeanAbsoluteError()


#: Keras's loss names as functions (loss=keras.losses.sparse_categorical_crossentropy)
def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    return _Lo.SparseCategoricalCrossentropy(from_logits=from_logits)(y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    return _Lo.CategoricalCrossentropy(from_logits=from_logits)(y_true, y_pred)


def binary_crossentropy(y_true, y_pred, from_logits=False):
    return _Lo.BinaryCrossentropy(from_logits=from_logits)(y_true, y_pred)


def mean_squared_error(y_true, y_pred):
    return _Lo.MeanSquaredError()(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    return _Lo.MeanAbsoluteError()(y_true, y_pred)


mse, mae = mean_squared_error, mean_absolute_error

_FUNCTIONS = {f.__name__: f.__name__ for f in (
    sparse_categorical_crossentropy, categorical_crossentropy, binary_crossentropy,
    mean_squared_error, mean_absolute_error)}


def get(identifier):
    """The engine's loss for a Keras name, loss object or loss function of this module."""
    if isinstance(identifier, _Lo.Loss):
        return identifier
    if callable(identifier) and getattr(identifier, "__name__", None) in _FUNCTIONS:
        return _Lo.get(identifier.__name__)
    if isinstance(identifier, str):
        try:
            return _Lo.get(identifier)
        except ValueError:
            pass
    raise NotImplementedError(f"loss {identifier!r}: Backprop Lab has {', '.join(_Lo.NAMES)}")


__all__ = ["SparseCategoricalCrossentropy", "CategoricalCrossentropy", "BinaryCrossentropy",
           "MeanSquaredError", "MeanAbsoluteError", "sparse_categorical_crossentropy",
           "categorical_crossentropy", "binary_crossentropy", "mean_squared_error",
           "mean_absolute_error", "mse", "mae", "get"]
