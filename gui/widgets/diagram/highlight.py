"""The selected quantity in a network diagram, and the inline editor for a weight.

`Highlighter` draws a halo around one node, edge or bias with a short callout of its
numbers (w, ∂L/∂w, …), so the backprop stepper can point at "this one". The highlighted
edge is drawn even when it is not among the K strongest. `InlineEditor` is the small
number field that opens where the learner clicked a weight.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QLineF, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import (QDoubleSpinBox, QGraphicsEllipseItem, QGraphicsLineItem,
                               QGraphicsRectItem)

from gui.widgets.diagram import items as di
from gui.widgets.colors import BACKWARD_COLOR, FORWARD_COLOR, diverging_color
from gui.widgets.numbers import fmt


class Highlighter:
    def __init__(self, scene):
        self.scene = scene
        self.key = None
        self._items = None

    def attach(self) -> None:
        """Create the halo items (after the scene was rebuilt, which deleted the old ones)."""
        s = self.scene
        ring = QGraphicsEllipseItem()
        box = QGraphicsRectItem()
        halo, core = QGraphicsLineItem(), QGraphicsLineItem()
        plate = di.LabelBackground()
        text = di.text_item(s, "", s.mono, z=8.1)
        for item, z in ((ring, 6), (box, 6), (halo, 1.4), (core, 1.6), (plate, 8)):
            s.addItem(item)
            item.setZValue(z)
        self._items = dict(ring=ring, box=box, halo=halo, core=core, plate=plate, text=text)
        self._hide()
        if self.key is not None and not self._valid(self.key):
            self.key = None

    def detach(self) -> None:
        self._items = None

    def set_key(self, key) -> None:
        self.key = key

    def _valid(self, key) -> bool:
        """The key names a unit or weight of the present columns. A key kept from a larger
        network (the learner made a layer smaller mid-walk) is dropped, not looked up."""
        if key[0] == "loss":
            return True
        cols, k = self.scene.columns, key[1]
        if not 0 <= k < len(cols):
            return False
        if key[0] == "edge":
            return k >= 1 and 0 <= key[2] < cols[k - 1].units and 0 <= key[3] < cols[k].units
        if key[0] in ("node", "bias", "pixel"):
            return 0 <= key[2] < cols[k].units
        return True

    def _hide(self) -> None:
        for item in (self._items or {}).values():
            item.setVisible(False)

    def render(self, view, widget) -> None:
        if self._items is None:
            return
        self._hide()
        key = self.key
        if key is None or not self._valid(key):
            return
        s, it = self.scene, self._items
        accent = BACKWARD_COLOR if view.phase == "backward" else FORWARD_COLOR
        snap, k = view.snap, key[1]
        col = s.columns[k]
        callout, at = "", None
        if key[0] == "node":
            node = s.nodes.get(k, {}).get(key[2])
            if node is None:
                return
            r = node.radius + 6
            it["ring"].setRect(QRectF(node.center.x() - r, node.center.y() - r, 2 * r, 2 * r))
            it["ring"].setPen(QPen(accent, 4))
            it["ring"].setVisible(True)
            parts = []
            if view.values_known(k) and snap.values[k] is not None:
                parts.append(f"a = {fmt(snap.values[k][key[2]])}")
            g = snap.grad_z.get(k, snap.grad_a.get(k))
            if view.grads_known(k) and g is not None:
                parts.append(f"{'∂L/∂z' if k in snap.grad_z else '∂L/∂a'} = {fmt(g[key[2]])}")
            callout = "   ".join(parts)
            # beside the node (left of the output column, whose labels are on the right),
            # never over the column's title
            it["text"].setText(callout)
            half = it["text"].boundingRect().width() / 2
            last = k == len(s.columns) - 1
            at = QPointF(node.center.x() + (-(r + 4 + half) if last else r + 4 + half),
                         node.center.y() - node.radius - 4)
        elif key[0] == "bias":
            sq = s.biases.get(k, {}).get(key[2])
            if sq is None:
                return
            it["box"].setRect(sq.rect().adjusted(-4, -4, 4, 4))
            it["box"].setPen(QPen(accent, 3))
            it["box"].setVisible(True)
            callout = self._param_callout(view, col, "bias", (key[2],), "b")
            at = QPointF(sq.rect().center().x(), sq.rect().bottom() + 16)
        elif key[0] == "edge":
            i, j = key[2], key[3]
            prev = s.columns[k - 1]
            if j not in s.nodes.get(k, {}) or (prev.kind != "image" and i not in s.nodes.get(k - 1, {})):
                return
            line = QLineF(s._anchor(k - 1, i, "right"), s._anchor(k, j, "left"))
            it["halo"].setLine(line)
            c = QColor(accent)
            c.setAlpha(110)
            halo_pen = QPen(c, 12)
            halo_pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            it["halo"].setPen(halo_pen)
            params = snap.params_after if view.after and snap.params_after else snap.params
            w = float(params[col.param_layer]["kernel"][i, j])
            it["core"].setLine(line)
            it["core"].setPen(QPen(diverging_color(w, s.edge_vmax), 3))
            it["halo"].setVisible(True)
            it["core"].setVisible(True)
            callout = self._param_callout(view, col, "kernel", (i, j), "w")
            at = line.pointAt(0.5) + QPointF(0, -18)
            # never over the names left of the source column
            it["text"].setText(callout)
            half = it["text"].boundingRect().width() / 2
            at.setX(max(at.x(), line.p1().x() + half + 6))
        if callout and at is not None:
            t, plate = it["text"], it["plate"]
            t.setText(callout)
            t.setBrush(accent)
            r = t.boundingRect()
            at = self._free_spot(at, r.width() + 8, r.height() + 4)
            t.setPos(at.x() - r.width() / 2, at.y() - r.height() / 2)
            plate.setRect(QRectF(at.x() - r.width() / 2 - 4, at.y() - r.height() / 2 - 2,
                                 r.width() + 8, r.height() + 4))
            plate.setPen(QPen(accent, 1.2))
            t.setVisible(True)
            plate.setVisible(True)

    def _obstacles(self) -> list[QRectF]:
        """What the callout must not cover: the edge numbers, output labels, gradients
        under the neurons, and the neurons. (Read from the scene's own lists: walking
        scene.items() from here let PySide delete labels nobody else referenced.)"""
        s = self.scene
        texts = [t for labels in s.edge_labels.values() for _, t in labels]
        texts += list(s.out_labels.values())
        texts += [t for col in s.grad_texts.values() for t in col.values()]
        rects = [t.sceneBoundingRect() for t in texts if t.isVisible() and t.text().strip()]
        for col in s.nodes.values():
            rects.extend(node.sceneBoundingRect() for u, node in col.items() if u != "more")
        return rects

    def _free_spot(self, at: QPointF, w: float, h: float) -> QPointF:
        """`at`, or the nearest spot around it (above, below, either side) where a w×h
        callout covers no other label and no neuron; `at` if none is free."""
        obstacles = self._obstacles()
        steps = [(0, 0)] + [(dx, sign * n * (h + 4)) for n in range(0, 6)
                            for dx in (0, w / 2 + 8, -w / 2 - 8) for sign in (-1, 1)]
        for dx, dy in steps:
            p = QPointF(at.x() + dx, at.y() + dy)
            rect = QRectF(p.x() - w / 2, p.y() - h / 2, w, h)
            if not any(rect.intersects(o) for o in obstacles):
                return p
        return at

    @staticmethod
    def _param_callout(view, col, param: str, index: tuple, sym: str) -> str:
        snap = view.snap
        before = float(snap.params[col.param_layer][param][index])
        parts = [f"{sym} = {fmt(before)}"]
        if view.after and col.param_layer in snap.params_after:
            parts = [f"{sym}: {fmt(before)} → {fmt(snap.params_after[col.param_layer][param][index])}"]
        g = snap.grads.get(col.param_layer)
        if g is not None and view.grads_known(col.index):
            parts.append(f"∂L/∂{sym} = {fmt(g[param][index])}")
        return "   ".join(parts)


class InlineEditor(QDoubleSpinBox):
    """A number field over the diagram: Enter (or clicking elsewhere) applies, Esc cancels."""

    committed = Signal(object, float)

    def __init__(self, parent):
        super().__init__(parent)
        self.setRange(-1e4, 1e4)
        self.setDecimals(4)
        self.setSingleStep(0.05)
        self.setKeyboardTracking(False)
        self.setAccessibleName("New value")
        self.setToolTip("Type a new value and press Enter (Esc cancels)")
        self.setFixedWidth(self.fontMetrics().horizontalAdvance("-00000.0000") + 40)
        self.hide()
        self._target = None
        self.editingFinished.connect(self._finish)

    def open(self, name: str, target, value: float, at: QPoint | None = None) -> None:
        self._target = target
        self.setPrefix(f"{name} = ")
        self.setFixedWidth(self.fontMetrics().horizontalAdvance(self.prefix() + "-00000.0000") + 40)
        self.blockSignals(True)
        self.setValue(float(value))
        self.blockSignals(False)
        parent = self.parentWidget()
        at = at if at is not None else QPoint(parent.width() // 2, parent.height() // 2)
        x = int(np.clip(at.x() - self.width() // 2, 0, max(0, parent.width() - self.width())))
        y = int(np.clip(at.y() + 12, 0, max(0, parent.height() - self.height())))
        self.move(x, y)
        self.show()
        self.raise_()
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self.selectAll()

    def is_open(self) -> bool:
        return self._target is not None and self.isVisible()

    def cancel(self) -> None:
        self._target = None
        self.hide()

    def _finish(self) -> None:
        target, self._target = self._target, None
        if target is None:
            return
        self.hide()
        self.committed.emit(target, float(self.value()))

    def keyPressEvent(self, event):
        if event.key() == Qt.Key.Key_Escape:
            self.cancel()
            event.accept()
            return
        super().keyPressEvent(event)
