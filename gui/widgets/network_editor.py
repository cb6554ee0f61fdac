"""Network editors: the playground's (columns of neuron tiles joined by weighted edges, with
buttons to add and remove neurons and layers) and the dashboard's list of hidden layers.

They draw what they are given (an architecture, kernels, a decision grid) and ask for changes
by signals or a callback; the lesson owns the model.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy,
                               QSpinBox, QToolButton, QVBoxLayout, QWidget)

from gui.widgets.colors import ColorLegend, diverging_color
from gui.widgets.heatmap import NeuronHeatMap
from gui.widgets.numbers import fmt, mono_font

__all__ = ["NetworkCanvas", "NetworkEditor", "LayerListEditor"]


class NetworkCanvas(QWidget):
    """Columns of neuron tiles (inputs, hidden layers, output) joined by weighted edges.

    Edges: colour = the weight on the diverging scale, thickness ∝ |weight|. Each hidden
    column has − / + buttons for its neuron count.
    """

    neuron_hovered = Signal(object)
    neuron_left = Signal(object)
    add_neuron = Signal(int)
    remove_neuron = Signal(int)

    def __init__(self, max_neurons: int = 8, parent=None):
        super().__init__(parent)
        self.max_neurons = int(max_neurons)
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
            plus.setToolTip(f"Add a neuron to layer {li + 1} (at most {self.max_neurons})")
            plus.setAccessibleName(f"Add neuron to layer {li + 1}")
            plus.setEnabled(n < self.max_neurons)
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

    def show_fields(self, grid, biases, ranges, activation_text: str, feature_names,
                    extent: float) -> None:
        """Each tile shows its neuron's output over the plane (`grid`, a DecisionGrid); the
        hidden layers coloured over `ranges` [(lo, hi) per layer], the inputs over ±extent."""
        for li, layer in enumerate(grid.hidden):
            lo, hi = ranges[li]
            tiles = self.layers[li] if li < len(self.layers) else []
            for u, tile in enumerate(tiles):
                values = layer[..., u]
                tile.set_field(values, lo, hi)
                tile.setToolTip(
                    f"Layer {li + 1}, neuron {u + 1}: a = {activation_text}"
                    f"(Σ w·input + b), bias b = {fmt(biases[li][u])}\n"
                    f"its output over the plane: {fmt(values.min())} … {fmt(values.max())}\n"
                    "hover to see it large on the right")
        self.set_ranges(ranges)
        gx, gy = np.meshgrid(grid.xs, grid.ys)
        for k, tile in enumerate(self.inputs):
            tile.set_field(gx if k == 0 else gy, -extent, extent)
            tile.setToolTip(f"Input {feature_names[k]}: its value over the plane, "
                            f"{fmt(-extent)} … {fmt(extent)}")
        self.output.set_field(grid.probability(), 0.0, 1.0)
        self.output.setToolTip(
            f"Output: ŷ = sigmoid(Σ w·input + b) = P(class 1), bias b = "
            f"{fmt(biases[-1][0])}\nhover to see it large on the right")

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


class NetworkEditor(QWidget):
    """The network to edit: + / − Layer, the layer count and parameter count above the
    NetworkCanvas (whose columns have their own + / − neuron buttons), the weight legend below.

    add_layer / remove_layer are the buttons' requests; the owner changes the network and
    calls `set_architecture`."""

    add_layer = Signal()
    remove_layer = Signal()

    def __init__(self, max_layers: int = 6, max_neurons: int = 8, parent=None):
        super().__init__(parent)
        self.max_layers = int(max_layers)
        mv = QVBoxLayout(self)
        mv.setContentsMargins(0, 0, 0, 0)
        mv.setSpacing(4)
        top = QHBoxLayout()
        self.add_layer_button = QToolButton(self)
        self.add_layer_button.setText("+ Layer")
        self.add_layer_button.setToolTip(f"Add a hidden layer before the output (at most "
                                         f"{self.max_layers})")
        self.add_layer_button.setAccessibleName("Add hidden layer")
        self.remove_layer_button = QToolButton(self)
        self.remove_layer_button.setText("− Layer")
        self.remove_layer_button.setToolTip("Remove the last hidden layer")
        self.remove_layer_button.setAccessibleName("Remove hidden layer")
        self.layers_label = QLabel("", self)
        self.params_label = QLabel("", self)
        self.params_label.setFont(mono_font())
        top.addWidget(self.add_layer_button)
        top.addWidget(self.remove_layer_button)
        top.addWidget(self.layers_label)
        top.addStretch(1)
        top.addWidget(self.params_label)
        mv.addLayout(top)
        self.canvas = NetworkCanvas(max_neurons, self)
        mv.addWidget(self.canvas, 1)
        self.weight_legend = ColorLegend("diverging", vmax=1.0, label="weight (edge colour)")
        mv.addWidget(self.weight_legend, 0, Qt.AlignmentFlag.AlignHCenter)
        self.add_layer_button.clicked.connect(self.add_layer)
        self.remove_layer_button.clicked.connect(self.remove_layer)

    def set_architecture(self, hidden, activation: str, feature_names, model) -> None:
        """Draw `hidden` (units per hidden layer) and say what `model` (its Sequential) has."""
        self.canvas.set_architecture(hidden, activation, feature_names)
        n = len(hidden)
        self.layers_label.setText(f"{n} hidden layer{'s' if n != 1 else ''}")
        self.add_layer_button.setEnabled(n < self.max_layers)
        self.remove_layer_button.setEnabled(n > 0)
        self.params_label.setText(f"{model.count_params()} parameters")
        self.params_label.setToolTip(" + ".join(
            f"{lay.input_shape[0]}·{lay.units} + {lay.units}" for lay in model.layers)
            + f" = {model.count_params()} weights and biases")

    def set_weights(self, kernels) -> None:
        self.canvas.set_weights(kernels)
        self.weight_legend.set_range(vmax=self.canvas.weight_max or 1.0)


class LayerListEditor(QWidget):
    """Hidden Dense layers as rows of [units][activation][remove], plus "Add layer" (the
    training dashboard's network); `on_change()` is called after every edit."""

    def __init__(self, on_change, activations=("relu", "sigmoid", "tanh"), max_layers: int = 5,
                 parent=None):
        super().__init__(parent)
        self._on_change = on_change
        self.activations = tuple(activations)
        self.max_layers = int(max_layers)
        self.rows: list[tuple[QSpinBox, QComboBox, QToolButton, QWidget]] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(3)
        self.rows_box = QVBoxLayout()
        self.rows_box.setSpacing(3)
        lay.addLayout(self.rows_box)
        bottom = QHBoxLayout()
        self.add_button = QPushButton("+ Add layer")
        self.add_button.setToolTip("Add a hidden Dense layer before the output")
        self.add_button.setAccessibleName("Add hidden layer")
        self.add_button.clicked.connect(lambda: self.add_layer(32, "relu"))
        bottom.addWidget(self.add_button)
        bottom.addStretch(1)
        lay.addLayout(bottom)
        self.output_label = QLabel()
        self.output_label.setObjectName("mutedText")
        self.output_label.setWordWrap(True)
        lay.addWidget(self.output_label)

    def add_layer(self, units: int = 32, activation: str = "relu") -> None:
        if len(self.rows) >= self.max_layers:
            return
        row = QWidget()
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        h.setSpacing(4)
        k = len(self.rows) + 1
        label = QLabel(f"Dense {k}:")
        h.addWidget(label)
        units_box = QSpinBox()
        units_box.setRange(1, 1024)
        units_box.setValue(int(units))
        units_box.setSuffix(" units")
        units_box.setToolTip("Neurons in this hidden layer")
        units_box.setAccessibleName(f"Units of hidden layer {k}")
        h.addWidget(units_box, 1)
        act = QComboBox()
        act.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        act.setMinimumContentsLength(6)
        act.addItems(self.activations)
        act.setCurrentText(activation)
        act.setToolTip("The activation function of this layer's neurons")
        act.setAccessibleName(f"Activation of hidden layer {k}")
        h.addWidget(act)
        remove = QToolButton()
        remove.setText("✕")
        remove.setToolTip(f"Remove hidden layer {k}")
        remove.setAccessibleName(f"Remove hidden layer {k}")
        h.addWidget(remove)
        entry = (units_box, act, remove, row)
        self.rows.append(entry)
        self.rows_box.addWidget(row)
        units_box.valueChanged.connect(self._changed)
        act.currentTextChanged.connect(self._changed)
        remove.clicked.connect(lambda: self.remove_layer(self.rows.index(entry)))
        self._changed()

    def remove_layer(self, index: int) -> None:
        units_box, act, remove, row = self.rows.pop(index)
        row.setParent(None)
        row.deleteLater()
        for k, (u, a, r, w) in enumerate(self.rows, start=1):
            w.layout().itemAt(0).widget().setText(f"Dense {k}:")
            u.setAccessibleName(f"Units of hidden layer {k}")
            a.setAccessibleName(f"Activation of hidden layer {k}")
            r.setToolTip(f"Remove hidden layer {k}")
        self._changed()

    def set_layers(self, layers) -> None:
        while self.rows:
            self.remove_layer(0)
        for units, act in layers:
            self.add_layer(units, act)

    def layers(self) -> list[tuple[int, str]]:
        return [(u.value(), a.currentText()) for u, a, _, _ in self.rows]

    def set_output_text(self, text: str) -> None:
        self.output_label.setText(text)

    def _changed(self, *_):
        self.add_button.setEnabled(len(self.rows) < self.max_layers)
        self._on_change()
