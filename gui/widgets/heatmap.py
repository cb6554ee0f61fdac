"""Heat maps of a value over the input plane: the decision boundary and each neuron's output.

- `PlaneHeatMap`: the large view. A value over the plane (the network's probability of
  class 1, or one hovered neuron's output) on the sequential scale, the 0.5 boundary drawn
  as a line, the data points on top (class by marker shape as well as colour, training
  points outlined white, test points black), axes with numbers, and a hover read-out of
  the value under the cursor.
- `NeuronHeatMap`: a small tile of one neuron's output over the same plane, as in
  TensorFlow Playground; hovering or focusing it asks for it to be shown large.

Values come from `core.teaching.decision.DecisionGrid` (row j = ys[j], rising: row 0 is the
bottom of the plane). Colours come from gui.widgets.colors only.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QCursor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from gui.widgets.colors import lut, sequential_color, sequential_rgba
from gui.widgets.numbers import fmt

#: marker shape per class, so the class never rests on colour alone
CLASS_SYMBOLS = ("o", "t1")
CLASS_SYMBOL_TEXT = ("●", "▲")
TRAIN_OUTLINE = QColor(255, 255, 255)
TEST_OUTLINE = QColor(0, 0, 0)


def class_color(label: int) -> QColor:
    """The colour of a data point of class 0 or 1: the scale's colour of that probability."""
    return sequential_color(float(label), 0.0, 1.0)


def _cell_rect(xs: np.ndarray, ys: np.ndarray) -> QRectF:
    """The rectangle covered by a grid whose pixel centres sit on (xs, ys)."""
    dx = (float(xs[-1]) - float(xs[0])) / max(1, len(xs) - 1)
    dy = (float(ys[-1]) - float(ys[0])) / max(1, len(ys) - 1)
    return QRectF(float(xs[0]) - dx / 2, float(ys[0]) - dy / 2,
                  float(xs[-1]) - float(xs[0]) + dx, float(ys[-1]) - float(ys[0]) + dy)


class PlaneHeatMap(pg.PlotWidget):
    """The large heat map: `set_field(values, xs, ys, vmin, vmax)`, `set_points(...)`."""

    def __init__(self, parent=None):
        super().__init__(parent, enableMenu=False)   # no menu made to be thrown away
        self.setObjectName("planeHeatMap")
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setAspectLocked(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(220, 220)
        self.setAccessibleName("Heat map over the input plane")
        item = self.getPlotItem()
        item.showGrid(x=False, y=False)
        self._values: np.ndarray | None = None
        self._xs = self._ys = None
        self._vmin, self._vmax = 0.0, 1.0
        self._value_name = "value"
        self._feature_names = ("x₁", "x₂")

        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(lut("sequential"))
        # the boundary line is traced one pixel past the edges: keep it on the map
        self.image.setFlag(self.image.GraphicsItemFlag.ItemClipsChildrenToShape, True)
        self.addItem(self.image)
        # two strokes, dark under light, so the boundary shows on both ends of the scale
        self._iso = []
        for color, width in (("#111111", 3.2), ("#ffffff", 1.4)):
            iso = pg.IsocurveItem(level=0.5, pen=pg.mkPen(color, width=width),
                                  axisOrder="row-major")
            iso.setParentItem(self.image)
            # the curve is traced through pixel indices; pixel i's centre is at i + 0.5
            iso.setPos(0.5, 0.5)
            self._iso.append(iso)
        self.train_points = pg.ScatterPlotItem(pxMode=True)
        self.test_points = pg.ScatterPlotItem(pxMode=True)
        self.addItem(self.train_points)
        self.addItem(self.test_points)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)

    # --- content -----------------------------------------------------------------------
    def set_axis_names(self, x_name: str, y_name: str) -> None:
        self._feature_names = (x_name, y_name)
        self.setLabel("bottom", x_name)
        self.setLabel("left", y_name)

    def set_field(self, values, xs, ys, vmin: float, vmax: float, value_name: str = "value",
                  boundary: float | None = None) -> None:
        """Show `values` (R_y, R_x) over the grid (xs, ys); a line at `boundary` if given."""
        values = np.asarray(values, dtype=np.float32)
        xs, ys = np.asarray(xs), np.asarray(ys)
        if values.shape != (len(ys), len(xs)):
            raise ValueError(f"values of shape {values.shape} do not match a "
                             f"{len(ys)}×{len(xs)} grid")
        first = self._xs is None or len(self._xs) != len(xs) or self._xs[0] != xs[0] \
            or self._xs[-1] != xs[-1] or self._ys[0] != ys[0] or self._ys[-1] != ys[-1]
        self._values, self._xs, self._ys = values, xs, ys
        self._vmin, self._vmax = float(vmin), float(vmax)
        if not self._vmax > self._vmin:
            self._vmax = self._vmin + 1.0
        self._value_name = value_name
        finite = np.where(np.isfinite(values), values, self._vmin)
        self.image.setImage(finite, levels=(self._vmin, self._vmax), autoLevels=False)
        if first:
            rect = _cell_rect(xs, ys)
            self.image.setRect(rect)
            self.setRange(rect=rect, padding=0.0)
        for iso in self._iso:
            if boundary is None or not (values.min() < boundary < values.max()):
                iso.setData(None)
            else:
                iso.setData(finite, level=boundary)

    def values(self) -> np.ndarray | None:
        """The array on screen (R_y, R_x): what tests and the hover read-out use."""
        return self._values

    def value_range(self) -> tuple[float, float]:
        return self._vmin, self._vmax

    def has_boundary(self) -> bool:
        return self._iso[0].data is not None

    def set_points(self, x_train, y_train, x_test=None, y_test=None, show_test: bool = True,
                   class_names=("class 0", "class 1")) -> None:
        """Data points on top: marker and colour by class, outline white (train) / black (test)."""
        self._class_names = tuple(class_names)
        self._fill(self.train_points, x_train, y_train, TRAIN_OUTLINE, 9, "training")
        if x_test is None or not show_test:
            self.test_points.setData([], [])
            self.test_points.setVisible(False)
        else:
            self.test_points.setVisible(True)
            self._fill(self.test_points, x_test, y_test, TEST_OUTLINE, 8, "test")

    def _fill(self, item, x, y, outline: QColor, size: int, kind: str) -> None:
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y).astype(np.int64)
        brushes = [pg.mkBrush(class_color(0)), pg.mkBrush(class_color(1))]
        pen = pg.mkPen(outline, width=1.3)
        item.setData(x=x[:, 0], y=x[:, 1], symbol=[CLASS_SYMBOLS[int(c)] for c in y],
                     brush=[brushes[int(c)] for c in y], pen=pen, size=size)
        item.setToolTip(f"{len(y)} {kind} points")

    def point_count(self) -> tuple[int, int]:
        """(training points drawn, test points drawn)."""
        n_test = len(self.test_points.data) if self.test_points.isVisible() else 0
        return len(self.train_points.data), n_test

    # --- hover read-out ---------------------------------------------------------------------
    def value_at(self, x: float, y: float) -> float | None:
        """The shown value at the grid cell nearest to (x, y), or None outside the grid."""
        if self._values is None:
            return None
        xs, ys = self._xs, self._ys
        dx = (xs[-1] - xs[0]) / max(1, len(xs) - 1)
        dy = (ys[-1] - ys[0]) / max(1, len(ys) - 1)
        i = int(round((x - xs[0]) / dx))
        j = int(round((y - ys[0]) / dy))
        if not (0 <= i < len(xs) and 0 <= j < len(ys)):
            return None
        return float(self._values[j, i])

    def readout(self, x: float, y: float) -> str | None:
        v = self.value_at(x, y)
        if v is None:
            return None
        a, b = self._feature_names
        return f"{self._value_name} at {a} = {fmt(x)}, {b} = {fmt(y)}:  {fmt(v)}"

    def _on_mouse_moved(self, pos) -> None:
        vb = self.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(pos):
            return
        p = vb.mapSceneToView(pos)
        text = self.readout(p.x(), p.y())
        if text:
            QToolTip.showText(QCursor.pos(), text, self)


