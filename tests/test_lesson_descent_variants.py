"""Batch vs stochastic vs mini-batch: three runs of one network, their updates per epoch and
their curves against epochs, updates and time; training stops cleanly when the learner leaves."""
import math

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.data import load_insurance, min_max_scale, train_validation_split
from core.layers import Dense
from core.model import Sequential
from core.optimizers import SGD
from gui import app as gui_app
from gui.lessons.descent_variants import DescentVariantsLesson

TIMEOUT = 30_000


@pytest.fixture
def lesson(qtbot):
    les = DescentVariantsLesson()
    qtbot.addWidget(les)
    les.resize(1100, 700)
    les.show()
    les.dataset_combo.setCurrentIndex(les.dataset_combo.findData("insurance"))
    les.lr_combo.setCurrentText("0.5")
    qtbot.waitUntil(lambda: les.data() is not None, timeout=TIMEOUT)  # read in a worker
    yield les
    les.shutdown()
    assert not les.running_workers()


def _run(qtbot, lesson):
    qtbot.mouseClick(lesson.start_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(lesson.session.finished, timeout=TIMEOUT):
        pass


def test_three_runs_with_their_updates_per_epoch(qtbot, lesson):
    lesson.epochs_spin.setValue(3)
    lesson.mini_spin.setValue(32)
    _run(qtbot, lesson)
    n = 160                                     # 200 people, 20% kept for validation
    batch, sgd, mini = (lesson.runs[k] for k in ("batch", "sgd", "mini"))
    assert [r.status for r in (batch, sgd, mini)] == ["finished"] * 3
    assert batch.updates_per_epoch == 1 and batch.steps == 3
    assert sgd.updates_per_epoch == n and sgd.steps == 3 * n
    assert mini.updates_per_epoch == math.ceil(n / 32) and mini.steps == 3 * 5
    # the plot holds every update of each run, and one point per epoch
    for run in (batch, sgd, mini):
        x, y = lesson.plot.curve_data(run.id, "loss", "raw")
        assert len(y) == run.steps
        assert len(lesson.plot.curve_data(run.id, "loss", "train")[0]) == 3
    # the numbers are in the table
    assert lesson.table.rowCount() == 3
    assert lesson.table.cell_text(batch.id, "updates_per_epoch") == "1"
    assert lesson.table.cell_text(sgd.id, "updates_per_epoch") == str(n)
    assert lesson.table.cell_text(sgd.id, "steps") == str(3 * n)
    assert lesson.table.cell_text(mini.id, "batch_size") == "32"
    for run in (batch, sgd, mini):
        time = lesson.table.cell_text(run.id, "time")      # a few ms say so in words
        assert time == "below 0.01" or float(time) > 0
    assert "Lowest" in lesson.message_label.text()


def test_same_start_same_data_as_plain_fit(qtbot, lesson):
    """Each variant is exactly model.fit with its batch size: compare with a fit by hand."""
    lesson.epochs_spin.setValue(2)
    _run(qtbot, lesson)
    ds = load_insurance()
    (xt, yt), (xv, yv) = train_validation_split(ds.x, ds.y, 0.2, seed=0)
    xt, xv, _ = min_max_scale(xt, xv)
    for key, bs in (("batch", 160), ("sgd", 1), ("mini", 32)):
        model = Sequential([Dense(1, activation="sigmoid")], input_shape=(2,), seed=0)
        model.compile(SGD(0.5), "binary_crossentropy", ["accuracy"])
        # the lesson trains epoch by epoch (interleaving the three), one fit per epoch
        losses = []
        for epoch in range(2):
            seed = int(np.random.SeedSequence([0, epoch]).generate_state(1)[0])
            h = model.fit(xt, yt, epochs=1, batch_size=bs, validation_data=(xv, yv), seed=seed)
            losses += h.history["loss"]
        run = lesson.runs[key]
        np.testing.assert_allclose(run.epochs.column("loss"), losses, rtol=1e-6)


def test_x_axis_selector_plots_against_epochs_updates_and_time(qtbot, lesson):
    lesson.epochs_spin.setValue(2)
    _run(qtbot, lesson)
    sgd, batch = lesson.runs["sgd"], lesson.runs["batch"]
    combo = lesson.plot.x_combo
    combo.setCurrentIndex(combo.findData("epoch"))
    x, _ = lesson.plot.curve_data(batch.id, "loss", "raw")
    np.testing.assert_array_equal(x, [1.0, 2.0])
    combo.setCurrentIndex(combo.findData("step"))
    x, _ = lesson.plot.curve_data(sgd.id, "loss", "raw")
    np.testing.assert_array_equal(x, np.arange(1, 321))
    combo.setCurrentIndex(combo.findData("time"))
    x, _ = lesson.plot.curve_data(sgd.id, "loss", "raw")
    np.testing.assert_array_equal(x, sgd.batches.column("time"))
    assert np.all(np.diff(x) >= 0) and x[-1] == pytest.approx(sgd.elapsed)


def test_starting_again_replaces_the_three_runs(qtbot, lesson):
    lesson.epochs_spin.setValue(1)
    _run(qtbot, lesson)
    first = set(r.id for r in lesson.store)
    lesson.mini_spin.setValue(10)
    _run(qtbot, lesson)
    assert len(lesson.store) == 3 and not first & {r.id for r in lesson.store}
    assert lesson.runs["mini"].updates_per_epoch == 16
    assert lesson.table.rowCount() == 3 and len(lesson.plot.runs()) == 3
    assert "⌈160/10⌉ = 16" in lesson.network_label.text()


def test_leaving_or_closing_mid_training_stops_cleanly(qtbot, lesson):
    lesson.epochs_spin.setValue(200)
    lesson.start_training()
    sgd = lesson.runs["sgd"]
    qtbot.waitUntil(lambda: sgd.steps > 0, timeout=TIMEOUT)
    lesson.deactivate()
    assert not lesson.running_workers()
    assert not [w for w in gui_app._ACTIVE if w.is_running()]
    assert all(r.status in ("stopped", "finished") for r in lesson.runs.values())
    assert sgd.status == "stopped" and "left the lesson" in sgd.stop_reason
    assert lesson.start_button.isEnabled()
    # and again, this time closing the window
    lesson.start_training()
    qtbot.waitUntil(lambda: lesson.runs["sgd"].steps > 0, timeout=TIMEOUT)
    lesson.shutdown()
    assert not lesson.running_workers()
    assert not [w for w in gui_app._ACTIVE if w.is_running()]


def test_stop_button(qtbot, lesson):
    lesson.epochs_spin.setValue(200)
    lesson.start_training()
    qtbot.waitUntil(lambda: lesson.runs["sgd"].steps > 0, timeout=TIMEOUT)
    qtbot.mouseClick(lesson.stop_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(lesson.session.finished, timeout=TIMEOUT):
        pass
    assert lesson.runs["sgd"].status == "stopped"
    assert lesson.runs["sgd"].steps < 200 * 160
