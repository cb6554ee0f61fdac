"""Opening a lesson never freezes the window: data is read off the GUI thread and arrives
later, and the navigator shows every lesson's whole name at the default window size."""
import functools
import threading
import time

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication

import core.data.offline as offline
import lesson_fit
from gui.main_window import MainWindow

TIMEOUT = 30_000
# generous: the issue asks for 200 ms; these lessons took 1.3-7 s, reading 5,000 digits
OPEN_BOUND_S = 1.5
#: the GUI thread's processor time to open any lesson (click, build, activate, first paint).
#: Processor time, not wall time, so a loaded machine does not fail it; 3× the issue's
#: 200 ms, so only a real regression does (the freezes the issue found were 1.3-3.8 s; on
#: an idle core today's lessons take 0.05-0.3 s)
OPEN_CPU_BOUND_S = 0.6


@pytest.fixture
def slow_digits(monkeypatch):
    """The offline digits held back until released, as on a slow first read; records on
    which thread they were asked for."""
    gate = threading.Event()
    threads = []
    real = offline._raw_digits

    def held_back():
        threads.append(threading.current_thread() is threading.main_thread())
        gate.wait(20)
        return real()

    monkeypatch.setattr(offline, "_raw_digits", held_back)
    offline._scaled_digits.cache_clear()   # scaled by an earlier test: read them again
    yield gate, threads
    gate.set()
    offline._scaled_digits.cache_clear()   # nothing scaled from the held-back reader stays


@pytest.fixture
def window(qtbot, slow_digits):
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    yield win
    slow_digits[0].set()
    win.close()


def _open(qtbot, win, title):
    t0 = time.perf_counter()
    assert win.select_lesson(title)
    qtbot.wait(1)  # the first events after the switch (paint, activate's follow-ups)
    return win.current_lesson(), time.perf_counter() - t0


def test_batch_vs_sgd_opens_at_once_and_describes_its_data_when_it_arrives(
        window, qtbot, slow_digits):
    gate, threads = slow_digits
    les, seconds = _open(qtbot, window, "Batch vs stochastic vs mini-batch")
    assert seconds < OPEN_BOUND_S
    assert "Loading" in les.network_label.text()
    assert les.lr_combo.isEnabled() and les.start_button.isEnabled()  # usable meanwhile
    les.epochs_spin.setValue(1)
    qtbot.mouseClick(les.start_button, Qt.MouseButton.LeftButton)  # pressed before the data
    assert not les.start_button.isEnabled() and les.stop_button.isEnabled()
    gate.set()
    qtbot.waitUntil(lambda: "N = 800" in les.network_label.text(), timeout=TIMEOUT)
    assert threads and not any(threads)  # read in a worker, never on the GUI thread
    assert set(les.runs) == {"batch", "sgd", "mini"}  # the press was kept: training began


def test_augmentation_opens_at_once_and_previews_the_digits_when_they_arrive(
        window, qtbot, slow_digits):
    gate, threads = slow_digits
    les, seconds = _open(qtbot, window, "Data augmentation")
    assert seconds < OPEN_BOUND_S
    assert "Loading" in les.image_label.text()
    assert les.grid.count() == 0
    gate.set()
    qtbot.waitUntil(lambda: les.grid.count() > 0, timeout=TIMEOUT)
    assert les.digits is not None and "digit #" in les.image_label.text()
    assert threads and not any(threads)


def test_precision_recall_opens_at_once_and_trains_when_its_data_arrives(
        window, qtbot, slow_digits):
    gate, threads = slow_digits
    les, seconds = _open(qtbot, window, "Precision, recall, F1")
    assert seconds < OPEN_BOUND_S
    assert "Loading" in les.message.text()
    assert les.task_combo.isEnabled()
    gate.set()
    qtbot.waitUntil(lambda: "Training" in les.message.text(), timeout=TIMEOUT)
    assert threads and not any(threads)


def test_the_window_reads_the_digits_ahead_so_lessons_open_without_parsing_them(
        qtbot, monkeypatch):
    """Dropout (and the CNN, the convolution explorer, the drawing pad) read the offline
    digits as they open: a fresh process's first read (~0.1-0.5 s) froze that opening. The
    window reads them in a worker as it opens; the lesson then finds them ready."""
    real = offline._raw_digits
    parsed_on_gui_thread = []

    @functools.lru_cache(maxsize=1)
    def first_read_of_a_fresh_process():
        parsed_on_gui_thread.append(threading.current_thread() is threading.main_thread())
        return real()

    monkeypatch.setattr(offline, "_raw_digits", first_read_of_a_fresh_process)
    offline._scaled_digits.cache_clear()   # as in a fresh process
    monkeypatch.setattr(offline, "_scaled_digits",
                        functools.lru_cache(maxsize=2)(offline._scaled_digits.__wrapped__))
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    # parsed, and scaled into the order load_offline_digits() gives by default
    qtbot.waitUntil(lambda: offline._scaled_digits.cache_info().currsize == 1,
                    timeout=TIMEOUT)
    assert win.select_lesson("Dropout")
    assert win.current_lesson().models  # built from the digits read ahead
    assert parsed_on_gui_thread == [False]
    win.close()


