"""Network playground: build a small network on a 2-D dataset and watch it learn.

Like TensorFlow Playground: the decision boundary is a heat map over the input plane with
the data on top, every hidden neuron is a small heat map of its own output over the same
plane, and hovering one shows it large. Training runs in a worker thread that sends a
snapshot (losses, the decision grid, the weights) a few times per second; the window only
draws. One Step is one epoch: one update in full-batch mode, ⌈N / batch⌉ otherwise.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFrame, QGridLayout, QHBoxLayout, QLabel,
                               QSizePolicy, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from core.data import PLANAR_DATASETS, PLANAR_EXTENT, load_planar, train_validation_split
from core.teaching.decision import DecisionGrid, decision_grid
from core.layers import Dense
from core.model import Sequential
from core.activations import WORDS as ACTIVATION_TEXT
from core.optimizers import SGD
from gui.app import current_worker
from gui.lessons.base import Lesson
from gui.widgets.colors import ColorLegend, diverging_color
from gui.widgets.heatmap import CLASS_SYMBOL_TEXT, NeuronHeatMap, PlaneHeatMap
from gui.widgets.numbers import NumberLabel, fmt, mono_font

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
RESOLUTION = 80
#: half-width of the heat maps: a margin around the data's square so noisy points show
VIEW_EXTENT = 1.3 * PLANAR_EXTENT
#: epochs per second at speed 1× (the speed slider multiplies it)
EPOCHS_PER_SECOND = 10.0
#: how often the worker sends the window a snapshot while playing
SNAPSHOT_SECONDS = 0.2
#: output ranges of the bounded activations; ReLU's range is read off the grid
ACTIVATION_RANGE = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}


@dataclass
class Snapshot:
    """What the window draws, made in the worker from the model at one moment."""

    generation: int
    epoch: int
    updates: int
    train: dict
    test: dict
    grid: DecisionGrid
    kernels: list
    biases: list
    stop_reason: str | None = None


@dataclass
class Split:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def build_model(hidden, activation: str, learning_rate: float, seed: int) -> Sequential:
    """Dense layers of `hidden` units, then one sigmoid unit: P(class 1)."""
    layers = [Dense(int(h), activation=activation) for h in hidden]
    layers.append(Dense(1, activation="sigmoid"))
    model = Sequential(layers, input_shape=(2,), seed=seed)
    model.compile(SGD(learning_rate), "binary_crossentropy", ["accuracy"])
    return model


def take_snapshot(model: Sequential, split: Split, generation: int, epoch: int,
                  stop_reason: str | None = None) -> Snapshot:
    weights = model.get_weights()
    extent = (-VIEW_EXTENT, VIEW_EXTENT)
    return Snapshot(
        generation=generation, epoch=epoch, updates=model.optimizer.iterations,
        train=model.evaluate(split.x_train, split.y_train),
        test=model.evaluate(split.x_test, split.y_test),
        grid=decision_grid(model, extent, resolution=RESOLUTION),
        kernels=weights[0::2], biases=weights[1::2], stop_reason=stop_reason)


def train_one_epoch(model: Sequential, split: Split, batch_size, epoch: int, seed: int):
    """One pass over the training points; returns fit's stop reason (None if all went well)."""
    n = len(split.y_train)
    history = model.fit(split.x_train, split.y_train, epochs=1,
                        batch_size=n if batch_size is None else int(batch_size),
                        seed=seed * 100_003 + epoch)
    return history.stop_reason


