"""Shared widgets: number formatting, the colour language and its legend."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtGui import QColor, QFont, QFontDatabase, QImage

from gui.widgets.colors import (BACKWARD_COLOR, FORWARD_COLOR, NAN_COLOR, ColorLegend,
                                diverging_color, diverging_rgba, lut, sequential_color,
                                sequential_rgba)
from gui.widgets.numbers import NumberLabel, fmt, mono_font


@pytest.mark.parametrize("value, text", [
    (0.123456, "0.1235"),
    (12345.6, "12350"),
    (9.71e-05, "0.0000971"),
    (-140.4, "-140.4"),
    (5.395e-09, "0.000000005395"),
    (3.3e31, "3.3 × 10³¹"),
    (2.5e-13, "2.5 × 10⁻¹³"),
    (-3, "-3"),
    (2.0, "2"),
    (0.5, "0.5"),
    (np.float32(0.25), "0.25"),
    (1e-7, "0.0000001"),
    (-0.0, "0"),
    (0, "0"),
    (float("nan"), "NaN"),
    (float("inf"), "∞"),
    (float("-inf"), "-∞"),
    (np.float32("nan"), "NaN"),
])
def test_fmt_cases(value, text):
    assert fmt(value) == text


@settings(max_examples=40, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e30, max_value=1e30)
       .filter(lambda v: v == 0 or abs(v) > 1e-30))
def test_fmt_keeps_four_significant_digits(value):
    text = fmt(value)
    assert "e" not in text   # never scientific notation on screen
    if "×" in text:
        mantissa, power = text.split(" × 10")
        exponent = int(power.translate(str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")))
        shown = float(mantissa) * 10.0 ** exponent
    else:
        mantissa, shown = text, float(text)
    # rounding to 4 significant digits moves a value by at most half a unit in the 4th digit
    assert math.isclose(shown, value, rel_tol=5.001e-4, abs_tol=0.0)
    significant = mantissa.lstrip("-").replace(".", "").lstrip("0").rstrip("0")
    assert len(significant) <= 4


def test_fmt_rejects_non_numbers():
    with pytest.raises(TypeError):
        fmt("abc")


def test_number_label_shows_value_in_monospace_with_its_formula(qtbot):
    label = NumberLabel()
    qtbot.addWidget(label)
    label.set_value(0.7310585786, formula="a = σ(z) = 1 / (1 + e^(−z))")
    assert label.text() == "0.7311"
    assert "σ(z)" in label.toolTip()
    assert "0.7310585786" in label.toolTip()          # the full value is one hover away
    # what the app asks for - the system's fixed-width family with the Monospace hint -
    # not what this machine's fonts resolve it to (Noto Sans Mono is not 'fixed pitch'
    # to Qt, although its digits line up)
    fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    assert label.font().family() == fixed.family()
    assert label.font().styleHint() == QFont.StyleHint.Monospace
    label.set_value(float("nan"))
    assert label.text() == "NaN" and "σ(z)" in label.toolTip()


def test_mono_font_is_not_smaller_than_the_default(qapp):
    assert mono_font().pointSizeF() >= qapp.font().pointSizeF()


@pytest.mark.parametrize("vmax", [1.0, 0.05, 30.0])
def test_diverging_sign_mapping(vmax):
    for frac in (0.1, 0.5, 1.0, 3.0):
        neg = diverging_color(-frac * vmax, vmax)
        pos = diverging_color(frac * vmax, vmax)
        assert neg.blue() > neg.red(), (frac, neg.getRgb())       # negative: blue
        assert pos.red() > pos.blue(), (frac, pos.getRgb())       # positive: orange
    zero = diverging_color(0.0, vmax)
    assert zero.red() == zero.green() == zero.blue() >= 200       # zero: light grey
    # colour deepens with magnitude and saturates beyond ±vmax
    lum = lambda c: 0.299 * c.red() + 0.587 * c.green() + 0.114 * c.blue()  # noqa: E731
    assert lum(diverging_color(-vmax, vmax)) < lum(diverging_color(-vmax / 2, vmax)) < lum(zero)
    assert diverging_color(5 * vmax, vmax) == diverging_color(vmax, vmax)


def test_diverging_handles_nan_and_degenerate_scale():
    assert diverging_color(float("nan"), 1.0) == NAN_COLOR
    assert diverging_color(0.0, 0.0) == diverging_color(0.0, 1.0)  # all-zero gradients draw


def test_vectorised_colours_match_the_scalar_ones():
    values = np.array([[-2.0, -0.3, 0.0], [0.3, 2.0, np.nan]], dtype=np.float32)  # (2, 3)
    rgba = diverging_rgba(values, 1.0)
    assert rgba.shape == (2, 3, 4) and rgba.dtype == np.uint8
    for idx in np.ndindex(values.shape):
        assert QColor(*rgba[idx][:3]) == diverging_color(float(values[idx]), 1.0)
    seq = sequential_rgba(values, -1.0, 1.0)
    for idx in np.ndindex(values.shape):
        assert QColor(*seq[idx][:3]) == sequential_color(float(values[idx]), -1.0, 1.0)
    assert lut("diverging").shape == (256, 4) and lut("sequential").shape == (256, 4)


def test_sequential_scale_gets_lighter_so_it_reads_in_greyscale():
    values = np.linspace(0.0, 1.0, 64)
    rgb = sequential_rgba(values, 0.0, 1.0)[:, :3].astype(float)               # (64, 3)
    luma = rgb @ np.array([0.299, 0.587, 0.114])
    assert np.all(np.diff(luma) > 0)
    assert sequential_color(-5.0, 0.0, 1.0) == sequential_color(0.0, 0.0, 1.0)


def test_accents_are_distinct_from_both_scales():
    scale = np.concatenate([lut("diverging")[:, :3], lut("sequential")[:, :3]]).astype(int)
    for accent in (FORWARD_COLOR, BACKWARD_COLOR):
        dist = np.abs(scale - np.array([accent.red(), accent.green(), accent.blue()])).sum(1)
        assert dist.min() > 60
    assert FORWARD_COLOR != BACKWARD_COLOR


def test_legend_shows_numbers(qtbot):
    legend = ColorLegend("diverging", vmax=0.5, label="weight")
    qtbot.addWidget(legend)
    assert legend.tick_labels() == ["-0.5", "-0.25", "0", "0.25", "0.5"]
    assert "-0.5" in legend.accessibleDescription() and "0.5" in legend.accessibleDescription()
    legend.set_range(vmax=-2.0)                                  # magnitude is what matters
    assert legend.tick_labels()[0] == "-2" and legend.tick_labels()[-1] == "2"
    seq = ColorLegend("sequential", vmin=0.0, vmax=255.0, ticks=3)
    qtbot.addWidget(seq)
    assert seq.tick_labels() == ["0", "127.5", "255"]
    # painted: the colour bar and, below it, dark label text
    legend.resize(legend.sizeHint())
    image: QImage = legend.grab().toImage()
    bar_y = image.height() // 2 - 4
    left = QColor(image.pixel(image.width() // 8, bar_y))
    assert left.blue() > left.red()
    text_rows = [QColor(image.pixel(x, y)).lightness()
                 for y in range(image.height() - 12, image.height()) for x in range(image.width())]
    assert min(text_rows) < 120
    with pytest.raises(ValueError):
        ColorLegend("rainbow")


def _label_rects(legend):
    """x-extent of each drawn tick label, from the legend's own tick placement."""
    from PySide6.QtGui import QFontMetrics
    fm = QFontMetrics(legend.font())
    left, width = legend._bar_span()
    labels = legend.tick_labels()
    out = []
    for text in legend.visible_tick_labels():
        i = labels.index(text)
        x = left + width * i / (len(labels) - 1)
        half = fm.horizontalAdvance(text) / 2
        out.append((x - half, x + half))
    return out


