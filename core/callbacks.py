"""Callbacks: hooks the training loop calls; any of them may stop training.

Batch logs hold that batch's own loss and metrics (what a live plot wants), plus
"epoch", "batch", "step" (updates so far) and "size". Epoch logs hold the epoch's
training loss/metrics (mean over its batches, as Keras reports them) and, with
validation data, "val_loss" and "val_<metric>".
"""
from __future__ import annotations

import math
from collections import deque

import numpy as np

from core.wording import number



class Callback:
    def __init__(self):
        self.model = None

    def set_model(self, model) -> None:
        self.model = model

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...


class History(Callback):
    """What `fit` returns: `history["loss"][e]` is epoch e's value; `stop_reason` says why
    training ended early (None if it ran all its epochs)."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.stop_reason: str | None = None
        #: True when training stopped because the run diverged (NaN/inf or `Divergence`)
        self.diverged = False

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))

    @property
    def stopped_early(self) -> bool:
        return self.stop_reason is not None


class LambdaCallback(Callback):
    """Plain functions as hooks: LambdaCallback(on_batch_end=lambda batch, logs: ...)."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None,
                 on_batch_end=None, on_train_begin=None, on_train_end=None):
        super().__init__()
        for name, fn in locals().items():
            if name.startswith("on_") and fn is not None:
                setattr(self, name, fn)


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by `min_delta` for `patience` epochs."""

    def __init__(self, monitor="val_loss", patience=0, min_delta=0.0, mode="auto",
                 restore_best_weights=False):
        super().__init__()
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = abs(float(min_delta))
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
        self.sign = 1.0 if mode == "min" else -1.0
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.best = math.inf
        self.best_weights = None
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            return
        score = self.sign * float(value)
        if score < self.best - self.min_delta:
            self.best, self.wait = score, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        # as Keras counts: patience=2 stops after the second epoch in a row without
        # improvement (patience=0 after the first)
        if self.wait >= max(self.patience, 1):
            self.stopped_epoch = epoch
            self.model.stop_training = True
            self.model.stop_reason = (
                f"early stopping: {self.monitor} did not improve for "
                f"{self.wait} epoch{'s' if self.wait > 1 else ''}")
            if self.best_weights is not None:
                self.model.set_weights(self.best_weights)


class Divergence:
    """Watches a fit's batch losses for a run that is diverging without ever reaching NaN:
    SGD at η = 10⁶ on the dashboard's network sits at loss ~10⁵-10³¹ and 10 % accuracy for
    ever. `fit` feeds it every batch (a few scalar operations) and stops with its sentence.

    Over a window of the last ~`WINDOW_SAMPLES` samples (at most one epoch), the run is
    diverging if its mean loss is either

    - `FAR` times where training started (`baseline`), or
    - `GROWN` times where it started while the accuracy sits at chance (what always
      answering the most common class scores): the network has stopped learning anything.

    Calibrated on the dashboard's three data sets (SGD and Adam, η = 0.01…10⁶, batches of
    1 and 32): every run that learned stayed below 2.7 times its starting loss; every run
    above 5 times it was at chance. Noisy SGD (batch size 1) is smoothed by the window.
    """

    WINDOW_SAMPLES = 256
    FAR = 1000.0
    GROWN = 5.0
    #: chance plus this much accuracy still counts as "at chance"
    CHANCE_MARGIN = 0.05

    def __init__(self, baseline: float, chance: float | None, batch_size: int,
                 batches_per_epoch: int, learning_rate: float | None):
        self.baseline = max(float(baseline), 1e-3)   # a perfect start cannot make 0 × FAR
        self.chance = chance
        self.window = max(1, min(math.ceil(self.WINDOW_SAMPLES / batch_size),
                                 batches_per_epoch))
        self.learning_rate = learning_rate
        self._rows: deque = deque()
        # running sums over the window: a few additions per batch, not a pass over it (at
        # batch size 1 the window is 256 batches). A loss large enough to spoil them by
        # cancellation has already stopped the run (FAR), so they stay accurate.
        self._loss = self._acc = 0.0
        self._seen = 0

    def observe(self, loss: float, accuracy: float | None, size: int,
                where: str = "") -> str | None:
        """Add a batch's loss (and accuracy, if measured); the reason to stop (saying
        `where`: "epoch 1, batch 8"), or None."""
        self._where = where
        acc = math.nan if accuracy is None else accuracy
        self._rows.append((loss * size, acc * size, size))
        self._loss += loss * size
        self._acc += acc * size
        self._seen += size
        if len(self._rows) > self.window:
            old_loss, old_acc, old_size = self._rows.popleft()
            self._loss -= old_loss
            self._acc -= old_acc
            self._seen -= old_size
        mean = self._loss / self._seen
        if mean > self.FAR * self.baseline:
            return self._reason(mean, None)
        if self.chance is None or accuracy is None or len(self._rows) < self.window:
            return None
        mean_acc = self._acc / self._seen
        if mean > self.GROWN * self.baseline and mean_acc <= self.chance + self.CHANCE_MARGIN:
            return self._reason(mean, mean_acc)
        return None

    def _reason(self, mean: float, accuracy: float | None) -> str:
        n = len(self._rows)
        where = f" at {self._where}" if self._where else ""
        text = (f"training stopped{where}: the loss is diverging. It grew from {number(self.baseline)} "
                f"at the start to {number(mean)} (the mean of the last {n} "
                f"batch{'es' if n > 1 else ''})")
        if accuracy is not None:
            text += (f" while the accuracy stayed at chance ({100 * accuracy:.0f} %; always "
                     f"answering the most common class scores {100 * self.chance:.0f} %)")
        if self.learning_rate is not None:
            text += (f". The learning rate {number(self.learning_rate)} is too large for this "
                     f"network and data: try {number(self.learning_rate / 10)} or smaller (the course's "
                     f"networks learn with 0.001 to 0.1).")
        else:
            text += ". Try a smaller learning rate."
        return text


class CallbackList:
    """Fans each hook out to several callbacks."""

    def __init__(self, callbacks, model):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            cb.set_model(model)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call(*args):
            for cb in self.callbacks:
                getattr(cb, hook)(*args)
        return call


def is_finite(value) -> bool:
    return bool(np.isfinite(value))
