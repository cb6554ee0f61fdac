"""Pieces the three CNN lessons share: the training session with its live curves and
progress, and the CNN most recently trained (so the explorer can borrow its filters).

Not a lesson itself (the registry lists lessons by module and class).
"""
from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QProgressBar, QVBoxLayout,
                               QWidget)

from core.teaching.runs import RunStore
from gui.training_worker import TrainingSession, TrainingTask
from gui.widgets.numbers import fmt, mono_font
from gui.widgets.lazy_tab import LazyTab
from gui.widgets.training_plot import TrainingPlot, run_color

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
    for lay, params in zip(model.layers, model.weights_snapshot()):  # under the model's
        if type(lay).__name__ == "Conv2D":                            # lock: a worker may train
            k = params["kernel"]                                       # (KH, KW, 1, F)
            if k.ndim != 4 or k.shape[2] != 1:
                return None
            return (np.ascontiguousarray(np.transpose(k[:, :, 0, :], (2, 0, 1))),  # (F, KH, KW)
                    params["bias"])
    return None


# --- feature maps: what a layer's output looks like on screen -----------------------------
#: what each layer kind is called in a layer box (its Keras name is in the tooltip)
LAYER_WORDS = {"Conv2D": "convolution", "MaxPool2D": "max pooling", "AvgPool2D":
               "average pooling", "Flatten": "flatten", "Dense": "dense"}


def layer_caption(i: int, layer, shape) -> str:
    """Short enough to show whole in a layer box: "4. max pooling → 5×5×64" (was
    "4. max_pooling2d_1 (MaxPool2D) → 5×5×64", cut off)."""
    dims = "×".join(str(d) for d in shape)
    kind = type(layer).__name__
    return f"{i + 1}. {LAYER_WORDS.get(kind, kind)} → {dims}"


def output_as_maps(out: np.ndarray) -> tuple[np.ndarray, str]:
    """One sample's layer output as (C, H, W) maps for a FeatureMapGrid, and what they are:
    (H, W, C) maps one per channel, a vector as one near-square grid padded with NaN."""
    if out.ndim == 3:                                                     # (H, W, C) maps
        maps = np.transpose(out, (2, 0, 1))                               # (C, H, W)
        return maps, f"{maps.shape[0]} maps of {out.shape[0]}×{out.shape[1]}"
    n = out.size
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    grid = np.full(rows * cols, np.nan, np.float32)
    grid[:n] = out.ravel()
    return grid.reshape(1, rows, cols), f"{n} values drawn as a {rows}×{cols} grid (black: no value)"


# --- training: one TrainingSession, its run drawn live -------------------------------------------
def add_maps_of_combo(row: QHBoxLayout, input_words: str) -> QComboBox:
    """"Of: [the lesson's CNN ▾]" added to `row`: whose feature maps to show, the lesson's
    CNN or a model the learner opened (entry added when one fits). `input_words` names
    the inputs such a model must take, e.g. "28×28×1"."""
    cap = QLabel("Of")
    combo = QComboBox()
    combo.addItem("the lesson's CNN", "lesson")
    combo.setToolTip("Whose feature maps to show: the CNN trained here, or your own model "
                     "opened with File ▸ Open model… (it needs a Conv2D layer and "
                     f"{input_words} inputs)")
    combo.setAccessibleName("Feature maps of")
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    cap.setBuddy(combo)
    row.addWidget(cap)
    row.addWidget(combo)
    return combo


def add_layer_combo(row: QHBoxLayout) -> QComboBox:
    """"Layer: [▾]" added to `row`, taking the row's spare width: which layer's outputs
    the feature-map view shows (filled by the lesson from the model's layers)."""
    cap = QLabel("Layer")
    combo = QComboBox()
    combo.setToolTip("Whose outputs to show: each convolution makes one map per filter, "
                     "pooling halves them, dense layers are vectors")
    combo.setAccessibleName("Layer")
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(16)
    cap.setBuddy(combo)
    row.addWidget(cap)
    row.addWidget(combo, 1)
    return combo


