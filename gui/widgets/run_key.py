"""A key to training curves drawn per run: each run's colour and name, solid ● for
training and dashed ■ for validation (for plots that hide TrainingPlot's own key)."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from gui.widgets.training_plot import run_color


class RunKey(QWidget):
    """Which line is which: one row per run (its colour and name), solid ● training,
    dashed ■ validation."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._runs = []
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Key to the curves")

    def set_runs(self, runs) -> None:
        self._runs = list(runs)
        self.setAccessibleDescription("; ".join(
            f"{r.name}: solid line training, dashed line validation" for r in self._runs))
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(300, max(1, len(self._runs)) * (self.fontMetrics().height() + 2))

    def paintEvent(self, event):
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = self.fontMetrics()
        text_color = self.palette().windowText().color()
        for r, run in enumerate(self._runs):
            color = run_color(run)
            mid = r * (fm.height() + 2) + fm.height() / 2 + 1
            x = 2.0
            for kind, text in (("train", "training"), ("val", "validation")):
                pen = QPen(color, 2)
                if kind == "val":
                    pen.setStyle(Qt.PenStyle.DashLine)
                p.setPen(pen)
                p.drawLine(QPointF(x, mid), QPointF(x + 26, mid))
                if kind == "train":
                    p.setBrush(color)
                    p.drawEllipse(QPointF(x + 13, mid), 3, 3)
                else:
                    p.setPen(QPen(color, 1.5))
                    p.setBrush(QColor("white"))
                    p.drawRect(QRectF(x + 10, mid - 3, 6, 6))
                p.setPen(text_color)
                p.drawText(QPointF(x + 30, mid + fm.ascent() / 2 - 1), text)
                x += 30 + fm.horizontalAdvance(text) + 12
            p.drawText(QPointF(x + 4, mid + fm.ascent() / 2 - 1), f"— {run.name}")
        p.end()
