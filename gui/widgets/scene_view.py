"""A detection scene on screen: the canvas (white ink on black, pixels kept square and
sharp), an optional colour layer over it (a segmentation mask, a score map) and boxes with
their labels. The detection lessons share it; it draws what it is given and computes
nothing."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from gui.widgets.qimage import rgba_qimage

__all__ = ["BoxMark", "SceneView", "CLASS_COLORS", "class_rgba"]

#: one colour per digit 0-9 (Okabe-Ito and Tol's bright scheme: distinguishable for
#: colour-blind eyes); the digit is always written beside it too, never colour alone
CLASS_COLORS = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
                "#CC79A7", "#EE6677", "#66CCEE", "#AA3377")


def class_rgba(mask: np.ndarray, background: int = 10, alpha: int = 200) -> np.ndarray:
    """(H, W, 4) uint8: each pixel in its class's colour, background transparent."""
    table = np.zeros((max(background, 10) + 1, 4), np.uint8)
    for k, name in enumerate(CLASS_COLORS):
        c = QColor(name)
        table[k] = (c.red(), c.green(), c.blue(), alpha)
    return table[np.clip(np.asarray(mask, np.int64), 0, len(table) - 1)]


@dataclass
class BoxMark:
    box: tuple                      # x0, y0, x1, y1 in canvas pixels
    color: str = "#E69F00"
    text: str = ""
    dashed: bool = False
    width: float = 2.0


class SceneView(QWidget):
    def __init__(self, name: str, parent=None):
        super().__init__(parent)
        self.setAccessibleName(name)
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._image = None
        self._canvas = 64
        self._overlay = None
        self.marks: list[BoxMark] = []
        self.caption = ""
        self.placeholder = ""

    def sizeHint(self) -> QSize:
        return QSize(320, 340)

    def set_image(self, image) -> None:
        """(H, W) floats in 0..1, white ink on black."""
        self.placeholder = ""
        g = (np.clip(np.asarray(image, np.float64), 0, 1) * 255).astype(np.uint8)
        self._canvas = g.shape[0]
        rgba = np.stack([g, g, g, np.full_like(g, 255)], axis=-1)
        self._image = rgba_qimage(rgba)
        self.update()

    def set_overlay(self, rgba) -> None:
        """(H, W, 4) uint8 drawn over the image (its alpha decides how much), or None."""
        self._overlay = None if rgba is None else rgba_qimage(rgba)
        self.update()

    def set_marks(self, marks) -> None:
        self.marks = list(marks)
        self.update()

    def set_caption(self, text: str) -> None:
        self.caption = text
        self.update()

    def set_placeholder(self, text: str) -> None:
        """Nothing to show yet: drop the image, overlay and marks and write `text` (what
        will appear, what to press) on the empty square instead of leaving it black."""
        self._image, self._overlay, self.marks = None, None, []
        self.placeholder = text
        self.setToolTip(text)
        self.update()

    def _square(self) -> QRectF:
        line = self.fontMetrics().lineSpacing()
        side = max(10.0, min(self.width(), self.height() - line - 4))
        return QRectF((self.width() - side) / 2, line + 4, side, side)

    def paintEvent(self, event):
        p = QPainter(self)
        r = self._square()
        p.setPen(self.palette().windowText().color())
        p.drawText(QRectF(0, 0, self.width(), r.top()), Qt.AlignmentFlag.AlignHCenter
                   | Qt.AlignmentFlag.AlignBottom, self.caption)
        p.fillRect(r, QColor("black"))
        if self._image is not None:
            p.drawImage(r, self._image)
        elif self.placeholder:
            p.setPen(QColor("#e6e6e6"))
            margin = min(12.0, r.width() / 10)
            p.drawText(r.adjusted(margin, margin, -margin, -margin),
                       Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       self.placeholder)
        if self._overlay is not None:
            p.drawImage(r, self._overlay)
        scale = r.width() / self._canvas
        font = QFont(self.font())
        font.setBold(True)
        p.setFont(font)
        fm = p.fontMetrics()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        for m in self.marks:
            x0, y0, x1, y1 = (float(v) for v in m.box)
            rect = QRectF(r.left() + x0 * scale, r.top() + y0 * scale, (x1 - x0) * scale,
                          (y1 - y0) * scale)
            pen = QPen(QColor(m.color), m.width)
            if m.dashed:
                pen.setStyle(Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(rect)
            if m.text:
                w = fm.horizontalAdvance(m.text) + 6
                h = fm.height()
                top = rect.top() - h if rect.top() - h >= r.top() else rect.top()
                left = min(rect.left(), r.right() - w)
                tag = QRectF(left, top, w, h)
                p.fillRect(tag, QColor(m.color))
                p.setPen(QColor("black"))
                p.drawText(tag, Qt.AlignmentFlag.AlignCenter, m.text)
        p.end()
