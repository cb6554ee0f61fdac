"""The neuron's loss as a computational graph (QGraphicsScene), for the chain-rule lesson.

    x1 ─┐
    w1 ─┤
    x2 ─┼─▶ z ─▶ ŷ ─▶ L ◀─ y
    w2 ─┤
    b  ─┘

Forward arrows in FORWARD_COLOR carry each edge's local derivative as a label; stepping
backward lights the path from L to the current node in BACKWARD_COLOR and writes ∂L/∂node
beside every node reached so far. Every number has its formula as a tooltip. The
numbers come from core.teaching.stepper.ChainGraph; this widget only draws them.
"""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (QGraphicsEllipseItem, QGraphicsItem, QGraphicsPathItem,
                               QGraphicsRectItem, QGraphicsScene, QGraphicsSimpleTextItem,
                               QGraphicsView)

from gui.widgets.colors import BACKWARD_COLOR, FORWARD_COLOR
from gui.widgets.numbers import fmt, mono_font

TEXT = QColor("#1d232b")
MUTED = QColor("#6b7280")
EDGE_IDLE = QColor("#9aa3ad")
NODE_FILL = {"input": QColor("#eef1f4"), "param": QColor("#fff4e6"), "target": QColor("#eef1f4"),
             "op": QColor("#ffffff"), "loss": QColor("#ffffff")}

#: node centres in scene units; leaves on the left, the loss on the right
POSITIONS = {"x1": (165, 30), "w1": (165, 86), "x2": (165, 142), "w2": (165, 198),
             "b": (165, 254), "z": (450, 142), "ŷ": (665, 142), "L": (880, 142),
             "y": (665, 254)}
RADIUS = 29
#: where along a leaf's edge its derivative label sits (0 = leaf, 1 = z)
LABEL_AT = 0.42


class _Label(QGraphicsSimpleTextItem):
    """Text on a white card, so it stays readable over lines; hover shows its formula."""

    def __init__(self, text: str, font: QFont, color: QColor = TEXT, parent=None):
        super().__init__(text, parent)
        self.setFont(font)
        self.setBrush(QBrush(color))
        self.card = QGraphicsRectItem()
        self.card.setPen(QPen(Qt.PenStyle.NoPen))
        self.card.setBrush(QBrush(QColor(255, 255, 255, 235)))
        self.setAcceptHoverEvents(True)
        self.setZValue(6)
        self.card.setZValue(5)

    def place(self, x: float, y: float, align: str = "center") -> None:
        r = self.boundingRect()
        dx = {"center": -r.width() / 2, "left": 0.0, "right": -r.width()}[align]
        self.setPos(x + dx, y - r.height() / 2)
        self.card.setRect(QRectF(self.pos().x() - 3, self.pos().y() - 1, r.width() + 6,
                                 r.height() + 2))

    def set_visible(self, on: bool) -> None:
        self.setVisible(on)
        self.card.setVisible(on)


