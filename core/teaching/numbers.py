"""How every number on screen is written: 4 significant digits, "NaN", "∞", no signed zero.

One rule for the whole app, Qt-free so that core.teaching's formulas (the stepper's) and the
GUI's labels (gui.widgets.numbers re-exports it) write the same number the same way.
"""
from __future__ import annotations

import math

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


def paren(x) -> str:
    """A number as a factor inside a formula: negatives in parentheses, "2 · (-0.5)"."""
    s = fmt(x)
    return f"({s})" if s.startswith("-") else s
