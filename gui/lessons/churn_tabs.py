"""The churn lesson's step-3 page (training curves and classification report), in its own
module so the lesson is built without it: the page is hidden at opening and built the first
time it is looked at or trained on (issue 15 item 14: a lesson is interactive within 200 ms)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QSplitter, QVBoxLayout, QWidget

from gui.widgets.numbers import mono_font
from gui.widgets.training_plot import TrainingPlot


class TrainingReportPage(QSplitter):
    """The loss curves of the runs (left) and the classification report of the run chosen
    (right): `plot`, `report_title`, `report_view`."""

    def __init__(self, parent=None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setChildrenCollapsible(False)
        self.plot = TrainingPlot(metrics=("loss",), smoothing=0.6, x_axis="epoch",
                                 granularity="epoch", show_controls=False)
        # epochs only here: the plot's own key names per-batch lines this lesson never shows
        self.plot.style_key.hide()
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.plot, 1)
        key = QLabel("●── training · □┄┄ validation; colours: the runs in step 3")
        key.setObjectName("mutedText")
        key.setWordWrap(True)
        key.setMinimumWidth(100)
        ll.addWidget(key)
        self.addWidget(left)
        box = QWidget()
        bl = QVBoxLayout(box)
        bl.setContentsMargins(0, 0, 0, 0)
        self.report_title = QLabel("Classification report (validation customers)")
        self.report_title.setWordWrap(True)
        bl.addWidget(self.report_title)
        self.report_view = QPlainTextEdit()
        self.report_view.setReadOnly(True)
        self.report_view.setFont(mono_font())
        self.report_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.report_view.setAccessibleName("Classification report")
        self.report_view.setToolTip(
            "precision = TP/(TP+FP), recall = TP/(TP+FN), f1-score = 2·P·R/(P+R) for each "
            "class; support = customers of that class. Macro avg: plain mean over classes; "
            "weighted avg: weighted by support.")
        self.report_view.setPlainText("Press Train.")
        bl.addWidget(self.report_view, 1)
        self.addWidget(box)
        self.setSizes([320, 440])