def train_live(model: Sequential, split: Split, live: dict, generation: int, epoch: int,
               seed: int) -> int:
    """Worker job: epochs paced to `live["epochs_per_second"]`, reporting a snapshot every
    SNAPSHOT_SECONDS and a last one when stopped, so the window ends on the model's true
    state. `live` is read every epoch: batch size and speed can change while it runs.
    Returns the epoch count reached."""
    import time

    worker = current_worker()
    if worker is None:
        raise RuntimeError("train_live runs inside a gui.app.Worker")
    last = time.monotonic()
    reason = None
    while not worker.is_cancelled():
        started = time.monotonic()
        reason = train_one_epoch(model, split, live["batch_size"], epoch, seed)
        epoch += 1
        if reason is not None:
            break
        now = time.monotonic()
        if now - last >= SNAPSHOT_SECONDS:
            last = now
            worker.report(take_snapshot(model, split, generation, epoch), force=True)
        wait = 1.0 / max(live["epochs_per_second"], 1e-3) - (time.monotonic() - started)
        if wait > 0 and worker.wait_for_cancel(wait):
            break
    worker.report(take_snapshot(model, split, generation, epoch, stop_reason=reason), force=True)
    return epoch


class NetworkCanvas(QWidget):
    """Columns of neuron tiles (inputs, hidden layers, output) joined by weighted edges.

    Edges: colour = the weight on the diverging scale, thickness ∝ |weight|. Each hidden
    column has − / + buttons for its neuron count.
    """

    neuron_hovered = Signal(object)
    neuron_left = Signal(object)
    add_neuron = Signal(int)
    remove_neuron = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(260, 260)
        self.setToolTip("Edges: colour = the weight (blue negative, orange positive), "
                        "thickness ∝ |weight|. Tiles: each neuron's output over the plane.")
        self.hidden: list[int] = []
        self.activation = "tanh"
        self.inputs: list[NeuronHeatMap] = []
        self.layers: list[list[NeuronHeatMap]] = []
        self.output: NeuronHeatMap | None = None
        self._titles: list[QLabel] = []
        self._buttons: list[tuple[QToolButton, QToolButton, QLabel]] = []
        self._ranges: list[QLabel] = []
        self._kernels: list[np.ndarray] = []
        self.weight_max = 0.0

    # --- structure --------------------------------------------------------------------
    def set_architecture(self, hidden: list[int], activation: str, feature_names) -> None:
        for w in self.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly):
            w.hide()
            # out of the tree now (the clicked button may still be on the stack: delete later)
            w.setParent(None)
            w.deleteLater()
        self.hidden = list(hidden)
        self.activation = activation
        self._kernels = []

        def tile(key, name):
            t = NeuronHeatMap(key, name, self)
            t.hovered.connect(lambda tt: self.neuron_hovered.emit(tt.key))
            t.unhovered.connect(lambda tt: self.neuron_left.emit(tt.key))
            t.show()
            return t

        self.inputs = [tile(("input", k), f"Input {feature_names[k]}") for k in range(2)]
        self.layers = [[tile(("hidden", li, u), f"Layer {li + 1}, neuron {u + 1}")
                        for u in range(n)] for li, n in enumerate(self.hidden)]
        self.output = tile(("output",), "Output neuron")
        titles = ["Inputs"] + [f"Layer {i + 1}" for i in range(len(self.hidden))] + ["Output"]
        self._titles = []
        for text in titles:
            lbl = QLabel(text, self)
            lbl.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom)
            lbl.show()
            self._titles.append(lbl)
        self._buttons = []
        self._ranges = []
        for li, n in enumerate(self.hidden):
            minus = QToolButton(self)
            minus.setText("−")
            minus.setToolTip(f"Remove a neuron from layer {li + 1}")
            minus.setAccessibleName(f"Remove neuron from layer {li + 1}")
            minus.setEnabled(n > 1)
            minus.clicked.connect(lambda _=False, i=li: self.remove_neuron.emit(i))
            plus = QToolButton(self)
            plus.setText("+")
            plus.setToolTip(f"Add a neuron to layer {li + 1} (at most {MAX_NEURONS})")
            plus.setAccessibleName(f"Add neuron to layer {li + 1}")
            plus.setEnabled(n < MAX_NEURONS)
            plus.clicked.connect(lambda _=False, i=li: self.add_neuron.emit(i))
            count = QLabel(str(n), self)
            count.setFont(mono_font())
            count.setAlignment(Qt.AlignmentFlag.AlignCenter)
            count.setToolTip(f"{n} neuron{'s' if n != 1 else ''} in layer {li + 1}")
            for w in (minus, plus, count):
                w.show()
            self._buttons.append((minus, plus, count))
            rng = QLabel("", self)
            rng.setFont(mono_font())
            rng.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            rng.show()
            self._ranges.append(rng)
        self._relayout()
        self.update()

    def tiles(self) -> list[NeuronHeatMap]:
        return [*self.inputs, *(t for layer in self.layers for t in layer), self.output]

    def hidden_tiles(self) -> list[NeuronHeatMap]:
        return [t for layer in self.layers for t in layer]

    def tile(self, key) -> NeuronHeatMap | None:
        for t in self.tiles():
            if t is not None and t.key == key:
                return t
        return None

    # --- geometry ---------------------------------------------------------------------
    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._relayout()

    def _relayout(self) -> None:
        if self.output is None:
            return
        fm = QFontMetrics(self.font())
        w, h = self.width(), self.height()
        ncol = len(self.hidden) + 2
        col_w = w / ncol
        title_h = fm.height() + 4
        button_h = max(24, fm.height() + 8)
        top = title_h + button_h + 6
        range_h = fm.height() + 6
        avail = max(40, h - top - range_h - 4)
        counts = [2, *self.hidden, 1]
        most = max(counts)
        size = min(52.0, col_w * 0.6, (avail - (most - 1) * 6) / most)
        size = max(16.0, size)
        gap = max(4.0, min(10.0, size * 0.2))
        columns = [self.inputs, *self.layers, [self.output]]
        for c, tiles in enumerate(columns):
            cx = col_w * (c + 0.5)
            n = len(tiles)
            height = n * size + (n - 1) * gap
            y0 = top + (avail - height) / 2
            for k, t in enumerate(tiles):
                t.setGeometry(int(cx - size / 2), int(y0 + k * (size + gap)), int(size), int(size))
            self._titles[c].setGeometry(int(c * col_w), 0, int(col_w), title_h)
        for li, (minus, plus, count) in enumerate(self._buttons):
            cx = col_w * (li + 1.5)
            bw = min(26, int((col_w - 6) / 3))
            y = title_h + 2
            minus.setGeometry(int(cx - 1.5 * bw), y, bw, button_h)
            count.setGeometry(int(cx - 0.5 * bw), y, bw, button_h)
            plus.setGeometry(int(cx + 0.5 * bw), y, bw, button_h)
            self._ranges[li].setGeometry(int((li + 1) * col_w), int(top + avail + 2),
                                         int(col_w), range_h)
        self.update()

    # --- content ----------------------------------------------------------------------
    def set_weights(self, kernels: list[np.ndarray]) -> None:
        self._kernels = [np.asarray(k) for k in kernels]
        self.weight_max = max((float(np.abs(k).max()) for k in self._kernels if k.size),
                              default=0.0)
        self.update()

    def set_ranges(self, ranges: list[tuple[float, float]]) -> None:
        for lbl, (lo, hi) in zip(self._ranges, ranges):
            # named: a bare "-1…1" under a column does not say what it ranges over
            lbl.setText(f"tiles {fmt(lo)}…{fmt(hi)}")
            lbl.setToolTip(f"The tiles of this layer are coloured from {fmt(lo)} (dark purple) "
                           f"to {fmt(hi)} (yellow)")

    def paintEvent(self, event):
        if not self._kernels or self.output is None:
            return
        columns = [self.inputs, *self.layers, [self.output]]
        if len(self._kernels) != len(columns) - 1:
            return
        vmax = self.weight_max if self.weight_max > 0 else 1.0
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        lines = []
        for c, kernel in enumerate(self._kernels):
            src, dst = columns[c], columns[c + 1]
            if kernel.shape != (len(src), len(dst)):
                continue
            for i, a in enumerate(src):
                for j, b in enumerate(dst):
                    lines.append((abs(float(kernel[i, j])), float(kernel[i, j]),
                                  a.center_right(), b.center_left()))
        # strong edges last, on top of the weak ones
        lines.sort(key=lambda item: item[0])
        for mag, w, a, b in lines:
            pen = QPen(diverging_color(w, vmax), 0.6 + 4.4 * min(1.0, mag / vmax))
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            p.setPen(pen)
            p.drawLine(QPointF(a), QPointF(b))
        p.end()


