"""The "Draw a digit" lesson driven like a learner would: mouse strokes, keys, buttons."""
import contextlib

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog, QPushButton
from scipy import ndimage

import gui.lessons.draw_digit as dd
from core.digits import to_mnist
from core.io import load_model
from core.wording import percent
from gui.lessons.base import Lesson
from gui.main_window import MainWindow
from resources.paths import model_path

TIMEOUT = 20_000


def shipped(name):
    with model_path(name) as p:
        return load_model(p)


@pytest.fixture
def lesson(qtbot):
    les = dd.DrawDigitLesson()
    qtbot.addWidget(les)
    les.resize(1040, 640)
    les.show()
    qtbot.waitExposed(les)
    yield les
    les.shutdown()


def _pt(pad, x, y):
    side = min(pad.width(), pad.height())
    return QPoint(int((pad.width() - side) / 2 + x * side), int((pad.height() - side) / 2 + y * side))


def drag(pad, points, button=Qt.MouseButton.LeftButton):
    QTest.mousePress(pad, button, Qt.KeyboardModifier.NoModifier, _pt(pad, *points[0]))
    for x, y in points[1:]:
        QTest.mouseMove(pad, _pt(pad, x, y))
    QTest.mouseRelease(pad, button, Qt.KeyboardModifier.NoModifier, _pt(pad, *points[-1]))


SEVEN = [(0.25, 0.2), (0.5, 0.2), (0.72, 0.2), (0.62, 0.45), (0.52, 0.65), (0.45, 0.85)]


def settle(qtbot, les):
    """Wait until the newest request has been read and shown."""
    qtbot.waitUntil(lambda: les._shown_generation == les._generation, timeout=TIMEOUT)


def test_strokes_give_a_centred_28x28_image_and_the_networks_answer(lesson, qtbot):
    assert "Draw a digit" in lesson.panel.caption.text() and lesson.panel.guess.text() == ""
    drag(lesson.pad, SEVEN)
    settle(qtbot, lesson)
    image28 = lesson.digit_view.image
    np.testing.assert_array_equal(image28, to_mnist(lesson.pad.image()))
    cy, cx = ndimage.center_of_mass(image28)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5
    cnn = shipped("digits_cnn")
    expected = cnn.predict(image28.reshape(1, 28, 28, 1))[0]
    np.testing.assert_allclose(lesson.panel.probabilities, expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(lesson.panel.bars.opts["height"], expected, rtol=1e-4, atol=1e-6)
    assert lesson.panel.guess.text() == str(int(np.argmax(expected)))
    assert "CNN" in lesson.panel.caption.text()
    assert "Dense network:" in lesson.compare.text() and "CNN:" in lesson.compare.text()
    # the top answer's probability as a percentage, never "p = 1" (issue 15 item 10)
    top = int(np.argmax(expected))
    assert f"CNN: <b>{top}</b> ({percent(expected[top])})" in lesson.compare.text()
    assert "p = " not in lesson.compare.text()


def test_prediction_updates_during_a_stroke_not_only_on_release(lesson, qtbot):
    pad = lesson.pad
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     _pt(pad, 0.5, 0.15))
    QTest.mouseMove(pad, _pt(pad, 0.5, 0.5))
    QTest.mouseMove(pad, _pt(pad, 0.5, 0.85))
    settle(qtbot, lesson)
    assert lesson.panel.guess.text() != ""  # already answered while the button is down
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       _pt(pad, 0.5, 0.85))


def test_clear_and_undo_by_button_and_key(lesson, qtbot):
    drag(lesson.pad, [(0.5, 0.15), (0.5, 0.85)])
    settle(qtbot, lesson)
    one = lesson.digit_view.image.copy()
    drag(lesson.pad, [(0.3, 0.5), (0.7, 0.5)])
    settle(qtbot, lesson)
    assert not np.array_equal(lesson.digit_view.image, one)
    lesson.pad.setFocus()
    QTest.keyClick(lesson.pad, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, lesson)
    assert lesson.pad.stroke_count() == 1
    np.testing.assert_allclose(lesson.digit_view.image, one, atol=0.05)
    QTest.keyClick(lesson.pad, Qt.Key.Key_Delete)
    settle(qtbot, lesson)
    assert lesson.pad.is_empty() and not lesson.digit_view.image.any()
    assert lesson.panel.guess.text() == "" and "Draw a digit" in lesson.panel.caption.text()
    assert not np.any(lesson.panel.bars.opts["height"])
    drag(lesson.pad, [(0.5, 0.15), (0.5, 0.85)])
    settle(qtbot, lesson)
    clear = next(b for b in lesson.findChildren(QPushButton) if b.text() == "Clear")
    qtbot.mouseClick(clear, Qt.MouseButton.LeftButton)
    settle(qtbot, lesson)
    assert lesson.pad.is_empty() and lesson.panel.guess.text() == ""


