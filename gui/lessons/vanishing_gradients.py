"""Vanishing and exploding gradients (tutorial 35): the gradient's size at every layer of a
deep dense network and at every time step of an RNN, then clipping an exploding RNN.

The numbers come from core.teaching.gradient_flow (one traced training step of each network,
computed in a worker: the engine may compile kernels). Playback replays the backward pass:
each step reveals the next layer (and the next time step) going back from the output, in
the order backprop computes them. Both charts have log-scale y axes labelled 10⁻⁶ style.
The clipping part trains the same exploding SimpleRNN with and without `clipnorm` in one
TrainingSession and draws each run's loss and update size per weight update.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton,
                               QWidget)

from core.teaching import gradient_flow as gf
from core.teaching.runs import RunStore
from gui.lessons.base import Lesson
from gui.training_worker import TrainingSession, TrainingTask
from gui.widgets.colors import BACKWARD_COLOR
from gui.widgets.lazy_tab import LazyTab
from gui.widgets.plots import LegendPlot

MEASURES = {"weights": "weight gradients", "signal": "error signals"}
CLIP_BUTTON = "Train: clipping off vs on"
#: the two clipping runs: (key, legend, clipnorm, colour, line style)
CLIP_RUNS = (("off", "clipnorm off", None, "#d95f02", Qt.PenStyle.SolidLine),
             ("on", f"clipnorm = {gf.CLIP_NORM:g}", gf.CLIP_NORM, "#1b63a5",
              Qt.PenStyle.DashLine))
ERROR_STYLE = "color: #b00020; font-weight: 600;"


def compute_flows(activation: str, init: str):
    """Worker thread: both profiles for one setting."""
    return gf.dense_gradients(activation, init), gf.rnn_gradients(init)


class PowerOfTenAxis(pg.AxisItem):
    """An axis whose values are log10 of the quantity: ticks read 10⁻⁶, 10⁰, 10³."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # its values are exponents, which an SI prefix ("x0.001") would misname; and the
        # prefix re-typeset the label at every change of range, as the lesson opens too
        self.enableAutoSIPrefix(False)

    def tickSpacing(self, minVal, maxVal, size):
        span = max(maxVal - minVal, 1e-9)
        # whole decades only, at least ~30 px apart so small charts stay legible
        major = max(1, math.ceil(span / max(2.0, min(6.0, size / 30.0))))
        return [(float(major), 0.0)]

    def tickStrings(self, values, scale, spacing):
        return [gf.power_of_ten(round(v)) if abs(v - round(v)) < 1e-6 else "" for v in values]


def _log10(values) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    return np.log10(np.maximum(v, gf.TINY))


def _value_lines(unit: str, values: np.ndarray, per_line: int = 5) -> str:
    """Every number of a chart for its tooltip: "layer 1: 3.2 × 10⁻⁶ · layer 2: …"."""
    items = [f"{unit} {i}: {gf.readable(v)}" for i, v in enumerate(values, 1)]
    return "\n".join(" · ".join(items[i:i + per_line]) for i in range(0, len(items), per_line))


def _log_plot(x_label: str, y_label: str, legend_columns: int = 0) -> LegendPlot:
    plot = LegendPlot(x_label, y_label, legend_columns)
    axis = PowerOfTenAxis("left")
    axis.setPen(pg.mkPen("#5b626c"))
    axis.setTextPen(pg.mkPen("#1d232b"))
    plot.plot_item.setAxisItems({"left": axis})
    plot.plot_item.setLabel("left", y_label, color="#1d232b")
    plot.plot_item.setMouseEnabled(x=False, y=False)
    plot.setMinimumHeight(170)
    return plot


