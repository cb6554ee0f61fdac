"""The "Backprop, step by step" lesson as a learner drives it.

Expected numbers are worked out here with `math` (the course's neuron from w1 = w2 = 1,
b = 0, η = 0.5, age/100), never read back from the stepper.
"""
import math

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow

import gui.lessons.backprop_stepper as mod
from gui.lessons.backprop_stepper import BackpropStepperLesson
from gui.widgets.numbers import fmt

AGE, AFFORD, BOUGHT = 22, 1, 0          # person 1 of the course's table


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def person1_gradients(w1=1.0, w2=1.0, b=0.0):
    x1, x2 = AGE / 100, AFFORD
    yhat = sigmoid(w1 * x1 + w2 * x2 + b)
    d = yhat - BOUGHT                      # ∂L/∂z for sigmoid + log loss
    return yhat, {"w1": d * x1, "w2": d * x2, "b": d}


def shown(qtbot, lesson):
    win = QMainWindow()
    win.setCentralWidget(lesson)
    win.resize(1100, 760)
    qtbot.addWidget(win)
    with qtbot.waitActive(win):
        win.show()
        win.activateWindow()
    lesson.host_window = win      # keep the window alive as long as the lesson
    return win


def row_of(lesson, symbol, kind=None, sample=None):
    for r, s in enumerate(lesson.walk.steps):
        if s.symbol == symbol and s.sample == sample and (kind is None or s.kind == kind):
            return r
    raise KeyError(symbol)


@pytest.fixture
def lesson(qtbot):
    lesson = BackpropStepperLesson()
    shown(qtbot, lesson)
    yield lesson
    lesson.shutdown()


def test_arrow_keys_walk_the_list_and_the_formula_follows(qtbot, lesson):
    assert lesson.index == 0
    assert lesson.phase_strip.phase == "forward"
    assert "x1 = age/100 = 22/100 = 0.22" in lesson.formula_view.toPlainText()
    qtbot.keyClick(lesson.window(), Qt.Key.Key_Right)
    assert lesson.index == 1
    assert lesson.table.selectionModel().selectedRows()[0].row() == 1
    assert lesson.formula_view.toPlainText().startswith("z = w1·x1 + w2·x2 + b")
    assert "1·0.22 + 1·1 + 0" in lesson.formula_view.toPlainText()
    qtbot.keyClick(lesson.window(), Qt.Key.Key_Right)
    assert lesson.formula_title.text() == f"ŷ = {fmt(sigmoid(1.22))}"
    qtbot.keyClick(lesson.window(), Qt.Key.Key_Left)
    assert lesson.index == 1
    # walking on, the phase strip names each phase in turn
    seen = []
    while lesson.index < len(lesson.walk) - 1:
        qtbot.keyClick(lesson.window(), Qt.Key.Key_Right)
        if lesson.phase_strip.phase not in seen:
            seen.append(lesson.phase_strip.phase)
    assert seen == ["forward", "loss", "backward", "update", "check"]
    assert "Check" in lesson.phase_strip.where.text()


def test_gradient_rows_show_the_hand_computed_chain_rule(qtbot, lesson):
    yhat, g = person1_gradients()
    r = row_of(lesson, "∂L/∂w1", "backward")
    assert lesson.table.item(r, 3).text() == fmt(g["w1"])
    assert "∂L/∂ŷ · ∂ŷ/∂z · ∂z/∂w1" in lesson.table.item(r, 3).toolTip()
    lesson.table.selectRow(r)
    text = lesson.formula_view.toPlainText()
    assert f"= {fmt(1 / (1 - yhat))} · {fmt(yhat * (1 - yhat))} · 0.22 = {fmt(g['w1'])}" in text
    assert lesson.phase_strip.phase == "backward"
    u = row_of(lesson, "w1", "update")
    assert lesson.table.item(u, 3).text() == fmt(1 - 0.5 * g["w1"])


def test_next_training_step_applies_the_update_and_reset_returns_to_the_course_start(
        qtbot, lesson):
    _, g = person1_gradients()
    before = float(lesson.table.item(row_of(lesson, "L", "loss"), 3).text())
    qtbot.mouseClick(lesson.next_button, Qt.MouseButton.LeftButton)
    w1, w2, b = 1 - 0.5 * g["w1"], 1 - 0.5 * g["w2"], -0.5 * g["b"]
    kernel, bias = lesson.model.get_weights()
    assert kernel[:, 0].tolist() == pytest.approx([w1, w2], rel=1e-5)
    assert bias[0] == pytest.approx(b, abs=1e-6)
    z = w1 * 0.22 + w2 * 1 + b
    assert lesson.table.item(row_of(lesson, "z", sample=0), 3).text() == fmt(z)
    after = float(lesson.table.item(row_of(lesson, "L", "loss"), 3).text())
    assert after < before
    assert lesson.loss_label.text().startswith("training step 2")
    assert lesson.index == 0

    qtbot.keyClick(lesson.window(), Qt.Key.Key_R)
    kernel, bias = lesson.model.get_weights()
    assert kernel[:, 0].tolist() == [1.0, 1.0] and bias.tolist() == [0.0]
    assert lesson.table.item(row_of(lesson, "z", sample=0), 3).text() == "1.22"
    assert lesson.loss_label.text().startswith("training step 1")


