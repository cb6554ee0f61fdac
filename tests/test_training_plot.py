"""The live training-curves widget and the run table, driven as a learner drives them."""
import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from core.teaching.runs import RunStore
from gui.widgets.run_table import RunTable
from gui.widgets.training_plot import TrainingPlot


def _fill(run, n_epochs=4, steps=25, loss0=2.0, seed=0, start=0):
    rng = np.random.default_rng(seed)
    step = start * steps
    for e in range(start, start + n_epochs):
        for b in range(steps):
            step += 1
            run.add_batch({"step": step, "epoch": e + (b + 1) / steps, "time": 0.02 * step,
                           "loss": loss0 / (1 + 0.05 * step) + 0.1 * rng.random(),
                           "accuracy": min(1.0, 0.1 + 0.01 * step)})
        run.add_epoch({"step": step, "epoch": e + 1, "time": 0.02 * step,
                       "loss": loss0 / (1 + 0.05 * step), "accuracy": 0.1 + 0.01 * step,
                       "val_loss": 1.1 * loss0 / (1 + 0.05 * step),
                       "val_accuracy": 0.09 + 0.01 * step})
    run.updates_per_epoch = steps


def tb_smooth(values, w):
    """TensorBoard's debiased EMA, by hand."""
    last, n, out = 0.0, 0, []
    for v in values:
        last = last * w + (1 - w) * v
        n += 1
        out.append(last / (1 - w ** n))
    return np.array(out)


@pytest.fixture
def plot(qtbot):
    p = TrainingPlot(smoothing=0.6)
    qtbot.addWidget(p)
    p.resize(900, 420)
    with qtbot.waitExposed(p):
        p.show()
    return p


def test_curves_hold_every_batch_and_epoch_and_smooth_like_tensorboard(plot):
    store = RunStore()
    run = store.new_run({"lr": 0.1})
    _fill(run)
    plot.add_run(run)
    x, raw = plot.curve_data(run.id, "loss", "raw")
    xs, sm = plot.curve_data(run.id, "loss", "smooth")
    assert len(x) == len(raw) == len(sm) == 100
    np.testing.assert_array_equal(x, np.arange(1, 101))
    np.testing.assert_allclose(sm, tb_smooth(run.batches.column("loss"), 0.6), rtol=1e-9)
    ex, ev = plot.curve_data(run.id, "loss", "val")
    np.testing.assert_array_equal(ex, [25, 50, 75, 100])
    np.testing.assert_allclose(ev, run.epochs.column("val_loss"))
    # the raw line is drawn faint behind the smoothed one
    raw_pen = plot.curve_item(run.id, "loss", "raw").opts["pen"]
    sm_pen = plot.curve_item(run.id, "loss", "smooth").opts["pen"]
    assert raw_pen.color().alpha() < 100 < sm_pen.color().alpha()


def test_live_updates_append_and_keep_smoothing_exact(plot):
    run = RunStore().new_run()
    _fill(run, n_epochs=1)
    plot.add_run(run)
    _fill(run, n_epochs=2, start=1, seed=1)
    plot.update_runs([run.id])
    plot.refresh()
    _, sm = plot.curve_data(run.id, "loss", "smooth")
    assert len(sm) == 75
    np.testing.assert_allclose(sm, tb_smooth(run.batches.column("loss"), 0.6), rtol=1e-9)


def test_updates_are_coalesced_into_timed_redraws(plot, qtbot):
    run = RunStore().new_run()
    plot.add_run(run)
    before = plot.redraw_count
    for k in range(20):                  # twenty chunks arriving in one go …
        _fill(run, n_epochs=1, start=k)
        plot.update_runs([run.id])
    qtbot.waitUntil(lambda: plot.redraw_count > before, timeout=2000)
    assert plot.redraw_count == before + 1   # … are drawn once
    assert len(plot.curve_data(run.id, "loss", "raw")[0]) == 500


def test_smoothing_slider_and_a_flat_line_stays_flat(plot):
    run = RunStore().new_run()
    for s in range(1, 51):
        run.add_batch({"step": s, "epoch": s / 50, "time": s, "loss": 0.6931471805599453,
                       "accuracy": 0.5})
    plot.add_run(run)
    for v in (0, 30, 60, 90, 99):
        plot.smoothing_slider.setValue(v)
        assert plot.smoothing() == pytest.approx(v / 100)
        _, sm = plot.curve_data(run.id, "loss", "smooth")
        assert np.all(sm == 0.6931471805599453)
    plot.smoothing_slider.setValue(0)
    # no smoothing: the raw curve is the curve; its faint copy is hidden
    assert not plot.curve_item(run.id, "loss", "raw").isVisible()
    plot.smoothing_slider.setValue(50)
    assert plot.curve_item(run.id, "loss", "raw").isVisible()
    assert plot.smoothing_label.text() == "0.50"


