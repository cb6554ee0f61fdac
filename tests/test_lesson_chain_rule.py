"""The "Chain rule" lesson: the neuron's loss graph walked backward, numbers by hand."""
import math

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow

from gui.lessons.chain_rule import ChainRuleLesson
from gui.widgets.colors import BACKWARD_COLOR
from gui.widgets.numbers import fmt


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


@pytest.fixture
def lesson(qtbot):
    lesson = ChainRuleLesson()
    win = QMainWindow()
    win.setCentralWidget(lesson)
    win.resize(1100, 760)
    qtbot.addWidget(win)
    with qtbot.waitActive(win):
        win.show()
        win.activateWindow()
    lesson.host_window = win
    yield lesson
    lesson.shutdown()


def press(qtbot, lesson, key, times=1):
    for _ in range(times):
        qtbot.keyClick(lesson.window(), key)


def test_starts_with_the_forward_values_of_the_course_start(qtbot, lesson):
    v = lesson.view
    assert v.step == 0
    z = 1 * 0.22 + 1 * 1 + 0
    assert v.value_labels["z"].text() == fmt(z)
    assert v.value_labels["ŷ"].text() == fmt(sigmoid(z))
    assert v.value_labels["L"].text() == fmt(-math.log(1 - sigmoid(z)))
    assert not any(lbl.isVisible() for lbl in v.grad_labels.values())
    # the local derivatives are on the edges from the start
    yhat = sigmoid(z)
    assert v.edge_labels[("w1", "z")].text() == "∂z/∂w1 = 0.22"
    assert v.edge_labels[("z", "ŷ")].text() == f"∂ŷ/∂z = {fmt(yhat * (1 - yhat))}"
    assert v.edge_labels[("ŷ", "L")].text() == f"∂L/∂ŷ = {fmt(1 / (1 - yhat))}"
    assert "forward" in lesson.step_title.text().lower()


def test_stepping_backward_multiplies_along_the_path(qtbot, lesson):
    v = lesson.view
    yhat = sigmoid(1.22)
    dl, dz = 1 / (1 - yhat), yhat * (1 - yhat)
    press(qtbot, lesson, Qt.Key.Key_Right)
    assert v.step == 1 and v.grad_labels["L"].text() == "∂L/∂L = 1"
    press(qtbot, lesson, Qt.Key.Key_Right)
    assert v.grad_labels["ŷ"].text() == f"∂L/∂ŷ = {fmt(dl)}"
    assert v.edge_items[("ŷ", "L")].pen().color() == BACKWARD_COLOR
    assert v.edge_items[("z", "ŷ")].pen().color() != BACKWARD_COLOR
    press(qtbot, lesson, Qt.Key.Key_Right, 2)
    # ∂L/∂w1: three local derivatives multiplied, the running product shown
    assert v.grad_labels["w1"].isVisible()
    assert v.grad_labels["w1"].text() == f"∂L/∂w1 = {fmt(yhat * 0.22)}"
    text = lesson.product.text()
    assert text.splitlines()[0] == "∂L/∂w1 = ∂L/∂ŷ · ∂ŷ/∂z · ∂z/∂w1"
    assert f"= {fmt(dl)} · {fmt(dz)} · 0.22 = {fmt(yhat * 0.22)}" in text
    for edge in (("w1", "z"), ("z", "ŷ"), ("ŷ", "L")):
        assert v.edge_items[edge].pen().color() == BACKWARD_COLOR
    assert v.edge_items[("w2", "z")].pen().color() != BACKWARD_COLOR
    assert "L → ŷ → z → w1" in lesson.path_label.text()
    press(qtbot, lesson, Qt.Key.Key_Left)
    assert v.step == 3 and not v.grad_labels["w1"].isVisible()
    press(qtbot, lesson, Qt.Key.Key_Right, 10)     # past the end: stays on the last node
    assert v.step == 6
    assert v.grad_labels["b"].text() == f"∂L/∂b = {fmt(yhat)}"