class VanishingGradientsLesson(Lesson):
    title = "Vanishing and exploding gradients"
    subtitle = ("How big is the gradient at each layer of a deep network and at each time step "
                "of an RNN? Change the activation and the initial weights, replay the backward "
                "pass, then tame an exploding RNN with clipping.")
    help_name = "vanishing_gradients"
    course_tutorials = (35,)
    explanation_collapsed_by_default = True

    #: new gradient profiles are on screen
    flows_shown = Signal()
    #: the clipping comparison ended
    clipping_finished = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.layer_flow: gf.LayerFlow | None = None
        self.step_norms: np.ndarray | None = None
        self.revealed = 0               # backward steps shown; the whole profile when complete
        self._request = 0               # the newest computation; older results are dropped
        self.session: TrainingSession | None = None
        self.store = RunStore("clip")
        self.clip_runs: dict[str, object] = {}
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._advance)

        visual = QWidget()
        grid = QGridLayout(visual)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(4)

        self.layer_plot = _log_plot("layer (1 = next to the input)", "gradient size")
        self.layer_tip = ("One bar per layer: the size (norm, √Σ g²) of the gradient "
                          "backprop computed there, on a log scale: each grid line is ten "
                          "times the one below.")
        self.layer_plot.setToolTip(self.layer_tip)
        self.layer_bars = pg.BarGraphItem(x=[], height=[], y0=0, width=0.7,
                                          brush=pg.mkBrush(BACKWARD_COLOR),
                                          pen=pg.mkPen("#5d1f47"))
        self.layer_plot.plot_item.addItem(self.layer_bars)
        self.layer_plot.plot_item.setXRange(0.4, gf.DEPTH + 0.6, padding=0)
        self.step_plot = _log_plot("time step (1 = the oldest input)", "gradient size")
        self.step_tip = ("SimpleRNN (tanh), 30 steps, the loss reads only the last step: "
                         "the size of the gradient arriving at each step's hidden state, "
                         "‖∂L/∂hₜ‖ = √Σ g², on a log scale.")
        self.step_plot.setToolTip(self.step_tip)
        self.step_curve = self.step_plot.plot_item.plot(
            [], [], pen=pg.mkPen(BACKWARD_COLOR, width=2), symbol="o", symbolSize=6,
            symbolBrush=pg.mkBrush(BACKWARD_COLOR), symbolPen=None)
        self.step_plot.plot_item.setXRange(0.5, gf.RNN_STEPS + 0.5, padding=0)

        self.layer_title = self._caption("Deep network: 10 Dense layers of 32")
        self.step_title = self._caption("RNN: one SimpleRNN(16) through 30 time steps")
        self.layer_sentence = self._sentence("Layer sentence")
        self.step_sentence = self._sentence("Time-step sentence")
        grid.addWidget(self.layer_title, 0, 0)
        grid.addWidget(self.step_title, 0, 1)
        grid.addWidget(self.layer_plot, 1, 0)
        grid.addWidget(self.step_plot, 1, 1)
        grid.addWidget(self.layer_sentence, 2, 0)
        grid.addWidget(self.step_sentence, 2, 1)

        self.clip_title = self._caption(
            f"Exploding gradients and clipping: the RNN with large recurrent weights (×2), "
            f"SGD learning rate {gf.CLIP_LEARNING_RATE:g}, learning to add the first three "
            f"of 30 inputs")
        self.clip_title.setWordWrap(True)
        grid.addWidget(self.clip_title, 3, 0, 1, 2)
        # built at the first training (two log charts cost ~40 ms of the lesson's opening)
        self.clip_curves: dict[str, tuple] = {}
        self.clip_charts = LazyTab(self._build_clip_charts, placeholder=(
            "The loss and the size of every weight update of both runs appear here, on log "
            "scales: clipnorm off (orange, solid) and clipnorm = "
            f"{gf.CLIP_NORM:g} (blue, dashed)."))
        self.clip_charts.setMinimumHeight(170)
        grid.addWidget(self.clip_charts, 4, 0, 1, 2)
        self.clip_message = self.make_message_label()
        self.clip_message.setText(f"Press “{CLIP_BUTTON}” to train this RNN twice and compare.")
        # the button sits by the charts it fills: the controls bar stays narrow enough for
        # the main window's centre at 1280 px
        self.clip_button = QPushButton(CLIP_BUTTON)
        self.clip_button.setToolTip(
            f"Train the exploding RNN twice, {gf.CLIP_EPOCHS} epochs each: plain SGD, and SGD "
            f"with clipnorm = {gf.CLIP_NORM:g}")
        self.clip_button.setAccessibleName("Train with and without clipping")
        self.clip_button.clicked.connect(self.toggle_clipping)
        clip_row = QHBoxLayout()
        clip_row.setSpacing(8)       # its own: the grid's is 0, which glued the text to the button
        clip_row.addWidget(self.clip_button, 0, Qt.AlignmentFlag.AlignTop)
        clip_row.addWidget(self.clip_message, 1)
        self.add_pace_control(None, layout=clip_row)  # slower shows the explosion land
        grid.addLayout(clip_row, 5, 0, 1, 2)
        grid.setRowStretch(1, 3)
        grid.setRowStretch(4, 2)
        self.set_visual(visual)

        self.add_playback()
        self.playback.play_toggled.connect(self._on_play)
        self.playback.step_forward.connect(self.step_forward)
        self.playback.step_back.connect(self.step_back)
        self.playback.reset.connect(self.reset_replay)
        self.playback.speed_changed.connect(lambda _: self._set_interval())
        self.playback.play_button.setToolTip(
            "Replay the backward pass: layer by layer and step by step from the output (Space)")
        self.activation_box = self._combo(gf.ACTIVATIONS, "sigmoid")
        self.add_control(self.activation_box, "Activation:",
                         "The hidden layers' activation (the RNN always uses tanh)",
                         "Activation")
        self.init_box = self._combo([f"{k} (×{v:g})" for k, v in gf.INIT_SCALES.items()],
                                    "Glorot (×1)")
        self.add_control(self.init_box, "Initial weights:",
                         "Keras's default initial weights (Glorot, and orthogonal for the "
                         "RNN's recurrent weights) times this scale", "Initial weights")
        self.measure_box = self._combo(list(MEASURES.values()), MEASURES["weights"])
        self.add_control(self.measure_box, "Bars:",
                         "‖∂L/∂W‖: how much each layer's weights are pushed; ‖∂L/∂z‖: the "
                         "backward signal arriving at the layer", "Bars show")
        self.add_controls_stretch()
        self.activation_box.currentIndexChanged.connect(lambda _: self.recompute())
        self.init_box.currentIndexChanged.connect(lambda _: self.recompute())
        self.measure_box.currentIndexChanged.connect(lambda _: self._redraw())
        self.recompute()

    # --- small builders ------------------------------------------------------------------
    def _caption(self, text: str) -> QLabel:
        label = QLabel(text, self)
        font = label.font()
        font.setBold(True)
        label.setFont(font)
        return label

    def _sentence(self, name: str) -> QLabel:
        label = self.make_message_label()
        label.setAccessibleName(name)
        label.setMinimumHeight(label.fontMetrics().lineSpacing() * 2 + 4)
        label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        return label

    def _combo(self, items, current: str) -> QComboBox:
        box = QComboBox(self)
        box.addItems(list(items))
        box.setCurrentText(current)
        return box

    # --- settings ---------------------------------------------------------------------------
    def activation(self) -> str:
        return self.activation_box.currentText()

    def init(self) -> str:
        return self.init_box.currentText().split(" ")[0]

    def measure(self) -> str:
        return list(MEASURES)[self.measure_box.currentIndex()]

    def total_steps(self) -> int:
        return max(gf.DEPTH, gf.RNN_STEPS)

    # --- gradient profiles ------------------------------------------------------------------
    def recompute(self) -> None:
        """Trace one step of both networks for the chosen setting, off the GUI thread."""
        self._request += 1
        request = self._request
        self.layer_sentence.setText("Computing the gradients…")
        self.step_sentence.setText("Computing the gradients…")
        self.start_worker(compute_flows, self.activation(), self.init(),
                          on_finished=lambda result, r=request: self._on_flows(r, result),
                          on_failed=self._on_flows_failed)

    def _on_flows(self, request: int, result) -> None:
        if request != self._request:      # the learner changed the setting meanwhile
            return
        self.layer_flow, self.step_norms = result
        if not self.playback.is_playing():
            self.revealed = self.total_steps()
        self._redraw()
        self.flows_shown.emit()

    def _on_flows_failed(self, exc) -> None:
        text = f"The gradients could not be computed: {exc}"
        for label in (self.layer_sentence, self.step_sentence):
            label.setStyleSheet(ERROR_STYLE)
            label.setText(text)

    def layer_values(self) -> np.ndarray:
        return self.layer_flow.values(self.measure())

    def _redraw(self) -> None:
        if self.layer_flow is None or self.step_norms is None:
            return
        layers, steps = self.layer_values(), self.step_norms
        shown_layers = min(self.revealed, len(layers))
        shown_steps = min(self.revealed, len(steps))
        self._draw_layers(layers, shown_layers)
        self._draw_steps(steps, shown_steps)
        for label in (self.layer_sentence, self.step_sentence):
            label.setStyleSheet("")
        self.layer_plot.setToolTip(self.layer_tip + "\n" + _value_lines("layer", layers))
        self.step_plot.setToolTip(self.step_tip + "\n" + _value_lines("step", steps))
        what = "weight gradient" if self.measure() == "weights" else "error signal"
        if shown_layers == len(layers):
            self.layer_sentence.setText(gf.describe_layers(layers, what))
        else:
            self.layer_sentence.setText(self._progress_text(
                "layer", len(layers) - shown_layers + 1, layers, shown_layers))
        if shown_steps == len(steps):
            self.step_sentence.setText(gf.describe_steps(steps))
        else:
            self.step_sentence.setText(self._progress_text(
                "step", len(steps) - shown_steps + 1, steps, shown_steps))

    @staticmethod
    def _progress_text(unit: str, at: int, values: np.ndarray, shown: int) -> str:
        if shown == 0:
            return ("Press Play (or →) to watch backprop compute the gradient, from the "
                    f"output back to {unit} 1.")
        return (f"Backprop has reached {unit} {at}: gradient size "
                f"{gf.readable(values[at - 1])} there, against {gf.readable(values[-1])} "
                f"at {unit} {len(values)}, next to the output.")

    @staticmethod
    def _y_range(plot: LegendPlot, logs: np.ndarray) -> tuple[float, float]:
        low, high = math.floor(float(np.min(logs))) - 0.5, math.ceil(float(np.max(logs))) + 0.3
        plot.plot_item.setYRange(low, high, padding=0)
        return low, high

    def _draw_layers(self, values: np.ndarray, shown: int) -> None:
        logs = _log10(values)
        low, _ = self._y_range(self.layer_plot, logs)
        n = len(values)
        x = np.arange(n - shown + 1, n + 1, dtype=float)
        self.layer_bars.setOpts(x=x, height=logs[n - shown:] - low, y0=low)

    def _draw_steps(self, values: np.ndarray, shown: int) -> None:
        logs = _log10(values)
        self._y_range(self.step_plot, logs)
        t = len(values)
        x = np.arange(t - shown + 1, t + 1, dtype=float)
        self.step_curve.setData(x, logs[t - shown:])

    # --- playback: replay the backward pass ---------------------------------------------------
    def _set_interval(self) -> None:
        self._timer.setInterval(int(max(40, 250 / max(self.playback.speed(), 0.1))))

    def _on_play(self, playing: bool) -> None:
        if playing:
            if self.revealed >= self.total_steps():
                self.revealed = 0
                self._redraw()
            self._set_interval()
            self._timer.start()
        else:
            self._timer.stop()

    def _advance(self) -> None:
        self.step_forward()
        if self.revealed >= self.total_steps():
            self.playback.set_playing(False)

    def step_forward(self) -> None:
        if self.revealed >= self.total_steps():
            self.revealed = 0        # start a new replay
        self.revealed += 1
        self._redraw()

    def step_back(self) -> None:
        self.revealed = max(0, self.revealed - 1)
        self._redraw()

    def reset_replay(self) -> None:
        self.playback.set_playing(False)
        self.revealed = 0
        self._redraw()

    # --- clipping -------------------------------------------------------------------------------
    def _build_clip_charts(self) -> QWidget:
        """The clipping runs' loss and update-size charts, side by side."""
        pane = QWidget()
        row = QHBoxLayout(pane)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(10)          # the grid's spacing: the charts line up with those above
        self.loss_plot = _log_plot("weight update", "loss", legend_columns=2)
        self.loss_plot.setToolTip("Mean squared error after each weight update, log scale.")
        self.update_plot = _log_plot("weight update", "update size", legend_columns=2)
        self.update_plot.setToolTip(
            "How far one update moved all the weights: √Σ (w_after − w_before)². With "
            f"clipnorm each gradient is scaled to norm ≤ {gf.CLIP_NORM:g} first, so each "
            f"tensor moves at most learning rate × clipnorm = {gf.CLIP_LEARNING_RATE:g}.")
        for key, legend, _, color, style in CLIP_RUNS:
            pen = pg.mkPen(color, width=2, style=style)
            loss = self.loss_plot.plot_item.plot([], [], pen=pen)
            upd = self.update_plot.plot_item.plot([], [], pen=pen)
            self.loss_plot.add_legend_entry(loss, legend)
            self.update_plot.add_legend_entry(upd, legend)
            self.clip_curves[key] = (loss, upd)
        updates = gf.CLIP_EPOCHS * math.ceil(len(gf.memory_task()[0]) / gf.CLIP_BATCH)
        for plot in (self.loss_plot, self.update_plot):   # the whole run's frame, before it runs
            plot.plot_item.setXRange(0, updates, padding=0.02)
            plot.plot_item.setYRange(-2, 4, padding=0)
            plot.plot_item.enableAutoRange(axis="y")
        row.addWidget(self.loss_plot)
        row.addWidget(self.update_plot)
        return pane

    def toggle_clipping(self) -> None:
        if self.session is not None and self.session.is_running():
            self.session.stop()
            return
        self.start_clipping()

    def start_clipping(self, epochs: int = gf.CLIP_EPOCHS) -> None:
        x, y = gf.memory_task()
        tasks = []
        self.clip_runs = {}
        for key, legend, clipnorm, _, _ in CLIP_RUNS:
            run = self.store.new_run({"clipnorm": clipnorm or "off"}, name=legend)
            self.clip_runs[key] = run
            tasks.append(TrainingTask(run, gf.clipping_network(clipnorm), x, y, epochs=epochs,
                                      batch_size=gf.CLIP_BATCH, seed=0,
                                      callbacks=(gf.UpdateSize(),)))
        self.clip_charts.content()
        for loss, upd in self.clip_curves.values():
            loss.setData([], [])
            upd.setData([], [])
        self.session = TrainingSession(tasks, parent=self)
        self.session.updated.connect(lambda _: self._draw_clipping())
        self.session.finished.connect(self._on_clipping_done)
        self.clip_message.setStyleSheet("")
        self.clip_message.setText("Training both RNNs…")
        self.clip_button.setText("Stop training")
        self.start_session(self.session)

    def _draw_clipping(self) -> None:
        for key, run in self.clip_runs.items():
            table = run.table("batch")
            if not len(table):
                continue
            step = np.asarray(table.column("step"), dtype=float)
            loss, upd = self.clip_curves[key]
            for curve, name in ((loss, "loss"), (upd, "update_size")):
                values = np.asarray(table.get(name), dtype=np.float64)
                ok = np.isfinite(values)
                curve.setData(step[ok], _log10(values[ok]))

    def clipping_summary(self) -> str:
        parts = []
        for key, legend, *_ in CLIP_RUNS:
            run = self.clip_runs.get(key)
            if run is None:
                continue
            table = run.table("batch")
            upd = np.asarray(table.get("update_size"), dtype=np.float64)
            loss = np.asarray(table.get("loss"), dtype=np.float64)
            biggest = gf.readable(np.nanmax(upd)) if len(upd) else "—"
            if run.status == "diverged":
                parts.append(f"{legend}: the gradient exploded, updates up to {biggest} "
                             f"threw the weights away and the loss blew up — training "
                             f"stopped after {len(loss)} updates.")
            elif len(loss):
                parts.append(f"{legend}: every update at most {biggest}; loss "
                             f"{gf.readable(loss[-1])} after {len(loss)} updates"
                             + (f" ({run.stop_reason})." if run.stop_reason else "."))
        return "  ".join(parts)

    def _on_clipping_done(self) -> None:
        self._draw_clipping()
        self.clip_button.setText(CLIP_BUTTON)
        self.clip_message.setText(self.clipping_summary())
        self.clipping_finished.emit()

    # --- lifecycle ------------------------------------------------------------------------------
    def deactivate(self) -> None:
        self.playback.set_playing(False)
        super().deactivate()

    def shutdown(self) -> None:
        self._timer.stop()
        super().shutdown()
