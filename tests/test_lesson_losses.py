"""Loss functions lesson: the table's losses equal NumPy / scikit-learn; controls move the curve."""
import numpy as np
import pytest
from PySide6.QtCore import Qt
from sklearn.metrics import log_loss, mean_absolute_error, mean_squared_error

from gui.lessons.losses import LOSSES, LossesLesson

AGE = np.array([22, 25, 47, 52, 46, 56, 55, 60, 62, 61, 18, 28, 27, 29, 49, 55, 25, 58, 19, 18,
                21, 26, 40, 45, 50, 54, 23, 46], float)
AFF = np.array([1, 0, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1,
                1], float)
Y = np.array([0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0,
              0], float)
P_START = 1 / (1 + np.exp(-(AGE / 100 + AFF)))      # the course's w1 = w2 = 1, b = 0


def reference(name, y, p):
    if name == "mean_absolute_error":
        return np.abs(y - p), mean_absolute_error(y, p)
    if name == "mean_squared_error":
        return (y - p) ** 2, mean_squared_error(y, p)
    per = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    return per, log_loss(y, p)


@pytest.fixture
def lesson(qtbot):
    w = LossesLesson()
    qtbot.addWidget(w)
    w.resize(1040, 680)
    w.show()
    return w


def table_column(lesson, col):
    return [lesson.table.item(i, col).text() for i in range(lesson.table.rowCount())]


@pytest.mark.parametrize("name", list(LOSSES))
def test_choosing_a_loss_fills_the_table_with_numpy_and_sklearn_values(lesson, name):
    lesson.set_loss(name)
    per, mean = reference(name, Y, P_START)
    np.testing.assert_allclose(lesson.per_sample, per, rtol=1e-5, atol=1e-6)
    assert lesson.mean == pytest.approx(mean, rel=1e-5)
    assert table_column(lesson, 4) == [f"{v:.4g}" for v in per]
    assert f"{mean:.4g}" in lesson.mean_label.text()
    assert "one epoch" in lesson.epoch_label.text()


def test_label_formats_of_the_categorical_losses(lesson):
    lesson.set_loss("categorical_crossentropy")
    assert table_column(lesson, 2)[:3] == ["[1, 0]", "[1, 0]", "[0, 1]"]
    lesson.set_loss("sparse_categorical_crossentropy")
    assert table_column(lesson, 2)[:3] == ["0", "0", "1"]


def test_best_fit_predictions_lower_the_mean_log_loss(lesson):
    lesson.set_loss("binary_crossentropy")
    start = lesson.mean
    lesson.predictor.setCurrentIndex(1)
    assert lesson.mean < start
    from sklearn.linear_model import LogisticRegression
    ref = LogisticRegression(C=1e12, tol=1e-12, max_iter=100000).fit(
        np.column_stack([AGE / 100, AFF]), Y)
    assert lesson.mean == pytest.approx(log_loss(Y, ref.predict_proba(
        np.column_stack([AGE / 100, AFF]))[:, 1]), rel=1e-3)


def test_prediction_slider_moves_the_point_along_the_curve(lesson, qtbot):
    lesson.set_loss("binary_crossentropy")
    lesson.y_value.setValue(1.0)
    lesson.y_pred.slider.setFocus()
    qtbot.keyClick(lesson.y_pred.slider, Qt.Key.Key_PageDown)    # 0.7 → 0.6
    p = lesson.y_pred.value()
    assert p == pytest.approx(0.6)
    assert lesson.point.data["y"][0] == pytest.approx(-np.log(0.6), rel=1e-5)
    x, y = lesson.curve.getData()
    inner = (x > 0.01) & (x < 0.99)
    np.testing.assert_allclose(y[inner], -np.log(x[inner]), rtol=1e-4)
    assert f"{-np.log(0.6):.4g}" in lesson.sample_label.text()
    lesson.set_loss("mean_squared_error")
    lesson.y_value.setValue(0.3)
    assert lesson.sample_loss() == pytest.approx((0.3 - 0.6) ** 2, rel=1e-5)
    x, y = lesson.curve.getData()
    np.testing.assert_allclose(y, (0.3 - x) ** 2, atol=1e-6)


def test_picking_a_row_puts_it_on_the_curve_with_its_exact_loss(lesson):
    lesson.set_loss("sparse_categorical_crossentropy")
    lesson.table.selectRow(0)         # 22 years old, did not buy: class 0
    assert lesson.y_class.value() == 0 and lesson.n_classes.value() == 2
    assert lesson.sample_loss() == pytest.approx(-np.log(1 - P_START[0]), rel=1e-5)
    assert lesson.table.item(0, 4).text() in lesson.sample_label.text()


def test_hovering_a_loss_shows_its_formula_with_numbers(lesson):
    lesson.set_loss("mean_absolute_error")
    tip = lesson.table.item(2, 4).toolTip()
    assert "|1 − 0.8131|" in tip and "0.1869" in tip
    lesson.set_loss("binary_crossentropy")
    assert "log" in lesson.table.item(2, 4).toolTip()
    assert "/ 28" in lesson.mean_label.toolTip()


def test_controls_are_named_and_explained(lesson):
    for w in (lesson.choice, lesson.y_value, lesson.y_class, lesson.n_classes,
              lesson.y_pred.slider, lesson.predictor, lesson.table):
        assert w.accessibleName() and w.toolTip()
