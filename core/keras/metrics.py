"""`keras.metrics`: the metric names the course uses. The engine computes accuracy (class
ids, one-hot rows, or a single sigmoid output thresholded at 0.5)."""
from __future__ import annotations

#: names Keras accepts in metrics=[...] that all mean the engine's accuracy
ACCURACY_NAMES = ("accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy",
                  "binary_accuracy")


class _Named:
    def __init__(self, name="accuracy", **kwargs):
        if kwargs:
            raise NotImplementedError(f"{type(self).__name__}: {', '.join(kwargs)} not supported")
        self.name = name


class Accuracy(_Named):
    pass


class SparseCategoricalAccuracy(_Named):
    def __init__(self, name="sparse_categorical_accuracy", **kwargs):
        super().__init__(name, **kwargs)


class CategoricalAccuracy(_Named):
    def __init__(self, name="categorical_accuracy", **kwargs):
        super().__init__(name, **kwargs)


class BinaryAccuracy(_Named):
    def __init__(self, name="binary_accuracy", threshold=0.5, **kwargs):
        if threshold != 0.5:
            raise NotImplementedError("BinaryAccuracy: only threshold=0.5 is supported")
        super().__init__(name, **kwargs)


def names(metrics) -> list[str]:
    """The names to compile with: the engine reports accuracy under each (as Keras does)."""
    out = []
    for m in metrics or ():
        name = m.name if isinstance(m, _Named) else m
        if not isinstance(name, str) or (name not in ACCURACY_NAMES and not isinstance(m, _Named)):
            raise NotImplementedError(f"metric {m!r}: Backprop Lab computes accuracy only")
        out.append(name if name in ACCURACY_NAMES else "accuracy")
    return out


__all__ = ["Accuracy", "SparseCategoricalAccuracy", "CategoricalAccuracy", "BinaryAccuracy"]
