"""Churn lesson: the synthetic set loads and its preprocessing is shown, training produces a
classification report, class weights raise the minority's recall, a malformed CSV names its
row and column, and leaving mid-training stops cleanly. Plus core.teaching.imbalance's helpers."""
import numpy as np
import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import Qt  # noqa: E402
from sklearn import metrics as skm  # noqa: E402

from core.data import churn_csv_text, class_weights  # noqa: E402
from core.teaching.imbalance import (balance, guess_id_columns, guess_target, load_table,  # noqa: E402
                                     minority_class, minority_scores, raw_preview)
from gui.lessons.churn import ChurnLesson  # noqa: E402
from gui.widgets.balancing_compare import COMPARE_COLUMNS  # noqa: E402

TIMEOUT = 90_000


@pytest.fixture
def lesson(qtbot):
    w = ChurnLesson()
    qtbot.addWidget(w)
    w.show()
    w.resize(1040, 700)
    qtbot.waitExposed(w)
    # the example table and its counts by factor are made in workers as the lesson opens
    qtbot.waitUntil(lambda: w.table_data is not None and not w.is_loading()
                    and not w.running_workers(), timeout=30_000)
    yield w
    w.shutdown()


# --- core.teaching.imbalance ----------------------------------------------------------------------
def test_preview_rows_line_up_with_the_encoded_rows():
    text = churn_csv_text(300, seed=2)
    table = load_table(text, "t.csv")
    assert table.target == "Churn" and table.drop == ("customerID",)
    header, rows = raw_preview(table, 300)
    assert len(rows) == len(table.dataset)               # the dropped rows are skipped too
    ds = table.dataset
    j = header.index("tenure")
    k = ds.feature_names.index("tenure")
    tenure = np.array([float(r[j]) for r in rows])
    lo, hi = tenure.min(), tenure.max()
    np.testing.assert_allclose(ds.x[:, k], (tenure - lo) / (hi - lo), atol=1e-6)
    churn = np.array([r[header.index("Churn")] == "Yes" for r in rows])
    np.testing.assert_array_equal(ds.y, churn.astype(int))
    assert guess_id_columns(["customerID", "id", "user_id", "Paid"]) == ["customerID", "id",
                                                                         "user_id"]
    assert guess_target(["a", "churn", "b"]) == "churn" and guess_target(["a", "b"]) == "b"


