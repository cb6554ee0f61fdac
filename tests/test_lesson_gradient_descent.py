"""Gradient descent lesson: steps are full-batch gradient steps from the course's start;
a large learning rate is reported in words, never as NaN; playback runs and stops."""
import math
import re

import numpy as np
import pytest
import shiboken6
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QLabel

from gui.lessons.gradient_descent import LEARNING_RATES, GradientDescentLesson

AGE = np.array([22, 25, 47, 52, 46, 56, 55, 60, 62, 61, 18, 28, 27, 29, 49, 55, 25, 58, 19, 18,
                21, 26, 40, 45, 50, 54, 23, 46], float)
AFF = np.array([1, 0, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1,
                1], float)
Y = np.array([0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0,
              0], float)
X = np.column_stack([AGE / 100, AFF])


def loss_and_gradient(w1, w2, b):
    p = 1 / (1 + np.exp(-(X @ np.array([w1, w2]) + b)))
    loss = -np.mean(Y * np.log(p) + (1 - Y) * np.log(1 - p))
    grad = np.array([np.mean((p - Y) * X[:, 0]), np.mean((p - Y) * X[:, 1]), np.mean(p - Y)])
    return loss, grad


@pytest.fixture
def lesson(qtbot):
    w = GradientDescentLesson()
    qtbot.addWidget(w)
    w.resize(1040, 680)
    w.show()
    yield w
    if shiboken6.isValid(w):      # a test may have handed it to a window that owned it
        w.shutdown()


def visible_text(lesson):
    return " ".join(lbl.text() for lbl in lesson.findChildren(QLabel) if lbl.isVisible())


def test_step_button_takes_a_hand_computed_full_batch_step(lesson, qtbot):
    lesson.set_learning_rate(0.5)
    assert lesson.run.weights == (1.0, 1.0, 0.0)
    w = np.array([1.0, 1.0, 0.0])
    for _ in range(3):
        qtbot.mouseClick(lesson.playback.forward_button, Qt.MouseButton.LeftButton)
        _, g = loss_and_gradient(*w)
        w = w - 0.5 * g
    np.testing.assert_allclose(lesson.run.weights, w, rtol=1e-5, atol=1e-6)
    loss, g = loss_and_gradient(*w)
    assert lesson.run.epoch == 3
    assert "epoch 3" in lesson.epoch_label.text()
    assert f"w1 = {w[0]:.4g}" in lesson.weights_label.text()
    assert f"{loss:.4g}" in lesson.loss_label.text()
    # the gradient shown is the one the next step follows
    assert f"{g[0]:.4g}" in lesson.grad_label.text()
    np.testing.assert_allclose(lesson.next_grad, g, rtol=1e-4, atol=1e-7)
    # the path on the map and the loss curve grew by one point per step
    x, y = lesson.path_item.getData()
    assert len(x) == 4 and x[-1] == pytest.approx(w[0], rel=1e-5) and y[-1] == pytest.approx(w[1], rel=1e-5)
    ex, ey = lesson.loss_curve.getData()
    assert list(ex) == [0, 1, 2, 3] and ey[-1] == pytest.approx(loss, rel=1e-5)


def test_keys_step_back_and_reset(qtbot):
    from PySide6.QtWidgets import QMainWindow
    lesson = GradientDescentLesson()
    win = QMainWindow()      # owns the lesson, as the app's window does (shortcuts need one)
    win.setCentralWidget(lesson)
    qtbot.addWidget(win)
    with qtbot.waitActive(win):
        win.show()
        win.activateWindow()
    lesson.setFocus()
    for _ in range(3):
        qtbot.keyClick(win, Qt.Key.Key_Right)
    assert lesson.run.epoch == 3
    after_two = lesson.run.path[2]
    qtbot.keyClick(win, Qt.Key.Key_Left)
    assert lesson.run.epoch == 2 and lesson.run.weights == after_two
    qtbot.keyClick(win, Qt.Key.Key_R)
    assert lesson.run.epoch == 0 and lesson.run.weights == (1.0, 1.0, 0.0)
    lesson.shutdown()


