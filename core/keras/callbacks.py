"""`keras.callbacks`: EarlyStopping, ModelCheckpoint, TensorBoard, History, LambdaCallback,
with Keras's arguments. They are the engine's callbacks (core.callbacks), so the app's own
training can use them too."""
from __future__ import annotations

import os

import numpy as np

from core import callbacks as _C
from core.keras._unsupported import refuse

Callback = _C.Callback
History = _C.History
LambdaCallback = _C.LambdaCallback


class EarlyStopping(_C.EarlyStopping):
    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        refuse("EarlyStopping", {"baseline": baseline, "start_from_epoch": start_from_epoch},
               {"baseline": None, "start_from_epoch": 0})
        super().__init__(monitor=monitor, patience=patience, min_delta=min_delta, mode=mode,
                         restore_best_weights=restore_best_weights)
        self.verbose = verbose

    def on_train_end(self, logs=None):
        if self.verbose and self.stopped_epoch is not None:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")


class ModelCheckpoint(_C.Callback):
    """Save the model after each epoch (or only when `monitor` improved): `filepath` may hold
    Keras's fields, e.g. "model-{epoch:02d}-{val_loss:.2f}.npz"."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch"):
        super().__init__()
        refuse("ModelCheckpoint", {"save_weights_only": save_weights_only, "save_freq": save_freq},
               {"save_weights_only": False, "save_freq": "epoch"})
        if not str(filepath).endswith((".npz", ".keras")):
            raise NotImplementedError(
                "ModelCheckpoint: Backprop Lab writes .keras and .npz model files (the legacy "
                ".h5 format is read, not written)")
        self.filepath, self.monitor, self.verbose = str(filepath), monitor, verbose
        self.save_best_only = save_best_only
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.sign = 1.0 if mode == "min" else -1.0
        self.best = np.inf

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None or not self.sign * value < self.best:
                return
            self.best = self.sign * value
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if path.endswith(".keras"):
            from core.keras.saving import save
        else:
            from core.io import save_model as save
        save(self.model, path)
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")


#: entries of a step's logs that are bookkeeping, not measurements
_NOT_METRICS = ("epoch", "batch", "step", "size")


class TensorBoard(_C.Callback):
    """Event files TensorBoard reads: `log_dir/train` and `log_dir/validation`, with
    `epoch_loss` and `epoch_accuracy` (as Keras names them) at each epoch."""

    def __init__(self, log_dir="logs", histogram_freq=0, write_images=False,
                 update_freq="epoch", **kwargs):
        super().__init__()
        refuse("TensorBoard", {"write_images": write_images, **kwargs},
               {"write_images": False, "profile_batch": 0, "write_graph": True})
        if update_freq not in ("epoch", "batch") and not (
                isinstance(update_freq, int) and update_freq >= 1):
            raise ValueError(f"update_freq must be 'epoch', 'batch' or a number of batches, "
                             f"got {update_freq!r}")
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self._batches = 0
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = int(histogram_freq)
        self._writers = {}

    def _writer(self, run):
        if run not in self._writers:
            from tensorboardX import SummaryWriter

            self._writers[run] = SummaryWriter(os.path.join(self.log_dir, run))
        return self._writers[run]

    def on_batch_end(self, batch, logs=None):
        # update_freq="batch" (or every n batches): Keras's batch_loss, batch_accuracy, ...
        self._batches += 1
        if self.update_freq == "epoch" or self._batches % self.update_freq:
            return
        for key, value in (logs or {}).items():
            if key not in _NOT_METRICS and isinstance(value, (int, float, np.floating)):
                self._writer("train").add_scalar(f"batch_{key}", float(value), self._batches)

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            if not isinstance(value, (int, float, np.floating)) or key in _NOT_METRICS:
                continue
            run, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            self._writer(run).add_scalar(f"epoch_{name}", float(value), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            # tutorial 16 opens TensorBoard's histograms of each layer's weights
            for layer in self.model.layers:
                for key, w in layer.params.items():
                    self._writer("train").add_histogram(f"{layer.name}/{key}", w, epoch)

    def on_train_end(self, logs=None):
        for w in self._writers.values():
            w.close()
        self._writers = {}


__all__ = ["Callback", "History", "LambdaCallback", "EarlyStopping", "ModelCheckpoint",
           "TensorBoard"]