def _open_cpu_seconds(qtbot, win, cls) -> float:
    """The GUI thread's processor time from the click on `cls`'s row to its first paint
    done and what it queued to run at once."""
    start = time.thread_time()
    assert win.select_lesson(cls)
    win.current_lesson().repaint()
    QApplication.processEvents()
    return time.thread_time() - start


def _busy_workers(lesson):
    """The lesson's running workers, less Draw a digit's reading loop: it runs for as long
    as the lesson is open, waiting for drawings (waiting for it to end took 30 s)."""
    loop = getattr(lesson, "_recognizer", None)
    return [w for w in lesson.running_workers() if w is not loop]


#: the lessons are checked in this many groups, each a test of its own, so that a test
#: session's workers share them (one test of every lesson took ~46 s on one worker)
GROUPS = 3


@pytest.mark.parametrize("group", range(GROUPS))
def test_every_lesson_fits_the_window_and_opens_within_the_bound_of_gui_thread_time(
        qtbot, group):
    """Each registered lesson, opened from the navigator, costs the GUI thread at most
    OPEN_CPU_BOUND_S. A first window opens the group's lessons once, so that what is done
    once per process (Numba loading or compiling the kernels, which the app's warm-up does
    in the background; modules imported; the digits read) is not counted against a lesson;
    as it does, each lesson must fit that 1280x800 window (lesson_fit), as
    test_presentation_fits asks in presentation mode."""
    first = MainWindow()
    qtbot.addWidget(first)
    first.resize(*lesson_fit.SIZE)
    first.show()
    qtbot.waitExposed(first)
    lessons = first.lesson_classes()[group::GROUPS]
    assert lessons
    misfits = {}
    for cls in lessons:
        _open_cpu_seconds(qtbot, first, cls)
        # what the lesson's own workers hand back (hidden layers' first trace of its
        # networks) loads kernels once too; a result arriving later would be counted
        # against whichever lesson the second window is opening then
        deadline = time.monotonic() + 30
        while _busy_workers(first.current_lesson()) and time.monotonic() < deadline:
            qtbot.wait(20)
        qtbot.wait(60)
        # meanwhile: normal text, the lesson list beside the lesson, nothing clipped and no
        # lesson widening the window (the sliding window's controls once pushed it to
        # 1486 px, and every later lesson with it)
        found = lesson_fit.misfit(first, first.current_lesson())
        if found:
            misfits[cls.title] = found
    first.close()
    assert misfits == {}, ("these lessons do not fit 1280x800 with the lesson list shown, "
                           f"or show an empty progress bar: {misfits}")
    # the least of two openings in two new windows: a lesson that is slow to open is slow
    # both times, while a one-off (on a cold CI run, kernels another lesson's worker asked
    # for being loaded just then: 0.8 s landed once on Hidden layers, once on the dashboard)
    # is not the lesson's. The least of two is over the bound only if the first is, so the
    # second window opens only those
    seconds = {}
    for _ in range(2):
        again = [cls for cls in lessons if seconds.get(cls.title, OPEN_CPU_BOUND_S + 1)
                 > OPEN_CPU_BOUND_S]
        if not again:
            break
        win = MainWindow()
        qtbot.addWidget(win)
        win.resize(1280, 800)
        win.show()
        qtbot.waitExposed(win)
        for cls in again:
            took = _open_cpu_seconds(qtbot, win, cls)
            seconds[cls.title] = min(took, seconds.get(cls.title, took))
        win.close()
    slow = {title: round(s, 2) for title, s in seconds.items() if s > OPEN_CPU_BOUND_S}
    assert not slow, f"these lessons keep the window busy as they open (s): {slow}"


def test_dropout_builds_its_fitting_picture_when_the_learner_first_looks_at_it(qtbot):
    """The under- and overfitting tab (three plots, ~0.1 s) waits for its first showing
    instead of slowing every opening of the lesson; shown, it is whole and usable."""
    import pyqtgraph as pg

    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    assert win.select_lesson("Dropout")
    les = win.current_lesson()
    qtbot.wait(1)
    tabs = les.left_tabs
    fits_page = tabs.widget(1)
    assert tabs.currentIndex() == 0 and not fits_page.findChildren(pg.PlotWidget)
    tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: len(fits_page.findChildren(pg.PlotWidget)) == 3, timeout=TIMEOUT)
    assert les.fits.fit_button.isVisible() and les.fits.fit_button.isEnabled()
    win.close()


