"""Training at a pace a class can watch (issue 15 item 8), and the run's diagnosis reaching
the learner (item 11): the session paces itself update by update; Stop, Pause, a new pace
and leaving the lesson end a wait at once; the waiting is not training time; every lesson
that trains has the one pace control; the dashboard says why a run failed."""
from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from core.layers import Dense
from core.model import Sequential
from core.optimizers import SGD
from core.teaching.runs import Run
from gui import app as gui_app
from gui.lessons.base import Lesson
from gui.training_worker import TrainingSession, TrainingTask
from gui.widgets import pace_control

TIMEOUT = 30_000


def _model(lr=0.1, seed=0):
    m = Sequential([Dense(4, activation="tanh"), Dense(1, activation="sigmoid")],
                   input_shape=(2,), seed=seed)
    m.compile(SGD(lr), "binary_crossentropy", ["accuracy"])
    return m


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype(np.float32)
    return x, (x[:, 0] * x[:, 1] > 0).astype(np.float32)


def _task(epochs=50, batch_size=8, lr=0.1):
    x, y = _data()
    return TrainingTask(Run("paced", {"learning_rate": lr}), _model(lr), x, y, epochs=epochs,
                        batch_size=batch_size, seed=0)


def _no_thread_left():
    assert not [w for w in gui_app._ACTIVE if w.is_running()]


# --- the session ----------------------------------------------------------------------------------
def test_at_two_updates_a_second_a_run_makes_about_that_many(qtbot):
    task = _task()                          # 400 updates: at full speed well under a second
    session = TrainingSession([task], warm_up=False)
    session.set_updates_per_second(2)
    session.start()
    t0 = time.perf_counter()
    qtbot.waitUntil(lambda: task.steps >= 1, timeout=TIMEOUT)
    qtbot.wait(2500)
    steps, elapsed = task.steps, time.perf_counter() - t0
    with qtbot.waitSignal(session.finished, timeout=TIMEOUT):
        session.stop()
    # 2 per second for ~2.5 s: about 5 (a loaded machine may make fewer, never many more)
    assert 2 <= steps <= 2 * elapsed + 2, (steps, elapsed)
    # and they reached the GUI thread as they came, not in one lump at the end
    assert len(task.run.batches) >= 2
    # the waiting is not training: s/update stays what the computer needed
    assert task.run.elapsed < 0.5 * elapsed
    _no_thread_left()


def test_stop_during_a_slow_pace_ends_at_once(qtbot):
    task = _task()
    session = TrainingSession([task], warm_up=False)
    session.set_updates_per_second(0.1)     # a wait of 10 s after every update
    session.start()
    qtbot.waitUntil(lambda: task.steps >= 1, timeout=TIMEOUT)
    t0 = time.perf_counter()
    with qtbot.waitSignal(session.finished, timeout=TIMEOUT):
        session.stop()
    assert time.perf_counter() - t0 < 3.0   # a blind sleep would have taken up to 10 s
    assert task.run.status == "stopped" and task.steps == 1
    _no_thread_left()


def test_full_speed_mid_wait_and_pause_mid_wait_take_effect_at_once(qtbot):
    task = _task(epochs=3)
    session = TrainingSession([task], warm_up=False)
    session.set_updates_per_second(0.1)
    session.start()
    qtbot.waitUntil(lambda: task.steps >= 1, timeout=TIMEOUT)
    session.pause()                         # ends the wait; training holds
    qtbot.wait(300)
    assert task.steps == 1 and session.is_paused()
    session.set_updates_per_second(None)    # full speed, then go on
    session.resume()
    t0 = time.perf_counter()
    qtbot.waitUntil(lambda: not session.is_running(), timeout=TIMEOUT)
    assert time.perf_counter() - t0 < 5.0   # 23 more updates at 0.1/s would take minutes
    assert task.run.status == "finished" and task.steps == 24


class _TrainingLesson(Lesson):
    title = "Paced test lesson"
    help_name = "neuron"

    def __init__(self):
        super().__init__()
        self.add_pace_control(1)