def cnn_session(run, model, x, y, x_val, y_val, epochs: int, batch_size: int = 32,
                seed: int = 0, prepare=None, finish=None, parent=None) -> TrainingSession:
    """The session that trains a CNN lesson's network (start it with `Lesson.start_session`).

    No warm-up step: the first epoch keeps Numba's one-time compilation, as the lessons'
    "s / epoch" columns explain (they leave that epoch out)."""
    task = TrainingTask(run, model, x, y, epochs, batch_size, validation_data=(x_val, y_val),
                        seed=seed, prepare=prepare, finish=finish)
    return TrainingSession([task], warm_up=False, parent=parent)


def epoch_seconds(run) -> list[float]:
    """Seconds each completed epoch of `run` took (validation included)."""
    times = [float(t) for t in run.epochs.get("time")]
    return [b - a for a, b in zip([0.0] + times[:-1], times)]


def validation_accuracies(run) -> list[float]:
    return [float(v) for v in run.epochs.get("val_accuracy") if np.isfinite(v)]


class LiveCurves(QWidget):
    """Loss and accuracy curves of every run of the lesson (the app's TrainingPlot), drawn
    live from the session that trains the current one."""

    def __init__(self, parent=None, lazy: bool = False):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.store = RunStore()
        # `lazy`: the plot (~50 ms to build) waits for the first run, so the lesson opens
        # faster (issue 15 item 14); until then a line says where the curves will be
        self._pane = LazyTab(
            lambda: TrainingPlot(x_axis="epoch", granularity="both", show_controls=False),
            placeholder="The loss and accuracy curves appear here when a network trains."
            if lazy else "")
        lay.addWidget(self._pane)
        if not lazy:
            self._pane.content()
        self.current = None

    def is_built(self) -> bool:
        return self._pane.is_built()

    @property
    def plot(self) -> TrainingPlot:
        return self._pane.content()

    def new_run(self, name: str, settings: dict | None = None):
        """Start a run (a core.teaching.runs.Run) and show it."""
        self.current = self.store.new_run(settings or {}, name)
        self.current.status = "running"
        self.plot.add_run(self.current)
        return self.current

    def run_color(self, run) -> str | None:
        return None if run is None else run_color(run).name()

    def follow(self, session: TrainingSession) -> None:
        session.updated.connect(self.plot.update_runs)
        session.run_ended.connect(lambda run: self.plot.update_runs([run.id]))


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
        self._task = None

    def reset(self) -> None:
        self.progress.setValue(0)

    def follow(self, session: TrainingSession) -> None:
        """Show the progress of the session's (first) task."""
        self._task = task = session.tasks[0]
        self.progress.setRange(0, max(task.total_steps, 1))
        session.updated.connect(lambda _ids: self.show_run(task))

    def show_run(self, task: TrainingTask) -> None:
        run, nb, epochs = task.run, max(task.updates_per_epoch, 1), task.epochs
        if not len(run.batches):
            return
        last = run.batches.row(len(run.batches) - 1)
        self.progress.setValue(int(last["step"]))
        done = len(run.epochs)
        secs = epoch_seconds(run)
        end = run.epochs.row(done - 1) if done else None
        if end is not None and end["step"] >= last["step"]:            # an epoch just ended
            acc = end.get("val_accuracy", float("nan"))
            # accuracy as a percentage, as everywhere on screen (not "val. accuracy 1")
            val = f" · val. accuracy {fmt(100 * acc)} %" if np.isfinite(acc) else ""
            self.label.setText(f"epoch {done}/{epochs} took {fmt(secs[-1])} s{val}")
            return
        b = int(last["step"]) - done * nb
        since = last["time"] - (end["time"] if end is not None else 0.0)
        prev = f" · last epoch {fmt(secs[-1])} s" if secs else ""
        self.label.setText(f"epoch {done + 1}/{epochs} · batch {b}/{nb} · {fmt(since)} s{prev}")