def test_churn_makes_its_example_table_off_the_gui_thread(qtbot, monkeypatch):
    """Making, encoding and counting 2,000 example customers (~0.3 s) happened as Customer
    churn opened; it is a worker's job now, with the controls waiting for it."""
    import gui.lessons.churn as churn

    made_on_gui_thread = []
    real = churn.churn_csv_text

    def recorded(*args, **kwargs):
        made_on_gui_thread.append(threading.current_thread() is threading.main_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(churn, "churn_csv_text", recorded)
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    assert win.select_lesson("Customer churn")
    les = win.current_lesson()
    assert les.table_data is None and not les.train_button.isEnabled()
    qtbot.waitUntil(lambda: les.table_data is not None and les.train_button.isEnabled(),
                    timeout=TIMEOUT)
    qtbot.waitUntil(lambda: "Why do customers leave?" in les.factors.summary.text(),
                    timeout=TIMEOUT)  # step 1's counts, also made in a worker
    assert made_on_gui_thread == [False]
    assert "2000 rows" in les.source_label.text()
    win.close()


def _names_fit(nav):
    """Every item's whole text (lesson names and the bold tutorial headings) shows in its
    row: on one line inside the style's padding (10 px a side and a 3 px marker), or wrapped
    at spaces with room for every line (the row keeps its 7 px above and below)."""
    for row in range(nav.count()):
        item = nav.item(row)
        fm = QFontMetrics(item.font())
        rect = nav.visualItemRect(item)
        width = min(rect.width(), nav.viewport().width()) - 23
        if fm.horizontalAdvance(item.text()) <= width:
            continue
        assert nav.wordWrap(), f"{item.text()!r} is cut off"
        needed = fm.boundingRect(QRect(0, 0, width, 10_000), Qt.TextFlag.TextWordWrap,
                                 item.text())
        assert needed.height() <= rect.height() - 14, f"{item.text()!r} loses a line"
        assert max(fm.horizontalAdvance(w) for w in item.text().split()) <= width


def test_the_navigator_shows_whole_lesson_names_at_the_default_size(qtbot):
    win = MainWindow()  # default splitter, as on a first launch
    qtbot.addWidget(win)
    win.resize(1200, 736)  # the default size on a 1280 x 800 screen (_default_size)
    win.show()
    qtbot.waitExposed(win)
    _names_fit(win.navigator)
    # a wide lesson squeezes the list at 1280 x 800: the names still show whole
    win.resize(1280, 800)
    assert win.select_lesson("Data augmentation")
    qtbot.waitUntil(lambda: win.current_lesson().digits is not None, timeout=TIMEOUT)
    qtbot.wait(50)
    _names_fit(win.navigator)
    win.close()


def test_names_stay_whole_when_a_wide_lesson_squeezes_the_navigator(qtbot):
    """A lesson wider than its share of 1280 px pushes the list down to its minimum width:
    the rows then grow to the extra lines their names wrap onto (fixed at the default
    width, "T14 · Batch, stochastic and mini-batch gradient descent" lost its last line)."""
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    nav = win.navigator
    win.splitter.setSizes([nav.minimumWidth(), 1280 - nav.minimumWidth()])
    qtbot.waitUntil(lambda: nav.width() == nav.minimumWidth(), timeout=TIMEOUT)
    qtbot.wait(20)
    assert any(nav.item(r).font().bold() for r in range(nav.count()))  # headings checked too
    _names_fit(nav)
    squeezed = [nav.visualItemRect(nav.item(r)).height() for r in range(nav.count())]
    win.splitter.setSizes([320, 960])  # widened again: still whole (and no taller than needed)
    qtbot.waitUntil(lambda: nav.width() >= 300, timeout=TIMEOUT)
    qtbot.wait(20)
    _names_fit(nav)
    wide = [nav.visualItemRect(nav.item(r)).height() for r in range(nav.count())]
    assert all(w <= s for w, s in zip(wide, squeezed)) and sum(wide) < sum(squeezed)
    win.close()


def test_dashboard_prepares_its_first_dataset_off_the_gui_thread(qtbot, monkeypatch):
    """Converting, shuffling and splitting the 5,000 digits (~0.1-0.25 s) happened as the
    Training dashboard opened; a worker does it now, and the description follows it."""
    import core.teaching.tasks as tasks

    prepared_on_gui_thread = []
    real = tasks.prepare_builtin

    def recorded(key):
        prepared_on_gui_thread.append(threading.current_thread() is threading.main_thread())
        return real(key)

    monkeypatch.setattr(tasks, "prepare_builtin", recorded)
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    assert win.select_lesson("Training dashboard")
    les = win.current_lesson()
    assert "Preparing" in les.data_label.text()
    qtbot.waitUntil(lambda: "4,000 to train" in les.data_label.text(), timeout=TIMEOUT)
    assert prepared_on_gui_thread == [False]
    assert les.start_training()        # the prepared digits train, without preparing again
    assert prepared_on_gui_thread == [False]
    les.stop_training()
    win.close()
