"""Hidden layers on digits: both networks train in a worker and the hidden layer wins."""
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from core.wording import percent
from gui.lessons import hidden_layers as H
from gui.lessons.hidden_layers import HiddenLayersLesson

EPOCHS = 2
#: training digits used here: enough for the hidden layer's lead to be clear, quick to train
N_TRAIN = 1500


def _wait(cond, timeout_s):
    # a module-scoped lesson has no qtbot: the same event-pumping wait qtbot.waitUntil does
    end = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        # processEvents + sleep, not QTest.qWait: qWait keeps the GIL while it waits, and
        # the training thread then crawls (22 s instead of 2 s for this fixture)
        QApplication.processEvents()
        time.sleep(0.01)


def _forward(weights, x):
    """Plain NumPy forward pass of a [ReLU hidden →] sigmoid dense net: (N, 10) scores."""
    h = x.astype(np.float64)
    n = len(weights) // 2
    for k in range(n):
        z = h @ weights[2 * k].astype(np.float64) + weights[2 * k + 1].astype(np.float64)
        h = 1 / (1 + np.exp(-z)) if k == n - 1 else np.maximum(z, 0)
    return h


@pytest.fixture(scope="module")
def trained(qapp):
    lesson = HiddenLayersLesson()
    lesson.resize(1040, 740)
    lesson.epochs_spin.setValue(EPOCHS)
    lesson.auto_train = False
    lesson.show()
    lesson.activate()     # loads the digits in a worker
    _wait(lambda: lesson.data is not None, 60)
    d = lesson.data
    lesson.data = H.DigitData(d.x_train[:N_TRAIN], d.y_train[:N_TRAIN], d.x_val, d.y_val)
    lesson.start_training()
    _wait(lambda: not lesson.is_training()
          and all(v == EPOCHS for v in lesson.epochs_done.values()), 120)
    yield lesson
    lesson.shutdown()
    assert not lesson.running_workers()
    lesson.close()
    lesson.deleteLater()


def test_both_networks_train_and_the_hidden_layer_wins(trained):
    lesson = trained
    data = lesson.data
    assert lesson.train_button.text() == "Train both"
    accs = {}
    for key, card in lesson.cards.items():
        # the accuracy on screen is the trained weights' accuracy, computed independently
        pred = np.argmax(_forward(lesson.weights[key], data.x_val), axis=1)
        accs[key] = float(np.mean(pred == data.y_val))
        assert card.val_acc.value() == pytest.approx(accs[key], abs=1e-6)
        assert card.val_acc.text() == percent(card.val_acc.value())     # "12.20 %", not 0.122
        assert f"{round(accs[key] * len(data.y_val))} / {len(data.y_val)}" in card.val_acc.toolTip()
        assert card.progress.value() == 1000
        assert card.train_acc.value() is not None
    assert accs["hidden"] > accs["none"] > 0.5
    assert "hidden layer helps" in lesson.verdict.text()
    xs, ys = lesson.curves["hidden"].getData()
    assert list(xs) == [0, 1, 2] and ys[-1] == pytest.approx(accs["hidden"])


def test_architectures_are_the_courses(trained):
    shapes = {k: [w.shape for w in ws] for k, ws in trained.weights.items()}
    assert shapes["none"] == [(784, 10), (10,)]
    assert shapes["hidden"] == [(784, 100), (100,), (100, 10), (10,)]
    assert trained.cards["hidden"].params.text() == "79,510 params"


def test_diagram_animates_one_step_of_the_selected_network(trained):
    lesson = trained
    if lesson.diagram is None:
        pytest.skip("network diagram not available")
    lesson.select("hidden")
    n_hidden_cols = len(lesson.diagram.columns())
    trace = lesson.trace
    # the step starts from the trained weights, on the chosen digit
    k = lesson.sample
    np.testing.assert_allclose(trace.x[0], lesson.data.x_val[k])
    np.testing.assert_allclose(trace.y_pred[0], _forward(lesson.weights["hidden"],
                                                         lesson.data.x_val[k:k + 1])[0],
                               rtol=1e-4, atol=1e-6)
    assert lesson.player.index() == 0
    phases = [lesson.diagram.phase()[0]]
    for _ in range(lesson.player.count() - 1):
        QTest.keyClick(lesson, Qt.Key.Key_Right)   # → steps, as in every lesson
        phases.append(lesson.diagram.phase()[0])
    assert phases[0] == "forward" and phases[-1] == "update"
    assert "loss" in phases and "backward" in phases
    # the trained network itself is untouched by the animated step
    np.testing.assert_array_equal(lesson.models["hidden"].get_weights()[0],
                                  lesson.weights["hidden"][0])
    lesson.cards["none"].radio.click()
    assert lesson.selected == "none"
    assert len(lesson.diagram.columns()) < n_hidden_cols
    assert "no hidden layer" in lesson.diagram_caption.text()
    assert lesson.player.index() == 0


