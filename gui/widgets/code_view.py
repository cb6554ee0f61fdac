"""Code to read and carry away: a caption, the code in a monospace read-only box, and Copy."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from gui.widgets.numbers import mono_font

__all__ = ["CodeView"]


class CodeView(QWidget):
    """`set_code(caption, code)`; Copy puts the code on the clipboard and emits `copied`."""

    copied = Signal()

    def __init__(self, what: str = "code", parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        top.addWidget(self.caption, 1)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip(f"Copy the {what} to the clipboard")
        self.copy_button.setAccessibleName(f"Copy {what}")
        self.copy_button.clicked.connect(self.copy)
        top.addWidget(self.copy_button)
        lay.addLayout(top)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(mono_font())
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setAccessibleName(what[:1].upper() + what[1:])
        lay.addWidget(self.text, 1)

    def set_code(self, caption: str, code: str) -> None:
        self.caption.setText(caption)
        self.text.setPlainText(code)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text.toPlainText())
        self.copied.emit()
