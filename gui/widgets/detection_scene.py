"""A detection scene drawn large: the image, the S×S grid, the cells responsible for the
true digits (with each digit's centre), true boxes, predicted boxes labelled with class
and confidence, an intersection rectangle, anchor shapes. A plain QPainter widget: the
lesson hands it numbers (core.teaching.yolo_steps) and says which overlays to draw.

Styles never rely on colour alone: true boxes are dashed, predictions solid, suppressed
boxes dotted, and every predicted box carries its text.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from gui.widgets.colors import FORWARD_COLOR

TRUTH_COLOR = QColor("#f2f2f2")
CELL_COLOR = QColor(253, 184, 99, 110)        # the diverging scale's light orange, see-through
PREDICTION_COLOR = QColor("#fdb863")
SELECTED_COLOR = QColor("#e66101")
SUPPRESSED_COLOR = QColor("#9aa3ad")
INTERSECTION_COLOR = QColor(103, 169, 207, 150)
ANCHOR_COLOR = QColor("#67a9cf")


@dataclass(frozen=True)
class DrawnBox:
    """A box to draw: pixels of the scene, its caption, its style ("prediction",
    "selected", "suppressed", "candidate")."""

    box: tuple[float, float, float, float]
    text: str = ""
    style: str = "prediction"


class SceneView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumSize(260, 260)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Detection scene")
        self._image: QImage | None = None
        self._canvas = 64
        self.cells = 8
        self.show_grid = True
        self.truth: list = []            # yolo_steps.Responsible
        self.show_truth = True
        self.show_cells = True
        self.boxes: list[DrawnBox] = []
        self.intersection: tuple | None = None
        self.anchors: list = []          # (w, h) in pixels, drawn centred in the middle cell
        self.placeholder = ""

    def sizeHint(self) -> QSize:
        return QSize(420, 420)

    # --- content ------------------------------------------------------------------------
    def set_image(self, image: np.ndarray, cells: int) -> None:
        a = np.ascontiguousarray(np.clip(np.asarray(image) * 255.0, 0, 255).astype(np.uint8))
        self._canvas = a.shape[0]
        self._image = QImage(a.data, a.shape[1], a.shape[0], a.shape[1],
                             QImage.Format.Format_Grayscale8).copy()
        self.cells = int(cells)
        self.update()

    def set_overlays(self, truth=None, boxes=None, intersection=None, anchors=None) -> None:
        self.truth = list(truth or [])
        self.boxes = list(boxes or [])
        self.intersection = intersection
        self.anchors = [] if anchors is None else [tuple(a) for a in anchors]
        self.update()

    # --- drawing ------------------------------------------------------------------------
    def _frame(self) -> tuple[QRectF, float]:
        side = max(10.0, min(self.width(), self.height()) - 8.0)
        rect = QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)
        return rect, side / self._canvas

    def _rect(self, box, origin: QRectF, k: float) -> QRectF:
        x0, y0, x1, y1 = box
        return QRectF(origin.left() + x0 * k, origin.top() + y0 * k, (x1 - x0) * k,
                      (y1 - y0) * k)

    def paintEvent(self, event):
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        frame, k = self._frame()
        if self._image is None:
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
            return
        p.drawImage(frame, self._image)
        cell = frame.width() / self.cells
        if self.show_cells:
            for t in self.truth:
                r = QRectF(frame.left() + t.col * cell, frame.top() + t.row * cell, cell, cell)
                p.fillRect(r, CELL_COLOR)
        if self.show_grid:
            p.setPen(QPen(QColor(255, 255, 255, 90), 1))
            for i in range(1, self.cells):
                p.drawLine(QPointF(frame.left() + i * cell, frame.top()),
                           QPointF(frame.left() + i * cell, frame.bottom()))
                p.drawLine(QPointF(frame.left(), frame.top() + i * cell),
                           QPointF(frame.right(), frame.top() + i * cell))
        if self.intersection is not None:
            p.fillRect(self._rect(self.intersection, frame, k), INTERSECTION_COLOR)
        for j, (w, h) in enumerate(self.anchors):
            c = self._canvas / 2
            p.setPen(QPen(ANCHOR_COLOR, 2, Qt.PenStyle.DashDotLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(self._rect((c - w / 2, c - h / 2, c + w / 2, c + h / 2), frame, k))
        font = QFont(self.font())
        p.setFont(font)
        if self.show_truth:
            for t in self.truth:
                p.setPen(QPen(TRUTH_COLOR, 1.5, Qt.PenStyle.DashLine))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(self._rect(t.box, frame, k))
                if self.show_cells:
                    centre = QPointF(frame.left() + t.centre[0] * k, frame.top() + t.centre[1] * k)
                    p.setPen(QPen(QColor("black"), 1))
                    p.setBrush(QBrush(SELECTED_COLOR))
                    p.drawEllipse(centre, 4.5, 4.5)
        order = {"suppressed": 0, "candidate": 1, "prediction": 2, "selected": 3}
        for b in sorted(self.boxes, key=lambda b: order.get(b.style, 2)):
            self._draw_box(p, b, frame, k)
        p.end()

    def _draw_box(self, p: QPainter, b: DrawnBox, frame: QRectF, k: float) -> None:
        color, width, style = {
            "prediction": (PREDICTION_COLOR, 2.0, Qt.PenStyle.SolidLine),
            "selected": (SELECTED_COLOR, 3.0, Qt.PenStyle.SolidLine),
            "suppressed": (SUPPRESSED_COLOR, 1.5, Qt.PenStyle.DotLine),
            "candidate": (FORWARD_COLOR.lighter(170), 1.5, Qt.PenStyle.SolidLine),
        }.get(b.style, (PREDICTION_COLOR, 2.0, Qt.PenStyle.SolidLine))
        r = self._rect(b.box, frame, k)
        p.setPen(QPen(color, width, style))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(r)
        if not b.text:
            return
        fm = p.fontMetrics()
        tw, th = fm.horizontalAdvance(b.text) + 6, fm.height() + 2
        # the caption sits above the box, or inside its top when the box touches the top
        top = r.top() - th if r.top() - th >= frame.top() else r.top()
        left = min(r.left(), frame.right() - tw)
        label = QRectF(left, top, tw, th)
        p.fillRect(label, QColor(0, 0, 0, 170) if b.style != "suppressed" else QColor(60, 60, 60, 170))
        p.setPen(QPen(color if b.style != "suppressed" else QColor("#dddddd")))
        p.drawText(label, Qt.AlignmentFlag.AlignCenter, b.text)
