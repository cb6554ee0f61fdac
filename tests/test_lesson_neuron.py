"""Neuron lesson: sliders move the people along the sigmoid; the chosen person's numbers."""
import numpy as np
import pytest
from PySide6.QtCore import Qt

from gui.lessons.neuron import NeuronLesson

TABLE_AGE = np.array([22, 25, 47, 52, 46, 56, 55, 60, 62, 61, 18, 28, 27, 29, 49, 55, 25, 58,
                      19, 18, 21, 26, 40, 45, 50, 54, 23, 46], float)
TABLE_AFF = np.array([1, 0, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 1,
                      1, 1, 1, 1], float)
TABLE_Y = np.array([0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1,
                    1, 0, 0], float)


def reference(w1, w2, b):
    z = w1 * TABLE_AGE / 100 + w2 * TABLE_AFF + b
    p = 1 / (1 + np.exp(-z))
    loss = -np.mean(TABLE_Y * np.log(p) + (1 - TABLE_Y) * np.log(1 - p))
    return z, p, loss


@pytest.fixture
def lesson(qtbot):
    w = NeuronLesson()
    qtbot.addWidget(w)
    w.resize(1040, 680)
    w.show()
    return w


def test_opens_at_the_course_start_with_its_numbers(lesson):
    assert lesson.weights() == (1.0, 1.0, 0.0)
    z, p, loss = reference(1, 1, 0)
    # person 3 of the course's table: 47 years old, can afford it, bought
    assert "Person 3" in lesson.person_label.text()
    assert "= 1.47" in lesson.z_label.text()
    assert f"{p[2]:.4g}" in lesson.p_label.text()
    assert f"{loss:.4g}" in lesson.loss_label.text()
    assert lesson.table.item(2, 3).text() == f"{p[2]:.4g}"


def test_moving_the_w1_slider_moves_the_points_and_changes_the_probability(lesson, qtbot):
    before_text = lesson.p_label.text()
    before_x = lesson.on_curve.data["x"].copy()
    lesson.w1.slider.setFocus()
    for _ in range(5):   # each PageUp adds 1 to w1
        qtbot.keyClick(lesson.w1.slider, Qt.Key.Key_PageUp)
    assert lesson.weights()[0] == pytest.approx(6.0)
    z, p, loss = reference(6, 1, 0)
    assert lesson.p_label.text() != before_text
    assert f"{p[2]:.4g}" in lesson.p_label.text()
    np.testing.assert_allclose(lesson.on_curve.data["x"], z, rtol=1e-5)
    np.testing.assert_allclose(lesson.on_curve.data["y"], p, rtol=1e-5)
    assert not np.allclose(lesson.on_curve.data["x"], before_x)
    assert f"{loss:.4g}" in lesson.loss_label.text()


def test_choosing_a_person_plugs_their_numbers_into_the_formula(lesson, qtbot):
    lesson.set_weights(2.5, -1.0, 0.5)
    lesson.table.selectRow(7)     # 60 years old, cannot afford it, bought
    z, p, _ = reference(2.5, -1.0, 0.5)
    assert "Person 8" in lesson.person_label.text() and "age 60" in lesson.person_label.text()
    assert "2.5·0.6 + (-1)·0 + 0.5" in lesson.z_label.text()
    assert f"{z[7]:.4g}" in lesson.z_label.text()
    assert f"{p[7]:.4g}" in lesson.p_label.text()
    assert lesson.chosen.data["x"][0] == pytest.approx(z[7], rel=1e-5)
    # every number can be hovered for its formula
    assert "−log" in lesson.table.item(7, 4).toolTip()


def test_best_fit_button_lowers_the_log_loss_to_the_minimum(lesson, qtbot):
    from sklearn.linear_model import LogisticRegression
    qtbot.mouseClick(lesson.best_button, Qt.MouseButton.LeftButton)
    ref = LogisticRegression(C=1e12, tol=1e-12, max_iter=100000).fit(
        np.column_stack([TABLE_AGE / 100, TABLE_AFF]), TABLE_Y)
    w1, w2, b = lesson.weights()
    assert w1 == pytest.approx(ref.coef_[0][0], abs=0.01)
    assert b == pytest.approx(ref.intercept_[0], abs=0.01)
    assert lesson.loss < reference(1, 1, 0)[2]
    qtbot.mouseClick(lesson.start_button, Qt.MouseButton.LeftButton)
    assert lesson.weights() == (1.0, 1.0, 0.0)


def test_every_control_is_named_and_explained(lesson):
    for control in (lesson.w1.slider, lesson.w2.slider, lesson.b.slider, lesson.best_button,
                    lesson.start_button, lesson.table):
        assert control.accessibleName() and control.toolTip()
    assert "weighted sum" in lesson.explanation.toPlainText()