def test_x_axis_switches_between_step_epoch_and_time(plot):
    run = RunStore().new_run()
    _fill(run)
    plot.add_run(run)
    plot.x_combo.setCurrentIndex(plot.x_combo.findData("time"))
    x, _ = plot.curve_data(run.id, "loss", "smooth")
    np.testing.assert_allclose(x, run.batches.column("time"))
    assert plot.plots["loss"].getAxis("bottom").labelText.startswith("Training time")
    plot.x_combo.setCurrentIndex(plot.x_combo.findData("epoch"))
    x, _ = plot.curve_data(run.id, "loss", "smooth")
    assert x[24] == 1.0 and x[-1] == 4.0 and x[0] == pytest.approx(0.04)
    ex, _ = plot.curve_data(run.id, "loss", "train")
    np.testing.assert_array_equal(ex, [1, 2, 3, 4])


def test_an_empty_plot_is_framed_for_the_planned_run_until_a_run_arrives(plot, qtbot):
    """Before any run the axes show what a run will fill (0 to 10 epochs, or 10 × 25 weight
    updates; accuracy 0 to 1), not 0 to 1 with ticks at a fifth of an epoch; the first run's
    data takes the axes back, and clearing the runs frames the plan again."""
    def x_range():
        return plot.plots["loss"].viewRange()[0]

    plot.show_plan(10, updates_per_epoch=25)
    lo, hi = x_range()
    assert lo <= 0 and 250 <= hi <= 260                       # the step axis: 10 × 25 updates
    y_lo, y_hi = plot.plots["accuracy"].viewRange()[1]
    assert y_lo <= 0 and 1 <= y_hi <= 1.05
    plot.set_x_axis("epoch")
    assert x_range()[0] <= 0 and 10 <= x_range()[1] <= 10.5
    plot.set_x_axis("time")                   # seconds cannot be planned: 0 to 1, not "10 s"
    assert x_range()[1] < 2

    plot.set_x_axis("epoch")
    run = RunStore().new_run({})
    _fill(run, n_epochs=2)                     # two of the ten epochs so far
    plot.add_run(run)
    qtbot.waitUntil(lambda: x_range()[1] < 3)   # the data's extent, not the plan's
    plot.clear()
    assert 10 <= x_range()[1] <= 10.5


def test_granularity_hides_batch_or_epoch_curves(plot):
    run = RunStore().new_run()
    _fill(run)
    plot.add_run(run)
    plot.granularity_combo.setCurrentIndex(plot.granularity_combo.findData("epoch"))
    assert not plot.curve_item(run.id, "loss", "smooth").isVisible()
    assert plot.curve_item(run.id, "loss", "val").isVisible()
    assert not plot.smoothing_slider.isEnabled()
    plot.set_granularity("batch")
    assert plot.curve_item(run.id, "loss", "smooth").isVisible()
    assert not plot.curve_item(run.id, "accuracy", "train").isVisible()


def test_hover_reads_exact_values_of_every_visible_run(plot, qtbot):
    store = RunStore()
    a, b = store.new_run(), store.new_run()
    _fill(a, seed=0)
    _fill(b, seed=1, loss0=3.0)
    plot.add_run(a)
    plot.add_run(b)
    text = plot.hover_at("loss", 40.2)
    rows = plot.hover_rows()
    batch = {r["name"]: r for r in rows if r["series"] == "batch"}
    assert set(batch) == {"run 1", "run 2"}
    assert batch["run 2"]["step"] == 40
    assert batch["run 2"]["value"] == b.batches.column("loss")[39]
    want = tb_smooth(b.batches.column("loss"), 0.6)[39]
    assert batch["run 2"]["smoothed"] == pytest.approx(want)
    val = [r for r in rows if r["series"] == "validation" and r["name"] == "run 1"][0]
    assert val["epoch"] == 2 and val["value"] == a.epochs.column("val_loss")[1]
    assert "run 1" in text and "run 2" in text and "validation" in text

    # hidden runs drop out of the curves and the read-out
    plot.set_run_visible(a.id, False)
    assert not plot.curve_item(a.id, "loss", "smooth").isVisible()
    plot.hover_at("loss", 40.2)
    assert {r["name"] for r in plot.hover_rows()} == {"run 2"}

    # moving the mouse over the plot does the same
    vb = plot.plots["loss"].getViewBox()
    qtbot.waitUntil(lambda: vb.viewRange()[0][1] > 60, timeout=2000)   # laid out, auto-ranged
    scene_pos = vb.mapViewToScene(QPointF(60, 1.0))
    with qtbot.waitSignal(plot.hovered, timeout=1000) as sig:
        plot.graphics.scene().sigMouseMoved.emit(scene_pos)
    assert "run 2" in sig.args[0] and "step 60" in sig.args[0]


def test_nan_values_leave_a_gap_and_do_not_break_the_plot(plot):
    run = RunStore().new_run()
    for s in range(1, 11):
        run.add_batch({"step": s, "epoch": s / 10, "time": s,
                       "loss": float("nan") if s == 10 else 1.0 / s})
    plot.add_run(run)
    _, sm = plot.curve_data(run.id, "loss", "smooth")
    assert math.isnan(sm[-1]) and np.all(np.isfinite(sm[:-1]))
    plot.hover_at("loss", 10)
    assert "NaN" in plot.hover_text()


