"""Numbers on screen: 4 significant digits, a monospace font, a formula on hover."""
from __future__ import annotations

import math
from numbers import Real

from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QLabel, QSizePolicy

SIGNIFICANT_DIGITS = 4


def fmt(x, digits: int = SIGNIFICANT_DIGITS) -> str:
    """`x` to `digits` significant digits: 0.123456 → "0.1235", 12346 → "1.235e+04".

    Integers below 10**digits stay integers ("-3"), NaN shows as "NaN" and infinities as
    "∞" / "-∞", and -0.0 as "0" (a learner should not puzzle over a signed zero).
    """
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise TypeError(f"fmt() needs a real number, got {type(x).__name__}") from None
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if v == 0.0:
        return "0"
    return f"{v:.{int(digits)}g}"


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


class NumberLabel(QLabel):
    """A value shown with `fmt` in monospace; hovering shows its formula and full value.

    >>> lbl = NumberLabel(); lbl.set_value(0.73105, formula="a = σ(z) = 1 / (1 + e^(−z))")
    """

    def __init__(self, value=None, formula: str = "", prefix: str = "", parent=None):
        super().__init__(parent)
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
        shown = "—" if self._value is None else fmt(self._value)
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
