"""The worker-thread helper: work runs off the GUI thread, reports back, can be cancelled."""
import threading

import pytest

from gui.app import Worker, current_worker, stop_all_workers


def test_job_runs_off_the_gui_thread_and_returns_its_result(qtbot):
    gui_thread = threading.get_ident()
    worker = Worker(lambda a, b=0: (threading.get_ident(), a + b), 2, b=3)
    results = []
    worker.finished.connect(results.append)
    with qtbot.waitSignals([worker.finished, worker.done], order="strict"):
        worker.start()
    [(job_thread, total)] = results
    assert job_thread != gui_thread
    assert total == 5
    assert worker.outcome() == "finished" and not worker.is_running()


def test_signals_arrive_on_the_gui_thread(qtbot):
    gui_thread = threading.get_ident()
    seen = []
    worker = Worker(lambda: None)
    worker.finished.connect(lambda _: seen.append(threading.get_ident()))
    with qtbot.waitSignal(worker.done):
        worker.start()
    assert seen == [gui_thread]


def test_generator_job_yields_progress_in_order(qtbot):
    def count():
        for i in range(5):
            yield i
        return "counted"

    worker = Worker(count, progress_interval=0.0)
    progress = []
    worker.progress.connect(progress.append)
    with qtbot.waitSignal(worker.finished) as blocker:
        worker.start()
    assert progress == [0, 1, 2, 3, 4]
    assert blocker.args == ["counted"]


def test_coalesced_progress_always_delivers_the_last_value(qtbot):
    def busy():
        w = current_worker()
        for i in range(1000):
            w.report(i)

    worker = Worker(busy, progress_interval=3600.0)
    progress = []
    worker.progress.connect(progress.append)
    with qtbot.waitSignal(worker.done):
        worker.start()
    assert progress == [0, 999]        # the first at once, the latest when the job ends


def test_cancel_stops_a_long_job_and_stop_and_wait_returns(qtbot):
    results = []

    def long_job():
        w = current_worker()
        w.report("started", force=True)
        w.wait_for_cancel()
        return "cancelled" if w.is_cancelled() else "ran out"

    worker = Worker(long_job)
    worker.finished.connect(results.append)
    with qtbot.waitSignal(worker.progress):
        worker.start()
    assert worker.is_running()
    assert worker.stop_and_wait(5000)
    assert not worker.is_running()
    assert results == ["cancelled"]


def test_cancel_closes_a_generator_job(qtbot):
    closed = threading.Event()

    def endless():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    worker = Worker(endless, progress_interval=0.0)
    got = []

    def on_progress(value):
        got.append(value)
        worker.cancel()

    worker.progress.connect(on_progress)
    with qtbot.waitSignal(worker.done):
        worker.start()
    assert closed.is_set()
    assert worker.outcome() == "finished"
    assert got and got[0] == 0


def test_a_failing_job_reports_its_exception(qtbot):
    def broken():
        raise ValueError("learning rate must be positive")

    worker = Worker(broken)
    finished, failures = [], []
    worker.finished.connect(finished.append)
    worker.failed.connect(failures.append)
    with qtbot.waitSignals([worker.failed, worker.done], order="strict"):
        worker.start()
    [exc] = failures
    assert isinstance(exc, ValueError) and "learning rate" in str(exc)
    assert "ValueError" in worker.traceback_text()
    assert finished == [] and worker.outcome() == "failed"


def test_stop_all_workers_cancels_every_running_job(qtbot):
    started = threading.Barrier(3)

    def job():
        started.wait()
        current_worker().wait_for_cancel()

    workers = [Worker(job).start(), Worker(job).start()]
    started.wait()
    assert stop_all_workers(5000)
    assert not any(w.is_running() for w in workers)


def test_a_worker_runs_once_and_needs_a_callable():
    with pytest.raises(TypeError):
        Worker(42)
    w = Worker(lambda: None)
    assert w.stop_and_wait(100)        # never started: nothing to wait for
    assert current_worker() is None    # not inside a job
