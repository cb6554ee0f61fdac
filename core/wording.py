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


def percent(p, decimals: int = 2) -> str:
    """A probability (0…1) as a percentage with fixed decimals: 0.9999 → "99.99 %".

    What rounding would hide says so: a probability just short of 1 is "above 99.99 %",
    not "100.00 %" (the network is never certain), and a tiny one "below 0.01 %", not 0.
    """
    v = float(p)
    if math.isnan(v):
        return "NaN"
    step = 10.0 ** -decimals
    pct = 100.0 * v
    if 0.0 < pct < step / 2:
        return f"below {step:.{decimals}f} %"
    if v < 1.0 and pct >= 100.0 - step / 2:
        return f"above {100.0 - step:.{decimals}f} %"
    return f"{pct:.{decimals}f} %"


def difference(d, decimals: int = 4) -> str:
    """A difference with fixed decimals; one too small to show says so in words
    ("below 0.0001") instead of printing 0 or 1.2e-07."""
    v = float(d)
    if math.isnan(v):
        return "NaN"
    step = 10.0 ** -decimals
    if 0.0 < abs(v) < step / 2:
        return f"below {step:.{decimals}f}"
    return f"{v:.{decimals}f}".replace("-0." + "0" * decimals, "0." + "0" * decimals)
