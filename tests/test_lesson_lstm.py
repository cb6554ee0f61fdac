"""LSTM: one cell revealed stage by stage with the engine's numbers (checked against the
formulas from the weights), a bad sequence gets a sentence, and the RNN-vs-LSTM memory run
draws accuracy and the gradient at every time step for both networks."""
import numpy as np
import pytest

pytest.importorskip("pytestqt")

from core.teaching import lstm_steps as ls  # noqa: E402
from gui.lessons import COURSE, lesson_classes  # noqa: E402
from gui.lessons.lstm import LstmLesson  # noqa: E402

TIMEOUT = 120_000


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


@pytest.fixture
def lesson(qtbot):
    w = LstmLesson()
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w.walks is not None, timeout=TIMEOUT)
    yield w
    w.shutdown()


def test_registered_after_vanishing_gradients():
    names = [m for m, _ in COURSE]
    assert names.index("gui.lessons.lstm") > names.index("gui.lessons.vanishing_gradients")
    assert LstmLesson in lesson_classes()
    assert LstmLesson.course_tutorials == (36,)


def test_the_cell_is_revealed_stage_by_stage_with_its_numbers(lesson):
    w, u, b = (np.asarray(a, np.float64) for a in lesson.weights[:3])
    m = u.shape[0]
    x = float(lesson.sequence[0])
    z = x * w[0] + b                               # step 1: h0 = c0 = 0
    f, i, g, o = sig(z[m:2 * m]), sig(z[:m]), np.tanh(z[2 * m:3 * m]), sig(z[3 * m:])
    c = i * g
    h = o * np.tanh(c)
    assert [card.state for card in lesson.cards] == ["current"] + ["hidden"] * 5
    assert ls.vec(f) in lesson.cards[0].text()
    assert lesson.cards[4].text().endswith("?</code>")
    expected = [f, i, g, o, c, h]
    for k in range(1, 6):
        lesson.playback.trigger_step_forward()
        assert lesson.cards[k].state == "current"
        assert ls.vec(expected[k]) in lesson.cards[k].text()
    assert "Time step 1 of 4" in lesson.where.text()
    lesson.playback.trigger_step_forward()          # on to step 2
    assert "Time step 2 of 4" in lesson.where.text()
    assert ls.vec(h) in lesson.inputs_label.text()   # h_(t−1) is the last step's h
    lesson.playback.trigger_step_back()
    assert "Time step 1 of 4" in lesson.where.text() and lesson.cards[5].state == "current"
    lesson.playback.trigger_reset()
    assert lesson.t == 1 and lesson.stage == 0


def test_a_bad_sequence_gets_a_sentence_and_loses_nothing(qtbot, lesson):
    walks = lesson.walks
    lesson.sequence_edit.setText("0.2, banana")
    lesson.apply_sequence()
    assert "is not a number" in lesson.message.text()
    assert "still reads 0.5, -0.3, 0.8, 0.1" in lesson.message.text()
    assert lesson.walks is walks
    lesson.sequence_edit.setText("0.1, 0.9")
    lesson.apply_sequence()
    qtbot.waitUntil(lambda: lesson.walks is not walks and len(lesson.walks) == 2,
                    timeout=TIMEOUT)
    assert not lesson.message.isVisible()


def test_memory_run_draws_both_networks(qtbot, lesson):
    with qtbot.waitSignal(lesson.memory_finished, timeout=TIMEOUT):
        lesson.train_memory(epochs=2, samples=128)
    for name in ("SimpleRNN", "LSTM"):
        assert len(lesson.accuracy[name]) == 2
        x, y = lesson.acc_curves[name].getData()
        assert len(x) == 2 and np.all((0 <= y) & (y <= 100))
        gx, gy = lesson.grad_curves[name].getData()
        assert len(gx) == ls.MEMORY_STEPS and np.all(np.isfinite(gy))
    text = lesson.memory_message.text()
    assert "SimpleRNN:" in text and "LSTM:" in text and "chance is 50 %" in text
    assert "e-" not in text
    assert lesson.memory_button.text() == "Train both"
