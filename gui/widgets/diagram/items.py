"""QGraphicsItems of the network diagram: nodes, edges, bias squares, the input image.

Items are created once per model and only recoloured on each animation frame. Each
interactive item carries a `key` — ("node", column, unit), ("edge", column, i, j),
("bias", column, unit), ("pixel", column, unit), ("loss",) — and reports hover and
clicks to its scene's `item_hovered(key)` / `item_clicked(key, scene_pos)`, so the
formulas live in one place and every item stays a thin drawing.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import (QGraphicsEllipseItem, QGraphicsItem, QGraphicsLineItem,
                               QGraphicsPathItem, QGraphicsPixmapItem, QGraphicsRectItem,
                               QGraphicsSimpleTextItem)

TEXT_COLOR = QColor("#1d232b")
MUTED_COLOR = QColor("#5b6470")
OUTLINE_COLOR = QColor("#5b626c")
#: the width a thin edge is hit-tested with, so a 1-px line is still easy to hover
EDGE_HIT_WIDTH = 7.0


class _Reporting:
    """Mix-in: forward hover and clicks to the scene, which knows what the key means."""

    key: tuple = ()

    def _report_hover(self, on: bool):
        scene = self.scene()
        if scene is not None and hasattr(scene, "item_hovered"):
            scene.item_hovered(self.key if on else None, self)

    def hoverEnterEvent(self, event):
        self._report_hover(True)
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event):
        self._report_hover(False)
        super().hoverLeaveEvent(event)

    def mousePressEvent(self, event):
        scene = self.scene()
        if event.button() == Qt.MouseButton.LeftButton and hasattr(scene, "item_clicked"):
            if scene.item_clicked(self.key, event.scenePos()):
                event.accept()
                return
        super().mousePressEvent(event)


class NodeItem(_Reporting, QGraphicsEllipseItem):
    """A neuron: filled by its activation, value written inside when there is room."""

    def __init__(self, key, center: QPointF, radius: float, font: QFont, show_text: bool):
        super().__init__(QRectF(center.x() - radius, center.y() - radius, 2 * radius, 2 * radius))
        self.key = key
        self.center = center
        self.radius = radius
        self.setAcceptHoverEvents(True)
        self.setZValue(3)
        self.setPen(QPen(OUTLINE_COLOR, 1.2))
        self.setBrush(QBrush(QColor("white")))
        self.text = QGraphicsSimpleTextItem(self) if show_text else None
        if self.text is not None:
            self.text.setFont(font)
            self.text.setAcceptHoverEvents(False)
        self._shown_text = None

    def set_value_text(self, text: str, color: QColor) -> None:
        if self.text is None or (text, color.rgb()) == self._shown_text:
            return
        self._shown_text = (text, color.rgb())
        self.text.setText(text)
        self.text.setBrush(color)
        r = self.text.boundingRect()
        # a long number ("-0.001234") shrinks to stay inside its circle
        fit = min(1.0, 1.8 * self.radius / max(r.width(), 1.0))
        self.text.setTransformOriginPoint(r.center())
        self.text.setScale(fit)
        self.text.setPos(self.center.x() - r.width() / 2, self.center.y() - r.height() / 2)


class BiasItem(_Reporting, QGraphicsRectItem):
    """The bias of a unit: a small square at the node's lower left, coloured like a weight."""

    def __init__(self, key, node_center: QPointF, radius: float):
        s = max(7.0, radius * 0.5)
        x = node_center.x() - radius * 0.78 - s / 2
        y = node_center.y() + radius * 0.62 - s / 2
        super().__init__(QRectF(x, y, s, s))
        self.key = key
        self.setAcceptHoverEvents(True)
        self.setZValue(4)
        self.setPen(QPen(OUTLINE_COLOR, 0.8))
        self.setCursor(Qt.CursorShape.PointingHandCursor)


class EdgeItem(_Reporting, QGraphicsLineItem):
    """One weight, for hover and clicks only: its EdgeLayerItem draws it.

    Pooled: the scene reassigns its key and line when the K strongest change. It paints
    nothing itself, so hundreds of them cost no drawing time.
    """

    def __init__(self):
        super().__init__()
        self.key = ()
        self.setAcceptHoverEvents(True)
        self.setZValue(1)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._hit = None
        self.value_pen = QPen()      # what the layer draws for this edge (tests read it)

    def setLine(self, *args):
        self._hit = None
        super().setLine(*args)

    def shape(self) -> QPainterPath:
        if self._hit is None:
            path = QPainterPath(self.line().p1())
            path.lineTo(self.line().p2())
            stroker = QPainterPathStroker()
            stroker.setWidth(max(EDGE_HIT_WIDTH, self.value_pen.widthF()))
            self._hit = stroker.createStroke(path)
        return self._hit

    def boundingRect(self) -> QRectF:
        return self.shape().boundingRect()

    def paint(self, painter, option, widget=None):
        pass


class EdgeLayerItem(QGraphicsItem):
    """All edges between two columns, painted in one go and cached as a pixmap.

    Antialiased lines are the costly part of a frame; most frames only change a layer's
    opacity (which the cache blits) and not its colours, so the lines are rasterised
    again only when `set_edges` gives new ones.
    """

    def __init__(self):
        super().__init__()
        self.setZValue(0.9)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptHoverEvents(False)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._lines: list = []
        self._pens: list = []
        self._rect = QRectF()

    def set_edges(self, lines: list, pens: list) -> None:
        self.prepareGeometryChange()
        self._lines, self._pens = lines, pens
        rect = QRectF()
        for ln in lines:
            rect = rect.united(QRectF(ln.p1(), ln.p2()).normalized())
        self._rect = rect.adjusted(-6, -6, 6, 6)
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter, option, widget=None):
        for ln, pen in zip(self._lines, self._pens):
            painter.setPen(pen)
            painter.drawLine(ln)


