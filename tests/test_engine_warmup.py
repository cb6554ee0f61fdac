"""The window compiles the engine in the background and says so in its status bar."""
from gui.main_window import MainWindow


def test_window_warms_up_engine_in_background_and_hides_progress_when_ready(qtbot):
    win = MainWindow(lessons=[], warm_up_engine=True)
    qtbot.addWidget(win)
    win.show()
    warm = win.engine_warmup
    assert warm is not None and warm.isVisible()
    order = []
    warm.drawing_pad_ready.connect(lambda: order.append("drawing pad"))
    warm.ready.connect(lambda ok: order.append("everything"))
    with qtbot.waitSignal(warm.ready, timeout=180_000) as ready:
        pass
    assert ready.args == [True]
    # the drawing pad's kernels come first, and the window says when they are there
    assert order == ["drawing pad", "everything"] and warm.pad_ready
    assert not warm.isVisible()
    assert warm.bar.value() == warm.bar.maximum()
    # the window itself stayed usable: the welcome page is shown
    assert win.stack.currentWidget() is win.welcome


def test_closing_mid_warmup_stops_the_worker(qtbot):
    win = MainWindow(lessons=[], warm_up_engine=True)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.engine_warmup.process is not None, timeout=5000)
    win.close()
    warm = win.engine_warmup
    assert warm.process.state() == warm.process.ProcessState.NotRunning
    assert warm.worker is None or not warm.worker.is_running()


def test_tests_and_tools_get_no_warmup_by_default(qtbot):
    win = MainWindow(lessons=[])
    qtbot.addWidget(win)
    assert win.engine_warmup is None
