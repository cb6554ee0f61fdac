"""CNN on digits: brief training fills the comparison table with numbers computed here
independently; filters and feature maps shown are the model's, recomputed with SciPy;
they follow a new digit; Stop ends training cleanly."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from scipy.signal import correlate2d

from gui.lessons import cnn_common
from gui.lessons.cnn_digits import CnnDigitsLesson, seconds_per_epoch
from gui.widgets.numbers import fmt

TIMEOUT = 30000
SMALL = "CNN, small (8 · 16 filters, Dense 32) — faster"
DENSE = "Dense 784-128-10 (no convolution)"


@pytest.fixture
def lesson(shown_lesson):
    w = shown_lesson(CnnDigitsLesson)
    yield w
    w.shutdown()   # before the reset: a run ending as it stops still records its CNN
    cnn_common._TRAINED.update(model=None, source="")


def train(qtbot, lesson, network, n=100, epochs=1):
    lesson.network_combo.setCurrentText(network)
    lesson.size_spin.setValue(n)
    lesson.epochs_spin.setValue(epochs)
    qtbot.mouseClick(lesson.train_button, Qt.MouseButton.LeftButton)
    assert not lesson.train_button.isEnabled() and lesson.stop_button.isEnabled()
    qtbot.waitUntil(lambda: not lesson.is_training(), timeout=TIMEOUT)


def numpy_accuracy(model, x, y) -> float:
    return float(np.mean(np.argmax(model.predict(x), axis=1) == y))


def test_brief_training_fills_the_comparison_table(qtbot, lesson):
    (_, _), (xv, yv) = lesson.data()
    train(qtbot, lesson, SMALL)
    cnn = lesson.cnn
    rows = lesson.table_values()
    assert list(rows) == ["CNN (small)"]
    row = rows["CNN (small)"]
    # parameters counted by hand: conv 3·3·1·8+8, conv 3·3·8·16+16, dense 400·32+32, 32·10+10
    assert row["Parameters"] == f"{80 + 1168 + 12832 + 330:,}"
    assert row["Val. acc."] == f"{fmt(100 * numpy_accuracy(cnn, xv, yv))} %"
    assert row["Epochs"] == "1" and row["Digits"] == "100"
    assert float(row["s / epoch"]) > 0
    # the explorer can now borrow this CNN's filters
    assert cnn_common.trained_cnn()[0] is cnn

    train(qtbot, lesson, DENSE)
    rows = lesson.table_values()
    assert list(rows) == ["CNN (small)", "Dense 784-128-10"]
    assert rows["Dense 784-128-10"]["Parameters"] == f"{784 * 128 + 128 + 128 * 10 + 10:,}"
    assert lesson.cnn is cnn                          # the CNN views keep showing the CNN
    assert lesson.status.progress.value() == lesson.status.progress.maximum()


def test_the_answer_names_the_cnn_as_trained_only_after_training(qtbot, lesson):
    qtbot.waitUntil(lambda: "CNN says" in lesson.prediction_label.text(), timeout=TIMEOUT)
    assert "The untrained CNN says" in lesson.prediction_label.text()
    train(qtbot, lesson, SMALL)
    lesson.update_feature_maps()
    assert "The trained CNN says" in lesson.prediction_label.text()


def test_filters_and_feature_maps_are_the_models(qtbot, lesson):
    (_, _), (xv, _) = lesson.data()
    kernel = lesson.cnn.layers[0].params["kernel"]      # (3, 3, 1, 32)
    bias = lesson.cnn.layers[0].params["bias"]
    np.testing.assert_array_equal(lesson.filter_grid.maps(),
                                  np.transpose(kernel[:, :, 0, :], (2, 0, 1)))
    assert lesson.filter_grid.count() == 32

    def first_layer_maps(img):
        return np.stack([np.maximum(correlate2d(img.astype(np.float64),
                                                kernel[:, :, 0, f].astype(np.float64),
                                                mode="valid") + bias[f], 0)
                         for f in range(kernel.shape[3])])          # (32, 26, 26)

    lesson.layer_combo.setCurrentIndex(0)
    np.testing.assert_allclose(lesson.map_grid.maps(), first_layer_maps(xv[0, :, :, 0]),
                               atol=1e-5)
    lesson.digit_spin.setValue(9)                     # a new digit: the views follow
    np.testing.assert_allclose(lesson.map_grid.maps(), first_layer_maps(xv[9, :, :, 0]),
                               atol=1e-5)
    np.testing.assert_array_equal(lesson.input_view.values(), xv[9, :, :, 0])
    assert "#9" in lesson.prediction_label.text()
    # every layer can be looked at; pooled maps are half the size
    lesson.layer_combo.setCurrentIndex(1)
    assert lesson.map_grid.maps().shape == (32, 13, 13)
    full = first_layer_maps(xv[9, :, :, 0])[:, :26, :26].reshape(32, 13, 2, 13, 2)
    np.testing.assert_allclose(lesson.map_grid.maps(), full.max(axis=(2, 4)), atol=1e-5)
    lesson.layer_combo.setCurrentIndex(3)
    assert lesson.map_grid.maps().shape == (64, 5, 5)
    assert "first 64 of 64" not in lesson.map_grid.caption()
    lesson.layer_combo.setCurrentIndex(lesson.layer_combo.count() - 1)
    probs = lesson.map_grid.maps()[0].ravel()
    probs = probs[np.isfinite(probs)]
    assert probs.shape == (10,) and probs.sum() == pytest.approx(1.0, abs=1e-5)
    # the learner's own drawing goes through the same network
    drawing = np.zeros((28, 28), np.float32)
    drawing[5:23, 12:15] = 1.0
    lesson.layer_combo.setCurrentIndex(0)
    lesson.use_drawing(drawing)
    np.testing.assert_allclose(lesson.map_grid.maps(), first_layer_maps(drawing), atol=1e-5)
    assert "your drawing" in lesson.prediction_label.text()


def test_stop_ends_training_and_keeps_the_window_usable(qtbot, lesson):
    lesson.network_combo.setCurrentText(SMALL)
    lesson.size_spin.setValue(4000)
    lesson.epochs_spin.setValue(20)
    lesson.train()
    qtbot.waitUntil(lambda: lesson.status.progress.value() > 0, timeout=TIMEOUT)
    qtbot.mouseClick(lesson.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not lesson.is_training(), timeout=TIMEOUT)
    row = lesson.table_values()["CNN (small)"]
    assert int(row["Epochs"]) < 20
    assert lesson.train_button.isEnabled() and not lesson.stop_button.isEnabled()


def test_leaving_the_lesson_stops_training(qtbot, lesson):
    lesson.network_combo.setCurrentText(SMALL)
    lesson.size_spin.setValue(4000)
    lesson.epochs_spin.setValue(20)
    lesson.train()
    lesson.deactivate()
    qtbot.waitUntil(lambda: not lesson.is_training(), timeout=TIMEOUT)
    assert not lesson.running_workers()


def test_seconds_per_epoch_leaves_out_the_compiling_first_epoch():
    assert seconds_per_epoch([9.0, 2.0, 3.0, 2.5]) == 2.5
    assert seconds_per_epoch([4.0]) == 4.0
    assert seconds_per_epoch([]) is None


def test_drawing_dialog_gives_an_mnist_like_digit(qtbot):
    from gui.widgets.draw_digit_dialog import DrawDigitDialog, drawing_available

    if not drawing_available():
        pytest.skip("the drawing pad widget is not in this checkout")
    dialog = DrawDigitDialog()
    qtbot.addWidget(dialog)
    assert not dialog.ok_button.isEnabled()          # nothing drawn yet
    dialog.pad.add_stroke([(0.5, 0.2), (0.5, 0.5), (0.5, 0.8)])
    assert dialog.ok_button.isEnabled()
    digit = dialog.digit()
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    # MNIST's preparation: the ink is 20 px tall and centred near the middle
    rows = np.flatnonzero(digit.max(axis=1) > 0.1)
    assert 18 <= rows[-1] - rows[0] + 1 <= 21
    cy = (digit.sum(axis=1) * np.arange(28)).sum() / digit.sum()
    assert abs(cy - 14) < 1.5


def test_layer_box_shows_every_layer_whole(qtbot):
    """Issue 15 item 10: at 1280×800 each entry of the feature maps' layer box fits it
    ("4. max_pooling2d_1 (MaxPool2D) → 5×5×64" was cut); the Keras name is its tooltip."""
    from PySide6.QtGui import QFontMetrics
    from PySide6.QtWidgets import QStyle, QStyleOptionComboBox

    w = CnnDigitsLesson()
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    try:
        combo = w.layer_combo
        w.tabs.setCurrentIndex(1)
        qtbot.wait(20)
        opt = QStyleOptionComboBox()
        combo.initStyleOption(opt)
        field = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, opt,
                                             QStyle.SubControl.SC_ComboBoxEditField, combo)
        fm = QFontMetrics(combo.font())
        assert combo.count() == len(w.cnn.layers)
        for i in range(combo.count()):
            assert fm.horizontalAdvance(combo.itemText(i)) <= field.width(), combo.itemText(i)
            assert combo.itemData(i, Qt.ItemDataRole.ToolTipRole).startswith(
                w.cnn.layers[i].name)
        assert combo.itemText(3) == "4. max pooling → 5×5×64"
    finally:
        w.shutdown()
