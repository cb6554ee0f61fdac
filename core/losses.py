"""Loss functions by their Keras names, each mean-reduced over the batch.

A loss returns the per-sample losses and dL/d(prediction). Two pairs are also
computed *fused* with the output activation (softmax + cross-entropy, sigmoid +
binary cross-entropy): dL/dz = (p − y)/N straight from the logits, which is exact
where the unfused route would divide by a probability that rounded to 0.

`CATALOGUE` is how the app *talks* about each loss (the word in a sentence, the title in a
menu, the formula over a batch, what it is for): the losses lesson and the network diagram
both read it, as they read `core.activations.CATALOGUE` for activations.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.kernels import losses as K


class Loss:
    name = ""
    formula = ""
    #: the output activation this loss fuses with, if any
    fuses_with: str | None = None

    def prepare_targets(self, y_true, y_pred_shape) -> np.ndarray:
        y = np.asarray(y_true, dtype=np.float32)
        if y.shape != tuple(y_pred_shape):
            if y.size != int(np.prod(y_pred_shape)):
                raise ValueError(
                    f"{self.name}: targets of shape {y.shape} do not match predictions "
                    f"of shape {tuple(y_pred_shape)}")
            y = y.reshape(y_pred_shape)
        return np.ascontiguousarray(y)

    def check_labels(self, y, output_shape, what: str = "the labels (y)") -> None:
        """ValueError if labels `y` (N, ...) cannot be this loss's targets for a model whose
        outputs have `output_shape` (without the batch axis). Run once per fit on the whole
        y, vectorised; only the shapes are checked here, each loss adds its own rule."""
        k = int(np.prod(output_shape))
        if len(y) and y.size // len(y) != k:
            raise ValueError(
                f"{self.name}: {what} have shape {y.shape}, but the model gives {k} "
                f"output value{'s' if k > 1 else ''} per sample "
                f"(outputs of shape (N, {', '.join(map(str, output_shape))}))")

    def per_sample(self, y_true, y_pred):
        """(per-sample loss (N,), dL/dy_pred) with L the batch mean."""
        raise NotImplementedError

    def fused(self, y_true, z):
        """(per-sample loss, dL/dz) from the pre-activation z of the fusing activation."""
        raise NotImplementedError

    def __call__(self, y_true, y_pred) -> float:
        y_pred = np.asarray(y_pred, dtype=np.float32)
        y_true = np.asarray(y_true)
        if y_pred.ndim >= 1 and len(y_true) == len(y_pred) and y_true.dtype.kind in "biuf":
            self.check_labels(y_true, y_pred.shape[1:] or (1,))
        losses, _ = self.per_sample(self.prepare_targets(y_true, y_pred.shape), y_pred)
        return float(np.mean(losses, dtype=np.float64))

    def get_config(self):
        return self.name


class _CrossEntropy(Loss):
    """A cross-entropy that may take logits (Keras's `from_logits=True`): the model's last
    layer then has no activation, and the loss applies softmax (or sigmoid) itself, in the
    same fused kernel a softmax output uses."""

    #: an output activation whose inputs this loss reads as its logits (see
    #: core.step.loss_reads_logits); None: the outputs themselves
    logits_of: str | None = None

    def __init__(self, from_logits: bool = False):
        if not isinstance(from_logits, (bool, np.bool_)):
            raise ValueError(f"from_logits must be True or False, got {from_logits!r}")
        self.from_logits = bool(from_logits)
        if self.from_logits:
            self.fuses_with = None  # the outputs already are the logits

    def per_sample(self, y_true, y_pred):
        if self.from_logits:
            return self.fused(y_true, y_pred)
        return self._from_probabilities(y_true, y_pred)

    def _from_probabilities(self, y_true, y_pred):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "from_logits": True} if self.from_logits else self.name


class MeanAbsoluteError(Loss):
    name = "mean_absolute_error"
    formula = "L = (1/N) Σ |y − ŷ|"

    def per_sample(self, y_true, y_pred):
        return K.mean_absolute_error(y_true, y_pred)


class MeanSquaredError(Loss):
    name = "mean_squared_error"
    formula = "L = (1/N) Σ (y − ŷ)²"

    def per_sample(self, y_true, y_pred):
        return K.mean_squared_error(y_true, y_pred)


class BinaryCrossentropy(_CrossEntropy):
    name = "binary_crossentropy"
    formula = "L = −(1/N) Σ [y·log ŷ + (1 − y)·log(1 − ŷ)]"
    fuses_with = "sigmoid"

    def check_labels(self, y, output_shape, what: str = "the labels (y)") -> None:
        super().check_labels(y, output_shape, what)
        # a label outside [0, 1] makes −[y·log ŷ + (1 − y)·log(1 − ŷ)] negative, and the
        # network then learns to push ŷ to an extreme instead of towards y
        bad = (y < 0) | (y > 1)
        if bad.any():
            row = int(np.argmax(bad.reshape(len(y), -1).any(axis=1)))
            value = y.reshape(len(y), -1)[row][np.argmax(bad.reshape(len(y), -1)[row])]
            raise ValueError(
                f"{self.name} needs labels 0 or 1 (or a probability between), but {what} "
                f"hold {value:g} at row index {row}. For more than two classes use "
                f"sparse_categorical_crossentropy with a softmax output.")

    def _from_probabilities(self, y_true, y_pred):
        return K.binary_crossentropy(y_true, y_pred)

    def fused(self, y_true, z):
        return K.sigmoid_binary_cross_entropy(z, self.prepare_targets(y_true, z.shape))


class CategoricalCrossentropy(_CrossEntropy):
    name = "categorical_crossentropy"
    formula = "L = −(1/N) Σ_n Σ_k y_nk·log ŷ_nk"
    fuses_with = "softmax"

    def check_labels(self, y, output_shape, what: str = "the labels (y)") -> None:
        k = int(np.prod(output_shape))
        if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1 and k > 1):
            raise ValueError(
                f"{self.name} needs one-hot rows of {k} values, but {what} are one class id "
                f"per sample: use sparse_categorical_crossentropy, or turn the ids into "
                f"one-hot rows (core.data.one_hot)")
        super().check_labels(y, output_shape, what)
        rows = y.reshape(len(y), -1)
        # a one-hot row (or a soft label: probabilities) is ≥ 0 and sums to 1
        bad = (rows < 0).any(axis=1) | (np.abs(rows.sum(axis=1, dtype=np.float64) - 1) > 1e-3)
        if bad.any():
            row = int(np.argmax(bad))
            shown = np.array2string(rows[row][:12], precision=3, separator=", ")
            raise ValueError(
                f"{self.name} needs one-hot rows (one 1, the rest 0; or probabilities "
                f"that sum to 1), but row index {row} of {what} is {shown}")

    def _from_probabilities(self, y_true, y_pred):
        return K.categorical_crossentropy(y_true, y_pred)

    def fused(self, y_true, z):
        return K.softmax_cross_entropy_onehot(z, self.prepare_targets(y_true, z.shape))


class SparseCategoricalCrossentropy(_CrossEntropy):
    name = "sparse_categorical_crossentropy"
    formula = "L = −(1/N) Σ_n log ŷ_n,y_n"
    fuses_with = "softmax"

    def prepare_targets(self, y_true, y_pred_shape):
        y = np.asarray(y_true)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1 or y.shape[0] != y_pred_shape[0]:
            raise ValueError(
                f"{self.name} needs one integer class id per sample, got targets of shape "
                f"{np.asarray(y_true).shape} for {y_pred_shape[0]} samples")
        if y.dtype.kind not in "iu":  # integers (a cheap test: this runs every step)
            if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
                raise ValueError(f"{self.name} needs integer class ids, got {y.dtype} values")
        y = y.astype(np.int64)
        n_classes = y_pred_shape[1] if len(y_pred_shape) > 1 else 1
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(
                f"{self.name}: class ids must be in 0..{n_classes - 1}, "
                f"got {int(y.min())}..{int(y.max())}")
        return np.ascontiguousarray(y)

    def check_labels(self, y, output_shape, what: str = "the labels (y)") -> None:
        ids = y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y
        if ids.ndim != 1:
            raise ValueError(
                f"{self.name} needs one class id per sample, but {what} have shape "
                f"{y.shape}: for one-hot rows use categorical_crossentropy")
        n_classes = int(output_shape[0]) if output_shape else 1
        bad = (ids < 0) | (ids >= n_classes)
        if ids.dtype.kind == "f":
            bad |= ids != np.round(ids)
        if bad.any():
            row = int(np.argmax(bad))
            raise ValueError(
                f"{self.name} needs whole class ids 0…{n_classes - 1} (the model has "
                f"{n_classes} outputs), but {what} hold {ids[row]:g} at row index {row}")

    def _from_probabilities(self, y_true, y_pred):
        return K.sparse_categorical_crossentropy(y_true, y_pred)

    def fused(self, y_true, z):
        return K.softmax_cross_entropy(z, self.prepare_targets(y_true, z.shape))


_BY_NAME = {cls.name: cls for cls in (
    MeanAbsoluteError, MeanSquaredError, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy)}
_ALIASES = {"mae": "mean_absolute_error", "mse": "mean_squared_error",
            "log_loss": "binary_crossentropy"}

NAMES = tuple(_BY_NAME)


@dataclass(frozen=True)
class LossInfo:
    """One loss as the app writes it; `name` is the engine's (`loss="mean_squared_error"`)."""

    name: str
    word: str        # inside a sentence: "Loss: binary cross-entropy (sample 1 of 4)"
    title: str       # a menu entry: "Binary cross-entropy (log loss)"
    formula: str     # over a batch of N
    use: str         # what it is for, in two or three sentences


CATALOGUE = {info.name: info for info in (
    LossInfo("mean_absolute_error", "mean absolute error", "Mean absolute error (MAE)",
             "L = (1/N) Σ |y − ŷ|",
             "The average size of the miss. Every unit of error costs the same, so a few big "
             "misses do not dominate."),
    LossInfo("mean_squared_error", "mean squared error", "Mean squared error (MSE)",
             "L = (1/N) Σ (y − ŷ)²",
             "Squares each miss: big errors cost far more than small ones. The usual loss for "
             "predicting numbers."),
    LossInfo("binary_crossentropy", "binary cross-entropy", "Binary cross-entropy (log loss)",
             "L = −(1/N) Σ [y·log ŷ + (1 − y)·log(1 − ŷ)]",
             "For yes/no answers with a sigmoid output: the course's log loss. A confident "
             "wrong answer (ŷ near 0 when y = 1) costs a lot."),
    LossInfo("categorical_crossentropy", "categorical cross-entropy",
             "Categorical cross-entropy", "L = −(1/N) Σ_n Σ_k y_nk·log ŷ_nk",
             "For several classes with a softmax output, labels written one-hot ([0, 1, 0]). "
             "Only the probability of the true class counts: −log of it."),
    LossInfo("sparse_categorical_crossentropy", "sparse categorical cross-entropy",
             "Sparse categorical cross-entropy", "L = −(1/N) Σ_n log ŷ_n,class(n)",
             "The same loss as categorical cross-entropy, but labels are class numbers (1) "
             "instead of one-hot vectors: what the course uses for the digits."),
)}

#: the word for a loss inside a sentence
WORDS = {k: v.word for k, v in CATALOGUE.items()}


def get(spec) -> Loss:
    if isinstance(spec, Loss):
        return spec
    if isinstance(spec, str):
        key = _ALIASES.get(spec.lower(), spec.lower())
        if key in _BY_NAME:
            return _BY_NAME[key]()
    if isinstance(spec, dict) and set(spec) == {"name", "from_logits"}:
        cls = _BY_NAME.get(_ALIASES.get(str(spec["name"]).lower(), str(spec["name"]).lower()))
        if cls is not None and issubclass(cls, _CrossEntropy):
            return cls(from_logits=spec["from_logits"])
    raise ValueError(f"unknown loss {spec!r}; choose one of {', '.join(NAMES)}")
