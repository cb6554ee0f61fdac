"""The runs table (dashboard, batch vs SGD): nothing cut off, fixed decimals per column,
accuracies as percentages (issue 15 item 10; its last column was 26 px wide)."""
from __future__ import annotations

from PySide6.QtGui import QFontMetrics

from core.teaching.runs import RunStore
from gui.widgets.run_table import RunTable


def _run(store, lr, acc, loss):
    run = store.new_run({"dataset": "MNIST digits", "network": "128 relu", "optimizer": "SGD",
                         "learning_rate": lr, "batch_size": 32, "epochs": 10,
                         "train_samples": 4000}, name=f"lr {lr}")
    run.add_batch({"step": 125, "time": 1.23456})
    run.add_epoch({"step": 125, "time": 1.23456, "loss": loss, "val_loss": loss * 1.1,
                   "accuracy": acc, "val_accuracy": acc - 0.01})
    return run


def test_every_column_shows_its_whole_text_in_a_narrow_table(qtbot):
    store = RunStore()
    table = RunTable(store)
    qtbot.addWidget(table)
    table.resize(560, 200)                # the dashboard's table at 1280×800 is about this
    table.show()
    runs = [_run(store, 0.1, 0.912345, 0.3), _run(store, 3.0, 0.0999, 2.302585),
            _run(store, 0.01, 0.99995, 0.00012)]
    for run in runs:
        table.add_run(run)
    table.update_runs([r.id for r in runs])
    table._flush()
    qtbot.wait(10)
    for col in range(table.columnCount()):
        header = table.horizontalHeaderItem(col).text()
        fm = QFontMetrics(table.horizontalHeader().font())
        assert table.columnWidth(col) >= fm.horizontalAdvance(header), header
        for row in range(table.rowCount()):
            item = table.item(row, col)
            if item is None or not item.text():
                continue
            need = QFontMetrics(item.font()).horizontalAdvance(item.text())
            assert table.columnWidth(col) >= need, (header, item.text(), table.columnWidth(col))
    # the last column is wide enough for "val accuracy", and the table scrolls to it
    assert table.columnWidth(table.columnCount() - 1) > 60
    assert table.horizontalScrollBar().maximum() > 0


def test_results_have_fixed_decimals_and_accuracies_are_percentages(qtbot):
    store = RunStore()
    table = RunTable(store)
    qtbot.addWidget(table)
    a, b = _run(store, 0.1, 0.912345, 0.3), _run(store, 0.01, 0.99995, 2.302585)
    for run in (a, b):
        table.add_run(run)
    table.update_runs([a.id, b.id])
    table._flush()
    assert table.cell_text(a.id, "accuracy") == "91.23 %"
    assert table.cell_text(b.id, "accuracy") == "above 99.99 %"     # not 100 %
    assert table.cell_text(a.id, "val_accuracy") == "90.23 %"
    assert table.cell_text(a.id, "loss") == "0.3000"
    assert table.cell_text(b.id, "loss") == "2.3026"
    assert table.cell_text(a.id, "time") == "1.23"


def test_a_time_too_short_to_show_says_so(qtbot):
    store = RunStore()
    table = RunTable(store)
    qtbot.addWidget(table)
    run = _run(store, 0.1, 0.5, 0.3)
    run.add_batch({"step": 126, "time": 0.004})
    table.add_run(run)
    table.update_runs([run.id])
    table._flush()
    assert table.cell_text(run.id, "time") == "below 0.01"
