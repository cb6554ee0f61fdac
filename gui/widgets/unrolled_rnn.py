"""A recurrent network unrolled over time: one copy of the cell per time step, drawn in a row.

Every copy is labelled with the same W, U, b (one set of weights, reused); x_t enters from
below, h_t leaves to the right into the next step, and the last h feeds the Dense output.
The lesson says where the walk-through is: `set_position(phase, t)`; the forward pass fills
in h_t up to the current step (forward colour), the backward pass fills in ∂L/∂h_t from the
end back to the current step (backward colour). The numbers are a `core.teaching.rnn_steps.Walk`'s,
written with its formatter; nothing is computed here.

`set_shape(shape)` draws an RNN's *type* instead (one-to-one, one-to-many, many-to-one,
many-to-many: a `core.teaching.rnn_types.Shape`): the same row of cells, an input arrow only
at the steps that read one and an output ŷ only at the steps that give one.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from core.teaching.rnn_steps import plain
from gui.widgets.colors import BACKWARD_COLOR, FORWARD_COLOR
from gui.widgets.numbers import mono_font

__all__ = ["UnrolledRnn"]


class UnrolledRnn(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.walk = None
        self.phase = "forward"
        self.t: int | None = 1
        self.forward_upto = 0          # h_1 … h_k are shown
        self.backward_from: int | None = None   # ∂L/∂h_k … ∂L/∂h_T are shown
        self.show_output = False
        self.shape = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(200)
        self.setAccessibleName("The network unrolled through time")
        self.setToolTip("One RNN cell per time step, all with the same weights W, U and b; "
                        "the hidden state h is carried from each step to the next")

    def sizeHint(self) -> QSize:
        return QSize(900, 260)

    # --- state ----------------------------------------------------------------------------
    def set_walk(self, walk) -> None:
        self.walk = walk
        self.update()

    def set_shape(self, shape) -> None:
        """Draw `shape` (which steps read x, which give ŷ) in place of a walk's numbers."""
        self.shape = shape
        self.setAccessibleDescription(self.describe())
        self.update()

    def set_position(self, phase: str, t: int | None, forward_upto: int,
                     backward_from: int | None, show_output: bool) -> None:
        self.phase, self.t = phase, t
        self.forward_upto, self.backward_from = forward_upto, backward_from
        self.show_output = show_output
        self.setAccessibleDescription(self.describe())
        self.update()

    def hidden_text(self, k: int) -> str:
        """What the learner sees for h_k (1-based): its numbers once computed, else "?"."""
        if self.walk is None or k > self.forward_upto:
            return "?"
        return "\n".join(plain(v) for v in self.walk.hidden[k - 1])

    def grad_text(self, k: int) -> str:
        if self.walk is None or self.backward_from is None or k < self.backward_from:
            return ""
        return "\n".join(plain(v) for v in self.walk.grad_hidden[k - 1])

    def output_text(self) -> str:
        if self.walk is None or not self.show_output:
            return "ŷ = ?"
        return f"ŷ = {plain(self.walk.prediction)}\ny = {plain(self.walk.target)}"

    def describe(self) -> str:
        if self.shape is not None:
            ins = [str(k + 1) for k, on in enumerate(self.shape.inputs) if on]
            outs = [str(k + 1) for k, on in enumerate(self.shape.outputs) if on]
            return (f"{self.shape.name}: {self.shape.steps} step(s); input at step "
                    f"{', '.join(ins)}; output at step {', '.join(outs)}")
        if self.walk is None:
            return "No sequence yet"
        parts = [f"x{k} = {plain(self.walk.sequence[k - 1])}, h{k} = "
                 f"{self.hidden_text(k).replace(chr(10), ', ')}"
                 for k in range(1, self.walk.length + 1)]
        return "; ".join(parts)

    # --- drawing ---------------------------------------------------------------------------
    def paintEvent(self, event):
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        text_color = pal.color(QPalette.ColorRole.WindowText)
        if self.shape is not None:
            self._paint_shape(p, text_color)
            p.end()
            return
        if self.walk is None:
            p.setPen(text_color)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Preparing the network…")
            return
        mono = mono_font()
        p.setFont(mono)
        fm = p.fontMetrics()
        line = fm.lineSpacing()
        units = self.walk.units
        T = self.walk.length
        margin = 4
        out_w = max(fm.horizontalAdvance("ŷ = -0.0000"), fm.horizontalAdvance("Dense V, c")) + 16
        left = fm.horizontalAdvance("h0=0") + 6
        slot = (self.width() - left - margin - out_w - 24) / max(T, 1)
        box_w = min(slot * 0.85, fm.horizontalAdvance("W, U, b") + 16)
        box_h = 2 * line + 12
        column_h = (units + 1) * line + 4             # "h_k" and its numbers, over its cell
        top = margin + line + 4                       # the "∂L/∂h" row's caption
        cell_y = top + units * line + 12 + column_h + 8
        x_y = cell_y + box_h + 22
        fwd, bwd = QColor(FORWARD_COLOR), QColor(BACKWARD_COLOR)

        p.setPen(text_color)
        p.drawText(QPointF(margin, margin + fm.ascent()),
                   "∂L/∂h (backward)" if self.backward_from is not None else "")
        for k in range(1, T + 1):
            cx = left + slot * (k - 0.5)
            column = QRectF(cx - slot / 2 + 1, 0, slot - 2, 0)
            box = QRectF(cx - box_w / 2, cell_y, box_w, box_h)
            current = self.t == k
            color = bwd if self.phase == "backward" else fwd
            p.setPen(QPen(color if current else text_color, 3 if current else 1))
            if current:
                fill = QColor(color)
                fill.setAlpha(40)
                p.setBrush(fill)
            else:
                p.setBrush(pal.color(QPalette.ColorRole.Base))
            p.drawRoundedRect(box, 6, 6)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(text_color)
            label = f"step {k}" if fm.horizontalAdvance(f"step {k}") + 6 <= box_w else str(k)
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, f"{label}\nW, U, b")
            # x_t from below, its value under its name (long values never collide)
            p.drawText(column.adjusted(0, x_y, 0, x_y + 2 * line + 2),
                       Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                       f"x{k}\n{plain(self.walk.sequence[k - 1])}")
            self._arrow(p, QPointF(cx, x_y), QPointF(cx, cell_y + box_h), text_color)
            # h_t: carried right into the next step; its numbers over its cell
            start = QPointF(box.right(), cell_y + box_h / 2)
            end_x = left + slot * (k + 0.5) - box_w / 2 if k < T else \
                self.width() - margin - out_w
            h_color = fwd if k <= self.forward_upto else text_color
            self._arrow(p, start, QPointF(end_x, start.y()), h_color)
            p.setPen(h_color)
            p.drawText(column.adjusted(0, cell_y - column_h - 2, 0, cell_y - 2),
                       Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
                       f"h{k}\n{self.hidden_text(k)}")
            grad = self.grad_text(k)
            if grad:
                p.setPen(bwd)
                p.drawText(column.adjusted(0, top, 0, top + units * line + 4),
                           Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, grad)
        # h_0 and the output
        p.setPen(text_color)
        p.drawText(QPointF(margin, cell_y + box_h / 2 - 4), "h0=0")
        out = QRectF(self.width() - margin - out_w, cell_y, out_w, box_h)
        p.setPen(QPen(fwd if self.show_output else text_color, 2 if self.show_output else 1))
        p.drawRoundedRect(out, 6, 6)
        p.setPen(text_color)
        p.drawText(out, Qt.AlignmentFlag.AlignCenter, "Dense\nV, c")
        p.drawText(QRectF(out.left() - 10, x_y - 4, out_w + 10, 2 * line + 4),
                   Qt.AlignmentFlag.AlignCenter, self.output_text())
        p.end()

    def _paint_shape(self, p: QPainter, text_color: QColor) -> None:
        """Cells in a row; x_t below only where the shape reads an input, ŷ_t above only
        where it gives an output; h carried right between cells."""
        shape = self.shape
        pal = self.palette()
        p.setFont(mono_font())
        fm = p.fontMetrics()
        line = fm.lineSpacing()
        fwd = QColor(FORWARD_COLOR)
        T = shape.steps
        margin = 6
        left = fm.horizontalAdvance("h0=0") + 10
        slot = (self.width() - left - margin) / max(T, 1)
        box_w = min(slot * 0.7, fm.horizontalAdvance("W, U, b") + 20)
        box_h = 2 * line + 12
        arrow = max(18, (self.height() - box_h - 4 * line - 2 * margin) / 2)
        out_y = margin
        cell_y = out_y + line + arrow
        x_y = cell_y + box_h + arrow
        muted = QColor(text_color)
        muted.setAlpha(90)
        for k in range(T):
            cx = left + slot * (k + 0.5)
            box = QRectF(cx - box_w / 2, cell_y, box_w, box_h)
            p.setPen(QPen(text_color, 1.2))
            p.setBrush(pal.color(QPalette.ColorRole.Base))
            p.drawRoundedRect(box, 6, 6)
            p.setBrush(Qt.BrushStyle.NoBrush)
            label = f"step {k + 1}" if fm.horizontalAdvance(f"step {k + 1}") + 6 <= box_w \
                else str(k + 1)
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, f"{label}\nW, U, b")
            column = QRectF(cx - slot / 2 + 1, 0, slot - 2, 0)
            if shape.inputs[k]:
                self._arrow(p, QPointF(cx, x_y), QPointF(cx, box.bottom()), text_color)
                p.setPen(text_color)
                p.drawText(column.adjusted(0, x_y + 2, 0, x_y + line + 4),
                           Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, f"x{k + 1}")
            else:
                p.setPen(muted)
                p.drawText(column.adjusted(0, x_y + 2, 0, x_y + line + 4),
                           Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, "0")
            if shape.outputs[k]:
                self._arrow(p, QPointF(cx, box.top()), QPointF(cx, out_y + line + 2), fwd)
                p.setPen(fwd)
                p.drawText(column.adjusted(0, out_y, 0, out_y + line + 2),
                           Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                           f"ŷ{k + 1}")
            if k < T - 1:
                nxt = left + slot * (k + 1.5) - box_w / 2
                self._arrow(p, QPointF(box.right(), cell_y + box_h / 2),
                            QPointF(nxt, cell_y + box_h / 2), text_color)
        p.setPen(text_color)
        p.drawText(QPointF(margin, cell_y + box_h / 2 - 4), "h0=0")

    @staticmethod
    def _arrow(p: QPainter, a: QPointF, b: QPointF, color: QColor) -> None:
        p.setPen(QPen(color, 1.6))
        p.drawLine(a, b)
        d = b - a
        length = (d.x() ** 2 + d.y() ** 2) ** 0.5 or 1.0
        ux, uy = d.x() / length, d.y() / length
        head = QPainterPath(b)
        head.lineTo(b.x() - 8 * ux - 4 * uy, b.y() - 8 * uy + 4 * ux)
        head.lineTo(b.x() - 8 * ux + 4 * uy, b.y() - 8 * uy - 4 * ux)
        head.closeSubpath()
        p.fillPath(head, color)
