"""Application plumbing: the QApplication factory and the worker-thread helper.

Long work (training, downloads) never runs on the GUI thread: wrap it in a `Worker`, which
runs it in its own QThread and reports back through signals. The pattern follows Qt's
mandelbrot example (abort flag, `wait(timeout)` on exit) and superqt's generator workers
(each `yield` reports progress and is a point where cancelling takes effect).
"""
from __future__ import annotations

import atexit
import inspect
import os
import signal
import sys
import threading
import time
import traceback
from contextlib import contextmanager

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

APP_NAME = "Backprop Lab"
#: seconds a thread may hold the GIL while another waits for it (see create_application)
GUI_SWITCH_INTERVAL = 0.001
ORGANIZATION = "Backprop Lab"

_local = threading.local()
# Workers whose thread may still run: a Python reference keeps a QThread alive until it
# ends ("QThread: Destroyed while thread is still running" aborts the process otherwise).
_ACTIVE: set["Worker"] = set()
# While the window closes, every wait for a thread shares one budget (see shutdown_deadline)
# instead of each layer (lesson, session, worker) adding its own seconds.
_deadline: list[float] = []


@contextmanager
def shutdown_deadline(seconds: float):
    """Inside the block, `Worker.stop_and_wait` waits at most until `seconds` from now in
    total, whatever timeout its caller passed. Blocks may nest: the earliest end wins."""
    end = time.monotonic() + max(0.0, float(seconds))
    _deadline.append(min([end, *_deadline]))
    try:
        yield
    finally:
        _deadline.pop()


def time_left_ms(timeout_ms: int) -> int:
    """`timeout_ms`, cut to what is left of the current shutdown deadline."""
    timeout_ms = max(0, int(timeout_ms))
    if _deadline:
        timeout_ms = min(timeout_ms, max(0, int((_deadline[-1] - time.monotonic()) * 1000)))
    return timeout_ms


def running_workers() -> list["Worker"]:
    """Workers whose thread still runs."""
    return [w for w in list(_ACTIVE) if w.is_running()]


def current_worker() -> "Worker | None":
    """The Worker running the calling code, or None on any other thread.

    Lets a job report progress or check for cancellation without being handed its Worker
    (which avoids a race: the job may start before `start()`'s caller gets the Worker).
    """
    return getattr(_local, "worker", None)


class _JobThread(QThread):
    """The thread a Worker's job runs in: `run` is the job, and the thread ends with it.

    (An earlier form moved a runner object into a plain QThread and, at the end of the job,
    back to the GUI thread from the worker thread. One full CI run hung with a worker thread
    inside that `moveToThread` while the GUI thread waited: moving takes both threads'
    event-queue locks, which a thread holding the GIL can also be waiting for. Nothing
    is moved between threads now.)"""

    def __init__(self, worker: "Worker"):
        super().__init__()
        self._worker = worker

    def run(self) -> None:
        w = self._worker
        _local.worker = w
        try:
            result = w._fn(*w._args, **w._kwargs)
            if inspect.isgenerator(result):
                result = w._drain(result)
        except BaseException as exc:  # noqa: BLE001 - a job's failure is reported, never lost
            w._tb = traceback.format_exc()
            w._flush()
            w._outcome = "failed"
            w._sig_failed.emit(exc)
        else:
            w._flush()
            w._outcome = "finished"
            w._sig_finished.emit(result)
        finally:
            _local.worker = None


