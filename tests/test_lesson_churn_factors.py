"""Churn lesson, issue 15 item 5: the course's question (why do customers leave?) answered
by the churn rate per factor before the network, counted on the rows the panel reports;
"Compare all four" adds no duplicate run; the training message's row counts are the
comparison table's."""
import csv
import io

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from core.data import churn_csv_text  # noqa: E402
from core.teaching.churn_factors import churn_factors, factor_rates  # noqa: E402
from core.teaching.imbalance import load_table  # noqa: E402
from gui.lessons.churn import ChurnLesson  # noqa: E402

TIMEOUT = 90_000


@pytest.fixture
def lesson(qtbot):
    w = ChurnLesson()
    qtbot.addWidget(w)
    w.show()
    w.resize(1040, 760)
    qtbot.waitExposed(w)
    # the example table and its counts by factor are made in workers as the lesson opens
    qtbot.waitUntil(lambda: w.table_data is not None and not w.is_loading()
                    and not w.running_workers(), timeout=30_000)
    yield w
    w.shutdown()


def plain_rows(text, skip_lines=()):
    """The CSV's rows as dicts, the reader's dropped rows (by line number) left out."""
    lines = text.splitlines()
    header = next(csv.reader([lines[0]]))
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if number in skip_lines or not line.strip():
            continue
        rows.append(dict(zip(header, next(csv.reader([line])))))
    return rows


# --- core.teaching.churn_factors against plain counting ------------------------------------------
def test_rates_per_category_and_per_range_match_plain_counting():
    text = churn_csv_text(600, seed=3)
    table = load_table(text, "t.csv")
    rows = plain_rows(text, table.report.dropped_rows)
    assert len(rows) == len(table.dataset)
    left = np.array([r["Churn"] == "Yes" for r in rows])
    factors = {f.column: f for f in churn_factors(text, "Churn", "Yes",
                                                  table.report.dropped_rows, table.drop)}
    assert list(factors) == ["tenure", "Contract", "MonthlyCharges"]    # the course's three
    contract = np.array([r["Contract"] for r in rows])
    got = {b.label: (b.count, b.positive) for b in factors["Contract"].buckets}
    want = {c: (int((contract == c).sum()), int(left[contract == c].sum()))
            for c in np.unique(contract)}
    assert got == want
    for name in ("tenure", "MonthlyCharges"):
        v = np.array([float(r[name]) for r in rows])
        f = factors[name]
        assert f.numeric and f.total == len(rows)
        for k, b in enumerate(f.buckets):
            a, z = (float(e) for e in b.label.split("–"))
            last = k == len(f.buckets) - 1
            inside = (v >= a) & ((v <= z) if last else (v < z))
            assert (b.count, b.positive) == (int(inside.sum()), int(left[inside].sum()))
            assert b.rate == pytest.approx(left[inside].mean() if inside.any() else 0.0)
        assert f.overall == pytest.approx(left.mean())


def test_a_flag_column_is_shown_value_by_value_and_blanks_are_not_counted():
    f = factor_rates(["1", "0", "0", "", "1", "0"], ["Yes", "No", "Yes", "Yes", "Yes", "No"],
                     "Yes", "SeniorCitizen", target_name="Churn")
    assert [(b.label, b.count, b.positive) for b in f.buckets] == [("0", 3, 1), ("1", 2, 2)]
    assert f.positive_label == "Churn = Yes" and f.overall == pytest.approx(3 / 5)


def test_another_csv_shows_its_own_most_telling_columns(tmp_path):
    rng = np.random.default_rng(0)
    n = 400
    plan = rng.choice(["basic", "gold"], n)
    region = rng.choice(["north", "south", "east"], n)
    left = np.where(plan == "basic", rng.random(n) < 0.6, rng.random(n) < 0.1)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["id", "region", "plan", "cancelled"])
    for i in range(n):
        w.writerow([i, region[i], plan[i], "yes" if left[i] else "no"])
    factors = churn_factors(out.getvalue(), "cancelled", "yes", drop=("id",))
    assert factors[0].column == "plan"                    # the biggest difference first
    assert {f.column for f in factors} == {"plan", "region"}