class ChainGraphView(QGraphicsView):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setAccessibleName("Computational graph of the neuron's loss")
        self.scene_ = QGraphicsScene(self)
        self.setScene(self.scene_)
        self.graph = None
        self.step = 0
        self.node_items: dict[str, QGraphicsEllipseItem] = {}
        self.value_labels: dict[str, _Label] = {}
        self.grad_labels: dict[str, _Label] = {}
        self.edge_items: dict[tuple[str, str], QGraphicsPathItem] = {}
        self.edge_labels: dict[tuple[str, str], _Label] = {}
        self._titles: dict[str, _Label] = {}
        self._font = QFont(self.font())
        self._mono = mono_font()
        self._bold = QFont(self.font())
        self._bold.setWeight(QFont.Weight.Bold)
        self._bold.setPointSizeF(self._bold.pointSizeF() * 1.15)

    # --- building ------------------------------------------------------------------------
    def set_graph(self, graph) -> None:
        """Draw `graph` (core.teaching.stepper.ChainGraph); keeps the current step if it exists."""
        first = self.graph is None
        self.graph = graph
        if first:
            self._build()
        self._refresh_numbers()
        self.set_step(min(self.step, len(graph.backward)))

    def _add(self, item: QGraphicsItem) -> QGraphicsItem:
        self.scene_.addItem(item)
        return item

    def _build(self) -> None:
        g = self.graph
        for e in g.edges:
            path = QGraphicsPathItem()
            path.setZValue(1)
            self.edge_items[(e.src, e.dst)] = self._add(path)
            label = _Label("", self._mono, TEXT)
            self._add(label.card)
            self.edge_labels[(e.src, e.dst)] = self._add(label)
        for name, node in g.nodes.items():
            x, y = POSITIONS[name]
            if node.role in ("param", "input", "target"):
                item = QGraphicsPathItem()
                p = QPainterPath()
                p.addRoundedRect(QRectF(x - RADIUS, y - RADIUS * 0.8, 2 * RADIUS, 1.6 * RADIUS),
                                 8, 8)
                item.setPath(p)
            else:
                item = QGraphicsEllipseItem(x - RADIUS, y - RADIUS, 2 * RADIUS, 2 * RADIUS)
            item.setBrush(QBrush(NODE_FILL[node.role]))
            item.setPen(QPen(TEXT, 1.4))
            item.setZValue(3)
            item.setAcceptHoverEvents(True)
            self.node_items[name] = self._add(item)
            title = _Label(name, self._bold, TEXT)
            title.card.setVisible(False)
            title.setZValue(7)
            self._add(title)
            title.place(x, y - 8)
            value = _Label("", self._mono, TEXT)
            value.card.setVisible(False)
            value.setZValue(7)
            self._add(value)
            self.value_labels[name] = value
            grad = _Label("", self._mono, BACKWARD_COLOR)
            self._add(grad.card)
            self.grad_labels[name] = self._add(grad)
            title.setToolTip(node.formula)
            self._titles[name] = title
        self._draw_edges()
        roles = _Label("rounded boxes: inputs and weights (what is given or learned) · "
                       "circles: computed", self._font, MUTED)
        roles.card.setVisible(False)
        self._add(roles)
        roles.place(520, 296)
        self.scene_.setSceneRect(QRectF(0, 0, 960, 310))

    def _draw_edges(self) -> None:
        for (src, dst), item in self.edge_items.items():
            (x0, y0), (x1, y1) = POSITIONS[src], POSITIONS[dst]
            ang = math.atan2(y1 - y0, x1 - x0)
            start = QPointF(x0 + RADIUS * math.cos(ang), y0 + RADIUS * 0.8 * math.sin(ang))
            end = QPointF(x1 - (RADIUS + 2) * math.cos(ang), y1 - (RADIUS + 2) * math.sin(ang))
            path = QPainterPath(start)
            path.lineTo(end)
            # arrow head at the forward end
            head = QPolygonF([end,
                              end - QPointF(11 * math.cos(ang - 0.4), 11 * math.sin(ang - 0.4)),
                              end - QPointF(11 * math.cos(ang + 0.4), 11 * math.sin(ang + 0.4)),
                              end])
            path.addPolygon(head)
            item.setPath(path)

    def _edge_label_pos(self, src: str, dst: str) -> tuple[float, float]:
        (x0, y0), (x1, y1) = POSITIONS[src], POSITIONS[dst]
        if dst == "z":
            t = LABEL_AT
            return x0 + (x1 - x0) * t + 10, y0 + (y1 - y0) * t
        if src == "y":
            return (x0 + x1) / 2 + 40, (y0 + y1) / 2 + 12
        return (x0 + x1) / 2, y0 - 16

    def _refresh_numbers(self) -> None:
        g = self.graph
        for name, node in g.nodes.items():
            x, y = POSITIONS[name]
            self.node_items[name].setToolTip(node.formula)
            self._titles[name].setToolTip(node.formula)
            v = self.value_labels[name]
            v.setText(fmt(node.value))
            v.setToolTip(node.formula + f"\n= {node.value!r}")
            v.place(x, y + 9)
        for e in g.edges:
            lbl = self.edge_labels[(e.src, e.dst)]
            lbl.setText(f"{e.symbol} = {fmt(e.value)}" if e.symbol else "compared with")
            lbl.setToolTip(e.formula)
            self.edge_items[(e.src, e.dst)].setToolTip(e.formula)
            lbl.place(*self._edge_label_pos(e.src, e.dst))

    # --- stepping ------------------------------------------------------------------------
    def set_step(self, step: int) -> None:
        """0: the forward values only; k ≥ 1: backward steps 1..k done, step k current."""
        g = self.graph
        self.step = max(0, min(int(step), len(g.backward)))
        done = {s.node: s for s in g.backward[:self.step]}
        current = g.backward[self.step - 1] if self.step else None
        on_path = set()
        if current is not None:
            on_path = set(zip(current.path[1:], current.path[:-1]))   # (src, dst) forward
        for (src, dst), item in self.edge_items.items():
            hot = (src, dst) in on_path
            color = BACKWARD_COLOR if hot else (EDGE_IDLE if self.step else FORWARD_COLOR)
            item.setPen(QPen(color, 4.0 if hot else 1.6))
            item.setBrush(QBrush(color))
            lbl = self.edge_labels[(src, dst)]
            font = QFont(self._mono)
            font.setWeight(QFont.Weight.Bold if hot else QFont.Weight.Normal)
            lbl.setFont(font)
            lbl.setBrush(QBrush(BACKWARD_COLOR if hot else TEXT))
            lbl.place(*self._edge_label_pos(src, dst))
        for name, item in self.node_items.items():
            is_current = current is not None and current.node == name
            item.setPen(QPen(BACKWARD_COLOR if is_current else TEXT, 3.5 if is_current else 1.4))
            lbl = self.grad_labels[name]
            s = done.get(name)
            lbl.set_visible(s is not None)
            if s is None:
                continue
            lbl.setText(f"{s.symbol} = {fmt(s.value)}")
            lbl.setToolTip(s.formula)
            x, y = POSITIONS[name]
            if self.graph.nodes[name].role == "param":
                lbl.place(x - RADIUS - 8, y, "right")
            else:
                lbl.place(x, y - RADIUS - 14)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self.fitInView(self.scene_.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def showEvent(self, event):
        super().showEvent(event)
        self.fitInView(self.scene_.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
