"""Arrays drawn as images: one map with its cells (`ArrayView`), grids of many filters or
feature maps (`FeatureMapGrid`), each with a numeric colour legend and hover values, and
the course's combine step (`CombinedFeatures`).

Images and activations use the sequential scale, filter weights the diverging one
(gui.widgets.colors): the same meaning of colour as everywhere else in the app.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPoint, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QSizePolicy, QToolTip, QVBoxLayout,
                               QWidget)

from gui.widgets.colors import ColorLegend, diverging_rgba, sequential_rgba
from gui.widgets.numbers import fmt, mono_font
from gui.widgets.qimage import rgba_qimage


def array_rgba(values: np.ndarray, kind: str, vmin: float, vmax: float) -> np.ndarray:
    """(H, W) values → (H, W, 4) uint8 in the app's colour language."""
    if kind == "diverging":
        return diverging_rgba(values, max(abs(vmin), abs(vmax)))
    return sequential_rgba(values, vmin, vmax)


def value_range(values, kind: str = "sequential") -> tuple[float, float]:
    """A colour range covering the finite values; diverging ranges are symmetric."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return (0.0, 1.0)
    lo, hi = float(v.min()), float(v.max())
    if kind == "diverging":
        m = max(abs(lo), abs(hi)) or 1.0
        return (-m, m)
    if hi <= lo:
        hi = lo + 1.0
    return (lo, hi)


@dataclass
class Highlight:
    """A rectangle drawn over an ArrayView, in array cells."""

    top: int
    left: int
    height: int
    width: int
    color: QColor
    width_px: float = 3.0
    dashed: bool = False


class ArrayView(QWidget):
    """One 2-D array as square coloured cells.

    Optional: cells not yet computed (`set_filled`) drawn empty; a border region (padding)
    drawn hatched; highlight rectangles; the numbers themselves when cells are big enough;
    a hover tooltip per cell (`tooltip_fn(row, col) -> str`, default "row, col: value").
    """

    def __init__(self, title: str = "", kind: str = "sequential", parent=None):
        super().__init__(parent)
        self._title = title
        self._kind = kind
        self._values = np.zeros((1, 1), np.float32)
        self._vmin, self._vmax = 0.0, 1.0
        self._filled: int | None = None
        self._border = (0, 0, 0, 0)
        self._highlights: list[Highlight] = []
        self._image: QImage | None = None
        self._show_values = True
        self._empty_text = ""
        self.tooltip_fn: Callable[[int, int], str] | None = None
        self.setMouseTracking(True)
        self.setMinimumSize(120, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName(title or "array view")

    # --- data ------------------------------------------------------------------------
    def set_array(self, values, vmin: float | None = None, vmax: float | None = None,
                  border=(0, 0, 0, 0)) -> None:
        """Show `values` (H, W); `border` = (top, bottom, left, right) cells of padding."""
        v = np.asarray(values, dtype=np.float32)
        if v.ndim != 2:
            raise ValueError(f"ArrayView needs a 2-D array, got shape {v.shape}")
        self._values = v
        auto = value_range(v, self._kind)
        self._vmin = auto[0] if vmin is None else float(vmin)
        self._vmax = auto[1] if vmax is None else float(vmax)
        self._border = tuple(int(b) for b in border)
        self._empty_text = ""
        self._image = rgba_qimage(array_rgba(v, self._kind, self._vmin, self._vmax)) if v.size else None
        self.update()

    def set_empty(self, text: str) -> None:
        """Nothing to show (e.g. an impossible size): a message instead of cells."""
        self._values = np.zeros((0, 0), np.float32)
        self._image = None
        self._highlights = []
        self._empty_text = text
        self.update()

    def values(self) -> np.ndarray:
        return self._values

    def color_range(self) -> tuple[float, float]:
        return self._vmin, self._vmax

    def set_title(self, title: str) -> None:
        self._title = title
        self.setAccessibleName(title)
        self.update()

    def title(self) -> str:
        return self._title

    def set_filled(self, n: int | None) -> None:
        """Only the first `n` cells (row-major) are computed; None = all."""
        self._filled = None if n is None else int(n)
        self.update()

    def filled(self) -> int | None:
        return self._filled

    def set_highlights(self, highlights: list[Highlight]) -> None:
        self._highlights = list(highlights)
        self.update()

    def set_show_values(self, show: bool) -> None:
        self._show_values = bool(show)
        self.update()

    # --- geometry ----------------------------------------------------------------------
    def _title_height(self) -> int:
        return QFontMetrics(self.font()).height() + 4 if self._title else 0

    def cell_geometry(self) -> tuple[float, float, float]:
        """(cell size px, x0, y0) of the array's top-left corner in widget coordinates."""
        h, w = self._values.shape if self._values.size else (1, 1)
        top = self._title_height()
        avail_w, avail_h = self.width() - 2, self.height() - top - 2
        cell = max(1.0, min(avail_w / w, avail_h / h))
        x0 = (self.width() - cell * w) / 2
        y0 = top + (avail_h - cell * h) / 2 + 1
        return cell, x0, y0

    def cell_at(self, pos) -> tuple[int, int] | None:
        if not self._values.size:
            return None
        cell, x0, y0 = self.cell_geometry()
        c = math.floor((pos.x() - x0) / cell)
        r = math.floor((pos.y() - y0) / cell)
        h, w = self._values.shape
        if 0 <= r < h and 0 <= c < w:
            return r, c
        return None

    def sizeHint(self) -> QSize:
        return QSize(260, 260 + self._title_height())

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        # square cells: a square array needs a square area (plus its title)
        h, w = self._values.shape if self._values.size else (1, 1)
        return int(width * h / w) + self._title_height() + 2

    # --- painting ------------------------------------------------------------------------
    def paintEvent(self, event):
        p = QPainter(self)
        text_color = self.palette().color(self.foregroundRole())
        if self._title:
            p.setPen(text_color)
            p.drawText(QRectF(0, 0, self.width(), self._title_height()),
                       Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, self._title)
        if self._image is None:
            if self._empty_text:
                p.setPen(QColor("#a50026"))
                rect = QRectF(6, self._title_height(), self.width() - 12,
                              self.height() - self._title_height())
                p.drawText(rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                           self._empty_text)
            p.end()
            return
        h, w = self._values.shape
        cell, x0, y0 = self.cell_geometry()
        target = QRectF(x0, y0, cell * w, cell * h)
        p.drawImage(target, self._image)
        if self._filled is not None and self._filled < h * w:
            # cells still to compute: blank, so the map visibly fills in
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor("#ffffff"))
            n = max(self._filled, 0)
            r0, c0 = divmod(n, w)
            if c0:
                p.drawRect(QRectF(x0 + c0 * cell, y0 + r0 * cell, (w - c0) * cell, cell))
                r0 += 1
            if r0 < h:
                p.drawRect(QRectF(x0, y0 + r0 * cell, w * cell, (h - r0) * cell))
        bt, bb, bl, br = self._border
        if any(self._border):
            # padding cells: hatched so they read as "added zeros", not image
            p.setBrush(QColor(255, 255, 255, 150))
            p.setPen(Qt.PenStyle.NoPen)
            hatch = QColor(120, 120, 120, 160)
            for rect in (QRectF(x0, y0, w * cell, bt * cell),
                         QRectF(x0, y0 + (h - bb) * cell, w * cell, bb * cell),
                         QRectF(x0, y0 + bt * cell, bl * cell, (h - bt - bb) * cell),
                         QRectF(x0 + (w - br) * cell, y0 + bt * cell, br * cell,
                                (h - bt - bb) * cell)):
                if rect.width() > 0 and rect.height() > 0:
                    p.fillRect(rect, QColor(255, 255, 255, 170))
                    p.fillRect(rect, Qt.BrushStyle.BDiagPattern)
                    p.setPen(QPen(hatch, 1))
                    p.setBrush(Qt.BrushStyle.NoBrush)
                    p.drawRect(rect)
                    p.setPen(Qt.PenStyle.NoPen)
        if cell >= 6:
            p.setPen(QPen(QColor(255, 255, 255, 60), 1))
            for i in range(h + 1):
                p.drawLine(QRectF(x0, y0 + i * cell, 0, 0).topLeft(),
                           QRectF(x0 + w * cell, y0 + i * cell, 0, 0).topLeft())
            for j in range(w + 1):
                p.drawLine(QRectF(x0 + j * cell, y0, 0, 0).topLeft(),
                           QRectF(x0 + j * cell, y0 + h * cell, 0, 0).topLeft())
        if self._show_values and cell >= 30:
            self._draw_numbers(p, cell, x0, y0)
        p.setPen(QPen(QColor("#8a939f"), 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(target)
        for hl in self._highlights:
            pen = QPen(hl.color, hl.width_px)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            if hl.dashed:
                pen.setStyle(Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.drawRect(QRectF(x0 + hl.left * cell, y0 + hl.top * cell,
                              hl.width * cell, hl.height * cell))
        p.end()

    def _draw_numbers(self, p: QPainter, cell: float, x0: float, y0: float) -> None:
        h, w = self._values.shape
        filled = h * w if self._filled is None else self._filled
        texts = [[fmt(self._values[r, c], 3) for c in range(w)] for r in range(h)]
        font = mono_font()
        widest = max((len(t) for row in texts for t in row), default=1)
        # shrink until the widest number fits its cell; too small to read → draw none
        while True:
            fm = QFontMetrics(font)
            if fm.horizontalAdvance("8" * widest) <= cell - 4 or font.pointSizeF() <= 7.0:
                break
            font.setPointSizeF(font.pointSizeF() - 0.5)
        if QFontMetrics(font).horizontalAdvance("8" * widest) > cell - 2:
            return
        p.setFont(font)
        t_rgba = array_rgba(self._values, self._kind, self._vmin, self._vmax)
        for r in range(h):
            for c in range(w):
                if r * w + c >= filled:
                    continue
                rgb = t_rgba[r, c, :3].astype(float)
                light = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
                p.setPen(QColor("#000000") if light > 140 else QColor("#ffffff"))
                p.drawText(QRectF(x0 + c * cell, y0 + r * cell, cell, cell),
                           Qt.AlignmentFlag.AlignCenter, texts[r][c])

    # --- hover ------------------------------------------------------------------------------
    def mouseMoveEvent(self, event):
        rc = self.cell_at(event.position())
        if rc is None:
            QToolTip.hideText()
            return super().mouseMoveEvent(event)
        r, c = rc
        w = self._values.shape[1]
        if self._filled is not None and r * w + c >= self._filled:
            text = f"row {r}, column {c}: not computed yet"
        elif self.tooltip_fn is not None:
            text = self.tooltip_fn(r, c)
        else:
            text = f"row {r}, column {c}: {fmt(self._values[r, c])}"
        QToolTip.showText(event.globalPosition().toPoint() + QPoint(12, 12), text, self)
        return super().mouseMoveEvent(event)


class FeatureMapGrid(QWidget):
    """Many maps (C, H, W) as a grid of small images sharing one colour range, numbered
    from 1, with a ColorLegend underneath; hovering a pixel shows map, position and value.

    `kind="diverging"` for filter weights, `"sequential"` for images and activations.
    """

    def __init__(self, kind: str = "sequential", legend_label: str = "value",
                 max_maps: int = 64, parent=None):
        super().__init__(parent)
        self._kind = kind
        self._max_maps = int(max_maps)
        self._maps = np.zeros((0, 1, 1), np.float32)
        self._images: list[QImage] = []
        self._vmin, self._vmax = 0.0, 1.0
        self._caption = ""
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        self.canvas = _MapCanvas(self)
        lay.addWidget(self.canvas, 1)
        self.caption_label = QLabel(self)
        self.caption_label.setObjectName("mutedText")
        self.caption_label.setWordWrap(True)
        self.caption_label.setVisible(False)
        lay.addWidget(self.caption_label)
        self.legend = ColorLegend(kind, 0.0, 1.0, legend_label, ticks=3, parent=self)
        lay.addWidget(self.legend, 0, Qt.AlignmentFlag.AlignHCenter)
        self.setAccessibleName(legend_label)

    def set_maps(self, maps, caption: str = "", symmetric: bool | None = None) -> None:
        """`maps` (C, H, W); only the first `max_maps` are drawn (the caption says so)."""
        m = np.asarray(maps, dtype=np.float32)
        if m.ndim != 3:
            raise ValueError(f"maps must be (C, H, W), got shape {m.shape}")
        total = m.shape[0]
        m = m[: self._max_maps]
        self._maps = m
        self._vmin, self._vmax = value_range(m, self._kind)
        if self._kind == "sequential" and not symmetric and self._vmin > 0:
            self._vmin = 0.0   # activations read against zero
        self._images = [rgba_qimage(array_rgba(x, self._kind, self._vmin, self._vmax)) for x in m]
        if total > len(m):
            caption = (caption + " " if caption else "") + f"(first {len(m)} of {total} shown)"
        self._caption = caption
        self.caption_label.setText(caption)
        self.caption_label.setVisible(bool(caption))
        self.legend.set_range(self._vmin, self._vmax)
        self.canvas.updateGeometry()
        self.canvas.update()

    def maps(self) -> np.ndarray:
        return self._maps

    def count(self) -> int:
        return int(self._maps.shape[0])

    def color_range(self) -> tuple[float, float]:
        return self._vmin, self._vmax

    def caption(self) -> str:
        return self._caption


class _MapCanvas(QWidget):
    def __init__(self, grid: FeatureMapGrid):
        super().__init__(grid)
        self._grid = grid
        self.setMouseTracking(True)
        self.setMinimumSize(160, 90)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def _layout(self):
        """(columns, tile px, label height, gap, x0) that fit every map in the canvas."""
        g = self._grid
        n = max(1, g.count())
        h, w = g._maps.shape[1:] if g.count() else (1, 1)
        label_h = QFontMetrics(self.font()).height()
        gap = 4
        best = (1, 1.0)
        for cols in range(1, n + 1):
            rows = math.ceil(n / cols)
            tile_w = (self.width() - gap * (cols - 1)) / cols
            tile_h = (self.height() - rows * (label_h + gap)) / rows
            scale = min(tile_w / w, tile_h / h)
            if scale > best[1] or cols == 1:
                best = (cols, scale) if scale > 0 else best
        cols, scale = best
        scale = max(scale, 0.5)
        tile = (w * scale, h * scale)
        total_w = cols * tile[0] + gap * (cols - 1)
        x0 = max(0.0, (self.width() - total_w) / 2)
        return cols, tile, label_h, gap, x0, scale

    def paintEvent(self, event):
        g = self._grid
        if not g.count():
            return
        p = QPainter(self)
        cols, (tw, th), label_h, gap, x0, _ = self._layout()
        p.setPen(self.palette().color(self.foregroundRole()))
        for i, img in enumerate(g._images):
            r, c = divmod(i, cols)
            x = x0 + c * (tw + gap)
            y = r * (th + label_h + gap)
            if th >= 14:
                p.drawText(QRectF(x, y, tw, label_h), Qt.AlignmentFlag.AlignCenter, str(i + 1))
            else:
                label_h = 0
            p.drawImage(QRectF(x, y + label_h, tw, th), img)
            p.setPen(QPen(QColor("#b9c0c9"), 1))
            p.drawRect(QRectF(x, y + label_h, tw, th))
            p.setPen(self.palette().color(self.foregroundRole()))
        p.end()

    def hit(self, pos) -> tuple[int, int, int] | None:
        """(map index, row, col) under a point, or None."""
        g = self._grid
        if not g.count():
            return None
        cols, (tw, th), label_h, gap, x0, scale = self._layout()
        if th < 14:
            label_h = 0
        c = math.floor((pos.x() - x0) / (tw + gap))
        r = math.floor(pos.y() / (th + label_h + gap))
        if c < 0 or c >= cols:
            return None
        i = r * cols + c
        if i >= g.count():
            return None
        px = pos.x() - (x0 + c * (tw + gap))
        py = pos.y() - (r * (th + label_h + gap) + label_h)
        if not (0 <= px < tw and 0 <= py < th):
            return None
        return i, int(py / scale), int(px / scale)

    def mouseMoveEvent(self, event):
        found = self.hit(event.position())
        if found is None:
            QToolTip.hideText()
            return
        i, r, c = found
        v = self._grid._maps[i, min(r, self._grid._maps.shape[1] - 1),
                             min(c, self._grid._maps.shape[2] - 1)]
        QToolTip.showText(event.globalPosition().toPoint() + QPoint(12, 12),
                          f"map {i + 1}, row {r}, column {c}: {fmt(v)}", self)

    def sizeHint(self) -> QSize:
        return QSize(360, 220)


#: one colour per combined feature; the titles name them too (colour never alone)
FEATURE_COLORS = (QColor("#e08214"), QColor("#1b7837"), QColor("#b83d8c"))
FEATURE_COLOR_NAMES = ("orange", "green", "purple")


class CombinedFeatures(QWidget):
    """The course's combine step: the image with a box where each feature map is
    strongest, beside the feature maps after ReLU, and a sentence saying whether the parts
    sit where a digit's parts sit ("loop here + stem below = 9")."""

    def __init__(self, parent=None):
        super().__init__(parent)
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(4)
        self.verdict = QLabel(self)
        self.verdict.setWordWrap(True)
        self.verdict.setAccessibleName("What the combined feature maps locate")
        self.verdict.setStyleSheet("font-weight: 600;")
        v.addWidget(self.verdict)
        row = QHBoxLayout()
        row.setSpacing(8)
        self.image_view = ArrayView("Where each feature peaks",
                                    "sequential", self)
        row.addWidget(self.image_view, 3)
        self.map_views: list[ArrayView] = []
        for _ in FEATURE_COLORS:
            view = ArrayView("", "sequential", self)
            view.setMinimumSize(90, 90)
            row.addWidget(view, 2)
            self.map_views.append(view)
        v.addLayout(row, 1)
        self.legend = ColorLegend("sequential", 0, 1, "after ReLU (0, dark: not there)",
                                  ticks=3, parent=self)
        v.addWidget(self.legend, 0, Qt.AlignmentFlag.AlignHCenter)
        self.combination = None

    def set_combination(self, image, lo: float, hi: float, combination) -> None:
        """Show `combination` (core.teaching.course_nine.Combination) over `image` (H, W)."""
        self.combination = combination
        self.image_view.set_array(image, lo, hi)
        top = max([1.0] + [float(s.value) for s in combination.spots])
        boxes = []
        for view, spot, color, cname in zip(self.map_views, combination.spots, FEATURE_COLORS,
                                            FEATURE_COLOR_NAMES):
            relu = combination.relu_maps[spot.name]
            view.set_array(relu, 0.0, top)
            view.set_title(f"{spot.word} ({cname}) · peak {fmt(spot.value, 3)}")
            view.setAccessibleName(f"{spot.word} feature map after ReLU")
            cells = spot.cells if spot.value > 0 else ()
            view.set_highlights([Highlight(r, c, 1, 1, color, 2.5) for r, c in cells])
            # map cell (r, c) is the 3×3 window whose top-left pixel is (r, c)
            boxes += [Highlight(r, c, 3, 3, color, 3.0) for r, c in cells[:3]]
        self.image_view.set_highlights(boxes)
        self.legend.set_range(0.0, top)
        self.verdict.setText(combination.sentence)
