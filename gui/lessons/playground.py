"""Network playground: build a small network on a 2-D dataset and watch it learn.

Like TensorFlow Playground: the decision boundary is a heat map over the input plane with
the data on top, every hidden neuron is a small heat map of its own output over the same
plane, and hovering one shows it large. Play trains in a TrainingSession until paused, paced
by the speed slider, and sends a snapshot (losses, the decision grid, the weights) a few
times per second; the window only draws. One Step is one epoch: one update in full-batch
mode, ⌈N / batch⌉ otherwise. The model, one epoch and the snapshot are core.teaching.tasks';
the network editor is gui.widgets.network_editor's.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFrame, QGridLayout, QHBoxLayout, QLabel,
                               QSpinBox, QVBoxLayout, QWidget)

from core.activations import WORDS as ACTIVATION_TEXT
from core.data import PLANAR_DATASETS, load_planar, train_validation_split
from core.model import Sequential
from core.teaching.runs import Run
from core.teaching.tasks import (VIEW_EXTENT, Snapshot, Split, build_planar_model,
                                 planar_epoch_seed, take_snapshot, train_one_epoch)
from gui.lessons.base import Lesson
from gui.training_worker import TrainingSession, TrainingTask
from gui.widgets.colors import ColorLegend
from gui.widgets.heatmap import CLASS_SYMBOL_TEXT, PlaneHeatMap
from gui.widgets.network_editor import NetworkEditor
from gui.widgets.numbers import NumberLabel, fmt, mono_font
from gui.widgets.plots import leave_room_above

ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu")
LEARNING_RATES = (0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
#: None is full batch: every training point in one batch, one update per epoch
BATCH_SIZES = (1, 5, 10, 30, None)
DATASET_TEXT = {"circles": "Circles", "xor": "XOR", "spiral": "Spiral",
                "insurance": "Insurance"}
MAX_LAYERS = 6
MAX_NEURONS = 8
N_POINTS = 300
TEST_FRACTION = 0.3
#: epochs per second at speed 1× (the speed slider multiplies it)
EPOCHS_PER_SECOND = 10.0
#: how often the worker sends the window a snapshot while playing
SNAPSHOT_SECONDS = 0.2
#: output ranges of the bounded activations; ReLU's range is read off the grid
ACTIVATION_RANGE = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}


def play_session(model: Sequential, split: Split, generation: int, first_epoch: int, seed: int,
                 batch_size, seconds_per_epoch, parent=None) -> TrainingSession:
    """Training until stopped, one epoch per time slot (`seconds_per_epoch()` is read every
    epoch: the speed slider changes it), each epoch shuffled as Step shuffles it and never cut
    short (a stop waits for the epoch's end: updates = epochs × updates per epoch); a snapshot
    every SNAPSHOT_SECONDS and a last one when stopped, so the window ends on the model's true
    state. Set `tasks[0].batch_size` to change the batch size while it runs."""
    n = len(split.y_train)

    def snapshot(task):
        return take_snapshot(model, split, generation, task.first_epoch + task.epochs_done)

    task = TrainingTask(Run("playground"), model, split.x_train, split.y_train, epochs=None,
                        batch_size=n if batch_size is None else int(batch_size),
                        validation_data=None, seed=seed,
                        epoch_seed=lambda epoch: planar_epoch_seed(seed, epoch),
                        pace=seconds_per_epoch, first_epoch=first_epoch,
                        record_batches=False, whole_epochs=True, snapshot=snapshot,
                        snapshot_every=SNAPSHOT_SECONDS)
    return TrainingSession([task], warm_up=False, parent=parent)


class PlaygroundLesson(Lesson):
    title = "Network playground"
    subtitle = ("Add layers and neurons, train, and watch each neuron's feature combine "
                "into the decision boundary.")
    help_name = "playground"
    course_tutorials = ()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.hidden = [4, 2]
        self.activation = "tanh"
        self.learning_rate = 0.03
        self.batch_size: int | None = 10
        self.dataset_name = "circles"
        self.noise = 0.1
        self.data_seed = 0
        self.init_seed = 0
        self.epochs_per_second = EPOCHS_PER_SECOND
        self.model: Sequential | None = None
        self.split: Split | None = None
        self.data = None
        self.epoch = 0
        self.generation = 0
        self.snapshot: Snapshot | None = None
        self.shown_key = ("output",)
        self.session: TrainingSession | None = None
        self._curve = ([], [], [])   # epochs, training loss, test loss

        self._build_visual()
        self._build_controls()
        self._load_data()
        self._rebuild()

    # --- construction -------------------------------------------------------------------
    def _build_visual(self) -> None:
        root = QWidget(self)
        row = QHBoxLayout(root)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(10)

        # left: data and numbers
        left = QWidget(root)
        left.setFixedWidth(205)
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.setSpacing(4)
        form = QGridLayout()
        form.setHorizontalSpacing(6)
        form.setVerticalSpacing(4)
        self.dataset_combo = QComboBox(left)
        for name in PLANAR_DATASETS:
            self.dataset_combo.addItem(DATASET_TEXT.get(name, name), name)
        self.dataset_combo.setCurrentIndex(PLANAR_DATASETS.index(self.dataset_name))
        self._labelled(form, 0, "Data", self.dataset_combo,
                       "Which 2-D dataset to classify", "Dataset")
        self.noise_spin = QSpinBox(left)
        self.noise_spin.setRange(0, 50)
        self.noise_spin.setSingleStep(5)
        self.noise_spin.setSuffix(" %")
        self.noise_spin.setValue(int(round(self.noise * 100)))
        self._labelled(form, 1, "Noise", self.noise_spin,
                       "How far each point is jittered (standard deviation as a share of the "
                       "plane's half-width): noisy classes overlap", "Noise")
        self.seed_spin = QSpinBox(left)
        self.seed_spin.setRange(0, 9999)
        self._labelled(form, 2, "Seed", self.seed_spin,
                       "Random seed of the data: the same seed draws the same points",
                       "Data seed")
        lv.addLayout(form)
        self.test_check = QCheckBox("Show test points", left)
        self.test_check.setChecked(True)
        self.test_check.setToolTip(f"{int(TEST_FRACTION * 100)} % of the points are held out: "
                                   "never trained on, only used for the test loss")
        self.test_check.setAccessibleName("Show test points")
        lv.addWidget(self.test_check)

        sep = QFrame(left)
        sep.setFrameShape(QFrame.Shape.HLine)
        sep.setFrameShadow(QFrame.Shadow.Sunken)
        lv.addWidget(sep)
        grid = QGridLayout()
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(2)
        self.epoch_label = QLabel("0", left)
        self.updates_label = QLabel("0", left)
        self.train_loss = NumberLabel()
        self.test_loss = NumberLabel()
        self.train_acc = NumberLabel()
        self.test_acc = NumberLabel()
        for r, (text, widget) in enumerate((("Epoch", self.epoch_label),
                                            ("Updates", self.updates_label),
                                            ("Training loss", self.train_loss),
                                            ("Test loss", self.test_loss),
                                            ("Training acc.", self.train_acc),
                                            ("Test acc.", self.test_acc))):
            cap = QLabel(text, left)
            grid.addWidget(cap, r, 0)
            widget.setFont(mono_font())
            widget.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(widget, r, 1)
        lv.addLayout(grid)
        self.loss_plot = pg.PlotWidget(left, enableMenu=False)  # no menu made to be thrown away
        self.loss_plot.setMouseEnabled(x=False, y=False)
        self.loss_plot.hideButtons()
        self.loss_plot.setMinimumHeight(110)
        self.loss_plot.setClipToView(True)
        self.loss_plot.setDownsampling(auto=True, mode="peak")
        self.loss_plot.setLabel("bottom", "epoch")
        # a single point must not blow the axes up to ±500
        self.loss_plot.getPlotItem().getViewBox().setLimits(xMin=-0.5, minXRange=10, minYRange=0.05)
        self.loss_plot.getPlotItem().getAxis("left").setWidth(34)
        leave_room_above(self.loss_plot)
        self.loss_plot.setAccessibleName("Loss curve")
        self.loss_plot.setToolTip("Binary cross-entropy after each shown epoch: solid = "
                                  "training points, dashed = test points")
        self.train_curve = self.loss_plot.plot([], [], pen=pg.mkPen("#1d232b", width=2))
        self.test_curve = self.loss_plot.plot(
            [], [], pen=pg.mkPen("#6b7480", width=2, style=Qt.PenStyle.DashLine))
        lv.addWidget(self.loss_plot, 1)
        key = QLabel("loss: — training   ‒ ‒ test", left)
        key.setObjectName("mutedText")
        lv.addWidget(key)
        row.addWidget(left)

        # middle: the network
        self.editor = NetworkEditor(MAX_LAYERS, MAX_NEURONS, root)
        self.network = self.editor.canvas
        self.add_layer_button = self.editor.add_layer_button
        self.remove_layer_button = self.editor.remove_layer_button
        self.layers_label, self.params_label = self.editor.layers_label, self.editor.params_label
        self.weight_legend = self.editor.weight_legend
        row.addWidget(self.editor, 1)

        # right: the large heat map
        right = QWidget(root)
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.setSpacing(4)
        self.view_title = QLabel("", right)
        self.view_title.setWordWrap(True)
        font = self.view_title.font()
        font.setWeight(QFont.Weight.DemiBold)
        self.view_title.setFont(font)
        rv.addWidget(self.view_title)
        self.plane = PlaneHeatMap(right)
        self.plane.setMinimumSize(260, 260)
        rv.addWidget(self.plane, 1)
        self.value_legend = ColorLegend("sequential", 0.0, 1.0, label="P(class 1)")
        rv.addWidget(self.value_legend)
        self.class_key = QLabel("", right)
        self.class_key.setWordWrap(True)
        self.class_key.setObjectName("mutedText")
        rv.addWidget(self.class_key)
        right.setMinimumWidth(300)
        row.addWidget(right, 1)
        self.set_visual(root)

        self.dataset_combo.currentIndexChanged.connect(self._on_data_changed)
        self.noise_spin.valueChanged.connect(self._on_data_changed)
        self.seed_spin.valueChanged.connect(self._on_data_changed)
        self.test_check.toggled.connect(lambda _: self._draw_points())
        self.editor.add_layer.connect(self.add_layer)
        self.editor.remove_layer.connect(self.remove_layer)
        self.network.add_neuron.connect(self.add_neuron)
        self.network.remove_neuron.connect(self.remove_neuron)
        self.network.neuron_hovered.connect(self._on_neuron_hovered)
        self.network.neuron_left.connect(self._on_neuron_left)

    @staticmethod
    def _labelled(form: QGridLayout, row: int, text: str, widget, tooltip: str, name: str):
        cap = QLabel(text)
        cap.setBuddy(widget)
        widget.setToolTip(tooltip)
        widget.setAccessibleName(name)
        form.addWidget(cap, row, 0)
        form.addWidget(widget, row, 1)

    def _build_controls(self) -> None:
        self.add_playback(step_back=False)
        self.playback.play_button.setToolTip("Train continuously, or pause (Space)")
        self.playback.forward_button.setToolTip("Train one epoch: one pass over the "
                                                "training points (→)")
        self.playback.reset_button.setToolTip("New random weights, epoch 0 (R)")
        self.playback.play_toggled.connect(self._on_play)
        self.playback.step_forward.connect(self.step)
        self.playback.reset.connect(self.reset)
        self.playback.speed_changed.connect(self._on_speed)

        self.lr_combo = QComboBox()
        for lr in LEARNING_RATES:
            self.lr_combo.addItem(fmt(lr), lr)
        self.lr_combo.setCurrentIndex(LEARNING_RATES.index(self.learning_rate))
        self.add_control(self.lr_combo, "Learning rate",
                         "η in w ← w − η·∂L/∂w; takes effect at once, even while training",
                         "Learning rate")
        self.act_combo = QComboBox()
        for a in ACTIVATIONS:
            self.act_combo.addItem(ACTIVATION_TEXT[a], a)
        self.add_control(self.act_combo, "Activation",
                         "Activation of every hidden neuron (the output is always a sigmoid); "
                         "changing it starts from new weights", "Activation")
        self.batch_combo = QComboBox()
        for b in BATCH_SIZES:
            self.batch_combo.addItem("full batch" if b is None else str(b), b)
        self.batch_combo.setCurrentIndex(BATCH_SIZES.index(self.batch_size))
        self.add_control(self.batch_combo, "Batch size",
                         "Points per weight update. Full batch: all training points, one "
                         "update per epoch (batch gradient descent); 1: stochastic", "Batch size")
        self.lr_combo.currentIndexChanged.connect(self._on_lr)
        self.act_combo.currentIndexChanged.connect(self._on_activation)
        self.batch_combo.currentIndexChanged.connect(self._on_batch)

    # --- data and model -----------------------------------------------------------------
    def _load_data(self) -> None:
        self.data = load_planar(self.dataset_name, n=N_POINTS, noise=self.noise,
                                seed=self.data_seed)
        (xt, yt), (xv, yv) = train_validation_split(self.data.x, self.data.y, TEST_FRACTION,
                                                    seed=self.data_seed)
        self.split = Split(xt, yt, xv, yv)
        self.plane.set_axis_names(*self.data.feature_names)
        names = self.data.class_names
        self.class_key.setText(
            f"{CLASS_SYMBOL_TEXT[0]} class 0: {names[0]}    {CLASS_SYMBOL_TEXT[1]} class 1: "
            f"{names[1]}\nwhite outline: training point, black: test point")
        self._draw_points()

    def _draw_points(self) -> None:
        s = self.split
        self.plane.set_points(s.x_train, s.y_train, s.x_test, s.y_test,
                              show_test=self.test_check.isChecked(),
                              class_names=self.data.class_names)

    def _rebuild(self) -> None:
        """A fresh model for the current architecture: new weights, epoch 0."""
        was_playing = self._stop_training()
        self.generation += 1
        self.model = build_planar_model(self.hidden, self.activation, self.learning_rate,
                                 self.init_seed)
        self.epoch = 0
        self._curve = ([], [], [])
        self.shown_key = ("output",)
        self.editor.set_architecture(self.hidden, self.activation, self.data.feature_names,
                                     self.model)
        self._show(take_snapshot(self.model, self.split, self.generation, self.epoch))
        if was_playing:
            self._start_training()

    # --- architecture edits -------------------------------------------------------------
    def add_layer(self) -> None:
        if len(self.hidden) >= MAX_LAYERS:
            self.show_status(f"At most {MAX_LAYERS} hidden layers here.", 4000)
            return
        self.hidden.append(4)
        self._rebuild()

    def remove_layer(self) -> None:
        if not self.hidden:
            return
        self.hidden.pop()
        if not self.hidden:
            self.show_status("No hidden layer: the network is a single sigmoid neuron, "
                             "logistic regression. Its boundary can only be a straight line.",
                             8000)
        self._rebuild()

    def add_neuron(self, layer: int) -> None:
        if 0 <= layer < len(self.hidden) and self.hidden[layer] < MAX_NEURONS:
            self.hidden[layer] += 1
            self._rebuild()

    def remove_neuron(self, layer: int) -> None:
        if 0 <= layer < len(self.hidden) and self.hidden[layer] > 1:
            self.hidden[layer] -= 1
            self._rebuild()

    # --- controls -------------------------------------------------------------------------
    def _on_data_changed(self, *_):
        self.dataset_name = self.dataset_combo.currentData()
        self.noise = self.noise_spin.value() / 100.0
        self.data_seed = self.seed_spin.value()
        was_playing = self._stop_training()
        self._load_data()
        self.show_status(self.data.description, 8000)
        if was_playing:
            self._rebuild_and_play()
        else:
            self._rebuild()

    def _rebuild_and_play(self) -> None:
        self._rebuild()
        self._start_training()

    def _on_lr(self, index: int) -> None:
        self.learning_rate = float(self.lr_combo.itemData(index))
        if self.model is not None:
            # read by the optimizer at every update: a running worker picks it up at once
            self.model.optimizer.learning_rate = self.learning_rate

    def _on_activation(self, index: int) -> None:
        self.activation = self.act_combo.itemData(index)
        self._rebuild()

    def _on_batch(self, index: int) -> None:
        self.batch_size = self.batch_combo.itemData(index)
        n = len(self.split.y_train)
        if self.is_training():       # read at the next epoch
            self.session.tasks[0].batch_size = n if self.batch_size is None else self.batch_size
        per_epoch = 1 if self.batch_size is None else math.ceil(n / self.batch_size)
        self.show_status(f"{per_epoch} weight update{'s' if per_epoch != 1 else ''} per epoch "
                         f"({n} training points).", 5000)

    def _on_speed(self, speed: float) -> None:
        self.epochs_per_second = EPOCHS_PER_SECOND * float(speed)

    # --- training ------------------------------------------------------------------------
    def _on_play(self, playing: bool) -> None:
        if playing:
            self._start_training()
        else:
            self._stop_training()

    def _start_training(self) -> None:
        if self.is_training():
            return
        self.epochs_per_second = EPOCHS_PER_SECOND * self.playback.speed()
        self.session = play_session(self.model, self.split, self.generation, self.epoch,
                                    self.init_seed, self.batch_size,
                                    lambda: 1.0 / max(self.epochs_per_second, 1e-3), parent=self)
        self.session.snapshot.connect(lambda _run, snap: self._on_snapshot(snap))
        self.session.run_ended.connect(self._on_run_ended)
        self.session.finished.connect(lambda s=self.session: self._on_session_done(s))
        self.start_session(self.session)

    def _stop_training(self) -> bool:
        """Stop the session (waiting for it); True if it was running."""
        session, self.session = self.session, None
        if session is None:
            return False
        running = session.is_running()
        session.stop_and_wait(5000)
        return running

    def _on_snapshot(self, snap: Snapshot) -> None:
        if snap.generation == self.generation:
            self.epoch = snap.epoch
            self._show(snap)

    def _on_run_ended(self, run) -> None:
        if run.status in ("diverged", "failed"):
            self.show_status(run.stop_reason, 0)
            self.playback.set_playing(False)

    def _on_session_done(self, session) -> None:
        if session is self.session:           # it ended by itself (diverged or failed)
            self.session = None
            if self.playback.is_playing():
                self.playback.set_playing(False)

    def step(self) -> None:
        """One epoch, on the window's thread (a few milliseconds)."""
        self._stop_training()
        reason = train_one_epoch(self.model, self.split, self.batch_size, self.epoch,
                                 self.init_seed)
        self.epoch += 1
        self._show(take_snapshot(self.model, self.split, self.generation, self.epoch, reason))
        if reason:
            self.show_status(reason, 0)

    def reset(self) -> None:
        self.init_seed += 1
        self._rebuild()
        self.show_status("New random weights; epoch 0.", 3000)

    # --- drawing -------------------------------------------------------------------------
    def _show(self, snap: Snapshot) -> None:
        self.snapshot = snap
        self.epoch_label.setText(f"{snap.epoch:,}")
        self.epoch_label.setToolTip(f"{snap.epoch} passes over the {len(self.split.y_train)} "
                                    "training points")
        self.updates_label.setText(f"{snap.updates:,}")
        n_train, n_test = len(self.split.y_train), len(self.split.y_test)
        per_epoch = "1 in full batch" if self.batch_size is None else \
            f"⌈{n_train} / {self.batch_size}⌉"
        self.updates_label.setToolTip(
            f"Weight updates so far: epochs × updates per epoch ({per_epoch})")
        bce = "L = −(1/N) Σ [y·log ŷ + (1 − y)·log(1 − ŷ)]"
        for label, res, n, what in ((self.train_loss, snap.train, n_train, "training"),
                                    (self.test_loss, snap.test, n_test, "test")):
            label.set_value(res["loss"], f"{what} loss: binary cross-entropy over the {n} "
                                         f"{what} points\n{bce}")
        for label, res, n, what in ((self.train_acc, snap.train, n_train, "training"),
                                    (self.test_acc, snap.test, n_test, "test")):
            right = int(round(res["accuracy"] * n))
            label.set_value(res["accuracy"], f"{what} accuracy = points on their class's side "
                                             f"of the 0.5 boundary / all = {right} / {n}")
        epochs, train, test = self._curve
        if not epochs or snap.epoch != epochs[-1]:
            epochs.append(snap.epoch)
            train.append(snap.train["loss"])
            test.append(snap.test["loss"])
        else:
            train[-1], test[-1] = snap.train["loss"], snap.test["loss"]
        # a lone epoch-0 point is no line: mark it, or the fresh plot looks empty
        lone = "o" if len(epochs) == 1 else None
        self.train_curve.setData(np.asarray(epochs, float), np.asarray(train, float),
                                 symbol=lone, symbolSize=6, symbolBrush="#1d232b")
        self.test_curve.setData(np.asarray(epochs, float), np.asarray(test, float),
                                symbol=lone, symbolSize=6, symbolBrush="#6b7480")

        ranges = [self._layer_range(layer) for layer in snap.grid.hidden]
        self.network.show_fields(snap.grid, snap.biases, ranges,
                                 ACTIVATION_TEXT[self.activation], self.data.feature_names,
                                 VIEW_EXTENT)
        self.editor.set_weights(snap.kernels)
        self._show_large()

    def _layer_range(self, values: np.ndarray) -> tuple[float, float]:
        if self.activation in ACTIVATION_RANGE:
            return ACTIVATION_RANGE[self.activation]
        lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
        lo = min(lo, 0.0)
        if not hi > lo:
            hi = lo + 1.0
        return lo, hi

    def _show_large(self) -> None:
        snap = self.snapshot
        if snap is None:
            return
        grid = snap.grid
        key = self.shown_key
        for tile in self.network.tiles():
            tile.set_active(tile.key == key)
        names = self.data.class_names
        shown = (key[0] == "hidden" and key[1] < len(grid.hidden)
                 and key[2] < grid.hidden[key[1]].shape[-1])
        if shown:
            values = grid.neuron(key[1], key[2])
            lo, hi = self._layer_range(grid.hidden[key[1]])
            name = f"layer {key[1] + 1}, neuron {key[2] + 1}"
            self.view_title.setText(f"Hidden {name}: its {ACTIVATION_TEXT[self.activation]} "
                                    "output over the plane")
            self.plane.set_field(values, grid.xs, grid.ys, lo, hi, value_name=f"output of {name}")
            self.value_legend.set_label(f"output of {name}")
            self.value_legend.set_range(lo, hi)
        elif key[0] == "input":
            gx, gy = np.meshgrid(grid.xs, grid.ys)
            feature = self.data.feature_names[key[1]]
            self.view_title.setText(f"Input {feature}: the raw coordinate")
            self.plane.set_field(gx if key[1] == 0 else gy, grid.xs, grid.ys, -VIEW_EXTENT,
                                 VIEW_EXTENT, value_name=feature)
            self.value_legend.set_label(feature)
            self.value_legend.set_range(-VIEW_EXTENT, VIEW_EXTENT)
        else:
            self.view_title.setText(f"Output: probability of class 1 ({names[1]}); "
                                    "the line is the 0.5 decision boundary")
            self.plane.set_field(grid.probability(), grid.xs, grid.ys, 0.0, 1.0,
                                 value_name="P(class 1)", boundary=0.5)
            self.value_legend.set_label(f"P(class 1 = {names[1]})")
            self.value_legend.set_range(0.0, 1.0)

    def _on_neuron_hovered(self, key) -> None:
        self.shown_key = key
        self._show_large()

    def _on_neuron_left(self, key) -> None:
        if self.shown_key == key:
            self.shown_key = ("output",)
            self._show_large()

    # --- lifecycle -----------------------------------------------------------------------
    def deactivate(self) -> None:
        if self.playback is not None:
            self.playback.set_playing(False)
        super().deactivate()
