"""Gradient descent: the insurance neuron trained one full-batch epoch at a time.

The log-loss surface over (w1, w2) at the current bias is drawn as a heat map with
contour lines; the path of the weights walks down it. The learning rate can be made too
small (the path crawls) or too large (it jumps across the valley and the loss goes up),
and a sentence always says which is happening. Training is the engine's (core.teaching.surfaces.
NeuronDescent runs Sequential.fit one epoch per step); one step per timer tick keeps the
window responsive for this 3-parameter model.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import (QComboBox, QFrame, QHBoxLayout, QLabel, QSlider, QVBoxLayout,
                               QWidget)

from core.teaching import predict, surfaces
from gui.lessons.base import Lesson
from gui.widgets.colors import BACKWARD_COLOR, FORWARD_COLOR, ColorLegend
from gui.widgets.numbers import fmt, mono_label, paren
from gui.widgets.path_map import add_loss_image
from gui.widgets.plots import make_plot

#: learning rates the slider steps through (a geometric ladder)
LEARNING_RATES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 50.0,
                  100.0)
DEFAULT_RATE = 3.0
#: the map shown before a run leaves it: start (1, 1) and the bottom (13.1, 2.1) inside
BASE_EXTENT = (-4.0, 18.0, -4.0, 8.0)
GRID = 121                  # heat-map resolution per axis
CONTOUR_STRIDE = 2          # contour lines from every 2nd grid point: cheaper, still smooth
N_CONTOURS = 7
MAX_EPOCHS = 5000
STEPS_PER_SECOND = 8.0      # at speed 1×
SURFACE_REDRAW_S = 0.15     # while playing, the heat map is redrawn at most this often
#: a next step shorter than this (screen pixels) is drawn this long, in its true direction,
#: so it shows beyond the "now" marker; its true size is in the numbers beside the map
MIN_ARROW_PX = 34.0

#: where a run can start: the course's notebook, or the notes' slide (its loss 4.3)
STARTS = (
    ("notebook", surfaces.COURSE_START,
     "notebook (1, 1, 0)", "the course notebook's start w1 = w2 = 1, b = 0"),
    ("notes", surfaces.NOTES_START,
     "notes' slide, loss 4.3",
     "a start with the notes' loss 4.3 (w1 = 13, w2 = 5.6, b = 2)"),
)

VERDICT_STYLE = {           # background of the message box; the words carry the meaning
    "start": "#eef2f6", "downhill": "#e6f2e8", "converged": "#d9eedd",
    "crawling": "#fbf3d5", "overshoot": "#fde6cf", "diverging": "#f9d7d3", "stopped": "#f9d7d3",
}


class _ShadowedSample(pg.ItemSample):
    """Legend sample of a line drawn over a darker shadow (the white descent path)."""

    def paint(self, p, *args):
        opts = self.item.opts
        p.setRenderHint(p.RenderHint.Antialiasing)
        for key in ("shadowPen", "pen"):
            if opts.get(key) is not None:
                p.setPen(pg.mkPen(opts[key]))
                p.drawLine(0, 11, 20, 11)


class GradientDescentLesson(Lesson):
    title = "Gradient descent"
    subtitle = ("The insurance neuron learns step by step: watch its weights walk down the "
                "loss surface, and what too small or too large a learning rate does.")
    help_name = "gradient_descent"
    course_tutorials = (12,)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.run = surfaces.NeuronDescent(learning_rate=DEFAULT_RATE)
        self.best = surfaces.insurance_optimum(self.run.data.x, self.run.data.y)
        self.verdict = ("start", "")
        self.message = ""
        self._announced = ""
        self._last_surface = 0.0
        self.extent = BASE_EXTENT
        self.surface = np.zeros((GRID, GRID))
        self.next_grad = (0.0, 0.0, 0.0)

        root = QWidget()
        lay = QHBoxLayout(root)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(10)
        lay.addWidget(self._build_map(), 3)
        lay.addWidget(self._build_side(), 2)
        self.set_visual(root)
        self._build_controls()

        # the arrow's on-screen length and angle depend on the plot's size
        self.map.plot_item.getViewBox().sigResized.connect(lambda *_: self._draw_next_step())
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self._update_view(redraw_surface=True)

    # --- construction ---------------------------------------------------------------------
    def _build_map(self) -> QWidget:
        box = QWidget()
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        self.map = make_plot("w1 (weight of age/100)", "w2 (weight of affordability)",
                             legend_columns=3)
        self.map.setAccessibleName("Loss surface over w1 and w2 with the descent path")
        item = self.map.plot_item
        item.showGrid(x=False, y=False)
        self.image, self.contours = add_loss_image(item, N_CONTOURS, alpha=140)
        self.path_item = item.plot([], [], pen=pg.mkPen("#ffffff", width=2),
                                   shadowPen=pg.mkPen("#1d232b", width=4), symbol="o",
                                   symbolSize=4, symbolBrush="#ffffff", symbolPen=None)
        # the legend's own sample would draw the white line alone: invisible on white
        self.map.add_legend_entry(_ShadowedSample(self.path_item), "path of (w1, w2)")
        self.next_item = item.plot([], [], pen=pg.mkPen(BACKWARD_COLOR, width=3),
                                   name="next step −η·∇L")
        self.arrow = pg.ArrowItem(angle=0, headLen=12, tipAngle=35, pen=None,
                                  brush=pg.mkBrush(BACKWARD_COLOR))
        item.addItem(self.arrow)
        self.start_item = pg.ScatterPlotItem(symbol="s", size=11, pen=pg.mkPen("#1d232b", width=1.5),
                                             brush=pg.mkBrush("#ffffff"), name="start")
        # the map is a slice at the current b: its star is that slice's own bottom (the
        # overall best needs another b and would sit on a high-loss wall of this slice)
        self.best_item = pg.ScatterPlotItem(symbol="star", size=18, pen=pg.mkPen("#1d232b", width=1),
                                            brush=pg.mkBrush("#ffffff"),
                                            name="lowest loss on this map (same b)")
        self.current_item = pg.ScatterPlotItem(symbol="o", size=14, pen=pg.mkPen("#ffffff", width=2),
                                               brush=pg.mkBrush(FORWARD_COLOR), name="now")
        for it in (self.start_item, self.best_item, self.current_item):
            item.addItem(it)
        # the next step is drawn over the "now" marker, or a short step hides beneath it
        self.next_item.setZValue(20)
        self.arrow.setZValue(21)
        self.start_item.setData([self.run.start[0]], [self.run.start[1]])
        v.addWidget(self.map, 1)
        self.legend = ColorLegend("sequential", 0.0, 1.0, label="log loss")
        self.legend.setMaximumWidth(10000)
        v.addWidget(self.legend)
        return box

    def _build_side(self) -> QWidget:
        side = QWidget()
        v = QVBoxLayout(side)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(4)
        self.loss_plot = make_plot("epoch", "log loss", legend_columns=2)
        self.loss_plot.setAccessibleName("Loss after every epoch")
        lp = self.loss_plot.plot_item
        self.loss_curve = lp.plot([], [], pen=pg.mkPen(FORWARD_COLOR, width=2), name="loss")
        self.loss_now = pg.ScatterPlotItem(size=8, pen=pg.mkPen("#ffffff", width=1),
                                           brush=pg.mkBrush(FORWARD_COLOR))
        lp.addItem(self.loss_now)
        lp.enableAutoRange(axis="x", enable=False)
        self.best_line = pg.InfiniteLine(pos=self.best[3], angle=0, movable=False,
                                         pen=pg.mkPen("#5b626c", width=1, style=Qt.PenStyle.DashLine))
        lp.addItem(self.best_line)
        self.loss_plot.add_legend_entry(
            pg.PlotDataItem([], [], pen=pg.mkPen("#5b626c", width=1, style=Qt.PenStyle.DashLine)),
            f"best possible {fmt(self.best[3])}")
        v.addWidget(self.loss_plot, 1)

        box = QFrame()
        box.setFrameShape(QFrame.Shape.StyledPanel)
        fv = QVBoxLayout(box)
        fv.setContentsMargins(8, 4, 8, 4)
        fv.setSpacing(1)
        # the notes' three steps, each formula beside its numbers: ① the loss of a forward
        # pass, ② the derivatives, ③ the new weights
        self.epoch_label = mono_label()
        self.weights_label = mono_label()
        self.loss_label = mono_label()
        self.grad_label = mono_label()
        self.grad_label.setStyleSheet(f"color: {BACKWARD_COLOR.name()};")
        self.update_label = mono_label()
        self.forward_label = mono_label()
        self.relation_label = QLabel()
        self.relation_label.setWordWrap(True)
        self.relation_label.setAccessibleName("How this start relates to the notes' loss 4.3")
        top = QHBoxLayout()
        top.setSpacing(12)
        top.addWidget(self.epoch_label)
        top.addWidget(self.weights_label, 1)
        fv.addLayout(top)
        for w in (self.forward_label, self.loss_label, self.grad_label, self.update_label,
                  self.relation_label):
            fv.addWidget(w)
        v.addWidget(box)
        self.verdict_label = QLabel()
        self.verdict_label.setWordWrap(True)
        self.verdict_label.setAccessibleName("How the descent is going")
        self.verdict_label.setMinimumHeight(3 * self.fontMetrics().lineSpacing() + 10)
        v.addWidget(self.verdict_label)
        return side

    def _build_controls(self) -> None:
        pb = self.add_playback(step_back=True)
        pb.step_forward.connect(self.step)
        pb.step_back.connect(self.step_back)
        pb.reset.connect(self.reset)
        pb.play_toggled.connect(self._on_play)
        pb.speed_changed.connect(lambda _s: self._on_play(pb.is_playing()))
        self.lr_slider = QSlider(Qt.Orientation.Horizontal)
        self.lr_slider.setRange(0, len(LEARNING_RATES) - 1)
        self.lr_slider.setValue(LEARNING_RATES.index(DEFAULT_RATE))
        self.lr_slider.setPageStep(1)
        self.lr_slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.lr_slider.setMinimumWidth(110)
        self.add_control(self.lr_slider, label="Learning rate η",
                         tooltip="Step size: w ← w − η·∂L/∂w. Try 0.01 (crawls), 3 (walks "
                                 "down), 30 or 100 (jumps across the valley). "
                                 + ", ".join(fmt(v) for v in LEARNING_RATES),
                         name="Learning rate", stretch=1)
        self.lr_label = mono_label()
        self.lr_label.setMinimumWidth(self.lr_label.fontMetrics().horizontalAdvance("0.000") + 4)
        self.controls.addWidget(self.lr_label)
        self.lr_slider.valueChanged.connect(self._on_rate)
        self._on_rate()
        self.start_box = QComboBox()
        self.start_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.start_box.setMinimumContentsLength(12)
        for key, _start, label, _text in STARTS:
            self.start_box.addItem(label, key)
        self.add_control(self.start_box, label="Start",
                         tooltip="Where the weights begin. The course notebook starts at "
                                 "w1 = w2 = 1, b = 0 (loss 0.716); the notes' slide starts "
                                 "from random weights whose loss is 4.3.",
                         name="Start")
        self.start_box.currentIndexChanged.connect(self._on_start)

    # --- actions ----------------------------------------------------------------------------
    def learning_rate(self) -> float:
        return LEARNING_RATES[self.lr_slider.value()]

    def set_learning_rate(self, lr: float) -> None:
        idx = min(range(len(LEARNING_RATES)), key=lambda i: abs(math.log(LEARNING_RATES[i] / lr)))
        self.lr_slider.setValue(idx)

    def _on_rate(self) -> None:
        lr = self.learning_rate()
        self.lr_label.setText(fmt(lr))
        self.lr_label.setToolTip(f"η = {fmt(lr)}: each step moves the weights by η times the "
                                 f"gradient")
        self.run.set_learning_rate(lr)
        if hasattr(self, "timer"):
            self._update_view(redraw_surface=False)

    def set_start(self, key: str) -> None:
        """Choose a start by key ("notebook" or "notes"), as the Start box does."""
        self.start_box.setCurrentIndex([k for k, *_ in STARTS].index(key))

    def _start_entry(self):
        return STARTS[max(self.start_box.currentIndex(), 0)] if hasattr(self, "start_box") \
            else STARTS[0]

    def _on_start(self) -> None:
        self._pause()
        _key, start, _label, _text = self._start_entry()
        self.run.set_start(start)
        self.start_item.setData([start[0]], [start[1]])
        self._announced = ""
        self._update_view(redraw_surface=True)

    def next_question(self):
        return predict.descent_question(self.run)

    def step(self, redraw: bool = True) -> None:
        """One epoch: one full-batch gradient step by the engine."""
        if self.run.stop_reason is not None:
            self._pause()
            return
        if self.run.epoch >= MAX_EPOCHS:
            self._pause()
            self.show_status(f"Stopped at {MAX_EPOCHS} epochs: press Reset to start again.", 6000)
            return
        if self.ask_first(self.step):
            return
        self.run.step()
        if redraw:
            self._update_view(redraw_surface=True)

    def step_back(self) -> None:
        if self.run.back():
            self._update_view(redraw_surface=True)

    def reset(self) -> None:
        self.run.reset()
        self.clear_status()   # "Diverging… learning rate 100" is about the run just reset
        self._update_view(redraw_surface=True)

    def _pause(self) -> None:
        if self.playback is not None and self.playback.is_playing():
            self.playback.set_playing(False)

    def _on_play(self, playing: bool) -> None:
        if playing:
            self.timer.start(self._interval_ms())
        else:
            self.timer.stop()
            self._update_view(redraw_surface=True)

    def _interval_ms(self) -> int:
        rate = STEPS_PER_SECOND * (self.playback.speed() if self.playback else 1.0)
        return max(30, int(1000 / rate))

    def _tick(self) -> None:
        rate = STEPS_PER_SECOND * self.playback.speed()
        n = max(1, round(rate * self._interval_ms() / 1000))
        for _ in range(n):
            self.step(redraw=False)
            if not self.playback.is_playing():
                break
        now = time.monotonic()
        redraw = now - self._last_surface >= SURFACE_REDRAW_S
        self._update_view(redraw_surface=redraw)
        if self.verdict[0] in ("converged", "stopped"):
            self._pause()

    # --- drawing ----------------------------------------------------------------------------
    def _update_view(self, redraw_surface: bool) -> None:
        run = self.run
        path = run.path_array()                                             # (K + 1, 3)
        w1, w2, b = run.weights
        lr = run.learning_rate
        self.next_grad = run.next_gradient()
        g1, g2, gb = self.next_grad
        n1, n2 = w1 - lr * g1, w2 - lr * g2
        if redraw_surface:
            self._draw_surface(np.vstack([path, [[n1, n2, b]]]), b)
        self.path_item.setData(path[:, 0], path[:, 1])
        self.current_item.setData([w1], [w2])
        self._draw_next_step()

        epochs = np.arange(len(run.losses))
        losses = np.asarray(run.losses)
        self.loss_curve.setData(epochs, losses)
        self.loss_now.setData([run.epoch], [losses[-1]])
        self.loss_now.setToolTip(f"epoch {run.epoch}: loss {fmt(losses[-1])}")
        self.loss_plot.plot_item.setXRange(0, max(10, run.epoch), padding=0.02)
        self.verdict = surfaces.descent_verdict(run.losses, lr, self.best[3], run.stop_reason,
                                                start_text=self._start_entry()[3])
        self._show_numbers()

    def _draw_next_step(self) -> None:
        """The arrow from "now" to where the next step lands, at least MIN_ARROW_PX long."""
        w1, w2, _b = self.run.weights
        lr = self.run.learning_rate
        g1, g2, _gb = self.next_grad
        n1, n2 = w1 - lr * g1, w2 - lr * g2
        if abs(n1 - w1) + abs(n2 - w2) > 1e-12:
            sy, sx = self._screen_delta(n1 - w1, n2 - w2)
            length = math.hypot(sx, sy)
            stretch = max(1.0, MIN_ARROW_PX / max(length, 1e-9))
            e1, e2 = w1 + stretch * (n1 - w1), w2 + stretch * (n2 - w2)
            self.next_item.setData([w1, e1], [w2, e2])
            self.arrow.setStyle(angle=180 - math.degrees(math.atan2(sy, sx)))
            self.arrow.setPos(e1, e2)
            self.arrow.show()
            self.arrow_tip = (e1, e2)
        else:
            self.next_item.setData([], [])
            self.arrow.hide()
            self.arrow_tip = None

    def _screen_delta(self, dx: float, dy: float) -> tuple[float, float]:
        """(dy, dx) in screen pixels, for the arrow head's angle (axes are not square)."""
        vb = self.map.plot_item.getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        w, h = max(vb.width(), 1.0), max(vb.height(), 1.0)
        return dy / max(y1 - y0, 1e-9) * h, dx / max(x1 - x0, 1e-9) * w

    def _draw_surface(self, points: np.ndarray, b: float) -> None:
        self._last_surface = time.monotonic()
        self.extent = surfaces.path_extent(points, BASE_EXTENT)
        lo1, hi1, lo2, hi2 = self.extent
        w1s = np.linspace(lo1, hi1, GRID)
        w2s = np.linspace(lo2, hi2, GRID)
        self.surface = surfaces.loss_surface(self.run.data.x, self.run.data.y, w1s, w2s, b)
        vmin = float(np.min(self.surface))
        # colours spread over the lower three quarters; the steep walls saturate yellow
        vmax = float(np.quantile(self.surface, 0.75))
        if vmax <= vmin:
            vmax = vmin + 1e-6
        self.image.setImage(self.surface, levels=(vmin, vmax), autoLevels=False)
        self.slice_best = surfaces.slice_minimum(self.run.data.x, self.run.data.y, b)
        self.best_item.setData([self.slice_best[0]], [self.slice_best[1]])
        self.best_item.setToolTip(
            f"lowest loss with b = {fmt(b)}: {fmt(self.slice_best[2])} at w1 = "
            f"{fmt(self.slice_best[0])}, w2 = {fmt(self.slice_best[1])}. The lowest loss of "
            f"all, {fmt(self.best[3])}, needs b = {fmt(self.best[2])} (w1 = {fmt(self.best[0])}, "
            f"w2 = {fmt(self.best[1])}).")
        # pixel j is centred on grid value j: half a cell of margin on every side
        d1, d2 = (hi1 - lo1) / (GRID - 1), (hi2 - lo2) / (GRID - 1)
        self.image.setRect(QRectF(lo1 - d1 / 2, lo2 - d2 / 2, hi1 - lo1 + d1, hi2 - lo2 + d2))
        coarse = self.surface[::CONTOUR_STRIDE, ::CONTOUR_STRIDE]
        levels = np.linspace(vmin, vmax, N_CONTOURS + 2)[1:-1]
        # isocurves live in image pixels; stretch the coarse grid back over the full image
        sx = (GRID - 1) / max(coarse.shape[1] - 1, 1)
        sy = (GRID - 1) / max(coarse.shape[0] - 1, 1)
        to_pixels = QTransform(sx, 0.0, 0.0, sy, 0.5, 0.5)   # coarse index → pixel centre
        for iso, level in zip(self.contours, levels):
            iso.setData(coarse, level=float(level))
            iso.setTransform(to_pixels)
        self.legend.set_range(vmin, vmax)
        self.legend.set_label(f"log loss over (w1, w2) with b held at {fmt(b)}   (yellow: "
                              f"≥ {fmt(vmax)}; white lines: equal loss)")
        item = self.map.plot_item
        item.setXRange(lo1, hi1, padding=0)
        item.setYRange(lo2, hi2, padding=0)

    def _show_numbers(self) -> None:
        run = self.run
        w1, w2, b = run.weights
        lr = run.learning_rate
        g1, g2, gb = self.next_grad
        loss = run.losses[-1]
        n = len(run.data)
        self.epoch_label.setText(f"epoch {run.epoch}")
        self.epoch_label.setToolTip(f"Full-batch gradient descent: every step uses all {n} "
                                    f"people, so one step is one epoch.")
        self.weights_label.setText(f"w1 = {fmt(w1)}  w2 = {fmt(w2)}  b = {fmt(b)}")
        self.forward_label.setText("① forward pass, ŷ = σ(w1·age/100 + w2·afford. + b):")
        self.weights_label.setToolTip(f"the weights after {run.epoch} epochs, started at "
                                      f"{self._start_entry()[3]}")
        self.loss_label.setText(f"   L = −(1/{n}) Σ[y·log ŷ + (1−y)·log(1−ŷ)] = {fmt(loss)}")
        self.loss_label.setToolTip(
            f"L = −(1/{n}) Σ [y·log ŷ + (1 − y)·log(1 − ŷ)], ŷ = σ(w1·age/100 + w2·afford. + b)"
            f" = {fmt(loss)}   (best possible {fmt(self.best[3])})")
        self.grad_label.setText(
            "② derivatives at these weights:\n"
            f"   ∂L/∂w1 = (1/{n}) Σ(ŷ−y)·age/100 = {fmt(g1)}\n"
            f"   ∂L/∂w2 = (1/{n}) Σ(ŷ−y)·afford. = {fmt(g2)}\n"
            f"   ∂L/∂b  = (1/{n}) Σ(ŷ−y)         = {fmt(gb)}")
        self.grad_label.setToolTip(
            "The gradient at the current weights (the engine's backward pass):\n"
            f"∂L/∂w1 = (1/{n}) Σ (ŷ − y)·age/100 = {fmt(g1)}\n"
            f"∂L/∂w2 = (1/{n}) Σ (ŷ − y)·affordability = {fmt(g2)}\n"
            f"∂L/∂b = (1/{n}) Σ (ŷ − y) = {fmt(gb)}")
        updates = [(name, w, g) for name, w, g in (("w1", w1, g1), ("w2", w2, g2), ("b", b, gb))]
        self.update_label.setText(f"③ new weights, w ← w − η·∂L/∂w (η = {fmt(lr)}):\n" + "\n".join(
            f"   {name:<2} ← {fmt(w)} − {fmt(lr)}·{paren(g)} = {fmt(w - lr * g)}"
            for name, w, g in updates))
        self.update_label.setToolTip("w ← w − η·∂L/∂w with η = " + fmt(lr) + ":\n" + "\n".join(
            f"{name} ← {fmt(w)} − {fmt(lr)}·{paren(g)} = {fmt(w - lr * g)}"
            for name, w, g in updates))
        key = self._start_entry()[0]
        notebook = run.losses[0] if key == "notebook" else run.loss_at(*surfaces.COURSE_START)
        notes = run.losses[0] if key == "notes" else run.loss_at(*surfaces.NOTES_START)
        self.relation_label.setText(
            f"The notes' slide gets loss {fmt(surfaces.NOTES_LOSS)} from weights picked at "
            f"random; the course notebook starts at w1 = w2 = 1, b = 0 and gets "
            f"{fmt(notebook)}. Same formula, other weights: the Start box offers both "
            f"(w1 = 13, w2 = 5.6, b = 2 gives {fmt(notes)}).")
        kind, text = self.verdict
        self.message = text
        self.verdict_label.setText(text)
        self.verdict_label.setStyleSheet(
            f"background: {VERDICT_STYLE.get(kind, '#eef2f6')}; border: 1px solid #d5dae1; "
            f"border-radius: 4px; padding: 4px 6px;")
        if kind in ("diverging", "stopped") and self._announced != kind:
            self.show_status(text, 8000)     # once per episode, not on every step
        self._announced = kind

    # --- lifecycle ----------------------------------------------------------------------------
    def deactivate(self) -> None:
        self._pause()
        self.timer.stop()
        super().deactivate()

    def shutdown(self) -> None:
        self.timer.stop()
        super().shutdown()
