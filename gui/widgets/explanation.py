"""The lesson's explanation: Markdown text whose box follows its content."""
from __future__ import annotations

import math

from PySide6.QtCore import QEvent
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QSizePolicy, QTextBrowser


class ExplanationBrowser(QTextBrowser):
    """Markdown text whose height follows its content, between 3 and `max_lines` lines."""

    def __init__(self, max_lines: int = 9, parent=None):
        super().__init__(parent)
        self._max_lines = max_lines
        self.setObjectName("explanation")
        self.setOpenExternalLinks(True)
        self.setReadOnly(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Lesson explanation")
        self.document().contentsChanged.connect(self._fit)

    def set_max_lines(self, lines: int) -> None:
        """At most this many lines shown; the rest scrolls (fewer while presenting)."""
        self._max_lines = lines
        self._fit()

    def _fit(self) -> None:
        doc: QTextDocument = self.document()
        doc.setTextWidth(self.viewport().width())
        line = self.fontMetrics().lineSpacing()
        # frame and style-sheet padding are the contents margins; the document's own margin
        # is already inside doc.size(): nothing is guessed, no blank line under the last one
        m, vm = self.contentsMargins(), self.viewportMargins()
        chrome = m.top() + m.bottom() + vm.top() + vm.bottom()
        margins = 2 * int(math.ceil(doc.documentMargin()))
        wanted = int(math.ceil(doc.size().height())) + chrome
        lowest = 3 * line + margins + chrome
        height = max(lowest, min(wanted, self._max_lines * line + margins + chrome))
        if height != self.height():
            self.setFixedHeight(height)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event):
        super().changeEvent(event)
        # the style sheet's padding and font arrive when the widget is polished
        if event.type() in (QEvent.Type.StyleChange, QEvent.Type.FontChange):
            self._fit()
