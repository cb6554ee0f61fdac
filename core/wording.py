"""How the engine writes a number into a sentence a learner reads (a stop reason, an error):
4 significant digits, written out — 0.00001, not 1e-05 — "NaN", "∞", no signed zero.
core.teaching.numbers.fmt, which every label in the app uses, is this same function.
"""
from __future__ import annotations

import math

import numpy as np

SIGNIFICANT_DIGITS = 4

#: beyond these sizes a row of plain digits stops being readable: "3.3 × 10³¹" instead
BIG, SMALL = 1e15, 1e-12
_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def number(x, digits: int = SIGNIFICANT_DIGITS) -> str:
    """`x` to `digits` significant digits, written out as a beginner reads numbers:
    0.123456 → "0.1235", 12345.6 → "12350", 0.0000971 → "0.0000971" — never "9.71e-05".
    Beyond 10¹⁵ or below 10⁻¹² (a diverged loss, a vanished gradient) as "3.3 × 10³¹".

    Integers below 10**digits stay integers ("-3"), NaN shows as "NaN" and infinities as
    "∞" / "-∞", and -0.0 as "0" (a learner should not puzzle over a signed zero).
    """
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise TypeError(f"a number is needed, got {type(x).__name__}") from None
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if v == 0.0:
        return "0"
    digits = max(1, int(digits))
    if abs(v) >= BIG or abs(v) < SMALL:
        mantissa, exponent = f"{v:.{digits - 1}e}".split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa} × 10{str(int(exponent)).translate(_SUPERSCRIPTS)}"
    return np.format_float_positional(v, precision=digits, unique=False, fractional=False,
                                      trim="-")
