"""Loss functions: the five Keras losses of the course, one sample's loss curve and the
per-sample losses of the course's insurance table (one pass over all rows = one epoch).

Values come from the engine's losses (core.losses through core.teaching.surfaces).
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDoubleSpinBox, QFrame,
                               QHBoxLayout, QHeaderView, QLabel, QSpinBox, QStackedWidget,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from core.losses import CATALOGUE as LOSS_CATALOGUE
from core.teaching import surfaces
from gui.lessons.base import Lesson
from gui.widgets.colors import FORWARD_COLOR
from gui.widgets.numbers import fmt, mono_font, mono_label
from gui.widgets.plots import make_plot
from gui.widgets.value_slider import ValueSlider

#: classes in the one-sample demo of the categorical losses (a table row has two)
N_CLASSES = 3
MAX_CLASSES = 6
CATEGORICAL = ("categorical_crossentropy", "sparse_categorical_crossentropy")

#: the five losses, as the app writes them (name → core.losses.LossInfo)
LOSSES = LOSS_CATALOGUE
PREDICTORS = {
    "start": "the course's start w1 = w2 = 1, b = 0",
    "best": "the best-fitting weights",
}


class LossesLesson(Lesson):
    title = "Loss functions"
    subtitle = ("How wrong is a prediction? Five losses on one sample, then on every row of "
                "the insurance table: one pass over all rows is one epoch.")
    help_name = "losses"
    course_tutorials = (11,)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.data = surfaces.insurance_data()
        self.best = surfaces.insurance_optimum(self.data.x, self.data.y)
        self.loss_name = "mean_absolute_error"
        self.per_sample = np.zeros(len(self.data))
        self.mean = float("nan")
        self.y_hat = np.zeros(len(self.data), np.float32)
        self.grid = np.linspace(0.0, 1.0, 401, dtype=np.float32)

        root = QWidget()
        lay = QHBoxLayout(root)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(10)
        lay.addWidget(self._build_curve_side(), 1)
        lay.addWidget(self._build_table_side(), 1)
        self.set_visual(root)
        self._build_controls()
        self.refresh()

    # --- construction ---------------------------------------------------------------------
    def _build_curve_side(self) -> QWidget:
        side = QWidget()
        v = QVBoxLayout(side)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(4)
        self.plot = make_plot("prediction ŷ", "loss of this sample", legend_columns=3)
        self.plot.setAccessibleName("Loss of one sample against its prediction")
        item = self.plot.plot_item
        item.setXRange(0, 1, padding=0.02)
        self.curve = item.plot([], [], pen=pg.mkPen(FORWARD_COLOR, width=2.5), name="loss")
        self.target_line = pg.InfiniteLine(angle=90, movable=False,
                                           pen=pg.mkPen("#5b626c", width=1, style=Qt.PenStyle.DashLine))
        item.addItem(self.target_line)
        self.point = pg.ScatterPlotItem(size=12, pen=pg.mkPen("#ffffff", width=1.5),
                                        brush=pg.mkBrush("#1d232b"), name="this prediction")
        item.addItem(self.point)
        # a loss above the plotted range: the point sits on the top edge with its value
        self.off_scale = pg.TextItem("", color="#1d232b", anchor=(-0.15, 0))
        item.addItem(self.off_scale)
        self.plot.add_legend_entry(pg.PlotDataItem([], [], pen=pg.mkPen(
            "#5b626c", width=1, style=Qt.PenStyle.DashLine)), "the answer y (loss 0 there)")
        v.addWidget(self.plot, 1)
        box = QFrame()
        box.setFrameShape(QFrame.Shape.StyledPanel)
        fv = QVBoxLayout(box)
        fv.setContentsMargins(8, 4, 8, 4)
        fv.setSpacing(2)
        self.formula_label = mono_label()
        self.formula_label.setWordWrap(True)
        self.sample_label = mono_label()
        self.sample_label.setWordWrap(True)
        self.use_label = QLabel()
        self.use_label.setWordWrap(True)
        self.use_label.setObjectName("mutedText")
        for w in (self.formula_label, self.sample_label, self.use_label):
            fv.addWidget(w)
        v.addWidget(box)
        return side

    def _build_table_side(self) -> QWidget:
        side = QWidget()
        v = QVBoxLayout(side)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(4)
        row = QHBoxLayout()
        row.addWidget(QLabel("Insurance table, predictions from"))
        self.predictor = QComboBox()
        for key, text in PREDICTORS.items():
            self.predictor.addItem(text, key)
        self.predictor.setToolTip("Which neuron made the predictions ŷ in the table")
        self.predictor.setAccessibleName("Weights that made the predictions")
        self.predictor.currentIndexChanged.connect(self.refresh)
        row.addWidget(self.predictor, 1)
        v.addLayout(row)
        self.table = QTableWidget(len(self.data), 5)
        self.table.setAccessibleName("Per-sample losses of the insurance table")
        self.table.setToolTip("Each row's loss; hover a cell for its formula. Pick a row to "
                              "put it on the curve.")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setFont(mono_font())
        self.table.setStyleSheet("QTableWidget::item { padding: 0px 6px; }")
        for i in range(len(self.data)):
            for j in range(5):
                cell = QTableWidgetItem("")
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(i, j, cell)
            self.table.item(i, 0).setText(str(int(self.data.age[i])))
            self.table.item(i, 0).setToolTip("age in years (the neuron sees age/100)")
            self.table.item(i, 1).setText("yes" if self.data.affordability[i] else "no")
            self.table.item(i, 1).setToolTip("can the person afford the policy?")
        self.table.itemSelectionChanged.connect(self._on_row)
        v.addWidget(self.table, 1)
        self.mean_label = mono_label()
        self.mean_label.setWordWrap(True)
        self.epoch_label = QLabel("One pass over all 28 rows (every sample seen once) is "
                                  "<b>one epoch</b>; the training loss of that epoch is this mean.")
        self.epoch_label.setWordWrap(True)
        v.addWidget(self.mean_label)
        v.addWidget(self.epoch_label)
        return side

    def _build_controls(self) -> None:
        self.choice = QComboBox()
        for key, spec in LOSSES.items():
            self.choice.addItem(spec.title, key)
        self.add_control(self.choice, label="Loss", tooltip="Which loss function to use",
                         name="Loss function")
        self.choice.currentIndexChanged.connect(self._on_choice)
        self.add_controls_separator()
        self.y_caption = QLabel("y (true)")
        self.controls.addWidget(self.y_caption)
        self.y_stack = QStackedWidget()
        self.y_value = QDoubleSpinBox()
        self.y_value.setRange(0.0, 1.0)
        self.y_value.setSingleStep(0.1)
        self.y_value.setDecimals(2)
        self.y_value.setValue(1.0)
        self.y_value.setToolTip("The right answer y (1 = bought, 0 = did not; MAE and MSE "
                                "also take any number in between)")
        self.y_value.setAccessibleName("True value y")
        self.y_class = QSpinBox()
        self.y_class.setRange(0, N_CLASSES - 1)
        self.y_class.setValue(1)
        self.y_class.setToolTip("The true class (numbered from 0)")
        self.y_class.setAccessibleName("True class")
        self.y_stack.addWidget(self.y_value)
        self.y_stack.addWidget(self.y_class)
        self.y_stack.setSizePolicy(self.y_value.sizePolicy())
        self.y_caption.setBuddy(self.y_value)
        self.controls.addWidget(self.y_stack)
        self.y_value.valueChanged.connect(self._show_sample)
        self.y_class.valueChanged.connect(self._show_sample)
        self.n_caption = QLabel("of")
        self.controls.addWidget(self.n_caption)
        self.n_classes = QSpinBox()
        self.n_classes.setRange(2, MAX_CLASSES)
        self.n_classes.setValue(N_CLASSES)
        self.n_classes.setSuffix(" classes")
        self.n_classes.setToolTip("How many classes the softmax output has; the probability "
                                  "not given to the true class is shared equally by the others")
        self.n_classes.setAccessibleName("Number of classes")
        self.n_caption.setBuddy(self.n_classes)
        self.controls.addWidget(self.n_classes)
        self.n_classes.valueChanged.connect(self._on_classes)
        self.add_controls_separator()
        self.p_caption = QLabel("ŷ (predicted)")
        self.controls.addWidget(self.p_caption)
        self.y_pred = self.add_control(ValueSlider(0.0, 1.0, 0.7, scale=1000, step=0.01, page=0.1),
                                       tooltip="The prediction ŷ: drag it to see the loss change",
                                       name="Predicted value", stretch=1)
        self.p_caption.setBuddy(self.y_pred.slider)
        self.y_pred.slider.valueChanged.connect(self._show_sample)

    # --- behaviour ------------------------------------------------------------------------
    def set_loss(self, name: str) -> None:
        self.choice.setCurrentIndex(list(LOSSES).index(name))

    def _on_choice(self) -> None:
        self.loss_name = self.choice.currentData()
        self.refresh()

    def _on_classes(self) -> None:
        self.y_class.setMaximum(self.n_classes.value() - 1)
        self._show_sample()

    def categorical(self) -> bool:
        return self.loss_name in CATEGORICAL

    def refresh(self) -> None:
        cat = self.categorical()
        self.y_stack.setCurrentIndex(1 if cat else 0)
        self.n_caption.setVisible(cat)
        self.n_classes.setVisible(cat)
        self.y_caption.setText("true class" if cat else "y (true)")
        self.p_caption.setText("ŷ of true class" if cat else "ŷ (predicted)")
        spec = LOSSES[self.loss_name]
        self.formula_label.setText(spec.formula)
        self.use_label.setText(spec.use)
        self._fill_table()
        self._show_sample()

    def _weights(self):
        return surfaces.COURSE_START if self.predictor.currentData() == "start" else self.best[:3]

    def _fill_table(self) -> None:
        d = self.data
        _, self.y_hat = surfaces.neuron_forward(d.x, *self._weights())
        self.per_sample, self.mean = surfaces.per_sample_losses(self.loss_name, d.y, self.y_hat)
        name = self.loss_name
        if name == "categorical_crossentropy":
            heads = ["age", "afford.", "y one-hot", "ŷ [no, yes]", "loss"]
        elif name == "sparse_categorical_crossentropy":
            heads = ["age", "afford.", "y class", "ŷ [no, yes]", "loss"]
        else:
            heads = ["age", "afford.", "y bought", "ŷ", "loss"]
        self.table.setHorizontalHeaderLabels(heads)
        for i in range(len(d)):
            y, p, loss = int(d.y[i]), float(self.y_hat[i]), float(self.per_sample[i])
            if name == "categorical_crossentropy":
                y_txt = f"[{1 - y}, {y}]"
            else:
                y_txt = str(y)
            p_txt = f"[{fmt(1 - p)}, {fmt(p)}]" if self.categorical() else fmt(p)
            self.table.item(i, 2).setText(y_txt)
            self.table.item(i, 2).setToolTip("1 = bought insurance, 0 = did not" if not
                                             self.categorical() else
                                             "class 1 = bought, class 0 = did not")
            self.table.item(i, 3).setText(p_txt)
            self.table.item(i, 3).setToolTip(
                f"the neuron's ŷ = σ(z) = {fmt(p)}"
                + (f"; as two class probabilities [1 − ŷ, ŷ] = {p_txt}" if self.categorical() else ""))
            self.table.item(i, 4).setText(fmt(loss))
            self.table.item(i, 4).setToolTip(self._row_formula(y, p, loss))
        n = len(d)
        terms = " + ".join(fmt(v) for v in self.per_sample[:3])
        self.mean_label.setText(f"mean loss over {n} rows = {fmt(self.mean)}")
        self.mean_label.setToolTip(f"{LOSSES[name].formula}\n= ({terms} + … ) / {n} = "
                                   f"{fmt(float(np.sum(self.per_sample)))} / {n} = {fmt(self.mean)}")

    def _row_formula(self, y: int, p: float, loss: float) -> str:
        name = self.loss_name
        if name == "mean_absolute_error":
            return f"|y − ŷ| = |{y} − {fmt(p)}| = {fmt(loss)}"
        if name == "mean_squared_error":
            return f"(y − ŷ)² = ({y} − {fmt(p)})² = {fmt(loss)}"
        if name == "binary_crossentropy":
            return (f"−[y·log ŷ + (1 − y)·log(1 − ŷ)] = −[{y}·log {fmt(p)} + {1 - y}·"
                    f"log {fmt(1 - p)}] = {fmt(loss)}")
        if name == "categorical_crossentropy":
            return (f"−Σ_k y_k·log ŷ_k = −({1 - y}·log {fmt(1 - p)} + {y}·log {fmt(p)}) = "
                    f"{fmt(loss)}")
        true_p = p if y else 1 - p
        return f"−log ŷ[class {y}] = −log {fmt(true_p)} = {fmt(loss)}"

    def _on_row(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        i = rows[0].row()
        y, p = int(self.data.y[i]), float(self.y_hat[i])
        if self.categorical():
            self.n_classes.setValue(2)     # the table's two classes: no (0), yes (1)
            self.y_class.setValue(y)
            self.y_pred.set_value(p if y else 1 - p, exact=True)
        else:
            self.y_value.setValue(float(y))
            self.y_pred.set_value(p, exact=True)

    def sample_loss(self) -> float:
        """The loss of the sample set by the controls, by the engine."""
        target = self.y_class.value() if self.categorical() else self.y_value.value()
        return float(surfaces.loss_curve(self.loss_name, target, [self.y_pred.value()],
                                         self.n_classes.value())[0])

    def _show_sample(self) -> None:
        name = self.loss_name
        cat = self.categorical()
        target = self.y_class.value() if cat else self.y_value.value()
        p = self.y_pred.value()
        n_classes = self.n_classes.value()
        curve = surfaces.loss_curve(name, target, self.grid, n_classes)
        self.curve.setData(self.grid, curve)
        value = self.sample_loss()
        self.point.setData([p], [value])
        self.target_line.setValue(1.0 if cat else target)
        top = 1.05 if name == "mean_absolute_error" else (1.05 if name == "mean_squared_error" else 5.0)
        self.plot.plot_item.setYRange(0, top, padding=0)
        self.plot.plot_item.setLabel("bottom", "probability ŷ given to the true class" if cat
                                     else "prediction ŷ")
        clipped = cat or name == "binary_crossentropy"
        if cat:
            probs = surfaces.class_probabilities([p], target, n_classes)[0]
            vec = "[" + ", ".join(fmt(v) for v in probs) + "]"
            if name == "categorical_crossentropy":
                onehot = "[" + ", ".join("1" if k == target else "0" for k in range(n_classes)) + "]"
                text = (f"y = {onehot}, ŷ = {vec}\nL = −Σ_k y_k·log ŷ_k = −log {fmt(p)} = "
                        f"{fmt(value)}")
            else:
                text = (f"y = {target} (a class number), ŷ = {vec}\nL = −log ŷ[{target}] = "
                        f"−log {fmt(p)} = {fmt(value)}")
        elif name == "mean_absolute_error":
            text = f"y = {fmt(target)}, ŷ = {fmt(p)}\nL = |{fmt(target)} − {fmt(p)}| = {fmt(value)}"
        elif name == "mean_squared_error":
            text = f"y = {fmt(target)}, ŷ = {fmt(p)}\nL = ({fmt(target)} − {fmt(p)})² = {fmt(value)}"
        else:
            text = (f"y = {fmt(target)}, ŷ = {fmt(p)}\nL = −[{fmt(target)}·log {fmt(p)} + "
                    f"{fmt(1 - target)}·log {fmt(1 - p)}] = {fmt(value)}")
        if clipped and (p < 1e-6 or p > 1 - 1e-6):
            text += "\n(ŷ is clipped to [1e-7, 1 − 1e-7] as Keras does, so the loss stays finite)"
        self.sample_label.setText(text)
        self.sample_label.setToolTip(text.replace("\n", "  "))
        self.point.setToolTip(text)
        if math.isfinite(value) and value > top:
            self.point.setData([p], [top])   # keep the point visible; its label has the value
            self.off_scale.setText(f"↑ loss {fmt(value)}")
            self.off_scale.setPos(p, top)
            self.off_scale.setAnchor((1.1, 0) if p > 0.7 else (-0.1, 0))
            self.off_scale.show()
        else:
            self.off_scale.hide()