def test_a_lessons_pace_control_paces_its_sessions_and_leaving_ends_the_wait(qtbot):
    pace_control.set_default_for_all(False)
    lesson = _TrainingLesson()
    qtbot.addWidget(lesson)
    assert lesson.pace_control.updates_per_second() == 1
    task = _task()
    session = TrainingSession([task], warm_up=False, parent=lesson)
    lesson.start_session(session)
    assert session.updates_per_second() == 1
    qtbot.waitUntil(lambda: task.steps >= 1, timeout=TIMEOUT)
    lesson.pace_control.set_pace(0.1)       # nearest offered: 1 update/s, the slowest
    assert lesson.pace_control.text() == "1 update/s"
    lesson.pace_control.combo.setCurrentIndex(lesson.pace_control.combo.count() - 1)
    assert lesson.pace_control.text() == "full speed"
    assert session.updates_per_second() is None          # changed mid-run
    qtbot.waitUntil(lambda: task.steps > 20, timeout=TIMEOUT)
    lesson.pace_control.set_pace(1)
    t0 = time.perf_counter()
    lesson.deactivate()                     # leaving the lesson ends a 1 s wait at once
    assert time.perf_counter() - t0 < 3.0
    assert not session.is_running()
    _no_thread_left()


def test_the_pace_is_remembered_per_lesson_while_the_app_runs(qtbot):
    pace_control.set_default_for_all(False)
    first = _TrainingLesson()
    qtbot.addWidget(first)
    first.pace_control.set_pace(30)
    again = _TrainingLesson()
    qtbot.addWidget(again)
    assert again.pace_control.text() == "30/s"

    class Other(_TrainingLesson):
        title = "Another"
    other = Other()
    qtbot.addWidget(other)
    assert other.pace_control.text() == "1 update/s"     # its own default, not the other's


def test_a_run_that_ends_at_chance_says_why_in_the_status_bar(qtbot):
    lesson = _TrainingLesson()
    qtbot.addWidget(lesson)
    messages = []
    lesson.status_message.connect(lambda text, _ms: messages.append(text))
    task = _task(epochs=4, batch_size=64)   # 4 updates: too few to beat guessing
    session = TrainingSession([task], warm_up=False, parent=lesson)
    with qtbot.waitSignal(session.finished, timeout=TIMEOUT):
        lesson.start_session(session)
    assert task.run.status == "finished"
    assert task.run.diagnosis is not None and task.run.diagnosis.kind == "chance"
    assert messages and messages[-1].startswith("paced: Accuracy stayed at")
    assert "only 4 weight updates" in messages[-1]


# --- every lesson that trains has the control -------------------------------------------------------
TRAINING_LESSONS = [
    # (module, class, default pace)
    ("dashboard", "DashboardLesson", 100),
    ("descent_variants", "DescentVariantsLesson", 100),
    ("draw_digit", "DrawDigitLesson", 10),
    ("hidden_layers", "HiddenLayersLesson", None),
    ("precision_recall", "PrecisionRecallLesson", None),
    ("dropout", "DropoutLesson", None),
    ("churn", "ChurnLesson", None),
    ("cnn_digits", "CnnDigitsLesson", None),
    ("cifar", "CifarLesson", None),
    ("augmentation", "AugmentationLesson", None),
    ("transfer_learning", "TransferLearningLesson", None),
    ("rnn", "RnnLesson", 300),
    ("vanishing_gradients", "VanishingGradientsLesson", None),
]


@pytest.mark.parametrize("module,cls,default", TRAINING_LESSONS,
                         ids=[m for m, _, _ in TRAINING_LESSONS])
def test_every_training_lesson_shows_the_pace_control(qtbot, module, cls, default):
    import importlib

    pace_control.set_default_for_all(False)
    lesson = getattr(importlib.import_module(f"gui.lessons.{module}"), cls)()
    qtbot.addWidget(lesson)
    lesson.resize(1280, 800)
    lesson.show()
    try:
        control = lesson.pace_control
        assert control is not None
        assert control.isVisible() and control.combo.isEnabled()
        assert control.caption.text() == "Pace:"
        offered = [control.combo.itemText(i) for i in range(control.combo.count())]
        assert offered[0] == "1 update/s" and offered[-1] == "full speed"
        assert control.updates_per_second() == default
        assert "weight updates per second" in control.toolTip()
    finally:
        lesson.shutdown()
        QApplication.processEvents()


