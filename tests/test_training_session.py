"""One training session for every lesson: what TrainingSession does for the lessons that used
to run loops of their own (train until stopped, paced; prepare/finish in the worker thread;
snapshots), and what the Lesson frame does with it (leaving or closing stops it, no thread
is left behind). The GUI gate lives in gui.app."""
from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from core.layers import Dense
from core.model import Sequential
from core.optimizers import SGD
from core.teaching.runs import Run
from gui import app as gui_app
from gui.lessons.base import Lesson
from gui.training_worker import TrainingSession, TrainingTask

TIMEOUT = 30_000


def _model(seed=0):
    m = Sequential([Dense(4, activation="tanh"), Dense(1, activation="sigmoid")],
                   input_shape=(2,), seed=seed)
    m.compile(SGD(0.1), "binary_crossentropy", ["accuracy"])
    return m


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype(np.float32)
    return x, (x[:, 0] * x[:, 1] > 0).astype(np.float32)


def _no_thread_left():
    assert not [w for w in gui_app._ACTIVE if w.is_running()]


# --- the gate ----------------------------------------------------------------------------------
def test_the_gui_gate_belongs_to_the_app_and_the_plot_and_worker_share_it():
    import gui.training_worker as tw
    import gui.widgets.training_plot as tp

    assert isinstance(gui_app.GUI_GATE, gui_app.GuiGate)
    assert tw.GUI_GATE is gui_app.GUI_GATE and tp.GUI_GATE is gui_app.GUI_GATE
    gate = gui_app.GuiGate()
    with gate.busy():
        t0 = time.perf_counter()
        gate.wait_idle(0.05)                   # busy: a training thread would wait
        assert time.perf_counter() - t0 >= 0.04
    t0 = time.perf_counter()
    gate.wait_idle(1.0)                        # idle again: no wait
    assert time.perf_counter() - t0 < 0.5


# --- TrainingSession for loops that lessons used to run themselves ------------------------------
def test_open_ended_paced_task_snapshots_and_stops_on_the_true_state(qtbot):
    x, y = _data()
    model = _model()
    snaps = []
    task = TrainingTask(Run("open"), model, x, y, epochs=None, batch_size=16,
                        epoch_seed=lambda e: 1000 + e, pace=lambda: 0.02,
                        first_epoch=5, record_batches=False,
                        snapshot=lambda t: (t.first_epoch + t.epochs_done,
                                            t.model.get_weights()),
                        snapshot_every=0.0)
    session = TrainingSession([task], warm_up=False)
    session.snapshot.connect(lambda run, value: snaps.append(value))
    session.start()
    qtbot.waitUntil(lambda: len(snaps) >= 3, timeout=TIMEOUT)
    assert session.progress.total == 0 and session.progress.remaining is None
    with qtbot.waitSignal(session.finished, timeout=TIMEOUT):
        session.stop()
    _no_thread_left()
    assert task.run.status == "stopped" and "stopped by you" in task.run.stop_reason
    assert len(task.run.batches) == 0                    # no per-batch rows kept
    assert len(task.run.epochs) >= 3
    epochs = [e for e, _ in snaps]
    assert epochs[0] == 6 and epochs == sorted(epochs)   # counted on from first_epoch
    # the last snapshot is the model as it stopped, not the last timed one
    for got, want in zip(snaps[-1][1], model.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_epoch_by_epoch_training_uses_the_lessons_seeds(qtbot):
    """Two epochs in a session equal two fit calls with the same per-epoch seeds."""
    x, y = _data()
    a, b = _model(), _model()
    task = TrainingTask(Run("a"), a, x, y, epochs=2, batch_size=8,
                        epoch_seed=lambda e: 77 * 1000 + e)
    session = TrainingSession([task], warm_up=False)
    with qtbot.waitSignal(session.finished, timeout=TIMEOUT):
        session.start()
    for e in range(2):
        b.fit(x, y, epochs=1, batch_size=8, seed=77 * 1000 + e)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6, atol=1e-7)
    assert task.run.status == "finished" and len(task.run.epochs) == 2


def test_pace_slows_an_open_ended_task_and_the_batch_size_can_change(qtbot):
    x, y = _data(64)
    task = TrainingTask(Run("paced"), _model(), x, y, epochs=None, batch_size=64,
                        pace=lambda: 0.3)
    session = TrainingSession([task], warm_up=False)
    session.start()
    qtbot.waitUntil(lambda: len(task.run.epochs) >= 1, timeout=TIMEOUT)
    task.batch_size = 16                        # read at the next epoch
    qtbot.waitUntil(lambda: len(task.run.epochs) >= 3, timeout=TIMEOUT)
    session.stop_and_wait(5000)
    steps = task.run.epochs.get("step")
    assert steps[0] == 1 and np.all(np.diff(steps)[1:] == 4)
    times = task.run.epochs.get("time")          # training time only: the waits do not count
    assert times[-1] < 0.15 * len(times)