def test_surface_on_the_map_is_the_loss_at_the_current_bias(lesson):
    for _ in range(4):
        lesson.step()
    b = lesson.run.weights[2]
    lo1, hi1, lo2, hi2 = lesson.extent
    surf = lesson.surface
    n2, n1 = surf.shape
    for i, j in ((0, 0), (n2 // 2, n1 // 3), (n2 - 1, n1 - 1)):
        w1 = lo1 + j * (hi1 - lo1) / (n1 - 1)
        w2 = lo2 + i * (hi2 - lo2) / (n2 - 1)
        assert surf[i, j] == pytest.approx(loss_and_gradient(w1, w2, b)[0], rel=1e-4)
    assert lesson.image.image is not None and lesson.image.image.shape == surf.shape
    # the current weights are on the map
    w1, w2, _ = lesson.run.weights
    assert lo1 <= w1 <= hi1 and lo2 <= w2 <= hi2


def test_small_learning_rate_is_reported_as_crawling(lesson):
    lesson.set_learning_rate(0.01)
    assert lesson.learning_rate() == 0.01
    for _ in range(30):
        lesson.step()
    assert lesson.verdict[0] == "crawling"
    assert "Crawling" in lesson.verdict_label.text()


def test_large_learning_rate_shows_divergence_in_words_and_never_nan(lesson, qtbot):
    lesson.lr_slider.setFocus()
    qtbot.keyClick(lesson.lr_slider, Qt.Key.Key_End)
    assert lesson.learning_rate() == LEARNING_RATES[-1] == 100.0
    messages = []
    lesson.status_message.connect(lambda text, ms: messages.append(text))
    for _ in range(20):
        qtbot.mouseClick(lesson.playback.forward_button, Qt.MouseButton.LeftButton)
    assert lesson.verdict[0] == "diverging"
    assert "Diverging" in lesson.verdict_label.text()
    assert "smaller learning rate" in lesson.verdict_label.text()
    assert len(messages) == 1 and "Diverging" in messages[0]
    text = visible_text(lesson)
    assert not re.search(r"\bnan\b|\binf\b|∞", text, re.IGNORECASE)
    assert all(math.isfinite(v) for v in lesson.run.losses)
    # the map grew to keep the wild path in view
    x, y = lesson.path_item.getData()
    lo1, hi1, lo2, hi2 = lesson.extent
    assert lo1 <= x.min() and x.max() <= hi1 and lo2 <= y.min() and y.max() <= hi2


def test_engine_stop_reason_is_shown_instead_of_numbers(lesson, monkeypatch):
    # a step the engine refuses (NaN/inf) leaves the weights alone and says why
    run = lesson.run

    def refuse():
        run.stop_reason = "training stopped: the loss became NaN at epoch 1, batch 1."
        return None
    monkeypatch.setattr(run, "step", refuse)
    lesson.step()
    lesson.step()
    assert lesson.verdict == ("stopped", run.stop_reason)
    assert "the loss became NaN" in lesson.verdict_label.text()
    assert run.epoch == 0


def test_play_runs_epochs_off_the_timer_and_pause_stops(lesson, qtbot):
    lesson.playback.set_speed(16)
    qtbot.mouseClick(lesson.playback.play_button, Qt.MouseButton.LeftButton)
    assert lesson.playback.is_playing()
    qtbot.waitUntil(lambda: lesson.run.epoch >= 5, timeout=5000)
    qtbot.mouseClick(lesson.playback.play_button, Qt.MouseButton.LeftButton)
    assert not lesson.playback.is_playing() and not lesson.timer.isActive()
    stopped_at = lesson.run.epoch
    qtbot.wait(100)
    assert lesson.run.epoch == stopped_at
    assert all(np.diff(lesson.run.losses) < 0)    # the default rate walks straight down


def test_leaving_the_lesson_pauses_it(lesson, qtbot):
    lesson.playback.set_playing(True)
    assert lesson.timer.isActive()
    lesson.deactivate()
    assert not lesson.playback.is_playing() and not lesson.timer.isActive()


def test_controls_are_named_and_explained(lesson):
    assert lesson.lr_slider.accessibleName() and lesson.lr_slider.toolTip()
    assert "w ← w − η" in lesson.update_label.toolTip()
    assert "∂L/∂w1 = (1/28) Σ" in lesson.grad_label.toolTip()


def test_every_map_legend_entry_is_visible_on_the_white_background(lesson):
    from PySide6.QtGui import QColor, QImage, QPainter
    entries = {label.text: sample for sample, label in lesson.map.legend.items}
    assert "path of (w1, w2)" in entries       # the white trail has a legend entry
    for name, sample in entries.items():
        image = QImage(22, 22, QImage.Format.Format_ARGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        sample.paint(painter)
        painter.end()
        darkest = min(QColor(image.pixel(x, y)).lightness() for x in range(22) for y in range(22))
        assert darkest < 200, f"the legend sample of {name!r} cannot be seen"


# --- issue 15, item 2: the notes' worked example on screen -----------------------------------
def test_notes_start_gives_the_notes_loss_and_the_text_links_it_to_the_notebook_start(lesson, qtbot):
    # the notebook's start and its loss, then the notes' slide start (loss 4.3)
    notebook_loss, _ = loss_and_gradient(1.0, 1.0, 0.0)
    assert f"{notebook_loss:.3g}" == "0.716" and "0.716" in lesson.loss_label.text()
    lesson.set_start("notes")
    w = np.array([13.0, 5.6, 2.0])
    loss, g = loss_and_gradient(*w)
    assert f"{loss:.2g}" == "4.3"                              # the notes' number
    assert lesson.run.weights == tuple(w) and lesson.run.epoch == 0
    assert f"= {loss:.4g}" in lesson.loss_label.text()
    relation = lesson.relation_label.text()
    assert lesson.relation_label.isVisible()
    assert "4.3" in relation and "0.716" in relation and "random" in relation
    # then the notes' next two steps: the derivatives and the new weights, as shown
    lr = lesson.learning_rate()
    for k, (name, value) in enumerate((("w1", w[0]), ("w2", w[1]), ("b", w[2]))):
        assert f"{g[k]:.4g}" in lesson.grad_label.text()
        assert f"{name:<2} ← {value:.4g} − {lr:g}·" in lesson.update_label.text()
        assert f"= {value - lr * g[k]:.4g}" in lesson.update_label.text()
    qtbot.mouseClick(lesson.playback.forward_button, Qt.MouseButton.LeftButton)
    np.testing.assert_allclose(lesson.run.weights, w - lr * g, rtol=1e-5, atol=1e-6)
    # the start marker moved with the start; Reset returns to it
    sx, sy = lesson.start_item.getData()
    assert (sx[0], sy[0]) == (13.0, 5.6)
    lesson.reset()
    assert lesson.run.weights == tuple(w)


def test_derivative_formulas_stand_beside_their_numbers_on_screen(lesson):
    _, g = loss_and_gradient(1.0, 1.0, 0.0)
    text = lesson.grad_label.text()                 # the label itself, not its tooltip
    assert lesson.grad_label.isVisible()
    assert f"∂L/∂w1 = (1/28) Σ(ŷ−y)·age/100 = {g[0]:.4g}" in text
    assert f"∂L/∂w2 = (1/28) Σ(ŷ−y)·afford. = {g[1]:.4g}" in text
    assert re.search(r"∂L/∂b\s+= \(1/28\) Σ\(ŷ−y\)\s+= " + re.escape(f"{g[2]:.4g}"), text)
    assert "w ← w − η·∂L/∂w" in lesson.update_label.text()
    assert "L = −(1/28) Σ[y·log ŷ + (1−y)·log(1−ŷ)]" in lesson.loss_label.text()


@pytest.mark.parametrize("steps", [0, 5])
def test_lowest_loss_star_sits_in_the_low_end_of_the_slice_shown(lesson, steps):
    for _ in range(steps):
        lesson.step()
    b = lesson.run.weights[2]
    sx, sy = lesson.best_item.getData()
    star_loss, _ = loss_and_gradient(sx[0], sy[0], b)
    vmin, vmax = lesson.image.levels
    # the star is the bottom of this slice: nothing on the map is lower, and its colour is
    # the dark end of the scale
    assert star_loss <= lesson.surface.min() + 1e-6
    assert star_loss - vmin <= 0.02 * (vmax - vmin)
    # and it is no lower than any neighbour: a minimum, checked by hand
    for d1, d2 in ((0.05, 0), (-0.05, 0), (0, 0.05), (0, -0.05)):
        assert loss_and_gradient(sx[0] + d1, sy[0] + d2, b)[0] >= star_loss - 1e-9


def test_next_step_arrow_is_visible_and_points_downhill(lesson, qtbot):
    qtbot.waitExposed(lesson)
    vb = lesson.map.plot_item.getViewBox()
    for _ in range(2):
        w1, w2, _b = lesson.run.weights
        assert lesson.arrow.isVisible()
        pos = lesson.arrow.pos()
        tip = vb.mapViewToScene(pos)
        now = vb.mapViewToScene(QPointF(float(w1), float(w2)))
        # the head (12 px) clear of the 14 px "now" marker, not hidden beneath it
        assert math.hypot(tip.x() - now.x(), tip.y() - now.y()) >= 7 + 12 + 5
        g1, g2, _ = lesson.next_grad
        d1, d2 = pos.x() - w1, pos.y() - w2
        assert (d1 * -g1 + d2 * -g2) / (math.hypot(d1, d2) * math.hypot(g1, g2)) > 0.999
        lesson.step()


def test_reset_clears_a_divergence_message_about_the_old_run(lesson, qtbot):
    lesson.set_learning_rate(100.0)
    messages = []
    lesson.status_message.connect(lambda text, ms: messages.append(text))
    for _ in range(20):
        qtbot.mouseClick(lesson.playback.forward_button, Qt.MouseButton.LeftButton)
    assert "Diverging" in messages[-1]
    lesson.set_learning_rate(0.01)
    lesson.reset()
    assert "Diverging" not in messages[-1] and messages[-1] == lesson.hint()