class Worker(QObject):
    """Run `fn(*args, **kwargs)` in its own QThread.

    Signals (delivered on the GUI thread):
      progress(object)  a value passed to `report()` or yielded by a generator job
      finished(object)  the job's return value (also after a cancel the job honoured)
      failed(object)    the exception the job raised (`traceback_text()` has the trace)
      done()            always last, after finished or failed: re-enable buttons here

    Usage::

        w = Worker(job, data)
        w.progress.connect(self.on_progress)
        w.finished.connect(self.on_result)
        w.start()
        ...
        w.stop_and_wait(2000)   # on shutdown

    Inside `job`, `current_worker().report(x)` sends progress and
    `current_worker().is_cancelled()` says whether to stop (set `model.stop_training`).
    A generator job simply yields progress; cancelling stops it at its next `yield`.
    `report()` is coalesced to at most one signal per `progress_interval` seconds (the
    latest value wins, the last one is always delivered) so a fast loop cannot flood the
    event loop; pass `force=True` for values that must all arrive.
    """

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
    done = Signal()
    # emitted from the worker thread; relayed so receivers always run on the GUI thread
    _sig_progress = Signal(object)
    _sig_finished = Signal(object)
    _sig_failed = Signal(object)

    def __init__(self, fn, *args, progress_interval: float = 0.03, **kwargs):
        super().__init__()
        if not callable(fn):
            raise TypeError(f"Worker needs a callable, got {type(fn).__name__}")
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._interval = max(0.0, float(progress_interval))
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._last_emit = float("-inf")   # the first report always goes out
        self._pending = None
        self._has_pending = False
        self._tb = ""
        self._outcome: str | None = None
        self._started = False
        self._thread = _JobThread(self)
        self._thread.setObjectName(f"Worker:{getattr(fn, '__name__', 'job')}")
        self._thread.finished.connect(self._on_thread_finished)
        self._sig_progress.connect(self.progress)
        self._sig_finished.connect(self.finished)
        self._sig_failed.connect(self.failed)

    # --- control (GUI thread) -----------------------------------------------------------
    def start(self) -> "Worker":
        if self._started:
            raise RuntimeError("a Worker runs once; create a new one")
        self._started = True
        _ACTIVE.add(self)
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Ask the job to stop; it honours this at its next check or yield."""
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def wait_for_cancel(self, timeout: float | None = None) -> bool:
        """Block the job until cancelled (or `timeout` s pass); True if cancelled.

        For jobs that pace themselves (an animation tick): waking on cancel makes
        shutdown immediate instead of waiting out a sleep.
        """
        return self._cancel.wait(timeout)

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def outcome(self) -> str | None:
        """None while running, then "finished" or "failed"."""
        return self._outcome

    def traceback_text(self) -> str:
        return self._tb

    def stop_and_wait(self, timeout_ms: int = 5000) -> bool:
        """Cancel and block until the thread ends (at most `timeout_ms`); True if it ended."""
        self.cancel()
        if not self._started:
            return True
        ok = self._thread.wait(time_left_ms(timeout_ms))
        if ok:
            # finished/done are queued to this thread: deliver them before returning
            QCoreApplication.sendPostedEvents(self)
            self._on_thread_finished()
        return ok

    # --- reporting (worker thread) ------------------------------------------------------
    def report(self, value, force: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            if force or now - self._last_emit >= self._interval:
                self._last_emit = now
                self._has_pending = False
                self._pending = None
                emit = True
            else:
                self._pending, self._has_pending = value, True
                emit = False
        if emit:
            self._sig_progress.emit(value)

    def _flush(self) -> None:
        with self._lock:
            has, value = self._has_pending, self._pending
            self._has_pending, self._pending = False, None
        if has:
            self._sig_progress.emit(value)

    def _drain(self, gen):
        while True:
            if self._cancel.is_set():
                gen.close()
                return None
            try:
                value = next(gen)
            except StopIteration as stop:
                return stop.value
            self.report(value)

    @Slot()
    def _on_thread_finished(self) -> None:
        if self in _ACTIVE:
            # QThread says "finished" just before its thread ends: wait that moment out
            # (~0.03 ms, bounded), so that after `done` nobody sees the worker still running
            # (a test asserting no thread was left once training finished failed on it)
            self._thread.wait(1000)
            _ACTIVE.discard(self)
            self.done.emit()


# --- the GUI gate ------------------------------------------------------------------------------
# Owned here because both sides of it live elsewhere: widgets that repaint (gui/widgets/) and
# training threads (gui/training_worker.py) meet at it without importing each other.
class GuiGate:
    """Lets the GUI thread say "I am drawing": training threads wait at their next batch end
    until it is done, so a repaint never queues for the GIL behind a Python training loop.

        with GUI_GATE.busy():      # GUI thread, around a repaint
            ...
        GUI_GATE.wait_idle()       # training thread, between batches (waits without the GIL)
    """

    def __init__(self):
        self._depth = 0
        self._idle = threading.Event()
        self._idle.set()

    @contextmanager
    def busy(self):
        self._depth += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._idle.set()

    def wait_idle(self, timeout: float = 0.25) -> None:
        if not self._idle.is_set():
            self._idle.wait(timeout)


GUI_GATE = GuiGate()


def stop_all_workers(timeout_ms: int = 5000) -> bool:
    """Cancel every running Worker, then wait for them all together (at most `timeout_ms`
    in total); True if all ended in time."""
    workers = list(_ACTIVE)
    for w in workers:
        w.cancel()
    with shutdown_deadline(timeout_ms / 1000):
        ok = True
        for w in workers:
            ok = w.stop_and_wait(timeout_ms) and ok
    return ok


def end_process(code: int = 0) -> None:
    """End the process now with `code`, after flushing what it printed.

    For threads still inside work that cannot be interrupted (a Numba compile runs in C
    for seconds and never looks at a cancel flag): letting the interpreter exit would make
    Qt destroy their running QThread, which aborts the process (SIGABRT, a core dump, a
    crash report). Everything worth keeping (settings, files) must be saved before.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    os._exit(code)


