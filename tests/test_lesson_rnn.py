"""What is an RNN: the unrolled picture fills in h_t step by step going forward and ∂L/∂h_t
going back, with the trace's numbers; a bad sequence gets a sentence and loses nothing; a
dense network refuses another length while the RNN reads it; training moves the numbers."""
import numpy as np
import pytest

pytest.importorskip("pytestqt")

from core.teaching import rnn_steps as rs  # noqa: E402
from gui.lessons import COURSE, lesson_classes  # noqa: E402
from gui.lessons import rnn as rnn_lesson  # noqa: E402
from gui.lessons.rnn import RnnLesson  # noqa: E402

TIMEOUT = 60_000


@pytest.fixture
def lesson(qtbot):
    w = RnnLesson()
    qtbot.addWidget(w)
    w.resize(1040, 720)
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w.walk is not None, timeout=TIMEOUT)
    yield w
    w.shutdown()


def _values(text):
    return [float(v) for v in text.split("\n") if v]


def test_registered_in_the_course():
    assert ("gui.lessons.rnn", "RnnLesson") in COURSE
    assert RnnLesson in lesson_classes()


def test_forward_through_time_fills_in_each_hidden_state(lesson):
    walk, d = lesson.walk, lesson.diagram
    seq = [0.3, -0.1, 0.4, 0.2, -0.5]
    np.testing.assert_allclose(walk.sequence, seq, rtol=1e-6)
    assert lesson.table.rowCount() == len(walk.steps)
    # step 1: h1 is known, later states are not computed yet
    assert lesson.index == 0 and d.t == 1
    assert _values(d.hidden_text(1)) == pytest.approx(walk.hidden[0], abs=1e-3)
    assert d.hidden_text(2) == "?" and d.output_text() == "ŷ = ?"
    # the formula shows the numbers: x1, W, and the result h1 from the trace
    formula = lesson.formula_view.toPlainText()
    assert "tanh(x₁·W + h₀·U + b)" in formula
    assert rs.vec(walk.weights["kernel"]) in formula and rs.vec(walk.hidden[0]) in formula
    for k in range(2, 6):
        lesson.playback.trigger_step_forward()
        assert d.t == k and d.hidden_text(k) != "?"
        assert _values(d.hidden_text(k)) == pytest.approx(walk.hidden[k - 1], abs=1e-3)
        assert f"Step {k} of 5" in lesson.where.text()
    lesson.playback.trigger_step_forward()
    assert d.output_text().startswith(f"ŷ = {rs.plain(walk.prediction)}")
    # ← goes back, R resets
    lesson.playback.trigger_step_back()
    assert d.t == 5
    lesson.playback.trigger_reset()
    assert lesson.index == 0 and d.hidden_text(2) == "?"


def test_backward_through_time_walks_from_the_last_step_to_the_first(lesson):
    walk, d = lesson.walk, lesson.diagram
    rows = [(s.phase, s.t) for s in walk.steps]
    first_back = rows.index(("backward", 5))
    lesson.table.selectRow(first_back)
    assert d.phase == "backward" and d.t == 5
    assert _values(d.grad_text(5)) == pytest.approx(walk.grad_hidden[4], abs=1e-3)
    assert d.grad_text(4) == ""           # not reached yet going back
    seen = []
    while lesson.index < len(walk.steps) - 1:
        lesson.step_forward()
        s = walk.steps[lesson.index]
        if s.phase == "backward" and s.t is not None:
            seen.append(s.t)
            assert d.grad_text(s.t) != ""
    assert seen[0] == 5 and seen[-1] == 1 and seen == sorted(seen, reverse=True)
    assert "Backward" in [lesson.table.item(r, 0).text() for r in range(lesson.table.rowCount())]
    # the last row: the update of the output bias c, the value from the engine's record
    assert lesson.table.item(lesson.index, 2).text() == "new c"
    assert lesson.table.item(lesson.index, 3).text() == rs.vec(
        walk.weights["out_bias"] + walk.updates["out_bias"])


def test_a_sequence_of_eight_unrolls_eight_steps_with_the_same_weights(lesson):
    before = [w.copy() for w in lesson.weights]
    lesson.sequence_edit.setText("0.1, 0.2, 0.3, 0.4, -0.1, -0.2, -0.3, 0.5")
    lesson.apply_button.click()
    assert lesson.walk.length == 8 and lesson.diagram.walk.length == 8
    assert [s.t for s in lesson.walk.steps if s.phase == "forward" and s.t] == list(range(1, 9))
    for w, b in zip(lesson.weights, before):
        np.testing.assert_array_equal(w, b)
    np.testing.assert_array_equal(lesson.walk.weights["kernel"], before[0])


