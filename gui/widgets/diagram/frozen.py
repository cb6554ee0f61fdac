"""Frozen layers (Keras's `layer.trainable = False`) drawn visibly frozen.

A column whose weights training never changes gets a cool grey-blue band behind it and a
padlock beside its title; the diagram's legend says what the mark means. Kept apart from
the scene's layout code so the frozen styling is one small, separate piece.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetrics, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsPathItem, QHBoxLayout, QLabel, QWidget

FROZEN_TINT = QColor(120, 150, 185, 46)      # cool grey-blue, light enough to read over
FROZEN_INK = QColor(70, 95, 125)
FROZEN_WORDS = "frozen: training never changes these weights"


def frozen_columns(columns, model) -> set[int]:
    """Indices of the columns whose weights are frozen (a layer with weights and
    trainable False); nothing when the diagram has no model (drawn from a trace)."""
    if model is None:
        return set()
    out = set()
    for col in columns:
        k = col.param_layer
        if k is not None and 0 <= k < len(model.layers):
            layer = model.layers[k]
            if getattr(layer, "trainable", True) is False and getattr(layer, "params", None):
                out.add(col.index)
    return out


def lock_path(x: float, y: float, size: float) -> QPainterPath:
    """A padlock (shackle over a body) of height `size`, its centre at (x, y): drawn, not a
    glyph, so it never depends on the machine's fonts."""
    body_w, body_h = 0.8 * size, 0.55 * size
    top = y - size / 2
    path = QPainterPath()
    path.addRoundedRect(QRectF(x - body_w / 2, top + size - body_h, body_w, body_h), 2, 2)
    sw = 0.52 * size
    arc = QRectF(x - sw / 2, top, sw, sw)
    shackle = QPainterPath(QPointF(arc.left(), top + size - body_h))
    shackle.lineTo(QPointF(arc.left(), arc.center().y()))
    shackle.arcTo(arc, 180, -180)               # over the top, left to right
    shackle.lineTo(QPointF(arc.right(), top + size - body_h))
    path.addPath(shackle)
    return path


class LockItem(QGraphicsPathItem):
    def __init__(self, x: float, y: float, size: float):
        super().__init__(lock_path(x, y, size))
        self.setPen(QPen(FROZEN_INK, max(1.5, size / 9)))
        self.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        self.setZValue(3)
        self.setToolTip(FROZEN_WORDS[0].upper() + FROZEN_WORDS[1:] + " (trainable = False)")


def mark_frozen(scene, frozen: set[int]) -> list:
    """Tint each frozen column's band and put a padlock beside its title; returns the
    items added (the scene owns them and clears them on its next build)."""
    added = []
    for k in sorted(frozen):
        if k >= len(scene.lanes):
            continue
        rect = _band_rect(scene, k)
        band = QGraphicsPathItem()
        path = QPainterPath()
        path.addRoundedRect(rect, 12, 12)
        band.setPath(path)
        band.setBrush(QBrush(FROZEN_TINT))
        band.setPen(QPen(FROZEN_INK, 1.2, Qt.PenStyle.DashLine))
        band.setZValue(-2.5)               # under the lane's phase accent and every node
        band.setToolTip(f"{scene.columns[k].title}: {FROZEN_WORDS}")
        scene.addItem(band)
        size = max(12.0, scene.line * 0.9)
        # at the foot of the band, under the units: the header above is full of words
        lock = LockItem(rect.center().x(), rect.bottom() - size / 2 - 6, size)
        scene.addItem(lock)
        added += [band, lock]
    return added


def _band_rect(scene, k: int) -> QRectF:
    """The column's band, widened to its title and subtitle so no word is cut by the
    band's edge."""
    rect = scene.lanes[k].path().boundingRect()
    col = scene.columns[k]
    words = [QFontMetrics(scene.bold).horizontalAdvance(col.title)]
    words += [QFontMetrics(scene.font).horizontalAdvance(part)
              for part in col.subtitle.replace(" → ", "\n").replace(" · ", "\n").split("\n")]
    extra = max(0.0, (max(words) + 16 - rect.width()) / 2)
    return rect.adjusted(-extra, 0, extra, 0)


def lock_pixmap(size: int) -> QPixmap:
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(FROZEN_INK, max(1.5, size / 9)))
    p.drawPath(lock_path(size / 2, size / 2, size - 3))
    p.end()
    return pix


class FrozenLegend(QWidget):
    """Padlock + "frozen: training never changes these weights", shown only when the
    diagram has a frozen column."""

    def __init__(self, parent=None):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        self.icon = QLabel(self)
        self.text = QLabel(FROZEN_WORDS, self)
        self.icon.setPixmap(lock_pixmap(self.text.fontMetrics().height()))
        row.addWidget(self.icon)
        row.addWidget(self.text)
        row.addStretch(1)
        self.setToolTip("Layers with trainable = False: the optimizer leaves their weights "
                        "exactly as they are")
        self.setAccessibleName("Frozen layers legend")
        self.hide()