# --- the dashboard says why a run failed --------------------------------------------------------------
def _train_dashboard(qtbot, lr: str, epochs: int):
    from gui.lessons.dashboard import DashboardLesson

    lesson = DashboardLesson()
    qtbot.addWidget(lesson)
    messages = []
    lesson.status_message.connect(lambda text, _ms: messages.append(text))
    lesson.lr_combo.setCurrentText(lr)
    lesson.epochs_spin.setValue(epochs)
    assert lesson.start_training()
    qtbot.waitUntil(lambda: not lesson.is_training(), timeout=120_000)
    run = list(lesson.store)[-1]
    lesson.table.refresh()
    status = lesson.table.item(lesson.table.row_of(run.id), lesson.table.column_of("status"))
    return lesson, run, messages, status


def test_dashboard_at_learning_rate_3_ends_saying_it_is_too_large(qtbot):
    lesson, run, messages, status = _train_dashboard(qtbot, "3", 10)
    assert run.diagnosis is not None
    sentence = str(run.diagnosis)
    assert "the learning rate 3 is" in sentence and "too large" in sentence
    assert sentence.endswith("try 0.1.")
    assert messages[-1] == f"{run.name}: {sentence}"        # status bar
    # the lesson's message keeps the engine's own account of the divergence
    assert run.stop_reason in lesson.message_label.text()
    assert sentence in status.toolTip()                     # the runs table row
    lesson.shutdown()


def test_dashboard_run_that_finishes_at_chance_is_not_just_finished(qtbot):
    lesson, run, messages, status = _train_dashboard(qtbot, "0.0001", 2)
    assert run.status == "finished"
    assert status.text() == "finished · at chance"
    assert str(run.diagnosis).startswith("Accuracy stayed at")
    assert "learning rate 0.0001 is probably too small" in messages[-1]
    assert lesson.message_label.isVisibleTo(lesson)
    lesson.shutdown()


def test_teaching_one_drawing_gets_no_verdict(qtbot):
    task = _task(epochs=1, batch_size=64)
    task.diagnose = False
    session = TrainingSession([task], warm_up=False)
    with qtbot.waitSignal(session.finished, timeout=TIMEOUT):
        session.start()
    assert task.run.status == "finished" and task.run.diagnosis is None


# --- SGD's thousands of raw points do not flood the chart ---------------------------------------
def test_sgd_raw_line_fades_and_its_smoothed_line_shows_the_trend(qtbot):
    from core.teaching.runs import RunStore
    from gui.widgets.training_plot import TrainingPlot

    # the insurance data at batch size 1: 160 updates an epoch, 10 epochs, one example's
    # loss each, scattered ±1 around a falling trend; the plot as the descent lesson has it
    plot = TrainingPlot(metrics=("loss",), smoothing=0.9, x_axis="epoch", granularity="both")
    qtbot.addWidget(plot)
    store = RunStore()
    run = store.new_run({}, name="stochastic")
    run.updates_per_epoch = 160
    rng = np.random.default_rng(0)
    steps = np.arange(1, 1601)
    trend = 0.7 - 0.3 * steps / 1600
    noise = rng.uniform(-1, 1, steps.size)
    run.batches.extend({"step": s, "epoch": s / 160, "time": 0.001 * s, "loss": t + n}
                       for s, t, n in zip(steps, trend, noise))
    plot.add_run(run)
    plot.refresh()
    raw_pen = plot.curve_item(run.id, "loss", "raw").opts["pen"]
    assert raw_pen.color().alpha() <= 20          # faint: the band does not fill the chart
    xs, smoothed = plot.curve_data(run.id, "loss", "smooth")
    settled = (smoothed - np.interp(xs, steps / 160, trend))[xs > 2.5]
    # the smoothed line stays near the trend (the slider's 0.9 alone leaves it ±0.13)
    assert np.std(settled) < 0.09, np.std(settled)
    # a short run keeps the slider's exact weight
    short = store.new_run({}, name="mini")
    short.updates_per_epoch = 160
    short.batches.extend({"step": s, "epoch": s / 160, "time": 0.0, "loss": float(s % 2)}
                         for s in range(1, 101))
    plot.add_run(short)
    plot.refresh()
    assert plot.curve_item(short.id, "loss", "raw").opts["pen"].color().alpha() == 60