def test_switching_to_the_dense_network_shows_its_probabilities(lesson, qtbot):
    drag(lesson.pad, SEVEN)
    settle(qtbot, lesson)
    lesson.select_network("mlp")
    settle(qtbot, lesson)
    mlp = shipped("digits_mlp")
    expected = mlp.predict(lesson.digit_view.image.reshape(1, 28, 28, 1))[0]
    np.testing.assert_allclose(lesson.panel.probabilities, expected, rtol=1e-4, atol=1e-6)
    assert "Dense network" in lesson.panel.caption.text()


def test_saliency_overlay_is_the_gradient_of_the_top_probability(lesson, qtbot):
    lesson.select_network("mlp")
    drag(lesson.pad, SEVEN)
    lesson.saliency_box.setChecked(True)
    settle(qtbot, lesson)
    sal = lesson.digit_view.saliency
    assert sal is not None and lesson.digit_view.saliency_legend.isVisibleTo(lesson)
    mlp = shipped("digits_mlp")
    x = lesson.digit_view.image.astype(np.float32)
    top = int(np.argmax(mlp.predict(x.reshape(1, 28, 28, 1))[0]))
    # centred finite differences on the most influential pixels
    for flat in np.argsort(sal.ravel())[-3:]:
        r, c = divmod(int(flat), 28)
        eps = 1e-2
        up, down = x.copy(), x.copy()
        up[r, c] += eps
        down[r, c] -= eps
        p = mlp.predict(np.stack([up, down]).reshape(2, 28, 28, 1))[:, top].astype(np.float64)
        fd = (p[0] - p[1]) / (2 * eps)
        assert sal[r, c] == pytest.approx(abs(fd), rel=0.1, abs=1e-4)
    lesson.saliency_box.setChecked(False)
    settle(qtbot, lesson)
    assert lesson.digit_view.saliency is None


def test_teaching_a_correction_changes_the_answer_and_can_be_saved_and_reset(
        lesson, qtbot, tmp_path, monkeypatch):
    drag(lesson.pad, SEVEN)
    settle(qtbot, lesson)
    before = int(lesson.panel.guess.text())
    wanted = (before + 3) % 10
    lesson.label_combo.setCurrentIndex(wanted)
    lesson.saliency_box.setChecked(True)  # a re-reading of the same drawing keeps the choice
    settle(qtbot, lesson)
    assert lesson.label_combo.currentIndex() == wanted
    qtbot.mouseClick(lesson.teach_button, Qt.MouseButton.LeftButton)
    assert not lesson.teach_button.isEnabled()  # one lesson at a time
    qtbot.waitUntil(lambda: not lesson.is_training() and "Before" in lesson.teach_label.text(),
                    timeout=60_000)
    settle(qtbot, lesson)
    assert lesson.panel.guess.text() == str(wanted)
    assert lesson.panel.before_bars.isVisible()
    np.testing.assert_allclose(lesson.panel.before[before], lesson.panel.before.max())
    assert "unsaved" in lesson.network_combo.currentText()

    target = tmp_path / "taught.npz"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    qtbot.mouseClick(lesson.save_button, Qt.MouseButton.LeftButton)
    saved = load_model(target)
    x = lesson.digit_view.image.reshape(1, 28, 28, 1)
    assert int(np.argmax(saved.predict(x)[0])) == wanted
    assert "unsaved" not in lesson.network_combo.currentText()

    qtbot.mouseClick(lesson.reset_button, Qt.MouseButton.LeftButton)
    settle(qtbot, lesson)
    assert lesson.panel.guess.text() == str(before)


@contextlib.contextmanager
def _fake_path(path):
    yield path