def test_long_run_uses_one_item_per_series_and_bounded_points(plot, qtbot):
    run = RunStore().new_run()
    plot.add_run(run)
    n_items = len(plot.plots["loss"].items)
    steps = np.arange(1, 200_001, dtype=float)
    rows = ({"step": s, "epoch": s / 1000, "time": s / 1e4,
             "loss": 50.0 if s == 123_457 else 1 / s, "accuracy": 0.5} for s in steps)
    run.batches.extend(rows)
    plot.update_runs([run.id])
    plot.refresh()
    assert len(plot.plots["loss"].items) == n_items       # not one item per point
    item = plot.curve_item(run.id, "loss", "raw")
    assert item.opts["clipToView"] and item.opts["autoDownsample"]
    x, y = plot.curve_data(run.id, "loss", "raw")
    assert len(x) <= 4 * 2000 + 2 * 128                  # drawn from a bounded set …
    assert 50.0 in y and y.min() == 1 / 200_000          # … that keeps every peak
    # hover still reads the exact logged value
    plot.hover_at("loss", 123_457)
    row = [r for r in plot.hover_rows() if r["series"] == "batch"][0]
    assert row["value"] == 50.0 and row["step"] == 123_457
    # zoomed in, the exact points in view are drawn
    vb = plot.plots["loss"].getViewBox()
    vb.setXRange(1000, 2000, padding=0)
    plot.refresh()
    x, y = plot.curve_data(run.id, "loss", "raw")
    assert x[0] <= 1000 and x[-1] >= 2000 and np.all(np.diff(x) == 1)
    plot.grab()   # paints without trouble


# --- the run table ---------------------------------------------------------------------
@pytest.fixture
def table_and_plot(qtbot):
    store = RunStore()
    plot = TrainingPlot()
    table = RunTable(store)
    qtbot.addWidget(plot)
    qtbot.addWidget(table)
    table.visibility_changed.connect(plot.set_run_visible)
    runs = []
    for lr, bs in ((0.1, 32), (0.01, 1)):
        run = store.new_run({"optimizer": "sgd", "learning_rate": lr, "batch_size": bs,
                             "train_samples": 400})
        _fill(run)
        run.updates_per_epoch = math.ceil(400 / bs)
        run.status = "finished"
        plot.add_run(run)
        table.add_run(run)
        runs.append(run)
    table.show()
    return store, plot, table, runs


def test_table_shows_settings_and_results_side_by_side(table_and_plot):
    store, plot, table, (a, b) = table_and_plot
    assert table.rowCount() == 2
    headers = [table.horizontalHeaderItem(i).text() for i in range(table.columnCount())]
    assert headers[:3] == ["show", "run", "status"]
    assert {"lr", "batch", "updates/epoch", "val loss"} <= set(headers)
    assert table.cell_text(a.id, "learning_rate") == "0.1"
    assert table.cell_text(b.id, "learning_rate") == "0.01"
    assert table.cell_text(a.id, "updates_per_epoch") == "13"
    assert table.cell_text(b.id, "updates_per_epoch") == "400"
    assert table.cell_text(b.id, "status") == "finished"
    want = a.epochs.column("val_loss")[-1]
    assert table.cell_text(a.id, "val_loss") == f"{want:.4g}"
    tip = table.item(table.row_of(a.id), table.column_of("updates_per_epoch")).toolTip()
    assert "⌈400 / 32⌉ = 13" in tip


def test_table_checkbox_hides_the_run_in_the_plot(table_and_plot, qtbot):
    store, plot, table, (a, b) = table_and_plot
    item = table.item(table.row_of(a.id), 0)
    with qtbot.waitSignal(table.visibility_changed, timeout=1000) as sig:
        item.setCheckState(Qt.CheckState.Unchecked)
    assert sig.args == [a.id, False]
    assert not plot.is_run_visible(a.id)
    assert not plot.curve_item(a.id, "loss", "smooth").isVisible()
    assert plot.curve_item(b.id, "loss", "smooth").isVisible()
    item.setCheckState(Qt.CheckState.Checked)
    assert plot.curve_item(a.id, "loss", "smooth").isVisible()


def test_table_renames_runs_and_refuses_duplicates(table_and_plot, qtbot):
    store, plot, table, (a, b) = table_and_plot
    name_item = table.item(table.row_of(a.id), 1)
    with qtbot.waitSignal(table.renamed, timeout=1000):
        name_item.setText("big lr")
    assert a.name == "big lr" and store.names()[0] == "big lr"
    with qtbot.waitSignal(table.message, timeout=1000) as msg:
        table.item(table.row_of(b.id), 1).setText("big lr")
    assert "already" in msg.args[0]
    assert b.name == "run 2" and table.cell_text(b.id, "run") == "run 2"
    plot.hover_at("loss", 10)
    assert "big lr" in plot.hover_text()


def test_table_status_shows_divergence_reason(table_and_plot):
    store, plot, table, (a, b) = table_and_plot
    b.status = "diverged"
    b.stop_reason = "training stopped: the loss became NaN at epoch 1, batch 3."
    table.refresh()
    item = table.item(table.row_of(b.id), table.column_of("status"))
    assert item.text() == "diverged (NaN)" and "became NaN" in item.toolTip()