def test_a_whole_epochs_task_finishes_its_epoch_before_stopping(qtbot):
    x, y = _data(64)
    task = TrainingTask(Run("whole"), _model(), x, y, epochs=None, batch_size=1,
                        whole_epochs=True)
    session = TrainingSession([task], warm_up=False)
    session.start()
    qtbot.waitUntil(lambda: session.progress.done > 0, timeout=TIMEOUT)
    session.stop_and_wait(10_000)
    assert task.steps > 0 and task.steps % 64 == 0
    assert task.model.optimizer.iterations == task.steps
    assert task.run.status == "stopped"


def test_prepare_and_finish_run_in_the_worker_thread(qtbot):
    x, y = _data()
    threads = {}

    # not QThread.isCurrentThread(): Qt 6.8 added it, and PySide6 6.6 is supported
    def prepare(t):
        threads["prepare"] = QThread.currentThread() is QApplication.instance().thread()
        t.x = t.x * 2

    def finish(t):
        threads["finish"] = QThread.currentThread() is QApplication.instance().thread()
        return t.model.predict(t.x[:3])

    task = TrainingTask(Run("hooks"), _model(), x.astype(np.float64), y, 1, 16,
                        prepare=prepare, finish=finish)
    session = TrainingSession([task], warm_up=False)
    with qtbot.waitSignal(session.finished, timeout=TIMEOUT):
        session.start()
    assert threads == {"prepare": False, "finish": False}
    np.testing.assert_allclose(task.x, x * 2)
    assert task.result.shape == (3, 1)


# --- the Lesson frame owns the session ------------------------------------------------------------
class _TrainingLesson(Lesson):
    title = "Session test"
    help_name = "neuron"

    def train(self, epochs=None, pace=0.01):
        x, y = _data()
        task = TrainingTask(Run("lesson"), _model(), x, y, epochs=epochs, batch_size=8,
                            pace=(lambda: pace) if epochs is None else None)
        self.session = TrainingSession([task], warm_up=False, parent=self)
        return self.start_session(self.session)


def test_leaving_a_lesson_stops_its_session_and_leaves_no_thread(qtbot):
    lesson = _TrainingLesson()
    qtbot.addWidget(lesson)
    lesson.train()
    run = lesson.session.tasks[0].run
    qtbot.waitUntil(lambda: len(run.epochs) > 0, timeout=TIMEOUT)
    assert lesson.training_sessions() == [lesson.session]
    lesson.deactivate()
    assert not lesson.training_sessions() and not lesson.running_workers()
    assert run.status == "stopped" and "left the lesson" in run.stop_reason
    _no_thread_left()
    lesson.shutdown()


def test_closing_the_window_stops_the_session(qtbot):
    lesson = _TrainingLesson()
    qtbot.addWidget(lesson)
    lesson.train()
    run = lesson.session.tasks[0].run
    qtbot.waitUntil(lambda: len(run.epochs) > 0, timeout=TIMEOUT)
    lesson.shutdown()
    assert run.status == "stopped" and "window closed" in run.stop_reason
    _no_thread_left()


def test_a_finished_session_is_forgotten(qtbot):
    lesson = _TrainingLesson()
    qtbot.addWidget(lesson)
    with qtbot.waitSignal(lesson.train(epochs=1).finished, timeout=TIMEOUT):
        pass
    assert not lesson.training_sessions() and not lesson._sessions
    lesson.deactivate()                         # nothing to stop: no error
    lesson.shutdown()


def test_a_stop_while_preparing_trains_nothing_and_the_hooks_can_see_it(qtbot):
    x, y = _data()
    seen = {}

    def prepare(t):
        deadline = time.perf_counter() + 10
        while not t.stop_wanted() and time.perf_counter() < deadline:
            time.sleep(0.01)
        seen["prepare"] = t.stop_wanted()

    task = TrainingTask(Run("p"), _model(), x, y, epochs=3, batch_size=8, prepare=prepare,
                        finish=lambda t: t.stop_wanted())
    session = TrainingSession([task], warm_up=False)
    with qtbot.waitSignal(session.finished, timeout=TIMEOUT):
        session.start()
        session.stop(why="when you left the lesson")
    assert seen["prepare"] and task.result is True
    assert task.steps == 0 and task.run.status == "stopped"
    assert "before its first weight update" in task.run.stop_reason


# --- the real lessons that used to run their own loops --------------------------------------------
def _start_playground(qtbot):
    from gui.lessons.playground import PlaygroundLesson

    lesson = PlaygroundLesson()
    qtbot.addWidget(lesson)
    lesson.playback.set_playing(True)
    qtbot.waitUntil(lambda: lesson.epoch > 0, timeout=TIMEOUT)
    return lesson