def test_changing_weights_and_person_changes_every_number(qtbot, lesson):
    v = lesson.view
    press(qtbot, lesson, Qt.Key.Key_Right, 5)          # at ∂L/∂w2
    lesson.w1.setValue(-2.0)
    lesson.b.setValue(0.5)
    z = -2.0 * 0.22 + 1.0 * 1 + 0.5
    yhat = sigmoid(z)
    assert v.step == 5                                 # the walk stays where it was
    assert v.value_labels["z"].text() == fmt(z)
    assert v.edge_labels[("x1", "z")].text() == "∂z/∂x1 = -2"
    assert v.grad_labels["w2"].text() == f"∂L/∂w2 = {fmt(yhat * 1)}"
    assert "w1·x1" in v.value_labels["z"].toolTip() and "(-2)·0.22" in v.value_labels["z"].toolTip()

    lesson.person_box.setCurrentIndex(2)               # person 3: age 47, can afford, bought
    assert lesson.x1.value() == pytest.approx(0.47)
    assert lesson.y.currentData() == 1
    z = -2.0 * 0.47 + 1.0 * 1 + 0.5
    yhat = sigmoid(z)
    assert v.edge_labels[("ŷ", "L")].text() == f"∂L/∂ŷ = {fmt(-1 / yhat)}"
    assert "with y = 1" in v.edge_labels[("ŷ", "L")].toolTip()
    assert v.grad_labels["w1"].text() == f"∂L/∂w1 = {fmt((yhat - 1) * 0.47)}"


def test_reset_returns_to_the_start(qtbot, lesson):
    lesson.w2.setValue(3.0)
    lesson.person_box.setCurrentIndex(5)
    press(qtbot, lesson, Qt.Key.Key_Right, 3)
    press(qtbot, lesson, Qt.Key.Key_R)
    assert lesson.view.step == 0
    assert (lesson.w1.value(), lesson.w2.value(), lesson.b.value()) == (1.0, 1.0, 0.0)
    assert lesson.person_box.currentIndex() == 0
    assert lesson.view.value_labels["z"].text() == "1.22"


def test_play_walks_backward_by_itself(qtbot, lesson):
    lesson.playback.set_speed(16)
    press(qtbot, lesson, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: lesson.view.step == 6, timeout=5000)
    qtbot.waitUntil(lambda: not lesson.playback.is_playing(), timeout=3000)


def test_notes_names_stand_beside_the_formulas(qtbot, lesson):
    """Issue 15 item 6: the notes' e and y are the app's ŷ and z, said on screen."""
    names = lesson.names_label
    assert names.isVisible()
    text = names.text()
    assert "notes' <b>y</b> = our <b>z</b>" in text
    assert "notes' <b>e</b> = our <b>ŷ</b>" in text
    # the product on screen in both sets of names, following the walk to w1
    press(qtbot, lesson, Qt.Key.Key_Right, 4)
    assert lesson.graph.backward[lesson.step - 1].symbol == "∂L/∂w1"
    chain = lesson.notes_chain.text()
    assert lesson.notes_chain.isVisible()
    assert "notes: ∂L/∂e · ∂e/∂y · ∂y/∂w1" in chain
    assert "here:  ∂L/∂ŷ · ∂ŷ/∂z · ∂z/∂w1" in chain
    press(qtbot, lesson, Qt.Key.Key_Left, 1)      # back to ∂L/∂z: the notes' ∂L/∂y
    assert "notes: ∂L/∂e · ∂e/∂y" in lesson.notes_chain.text()
    assert "∂y/∂w1" not in lesson.notes_chain.text()


def test_notes_names_translate_the_chain():
    from core.teaching.notes_names import derivative_chain, in_notes_names
    assert in_notes_names("z") == "y" and in_notes_names("ŷ") == "e"
    assert in_notes_names("w2") == "w2" and in_notes_names("L") == "L"
    assert derivative_chain(("L", "ŷ", "z", "b"), notes=True) == "∂L/∂e · ∂e/∂y · ∂y/∂b"
    assert derivative_chain(("L", "ŷ")) == "∂L/∂ŷ"