def test_a_narrow_legend_drops_ticks_instead_of_running_numbers_together(qtbot):
    legend = ColorLegend("diverging", vmax=0.2395, label="gradient ∂L/∂w")
    qtbot.addWidget(legend)
    legend.resize(legend.sizeHint())
    assert legend.visible_tick_labels() == legend.tick_labels()   # roomy: all five
    legend.resize(150, legend.sizeHint().height())
    shown = legend.visible_tick_labels()
    # the ends and zero stay; the rest are dropped rather than overlapping
    assert shown[0] == "-0.2395" and shown[-1] == "0.2395" and "0" in shown
    assert len(shown) < 5
    rects = _label_rects(legend)
    assert all(a_hi < b_lo for (_, a_hi), (b_lo, _) in zip(rects, rects[1:]))


def test_a_legend_can_be_squeezed_and_keeps_its_end_numbers(qtbot):
    legend = ColorLegend("sequential", 0.0, 2.984, label="feature value", ticks=5)
    qtbot.addWidget(legend)
    assert legend.minimumSizeHint().width() < legend.sizeHint().width()
    legend.resize(legend.minimumSizeHint())
    shown = legend.visible_tick_labels()
    assert shown[0] == "0" and shown[-1] == "2.984"
    rects = _label_rects(legend)
    assert all(a_hi < b_lo for (_, a_hi), (b_lo, _) in zip(rects, rects[1:]))
