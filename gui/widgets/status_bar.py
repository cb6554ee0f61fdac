"""The window's status bar, whose messages are never cut off.

QStatusBar draws a message on one line and clips whatever does not fit ("Training on
5,000 images for 3 epoch(s); the 2,000 test ima"). Here a message wraps onto a second
line when it needs one; a message longer than two lines ends in "…" at a word and the
whole text is in the tooltip. `showMessage`, `clearMessage` and `currentMessage` keep
QStatusBar's meaning, so every caller stays as it was.
"""
from __future__ import annotations

from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar

MAX_LINES = 2
_FLAGS = int(Qt.TextFlag.TextWordWrap)


class WrappingStatusBar(QStatusBar):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        self.message_label = QLabel(self)
        self.message_label.setWordWrap(True)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        self.message_label.setAccessibleName("Status message")
        # the bar's width decides how the text wraps, never the other way round
        self.message_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                         QSizePolicy.Policy.Fixed)
        self.addWidget(self.message_label, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clearMessage)
        self._text = ""
        self._fit()

    # --- QStatusBar's interface ---------------------------------------------------------
    def showMessage(self, text: str, timeout: int = 0) -> None:  # noqa: N802 (Qt's name)
        self._text = str(text or "")
        if timeout and timeout > 0:
            self._timer.start(int(timeout))
        else:
            self._timer.stop()
        self._fit()

    def clearMessage(self) -> None:  # noqa: N802 (Qt's name)
        self._timer.stop()
        self._text = ""
        self._fit()

    def currentMessage(self) -> str:  # noqa: N802 (Qt's name)
        return self._text

    # --- fitting ------------------------------------------------------------------------------
    def shown_text(self) -> str:
        return self.message_label.text()

    def resizeEvent(self, event):  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit()

    def _lines_needed(self, text: str, width: int) -> int:
        fm = self.message_label.fontMetrics()
        rect = fm.boundingRect(QRect(0, 0, max(width, 1), 100_000), _FLAGS, text)
        return max(1, -(-rect.height() // max(fm.lineSpacing(), 1)))

    def _fit(self) -> None:
        label, text = self.message_label, self._text
        width = label.contentsRect().width()
        if width <= 1:   # not laid out yet: the resize that follows fits it
            width = max(200, self.width() - 40)
        shown = text
        if text and self._lines_needed(text, width) > MAX_LINES:
            # the longest start of the text, cut at a word, that fits with "…"
            words = text.split(" ")
            lo, hi = 1, len(words)
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if self._lines_needed(" ".join(words[:mid]) + " …", width) <= MAX_LINES:
                    lo = mid
                else:
                    hi = mid - 1
            shown = " ".join(words[:lo]) + " …"
        lines = self._lines_needed(shown, width) if shown else 1
        height = min(lines, MAX_LINES) * label.fontMetrics().lineSpacing() + 2
        if height != label.height():
            label.setFixedHeight(height)
            # QStatusBar keeps the height it had: it grows (and shrinks) with the message
            self.setFixedHeight(height + 8)
        label.setText(shown)
        label.setToolTip(text if shown != text else "")
