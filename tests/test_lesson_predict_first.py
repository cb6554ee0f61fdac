"""Ask me first (issue 15 item 15): animated lessons stop before each reveal, ask for a
prediction, answer with a click or the keys 1–4, then say right or wrong with the true value;
off, playback is plain again."""
from PySide6.QtCore import Qt

from gui.lessons.backprop_stepper import BackpropStepperLesson
from gui.lessons.chain_rule import ChainRuleLesson
from gui.lessons.gradient_descent import GradientDescentLesson
from gui.lessons.rnn import RnnLesson
from gui.main_window import MainWindow


def _shown(qtbot, cls):
    lesson = cls()
    qtbot.addWidget(lesson)
    lesson.resize(1100, 720)
    lesson.show()
    qtbot.waitExposed(lesson)
    lesson.activateWindow()     # the answer keys are window shortcuts
    qtbot.waitUntil(lesson.isActiveWindow, timeout=3000)
    return lesson


def test_playing_the_stepper_stops_at_each_question_and_the_keys_answer(qtbot):
    lesson = _shown(qtbot, BackpropStepperLesson)
    lesson.set_ask_first(True)
    assert lesson.prediction_panel.isVisible()
    lesson.playback.set_speed(16)
    lesson.playback.set_playing(True)
    qtbot.waitUntil(lambda: lesson.question_open() is not None, timeout=3000)
    assert not lesson.playback.is_playing()           # stopped before the reveal
    assert lesson.index == 0                           # z is not on screen yet
    question = lesson.question_open()
    assert question.prompt == "Will z be positive or negative?"
    assert lesson.prediction_panel.prompt_label.text() == question.prompt
    z = lesson.walk.steps[1].value
    qtbot.keyClick(lesson, Qt.Key.Key_2)               # "negative": z = 1.22 is not
    assert z > 0
    verdict = lesson.prediction_panel.verdict_label.text()
    assert verdict.startswith("Not quite — the answer is “positive”: z = 1.22")
    assert lesson.index == 1                           # revealed after the answer
    assert lesson.prediction_panel.score_label.text() == "Score: 0 of 1 right"
    # playback went on and stops at the next question: ŷ above or below 50 %
    qtbot.waitUntil(lambda: lesson.question_open() is not None, timeout=3000)
    assert lesson.question_open().choices == ("above 50 %", "below 50 %")
    qtbot.keyClick(lesson, Qt.Key.Key_1)
    assert lesson.prediction_panel.verdict_label.text().startswith("Right! ŷ = 77.21 %")
    assert lesson.prediction_panel.score_label.text() == "Score: 1 of 2 right"
    lesson.playback.set_playing(False)


def test_the_update_question_says_which_way_the_weight_moves(qtbot):
    lesson = _shown(qtbot, BackpropStepperLesson)
    lesson.set_ask_first(True)
    update = lesson.walk.first("update")
    lesson.go_to(update - 1)
    lesson.step_forward()
    q = lesson.question_open()
    assert q.prompt == "After the update, which way does w1 move?"
    qtbot.mouseClick(lesson.prediction_panel.buttons[1], Qt.MouseButton.LeftButton)
    assert lesson.index == update
    assert lesson.prediction_panel.verdict_label.text().startswith("Right! w1: 1 → 0.9151")


def test_off_restores_plain_playback(qtbot):
    lesson = _shown(qtbot, BackpropStepperLesson)
    lesson.set_ask_first(True)
    lesson.step_forward()
    assert lesson.question_open() is not None and lesson.index == 0
    lesson.set_ask_first(False)
    assert not lesson.prediction_panel.isVisible() and lesson.question_open() is None
    lesson.step_forward()
    lesson.step_forward()
    assert lesson.index == 2


def test_reset_withdraws_the_question_and_asks_again(qtbot):
    lesson = _shown(qtbot, BackpropStepperLesson)
    lesson.set_ask_first(True)
    lesson.step_forward()
    lesson.answer_question(0)
    lesson.playback.trigger_reset()
    lesson.step_forward()
    assert lesson.question_open() is not None and lesson.index == 0


def test_chain_rule_asks_for_each_gradients_sign(qtbot):
    lesson = _shown(qtbot, ChainRuleLesson)
    lesson.set_ask_first(True)
    lesson.step_forward()                 # ∂L/∂L = 1: nothing to predict
    assert lesson.step == 1 and lesson.question_open() is None
    lesson.step_forward()
    q = lesson.question_open()
    assert q.prompt == "Will ∂L/∂ŷ be positive or negative?" and lesson.step == 1
    lesson.answer_question(q.answer)
    assert lesson.step == 2
    assert lesson.prediction_panel.verdict_label.text().startswith("Right!")


