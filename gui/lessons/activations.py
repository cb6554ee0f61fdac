"""Activation functions: each one and its derivative, where gradients vanish, softmax's bars.

Every number comes from the engine's activations (core.activations through
core.teaching.surfaces): the curve is the forward pass, the derivative its backward pass.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFrame, QGridLayout, QHBoxLayout,
                               QLabel, QStackedWidget, QVBoxLayout, QWidget)

from core.activations import CATALOGUE
from core.teaching import surfaces
from gui.lessons.base import Lesson
from gui.widgets.colors import BACKWARD_COLOR, FORWARD_COLOR
from gui.widgets.numbers import fmt, mono_label, paren
from gui.widgets.plots import make_plot
from gui.widgets.value_slider import ValueSlider

Z_RANGE = (-6.0, 6.0)
#: a derivative below this share of its peak is drawn as "saturated"
SATURATION = 0.1
N_LOGITS = 4
SHADE = (120, 130, 145, 45)

#: the course's advice for each function shown, and the caption of its shaded zone; the
#: menu text, formula and derivative are the app's catalogue (core.activations.CATALOGUE)
ADVICE = {
    "sigmoid": ("Squashes any z into 0…1, so it reads as a probability: the course uses it in "
                "the output layer of a yes/no question.",
                "saturated"),
    "tanh": ("Outputs −1…1, centred on 0: the course's choice for hidden layers when not "
             "using ReLU.",
             "saturated"),
    "relu": ("Cheap to compute and does not saturate for z > 0: the default for hidden layers. "
             "For z < 0 its gradient is exactly 0.",
             "dead: slope 0"),
    "leaky_relu": ("Like ReLU, but the negative side keeps a small slope α, so a neuron stuck "
                   "at z < 0 still gets a gradient and can recover.",
                   "slope α"),
    "softmax": ("Turns a vector of scores (logits) into probabilities that sum to 1: the output "
                "layer of a multi-class question such as which digit. The curve sweeps z₁ with "
                "the other logits fixed.",
                "saturated"),
}
Y_RANGES = {"sigmoid": (-0.1, 1.1), "tanh": (-1.15, 1.15), "relu": (-0.7, 6.2),
            "leaky_relu": (-0.7, 6.2), "softmax": (-0.1, 1.1)}


class ActivationsLesson(Lesson):
    title = "Activation functions"
    subtitle = ("Each activation and its derivative; in the shaded zones the derivative is "
                "nearly 0 and gradients vanish.")
    help_name = "activations"
    course_tutorials = (8,)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.zs = np.linspace(*Z_RANGE, 481, dtype=np.float32)
        self.name = "sigmoid"
        self.a = self.dadz = np.zeros_like(self.zs)
        self.intervals: list[tuple[float, float]] = []

        root = QWidget()
        lay = QHBoxLayout(root)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(10)
        lay.addWidget(self._build_plot(), 3)
        lay.addWidget(self._build_side(), 2)
        self.set_visual(root)
        self._build_controls()
        self.refresh()

    # --- construction ---------------------------------------------------------------------
    def _build_plot(self) -> QWidget:
        self.plot = make_plot("input z", "value", legend_columns=4)
        self.plot.setAccessibleName("Activation function and its derivative")
        item = self.plot.plot_item
        item.setXRange(*Z_RANGE, padding=0)
        # shaded saturated zones: at most two stretches for these functions, a third spare
        self.shades = []
        for _ in range(3):
            region = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(*SHADE),
                                         pen=pg.mkPen(150, 158, 170, 120))
            region.setZValue(-10)
            label = pg.TextItem("", color="#2d333b", anchor=(0.5, 0))
            item.addItem(region)
            item.addItem(label)
            self.shades.append((region, label))
        self.curve = item.plot([], [], pen=pg.mkPen(FORWARD_COLOR, width=2.5),
                               name="activation a(z)")
        self.deriv = item.plot([], [], pen=pg.mkPen(BACKWARD_COLOR, width=2,
                                                    style=Qt.PenStyle.DashLine),
                               name="derivative da/dz")
        shade_sample = pg.PlotDataItem([], [], pen=pg.mkPen(*SHADE[:3], width=10))
        self.plot.add_legend_entry(shade_sample, f"shaded: da/dz &lt; {SATURATION:g} × its peak")
        self.z_line = pg.InfiniteLine(angle=90, movable=False,
                                      pen=pg.mkPen("#5b626c", width=1, style=Qt.PenStyle.DotLine))
        item.addItem(self.z_line)
        self.point_a = pg.ScatterPlotItem(size=11, pen=pg.mkPen("#ffffff", width=1.5),
                                          brush=pg.mkBrush(FORWARD_COLOR))
        self.point_d = pg.ScatterPlotItem(size=10, symbol="s", pen=pg.mkPen("#ffffff", width=1.5),
                                          brush=pg.mkBrush(BACKWARD_COLOR))
        item.addItem(self.point_a)
        item.addItem(self.point_d)
        return self.plot

    def _build_side(self) -> QWidget:
        side = QWidget()
        v = QVBoxLayout(side)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(6)
        box = QFrame()
        box.setFrameShape(QFrame.Shape.StyledPanel)
        fv = QVBoxLayout(box)
        fv.setContentsMargins(8, 6, 8, 6)
        fv.setSpacing(2)
        self.formula_label = mono_label()
        self.z_label = mono_label()
        self.a_label = mono_label()
        self.a_label.setStyleSheet(f"color: {FORWARD_COLOR.name()};")
        self.d_label = mono_label()
        self.d_label.setStyleSheet(f"color: {BACKWARD_COLOR.name()};")
        self.zone_label = QLabel()
        self.zone_label.setWordWrap(True)
        for w in (self.formula_label, self.z_label, self.a_label, self.d_label, self.zone_label):
            fv.addWidget(w)
        v.addWidget(box)

        self.pages = QStackedWidget()
        self.advice = QLabel()
        self.advice.setWordWrap(True)
        self.advice.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.advice.setObjectName("mutedText")
        self.pages.addWidget(self.advice)
        self.pages.addWidget(self._build_softmax_page())
        v.addWidget(self.pages, 1)
        return side

    def _build_softmax_page(self) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(4)
        row = QGridLayout()
        row.setHorizontalSpacing(6)
        row.addWidget(QLabel("logits"), 0, 0)
        self.logit_boxes: list[QDoubleSpinBox] = []
        for i, value in enumerate((1.0, 2.0, 0.5, -1.0)):
            box = QDoubleSpinBox()
            box.setRange(-10.0, 10.0)
            box.setDecimals(2)
            box.setSingleStep(0.25)
            box.setValue(value)
            box.setPrefix(f"z{_sub(i + 1)} = ")
            box.setToolTip(f"logit z{_sub(i + 1)}: the raw score of class {i + 1}"
                           + (" (also the slider)" if i == 0 else ""))
            box.setAccessibleName(f"Logit z{i + 1}")
            box.valueChanged.connect(self._on_logit)
            row.addWidget(box, 0, i + 1)
            self.logit_boxes.append(box)
        v.addLayout(row)
        self.bars_plot = make_plot("", "", legend_columns=0)
        self.bars_plot.setAccessibleName("Softmax outputs and Jacobian diagonal")
        bp = self.bars_plot.plot_item
        bp.setYRange(0, 1.0, padding=0.02)
        bp.setXRange(0.4, N_LOGITS + 0.6, padding=0)
        bp.getAxis("bottom").setTicks([[(i + 1, f"{i + 1}") for i in range(N_LOGITS)]])
        bp.setMouseEnabled(False, False)
        self.prob_bars = pg.BarGraphItem(x=np.arange(1, N_LOGITS + 1) - 0.18, height=np.zeros(N_LOGITS),
                                         width=0.34, brush=pg.mkBrush(FORWARD_COLOR),
                                         pen=pg.mkPen("#ffffff"))
        self.jac_bars = pg.BarGraphItem(x=np.arange(1, N_LOGITS + 1) + 0.18, height=np.zeros(N_LOGITS),
                                        width=0.34, brush=pg.mkBrush(BACKWARD_COLOR),
                                        pen=pg.mkPen("#ffffff"))
        bp.addItem(self.prob_bars)
        bp.addItem(self.jac_bars)
        v.addWidget(self.bars_plot, 1)
        # the table doubles as the bars' legend: its row names are in the bars' colours
        self.softmax_table = mono_label()
        self.softmax_table.setTextFormat(Qt.TextFormat.RichText)
        v.addWidget(self.softmax_table)
        self.softmax_sum = mono_label()
        v.addWidget(self.softmax_sum)
        return page

    def _build_controls(self) -> None:
        self.choice = QComboBox()
        for key in ADVICE:
            self.choice.addItem(CATALOGUE[key].title, key)
        self.add_control(self.choice, label="Function",
                         tooltip="Which activation function to show", name="Activation function")
        self.choice.currentIndexChanged.connect(self._on_choice)
        self.alpha = self.add_control(QDoubleSpinBox(), label="α",
                                      tooltip="Leaky ReLU's slope for z < 0 (Keras default 0.3, "
                                              "often 0.01)", name="Leaky ReLU alpha")
        self.alpha.setRange(0.0, 0.5)
        self.alpha.setDecimals(2)
        self.alpha.setSingleStep(0.01)
        self.alpha.setValue(0.01)
        self.alpha.valueChanged.connect(self.refresh)
        self.add_controls_separator()
        self.z_slider = self.add_control(ValueSlider(*Z_RANGE, 2.0), label="Input z",
                                         tooltip="Moves the point along both curves",
                                         name="Input z", stretch=1)
        self.z_slider.slider.valueChanged.connect(self._on_z)

    # --- behaviour ------------------------------------------------------------------------
    def set_function(self, name: str) -> None:
        self.choice.setCurrentIndex(list(ADVICE).index(name))

    def _on_choice(self) -> None:
        self.name = self.choice.currentData()
        if self.name == "softmax":
            # Input z is z₁ here: carry it over, or the curve's point and the bars would
            # show two different z₁ at once
            box = self.logit_boxes[0]
            box.blockSignals(True)
            box.setValue(self.z_slider.value())
            box.blockSignals(False)
        self.refresh()

    def _on_logit(self) -> None:
        if self.sender() is self.logit_boxes[0]:
            self.z_slider.set_value_silently(self.logit_boxes[0].value())
        self.refresh()

    def _on_z(self) -> None:
        if self.name == "softmax":
            box = self.logit_boxes[0]
            box.blockSignals(True)
            box.setValue(self.z_slider.value())
            box.blockSignals(False)
            self.refresh()
        else:
            self._show_point()

    def logits(self) -> np.ndarray:
        return np.array([b.value() for b in self.logit_boxes], np.float32)

    def refresh(self) -> None:
        name = self.name
        info = CATALOGUE[name]
        advice, zone = ADVICE[name]
        self.alpha.setEnabled(name == "leaky_relu")
        if name == "softmax":
            self.a, self.dadz = surfaces.softmax_curve(self.logits(), 0, self.zs)
        else:
            self.a, self.dadz = surfaces.activation_curve(name, self.zs, alpha=self.alpha.value())
        self.curve.setData(self.zs, self.a)
        self.deriv.setData(self.zs, self.dadz)
        item = self.plot.plot_item
        y_lo, y_hi = Y_RANGES[name]
        y_lo = min(y_lo, float(np.min(self.a)) - 0.25)   # leaky ReLU with a large α
        item.setYRange(y_lo, y_hi, padding=0)
        item.setXRange(*Z_RANGE, padding=0)
        self._rename(self.curve, "activation a₁(z₁)" if name == "softmax" else "activation a(z)")
        self._rename(self.deriv, "derivative ∂a₁/∂z₁" if name == "softmax" else "derivative da/dz")

        self.intervals = surfaces.saturated_intervals(self.zs, self.dadz, SATURATION)
        top = Y_RANGES[name][1]
        for k, (region, label) in enumerate(self.shades):
            if k < len(self.intervals):
                lo, hi = self.intervals[k]
                region.setRegion((lo, hi))
                region.show()
                label.setText(zone if hi - lo > 1.0 else "")
                # left zones: the curves hug the bottom; right zones: the top
                share = 0.75 if (lo + hi) / 2 < 0 else 0.3
                label.setPos((lo + hi) / 2, y_lo + share * (top - y_lo))
                label.show()
            else:
                region.hide()
                label.hide()

        peak = float(np.max(self.dadz))
        self.formula_label.setText(f"{info.formula}\n{info.derivative}")
        self.formula_label.setToolTip("forward: the activation; backward: its derivative, "
                                      "which multiplies every gradient passing back through it")
        if self.intervals:
            where = ", ".join(f"{fmt(lo)} … {fmt(hi)}" for lo, hi in self.intervals)
            low = min(float(np.min(self.dadz[(self.zs >= lo) & (self.zs <= hi)]))
                      for lo, hi in self.intervals)
            if low == 0.0:
                effect = ("is multiplied by 0 and stops: the weights below get no update "
                          "(a 'dead' neuron).")
            elif name == "leaky_relu":
                effect = (f"is multiplied by α = {fmt(low)}: it shrinks but never stops, so the "
                          f"neuron can still recover.")
            else:
                effect = (f"is multiplied by a number as small as {fmt(low)} and shrinks: the "
                          f"vanishing gradient problem.")
            self.zone_label.setText(
                f"Shaded (z in {where}): da/dz < {SATURATION:g} × its peak {fmt(peak)}. A "
                f"gradient flowing back through here {effect}")
        else:
            self.zone_label.setText(f"No zone where da/dz falls below {SATURATION:g} × its peak "
                                    f"{fmt(peak)}: gradients pass through everywhere.")
        if name == "leaky_relu":
            self.advice.setText(advice.replace("α", f"α = {fmt(self.alpha.value())}"))
        else:
            self.advice.setText(advice)
        self.pages.setCurrentIndex(1 if name == "softmax" else 0)
        if name == "softmax":
            self._show_softmax()
        self._show_point()

    def _point(self, z: float) -> tuple[float, float]:
        if self.name == "softmax":
            logits = self.logits()
            a, d = surfaces.softmax_curve(logits, 0, [z])
        else:
            a, d = surfaces.activation_curve(self.name, [z], alpha=self.alpha.value())
        return float(a[0]), float(d[0])

    def _show_point(self) -> None:
        z = self.z_slider.value()
        a, d = self._point(z)
        self.z_line.setValue(z)
        self.point_a.setData([z], [a])
        self.point_d.setData([z], [d])
        name, al = self.name, self.alpha.value()
        if name == "sigmoid":
            a_txt = f"a = 1 / (1 + e^{paren(-z)}) = {fmt(a)}"
            d_txt = f"da/dz = {fmt(a)}·(1 − {fmt(a)}) = {fmt(d)}"
        elif name == "tanh":
            a_txt = f"a = tanh({fmt(z)}) = {fmt(a)}"
            d_txt = f"da/dz = 1 − {paren(a)}² = {fmt(d)}"
        elif name == "relu":
            a_txt = f"a = max(0, {fmt(z)}) = {fmt(a)}"
            d_txt = f"da/dz = {'1 (z > 0)' if z > 0 else '0 (z ≤ 0)'}"
        elif name == "leaky_relu":
            a_txt = (f"a = {fmt(z)}" if z > 0 else f"a = {fmt(al)}·{paren(z)} = {fmt(a)}")
            d_txt = f"da/dz = {'1 (z > 0)' if z > 0 else f'α = {fmt(al)} (z ≤ 0)'}"
        else:
            a_txt = f"a₁ = e^{paren(z)} / Σ_j e^(z_j) = {fmt(a)}"
            d_txt = f"∂a₁/∂z₁ = {fmt(a)}·(1 − {fmt(a)}) = {fmt(d)}"
        self.z_label.setText(f"z = {fmt(z)}")
        self.a_label.setText(a_txt)
        self.d_label.setText(d_txt)
        self.a_label.setToolTip(f"the activation at z = {fmt(z)}: {a_txt}")
        self.d_label.setToolTip(f"the slope of the activation at z = {fmt(z)}: a gradient "
                                f"arriving from above is multiplied by {fmt(d)}")
        self.point_a.setToolTip(a_txt)

    def _show_softmax(self) -> None:
        logits = self.logits()
        p = surfaces.softmax_outputs(logits)
        jac = surfaces.softmax_jacobian(logits)
        diag = np.diag(jac)
        self.prob_bars.setOpts(height=p)
        self.jac_bars.setOpts(height=diag)
        def row(name, color, values):
            cells = "".join(f"{v:>9}" for v in values).replace(" ", "&nbsp;")
            head = f"{name:<16}".replace(" ", "&nbsp;")
            style = f' style="color:{color}; font-weight:600"' if color else ""
            return f"<span{style}>{head}</span>{cells}"

        self.softmax_table.setText("<br>".join([
            row("class", "", [str(i + 1) for i in range(N_LOGITS)]),
            row("■ output a_i", FORWARD_COLOR.name(), [fmt(v) for v in p]),
            row("■ ∂a_i/∂z_i", BACKWARD_COLOR.name(), [fmt(v) for v in diag])]))
        denom = float(np.sum(np.exp(logits.astype(np.float64))))
        self.softmax_sum.setText(f"Σ a_i = {fmt(float(np.sum(p)))}   (Σ e^z = {fmt(denom)})")
        self.softmax_sum.setToolTip(
            "The outputs always sum to 1: a_i = e^(z_i) / Σ_j e^(z_j).\n" + "\n".join(
                f"a{_sub(i + 1)} = e^{paren(logits[i])} / {fmt(denom)} = {fmt(p[i])};  "
                f"∂a{_sub(i + 1)}/∂z{_sub(i + 1)} = {fmt(p[i])}·(1 − {fmt(p[i])}) = {fmt(diag[i])}"
                for i in range(N_LOGITS)))
        self.bars_plot.setToolTip(self.softmax_sum.toolTip())
        self.softmax_table.setToolTip(self.softmax_sum.toolTip())

    def _rename(self, item, text: str) -> None:
        legend = self.plot.legend
        for sample, label in legend.items:
            if sample.item is item:
                label.setText(text)


def _sub(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
