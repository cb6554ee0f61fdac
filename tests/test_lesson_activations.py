"""Activation functions lesson: curves equal the NumPy formulas; the slider moves the point."""
import numpy as np
import pytest
from PySide6.QtCore import Qt

from gui.lessons.activations import ActivationsLesson


def np_sigmoid(z):
    return 1 / (1 + np.exp(-z))


FORMULAS = {
    "sigmoid": lambda z, al: (np_sigmoid(z), np_sigmoid(z) * (1 - np_sigmoid(z))),
    "tanh": lambda z, al: (np.tanh(z), 1 - np.tanh(z) ** 2),
    "relu": lambda z, al: (np.maximum(z, 0), (z > 0).astype(float)),
    "leaky_relu": lambda z, al: (np.where(z > 0, z, al * z), np.where(z > 0, 1.0, al)),
}


@pytest.fixture
def lesson(qtbot):
    w = ActivationsLesson()
    qtbot.addWidget(w)
    w.resize(1040, 680)
    w.show()
    return w


def curve_data(item):
    x, y = item.getData()
    return np.asarray(x, float), np.asarray(y, float)


@pytest.mark.parametrize("name", list(FORMULAS))
def test_choosing_a_function_draws_it_and_its_derivative(lesson, qtbot, name):
    lesson.choice.setFocus()
    lesson.set_function(name)
    assert lesson.choice.currentData() == name
    z, a = curve_data(lesson.curve)
    _, d = curve_data(lesson.deriv)
    ref_a, ref_d = FORMULAS[name](z, 0.01)
    np.testing.assert_allclose(a, ref_a, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(d, ref_d, rtol=1e-5, atol=1e-6)


def test_combo_box_keys_switch_the_curve(lesson, qtbot):
    _, before = curve_data(lesson.curve)
    lesson.choice.setFocus()
    qtbot.keyClick(lesson.choice, Qt.Key.Key_Down)      # sigmoid → tanh
    assert lesson.name == "tanh"
    z, after = curve_data(lesson.curve)
    np.testing.assert_allclose(after, np.tanh(z), atol=1e-6)
    assert not np.allclose(before, after)


def test_saturated_zones_are_shaded_where_the_derivative_is_small(lesson):
    lesson.set_function("sigmoid")
    shown = [r.getRegion() for r, _ in lesson.shades if r.isVisible()]
    assert len(shown) == 2
    # σ' < 0.1·σ'(0) for |z| > log((1 + √0.9)/(1 − √0.9)) ≈ 3.636
    assert shown[0][1] == pytest.approx(-3.64, abs=0.03)
    assert shown[1][0] == pytest.approx(3.64, abs=0.03)
    assert "vanishing" in lesson.zone_label.text()
    lesson.set_function("relu")
    shown = [r.getRegion() for r, _ in lesson.shades if r.isVisible()]
    assert len(shown) == 1 and shown[0][1] == pytest.approx(0.0, abs=0.03)
    assert "multiplied by 0" in lesson.zone_label.text()
    # leaky ReLU with a large slope has no saturated zone at all
    lesson.set_function("leaky_relu")
    lesson.alpha.setValue(0.2)
    assert not any(r.isVisible() for r, _ in lesson.shades)
    z, a = curve_data(lesson.curve)
    np.testing.assert_allclose(a, np.where(z > 0, z, 0.2 * z), rtol=1e-5, atol=1e-6)


def test_input_slider_moves_the_point_on_both_curves(lesson, qtbot):
    lesson.set_function("tanh")
    lesson.z_slider.slider.setFocus()
    qtbot.keyClick(lesson.z_slider.slider, Qt.Key.Key_PageDown)   # 2.0 → 1.0
    z = lesson.z_slider.value()
    assert z == pytest.approx(1.0)
    assert lesson.point_a.data["y"][0] == pytest.approx(np.tanh(1.0), rel=1e-5)
    assert lesson.point_d.data["y"][0] == pytest.approx(1 - np.tanh(1.0) ** 2, rel=1e-5)
    assert f"{np.tanh(1.0):.4g}" in lesson.a_label.text()
    assert f"{1 - np.tanh(1.0) ** 2:.4g}" in lesson.d_label.text()


def test_softmax_logits_drive_the_bars_and_the_jacobian_diagonal(lesson, qtbot):
    lesson.set_function("softmax")
    assert lesson.pages.currentIndex() == 1
    lesson.logit_boxes[2].setValue(3.0)
    z = lesson.logits().astype(float)
    p = np.exp(z - z.max())
    p /= p.sum()
    np.testing.assert_allclose(lesson.prob_bars.opts["height"], p, rtol=1e-5)
    np.testing.assert_allclose(lesson.jac_bars.opts["height"], p * (1 - p), rtol=1e-5, atol=1e-7)
    assert f"{p[2]:.4g}" in lesson.softmax_table.text()
    # the slider is logit z1: moving it changes the first box and the curve point
    lesson.z_slider.set_value(-1.0)
    assert lesson.logit_boxes[0].value() == pytest.approx(-1.0)
    z = lesson.logits().astype(float)
    p = np.exp(z - z.max())
    p /= p.sum()
    assert lesson.point_a.data["y"][0] == pytest.approx(p[0], rel=1e-5)
    assert lesson.point_d.data["y"][0] == pytest.approx(p[0] * (1 - p[0]), rel=1e-4)


def test_controls_are_named_and_explained(lesson):
    for w in (lesson.choice, lesson.alpha, lesson.z_slider.slider, *lesson.logit_boxes):
        assert w.accessibleName() and w.toolTip()


def test_switching_to_softmax_keeps_one_z1_on_screen(lesson):
    lesson.set_function("sigmoid")
    lesson.z_slider.set_value(2.0)
    lesson.set_function("softmax")
    # Input z is z₁: the box, the curve's point and the bars all use the same value
    assert lesson.logit_boxes[0].value() == pytest.approx(2.0)
    z = lesson.logits().astype(float)
    p = np.exp(z - z.max())
    p /= p.sum()
    assert lesson.point_a.data["y"][0] == pytest.approx(p[0], rel=1e-5)
    np.testing.assert_allclose(lesson.prob_bars.opts["height"], p, rtol=1e-5)