class NeuronHeatMap(QWidget):
    """A small tile: one neuron's output over the plane. Hover or focus → `hovered`."""

    hovered = Signal(object)
    unhovered = Signal(object)

    def __init__(self, key, name: str = "neuron", parent=None):
        super().__init__(parent)
        self.key = key
        self._image: QImage | None = None
        self._rgba: np.ndarray | None = None
        self._values: np.ndarray | None = None
        self._range = (0.0, 1.0)
        self._active = False
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.setAccessibleName(name)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(40, 40)

    def set_field(self, values, vmin: float, vmax: float) -> None:
        """(R_y, R_x) values, row 0 the bottom of the plane, coloured vmin … vmax."""
        values = np.asarray(values, dtype=np.float32)
        self._values = values
        self._range = (float(vmin), float(vmax))
        # images run top-down, the plane bottom-up
        rgba = np.ascontiguousarray(sequential_rgba(values[::-1], vmin, vmax))   # (R_y, R_x, 4)
        self._rgba = rgba
        h, w = rgba.shape[:2]
        self._image = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888)
        self.update()

    def values(self) -> np.ndarray | None:
        return self._values

    def value_range(self) -> tuple[float, float]:
        return self._range

    def rgba(self) -> np.ndarray | None:
        """The pixels drawn (R_y, R_x, 4), top row first."""
        return self._rgba

    def set_active(self, active: bool) -> None:
        self._active = bool(active)
        self.update()

    def paintEvent(self, event):
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        r = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        if self._image is not None:
            p.drawImage(r, self._image)
        else:
            p.fillRect(r, QColor("#eeeeee"))
        active = self._active or self.hasFocus()
        p.setPen(QPen(QColor("#1d232b") if active else QColor("#9aa3ad"), 2.5 if active else 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(r)
        p.end()

    def enterEvent(self, event):
        self.hovered.emit(self)
        super().enterEvent(event)

    def leaveEvent(self, event):
        self.unhovered.emit(self)
        super().leaveEvent(event)

    def focusInEvent(self, event):
        self.hovered.emit(self)
        super().focusInEvent(event)

    def focusOutEvent(self, event):
        self.unhovered.emit(self)
        super().focusOutEvent(event)

    def center_left(self) -> QPointF:
        g = self.geometry()
        return QPointF(g.left(), g.center().y())

    def center_right(self) -> QPointF:
        g = self.geometry()
        return QPointF(g.right() + 1, g.center().y())
