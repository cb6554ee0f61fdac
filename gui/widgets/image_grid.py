"""A grid of images with their predicted and true labels.

Right and wrong are told by words and symbols first (✓ / ✗, "true: cat"), with a green or
red frame as a second cue: colour never carries the meaning alone.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPoint, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from gui.widgets.numbers import fmt
from gui.widgets.qimage import rgba_qimage

RIGHT_COLOR = QColor("#1a9850")
WRONG_COLOR = QColor("#d73027")


def image_qimage(image: np.ndarray) -> QImage:
    """(H, W) / (H, W, 1) / (H, W, 3) floats in [0, 1] → QImage (RGBA, owning its pixels)."""
    a = np.asarray(image, dtype=np.float32)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)                           # (H, W, 3)
    if a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"an image is (H, W), (H, W, 1) or (H, W, 3), got {a.shape}")
    rgba = np.empty(a.shape[:2] + (4,), np.uint8)                        # (H, W, 4)
    rgba[..., :3] = np.rint(np.clip(a, 0.0, 1.0) * 255).astype(np.uint8)
    rgba[..., 3] = 255
    return rgba_qimage(rgba)


class ImageGrid(QWidget):
    """`set_items(images, predicted, true, confidence=None)`; names are strings."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._images: list[QImage] = []
        self._pred: list[str] = []
        self._true: list[str] = []
        self._conf: list[float | None] = []
        self.setMouseTracking(True)
        self.setMinimumSize(200, 150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("test images with predicted and true labels")

    def set_items(self, images, predicted, true, confidence=None) -> None:
        n = len(images)
        if len(predicted) != n or len(true) != n:
            raise ValueError("images, predicted and true labels must have the same length")
        self._images = [image_qimage(im) for im in images]
        self._pred = [str(p) for p in predicted]
        self._true = [str(t) for t in true]
        self._conf = list(confidence) if confidence is not None else [None] * n
        right = sum(p == t for p, t in zip(self._pred, self._true))
        self.setAccessibleDescription(f"{n} images, {right} predicted right, {n - right} wrong")
        self.update()

    def clear(self) -> None:
        self.set_items([], [], [])

    def count(self) -> int:
        return len(self._images)

    def correct(self) -> list[bool]:
        return [p == t for p, t in zip(self._pred, self._true)]

    def caption(self, i: int) -> tuple[str, str]:
        """The two text lines under image i (what a learner reads)."""
        p, t = self._pred[i], self._true[i]
        if p == t:
            return f"✓ {p}", "right"
        return f"✗ {p}", f"true: {t}"

    # --- layout and painting -------------------------------------------------------------
    def _layout(self):
        """(columns, image side, cell width, caption height, gap, x0): the largest images for
        which every cell, caption included, fits the widget."""
        n = max(1, self.count())
        fm = QFontMetrics(self.font())
        text_h = 2 * fm.height() + 2
        gap = 8
        min_w = max(fm.horizontalAdvance(self.caption(i)[k]) for i in range(self.count())
                    for k in (0, 1)) + 4 if self.count() else 40
        best = (1, 8.0, float(min_w))
        for cols in range(1, n + 1):
            cell_w = (self.width() - gap * (cols - 1)) / cols
            if cell_w < min_w and cols > 1:
                break
            rows = math.ceil(n / cols)
            side = min(cell_w, (self.height() - rows * (text_h + gap)) / rows)
            if side > best[1]:
                best = (cols, side, max(cell_w, float(min_w)))
        cols, side, cell_w = best
        cell_w = max(side, min(cell_w, side + 2 * gap + min_w))
        total_w = cols * cell_w + (cols - 1) * gap
        x0 = max(0.0, (self.width() - total_w) / 2)
        return cols, side, cell_w, text_h, gap, x0

    def paintEvent(self, event):
        if not self._images:
            return
        p = QPainter(self)
        cols, side, cell_w, text_h, gap, x0 = self._layout()
        fm = QFontMetrics(self.font())
        text_color = self.palette().color(self.foregroundRole())
        for i, img in enumerate(self._images):
            r, c = divmod(i, cols)
            x = x0 + c * (cell_w + gap)
            y = r * (side + text_h + gap)
            ix = x + (cell_w - side) / 2
            p.drawImage(QRectF(ix, y, side, side), img)
            ok = self._pred[i] == self._true[i]
            pen = QPen(RIGHT_COLOR if ok else WRONG_COLOR, 3)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            p.setPen(pen)
            p.drawRect(QRectF(ix, y, side, side))
            line1, line2 = self.caption(i)
            p.setPen(RIGHT_COLOR.darker(130) if ok else WRONG_COLOR.darker(115))
            p.drawText(QRectF(x, y + side + 1, cell_w, fm.height()),
                       Qt.AlignmentFlag.AlignCenter, line1)
            p.setPen(text_color)
            p.drawText(QRectF(x, y + side + 1 + fm.height(), cell_w, fm.height()),
                       Qt.AlignmentFlag.AlignCenter, line2)
        p.end()

    def index_at(self, pos) -> int | None:
        if not self._images:
            return None
        cols, side, cell_w, text_h, gap, x0 = self._layout()
        c = math.floor((pos.x() - x0) / (cell_w + gap))
        r = math.floor(pos.y() / (side + text_h + gap))
        if c < 0 or c >= cols or r < 0:
            return None
        i = r * cols + c
        return i if i < len(self._images) else None

    def mouseMoveEvent(self, event):
        i = self.index_at(event.position())
        if i is None:
            QToolTip.hideText()
            return
        conf = self._conf[i]
        extra = f"\nconfidence (softmax probability): {fmt(conf)}" if conf is not None else ""
        verdict = "right" if self._pred[i] == self._true[i] else "wrong"
        QToolTip.showText(event.globalPosition().toPoint() + QPoint(12, 12),
                          f"predicted: {self._pred[i]}\ntrue: {self._true[i]} ({verdict})"
                          f"{extra}", self)

    def sizeHint(self) -> QSize:
        return QSize(480, 300)
