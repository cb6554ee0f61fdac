"""A page built only when it is needed, so a lesson opens without building what the learner
has not looked at yet (issue 15 item 14: a lesson is interactive within 200 ms; a page of
three plots costs ~0.1 s to build, an empty two-plot training chart ~60 ms with its first
paint)."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class LazyTab(QWidget):
    """`LazyTab(build)`: `build()` returns the page's widget; it runs once, when the tab is
    first shown or `content()` is first asked for (code that needs the page builds it).

    With `placeholder` text the page is not built when shown: the text says what will
    appear there (a training chart before anything trained) until `content()` is asked for.
    """

    def __init__(self, build: Callable[[], QWidget], parent=None, placeholder: str = ""):
        super().__init__(parent)
        self._build = build
        self._content: QWidget | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.placeholder: QLabel | None = None
        if placeholder:
            self.placeholder = QLabel(placeholder, self)
            self.placeholder.setObjectName("mutedText")
            self.placeholder.setWordWrap(True)
            self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
            lay.addWidget(self.placeholder)

    def is_built(self) -> bool:
        return self._content is not None

    def content(self) -> QWidget:
        if self._content is None:
            self._content = self._build()
            if self.placeholder is not None:
                self.placeholder.hide()
            self.layout().addWidget(self._content)
            # a child added to a page already on screen is not shown by the layout
            self._content.show()
        return self._content

    def showEvent(self, event):
        if self.placeholder is None:
            self.content()
        super().showEvent(event)
