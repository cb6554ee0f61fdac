"""Opening a CSV in the dashboard and the churn lesson (issue 13 item 10): the file is read
off the GUI thread with a progress bar and Cancel, a cancelled or broken file leaves the
data in use alone, and the problems are named by row and column."""
import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

import gui.lessons.churn as churn_mod
import gui.lessons.dashboard_csv as dash_mod  # where the dashboard reads CSV files
from gui import app as gui_app
from gui.lessons.churn import ChurnLesson
from gui.lessons.dashboard import DashboardLesson

TIMEOUT = 60_000


def csv_text(n, sep=","):
    rng = np.random.default_rng(0)
    age = rng.integers(18, 80, n)
    income = rng.integers(500, 9000, n)
    plan = rng.choice(["basic", "pro", "max"], n)
    churn = np.where(rng.random(n) < 0.3, "Yes", "No")
    rows = (sep.join(map(str, r)) for r in zip(range(n), age, income, plan, churn))
    header = sep.join(["customerID", "age", "income", "plan", "Churn"])
    return header + "\n" + "\n".join(rows) + "\n"


@pytest.fixture
def dashboard(qtbot):
    les = DashboardLesson()
    qtbot.addWidget(les)
    les.show()
    yield les
    les.shutdown()
    assert not [w for w in gui_app._ACTIVE if w.is_running()]


@pytest.fixture
def churn(qtbot):
    les = ChurnLesson()
    qtbot.addWidget(les)
    les.show()
    # the example table is made in a worker as the lesson opens
    qtbot.waitUntil(lambda: les.table_data is not None and not les.is_loading(),
                    timeout=30_000)
    yield les
    les.shutdown()
    assert not [w for w in gui_app._ACTIVE if w.is_running()]


def record_threads(monkeypatch, module, name):
    """Wrap module.name to note the thread each call runs on."""
    threads = []
    real = getattr(module, name)

    def wrapped(*args, **kwargs):
        threads.append(threading.get_ident())
        return real(*args, **kwargs)
    monkeypatch.setattr(module, name, wrapped)
    return threads


def open_with_dialog(monkeypatch, qtbot, button, path):
    lesson = button.window()
    if isinstance(lesson, DashboardLesson):     # Open CSV… shows with the CSV choice
        lesson.dataset_combo.setCurrentIndex(lesson.dataset_combo.findData("csv"))
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(path), "")))
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


# --- the dashboard --------------------------------------------------------------------------
def test_dashboard_reads_a_semicolon_csv_in_a_worker_with_progress(qtbot, dashboard, tmp_path,
                                                                    monkeypatch):
    path = tmp_path / "customers.csv"
    path.write_text(csv_text(60_000, sep=";"), encoding="utf-8")
    threads = record_threads(monkeypatch, dash_mod, "prepare_csv")
    fractions = []
    dashboard.csv_progress.bar.valueChanged.connect(fractions.append)
    open_with_dialog(monkeypatch, qtbot, dashboard.open_csv_button, path)
    assert dashboard.is_loading_csv() and dashboard.csv_progress.isVisible()
    assert not dashboard.start_button.isEnabled()      # nothing trains on half a file
    qtbot.waitUntil(lambda: not dashboard.is_loading_csv(), timeout=TIMEOUT)
    assert threads and threading.get_ident() not in threads     # read off the GUI thread
    assert any(0 < v < 1000 for v in fractions)                  # the bar moved
    assert not dashboard.csv_progress.isVisible()
    assert [dashboard.target_combo.itemText(i) for i in range(dashboard.target_combo.count())] \
        == ["customerID", "age", "income", "plan", "Churn"]
    assert dashboard.drop_edit.text() == "customerID"
    assert dashboard.data().x_train.shape[1] == 5      # age, income, plan one-hot (3)
    assert dashboard.start_button.isEnabled()


def test_dashboard_cancel_stops_reading_and_keeps_the_data_in_use(qtbot, dashboard, tmp_path,
                                                                  monkeypatch):
    path = tmp_path / "big.csv"
    path.write_text(csv_text(400_000), encoding="utf-8")
    open_with_dialog(monkeypatch, qtbot, dashboard.open_csv_button, path)
    qtbot.waitUntil(lambda: dashboard.csv_progress.bar.value() > 0, timeout=TIMEOUT)
    qtbot.mouseClick(dashboard.csv_progress.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dashboard.is_loading_csv(), timeout=TIMEOUT)
    assert "cancelled" in dashboard.message_label.text()
    assert dashboard._csv_path is None and dashboard.start_button.isEnabled()
    assert not any(k.startswith("csv:") for k in dashboard._data_cache)


