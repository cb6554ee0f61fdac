"""File ▸ Save trained model…: whatever a lesson trained or taught saves as .keras or .npz,
loads back with core.keras.models.load_model and predicts the same."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from core.keras.models import load_model
from core.layers import Dense
from core.model import Sequential
from core.optimizers import SGD
from core.teaching.runs import Run
from gui.lessons.base import Lesson
from gui.main_window import MainWindow
from gui.training_worker import TrainingSession, TrainingTask

TIMEOUT = 180_000     # the first fit in a fresh checkout compiles the kernels


@pytest.fixture(autouse=True)
def quit_without_asking(monkeypatch):
    monkeypatch.setattr(MainWindow, "ask_about_unsaved", lambda self, texts: "discard")


@pytest.fixture
def messages(monkeypatch):
    shown = []

    def record(parent, title, text, *args, **kwargs):
        shown.append((title, text))
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "information", staticmethod(record))
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(record))
    return shown


def _data(n=64):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 2)).astype(np.float32)
    return x, (x[:, 0] * x[:, 1] > 0).astype(np.float32)


class Trainer(Lesson):
    """A lesson that trains one small network through the frame's training session, as
    every training lesson of the app does."""
    title = "Trainer"
    subtitle = "Trains a small network."

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = Sequential([Dense(4, activation="tanh"), Dense(1, activation="sigmoid")],
                                input_shape=(2,), seed=0)
        self.model.compile(SGD(0.5), "binary_crossentropy", ["accuracy"])
        self.session = None

    def train(self, epochs=3, name="tiny net"):
        x, y = _data()
        self.session = TrainingSession(
            [TrainingTask(Run(name), self.model, x, y, epochs=epochs, batch_size=16)],
            warm_up=False, parent=self)
        return self.start_session(self.session)


def _window(qtbot):
    win = MainWindow(lessons=[Trainer])
    qtbot.addWidget(win)
    win.show()
    win.navigator.setCurrentRow(1)
    assert isinstance(win.current_lesson(), Trainer)
    return win


def _save_to(monkeypatch, path, chosen):
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(path), chosen)))


@pytest.mark.parametrize("chosen, suffix", [("Keras 3 models (*.keras)", ".keras"),
                                            ("Backprop Lab models (*.npz)", ".npz")])
def test_a_model_trained_in_a_lesson_saves_and_loads_back_predicting_the_same(
        qtbot, tmp_path, monkeypatch, messages, chosen, suffix):
    win = _window(qtbot)
    lesson = win.current_lesson()
    before = lesson.model.get_weights()
    with qtbot.waitSignal(lesson.train().finished, timeout=TIMEOUT):
        pass
    assert any(not np.array_equal(a, b) for a, b in zip(before, lesson.model.get_weights()))
    _save_to(monkeypatch, tmp_path / "mine", chosen)          # no suffix: the filter's
    assert win.save_trained_model()
    assert messages == []
    back = load_model(tmp_path / f"mine{suffix}")
    x, _ = _data(16)
    np.testing.assert_allclose(back.predict(x), lesson.model.predict(x), atol=1e-6)
    for a, b in zip(back.get_weights(), lesson.model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_nothing_trained_yet_says_so_in_a_sentence(qtbot, tmp_path, monkeypatch, messages):
    win = _window(qtbot)
    _save_to(monkeypatch, tmp_path / "never.keras", "Keras 3 models (*.keras)")
    assert win.save_trained_model() is False
    assert len(messages) == 1
    assert messages[0][1].startswith("Nothing has been trained in “Trainer” yet")
    assert not (tmp_path / "never.keras").exists()


def test_a_lesson_still_training_is_not_saved_half_way(qtbot, tmp_path, monkeypatch, messages):
    win = _window(qtbot)
    lesson = win.current_lesson()
    session = lesson.train(epochs=None)          # until stopped
    qtbot.waitUntil(lambda: session.tasks[0].steps > 0, timeout=TIMEOUT)
    _save_to(monkeypatch, tmp_path / "half.npz", "Backprop Lab models (*.npz)")
    assert win.save_trained_model() is False
    assert "still training" in messages[-1][1]
    assert lesson.stop_sessions()
    qtbot.waitUntil(lambda: not lesson.is_training(), timeout=TIMEOUT)
    qtbot.wait(50)                                # the finished signal reaches the lesson
    assert win.save_trained_model()
    assert load_model(tmp_path / "half.npz").count_params() == lesson.model.count_params()


def test_with_several_trained_networks_the_learner_chooses_one(qtbot, tmp_path, monkeypatch,
                                                               messages):
    win = _window(qtbot)
    lesson = win.current_lesson()
    with qtbot.waitSignal(lesson.train(name="first").finished, timeout=TIMEOUT):
        pass
    first = lesson.model
    lesson.model = Sequential([Dense(3, activation="relu"), Dense(1, activation="sigmoid")],
                              input_shape=(2,), seed=1)
    lesson.model.compile(SGD(0.5), "binary_crossentropy")
    with qtbot.waitSignal(lesson.train(name="second").finished, timeout=TIMEOUT):
        pass
    offered = []

    def choose(parent, title, label, items, *args, **kwargs):
        offered.extend(items)
        return next(i for i in items if i.startswith("first")), True

    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(choose))
    _save_to(monkeypatch, tmp_path / "pick.keras", "Keras 3 models (*.keras)")
    assert win.save_trained_model()
    assert [o.split(" (")[0] for o in offered] == ["second", "first"]   # latest first
    assert load_model(tmp_path / "pick.keras").count_params() == first.count_params()


def test_a_network_taught_in_draw_a_digit_saves_as_keras_and_is_no_longer_unsaved(
        qtbot, tmp_path, monkeypatch, messages):
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    from gui import model_saving
    from gui.lessons.draw_digit import DrawDigitLesson

    lesson = DrawDigitLesson()
    qtbot.addWidget(lesson)
    lesson.resize(1040, 640)
    lesson.show()
    qtbot.waitExposed(lesson)
    try:
        pad = lesson.pad
        side = min(pad.width(), pad.height())

        def at(x, y):
            return QPoint(int((pad.width() - side) / 2 + x * side),
                          int((pad.height() - side) / 2 + y * side))

        seven = [(0.25, 0.2), (0.72, 0.2), (0.62, 0.45), (0.45, 0.85)]
        QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         at(*seven[0]))
        for p in seven[1:]:
            QTest.mouseMove(pad, at(*p))
        QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                           at(*seven[-1]))
        lesson.select_network("mlp")          # the dense network: quick to teach
        lesson.label_combo.setCurrentIndex(3)
        lesson.teach_current()
        qtbot.waitUntil(lambda: not lesson.is_training(), timeout=TIMEOUT)
        qtbot.waitUntil(lambda: bool(lesson.unsaved_models()), timeout=TIMEOUT)
        (description, taught), = lesson.trained_models()
        _save_to(monkeypatch, tmp_path / "taught", "Keras 3 models (*.keras)")
        assert model_saving.save_trained_model(None, lesson) == str(tmp_path / "taught.keras")
        assert messages == []
        back = load_model(tmp_path / "taught.keras")
        x = np.random.default_rng(1).random((4, *taught.input_shape)).astype(np.float32)
        np.testing.assert_allclose(back.predict(x), taught.predict(x), atol=1e-5)
        assert lesson.unsaved_models() == []
    finally:
        lesson.shutdown()
