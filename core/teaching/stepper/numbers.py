"""How the stepper writes numbers into formulas.

The same rule as gui.widgets.numbers.fmt (4 significant digits, "NaN", "∞"), kept here
because core/ never imports Qt; tests hold the two equal.
"""
from __future__ import annotations

import math

SIGNIFICANT_DIGITS = 4

_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def num(x, digits: int = SIGNIFICANT_DIGITS) -> str:
    """`x` to 4 significant digits, as every number on screen is shown."""
    v = float(x)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if v == 0.0:
        return "0"
    return f"{v:.{int(digits)}g}"


def factor(x) -> str:
    """A number as a factor of a product: negatives in parentheses, "2 · (-0.5)"."""
    s = num(x)
    return f"({s})" if s.startswith("-") else s


def sup(n: int) -> str:
    return str(int(n)).translate(_SUP)


def sub(n: int) -> str:
    return str(int(n)).translate(_SUB)
