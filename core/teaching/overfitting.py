"""The dropout lesson's experiment, without Qt: a setup that overfits, and what dropout does.

Overfitting needs a network with far more freedom than the data constrains: a few hundred
training digits and two wide hidden layers learn the training set by heart (training loss
near 0) while the loss on digits it never saw climbs. The same network with `Dropout` after
each hidden layer (tutorial 20) must spread what it learns over many units, because any unit
may be missing from the next batch; its validation curve stays closer to its training curve.

Each example in a batch gets its own random mask (Keras's behaviour, and the engine's);
`kept_masks` reads the masks the engine recorded for the last training batch through the
Dropout layers' public `trace_extras()` (the same record a `StepTrace` carries).
"""
from __future__ import annotations

import numpy as np

from core import data as core_data
from core.layers import Dense, Dropout
from core.model import Sequential
from core.optimizers import Adam
from core.wording import number

__all__ = ["small_digits", "build_overfit_model", "dropout_layers", "kept_masks",
           "MaskRecorder", "StepBatches", "clone_model", "generalization_gap",
           "DEFAULT_HIDDEN", "dropout_verdict"]

#: two wide hidden layers: far more weights (~118,000) than 300 digits can pin down
DEFAULT_HIDDEN = (128, 128)


def small_digits(n_train: int = 300, n_val: int = 500, seed: int = 0):
    """A small, class-balanced training set and a separate validation set of offline digits.

    Returns ``(x_train, y_train, x_val, y_val)``: ``n_train`` digits (as equal a share of
    each class as the count allows) and ``n_val`` other digits, flattened to (N, 784) as the
    course feeds a dense network.
    """
    n_train, n_val = int(n_train), int(n_val)
    if n_train < 10:
        raise ValueError(f"use at least 10 training digits (one per class), got {n_train}")
    if n_val < 10:
        raise ValueError(f"use at least 10 validation digits, got {n_val}")
    x, y = core_data.load_offline_digits(seed=0, read_only=True)
    if n_train + n_val > len(y):
        raise ValueError(f"only {len(y)} offline digits: {n_train} + {n_val} is too many")
    rng = np.random.default_rng(seed)
    per_class = [rng.permutation(np.flatnonzero(y == c)) for c in range(10)]
    take = np.full(10, n_train // 10)
    take[: n_train % 10] += 1
    train_idx = np.concatenate([members[:k] for members, k in zip(per_class, take)])
    rest = np.concatenate([members[k:] for members, k in zip(per_class, take)])
    val_idx = rng.choice(rest, size=n_val, replace=False)
    train_idx = rng.permutation(train_idx)
    flat = x.reshape(len(x), -1)                                   # (5000, 784)
    return flat[train_idx], y[train_idx], flat[val_idx], y[val_idx]


def build_overfit_model(rate: float = 0.0, hidden=DEFAULT_HIDDEN, learning_rate: float = 0.001,
                        seed: int = 0) -> Sequential:
    """784 inputs → [Dense(units, relu) → Dropout(rate)] per hidden layer → Dense(10, softmax).

    With ``rate == 0`` no Dropout layer is added at all. The same ``seed`` gives both
    networks the same starting weights (Dropout has none), so the only difference between
    them is dropout.
    """
    rate = float(rate)
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout rate must be in [0, 1), got {rate}")
    layers = []
    for units in hidden:
        layers.append(Dense(int(units), activation="relu"))
        if rate > 0:
            layers.append(Dropout(rate))
    layers.append(Dense(10, activation="softmax"))
    model = Sequential(layers, input_shape=(784,), seed=int(seed))
    model.compile(Adam(float(learning_rate)), "sparse_categorical_crossentropy", ["accuracy"])
    return model


def dropout_layers(model) -> list[int]:
    """Indices of the model's Dropout layers."""
    return [i for i, layer in enumerate(model.layers) if type(layer).__name__ == "Dropout"]


def kept_masks(model, sample: int | None = 0) -> dict[int, np.ndarray]:
    """{Dropout layer index: kept mask} of the last training batch the model ran.

    ``sample=k`` gives example k's mask, flattened to (units,); ``sample=None`` the whole
    batch's (N, units). Layers that have not run a training batch yet are left out.
    """
    out = {}
    for i in dropout_layers(model):
        kept = model.layers[i].trace_extras().get("kept")
        if kept is None:
            continue
        kept = np.asarray(kept, dtype=bool)
        out[i] = kept.reshape(len(kept), -1) if sample is None else kept[int(sample)].ravel()
    return out


class MaskRecorder:
    """Keeps the masks of a model's latest *training* batch while `fit` runs in another thread.

    `kept_masks` reads what the layers hold now, and a validation pass (which drops nothing)
    clears that at every epoch end; a display polling from the GUI thread would mostly find
    nothing. The recorder listens to each Dropout layer's forward pass instead (its own
    wrapper on that layer object, the engine unchanged) and publishes, after the batch's last
    Dropout layer, ``snapshot = (batches seen, {layer index: kept (N, units)})`` as one
    reference swap, so a reader in any thread sees one whole batch or the one before.
    """

    def __init__(self, model):
        self.layers = dropout_layers(model)
        self.snapshot: tuple[int, dict] = (0, {})
        self._current: dict[int, np.ndarray] = {}
        last = self.layers[-1] if self.layers else None
        for i in self.layers:
            layer = model.layers[i]
            self._wrap(layer, i, i == last)

    def _wrap(self, layer, index: int, is_last: bool) -> None:
        original = layer.forward

        def forward(x, training=False):
            out = original(x, training=training)
            if training:
                kept = layer.trace_extras().get("kept")
                if kept is not None:
                    self._current[index] = kept.reshape(len(kept), -1)
                    if is_last:
                        self.snapshot = (self.snapshot[0] + 1, dict(self._current))
            return out

        layer.forward = forward

    @property
    def batches(self) -> int:
        return self.snapshot[0]


def clone_model(model, seed: int | None = None) -> Sequential:
    """A copy with the same layers, weights, optimizer and loss (fresh optimizer state).

    Stepping a copy leaves the original's training run untouched. Its Dropout layers draw
    masks from ``seed`` (repeatable) or fresh entropy.
    """
    clone = Sequential.from_config(model.get_config())
    cfg = model.compile_config()
    clone.compile(cfg["optimizer"], cfg["loss"], cfg["metrics"])
    clone.set_weights(model.get_weights())
    rng = np.random.default_rng(seed)
    for layer in clone.layers:
        if hasattr(layer, "reseed"):
            layer.reseed(np.random.default_rng(rng.integers(2**63)))
    return clone


class StepBatches:
    """Mini-batches of (x, y) in a shuffled order, one epoch after another, for stepping."""

    def __init__(self, x, y, batch_size: int = 32, seed: int = 0):
        if len(x) != len(y) or len(y) == 0:
            raise ValueError("x and y must be non-empty and the same length")
        if int(batch_size) < 1:
            raise ValueError(f"batch size must be at least 1, got {batch_size}")
        self.x, self.y = x, y
        self.batch_size = min(int(batch_size), len(y))
        self._rng = np.random.default_rng(seed)
        self._order = self._rng.permutation(len(y))
        self._pos = 0
        self.epoch = 0
        self.batch = 0     # batches handed out so far

    def next(self):
        """(index of the batch, x_batch, y_batch)."""
        if self._pos >= len(self._order):
            self._order = self._rng.permutation(len(self.y))
            self._pos = 0
            self.epoch += 1
        idx = self._order[self._pos:self._pos + self.batch_size]
        self._pos += self.batch_size
        self.batch += 1
        return self.batch, self.x[idx], self.y[idx]


def generalization_gap(train_values, val_values) -> float | None:
    """Validation minus training value at the last epoch where both are finite (None if
    there is none). For loss, a large positive gap is the mark of overfitting."""
    t = np.asarray(train_values, dtype=np.float64)
    v = np.asarray(val_values, dtype=np.float64)
    n = min(t.size, v.size)
    ok = np.flatnonzero(np.isfinite(t[:n]) & np.isfinite(v[:n]))
    if ok.size == 0:
        return None
    i = ok[-1]
    return float(v[i] - t[i])


def _percent(share) -> str:
    return f"{100 * float(share):.1f} %"


def dropout_verdict(plain: dict, dropout: dict, n_val: int, rate: float) -> str:
    """One sentence on whether dropout helped validation this time, and if not, why it
    probably did not. `plain` and `dropout` hold each run's per-epoch lists ("loss",
    "val_loss", "val_accuracy"); `n_val` is the number of validation digits."""
    pv, dv = float(plain["val_loss"][-1]), float(dropout["val_loss"][-1])
    pa, da = float(plain["val_accuracy"][-1]), float(dropout["val_accuracy"][-1])
    losses = f"validation loss {number(dv)} with dropout, {number(pv)} without"
    accs = f"validation accuracy {_percent(da)} against {_percent(pa)}"
    one_digit = _percent(1 / max(1, int(n_val)))
    if dv < pv and da > pa:
        return f"Dropout helped: {losses}, {accs}."
    if dv < pv:
        return (f"Dropout kept the validation loss lower ({losses}), but the {accs} is "
                f"{'the same' if da == pa else 'not better'} this time: one of the {n_val} "
                f"validation digits is {one_digit}, so a few borderline digits decide it; the "
                "lower loss means fewer confident mistakes.")
    val = np.asarray(plain["val_loss"], dtype=np.float64)
    still_falling = int(np.argmin(val)) == len(val) - 1     # its lowest is its last
    d_train = float(dropout["loss"][-1])
    if still_falling:
        why = ("the network without dropout had not started to overfit yet (its validation "
               "loss was still falling): train for more epochs")
    elif d_train > pv:
        why = (f"with rate {number(rate)} the dropout network is still learning the training "
               f"digits (training loss {number(d_train)}): try a lower rate or more epochs")
    else:
        why = "dropout's random masks did not pay off in this run: try another rate"
    return f"This time dropout did not help validation ({losses}, {accs}): {why}."