# --- the lesson -------------------------------------------------------------------------------
def test_why_customers_leave_comes_before_the_network(lesson):
    tabs = lesson.tabs
    assert tabs.tabText(0).endswith("Why do they leave?")
    assert "Preprocessing" in tabs.tabText(1) and "Training" in tabs.tabText(2)
    assert tabs.currentIndex() == 0
    view = lesson.factors
    shown = [c for c in view.charts if c.isVisible()]
    assert [c.factor.column for c in shown] == ["tenure", "Contract", "MonthlyCharges"]
    n_rows = len(lesson.table_data.dataset)
    for chart in shown:
        f = chart.factor
        assert f.total == n_rows                        # the same customers as the panel's
        assert chart.heights() == pytest.approx([100 * b.rate for b in f.buckets])
    assert f"{n_rows} rows" in lesson.data_label.text()
    summary = view.summary.text()
    assert f"Of all {n_rows} customers" in summary and "Churn = Yes" in summary
    contract = {b.label: b for b in shown[1].factor.buckets}
    assert contract["Month-to-month"].rate > 2 * contract["Two year"].rate


def test_compare_all_four_adds_no_duplicate_runs(qtbot, lesson):
    lesson.epochs_spin.setValue(2)
    assert lesson.train()                                          # "none" first
    qtbot.waitUntil(lambda: not lesson.is_training(), timeout=TIMEOUT)
    with qtbot.waitSignal(lesson.training_finished, timeout=TIMEOUT):
        lesson.compare_button.click()
    table = lesson.compare_table
    names = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert sorted(names) == sorted(["none", "class weights", "oversampling", "undersampling"])
    # a second click: nothing new to train, the same four rows, and a sentence saying why
    lesson.compare_button.click()
    assert not lesson.is_training()
    assert table.rowCount() == 4
    assert "Already trained" in lesson.message.text()
    # other epochs are another experiment: those do train
    lesson.epochs_spin.setValue(3)
    with qtbot.waitSignal(lesson.training_finished, timeout=TIMEOUT):
        lesson.compare_button.click()
    assert table.rowCount() == 8


def test_training_message_counts_are_the_tables(qtbot, lesson):
    lesson.epochs_spin.setValue(1)
    with qtbot.waitSignal(lesson.training_finished, timeout=TIMEOUT):
        lesson.compare_button.click()
        said = lesson.message.text()
    table = lesson.compare_table
    for r in range(table.rowCount()):
        name = table.item(r, 0).text()
        counts = [int(part.split()[-1]) for part in table.item(r, 1).text().split(" / ")]
        assert f"{name} on {sum(counts)} rows" in said
    # the network named in the text is the one in the panel
    n_in = lesson.table_data.dataset.num_features
    assert lesson.network_label.text().startswith(f"{n_in} inputs → 26 ReLU → 15 ReLU")
    assert "26 → 15 ReLU" not in lesson.explanation.toPlainText()


def test_a_numeric_target_is_counted_as_the_file_writes_it(qtbot, lesson, tmp_path):
    """The reader names the class "1" when the file writes "1.0": the rates still count it."""
    rng = np.random.default_rng(1)
    lines = ["plan,months,left"]
    for i in range(300):
        plan = "basic" if i % 2 else "gold"
        left = rng.random() < (0.5 if plan == "basic" else 0.1)
        lines.append(f"{plan},{i % 40},{1.0 if left else 0.0}")
    path = tmp_path / "numbers.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert lesson.load_csv(path)
    shown = [c.factor for c in lesson.factors.charts if c.isVisible()]
    plan = next(f for f in shown if f.column == "plan")
    groups = {b.label: b for b in plan.buckets}
    left = np.array([line.endswith("1.0") for line in lines[1:]])
    basic = np.array([line.startswith("basic") for line in lines[1:]])
    assert groups["basic"].positive == int(left[basic].sum()) > 0
    assert groups["gold"].positive == int(left[~basic].sum())
    assert plan.positive_label == "left = 1"