def _start_hidden_layers(qtbot):
    from gui.lessons import hidden_layers as H

    lesson = H.HiddenLayersLesson()
    lesson.auto_train = False
    qtbot.addWidget(lesson)
    lesson.epochs_spin.setValue(30)
    lesson.activate()
    qtbot.waitUntil(lambda: lesson.data is not None, timeout=60_000)
    lesson.start_training()
    qtbot.waitUntil(lambda: lesson.cards["none"].progress.value() > 0, timeout=TIMEOUT)
    return lesson


def _start_cnn_digits(qtbot):
    from gui.lessons.cnn_digits import CnnDigitsLesson

    lesson = CnnDigitsLesson()
    qtbot.addWidget(lesson)
    lesson.network_combo.setCurrentText("CNN, small (8 · 16 filters, Dense 32) — faster")
    lesson.size_spin.setValue(4000)
    lesson.epochs_spin.setValue(20)
    lesson.train()
    qtbot.waitUntil(lambda: lesson.status.progress.value() > 0, timeout=60_000)
    return lesson


def _start_augmentation(qtbot):
    from gui.lessons.augmentation import AugmentationLesson

    lesson = AugmentationLesson()
    qtbot.addWidget(lesson)
    qtbot.waitUntil(lambda: lesson.digits is not None, timeout=20_000)  # read in a worker
    lesson.size_combo.setCurrentIndex(0)
    lesson.network_combo.setCurrentIndex(0)
    lesson.epochs_spin.setValue(200)
    assert lesson.start_training()
    qtbot.waitUntil(lambda: "with" in lesson.runs and len(lesson.runs["with"].batches) > 0,
                    timeout=60_000)
    return lesson


def _start_churn(qtbot):
    from gui.lessons.churn import ChurnLesson

    lesson = ChurnLesson()
    qtbot.addWidget(lesson)
    qtbot.waitUntil(lambda: lesson.table_data is not None and not lesson.is_loading(),
                    timeout=30_000)   # the example table is made in a worker
    lesson.epochs_spin.setValue(400)
    assert lesson.compare_all()
    qtbot.waitUntil(lambda: lesson.progress.value() > 0, timeout=60_000)
    return lesson


STARTERS = {"playground": _start_playground, "hidden_layers": _start_hidden_layers,
            "cnn_digits": _start_cnn_digits, "augmentation": _start_augmentation,
            "churn": _start_churn}


@pytest.mark.parametrize("name", sorted(STARTERS))
def test_leaving_a_real_lesson_mid_training_stops_its_session(qtbot, name):
    lesson = STARTERS[name](qtbot)
    assert lesson.training_sessions()
    lesson.deactivate()
    assert not lesson.training_sessions() and not lesson.running_workers()
    assert not lesson.is_training()
    _no_thread_left()
    lesson.shutdown()


def test_pause_and_resume_in_the_hidden_layers_comparison(qtbot):
    lesson = _start_hidden_layers(qtbot)
    session = lesson.session
    session.pause()
    assert session.is_paused() and lesson.is_training()
    time.sleep(0.2)
    QApplication.processEvents()
    steps = [t.steps for t in session.tasks]
    time.sleep(0.3)
    QApplication.processEvents()
    assert [t.steps for t in session.tasks] == steps       # nothing trains while paused
    session.resume()
    qtbot.waitUntil(lambda: sum(t.steps for t in session.tasks) > sum(steps), timeout=TIMEOUT)
    lesson.stop_training()
    assert not lesson.is_training() and lesson.train_button.text() == "Train both"
    lesson.shutdown()
    _no_thread_left()


def test_closing_the_main_window_mid_training_ends_cleanly(qtbot):
    from gui.lessons.playground import PlaygroundLesson
    from gui.main_window import MainWindow

    win = MainWindow(lessons=[PlaygroundLesson])
    qtbot.addWidget(win)
    win.show()
    assert win.select_lesson(PlaygroundLesson)
    lesson = win.current_lesson()
    lesson.playback.set_playing(True)
    qtbot.waitUntil(lambda: lesson.epoch > 0, timeout=TIMEOUT)
    assert lesson.is_training()
    win.close()
    assert not lesson.is_training() and not lesson.running_workers()
    _no_thread_left()


def test_every_lesson_leaves_stopping_to_the_frame():
    """A lesson's deactivate/shutdown override calls super() (which stops its sessions) and
    keeps no copy of its own: no `is_training`, no session started around the frame."""
    import ast
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "gui" / "lessons"
    problems = []
    for path in sorted(folder.glob("*.py")):
        if path.name == "base.py":
            continue
        source = path.read_text(encoding="utf-8")
        if "session.start(" in source:
            problems.append(f"{path.name}: starts a session itself, not by start_session")
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.FunctionDef):
                continue
            if node.name == "is_training":
                problems.append(f"{path.name}: its own is_training")
            if node.name in ("deactivate", "shutdown"):
                calls = {ast.unparse(c.func) for c in ast.walk(node) if isinstance(c, ast.Call)}
                if f"super().{node.name}" not in calls:
                    problems.append(f"{path.name}: {node.name} does not call super()")
    assert not problems, "\n".join(problems)
