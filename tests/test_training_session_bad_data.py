"""Bad data reaching the one TrainingSession is named as bad data before training starts
(issue 13 item 7): NaN inputs used to be reported as a divergence "Try a smaller learning
rate"; and a run that diverges without NaN ends "diverged", not "finished" (item 6)."""
from __future__ import annotations

import numpy as np

from core.layers import Dense
from core.model import Sequential
from core.optimizers import SGD
from core.teaching.runs import Run
from gui import app as gui_app
from gui.training_worker import TrainingSession, TrainingTask

TIMEOUT = 30_000


def _model(lr=0.1):
    m = Sequential([Dense(8, activation="tanh"), Dense(1, activation="sigmoid")],
                   input_shape=(2,), seed=0)
    m.compile(SGD(lr), "binary_crossentropy", ["accuracy"])
    return m


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype(np.float32)
    return x, (x[:, 0] * x[:, 1] > 0).astype(np.float32)


def _run(qtbot, task):
    session = TrainingSession([task], warm_up=False)
    ended = []
    session.run_ended.connect(ended.append)
    with qtbot.waitSignal(session.finished, timeout=TIMEOUT):
        session.start()
    assert not [w for w in gui_app._ACTIVE if w.is_running()]
    return ended


def test_nan_inputs_fail_before_training_naming_the_row_not_the_learning_rate(qtbot):
    x, y = _data()
    x[17, 1] = np.nan
    model = _model()
    before = [w.copy() for w in model.get_weights()]
    task = TrainingTask(Run("nan x"), model, x, y, epochs=3, batch_size=16)
    ended = _run(qtbot, task)
    assert ended == [task.run]
    assert task.run.status == "failed" and task.run.steps == 0
    assert task.run.stop_reason.startswith("training could not start: the inputs (x) hold NaN")
    assert "row index 17" in task.run.stop_reason
    assert "learning rate" not in task.run.stop_reason
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_nan_validation_data_fails_instead_of_drawing_nan_curves(qtbot):
    x, y = _data()
    xv, yv = _data(seed=1)
    xv[3, 0] = np.inf
    task = TrainingTask(Run("nan val"), _model(), x, y, epochs=2, batch_size=16,
                        validation_data=(xv, yv))
    _run(qtbot, task)
    assert task.run.status == "failed" and len(task.run.epochs) == 0
    assert "validation inputs" in task.run.stop_reason and "row index 3" in task.run.stop_reason


def test_a_label_the_loss_cannot_take_fails_with_the_losss_sentence(qtbot):
    x, y = _data()
    y[5] = 2.0
    task = TrainingTask(Run("label 2"), _model(), x, y, epochs=2, batch_size=16)
    _run(qtbot, task)
    assert task.run.status == "failed"
    assert "binary_crossentropy needs labels 0 or 1" in task.run.stop_reason


def test_a_run_diverging_without_nan_ends_diverged_with_its_reason(qtbot):
    x, y = _data(256)
    task = TrainingTask(Run("huge lr"), _model(lr=1e6), x, y, epochs=50, batch_size=16)
    _run(qtbot, task)
    assert task.run.status == "diverged"
    assert "The learning rate 1000000 is too large" in task.run.stop_reason
    assert task.run.steps < 50 * 16