def test_dashboard_names_row_and_column_of_a_huge_number(qtbot, dashboard, tmp_path,
                                                         monkeypatch):
    text = csv_text(50).splitlines()
    cells = text[6].split(",")
    cells[2] = "-1e308"
    text[6] = ",".join(cells)
    path = tmp_path / "huge.csv"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    open_with_dialog(monkeypatch, qtbot, dashboard.open_csv_button, path)
    qtbot.waitUntil(lambda: not dashboard.is_loading_csv(), timeout=TIMEOUT)
    msg = dashboard.message_label.text()
    assert "row 7" in msg and "column 'income'" in msg and "-1e308" in msg


# --- the churn lesson -------------------------------------------------------------------------
def test_churn_reads_in_a_worker_and_reports_an_unclosed_quote_on_its_row(qtbot, churn, tmp_path,
                                                                       monkeypatch):
    good = churn.table_data
    lines = csv_text(60).splitlines()
    lines[4] = '3,"33,2000,pro,No'               # row 5 opens a quote it never closes
    path = tmp_path / "quote.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    threads = record_threads(monkeypatch, churn_mod, "load_table")
    open_with_dialog(monkeypatch, qtbot, churn.open_button, path)
    qtbot.waitUntil(lambda: not churn.is_loading(), timeout=TIMEOUT)
    assert threads and threading.get_ident() not in threads
    msg = churn.message.text()
    assert "row 5" in msg and "never closed" in msg and "row 61:" not in msg
    assert churn.table_data is good                       # the data in use stays


def test_churn_names_huge_numbers_instead_of_making_nan_features(qtbot, churn, tmp_path,
                                                                 monkeypatch):
    lines = csv_text(60).splitlines()
    cells = lines[9].split(",")
    cells[2] = "1e308"
    lines[9] = ",".join(cells)
    path = tmp_path / "huge.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    open_with_dialog(monkeypatch, qtbot, churn.open_button, path)
    qtbot.waitUntil(lambda: not churn.is_loading(), timeout=TIMEOUT)
    msg = churn.message.text()
    assert "row 10" in msg and "column 'income'" in msg
    assert np.isfinite(churn.table_data.dataset.x).all()


def test_churn_cancel_and_a_big_files_target_change_run_in_the_worker(qtbot, churn, tmp_path,
                                                                      monkeypatch):
    good = churn.table_data
    path = tmp_path / "big.csv"
    path.write_text(csv_text(400_000), encoding="utf-8")
    churn.load_csv_in_background(path)
    assert not churn.train_button.isEnabled() and churn.load_progress.isVisible()
    qtbot.waitUntil(lambda: churn.load_progress.bar.value() > 0, timeout=TIMEOUT)
    qtbot.mouseClick(churn.load_progress.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not churn.is_loading(), timeout=TIMEOUT)
    assert "cancelled" in churn.message.text() and churn.table_data is good
    assert churn.train_button.isEnabled()
    # a file big enough to be felt: choosing another target encodes it in the worker too
    path.write_text(csv_text(20_000), encoding="utf-8")
    churn.load_csv_in_background(path)
    qtbot.waitUntil(lambda: not churn.is_loading(), timeout=TIMEOUT)
    assert churn.table_data.source == "big.csv"
    threads = record_threads(monkeypatch, churn_mod, "load_table")
    churn.target_combo.setCurrentText("plan")
    assert churn.is_loading()
    qtbot.waitUntil(lambda: not churn.is_loading(), timeout=TIMEOUT)
    assert threads and threading.get_ident() not in threads
    assert churn.table_data.target == "plan" and churn.table_data.dataset.num_classes == 3


def test_dashboard_reencodes_a_big_file_for_another_target_in_the_worker(qtbot, dashboard,
                                                                         tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    path.write_text(csv_text(20_000), encoding="utf-8")
    open_with_dialog(monkeypatch, qtbot, dashboard.open_csv_button, path)
    qtbot.waitUntil(lambda: not dashboard.is_loading_csv(), timeout=TIMEOUT)
    threads = record_threads(monkeypatch, dash_mod, "prepare_csv")
    dashboard.target_combo.setCurrentText("plan")
    assert dashboard.is_loading_csv() and not dashboard.target_combo.isEnabled()
    qtbot.waitUntil(lambda: not dashboard.is_loading_csv(), timeout=TIMEOUT)
    assert threads and threading.get_ident() not in threads
    assert dashboard.data().n_classes == 3 and dashboard.target_combo.isEnabled()
    assert "target 'plan' (3 classes)" in dashboard.data_label.text()
