"""Numbers on screen: 4 significant digits, a monospace font, a formula on hover.

The digits rule itself is core.teaching.numbers (Qt-free, shared with the stepper's
formulas); it is re-exported here so a widget needs one import for all three.
"""
from __future__ import annotations

import math
from numbers import Real

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QSizePolicy, QTableWidget

from core.teaching.numbers import SIGNIFICANT_DIGITS, fmt, paren
from core.wording import percent as percent_text

__all__ = ["SIGNIFICANT_DIGITS", "fmt", "paren", "mono_font", "mono_label", "mono_table",
           "NumberLabel"]


def mono_font(point_size: float | None = None) -> QFont:
    """The system fixed-width font, never smaller than the application's default size.

    Numbers line up in columns only in a monospace face; matching the default size keeps
    them as readable as the surrounding text.
    """
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setStyleHint(QFont.StyleHint.Monospace)
    default = QGuiApplication.font().pointSizeF() if QGuiApplication.instance() else -1
    size = point_size if point_size is not None else default
    if size and size > 0:
        font.setPointSizeF(max(size, default))
    return font


def mono_label(text: str = "", tooltip: str = "") -> QLabel:
    """A selectable label in the monospace font: a formula with its numbers lined up."""
    lbl = QLabel(text)
    lbl.setFont(mono_font())
    lbl.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if tooltip:
        lbl.setToolTip(tooltip)
    return lbl


def mono_table(name: str, tip: str) -> QTableWidget:
    """A read-only table in the monospace font, its columns as wide as their contents."""
    t = QTableWidget(0, 0)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setFont(mono_font())
    t.verticalHeader().setDefaultSectionSize(t.fontMetrics().height() + 6)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    t.setAlternatingRowColors(True)
    t.setAccessibleName(name)
    t.setToolTip(tip)
    return t


class NumberLabel(QLabel):
    """A value shown with `fmt` in monospace; hovering shows its formula and full value.

    >>> lbl = NumberLabel(); lbl.set_value(0.73105, formula="a = σ(z) = 1 / (1 + e^(−z))")
    """

    def __init__(self, value=None, formula: str = "", prefix: str = "", parent=None,
                 percent: bool = False):
        super().__init__(parent)
        #: a probability or accuracy (0…1) shown as a percentage: "91.20 %", not 0.912
        self._percent = percent
        self._value = None
        self._formula = ""
        self._prefix = prefix
        self.setFont(mono_font())
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.set_value(value, formula)

    def value(self):
        return self._value

    def formula(self) -> str:
        return self._formula

    def set_prefix(self, prefix: str) -> None:
        self._prefix = prefix
        self._refresh()

    def set_value(self, value, formula: str | None = None) -> None:
        """Show `value`; `formula` (kept if None) explains where it comes from."""
        self._value = value
        if formula is not None:
            self._formula = formula
        self._refresh()

    def _refresh(self) -> None:
        shown = "—" if self._value is None else (
            percent_text(self._value) if self._percent else fmt(self._value))
        self.setText(f"{self._prefix}{shown}")
        lines = []
        if self._formula:
            lines.append(self._formula)
        if isinstance(self._value, Real) or hasattr(self._value, "__float__"):
            if self._value is not None:
                full = float(self._value)
                lines.append(f"= {full!r}" if math.isfinite(full) else f"= {fmt(full)}")
        tip = "\n".join(lines)
        self.setToolTip(tip)
        self.setAccessibleDescription(tip)
        self.setAccessibleName(f"{self._prefix}{shown}".strip())
