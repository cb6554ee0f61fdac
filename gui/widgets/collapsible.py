"""A section with a clickable header that shows or hides its content."""
from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import QSizePolicy, QToolButton, QVBoxLayout, QWidget

from gui.settings import read_bool


class CollapsibleSection(QWidget):
    """Header button (▸/▾ + title) above a content widget.

    With `settings_key`, the expanded state is remembered in QSettings under that key.
    """

    toggled = Signal(bool)

    def __init__(self, title: str, content: QWidget | None = None, expanded: bool = True,
                 settings_key: str | None = None, parent=None):
        super().__init__(parent)
        self._settings_key = settings_key
        if settings_key:
            expanded = read_bool(settings_key, expanded)
        self.header = QToolButton(self)
        self.header.setObjectName("collapsibleHeader")
        self.header.setText(title)
        self.header.setCheckable(True)
        self.header.setChecked(expanded)
        self.header.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.header.setAutoRaise(True)
        self.header.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.header.setAccessibleName(f"Show or hide: {title}")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        self._layout.addWidget(self.header, 0, Qt.AlignmentFlag.AlignLeft)
        self._content: QWidget | None = None
        self._title = title
        if content is not None:
            self.set_content(content)
        self.header.toggled.connect(self._on_toggled)
        self._apply(expanded)

    def set_content(self, widget: QWidget) -> None:
        if self._content is not None:
            self._layout.removeWidget(self._content)
            self._content.setParent(None)
        self._content = widget
        self._layout.addWidget(widget, 1)
        widget.setVisible(self.is_expanded())

    def content(self) -> QWidget | None:
        return self._content

    def is_expanded(self) -> bool:
        return self.header.isChecked()

    def set_expanded(self, expanded: bool) -> None:
        self.header.setChecked(bool(expanded))

    def _apply(self, expanded: bool) -> None:
        self.header.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        verb = "Hide" if expanded else "Show"
        self.header.setToolTip(f"{verb} the {self._title.lower()} (click)")
        if self._content is not None:
            self._content.setVisible(expanded)
        # collapsed, the section must not keep the space its content had
        self.setSizePolicy(QSizePolicy.Policy.Preferred,
                           QSizePolicy.Policy.Preferred if expanded else QSizePolicy.Policy.Fixed)

    def _on_toggled(self, expanded: bool) -> None:
        self._apply(expanded)
        if self._settings_key:
            QSettings().setValue(self._settings_key, bool(expanded))
        self.toggled.emit(expanded)
