"""How every number on screen is written: 4 significant digits, "NaN", "∞", no signed zero.

One rule for the whole app, Qt-free so that core.teaching's formulas (the stepper's) and the
GUI's labels (gui.widgets.numbers re-exports it) write the same number the same way.
"""
from __future__ import annotations

from core.wording import SIGNIFICANT_DIGITS, number

__all__ = ["SIGNIFICANT_DIGITS", "fmt", "paren"]

#: every number on screen: core.wording's rule (the engine's sentences use it too)
fmt = number


def paren(x) -> str:
    """A number as a factor inside a formula: negatives in parentheses, "2 · (-0.5)"."""
    s = fmt(x)
    return f"({s})" if s.startswith("-") else s