class PlaygroundLesson(Lesson):
    title = "Network playground"
    subtitle = ("Add layers and neurons, train, and watch each neuron's feature combine "
                "into the decision boundary.")
    help_name = "playground"

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
        self.live = {"batch_size": self.batch_size, "epochs_per_second": EPOCHS_PER_SECOND}
        self.model: Sequential | None = None
        self.split: Split | None = None
        self.data = None
        self.epoch = 0
        self.generation = 0
        self.snapshot: Snapshot | None = None
        self.shown_key = ("output",)
        self._worker = None
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
        self.loss_plot = pg.PlotWidget(left)
        self.loss_plot.setMenuEnabled(False)
        self.loss_plot.setMouseEnabled(x=False, y=False)
        self.loss_plot.hideButtons()
        self.loss_plot.setMinimumHeight(110)
        self.loss_plot.setClipToView(True)
        self.loss_plot.setDownsampling(auto=True, mode="peak")
        self.loss_plot.setLabel("bottom", "epoch")
        # a single point must not blow the axes up to ±500
        self.loss_plot.getPlotItem().getViewBox().setLimits(xMin=-0.5, minXRange=10, minYRange=0.05)
        self.loss_plot.getPlotItem().getAxis("left").setWidth(34)
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
        middle = QWidget(root)
        mv = QVBoxLayout(middle)
        mv.setContentsMargins(0, 0, 0, 0)
        mv.setSpacing(4)
        top = QHBoxLayout()
        self.add_layer_button = QToolButton(middle)
        self.add_layer_button.setText("+ Layer")
        self.add_layer_button.setToolTip(f"Add a hidden layer before the output (at most "
                                         f"{MAX_LAYERS})")
        self.add_layer_button.setAccessibleName("Add hidden layer")
        self.remove_layer_button = QToolButton(middle)
        self.remove_layer_button.setText("− Layer")
        self.remove_layer_button.setToolTip("Remove the last hidden layer")
        self.remove_layer_button.setAccessibleName("Remove hidden layer")
        self.layers_label = QLabel("", middle)
        self.params_label = QLabel("", middle)
        self.params_label.setFont(mono_font())
        top.addWidget(self.add_layer_button)
        top.addWidget(self.remove_layer_button)
        top.addWidget(self.layers_label)
        top.addStretch(1)
        top.addWidget(self.params_label)
        mv.addLayout(top)
        self.network = NetworkCanvas(middle)
        mv.addWidget(self.network, 1)
        self.weight_legend = ColorLegend("diverging", vmax=1.0,
                                         label="weight (edge colour)")
        mv.addWidget(self.weight_legend, 0, Qt.AlignmentFlag.AlignHCenter)
        row.addWidget(middle, 1)

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
        self.add_layer_button.clicked.connect(self.add_layer)
        self.remove_layer_button.clicked.connect(self.remove_layer)
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
            self.lr_combo.addItem(f"{lr:g}", lr)
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
        self.model = build_model(self.hidden, self.activation, self.learning_rate,
                                 self.init_seed)
        self.epoch = 0
        self._curve = ([], [], [])
        self.shown_key = ("output",)
        self.network.set_architecture(self.hidden, self.activation, self.data.feature_names)
        n = len(self.hidden)
        self.layers_label.setText(f"{n} hidden layer{'s' if n != 1 else ''}")
        self.add_layer_button.setEnabled(n < MAX_LAYERS)
        self.remove_layer_button.setEnabled(n > 0)
        self.params_label.setText(f"{self.model.count_params()} parameters")
        self.params_label.setToolTip(" + ".join(
            f"{lay.input_shape[0]}·{lay.units} + {lay.units}" for lay in self.model.layers)
            + f" = {self.model.count_params()} weights and biases")
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
        self.live["batch_size"] = self.batch_size
        n = len(self.split.y_train)
        per_epoch = 1 if self.batch_size is None else math.ceil(n / self.batch_size)
        self.show_status(f"{per_epoch} weight update{'s' if per_epoch != 1 else ''} per epoch "
                         f"({n} training points).", 5000)

    def _on_speed(self, speed: float) -> None:
        self.live["epochs_per_second"] = EPOCHS_PER_SECOND * float(speed)

    # --- training ------------------------------------------------------------------------
    def _on_play(self, playing: bool) -> None:
        if playing:
            self._start_training()
        else:
            self._stop_training()

    def _start_training(self) -> None:
        if self._worker is not None and self._worker.is_running():
            return
        self.live["epochs_per_second"] = EPOCHS_PER_SECOND * self.playback.speed()
        self._worker = self.start_worker(
            train_live, self.model, self.split, self.live, self.generation, self.epoch,
            self.init_seed, progress_interval=0.05, on_progress=self._on_snapshot,
            on_failed=self._on_failed, on_done=self._on_worker_done)

    def _stop_training(self) -> bool:
        """Stop the worker (waiting for it); True if it was running."""
        worker, self._worker = self._worker, None
        if worker is None:
            return False
        running = worker.is_running()
        worker.stop_and_wait(5000)
        return running

    def _on_snapshot(self, snap: Snapshot) -> None:
        if isinstance(snap, Snapshot) and snap.generation == self.generation:
            self.epoch = snap.epoch
            self._show(snap)
            if snap.stop_reason:
                self.show_status(snap.stop_reason, 0)
                self.playback.set_playing(False)

    def _on_failed(self, exc) -> None:
        self._report_failure(exc)
        self.playback.set_playing(False)

    def _on_worker_done(self) -> None:
        if self._worker is not None and not self._worker.is_running():
            self._worker = None
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

        grid = snap.grid
        ranges = []
        for li, layer in enumerate(grid.hidden):
            lo, hi = self._layer_range(layer)
            ranges.append((lo, hi))
            tiles = self.network.layers[li] if li < len(self.network.layers) else []
            for u, tile in enumerate(tiles):
                values = layer[..., u]
                tile.set_field(values, lo, hi)
                tile.setToolTip(
                    f"Layer {li + 1}, neuron {u + 1}: a = {ACTIVATION_TEXT[self.activation]}"
                    f"(Σ w·input + b), bias b = {fmt(snap.biases[li][u])}\n"
                    f"its output over the plane: {fmt(values.min())} … {fmt(values.max())}\n"
                    "hover to see it large on the right")
        self.network.set_ranges(ranges)
        gx, gy = np.meshgrid(grid.xs, grid.ys)
        for k, tile in enumerate(self.network.inputs):
            tile.set_field(gx if k == 0 else gy, -VIEW_EXTENT, VIEW_EXTENT)
            tile.setToolTip(f"Input {self.data.feature_names[k]}: its value over the plane, "
                            f"{fmt(-VIEW_EXTENT)} … {fmt(VIEW_EXTENT)}")
        prob = grid.probability()
        self.network.output.set_field(prob, 0.0, 1.0)
        self.network.output.setToolTip(
            f"Output: ŷ = sigmoid(Σ w·input + b) = P(class 1), bias b = "
            f"{fmt(snap.biases[-1][0])}\nhover to see it large on the right")
        self.network.set_weights(snap.kernels)
        self.weight_legend.set_range(vmax=self.network.weight_max or 1.0)
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
        self._stop_training()

    def shutdown(self) -> None:
        self._stop_training()
        super().shutdown()
