"""Live training curves for any number of runs, TensorBoard's scalar view in one widget.

    [X axis: Step ▾] [Show: batches + epochs ▾] [Smoothing ──○── 0.6]   style key
    ┌ Loss ──────────────────────┐ ┌ Accuracy ──────────────────┐
    │ per batch: raw (faint) +   │ │                            │
    │ smoothed; per epoch: train │ │   one colour per run       │
    │ ●── and validation ■┄┄     │ │                            │
    └────────────────────────────┘ └────────────────────────────┘

Every series is ONE pyqtgraph PlotDataItem updated with setData on the run's own column
arrays (no per-point items), drawn with clip-to-view and peak downsampling, and redrawn at
most every `redraw_ms`: a run of a million steps costs the window no more per second than
one of a hundred. Smoothing (core.teaching.smoothing, TensorBoard's debiased EMA) is kept up to date
incrementally and applies to the per-batch curves; epoch values are already averages.
Hovering shows every visible run's exact values at that x.

API for lessons::

    plot = TrainingPlot(metrics=("loss", "accuracy"))
    plot.add_run(run)              # a core.teaching.runs.Run; its colour comes from run.color_index
    plot.update_runs([run.id])     # after its tables grew (TrainingSession.updated)
    plot.set_run_visible(run.id, False)
    plot.set_x_axis("time"); plot.set_smoothing(0.9); plot.set_granularity("epoch")
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QSizePolicy, QSlider,
                               QToolTip, QVBoxLayout, QWidget)

from core.teaching.runs import Run
from core.teaching.smoothing import PeakDecimator, Smoother, check_weight
from gui.app import GUI_GATE
from gui.widgets.numbers import fmt, mono_font

__all__ = ["TrainingPlot", "RUN_COLORS", "run_color", "X_AXIS_LABELS", "METRIC_TITLES"]

#: run colours: distinct for colour-blind viewers and kept off the forward (green) and
#: backward (purple) accents; a run is always also named (table, hover), never colour only
RUN_COLORS = ("#0077BB", "#EE7733", "#555555", "#33BBEE", "#CC3311", "#009988", "#8C564B",
              "#BCBD22", "#1F3A93", "#A6761D")

X_AXIS_LABELS = {"step": "Step (weight updates)", "epoch": "Epoch", "time": "Training time (s)"}
METRIC_TITLES = {"loss": "Loss", "accuracy": "Accuracy"}
GRANULARITIES = {"both": "batches + epochs", "batch": "batches only", "epoch": "epochs only"}
RAW_ALPHA = 60          # of 255: the raw per-batch line stays visible but faint
SYMBOLS_UP_TO = 150     # epoch points get markers while there are few of them
DISPLAY_BLOCKS = 2000   # a per-batch curve is drawn from at most ~2 points per block
#: beyond this many raw points a run's raw line fades (down to RAW_ALPHA_MIN): SGD's
#: thousands of single-example losses would otherwise fill the chart with a solid band
DENSE_FROM, RAW_ALPHA_MIN = 300, 16
#: a dense run (over DENSE_FROM points) with many updates per epoch is smoothed over at
#: least this fraction of an epoch, whatever the slider says, so its smoothed line shows the
#: trend, not one example's luck
MIN_SMOOTHING_EPOCHS = 0.25
MAX_AUTO_WEIGHT = 0.995


def run_color(run: Run) -> QColor:
    return QColor(RUN_COLORS[run.color_index % len(RUN_COLORS)])


def raw_alpha(points: int) -> int:
    """How opaque a run's raw per-batch line is: RAW_ALPHA while it has few points, fading
    as they crowd (the smoothed line on top carries the story)."""
    if points <= DENSE_FROM:
        return RAW_ALPHA
    return max(RAW_ALPHA_MIN, round(RAW_ALPHA * DENSE_FROM / points))


def run_smoothing(weight: float, updates_per_epoch: int | None) -> float:
    """The smoothing weight a run's per-batch line gets: the slider's `weight`, raised for a
    run with many updates per epoch so the average spans at least MIN_SMOOTHING_EPOCHS of an
    epoch (an EMA of weight w averages about 1 / (1 − w) points). 0 (smoothing off) stays 0."""
    if weight <= 0 or not updates_per_epoch:
        return weight
    span = MIN_SMOOTHING_EPOCHS * updates_per_epoch
    return max(weight, min(MAX_AUTO_WEIGHT, 1.0 - 1.0 / span)) if span > 1 else weight


class _BatchSeries:
    """One run's per-batch metric: its smoother state and smoothed values so far."""

    def __init__(self, weight: float):
        self.reset(weight)

    def reset(self, weight: float) -> None:
        self.smoother = Smoother(weight)
        self.values = np.empty(0)
        self.n = 0

    def update(self, raw: np.ndarray) -> np.ndarray:
        if len(raw) < self.n:        # the table was replaced: start over
            self.reset(self.smoother.weight)
        if len(raw) > self.n:
            new = self.smoother.extend(raw[self.n:])
            need = len(raw)
            if need > len(self.values):
                grown = np.empty(max(64, 2 * len(self.values), need))
                grown[:self.n] = self.values[:self.n]
                self.values = grown
            self.values[self.n:need] = new
            self.n = need
        return self.values[:self.n]


