"""Vanishing and exploding gradients lesson: the learner sees one bar per layer and one point
per time step with the engine's numbers, a sentence saying what they show, the backward pass
replayed from the output back, and clipping keeping an exploding RNN trainable."""
import re

import numpy as np
import pytest

pytest.importorskip("pytestqt")
from PySide6.QtWidgets import QLabel  # noqa: E402

from core.teaching import gradient_flow as gf  # noqa: E402
from gui.lessons import COURSE, lesson_classes  # noqa: E402
from gui.lessons.vanishing_gradients import VanishingGradientsLesson  # noqa: E402

TIMEOUT = 60_000
SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")


@pytest.fixture
def lesson(qtbot):
    w = VanishingGradientsLesson()
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w.layer_flow is not None, timeout=TIMEOUT)
    yield w
    w.shutdown()


def bar_heights(w):
    """The bars on screen as gradient sizes (the chart draws log10 above its floor)."""
    opts = w.layer_bars.opts
    return np.asarray(opts["x"]), 10.0 ** (np.asarray(opts["height"]) + opts["y0"])


def choose(w, qtbot, activation, init):
    with qtbot.waitSignal(w.flows_shown, timeout=TIMEOUT):
        w.activation_box.setCurrentText(activation)
        w.init_box.setCurrentIndex(list(gf.INIT_SCALES).index(init))


def test_lesson_is_in_the_course():
    assert ("gui.lessons.vanishing_gradients", "VanishingGradientsLesson") in COURSE
    assert VanishingGradientsLesson in lesson_classes()


def test_bars_and_time_steps_show_the_engines_gradients(lesson, qtbot):
    w = lesson
    x, shown = bar_heights(w)
    assert list(x) == list(range(1, gf.DEPTH + 1))
    expected = gf.dense_gradients("sigmoid", "Glorot").weight_grad
    np.testing.assert_allclose(shown, expected, rtol=1e-4)
    assert "layer 1 is about 10⁻" in w.layer_sentence.text()
    assert "barely learn" in w.layer_sentence.text()
    sx, sy = w.step_curve.getData()
    assert len(sx) == gf.RNN_STEPS
    np.testing.assert_allclose(10.0 ** sy, gf.rnn_gradients("Glorot"), rtol=1e-4)
    assert "step 1 is about 10⁻" in w.step_sentence.text()
    # every number can be hovered: the chart's tooltip lists each layer's size
    assert f"layer 1: {gf.readable(expected[0])}" in w.layer_plot.toolTip()
    assert f"step {gf.RNN_STEPS}: " in w.step_plot.toolTip()

    choose(w, qtbot, "relu", "large")
    _, shown = bar_heights(w)
    np.testing.assert_allclose(shown, gf.dense_gradients("relu", "large").weight_grad, rtol=1e-4)
    assert "explodes" in w.layer_sentence.text()
    assert "explodes back through time" in w.step_sentence.text()

    w.measure_box.setCurrentIndex(1)                       # error signals ∂L/∂z
    _, shown = bar_heights(w)
    np.testing.assert_allclose(shown, gf.dense_gradients("relu", "large").error_signal,
                               rtol=1e-4)
    assert w.layer_sentence.text().startswith("The error signal")


def test_replay_reveals_the_backward_pass_from_the_output(lesson, qtbot):
    w = lesson
    w.playback.trigger_reset()
    assert len(bar_heights(w)[0]) == 0 and len(w.step_curve.getData()[0] or []) == 0
    assert "Press Play" in w.layer_sentence.text()
    w.playback.trigger_step_forward()
    x, _ = bar_heights(w)
    assert list(x) == [gf.DEPTH]                           # backprop starts at the output
    assert list(w.step_curve.getData()[0]) == [gf.RNN_STEPS]
    assert "reached layer 10" in w.layer_sentence.text()
    for _ in range(3):
        w.playback.trigger_step_forward()
    assert list(bar_heights(w)[0]) == [7, 8, 9, 10]
    w.playback.trigger_step_back()
    assert list(bar_heights(w)[0]) == [8, 9, 10]
    w.playback.set_speed(4.0)
    w.playback.set_playing(True)
    qtbot.waitUntil(lambda: not w.playback.is_playing(), timeout=TIMEOUT)
    assert len(bar_heights(w)[0]) == gf.DEPTH
    assert len(w.step_curve.getData()[0]) == gf.RNN_STEPS
    assert "barely learn" in w.layer_sentence.text()


def test_clipping_comparison_trains_both_runs(lesson, qtbot):
    w = lesson
    with qtbot.waitSignal(w.clipping_finished, timeout=TIMEOUT):
        w.start_clipping(epochs=3)
    off, on = w.clip_runs["off"], w.clip_runs["on"]
    assert off.status == "diverged"
    assert on.status == "finished"
    upd_on = np.asarray(on.batches.column("update_size"))
    assert len(upd_on) == 3 * 8
    assert upd_on.max() <= gf.CLIP_LEARNING_RATE * gf.CLIP_NORM * np.sqrt(5) + 1e-6
    assert np.asarray(off.batches.column("update_size")).max() > 100
    loss_curve = w.clip_curves["on"][0]
    assert len(loss_curve.getData()[0]) == len(upd_on)
    text = w.clip_message.text()
    assert "clipnorm off: the gradient exploded" in text and "clipnorm = 1: every update" in text


def test_no_scientific_notation_on_screen(lesson, qtbot):
    w = lesson
    choose(w, qtbot, "sigmoid", "small")
    texts = [label.text() for label in w.findChildren(QLabel)]
    axis = w.layer_plot.plot_item.getAxis("left")
    low, high = w.layer_plot.plot_item.viewRange()[1]
    ticks = axis.tickStrings(np.arange(np.ceil(low), high), 1.0, 1.0)
    assert all(t.startswith("10") for t in ticks) and any("⁻" in t for t in ticks)
    for text in texts + ticks + [w.layer_plot.toolTip(), w.step_plot.toolTip()]:
        assert not SCIENTIFIC.search(text), text