class PixelImageItem(_Reporting, QGraphicsPixmapItem):
    """The input drawn as an image (28×28 for MNIST); hovering reports the pixel's unit."""

    def __init__(self, key_column: int, shape_hwc: tuple, rect: QRectF):
        super().__init__()
        self.column = key_column
        self.shape_hwc = shape_hwc
        self.rect = rect
        self.key = ("pixel", key_column, -1)
        self.setAcceptHoverEvents(True)
        # above the edges: the digit stays clean, and its lines fan out from the row they start at
        self.setZValue(2)
        self.setTransformationMode(Qt.TransformationMode.FastTransformation)  # crisp pixels
        self.setShapeMode(QGraphicsPixmapItem.ShapeMode.BoundingRectShape)
        self.setPos(rect.topLeft())

    def unit_at(self, pos: QPointF) -> int:
        """Flat input unit (channel 0) under a point in item coordinates (= pixels)."""
        h, w, c = self.shape_hwc
        col = min(max(int(pos.x()), 0), w - 1)
        row = min(max(int(pos.y()), 0), h - 1)
        return (row * w + col) * c

    def pixel_center(self, unit: int) -> QPointF:
        h, w, c = self.shape_hwc
        pix = unit // c
        row, col = divmod(pix, w)
        return QPointF(self.rect.left() + (col + 0.5) * self.rect.width() / w,
                       self.rect.top() + (row + 0.5) * self.rect.height() / h)

    def hoverEnterEvent(self, event):
        self.key = ("pixel", self.column, self.unit_at(event.pos()))
        super().hoverEnterEvent(event)

    def hoverMoveEvent(self, event):
        key = ("pixel", self.column, self.unit_at(event.pos()))
        if key != self.key:
            self.key = key
            self._report_hover(True)
        super().hoverMoveEvent(event)


class LaneItem(QGraphicsPathItem):
    """A rounded band behind a column, tinted with the accent of the pass that is there."""

    def __init__(self, rect: QRectF):
        path = QPainterPath()
        path.addRoundedRect(rect, 12, 12)
        super().__init__(path)
        self.setZValue(-2)
        self.setPen(QPen(Qt.PenStyle.NoPen))
        self.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        self._accent = None

    def set_accent(self, color: QColor | None) -> None:
        rgb = None if color is None else color.rgb()
        if rgb == self._accent:
            return
        self._accent = rgb
        if color is None:
            self.setPen(QPen(Qt.PenStyle.NoPen))
            self.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        else:
            tint = QColor(color)
            tint.setAlpha(28)
            self.setBrush(QBrush(tint))
            self.setPen(QPen(color, 2.0))


class BoxItem(_Reporting, QGraphicsPathItem):
    """A rounded box with centred text lines (conv/pool blocks, the loss)."""

    def __init__(self, key, rect: QRectF, font: QFont):
        path = QPainterPath()
        path.addRoundedRect(rect, 8, 8)
        super().__init__(path)
        self.key = key
        self.rect = rect
        self.setAcceptHoverEvents(True)
        self.setZValue(3)
        self.setPen(QPen(OUTLINE_COLOR, 1.2))
        self.setBrush(QBrush(QColor("#fbfbfc")))
        self.label = QGraphicsSimpleTextItem(self)
        self.label.setFont(font)
        self.label.setBrush(TEXT_COLOR)

    def set_text(self, text: str, color: QColor = TEXT_COLOR, top: bool = False) -> None:
        self.label.setText(text)
        self.label.setBrush(color)
        r = self.label.boundingRect()
        y = self.rect.top() + 8 if top else self.rect.center().y() - r.height() / 2
        self.label.setPos(self.rect.center().x() - r.width() / 2, y)


def text_item(scene, text: str, font: QFont, color: QColor = TEXT_COLOR, z: float = 5):
    item = QGraphicsSimpleTextItem(text)
    item.setFont(font)
    item.setBrush(color)
    item.setZValue(z)
    scene.addItem(item)
    # keep the Python side alive as long as the scene: PySide6 deletes a label made here
    # whose wrapper was dropped as soon as someone walks scene.items() and lets go again
    kept = getattr(scene, "text_items", None)
    if kept is not None:
        kept.append(item)
    return item


def place(item: QGraphicsSimpleTextItem, x: float, y: float, align: str = "center") -> None:
    """Position a text item by its left / centre / right edge at x, vertical centre at y."""
    r = item.boundingRect()
    dx = {"left": 0.0, "center": -r.width() / 2, "right": -r.width()}[align]
    item.setPos(x + dx, y - r.height() / 2)


class LabelBackground(QGraphicsRectItem):
    """A soft white plate behind an edge label, so it reads over crossing lines."""

    def __init__(self):
        super().__init__()
        self.setZValue(2.5)
        self.setPen(QPen(Qt.PenStyle.NoPen))
        self.setBrush(QBrush(QColor(255, 255, 255, 215)))
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresParentOpacity)