@pytest.mark.parametrize("content, words", [
    (None, "no model file"),
    (b"this is not a model", "not a Backprop Lab model file"),
])
def test_a_missing_or_corrupt_model_gives_a_message_and_the_pad_still_works(
        qtbot, monkeypatch, tmp_path, content, words):
    path = tmp_path / "model.npz"
    if content is not None:
        path.write_bytes(content)
    monkeypatch.setattr(dd, "model_path", lambda name: _fake_path(path))
    les = dd.DrawDigitLesson()
    qtbot.addWidget(les)
    les.show()
    try:
        assert les.error_label.isVisibleTo(les)
        text = les.error_label.text()
        assert "could not be loaded" in text and words in text
        assert "train_digit_models.py" in text
        assert "not available" in les.network_combo.currentText()
        drag(les.pad, SEVEN)
        settle(qtbot, les)
        assert les.digit_view.image.any()  # the preparation still shows
        assert les.panel.guess.text() == "" and "could not be loaded" in les.panel.caption.text()
        assert not les.teach_button.isEnabled()
    finally:
        les.shutdown()


def test_a_malformed_shipped_model_is_reported_in_a_sentence(qtbot, monkeypatch, tmp_path):
    path = tmp_path / "model.npz"
    header = (b'{"format": "backprop-lab-model", "version": 1, "model": {"input_shape": [784], '
              b'"layers": [{"class_name": ["Dense"], "config": {"units": 10}}]}}')
    np.savez(path, header=np.frombuffer(header, np.uint8))
    monkeypatch.setattr(dd, "model_path", lambda name: _fake_path(path))
    with pytest.raises(ValueError) as expected:
        load_model(path)
    les = dd.DrawDigitLesson()
    qtbot.addWidget(les)
    try:
        text = les.error_label.text()
        assert "could not be loaded" in text and str(expected.value) in text
        assert "Error" not in text and "not available" in les.network_combo.currentText()
    finally:
        les.shutdown()


def test_the_window_keeps_working_without_the_models(qtbot, monkeypatch, tmp_path):
    monkeypatch.setattr(dd, "model_path", lambda name: _fake_path(tmp_path / "missing.npz"))

    class Other(Lesson):
        title = "Other"

    win = MainWindow(lessons=[dd.DrawDigitLesson, Other])
    qtbot.addWidget(win)
    win.show()
    assert win.select_lesson("Draw a digit")
    les = win.current_lesson()
    assert isinstance(les, dd.DrawDigitLesson) and les.error_label.isVisibleTo(les)
    assert win.select_lesson("Other")
    assert isinstance(win.current_lesson(), Other)
    win.close()
    assert not les.running_workers()


def test_while_the_fast_kernels_compile_the_pad_reads_with_plain_numpy_then_again(lesson,
                                                                                   qtbot):
    from gui.engine_warmup import pad_kernels

    state = pad_kernels()
    state.set_pending(True)       # a first-ever launch: the warm-up is compiling the pad's
    try:
        lesson.saliency_box.setChecked(True)
        drag(lesson.pad, SEVEN)
        settle(qtbot, lesson)
        plain = lesson.last_readings["cnn"]
        assert "plain NumPy" in lesson.timing.text() and lesson.panel.guess.text() != ""
        assert plain.saliency is None and lesson.digit_view.saliency is None
        shown = lesson._shown_generation
        state.set_pending(False)  # the warm-up says the pad's kernels are ready: read again
        qtbot.waitUntil(lambda: lesson._shown_generation > shown, timeout=TIMEOUT)
        settle(qtbot, lesson)
        fast = lesson.last_readings["cnn"]
        assert "plain NumPy" not in lesson.timing.text()
        assert fast.top == plain.top and lesson.digit_view.saliency is not None
        np.testing.assert_allclose(plain.probabilities, fast.probabilities, atol=1e-5)
    finally:
        state.set_pending(False)


def test_the_mailbox_keeps_only_the_newest_request():
    from gui.digit_reader import Mailbox

    box = Mailbox()
    box.put("old")
    box.put("new")
    assert box.take(0.01) == "new"
    assert box.take(0.01) is None
    box.close()
    assert box.take(5.0) is None  # a closed box never blocks


def _teach_seven(lesson, qtbot):
    drag(lesson.pad, SEVEN)
    settle(qtbot, lesson)
    wanted = (int(lesson.panel.guess.text()) + 3) % 10
    lesson.label_combo.setCurrentIndex(wanted)
    return wanted


