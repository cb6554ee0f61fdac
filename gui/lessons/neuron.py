"""Neuron: the course's insurance neuron, z = w1·age + w2·affordability + b, ŷ = σ(z).

Sliders move the weights; every person of the course's 28-row table slides along the
one sigmoid curve, and the chosen person's numbers are plugged into the formula.
Numbers come from core.teaching.surfaces (the engine's own forward pass and log loss).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QFrame, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from core.teaching import surfaces
from gui.lessons.base import Lesson
from gui.widgets.colors import NEGATIVE_COLOR, POSITIVE_COLOR
from gui.widgets.numbers import fmt, mono_font, mono_label, paren
from gui.widgets.plots import make_plot
from gui.widgets.value_slider import ValueSlider

#: class markers: colour AND shape, so the legend is readable without colour
BOUGHT_SYMBOL, NOT_BOUGHT_SYMBOL = "t1", "o"
CURVE_PEN = pg.mkPen("#1d232b", width=2)


class NeuronLesson(Lesson):
    title = "Neuron"
    subtitle = ("A weighted sum plus a bias, squashed by a sigmoid: move w1, w2 and b and watch "
                "28 people slide along the curve.")
    help_name = "neuron"
    course_tutorials = (3,)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.data = surfaces.insurance_data()
        self.best = surfaces.insurance_optimum(self.data.x, self.data.y)
        self.z = np.zeros(len(self.data), np.float32)
        self.y_hat = np.zeros(len(self.data), np.float32)
        self.loss = float("nan")
        self.selected = 2      # the course's worked example: a 47-year-old who can afford it

        root = QWidget()
        lay = QHBoxLayout(root)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(10)
        lay.addWidget(self._build_plot(), 3)
        lay.addWidget(self._build_side(), 2)
        self.set_visual(root)
        self._build_controls()
        self.table.selectRow(self.selected)
        self.refresh()

    # --- construction ---------------------------------------------------------------------
    def _build_plot(self) -> QWidget:
        self.plot = make_plot("z = w1·age/100 + w2·affordability + b",
                              "probability of buying  ŷ = σ(z)")
        self.plot.setAccessibleName("Sigmoid curve with the 28 people on it")
        item = self.plot.plot_item
        item.setYRange(-0.08, 1.08, padding=0)
        self.threshold = pg.InfiniteLine(pos=0.5, angle=0, movable=False,
                                         pen=pg.mkPen("#8a939f", width=1, style=Qt.PenStyle.DashLine))
        item.addItem(self.threshold)
        self.curve = item.plot([], [], pen=CURVE_PEN, name="σ(z), the neuron's output")
        # error bars: from each person's answer (0 or 1) to the neuron's ŷ
        self.errors = item.plot([], [], pen=pg.mkPen("#b9c0c9", width=1), connect="pairs",
                                name="gap between answer and ŷ")
        self.bought = pg.ScatterPlotItem(symbol=BOUGHT_SYMBOL, size=11, pen=pg.mkPen("#7a3500"),
                                         brush=pg.mkBrush(POSITIVE_COLOR), hoverable=True,
                                         tip=self._tip, name="bought (y = 1)")
        self.not_bought = pg.ScatterPlotItem(symbol=NOT_BOUGHT_SYMBOL, size=9,
                                             pen=pg.mkPen("#0d3a66"),
                                             brush=pg.mkBrush(NEGATIVE_COLOR), hoverable=True,
                                             tip=self._tip, name="did not buy (y = 0)")
        self.on_curve = pg.ScatterPlotItem(symbol="o", size=6, pen=pg.mkPen("#1d232b"),
                                           brush=pg.mkBrush("#ffffff"), hoverable=True,
                                           tip=self._tip, name="ŷ for each person")
        self.chosen = pg.ScatterPlotItem(symbol="o", size=20, pen=pg.mkPen("#1b7837", width=3),
                                         brush=pg.mkBrush(0, 0, 0, 0), name="chosen person")
        for it in (self.bought, self.not_bought, self.on_curve, self.chosen):
            item.addItem(it)
        self.chosen_line = pg.InfiniteLine(angle=90, movable=False,
                                           pen=pg.mkPen("#1b7837", width=1, style=Qt.PenStyle.DotLine))
        item.addItem(self.chosen_line)
        return self.plot

    def _build_side(self) -> QWidget:
        side = QWidget()
        v = QVBoxLayout(side)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(6)
        box = QFrame()
        box.setObjectName("formulaBox")
        box.setFrameShape(QFrame.Shape.StyledPanel)
        fv = QVBoxLayout(box)
        fv.setContentsMargins(8, 6, 8, 6)
        fv.setSpacing(2)
        self.person_label = QLabel()
        self.person_label.setWordWrap(True)
        self.z_label = mono_label()
        self.p_label = mono_label()
        self.loss_label = mono_label()
        self.loss_label.setWordWrap(True)
        for w in (self.person_label, self.z_label, self.p_label, self.loss_label):
            fv.addWidget(w)
        v.addWidget(box)

        self.table = QTableWidget(len(self.data), 5)
        self.table.setHorizontalHeaderLabels(["age", "affordable", "bought", "ŷ", "loss"])
        self.table.setAccessibleName("The 28 people of the course's insurance table")
        self.table.setToolTip("Pick a person to see their numbers plugged into the formula")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setFont(mono_font())
        for i in range(len(self.data)):
            age = int(self.data.age[i])
            cells = (str(age), "yes" if self.data.affordability[i] else "no",
                     "yes" if self.data.y[i] else "no", "", "")
            for j, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(i, j, cell)
            self.table.item(i, 0).setToolTip(f"age {age} years; the neuron sees age/100 = {fmt(age / 100)}")
            self.table.item(i, 1).setToolTip("affordability: 1 if the person can afford the policy, else 0")
            self.table.item(i, 2).setToolTip("the answer y: 1 if the person bought insurance")
        self.table.itemSelectionChanged.connect(self._on_select)
        v.addWidget(self.table, 1)
        return side

    def _build_controls(self) -> None:
        self.w1 = self.add_control(ValueSlider(-20, 20, 1.0), label="w1 (age)",
                                   tooltip="Weight of age/100: how much older people lean towards buying",
                                   name="Weight w1 of age", stretch=1)
        self.add_controls_separator()
        self.w2 = self.add_control(ValueSlider(-10, 10, 1.0), label="w2 (afford.)",
                                   tooltip="Weight of affordability (0 or 1)",
                                   name="Weight w2 of affordability", stretch=1)
        self.add_controls_separator()
        self.b = self.add_control(ValueSlider(-15, 15, 0.0), label="b",
                                  tooltip="Bias: shifts every person's z by the same amount",
                                  name="Bias b", stretch=1)
        for s in (self.w1, self.w2, self.b):
            s.slider.valueChanged.connect(self.refresh)
        self.add_controls_separator()
        self.start_button = self.add_control(
            QPushButton("Course start"),
            tooltip="w1 = 1, w2 = 1, b = 0: where the course starts gradient descent",
            name="Set the course's starting weights")
        self.start_button.clicked.connect(lambda: self.set_weights(*surfaces.COURSE_START))
        self.best_button = self.add_control(
            QPushButton("Best fit"),
            tooltip=(f"The weights with the lowest log loss on these 28 people: w1 = "
                     f"{fmt(self.best[0])}, w2 = {fmt(self.best[1])}, b = {fmt(self.best[2])} "
                     f"(what gradient descent finds, see the Gradient descent lesson)"),
            name="Set the best-fitting weights")
        self.best_button.clicked.connect(lambda: self.set_weights(*self.best[:3]))

    # --- behaviour ------------------------------------------------------------------------
    def weights(self) -> tuple[float, float, float]:
        return self.w1.value(), self.w2.value(), self.b.value()

    def set_weights(self, w1: float, w2: float, b: float) -> None:
        for slider, v in ((self.w1, w1), (self.w2, w2), (self.b, b)):
            slider.set_value_silently(v)
        self.refresh()

    def _on_select(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.selected = rows[0].row()
            self._show_person()

    def refresh(self) -> None:
        w1, w2, b = self.weights()
        d = self.data
        self.z, self.y_hat = surfaces.neuron_forward(d.x, w1, w2, b)        # (N,), (N,)
        per, _ = surfaces.per_sample_losses("binary_crossentropy", d.y, self.y_hat)
        self.loss = float(surfaces.neuron_log_loss(d.x, d.y, w1, w2, b))

        lo = min(-6.0, float(self.z.min()) - 0.8)
        hi = max(6.0, float(self.z.max()) + 0.8)
        zs = np.linspace(lo, hi, 241, dtype=np.float32)
        curve, _ = surfaces.activation_curve("sigmoid", zs)
        self.curve.setData(zs, curve)
        self.plot.plot_item.setXRange(lo, hi, padding=0)

        yes = d.y > 0.5
        idx = np.arange(len(d))
        self.bought.setData(self.z[yes], d.y[yes], data=idx[yes])
        self.not_bought.setData(self.z[~yes], d.y[~yes], data=idx[~yes])
        self.on_curve.setData(self.z, self.y_hat, data=idx)
        pairs_x = np.repeat(self.z, 2)
        pairs_y = np.column_stack([d.y, self.y_hat]).ravel()
        self.errors.setData(pairs_x, pairs_y)

        for i in range(len(d)):
            p_item, l_item = self.table.item(i, 3), self.table.item(i, 4)
            p_item.setText(fmt(self.y_hat[i]))
            p_item.setToolTip(f"ŷ = σ({fmt(self.z[i])}) = {fmt(self.y_hat[i])}")
            l_item.setText(fmt(per[i]))
            l_item.setToolTip(self._loss_formula(i, per[i]))
        self._show_person()

    def _loss_formula(self, i: int, value: float) -> str:
        p = fmt(self.y_hat[i])
        if self.data.y[i] > 0.5:
            return f"bought (y = 1): loss = −log ŷ = −log {p} = {fmt(value)}"
        return f"did not buy (y = 0): loss = −log(1 − ŷ) = −log(1 − {p}) = {fmt(value)}"

    def _show_person(self) -> None:
        i = self.selected
        d = self.data
        w1, w2, b = self.weights()
        age, aff, y = int(d.age[i]), int(d.affordability[i]), int(d.y[i])
        z, p = float(self.z[i]), float(self.y_hat[i])
        self.person_label.setText(
            f"<b>Person {i + 1}</b>: age {age}, {'can' if aff else 'cannot'} afford it, "
            f"{'<b>bought</b>' if y else '<b>did not buy</b>'} (y = {y})")
        self.z_label.setText(f"z = w1·(age/100) + w2·afford. + b\n"
                             f"  = {paren(w1)}·{fmt(age / 100)} + {paren(w2)}·{aff} + {paren(b)}"
                             f" = {fmt(z)}")
        self.z_label.setToolTip(f"weighted sum plus bias: {fmt(w1)}×{fmt(age / 100)} + "
                                f"{fmt(w2)}×{aff} + {fmt(b)} = {fmt(z)}")
        self.p_label.setText(f"ŷ = σ(z) = 1 / (1 + e^(−z))\n  = 1 / (1 + e^{paren(-z)}) = {fmt(p)}")
        self.p_label.setToolTip(f"sigmoid of z = {fmt(z)}: the probability that this person "
                                f"buys, {fmt(100 * p)} %; above 0.5 the neuron says 'buys'")
        verdict = "right" if (p >= 0.5) == bool(y) else "wrong"
        self.loss_label.setText(f"ŷ {'≥' if p >= 0.5 else '<'} 0.5: the neuron says "
                                f"'{'buys' if p >= 0.5 else 'does not buy'}' ({verdict})\n"
                                f"log loss over all 28 people = {fmt(self.loss)}")
        self.loss_label.setToolTip(
            "log loss = −(1/28) Σ [y·log ŷ + (1 − y)·log(1 − ŷ)]: the mean of the 'loss' "
            f"column = {fmt(self.loss)}. Lower is better; the best possible here is "
            f"{fmt(self.best[3])}.")
        self.chosen.setData([z], [p])
        self.chosen_line.setValue(z)

    def _tip(self, x, y, data):
        i = int(data)
        d = self.data
        return (f"Person {i + 1}: age {int(d.age[i])}, "
                f"{'can' if d.affordability[i] else 'cannot'} afford, "
                f"{'bought' if d.y[i] else 'did not buy'}\n"
                f"z = {fmt(self.z[i])}, ŷ = σ(z) = {fmt(self.y_hat[i])}")