def test_batch_of_four_and_learning_rate_change_the_numbers(qtbot, lesson):
    lesson.count_spin.setValue(4)
    people = [(22, 1, 0), (25, 0, 0), (47, 1, 1), (52, 0, 0)]
    yh = [sigmoid(a / 100 + f) for a, f, _ in people]
    losses = [-(y * math.log(p) + (1 - y) * math.log(1 - p)) for p, (_, _, y) in zip(yh, people)]
    assert lesson.table.item(row_of(lesson, "L", "loss"), 3).text() == fmt(sum(losses) / 4)
    assert lesson.table.item(row_of(lesson, "ℓ", sample=3), 1).text() == "#4"
    gb = sum(p - y for p, (_, _, y) in zip(yh, people)) / 4
    lesson.lr_spin.setValue(0.1)
    assert lesson.table.item(row_of(lesson, "b", "update"), 3).text() == fmt(-0.1 * gb)
    assert "people 1, 2, 3, 4" == lesson.people_label.text()


def test_check_gradients_shows_backprop_next_to_finite_differences(qtbot, lesson):
    _, g = person1_gradients()
    qtbot.mouseClick(lesson.check_button, Qt.MouseButton.LeftButton)
    assert lesson.tabs.currentWidget() is lesson.check_panel
    assert lesson.phase_strip.phase == "check"
    t = lesson.check_table
    assert t.rowCount() == 3
    h = 1e-5

    def loss(w1, w2, b):
        p = sigmoid(w1 * 0.22 + w2 * 1 + b)
        return -math.log(1 - p)

    fd = {"w1": (loss(1 + h, 1, 0) - loss(1 - h, 1, 0)) / (2 * h),
          "w2": (loss(1, 1 + h, 0) - loss(1, 1 - h, 0)) / (2 * h),
          "b": (loss(1, 1, h) - loss(1, 1, -h)) / (2 * h)}
    for r, name in enumerate(("w1", "w2", "b")):
        assert t.item(r, 0).text() == f"∂L/∂{name}"
        # fixed decimals per column (issue 15 item 10)
        assert t.item(r, 1).text() == f"{g[name]:.5f}"
        assert t.item(r, 2).text() == f"{fd[name]:.5f}"
        assert t.item(r, 3).text() == "below 0.00001"      # float32 rounding, in words
    assert "agree" in lesson.check_verdict.text()
    t.selectRow(2)
    assert lesson.walk.steps[lesson.index].symbol == "∂L/∂b"
    assert lesson.walk.steps[lesson.index].kind == "check"
    assert "difference below 0.000001 (relative below 0.000001)" in \
        lesson.walk.steps[lesson.index].formula


def test_stepping_highlights_the_same_quantity_in_the_diagram(qtbot, lesson):
    d = lesson.diagram
    if d is None:
        pytest.skip("the network diagram is not in this checkout")
    lesson.go_to(row_of(lesson, "∂L/∂w2", "backward"))
    assert d.highlighter.key == ("edge", d.column_for_layer(0), 1, 0)
    assert d.phase()[0] == "backward"
    assert d.edge_mode() == "gradient"
    lesson.go_to(row_of(lesson, "b", "update"))
    assert d.highlighter.key == ("bias", d.column_for_layer(0), 0)
    assert d.phase()[0] == "update"
    lesson.go_to(row_of(lesson, "ŷ", sample=0))
    assert d.highlighter.key[0] == "node"
    assert d.phase()[0] == "forward"