def test_a_bad_sequence_gets_a_sentence_and_keeps_the_old_one(lesson):
    old = lesson.walk
    lesson.sequence_edit.setText("0.3, three, 0.4")
    lesson.apply_button.click()
    assert lesson.message.isVisibleTo(lesson)
    assert "“three” is not a number" in lesson.message.text()
    assert "0.3, -0.1, 0.4, 0.2, -0.5" in lesson.message.text()
    assert lesson.walk is old
    lesson.sequence_edit.setText("0.3, 0.4")
    lesson.apply_button.click()
    assert not lesson.message.isVisibleTo(lesson) and lesson.walk.length == 2


def test_dense_refuses_another_length_and_the_rnn_reads_it(lesson):
    lesson.tabs.setCurrentIndex(1)
    lesson.length_spin.setValue(8)
    dense, rnn = lesson.dense_text.text(), lesson.rnn_text.text()
    assert "dense.kernel (5, 1)" in dense
    assert "cannot read it" in dense and "(batch, 5, 1)" in dense
    assert "simple_rnn.kernel (1, 2)" in rnn and "prediction" in rnn
    lesson.length_spin.setValue(5)
    assert "cannot read it" not in lesson.dense_text.text()
    lengths = [lesson.lengths_table.item(r, 0).text() for r in range(4)]
    assert lengths == ["2", "5", "10", "20"]
    seqs = rs.demo_sequences()
    for r, res in enumerate(rs.rnn_on_lengths(lesson.weights, seqs)):
        assert lesson.lengths_table.item(r, 3).text() == rs.plain(res.prediction)


def _rnn_total(w, seq):
    h = np.zeros(w[1].shape[0])
    for v in seq:
        h = np.tanh(v * w[0][0] + h @ w[1] + w[2])
    return float(h @ w[3][:, 0] + w[4][0])


def test_the_one_trained_network_reads_2_to_20_values_and_dense_refuses_one_more(lesson):
    """The lesson's own network is built for any length; its answers on every length the
    control offers are the formula's with its weights; the dense network built for 5 refuses
    6 in the engine's words and cannot even be built for any length."""
    assert lesson.model.input_shape == (None, 1)
    lesson.tabs.setCurrentIndex(1)
    assert (lesson.length_spin.minimum(), lesson.length_spin.maximum()) == (2, 20)
    w = [np.asarray(a, np.float64) for a in lesson.weights]
    for n in (2, 6, 13, 20):
        lesson.length_spin.setValue(n)
        seq = rs.running_sum_data(1, n, seed=100 + n)[0].reshape(-1)
        rnn = lesson.rnn_text.text()
        assert "input_shape=(None, 1)" in rnn
        assert f"Fed {n} values" in rnn
        said = float(rnn.split("prediction ")[1].split(",")[0])
        assert said == pytest.approx(_rnn_total(w, seq), abs=2e-3)
    lesson.length_spin.setValue(6)
    dense = lesson.dense_text.text()
    assert ("The engine says: the model expects inputs of shape (batch, 5, 1), got (1, 6, 1)"
            in dense)
    assert "Flatten cannot read sequences of any length" in dense


def test_training_live_moves_the_weights_and_the_numbers(lesson, qtbot, monkeypatch):
    monkeypatch.setattr(rnn_lesson, "TRAIN_EPOCHS", 6)
    start = [w.copy() for w in lesson.weights]
    start_loss = lesson.walk.loss
    lesson.train_button.click()
    assert lesson.train_button.text() == "Stop"
    qtbot.waitUntil(lambda: not lesson.is_training(), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: lesson.train_button.text() == "Train", timeout=TIMEOUT)
    assert lesson.epochs_trained == 6
    assert "Epoch 6" in lesson.train_label.text()
    assert not np.allclose(lesson.weights[0], start[0])
    np.testing.assert_array_equal(lesson.walk.weights["kernel"], lesson.weights[0])
    assert lesson.walk.loss != start_loss
    # the window stayed responsive: the lesson can still step while and after it trained
    lesson.step_forward()
    assert lesson.index == 1


def test_leaving_stops_training(lesson, qtbot):
    lesson.train_button.click()
    assert lesson.is_training()
    lesson.deactivate()
    assert not lesson.is_training()
    qtbot.waitUntil(lambda: lesson.train_button.text() == "Train", timeout=TIMEOUT)


def test_play_animates_through_time_and_stops_at_the_end(lesson, qtbot):
    lesson.playback.set_speed(4.0)
    lesson.playback.toggle_play()
    assert lesson.playback.is_playing()
    qtbot.waitUntil(lambda: lesson.diagram.t == 3, timeout=TIMEOUT)
    assert lesson.diagram.hidden_text(3) != "?" and lesson.diagram.hidden_text(4) == "?"
    lesson.index = len(lesson.walk.steps) - 2
    qtbot.waitUntil(lambda: not lesson.playback.is_playing(), timeout=TIMEOUT)
    assert lesson.index == len(lesson.walk.steps) - 1
