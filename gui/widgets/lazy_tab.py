"""A tab page built the first time it is shown, so a lesson opens without building pages
the learner has not looked at yet (issue 15 item 14: a lesson is interactive within 200 ms;
a page of three plots costs ~0.1 s to build)."""
from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QVBoxLayout, QWidget


class LazyTab(QWidget):
    """`LazyTab(build)`: `build()` returns the page's widget; it runs once, when the tab is
    first shown or `content()` is first asked for (code that needs the page builds it)."""

    def __init__(self, build: Callable[[], QWidget], parent=None):
        super().__init__(parent)
        self._build = build
        self._content: QWidget | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)

    def is_built(self) -> bool:
        return self._content is not None

    def content(self) -> QWidget:
        if self._content is None:
            self._content = self._build()
            self.layout().addWidget(self._content)
            # a child added to a page already on screen is not shown by the layout
            self._content.show()
        return self._content

    def showEvent(self, event):
        self.content()
        super().showEvent(event)