def test_gradient_descent_asks_whether_the_loss_falls_or_rises(qtbot):
    lesson = _shown(qtbot, GradientDescentLesson)
    lesson.set_ask_first(True)
    lesson.set_learning_rate(10.0)
    before = lesson.run.losses[-1]
    lesson.step()
    q = lesson.question_open()
    assert q.prompt.startswith("One more step with learning rate 10")
    assert lesson.run.epoch == 0
    lesson.answer_question(0)                        # "falls": it rises at η = 10
    assert lesson.run.epoch == 1 and lesson.run.losses[-1] > before
    assert lesson.prediction_panel.verdict_label.text().startswith(
        "Not quite — the answer is “the loss rises”")


def test_rnn_asks_the_next_hidden_states_sign(qtbot):
    lesson = _shown(qtbot, RnnLesson)
    qtbot.waitUntil(lambda: lesson.walk is not None, timeout=20000)
    lesson.set_ask_first(True)
    lesson.playback.trigger_reset()
    lesson.step_forward()
    q = lesson.question_open()
    assert q is not None and q.prompt.startswith("Will h₂")
    lesson.answer_question(q.answer)
    assert lesson.index == 1
    assert lesson.prediction_panel.verdict_label.text().startswith("Right! h₂")


def test_the_view_menu_toggle_reaches_every_lesson_and_is_remembered(qtbot):
    win = MainWindow(lessons=[BackpropStepperLesson, ChainRuleLesson])
    qtbot.addWidget(win)
    win.show()
    assert win.select_lesson(BackpropStepperLesson)
    win.ask_first_action.trigger()
    assert win.current_lesson().ask_first_enabled()
    assert win.select_lesson(ChainRuleLesson)             # built after the switch
    assert win.current_lesson().prediction_panel.isVisible()
    win.close()
    again = MainWindow(lessons=[BackpropStepperLesson, ChainRuleLesson])
    qtbot.addWidget(again)
    assert again.ask_first_action.isChecked()
    again.ask_first_action.trigger()
    again.close()


def test_cnn_digits_asks_which_digit_and_the_digit_keys_answer(qtbot):
    import numpy as np

    from gui.lessons.cnn_digits import CnnDigitsLesson

    lesson = _shown(qtbot, CnnDigitsLesson)
    lesson.set_ask_first(True)
    lesson.digit_spin.setValue(3)
    q = lesson.question_open()
    assert q.choices == tuple("0123456789")
    img, _what = lesson.current_input()
    answer = int(np.argmax(lesson.cnn.layer_outputs(img[None])[-1][0]))
    assert q.answer == answer
    shown = lesson.prediction_label.text()
    assert "Which digit will the CNN answer?" in shown and "%" not in shown   # not revealed
    lesson.setFocus()           # as a click beside the digit's spin box (which types digits)
    qtbot.keyClick(lesson, Qt.Key(int(Qt.Key.Key_0) + answer))
    assert lesson.question_open() is None
    assert lesson.prediction_panel.verdict_label.text().startswith(
        f"Right! The CNN answers {answer} with")
    assert "%" in lesson.prediction_label.text()                              # revealed
    lesson.update_feature_maps()              # a refresh (after an epoch) asks nothing new
    assert lesson.question_open() is None


def _values(lesson):
    t = lesson.table
    return [t.item(r, 3).text() for r in range(t.rowCount())]


def _tips(lesson, row):
    return [lesson.table.item(row, c).toolTip() for c in range(lesson.table.columnCount())]


def test_the_steps_table_does_not_answer_the_question_it_stands_beside(qtbot):
    """The stepper's table lists every number of the training step; with Ask me first on,
    the rows not reached yet say "?" (no tooltip gives them away either) while the lesson
    asks about z, and each row shows its number once the walk gets there."""
    lesson = _shown(qtbot, BackpropStepperLesson)
    everything = _values(lesson)                    # off: the table is an index of it all
    assert everything[1] == "1.22" and "?" not in everything
    lesson.set_ask_first(True)
    lesson.step_forward()
    assert lesson.question_open().prompt == "Will z be positive or negative?"
    shown = _values(lesson)
    assert shown[0] == everything[0] and set(shown[1:]) == {"?"}
    assert all("1.22" not in tip for tip in _tips(lesson, 1))
    lesson.answer_question(0)
    assert _values(lesson)[:2] == everything[:2] and _values(lesson)[2] == "?"
    lesson.set_ask_first(False)
    assert _values(lesson) == everything and "1.22" in _tips(lesson, 1)[3]


def test_the_rnn_table_hides_the_hidden_state_it_asks_about(qtbot):
    lesson = _shown(qtbot, RnnLesson)
    qtbot.waitUntil(lambda: lesson.walk is not None, timeout=20000)
    everything = _values(lesson)
    lesson.set_ask_first(True)
    lesson.step_forward()
    question = lesson.question_open()
    assert question is not None and question.prompt.startswith("Will h₂")
    assert _values(lesson)[0] == everything[0] and set(_values(lesson)[1:]) == {"?"}
    lesson.answer_question(question.answer)
    assert _values(lesson)[1] == everything[1]
