"""Pieces the three CNN lessons share: live training curves, the training job run in a
worker, and the CNN most recently trained (so the explorer can borrow its filters).

Not a lesson itself (the registry lists lessons by module and class).
"""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QVBoxLayout, QWidget)

from core.callbacks import Callback
from gui.app import current_worker
from gui.widgets.numbers import fmt, mono_font

TRAIN_PEN = pg.mkPen("#1d232b", width=2)
VAL_PEN = pg.mkPen("#2166ac", width=2, style=Qt.PenStyle.DashLine)

# --- the CNN most recently trained in this session --------------------------------------
_TRAINED: dict = {"model": None, "source": "", "version": 0}


def set_trained_cnn(model, source: str) -> None:
    """Remember a freshly trained digits CNN (the explorer offers its first-layer filters)."""
    _TRAINED["model"], _TRAINED["source"] = model, source
    _TRAINED["version"] += 1


def trained_cnn_version() -> int:
    """Grows each time a CNN is trained: a lesson can tell its filter list is stale."""
    return _TRAINED["version"]


def trained_cnn():
    """(model, source) of the last trained digits CNN, else the shipped one, else (None, "")."""
    if _TRAINED["model"] is not None:
        return _TRAINED["model"], _TRAINED["source"]
    try:
        from core.io import load_model
        from resources.paths import model_path, resource

        if not resource("models", "digits_cnn.npz").is_file():
            return None, ""
        with model_path("digits_cnn") as path:
            return load_model(path), "the shipped pretrained CNN (resources/models/digits_cnn.npz)"
    except (ValueError, OSError):
        return None, ""


def first_conv_filters(model) -> tuple[np.ndarray, np.ndarray] | None:
    """(kernels (F, KH, KW), biases (F,)) of the first Conv2D on one channel, or None."""
    if model is None:
        return None
    for lay in model.layers:
        if type(lay).__name__ == "Conv2D":
            k = lay.params["kernel"]                                       # (KH, KW, 1, F)
            if k.ndim != 4 or k.shape[2] != 1:
                return None
            return (np.ascontiguousarray(np.transpose(k[:, :, 0, :], (2, 0, 1))),  # (F, KH, KW)
                    lay.params["bias"].copy())
    return None


# --- training in a worker --------------------------------------------------------------------
class _Reporter(Callback):
    """Sends batch and epoch progress to the GUI; stops training when the worker is cancelled.

    Batch reports carry the batch's own loss/accuracy and the epoch's running means, with the
    three x-axes of core.teaching.runs (step, fractional epoch, seconds of training)."""

    def __init__(self, worker, n_batches: int, epochs: int):
        super().__init__()
        self.worker = worker
        self.n_batches = n_batches
        self.epochs = epochs
        self.start = time.perf_counter()
        self.t0 = self.start
        self.epoch_seconds: list[float] = []
        self._sums = {"loss": 0.0, "accuracy": 0.0, "n": 0}

    def on_epoch_begin(self, epoch, logs=None):
        self.t0 = time.perf_counter()
        self._sums = {"loss": 0.0, "accuracy": 0.0, "n": 0}

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        size = logs.get("size", 1)
        loss, acc = float(logs.get("loss", np.nan)), float(logs.get("accuracy", np.nan))
        self._sums["loss"] += loss * size
        self._sums["accuracy"] += acc * size
        self._sums["n"] += size
        n = max(self._sums["n"], 1)
        e = logs.get("epoch", 0)
        if self.worker is not None:
            now = time.perf_counter()
            self.worker.report({"kind": "batch", "epoch": e, "batch": batch,
                                "n_batches": self.n_batches, "epochs": self.epochs,
                                "step": logs.get("step", 0),
                                "x_epoch": e + (batch + 1) / self.n_batches,
                                "time": now - self.start,
                                "loss": loss, "accuracy": acc,
                                "mean_loss": self._sums["loss"] / n,
                                "mean_accuracy": self._sums["accuracy"] / n,
                                "seconds": now - self.t0})
            if self.worker.is_cancelled():
                self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        seconds = now - self.t0
        self.epoch_seconds.append(seconds)
        if self.worker is not None:
            self.worker.report({"kind": "epoch", "epoch": epoch, "epochs": self.epochs,
                                "n_batches": self.n_batches, "seconds": seconds,
                                "time": now - self.start,
                                **{k: float(v) for k, v in (logs or {}).items()}}, force=True)