def test_hidden_layer_case_lists_every_weight_and_the_diagram_grows(qtbot, lesson):
    lesson.case_box.setCurrentIndex(1)
    assert lesson.hidden_widgets.isVisible()
    lesson.units_spin.setValue(3)
    symbols = [s.symbol for s in lesson.walk.steps if s.kind == "update"]
    # 2·3 + 3 hidden, 3 + 1 output parameters
    assert len(symbols) == 13
    assert "w¹₂₃" in symbols and "w²₃" in symbols and "b²" in symbols
    r = row_of(lesson, "∂L/∂w¹₁₂", "backward")
    lesson.table.selectRow(r)
    assert "∂z²/∂a¹₂ · ∂a¹₂/∂z¹₂" in lesson.formula_view.toPlainText()
    if lesson.diagram is not None:
        assert len(lesson.diagram.columns()) >= 3
        assert lesson.diagram.highlighter.key[0] == "edge"
    lesson.act_box.setCurrentText("tanh")
    assert "tanh(z¹₁)" in lesson.walk.find("a¹₁", 0).formula


def test_shrinking_the_hidden_layer_while_a_removed_weight_is_shown_rebuilds_cleanly(
        qtbot, lesson):
    # found by random clicking: the diagram kept highlighting a weight of unit 3 and looked
    # it up in the new, smaller layer (IndexError), which left the lesson half rebuilt
    lesson.case_box.setCurrentIndex(1)
    lesson.units_spin.setValue(3)
    lesson.go_to(row_of(lesson, "∂L/∂w¹₂₃", "backward"))
    lesson.units_spin.setValue(1)
    symbols = [s.symbol for s in lesson.walk.steps if s.kind == "update"]
    assert len(symbols) == 5                     # 2·1 + 1 hidden, 1 + 1 output parameters
    if lesson.diagram is not None and lesson.diagram.highlighter.key is not None:
        lesson.diagram.formula(lesson.diagram.highlighter.key)   # names a weight that exists
    lesson.case_box.setCurrentIndex(0)           # and back to the course's single neuron
    assert {s.symbol for s in lesson.walk.steps if s.kind == "update"} == {"w1", "w2", "b"}


def test_play_advances_by_itself_and_stops_when_leaving(qtbot, lesson):
    lesson.playback.set_speed(16)
    qtbot.keyClick(lesson.window(), Qt.Key.Key_Space)
    assert lesson.playback.is_playing()
    qtbot.waitUntil(lambda: lesson.index >= 2, timeout=5000)
    lesson.deactivate()
    assert not lesson.playback.is_playing()
    idx = lesson.index
    qtbot.wait(300)
    assert lesson.index == idx


def test_without_the_diagram_the_list_still_works(qtbot, monkeypatch):
    monkeypatch.setattr(mod, "NetworkDiagram", None)
    lesson = BackpropStepperLesson()
    shown(qtbot, lesson)
    assert lesson.diagram is None
    lesson.step_forward()
    assert lesson.index == 1
    lesson.next_training_step()
    assert lesson.loss_label.text().startswith("training step 2")


def test_a_weight_typed_into_the_diagram_is_walked_at_once(qtbot, lesson):
    d = lesson.diagram
    if d is None:
        pytest.skip("the network diagram is not in this checkout")
    d.set_param(0, "kernel", (0, 0), 2.0)           # what the diagram's inline editor does
    z = 2.0 * 0.22 + 1.0 * 1 + 0
    assert lesson.table.item(row_of(lesson, "z", sample=0), 3).text() == fmt(z)
    _, g = person1_gradients(w1=2.0)
    assert lesson.table.item(row_of(lesson, "∂L/∂w1", "backward"), 3).text() == fmt(g["w1"])


def test_switching_the_network_clears_an_update_message_about_the_old_one(lesson):
    messages = []
    lesson.status_message.connect(lambda text, ms: messages.append(text))
    lesson.next_training_step()
    assert messages and messages[-1].startswith("Update applied")
    lesson.case_box.setCurrentIndex(1)
    assert not messages[-1].startswith("Update applied") and messages[-1] == lesson.hint()


def test_gradient_check_shows_whole_names_and_numbers(qtbot, lesson):
    """Issue 15 item 9: the gradient-check table at 1280×800 shows every gradient's whole
    name and every number whole (was "∂L/…")."""
    from PySide6.QtGui import QFontMetrics

    lesson.resize(1280, 800)
    lesson.show()
    lesson.case_box.setCurrentIndex(1)          # one hidden layer: the longest names
    qtbot.mouseClick(lesson.check_button, Qt.MouseButton.LeftButton)
    qtbot.wait(50)
    t = lesson.check_table
    assert t.rowCount() == 9
    for r in range(t.rowCount()):
        for k in range(4):
            item = t.item(r, k)
            width = QFontMetrics(item.font()).horizontalAdvance(item.text())
            assert width + 6 <= t.columnWidth(k), (item.text(), width, t.columnWidth(k))
    assert t.item(0, 0).text().startswith("∂L/∂w")
    assert t.viewport().width() >= sum(t.columnWidth(k) for k in range(4)) - 1