class _StyleKey(QWidget):
    """Line-style key: which line is raw, smoothed, per-epoch training, validation."""

    ENTRIES = (("raw per batch", "raw"), ("smoothed per batch", "smooth"),
               ("per epoch: training", "train"), ("validation", "val"))

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.setToolTip("How to read the lines. Colour = run (names in the run table and "
                        "when you hover); line style = what is plotted.")
        self.setAccessibleName("Line style key")
        self.setAccessibleDescription(", ".join(e[0] for e in self.ENTRIES))

    def sizeHint(self):
        fm = self.fontMetrics()
        w = sum(fm.horizontalAdvance(t) + 40 for t, _ in self.ENTRIES)
        return QSize(w, fm.height() + 6)

    def paintEvent(self, event):
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = self.fontMetrics()
        x, mid = 0, self.height() / 2
        base = QColor("#3a3f47")
        for text, kind in self.ENTRIES:
            pen = QPen(base, 2)
            if kind == "raw":
                c = QColor(base)
                c.setAlpha(RAW_ALPHA + 30)
                pen = QPen(c, 1)
            elif kind == "val":
                pen.setStyle(Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.drawLine(QPointF(x + 2, mid), QPointF(x + 28, mid))
            if kind == "train":
                p.setBrush(base)
                p.drawEllipse(QPointF(x + 15, mid), 3, 3)
            elif kind == "val":
                p.setPen(QPen(base, 1.5))
                p.setBrush(QColor("white"))
                p.drawRect(QRectF(x + 12, mid - 3, 6, 6))
            p.setPen(self.palette().windowText().color())
            p.drawText(QPointF(x + 32, mid + fm.ascent() / 2 - 1), text)
            x += 32 + fm.horizontalAdvance(text) + 10
        p.end()


class _GatedGraphics(pg.GraphicsLayoutWidget):
    """Repaints while training threads wait (see gui.app.GUI_GATE)."""

    def paintEvent(self, event):
        with GUI_GATE.busy():
            super().paintEvent(event)


class TrainingPlot(QWidget):
    """Loss/accuracy curves of several runs, live. See the module docstring."""

    #: the hover read-out changed (plain text, for status bars and tests)
    hovered = Signal(str)

    def __init__(self, metrics=("loss", "accuracy"), smoothing: float = 0.6,
                 x_axis: str = "step", granularity: str = "both", show_controls: bool = True,
                 redraw_ms: int = 100, parent=None):
        super().__init__(parent)
        self.metrics = tuple(metrics)
        self._weight = float(smoothing)
        self._x_axis = x_axis
        self._granularity = granularity
        self._runs: dict[int, Run] = {}
        self._items: dict[tuple, pg.PlotDataItem] = {}
        self._batch: dict[tuple, _BatchSeries] = {}
        self._decimators: dict[tuple, PeakDecimator] = {}
        self._dirty: set[int] = set()
        self._hover_text = ""
        self._hover_rows: list[dict] = []
        self._plan: tuple[int, int | None] | None = None    # show_plan's epochs, updates/epoch
        self.redraw_count = 0

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)

        bar = QHBoxLayout()
        bar.setSpacing(6)
        self.controls = QWidget(self)
        self.controls.setLayout(bar)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(QLabel("X axis:"))
        self.x_combo = QComboBox()
        for key, text in X_AXIS_LABELS.items():
            self.x_combo.addItem(text, key)
        self.x_combo.setToolTip("Plot against weight updates (steps), epochs (passes over the "
                                "training data) or seconds of training (pauses excluded)")
        self.x_combo.setAccessibleName("X axis")
        bar.addWidget(self.x_combo)
        bar.addWidget(QLabel("Show:"))
        self.granularity_combo = QComboBox()
        for key, text in GRANULARITIES.items():
            self.granularity_combo.addItem(text, key)
        self.granularity_combo.setToolTip(
            "Per batch: the loss of each mini-batch as it is trained on (noisy). Per epoch: the "
            "average over the epoch's batches, and the validation value after it.")
        self.granularity_combo.setAccessibleName("Show per batch or per epoch")
        bar.addWidget(self.granularity_combo)
        bar.addWidget(QLabel("Smoothing:"))
        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setRange(0, 99)
        self.smoothing_slider.setFixedWidth(110)
        self.smoothing_slider.setToolTip(
            "Debiased exponential moving average of the per-batch curves, as in TensorBoard:\n"
            "s_n = Σ wⁿ⁻ⁱ(1−w)·xᵢ / (1 − wⁿ). The raw line stays faint behind it (fainter "
            "the more points it has); a flat line stays flat.\nA run with many updates per "
            f"epoch (stochastic gradient descent) is smoothed over at least a quarter of an "
            f"epoch once it has over {DENSE_FROM} points: w ≥ 1 − 4 / updates per epoch.")
        self.smoothing_slider.setAccessibleName("Smoothing weight")
        bar.addWidget(self.smoothing_slider)
        self.smoothing_label = QLabel()
        self.smoothing_label.setFont(mono_font())
        self.smoothing_label.setMinimumWidth(self.smoothing_label.fontMetrics()
                                             .horizontalAdvance("0.99 ") + 2)
        bar.addWidget(self.smoothing_label)
        bar.addStretch(1)
        lay.addWidget(self.controls)
        self.controls.setVisible(show_controls)

        self.graphics = _GatedGraphics()
        self.graphics.setBackground("w")
        self.graphics.setAccessibleName("Training curves")
        self.graphics.setAccessibleDescription(
            "Curves of " + " and ".join(self.metrics) + " for each run; hover for values")
        self.graphics.setMinimumHeight(160)
        lay.addWidget(self.graphics, 1)
        key_row = QHBoxLayout()
        key_row.setContentsMargins(8, 0, 0, 0)
        self.style_key = _StyleKey()
        key_row.addWidget(self.style_key)
        key_row.addStretch(1)
        lay.addLayout(key_row)
        self.plots: dict[str, pg.PlotItem] = {}
        self.cursors: dict[str, pg.InfiniteLine] = {}
        self.markers: dict[str, pg.ScatterPlotItem] = {}
        first = None
        for i, metric in enumerate(self.metrics):
            # built without pyqtgraph's context menu rather than switched off after (which
            # made and threw one away per plot as the lesson opened)
            plot = self.graphics.addPlot(row=0, col=i, enableMenu=False)
            plot.setTitle(METRIC_TITLES.get(metric, metric.replace("_", " ").title()),
                          color="#1d232b")
            # horizontal lines only: they are what reading a value off the curve needs, and
            # the vertical ones doubled the time of every repaint during training
            plot.showGrid(x=False, y=True, alpha=0.25)
            plot.getViewBox().setMouseEnabled(x=True, y=True)
            plot.setLabel("left", METRIC_TITLES.get(metric, metric))
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setPen(pg.mkPen("#59606b"))
                plot.getAxis(axis).setTextPen(pg.mkPen("#1d232b"))
            # no "×0.001" on accuracy; the hidden top and right axes would re-typeset their
            # empty label for a prefix at every change of range
            for axis in ("left", "bottom", "top", "right"):
                plot.getAxis(axis).enableAutoSIPrefix(False)
            if first is None:
                first = plot
            else:
                plot.setXLink(first)
            cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#9aa1ab", width=1))
            cursor.setVisible(False)
            cursor.setZValue(50)
            plot.addItem(cursor, ignoreBounds=True)
            marker = pg.ScatterPlotItem(size=8, pen=pg.mkPen("w", width=1.5))
            marker.setZValue(60)
            plot.addItem(marker, ignoreBounds=True)
            self.plots[metric] = plot
            self.cursors[metric] = cursor
            self.markers[metric] = marker
        self._update_axis_labels()

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(int(redraw_ms))
        self._timer.timeout.connect(self.refresh)
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse_moved)
        for plot in self.plots.values():
            plot.getViewBox().sigXRangeChanged.connect(self._on_x_range_changed)

        self.x_combo.setCurrentIndex(list(X_AXIS_LABELS).index(x_axis))
        self.granularity_combo.setCurrentIndex(list(GRANULARITIES).index(granularity))
        self.smoothing_slider.setValue(int(round(self._weight * 100)))
        self._show_weight()
        self.x_combo.currentIndexChanged.connect(
            lambda _: self.set_x_axis(self.x_combo.currentData()))
        self.granularity_combo.currentIndexChanged.connect(
            lambda _: self.set_granularity(self.granularity_combo.currentData()))
        self.smoothing_slider.valueChanged.connect(lambda v: self.set_smoothing(v / 100))

    # --- runs -----------------------------------------------------------------------------
    def runs(self) -> list[Run]:
        return list(self._runs.values())

    def show_plan(self, epochs: int, updates_per_epoch: int | None = None) -> None:
        """While no run is drawn, frame the axes a run of `epochs` epochs (of
        `updates_per_epoch` weight updates each) will fill, in the chosen x units, and
        accuracy from 0 to 1; not pyqtgraph's empty 0-1 with ticks at a fifth of an epoch or
        of a weight update. Seconds cannot be planned: that axis shows 0 to 1. The first
        run added hands the axes back to autoscaling."""
        self._plan = (int(epochs), updates_per_epoch)
        self._frame_plan()

    def _frame_plan(self) -> None:
        if self._runs or self._plan is None:
            return
        epochs, per_epoch = self._plan
        x_max = {"epoch": epochs, "step": epochs * per_epoch if per_epoch else None}.get(
            self._x_axis)
        for metric, plot in self.plots.items():
            # unplanned (seconds): 0-1, not the previous axis's extent relabelled
            plot.setXRange(0, max(x_max or 1, 1), padding=0.02)
            if "accuracy" in metric:
                plot.setYRange(0, 1, padding=0.02)

    def add_run(self, run: Run) -> None:
        if run.id in self._runs:
            return
        if not self._runs:                     # the axes the plan framed follow the data now
            for plot in self.plots.values():
                plot.enableAutoRange()
        self._runs[run.id] = run
        color = run_color(run)
        for metric, plot in self.plots.items():
            raw_color = QColor(color)
            raw_color.setAlpha(RAW_ALPHA)
            specs = {
                "raw": dict(pen=pg.mkPen(raw_color, width=1)),
                "smooth": dict(pen=pg.mkPen(color, width=2)),
                "train": dict(pen=pg.mkPen(color, width=2), symbol="o", symbolSize=6,
                              symbolBrush=color, symbolPen=pg.mkPen(color)),
                "val": dict(pen=pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine),
                            symbol="s", symbolSize=6, symbolBrush=pg.mkBrush("w"),
                            symbolPen=pg.mkPen(color, width=1.5)),
            }
            for kind, style in specs.items():
                dense = kind in ("raw", "smooth")
                # per-batch curves hold thousands of points: drawn without antialiasing and
                # downsampled to about one min/max pair per pixel, they paint in a few ms
                item = pg.PlotDataItem(connect="finite", antialias=not dense,
                                       autoDownsampleFactor=1.0 if dense else 5.0, **style)
                item.setZValue({"raw": 1, "smooth": 2, "train": 3, "val": 4}[kind])
                # the raw per-batch line does not set the scale (TensorBoard's "ignore
                # outliers"): one example's huge loss must not flatten every other curve
                plot.addItem(item, ignoreBounds=(kind == "raw"))
                # after addItem, which applies the plot's own (off) settings to the item
                item.setClipToView(True)
                item.setDownsampling(auto=True, method="peak")
                self._items[(run.id, metric, kind)] = item
            self._batch[(run.id, metric)] = _BatchSeries(self._weight)
            for kind in ("raw", "smooth"):
                self._decimators[(run.id, metric, kind)] = PeakDecimator(DISPLAY_BLOCKS)
        self._apply_visibility(run.id)
        self._dirty.add(run.id)
        self.refresh()

    def remove_run(self, run_id: int) -> None:
        self._runs.pop(run_id, None)
        for key in [k for k in self._items if k[0] == run_id]:
            item = self._items.pop(key)
            self.plots[key[1]].removeItem(item)
        for key in [k for k in self._batch if k[0] == run_id]:
            del self._batch[key]
        for key in [k for k in self._decimators if k[0] == run_id]:
            del self._decimators[key]
        self._dirty.discard(run_id)

    def clear(self) -> None:
        for run_id in list(self._runs):
            self.remove_run(run_id)
        self._frame_plan()

    def set_run_visible(self, run_id: int, visible: bool) -> None:
        run = self._runs.get(run_id)
        if run is None:
            return
        run.visible = bool(visible)
        self._apply_visibility(run_id)

    def is_run_visible(self, run_id: int) -> bool:
        run = self._runs.get(run_id)
        return bool(run and run.visible)

    def _apply_visibility(self, run_id: int) -> None:
        run = self._runs[run_id]
        g = self._granularity
        show = {"raw": g in ("both", "batch") and self._weight > 0,
                "smooth": g in ("both", "batch"),
                "train": g in ("both", "epoch"), "val": g in ("both", "epoch")}
        for (rid, _, kind), item in self._items.items():
            if rid == run_id:
                item.setVisible(run.visible and show[kind])

    def update_runs(self, run_ids=None) -> None:
        """The runs' tables grew: redraw them within `redraw_ms` (coalesced)."""
        ids = self._runs.keys() if run_ids is None else run_ids
        self._dirty.update(i for i in ids if i in self._runs)
        if self._dirty and not self._timer.isActive():
            self._timer.start()

    def refresh(self) -> None:
        """Redraw the runs marked dirty now."""
        self._timer.stop()
        dirty, self._dirty = self._dirty, set()
        for run_id in dirty:
            if run_id in self._runs:
                self._draw_run(self._runs[run_id])
        self.redraw_count += 1

    def _draw_run(self, run: Run) -> None:
        xa = self._x_axis
        b, e = run.batches, run.epochs
        bx = b.get(xa)
        ex = e.get(xa)
        for metric in self.metrics:
            raw = b.get(metric)
            # a short curve keeps the slider's exact weight (TensorBoard's numbers)
            weight = (run_smoothing(self._weight, run.updates_per_epoch)
                      if len(raw) > DENSE_FROM else self._weight)
            series = self._batch[(run.id, metric)]
            if series.smoother.weight != weight:
                series.reset(weight)
                self._decimators[(run.id, metric, "smooth")].reset()
            smoothed = series.update(raw)
            self._fade_raw(run, metric, len(raw))
            window = self._zoom_window(metric, bx)
            for kind, y in (("raw", raw), ("smooth", smoothed)):
                # bounded cost per redraw however long the run: the decimated curve, or,
                # zoomed in far enough, the exact points in view
                dec = self._decimators[(run.id, metric, kind)]
                dx, dy = dec.update(bx, y)
                if window is not None:
                    dx, dy = bx[window], y[window]
                self._items[(run.id, metric, kind)].setData(dx, dy)
            for kind, col in (("train", metric), ("val", "val_" + metric)):
                item = self._items[(run.id, metric, kind)]
                y = e.get(col)
                symbol = None if len(y) > SYMBOLS_UP_TO else ("o" if kind == "train" else "s")
                if item.opts.get("symbol") != symbol:
                    item.setSymbol(symbol)
                item.setData(ex, y)

    def _fade_raw(self, run: Run, metric: str, points: int) -> None:
        item = self._items[(run.id, metric, "raw")]
        alpha = raw_alpha(points)
        pen = item.opts["pen"]
        if pen.color().alpha() != alpha:
            color = run_color(run)
            color.setAlpha(alpha)
            item.setPen(pg.mkPen(color, width=1))

    def _zoom_window(self, metric: str, xs: np.ndarray) -> slice | None:
        """The exact points in view when the learner zoomed in (x auto-range off) and they
        are few enough to draw; None otherwise."""
        vb = self.plots[metric].getViewBox()
        if vb.autoRangeEnabled()[0] or len(xs) <= 2 * DISPLAY_BLOCKS:
            return None
        lo, hi = vb.viewRange()[0]
        i0 = max(0, int(np.searchsorted(xs, lo)) - 1)
        i1 = min(len(xs), int(np.searchsorted(xs, hi, side="right")) + 1)
        return slice(i0, i1) if i1 - i0 <= 4 * DISPLAY_BLOCKS else None

    def _on_x_range_changed(self, *_):
        if any(not p.getViewBox().autoRangeEnabled()[0] for p in self.plots.values()):
            self.update_runs()

    # --- view options ---------------------------------------------------------------------
    def x_axis(self) -> str:
        return self._x_axis

    def set_x_axis(self, axis: str) -> None:
        if axis not in X_AXIS_LABELS:
            raise ValueError(f"x axis must be one of {list(X_AXIS_LABELS)}, got {axis!r}")
        self._x_axis = axis
        for dec in self._decimators.values():
            dec.reset()
        if self.x_combo.currentData() != axis:
            self.x_combo.setCurrentIndex(list(X_AXIS_LABELS).index(axis))
        self._update_axis_labels()
        self._dirty.update(self._runs)
        self.refresh()
        for plot in self.plots.values():
            plot.enableAutoRange()
        self._frame_plan()

    def _update_axis_labels(self) -> None:
        for plot in self.plots.values():
            plot.setLabel("bottom", X_AXIS_LABELS[self._x_axis])

    def smoothing(self) -> float:
        return self._weight

    def set_smoothing(self, weight: float) -> None:
        weight = check_weight(weight)   # [0, 1), else a ValueError saying so
        if weight == self._weight:
            return
        self._weight = weight
        slider_value = int(round(weight * 100))
        if self.smoothing_slider.value() != slider_value:
            self.smoothing_slider.blockSignals(True)
            self.smoothing_slider.setValue(slider_value)
            self.smoothing_slider.blockSignals(False)
        self._show_weight()
        for series in self._batch.values():
            series.reset(weight)
        for key, dec in self._decimators.items():
            if key[2] == "smooth":
                dec.reset()
        for run_id in self._runs:
            self._apply_visibility(run_id)
        self._dirty.update(self._runs)
        self.refresh()

    def _show_weight(self) -> None:
        self.smoothing_label.setText(f"{self._weight:.2f}")
        self.smoothing_label.setToolTip(f"smoothing weight w = {self._weight:.2f}")

    def granularity(self) -> str:
        return self._granularity

    def set_granularity(self, granularity: str) -> None:
        if granularity not in GRANULARITIES:
            raise ValueError(f"granularity must be one of {list(GRANULARITIES)}")
        self._granularity = granularity
        if self.granularity_combo.currentData() != granularity:
            self.granularity_combo.setCurrentIndex(list(GRANULARITIES).index(granularity))
        self.smoothing_slider.setEnabled(granularity != "epoch")
        for run_id in self._runs:
            self._apply_visibility(run_id)

    # --- what is drawn (tests, read-outs) ------------------------------------------------
    def curve_data(self, run_id: int, metric: str, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """The (x, y) arrays given to a curve: kind "raw" | "smooth" (per batch),
        "train" | "val" (per epoch)."""
        item = self._items[(run_id, metric, kind)]
        x, y = item.xData, item.yData
        if x is None:
            return np.empty(0), np.empty(0)
        return np.asarray(x), np.asarray(y)

    def curve_item(self, run_id: int, metric: str, kind: str) -> pg.PlotDataItem:
        return self._items[(run_id, metric, kind)]

    # --- hover ------------------------------------------------------------------------------
    def hover_text(self) -> str:
        return self._hover_text

    def hover_rows(self) -> list[dict]:
        return list(self._hover_rows)

    def values_at(self, metric: str, x: float) -> list[dict]:
        """Every visible run's values nearest to `x` on the current x-axis, for `metric`:
        dicts with run, name, series, x, value (and smoothed for per-batch rows)."""
        rows = []
        g = self._granularity
        for run in self._runs.values():
            if not run.visible:
                continue
            if g in ("both", "batch") and len(run.batches):
                bx = run.batches.get(self._x_axis)
                i = _nearest(bx, x)
                raw = run.batches.get(metric)
                sm = self._batch[(run.id, metric)].values
                rows.append(dict(run=run.id, name=run.name, series="batch",
                                 x=float(bx[i]), step=int(run.batches.get("step")[i]),
                                 value=float(raw[i]),
                                 smoothed=float(sm[i]) if i < len(sm) else float("nan")))
            if g in ("both", "epoch") and len(run.epochs):
                ex = run.epochs.get(self._x_axis)
                i = _nearest(ex, x)
                ep = int(run.epochs.get("epoch")[i])
                for series, col in (("train", metric), ("validation", "val_" + metric)):
                    v = run.epochs.get(col)
                    if np.isnan(v[i]) and col not in run.epochs.columns:
                        continue
                    rows.append(dict(run=run.id, name=run.name, series=series,
                                     x=float(ex[i]), epoch=ep, value=float(v[i])))
        return rows

    def hover_at(self, metric: str, x: float) -> str:
        """Update cursor, markers and read-out for `x` in `metric`'s plot; returns the text."""
        rows = self.values_at(metric, x)
        self._hover_rows = rows
        for m, cursor in self.cursors.items():
            cursor.setPos(x)
            cursor.setVisible(bool(rows))
        spots = []
        for r in rows:
            y = r.get("smoothed") if r["series"] == "batch" and self._weight > 0 else r["value"]
            if y is not None and np.isfinite(y):
                spots.append({"pos": (r["x"], y), "brush": run_color(self._runs[r["run"]])})
        self.markers[metric].setData(spots)
        for m, marker in self.markers.items():
            if m != metric:
                marker.setData([])
        self._hover_text = self._format_rows(metric, rows)
        self.hovered.emit(self._hover_text)
        return self._hover_text

    def _format_rows(self, metric: str, rows: list[dict]) -> str:
        if not rows:
            return ""
        unit = {"step": "step", "epoch": "epoch", "time": "s"}[self._x_axis]
        lines = []
        for r in rows:
            where = (f"step {r['step']}" if r["series"] == "batch"
                     else f"epoch {r['epoch']}")
            if self._x_axis == "time":
                where += f", {fmt(r['x'])} s"
            text = f"{r['name']} · {r['series']} {metric}: {fmt(r['value'])}"
            if r["series"] == "batch" and self._weight > 0:
                text += f" (smoothed {fmt(r['smoothed'])})"
            lines.append(f"{text}  [{where}]")
        del unit
        return "\n".join(lines)

    def _on_mouse_moved(self, pos) -> None:
        for metric, plot in self.plots.items():
            vb = plot.getViewBox()
            if vb.sceneBoundingRect().contains(pos):
                x = vb.mapSceneToView(pos).x()
                text = self.hover_at(metric, x)
                if text:
                    html = "<pre style='margin:0'>" + _escape(text) + "</pre>"
                    gpos = self.graphics.mapToGlobal(self.graphics.mapFromScene(pos))
                    QToolTip.showText(gpos, html, self.graphics)
                return
        for cursor in self.cursors.values():
            cursor.setVisible(False)
        for marker in self.markers.values():
            marker.setData([])


def _nearest(xs: np.ndarray, x: float) -> int:
    """Index of the value in sorted `xs` nearest to x."""
    i = int(np.searchsorted(xs, x))
    if i <= 0:
        return 0
    if i >= len(xs):
        return len(xs) - 1
    return i if xs[i] - x < x - xs[i - 1] else i - 1


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
