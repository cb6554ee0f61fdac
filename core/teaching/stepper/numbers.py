"""How the stepper writes numbers into formulas: the app's one rule (core.teaching.numbers)
under the stepper's short names, plus super- and subscript digits for w¹₂-style symbols."""
from __future__ import annotations

from core.teaching.numbers import SIGNIFICANT_DIGITS, fmt as num, paren as factor

__all__ = ["SIGNIFICANT_DIGITS", "num", "factor", "sup", "sub"]

_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def sup(n: int) -> str:
    return str(int(n)).translate(_SUP)


def sub(n: int) -> str:
    return str(int(n)).translate(_SUB)