def test_balancing_and_minority_scores():
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.25).astype(np.int64)
    x = rng.normal(size=(400, 3)).astype(np.float32)
    assert minority_class(y) == 1
    xs, ys, cw = balance(x, y, "class_weights")
    assert xs is x and cw == class_weights(y)
    n1 = int(y.sum())
    assert cw[1] == pytest.approx(400 / (2 * n1))
    for method, size in (("oversample", 400 - n1), ("undersample", n1)):
        xs, ys, cw = balance(x, y, method)
        assert cw is None and np.bincount(ys).tolist() == [size, size]
        # every resampled row is one of the originals with its own label
        rows = {tuple(r): int(t) for r, t in zip(x, y)}
        assert all(rows[tuple(r)] == t for r, t in zip(xs, ys))
    with pytest.raises(ValueError):
        balance(x, y, "smote")
    pred = np.where(rng.random(400) < 0.7, y, 1 - y)
    s = minority_scores(y, pred, 1, 2)
    assert s["recall"] == pytest.approx(skm.recall_score(y, pred))
    assert s["precision"] == pytest.approx(skm.precision_score(y, pred))
    assert s["f1"] == pytest.approx(skm.f1_score(y, pred))
    assert s["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))


# --- the lesson ---------------------------------------------------------------------------
def test_default_data_and_preprocessing_are_shown(lesson):
    t = lesson.table_data
    assert t.synthetic and t.target == "Churn"
    assert "SYNTHETIC" in lesson.source_label.text()
    lines = [lesson.report_list.item(i).text() for i in range(lesson.report_list.count())]
    assert lines == t.report.lines
    assert any("one-hot" in line for line in lines) and any("min-max" in line for line in lines)
    hdr = [lesson.before_table.horizontalHeaderItem(c).text()
           for c in range(lesson.before_table.columnCount())]
    assert hdr[0] == "customerID" and "Contract" in hdr
    after = [lesson.after_table.horizontalHeaderItem(c).text()
             for c in range(lesson.after_table.columnCount())]
    assert after[:-1] == list(t.dataset.feature_names)
    assert any(name.startswith("Contract=") for name in after)
    # the first encoded row, as shown, is the dataset's first row
    shown = [float(lesson.after_table.item(0, c).text()) for c in range(len(after) - 1)]
    np.testing.assert_allclose(shown, t.dataset.x[0], rtol=1e-3, atol=1e-4)
    col = after.index("tenure")
    assert " − " in lesson.after_table.item(0, col).toolTip()    # the scaling, with numbers
    assert "Yes" in lesson.minority_label.text()


def test_training_gives_a_classification_report_matching_sklearn(qtbot, lesson):
    lesson.epochs_spin.setValue(4)
    with qtbot.waitSignal(lesson.run_judged, timeout=TIMEOUT) as sig:
        qtbot.mouseClick(lesson.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not lesson.running_workers(), timeout=TIMEOUT)
    run = sig.args[0]
    res = lesson.results[run.id]
    yv = lesson.split[3]
    text = lesson.report_view.toPlainText()
    assert text == res["report"]
    assert "precision" in text and "No" in text and "Yes" in text and "weighted avg" in text
    prec = skm.precision_score(yv, res["y_pred"], average=None, zero_division=0)
    for name, k in (("No", 0), ("Yes", 1)):
        line = next(l for l in text.splitlines() if l.split() and l.split()[0] == name)
        assert float(line.split()[1]) == pytest.approx(prec[k], abs=6e-5)
    assert lesson.compare_table.rowCount() == 1
    assert lesson.compare_value(run.id, "recall") == pytest.approx(
        skm.recall_score(yv, res["y_pred"]))
    assert lesson.plot.curve_item(run.id, "loss", "train").getData()[1].size == 4


def test_class_weights_raise_minority_recall(qtbot, lesson):
    lesson.epochs_spin.setValue(10)
    with qtbot.waitSignal(lesson.training_finished, timeout=TIMEOUT):
        qtbot.mouseClick(lesson.compare_button, Qt.MouseButton.LeftButton)
    assert lesson.compare_table.rowCount() == 4
    by_method = {res["method"]: rid for rid, res in lesson.results.items()}
    recall = {m: lesson.compare_value(rid, "recall") for m, rid in by_method.items()}
    assert recall["class_weights"] > recall["none"] + 0.05
    assert recall["oversample"] > recall["none"] and recall["undersample"] > recall["none"]
    # the bar chart shows the same numbers, in table order
    order = [lesson.compare_table.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in range(4)]
    rec_bars, prec_bars = lesson.bar_heights()
    assert rec_bars == pytest.approx([lesson.compare_value(r, "recall") for r in order])
    assert prec_bars == pytest.approx([lesson.compare_value(r, "precision") for r in order])
    rows = [lesson.compare_table.item(r, COMPARE_COLUMNS.index("training rows")).text()
            for r in range(4)]
    assert rows[0] != rows[2] != rows[3]            # resampling changed the training counts
    # selecting a run shows its report
    lesson.compare_table.selectRow(1)
    assert lesson.report_view.toPlainText() == lesson.results[
        lesson.compare_table.item(1, 0).data(Qt.ItemDataRole.UserRole)]["report"]


def test_malformed_csv_names_row_and_column_and_nothing_breaks(qtbot, lesson, tmp_path):
    good = lesson.table_data
    bad = tmp_path / "bad.csv"
    bad.write_text("id,tenure,Plan,Churn\n1,5,A,Yes\n2,7,B,No\n3,x7,A,No\n4,2,B,Yes\n",
                   encoding="utf-8")
    assert not lesson.load_csv(bad)
    msg = lesson.message.text()
    assert "row 4" in msg and "tenure" in msg and "x7" in msg
    assert lesson.table_data is good                     # the previous data stays in use
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b,Churn\n1,2,Yes\n3,No\n", encoding="utf-8")
    assert not lesson.load_csv(ragged)
    assert "row 3" in lesson.message.text()
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00bad")
    assert not lesson.load_csv(binary)
    assert "UTF-8" in lesson.message.text()
    # a good CSV of its own: another target column can be chosen
    ok = tmp_path / "ok.csv"
    ok.write_text(churn_csv_text(200, seed=1), encoding="utf-8")
    assert lesson.load_csv(ok)
    assert lesson.table_data.source == "ok.csv"
    lesson.target_combo.setCurrentText("Contract")
    assert lesson.table_data.target == "Contract"
    assert lesson.table_data.dataset.num_classes == 3
    assert "3 softmax" in lesson.network_label.text()
    lesson.epochs_spin.setValue(2)
    with qtbot.waitSignal(lesson.run_judged, timeout=TIMEOUT):
        lesson.train()
    assert "Two year" in lesson.report_view.toPlainText()


def test_leaving_mid_training_stops_cleanly(qtbot, lesson):
    lesson.epochs_spin.setValue(400)
    assert lesson.compare_all()
    assert not lesson.train_button.isEnabled()
    qtbot.waitUntil(lambda: lesson.progress.value() > 0, timeout=TIMEOUT)
    lesson.deactivate()
    assert not lesson.running_workers() and not lesson.is_training()
    assert lesson.train_button.isEnabled()
    statuses = {res["run"].status for res in lesson.results.values()}
    assert statuses == {"stopped"}                   # judged as they were, and said so
    assert lesson.compare_table.rowCount() == 4
    assert lesson.train()                            # closing the window mid-training
    lesson.shutdown()
    assert not lesson.running_workers()