def exit_code_after_loop(code: int, window) -> int:
    """What `main` returns once the event loop has ended: `code`; or, when `window` shut
    down with threads still running, the process ends here with it (see `end_process`)."""
    if window.threads_left_running():
        end_process(code)
    return code


def _stop_workers_at_exit() -> None:
    # a script or tool that exits with the window still open must not destroy running
    # QThreads (Qt aborts the process): stop them first, and if they cannot stop, say so
    # and end the process rather than abort it
    if stop_all_workers(2000):
        return
    names = ", ".join(sorted(w._thread.objectName() for w in running_workers()))
    print(f"Backprop Lab: background work ({names}) was still running at exit; the process "
          "was ended without waiting for it.", file=sys.stderr)
    end_process(1)


_interrupt_timer = []


def quit_on_interrupt(window) -> None:
    """Ctrl+C in the terminal that launched the app calls `window.interrupt()`.

    Python runs its SIGINT handler only between bytecodes, never while Qt's event loop
    waits in C; a timer that runs a little Python every 200 ms lets it in.
    """
    from PySide6.QtCore import QTimer

    def on_interrupt(signum, frame):
        QTimer.singleShot(0, window.interrupt)

    try:
        signal.signal(signal.SIGINT, on_interrupt)
    except ValueError:   # not the main thread: no signal handling here
        return
    timer = QTimer(window)
    timer.setObjectName("interruptWakeup")
    timer.timeout.connect(lambda: None)
    timer.start(200)
    _interrupt_timer[:] = [timer]


def report_unexpected_errors(window) -> None:
    """An error nothing expected (a bug, raised in the handler of a click) is printed as
    before and also said in the window's status bar: the learner learns that the last action
    did not finish, instead of seeing nothing happen."""
    previous = sys.excepthook

    def hook(kind, value, tb):
        previous(kind, value, tb)
        if issubclass(kind, KeyboardInterrupt) or threading.current_thread() is not \
                threading.main_thread():   # widgets belong to the GUI thread
            return
        try:
            window.statusBar().showMessage(
                f"Something went wrong: {kind.__name__}: {value}. The last action may not "
                "have finished; the details are printed in the terminal.")
        except RuntimeError:   # the window is already gone
            pass

    sys.excepthook = hook


def create_application(argv=None):
    """The QApplication with our names (QSettings keys) and HiDPI settings, style applied."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        # fractional scale factors (125 %, 150 %) kept exact instead of rounded: crisp text
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(list(sys.argv if argv is None else argv))
    set_application_names(app)
    # A worker thread running Python (a lesson loading its data, scoring a detector) keeps
    # the GIL for up to the switch interval each time the GUI thread asks for it back, and
    # Qt's calls release and re-take it many times per paint: at CPython's default 5 ms a
    # lesson opening beside its loading worker painted 70-150 ms late. At 1 ms the workers
    # lose ~1 % (measured with training sessions, which always used it: TRAINING_SWITCH_
    # INTERVAL); with no worker running nothing changes at all.
    sys.setswitchinterval(min(GUI_SWITCH_INTERVAL, sys.getswitchinterval()))
    atexit.unregister(_stop_workers_at_exit)   # once, however often this is called
    atexit.register(_stop_workers_at_exit)
    from gui.style import apply_style

    apply_style(app)
    return app


def set_application_names(app=None) -> None:
    app = app or QCoreApplication.instance()
    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setOrganizationName(ORGANIZATION)
    if app is not None and hasattr(app, "setApplicationDisplayName"):
        app.setApplicationDisplayName(APP_NAME)