def test_choosing_a_digit_retraces_and_predicts_it(trained):
    lesson = trained
    lesson.digit_spin.setValue(7)
    x7 = lesson.data.x_val[7:8]
    if lesson.diagram is not None:
        np.testing.assert_allclose(lesson.trace.x[0], x7[0])
    for key, card in lesson.cards.items():
        guess = int(np.argmax(_forward(lesson.weights[key], x7)))
        assert f"→ {guess}" in card.prediction.text()
    assert "#7" in lesson.diagram_caption.text()


def test_stop_button_stops_the_worker_and_keeps_the_window_responsive(qtbot, trained):
    lesson = trained
    lesson.epochs_spin.setValue(30)
    qtbot.mouseClick(lesson.train_button, Qt.MouseButton.LeftButton)
    assert lesson.is_training() and lesson.train_button.text() == "Stop"
    # the window keeps handling events while the worker trains
    qtbot.waitUntil(lambda: lesson.cards["none"].progress.value() > 0, timeout=20000)
    qtbot.mouseClick(lesson.train_button, Qt.MouseButton.LeftButton)
    assert not lesson.is_training()
    assert not lesson.running_workers()
    assert lesson.train_button.text() == "Train both"
    lesson.epochs_spin.setValue(EPOCHS)


def test_deactivate_stops_training(trained):
    lesson = trained
    lesson.start_training()
    assert lesson.is_training()
    lesson.deactivate()
    assert not lesson.is_training() and not lesson.running_workers()
    QApplication.processEvents()


def test_first_showing_trains_both_by_itself(qtbot, trained):
    lesson = HiddenLayersLesson()
    qtbot.addWidget(lesson)
    lesson.show()
    lesson.activate()
    # the digits are cached by now; the comparison starts without a click
    qtbot.waitUntil(lesson.is_training, timeout=30000)
    assert lesson.train_button.text() == "Stop"
    lesson.deactivate()
    assert not lesson.is_training() and not lesson.running_workers()
    lesson.shutdown()


def test_accuracy_axis_stays_a_share_from_the_start(trained):
    ymin, ymax = trained.acc_plot.getPlotItem().viewRange()[1]
    assert -0.1 <= ymin <= 0.0 and 1.0 <= ymax <= 1.1


def test_the_diagram_gets_the_height_before_any_data(qtbot):
    lesson = HiddenLayersLesson()
    qtbot.addWidget(lesson)
    lesson.resize(1060, 750)      # the lesson's share of a 1280×800 window
    lesson.show()
    qtbot.waitExposed(lesson)
    # a visual-heavy lesson: the explanation starts folded (F1 or a click opens it)
    assert not lesson.explanation_section.is_expanded()
    ymin, ymax = lesson.acc_plot.getPlotItem().viewRange()[1]
    assert -0.1 <= ymin <= 0.0 and 1.0 <= ymax <= 1.1     # not an auto-range around nothing
    assert "not trained" in lesson.cards["none"].progress.text()
    if lesson.diagram is not None:
        # the comparison keeps what it needs; the network takes the rest
        assert lesson.diagram.height() > 0.6 * lesson.splitter.height()
        # … and inside the diagram the network, not its banner, formula and legends, has
        # most of the height (proportions: pixels depend on the machine's fonts)
        assert lesson.diagram.view.height() > 0.5 * lesson.diagram.height()


def test_step_after_the_update_says_how_to_watch_again(trained):
    lesson = trained
    if lesson.player is None:
        pytest.skip("network diagram not available")
    messages = []
    lesson.status_message.connect(lambda text, _ms: messages.append(text))
    lesson.playback.reset_button.click()
    for _ in range(lesson.player.count()):
        lesson.playback.forward_button.click()
    assert lesson.player.at_end() and messages and "Reset" in messages[-1]


def test_train_pressed_while_loading_trains_once_loaded(qtbot, trained):
    lesson = HiddenLayersLesson()
    lesson.auto_train = False
    qtbot.addWidget(lesson)
    messages = []
    lesson.status_message.connect(lambda text, _ms: messages.append(text))
    lesson.train_button.click()                 # before the digits are here
    assert messages and "loading" in messages[-1]
    assert not lesson.is_training()
    lesson.activate()
    qtbot.waitUntil(lesson.is_training, timeout=30000)
    # the run's length is fixed at its start: the spin box may change meanwhile
    bar = lesson.cards["none"].progress
    qtbot.waitUntil(lambda: bar.value() > 0, timeout=30000)
    before = bar.value()
    lesson.epochs_spin.setValue(12)
    qtbot.waitUntil(lambda: bar.value() > before, timeout=30000)
    assert f"of {H.DEFAULT_EPOCHS}" in bar.text() and "12" not in bar.text()
    lesson.deactivate()
    assert not lesson.is_training() and not lesson.running_workers()
    lesson.shutdown()