def train_job(model, x, y, x_val, y_val, epochs: int, batch_size: int = 32, seed: int = 0):
    """Run in a Worker: fit with live reports; returns what the lesson needs afterwards."""
    worker = current_worker()
    n_batches = -(-len(x) // batch_size)
    reporter = _Reporter(worker, n_batches, epochs)
    t0 = time.perf_counter()
    hist = model.fit(x, y, epochs=epochs, batch_size=batch_size,
                     validation_data=(x_val, y_val), callbacks=[reporter], seed=seed)
    return {"model": model, "history": hist.history, "stop_reason": hist.stop_reason,
            "epoch_seconds": reporter.epoch_seconds, "seconds": time.perf_counter() - t0,
            "cancelled": worker is not None and worker.is_cancelled()}


# --- live curves ------------------------------------------------------------------------------
def _text_size() -> str:
    size = QGuiApplication.font().pointSizeF()
    return f"{size if size > 0 else 10:g}pt"


def _plot(title: str, y_label: str) -> pg.PlotWidget:
    w = pg.PlotWidget()
    w.setBackground("w")
    item = w.getPlotItem()
    for side in ("left", "bottom"):
        axis = item.getAxis(side)
        axis.setPen(pg.mkPen("#5b626c"))
        axis.setTextPen(pg.mkPen("#1d232b"))
    item.setTitle(title, color="#1d232b", size=_text_size())
    item.setLabel("bottom", "epoch", color="#1d232b", size=_text_size())
    item.setLabel("left", y_label, color="#1d232b", size=_text_size())
    item.showGrid(x=True, y=True, alpha=0.18)
    item.setMenuEnabled(False)
    item.hideButtons()
    w.setMinimumHeight(130)
    return w


class _SimpleCurves(QWidget):
    """Fallback when gui.widgets.training_plot is missing: the latest run only."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(3)
        plots = QHBoxLayout()
        self.loss_plot = _plot("Loss", "cross-entropy")
        self.acc_plot = _plot("Accuracy", "fraction right")
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.acc_plot)
        lay.addLayout(plots, 1)
        self.curves = {}
        for key, plot, pen in (("loss", self.loss_plot, TRAIN_PEN),
                               ("val_loss", self.loss_plot, VAL_PEN),
                               ("accuracy", self.acc_plot, TRAIN_PEN),
                               ("val_accuracy", self.acc_plot, VAL_PEN)):
            symbol = "o" if key.startswith("val") else None
            self.curves[key] = plot.plot([], [], pen=pen, symbol=symbol, symbolSize=6,
                                         symbolBrush="#2166ac")
        key = QLabel("── training (mean so far in the epoch)    - - ● validation")
        key.setObjectName("mutedText")
        lay.addWidget(key)
        self.data = {k: ([], []) for k in self.curves}

    def new_run(self, name: str):
        self.data = {k: ([], []) for k in self.curves}
        for c in self.curves.values():
            c.setData([], [])
        return None

    def add(self, run, info: dict) -> None:
        if info["kind"] == "batch":
            xs = {k: list(v[0]) for k, v in self.data.items()}
            ys = {k: list(v[1]) for k, v in self.data.items()}
            for k, m in (("loss", "mean_loss"), ("accuracy", "mean_accuracy")):
                xs[k].append(info["x_epoch"])
                ys[k].append(info[m])
        else:
            for k in self.data:
                if k in info:
                    self.data[k][0].append(info["epoch"] + 1)
                    self.data[k][1].append(info[k])
            xs = {k: v[0] for k, v in self.data.items()}
            ys = {k: v[1] for k, v in self.data.items()}
        for k, c in self.curves.items():
            c.setData(xs[k], ys[k])


class LiveCurves(QWidget):
    """Loss and accuracy curves of every run of the lesson, updated live from `train_job`'s
    reports; the app's shared TrainingPlot when it is available."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        try:
            from core.teaching.runs import RunStore
            from gui.widgets.training_plot import TrainingPlot
        except ImportError:
            self.plot, self.store = _SimpleCurves(self), None
        else:
            self.store = RunStore()
            self.plot = TrainingPlot(x_axis="epoch", granularity="both", show_controls=False,
                                     parent=self)
        lay.addWidget(self.plot)
        self.current = None

    def new_run(self, name: str, settings: dict | None = None):
        """Start a run; returns it (a core.teaching.runs.Run, or None with the fallback plot)."""
        if self.store is None:
            self.current = self.plot.new_run(name)
            return None
        self.current = self.store.new_run(settings or {}, name)
        self.current.status = "running"
        self.plot.add_run(self.current)
        return self.current

    def run_color(self, run) -> str | None:
        if run is None:
            return None
        from gui.widgets.training_plot import run_color

        return run_color(run).name()

    def add(self, info: dict) -> None:
        run = self.current
        if self.store is None:
            self.plot.add(run, info)
            return
        if run is None:
            return
        if info["kind"] == "batch":
            run.updates_per_epoch = info["n_batches"]
            run.add_batch({"step": info["step"], "epoch": info["x_epoch"], "time": info["time"],
                           "loss": info["loss"], "accuracy": info["accuracy"]})
        else:
            row = {"step": (info["epoch"] + 1) * info["n_batches"], "epoch": info["epoch"] + 1,
                   "time": info["time"]}
            row.update({k: info[k] for k in ("loss", "accuracy", "val_loss", "val_accuracy")
                        if k in info})
            run.add_epoch(row)
        self.plot.update_runs([run.id])

    def finish(self, status: str = "finished", reason: str | None = None) -> None:
        if self.current is not None:
            self.current.status = status
            self.current.stop_reason = reason


class TrainingStatus(QWidget):
    """A progress bar over all batches of all epochs, and epoch · batch · seconds."""

    def __init__(self, parent=None):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setAccessibleName("Training progress")
        self.progress.setToolTip("Batches done out of all batches of all epochs")
        row.addWidget(self.progress, 1)
        self.label = QLabel("not trained yet", self)
        self.label.setFont(mono_font())
        self.label.setToolTip("epoch · batch · seconds this epoch has taken so far "
                              "(and how long the last whole epoch took)")
        row.addWidget(self.label, 2)
        self.epoch_seconds: list[float] = []

    def reset(self) -> None:
        self.progress.setValue(0)
        self.epoch_seconds = []

    def on_progress(self, info: dict) -> None:
        e, epochs, nb = info["epoch"], info["epochs"], max(info["n_batches"], 1)
        self.progress.setRange(0, epochs * nb)
        if info["kind"] == "batch":
            b = info["batch"] + 1
            self.progress.setValue(e * nb + b)
            last = f" · last epoch {fmt(self.epoch_seconds[-1])} s" if self.epoch_seconds else ""
            self.label.setText(f"epoch {e + 1}/{epochs} · batch {b}/{nb} · "
                               f"{fmt(info['seconds'])} s{last}")
        else:
            self.epoch_seconds.append(info["seconds"])
            self.progress.setValue((e + 1) * nb)
            val = f" · val. accuracy {fmt(info['val_accuracy'])}" if "val_accuracy" in info else ""
            self.label.setText(f"epoch {e + 1}/{epochs} took {fmt(info['seconds'])} s{val}")


# --- the learner's own digit -------------------------------------------------------------------
def drawing_available() -> bool:
    try:
        import gui.widgets.drawing_pad  # noqa: F401
    except ImportError:
        return False
    return True


class DrawDigitDialog(QDialog):
    """Draw a digit; `digit()` is the drawing prepared like MNIST (core.digits.to_mnist)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        from gui.widgets.drawing_pad import DrawingPad

        self.setWindowTitle("Draw a digit")
        lay = QVBoxLayout(self)
        hint = QLabel("Draw one digit (0–9). It is cropped, scaled to 20 px and centred in "
                      "28×28, as MNIST's digits were.")
        hint.setWordWrap(True)
        lay.addWidget(hint)
        self.pad = DrawingPad(self)
        self.pad.setMinimumSize(260, 260)
        lay.addWidget(self.pad, 1)
        row = QHBoxLayout()
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Wipe the pad")
        self.clear_button.setAccessibleName("Clear drawing")
        self.clear_button.clicked.connect(self.pad.clear)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Remove the last stroke")
        self.undo_button.setAccessibleName("Undo stroke")
        self.undo_button.clicked.connect(self.pad.undo)
        row.addWidget(self.clear_button)
        row.addWidget(self.undo_button)
        row.addStretch(1)
        lay.addLayout(row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel, parent=self)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Use this drawing")
        self.ok_button.setToolTip("Use the drawing as the input image")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.pad.changed.connect(self._update_ok)
        self._update_ok()

    def _update_ok(self) -> None:
        from core.digits import has_ink

        self.ok_button.setEnabled(has_ink(self.pad.image()))

    def digit(self) -> np.ndarray:
        """(28, 28) float32 in [0, 1], white ink on black."""
        from core.digits import to_mnist

        return to_mnist(self.pad.image())
