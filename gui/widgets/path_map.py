"""A loss surface as a contour map with several descent paths on it.

The surface is a heat map on the app's sequential scale with white equal-loss lines; each
path is a coloured line over a white halo (so it reads on dark and light parts of the map)
with a marker of its own shape where it is now, so colour never tells the runs apart
alone. The widget only draws arrays it is given (core.teaching.descent_paths makes them).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QTransform
from PySide6.QtWidgets import QVBoxLayout, QWidget

from gui.widgets.colors import ColorLegend, lut
from gui.widgets.numbers import fmt
from gui.widgets.plots import make_plot

N_CONTOURS = 8


def add_loss_image(plot_item, n_contours: int, alpha: int = 120):
    """A loss surface's colour image under everything in `plot_item`, with `n_contours`
    white equal-loss lines (levels set later, with the data): (image, contours)."""
    image = pg.ImageItem(axisOrder="row-major")
    image.setLookupTable(lut("sequential"))
    image.setZValue(-20)
    plot_item.addItem(image)
    contours = []
    for _ in range(n_contours):
        iso = pg.IsocurveItem(level=0.0, pen=pg.mkPen(255, 255, 255, alpha, width=1),
                              axisOrder="row-major")
        iso.setParentItem(image)            # drawn in the image's pixel coordinates
        iso.setZValue(5)
        contours.append(iso)
    return image, contours
#: (line style, marker) per path, in order: a run is told apart by shape as well as colour
#: (solid lines all: a dashed line breaks up on a noisy path of short steps)
STYLES = ((Qt.PenStyle.SolidLine, "o"), (Qt.PenStyle.SolidLine, "t"),
          (Qt.PenStyle.SolidLine, "s"))
#: the symbol's look in text (the legend table names each run with it)
SYMBOL_TEXT = {"o": "●", "t": "▼", "s": "■"}


class PathMap(QWidget):
    """Contour map of a loss over (w1, w2) with descent paths drawn up to a point."""

    def __init__(self, x_label: str, y_label: str, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        self.plot = make_plot(x_label, y_label, legend_columns=5)
        item = self.plot.plot_item
        item.showGrid(x=False, y=False)
        self.image, self.contours = add_loss_image(item, N_CONTOURS, alpha=120)
        self.start_item = pg.ScatterPlotItem(symbol="s", size=11,
                                             pen=pg.mkPen("#1d232b", width=1.5),
                                             brush=pg.mkBrush("#ffffff"), name="start")
        self.best_item = pg.ScatterPlotItem(symbol="star", size=18,
                                            pen=pg.mkPen("#1d232b", width=1),
                                            brush=pg.mkBrush("#ffffff"), name="lowest loss")
        for it in (self.start_item, self.best_item):
            it.setZValue(30)
            item.addItem(it)
        lay.addWidget(self.plot, 1)
        self.legend = ColorLegend("sequential", 0.0, 1.0, label="loss")
        self.legend.setMaximumWidth(10000)
        lay.addWidget(self.legend)
        self.lines: list[pg.PlotDataItem] = []
        self.markers: list[pg.ScatterPlotItem] = []
        self._points: list[np.ndarray] = []

    # --- the surface ---------------------------------------------------------------------
    def set_surface(self, w1_values, w2_values, surface, caption: str) -> None:
        """Heat map and equal-loss lines of `surface` (len(w2), len(w1)); colours spread over
        the lower three quarters of the values (the steep walls saturate yellow)."""
        w1s, w2s = np.asarray(w1_values, float), np.asarray(w2_values, float)
        surface = np.asarray(surface, float)
        vmin = float(np.min(surface))
        vmax = float(np.quantile(surface, 0.75))
        if vmax <= vmin:
            vmax = vmin + 1e-6
        self.image.setImage(surface, levels=(vmin, vmax), autoLevels=False)
        lo1, hi1, lo2, hi2 = w1s[0], w1s[-1], w2s[0], w2s[-1]
        d1 = (hi1 - lo1) / max(len(w1s) - 1, 1)
        d2 = (hi2 - lo2) / max(len(w2s) - 1, 1)
        # pixel j is centred on grid value j: half a cell of margin on every side
        self.image.setRect(QRectF(lo1 - d1 / 2, lo2 - d2 / 2, hi1 - lo1 + d1, hi2 - lo2 + d2))
        to_pixels = QTransform(1.0, 0.0, 0.0, 1.0, 0.5, 0.5)   # grid index → pixel centre
        for iso, level in zip(self.contours, np.linspace(vmin, vmax, N_CONTOURS + 2)[1:-1]):
            iso.setData(surface, level=float(level))
            iso.setTransform(to_pixels)
        self.legend.set_range(vmin, vmax)
        self.legend.set_label(f"{caption}   (yellow: ≥ {fmt(vmax)}; white lines: equal loss)")
        item = self.plot.plot_item
        item.setXRange(lo1, hi1, padding=0)
        item.setYRange(lo2, hi2, padding=0)

    def set_landmarks(self, start, best, best_tip: str) -> None:
        self.start_item.setData([start[0]], [start[1]])
        self.start_item.setToolTip(f"start: w1 = {fmt(start[0])}, w2 = {fmt(start[1])}")
        self.best_item.setData([best[0]], [best[1]])
        self.best_item.setToolTip(best_tip)

    # --- the paths -------------------------------------------------------------------------
    def set_paths(self, paths: list[tuple[str, QColor, np.ndarray, float]]) -> None:
        """(name, colour, points (K, 2), line width) per path; all are drawn from their
        first point only, until `show_upto` moves them on."""
        item = self.plot.plot_item
        for it in self.lines + self.markers:
            item.removeItem(it)
        if self.plot.legend is not None:
            for it in self.lines:
                self.plot.legend.removeItem(it)
        self.lines, self.markers, self._points = [], [], []
        for i, (name, color, points, width) in enumerate(paths):
            style, symbol = STYLES[i % len(STYLES)]
            line = pg.PlotDataItem([], [], pen=pg.mkPen(color, width=width, style=style),
                                   shadowPen=pg.mkPen(255, 255, 255, 200, width=width + 2.5),
                                   name=name)
            # thicker lines on top: batch descent's few long steps stay visible over
            # stochastic descent's thin tangle
            line.setZValue(10 + width)
            item.addItem(line)
            marker = pg.ScatterPlotItem(symbol=symbol, size=13,
                                        pen=pg.mkPen("#ffffff", width=1.5),
                                        brush=pg.mkBrush(color))
            marker.setZValue(40 + i)
            item.addItem(marker)
            self.lines.append(line)
            self.markers.append(marker)
            self._points.append(np.asarray(points, float))
        self.show_upto([0] * len(paths))

    def show_upto(self, updates: list[int]) -> None:
        """Draw path i up to (and with its marker at) the point after updates[i] updates."""
        for line, marker, pts, k in zip(self.lines, self.markers, self._points, updates):
            k = int(min(max(k, 0), len(pts) - 1))
            line.setData(pts[:k + 1, 0], pts[:k + 1, 1])
            marker.setData([pts[k, 0]], [pts[k, 1]])

    def drawn_points(self, i: int) -> np.ndarray:
        """The points path i shows now, (K, 2) (what a learner sees; for tests too)."""
        x, y = self.lines[i].getData()
        if x is None:
            return np.zeros((0, 2))
        return np.column_stack([x, y])


__all__ = ["PathMap", "STYLES", "SYMBOL_TEXT"]