def test_teaching_trains_in_the_lessons_session_with_teachs_numbers(lesson, qtbot):
    from core.data import load_offline_digits
    from core.teaching.teach import teach

    lesson.select_network("mlp")
    wanted = _teach_seven(lesson, qtbot)
    image28 = to_mnist(lesson.pad.image())
    reference = shipped("digits_mlp")

    def same_dropout(model):  # the shipped dropout layers draw from fresh entropy otherwise
        for i, layer in enumerate(model.layers):
            if hasattr(layer, "reseed"):
                layer.rng = np.random.default_rng(i)

    same_dropout(lesson.models["mlp"])
    same_dropout(reference)
    qtbot.mouseClick(lesson.teach_button, Qt.MouseButton.LeftButton)
    session = lesson._teacher
    assert lesson.training_sessions() == [session]     # the frame owns it
    qtbot.waitUntil(lambda: not lesson.is_training(), timeout=60_000)
    assert not lesson.running_workers() or lesson.running_workers() == [lesson._recognizer]
    result, _, _ = session.tasks[0].result
    x, y = load_offline_digits()
    ref = teach(reference, image28, wanted, x[:4500], y[:4500], seed=1)  # the first teach
    assert result.steps == ref.steps and result.losses == ref.losses
    for a, b in zip(lesson.models["mlp"].get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert f"after {ref.steps} steps" in lesson.teach_label.text()


def test_leaving_mid_teach_stops_the_session_and_leaves_no_thread(lesson, qtbot):
    from gui import app as gui_app

    _teach_seven(lesson, qtbot)
    qtbot.mouseClick(lesson.teach_button, Qt.MouseButton.LeftButton)
    assert lesson.is_training() and not lesson.teach_button.isEnabled()
    lesson.deactivate()
    assert not lesson.is_training() and not lesson.training_sessions()
    qtbot.waitUntil(lambda: not lesson.running_workers(), timeout=TIMEOUT)
    assert not [w for w in gui_app._ACTIVE if w.is_running()]
    task = lesson._teacher.tasks[0]
    assert task.status == "stopped" and "left the lesson" in task.run.stop_reason
    if task.result is None:                    # left while it prepared: nothing trained
        assert task.steps == 0 and "unchanged" in lesson.teach_label.text()
    else:
        assert task.result[0].stopped and task.result[0].steps < 40
        assert "stopped early" in lesson.teach_label.text()
    assert lesson.teach_button.isEnabled()


def test_closing_the_window_mid_teach_leaves_no_thread(lesson, qtbot):
    from gui import app as gui_app

    _teach_seven(lesson, qtbot)
    qtbot.mouseClick(lesson.teach_button, Qt.MouseButton.LeftButton)
    assert lesson.is_training()
    lesson.shutdown()
    assert not lesson.is_training() and not lesson.running_workers()
    assert not [w for w in gui_app._ACTIVE if w.is_running()]
    assert "window closed" in lesson._teacher.tasks[0].run.stop_reason


def test_the_learners_own_keras_model_reads_drawings_beside_the_shipped_ones(lesson, qtbot):
    """File > Open hands the lesson the learner's model: a Keras-style 28×28 → 10 network
    with sigmoid outputs (tutorial 7's) reads each drawing; its probabilities are its
    outputs rescaled to sum to 1, computed here from the model itself."""
    from core import keras

    mine = keras.Sequential([keras.layers.Flatten(input_shape=(28, 28)),
                             keras.layers.Dense(10, activation="sigmoid")], seed=3)
    lesson.learner_model_opened(mine, "tutorial7.keras")
    keys = [lesson.network_combo.itemData(i) for i in range(lesson.network_combo.count())]
    assert keys == ["mlp", "cnn", dd.YOURS]
    assert "Your model (tutorial7.keras)" in lesson.network_combo.itemText(2)
    lesson.select_network(dd.YOURS)
    drag(lesson.pad, SEVEN)
    settle(qtbot, lesson)
    out = mine.predict(lesson.digit_view.image.reshape(1, 28, 28), verbose=0)[0].astype(np.float64)
    np.testing.assert_allclose(lesson.panel.probabilities, out / out.sum(), rtol=1e-4, atol=1e-6)
    assert "Your model (tutorial7.keras):" in lesson.compare.text()
    assert not lesson.teach_button.isEnabled()   # it is read here, not taught


def test_a_model_that_cannot_read_digits_is_explained_not_listed(lesson, qtbot):
    from core import keras

    shown = []
    lesson.status_message.connect(lambda text, *_: shown.append(text))
    other = keras.Sequential([keras.layers.Dense(3, input_shape=(4,))])
    lesson.learner_model_opened(other, "iris.keras")
    assert lesson.network_combo.count() == 2
    assert any("iris.keras cannot read drawings here" in s and "784" in s for s in shown)
