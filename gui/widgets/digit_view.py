"""The 28x28 image a network actually sees, enlarged, with an optional saliency overlay.

Pixels are drawn on the app's sequential scale (0 = dark purple … 1 = yellow) with a legend.
Guides show how :func:`core.digits.to_mnist` placed the digit: a dashed box around the ink
(its longer side is 20 px) and a cross at the ink's centre of mass, which sits on the
field's centre (14, 14).

With the saliency overlay on, the digit is shown as a grey silhouette and each pixel is
coloured by |∂p_top/∂x| on the positive half of the gradient scale (light grey = no
influence → orange = the most influence), with its own numeric legend.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage, QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QVBoxLayout, QWidget

from gui.widgets.colors import (ColorLegend, ZERO_COLOR, POSITIVE_COLOR, diverging_rgba,
                                sequential_rgba)
from gui.widgets.numbers import fmt, mono_font
from gui.widgets.qimage import rgba_qimage

SIZE = 28
NOISE = 0.05  # same threshold as core.digits for "this pixel is ink"


class _Canvas(QWidget):
    def __init__(self, view: "DigitView"):
        super().__init__(view)
        self._view = view
        self.setMouseTracking(True)
        self.setMinimumSize(168, 168)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(224, 224)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, w: int) -> int:
        return w

    def field(self) -> QRectF:
        side = float(min(self.width(), self.height()))
        side -= side % SIZE  # whole screen pixels per image pixel: crisp squares
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def paintEvent(self, event):
        v = self._view
        p = QPainter(self)
        rect = self.field()
        p.drawImage(rect, v._qimg)
        cell = rect.width() / SIZE
        if v.show_grid and cell >= 6:
            p.setPen(QPen(QColor(255, 255, 255, 28), 1))
            for k in range(1, SIZE):
                x = rect.left() + k * cell
                y = rect.top() + k * cell
                p.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
                p.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
        box = v.ink_box()
        if box is not None and v.show_guides:
            r0, r1, c0, c1 = box
            guide = QPen(QColor(255, 255, 255) if v.saliency is None else QColor(40, 40, 40),
                         1.5, Qt.PenStyle.DashLine)
            p.setPen(guide)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(rect.left() + c0 * cell, rect.top() + r0 * cell,
                              (c1 - c0) * cell, (r1 - r0) * cell))
            cy, cx = v.centre_of_mass()
            px = rect.left() + (cx + 0.5) * cell
            py = rect.top() + (cy + 0.5) * cell
            p.setPen(QPen(QColor(230, 97, 1) if v.saliency is None else QColor(33, 102, 172), 2))
            arm = max(4.0, cell * 0.8)
            p.drawLine(QPointF(px - arm, py), QPointF(px + arm, py))
            p.drawLine(QPointF(px, py - arm), QPointF(px, py + arm))
        p.setPen(QPen(self.palette().color(self.palette().ColorRole.Mid), 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(rect.adjusted(-0.5, -0.5, 0.5, 0.5))
        p.end()

    def mouseMoveEvent(self, event):
        rect = self.field()
        pos = event.position()
        if not rect.contains(pos):
            QToolTip.hideText()
            return
        cell = rect.width() / SIZE
        c = min(SIZE - 1, int((pos.x() - rect.left()) / cell))
        r = min(SIZE - 1, int((pos.y() - rect.top()) / cell))
        QToolTip.showText(event.globalPosition().toPoint(), self._view.pixel_text(r, c), self)


class MagnitudeLegend(QWidget):
    """Numeric legend of the saliency overlay: 0 (light grey) … max (orange)."""

    BAR_HEIGHT = 12

    def __init__(self, label: str = "", parent=None):
        super().__init__(parent)
        self._label = label
        self._vmax = 1.0
        self.setFont(mono_font())
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_vmax(self, vmax: float) -> None:
        self._vmax = float(vmax)
        ticks = ", ".join(self.tick_labels())
        self.setToolTip(f"{self._label}: light grey is 0 (no influence), orange is "
                        f"{fmt(self._vmax)} (the largest on this image). Ticks: {ticks}")
        self.setAccessibleName(f"{self._label} legend")
        self.setAccessibleDescription(self.toolTip())
        self.update()

    def tick_labels(self) -> list[str]:
        return [fmt(v) for v in np.linspace(0.0, self._vmax, 3)]

    def sizeHint(self) -> QSize:
        fm = QFontMetrics(self.font())
        return QSize(200, 2 * fm.height() + self.BAR_HEIGHT + 8)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def paintEvent(self, event):
        p = QPainter(self)
        fm = QFontMetrics(self.font())
        text = self.palette().color(self.foregroundRole())
        p.setPen(text)
        p.setFont(self.parentWidget().font() if self.parentWidget() else self.font())
        p.drawText(QRectF(0, 0, self.width(), fm.height()), Qt.AlignmentFlag.AlignCenter,
                   self._label)
        p.setFont(self.font())
        labels = self.tick_labels()
        half = max(fm.horizontalAdvance(s) for s in labels) / 2 + 2
        bar = QRectF(half, fm.height() + 2, max(1.0, self.width() - 2 * half), self.BAR_HEIGHT)
        grad = QLinearGradient(bar.topLeft(), bar.topRight())
        grad.setColorAt(0.0, ZERO_COLOR)
        grad.setColorAt(0.5, QColor(253, 184, 99))
        grad.setColorAt(1.0, POSITIVE_COLOR)
        p.fillRect(bar, grad)
        p.setPen(QPen(text, 1))
        p.drawRect(bar)
        for i, s in enumerate(labels):
            x = bar.left() + bar.width() * i / (len(labels) - 1)
            p.drawLine(QPointF(x, bar.bottom()), QPointF(x, bar.bottom() + 3))
            w = fm.horizontalAdvance(s)
            p.drawText(QRectF(x - w / 2 - 1, bar.bottom() + 4, w + 2, fm.height()),
                       Qt.AlignmentFlag.AlignCenter, s)
        p.end()


class DigitView(QWidget):
    """set_image(28x28 in [0, 1]); set_saliency(28x28 |gradient| or None)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("digitView")
        self.setAccessibleName("What the network sees: the 28 by 28 input image")
        self.image = np.zeros((SIZE, SIZE), np.float32)
        self.saliency: np.ndarray | None = None
        self.show_guides = True
        self.show_grid = True
        self._qimg = QImage()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.canvas = _Canvas(self)
        lay.addWidget(self.canvas, 1)
        self.legend = ColorLegend("sequential", 0.0, 1.0, label="pixel value (ink)", ticks=3)
        self.legend.setMinimumWidth(0)
        lay.addWidget(self.legend)
        self.saliency_legend = MagnitudeLegend("|∂p/∂pixel| (saliency)", self)
        self.saliency_legend.setVisible(False)
        lay.addWidget(self.saliency_legend)
        self._refresh()

    def set_image(self, image28) -> None:
        img = np.asarray(image28, np.float32).reshape(SIZE, SIZE)
        self.image = img.copy()
        self._refresh()

    def set_saliency(self, saliency) -> None:
        self.saliency = None if saliency is None else np.asarray(
            saliency, np.float32).reshape(SIZE, SIZE).copy()
        self._refresh()

    def ink_box(self):
        """(row0, row1, col0, col1) of the ink (exclusive ends), or None for a blank image."""
        mask = self.image >= NOISE
        if not mask.any():
            return None
        rows = np.flatnonzero(mask.any(axis=1))
        cols = np.flatnonzero(mask.any(axis=0))
        return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1

    def centre_of_mass(self) -> tuple[float, float]:
        """(row, col) of the ink's centre of mass in pixel-index coordinates."""
        mass = float(self.image.sum())
        if mass <= 0:
            return (SIZE / 2, SIZE / 2)
        idx = np.arange(SIZE, dtype=np.float64)
        return (float(self.image.sum(axis=1) @ idx) / mass,
                float(self.image.sum(axis=0) @ idx) / mass)

    def saliency_max(self) -> float:
        if self.saliency is None:
            return 0.0
        return float(self.saliency.max())

    def pixel_text(self, r: int, c: int) -> str:
        text = f"pixel (row {r}, column {c}) = {fmt(self.image[r, c])}  (0 = paper, 1 = ink)"
        if self.saliency is not None:
            text += (f"\n|∂p/∂pixel| = {fmt(self.saliency[r, c])}: how much the top guess's "
                     f"probability p changes per unit of ink added here")
        return text

    def _refresh(self) -> None:
        if self.saliency is None:
            rgba = sequential_rgba(self.image, 0.0, 1.0)  # (28, 28, 4)
            self.legend.setVisible(True)
            self.saliency_legend.setVisible(False)
        else:
            vmax = self.saliency_max()
            rgba = diverging_rgba(self.saliency, vmax if vmax > 0 else 1.0)  # grey → orange
            # the digit as a dark silhouette underneath, so you see where the ink is
            shade = 1.0 - 0.45 * np.clip(self.image, 0.0, 1.0)[..., None]
            rgba[..., :3] = np.rint(rgba[..., :3] * shade).astype(np.uint8)
            self.saliency_legend.set_vmax(vmax)
            self.legend.setVisible(False)
            self.saliency_legend.setVisible(True)
        self._qimg = rgba_qimage(rgba)
        box = self.ink_box()
        if box is None:
            desc = "blank: no ink yet"
        else:
            cy, cx = self.centre_of_mass()
            desc = (f"ink box {box[1] - box[0]} by {box[3] - box[2]} pixels, centre of mass at "
                    f"row {fmt(cy)}, column {fmt(cx)}")
        self.setAccessibleDescription(desc)
        self.canvas.setToolTip("")
        self.canvas.update()
