"""The real app, launched as a learner launches it (`main.main()` in its own process): closing
the window mid-work ends the process with exit code 0 within 3 s whatever runs, without Qt
aborting over a running thread; Ctrl+C in the launching terminal quits it (issue 13, item 1).

Each test starts a process with a small driver that schedules what a learner would do, and
prints "closing" just before it closes the window (or "shown" before the test sends Ctrl+C);
the 3 s are measured from there to the process's end.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and timing")

ROOT = Path(__file__).resolve().parents[1]
#: the issue's bound: closing ends the process within 3 s
EXIT_BOUND_S = 3.0
START_TIMEOUT_S = 120

DRIVER = """
import sys, time
sys.path.insert(0, {root!r})
from PySide6.QtCore import QTimer
from gui.app import create_application
app = create_application([])
from gui.main_window import MainWindow

def window():
    return next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))

def say(word):
    print(word, flush=True)

{script}

QTimer.singleShot(300, lambda: drive(window()))
import main
sys.exit(main.main([]))
"""


def _launch(script: str, tmp_path, **env):
    environ = dict(os.environ, QT_QPA_PLATFORM="offscreen",
                   XDG_CONFIG_HOME=str(tmp_path / "config"),   # not the learner's settings
                   BACKPROP_LAB_DATA=str(tmp_path / "data"), **env)
    code = DRIVER.format(root=str(ROOT), script=textwrap.dedent(script))
    return subprocess.Popen([sys.executable, "-c", code], env=environ, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(proc, word: str) -> float:
    """Read the driver's lines until `word`; the moment it came."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            proc.kill()
            pytest.fail(f"the app ended before saying {word!r}:\n{proc.stderr.read()[-3000:]}")
        if line.strip() == word:
            return time.monotonic()
    proc.kill()
    pytest.fail(f"the app never said {word!r}")


def _ended_within(proc, since: float, bound: float = EXIT_BOUND_S):
    try:
        proc.wait(bound + 10)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"the app was still running {bound + 10:.0f} s later")
    took = time.monotonic() - since
    err = proc.stderr.read()
    assert "Destroyed while thread" not in err, err[-3000:]
    assert proc.returncode == 0, f"exit code {proc.returncode}\n{err[-3000:]}"
    assert took < bound, f"the process ended {took:.1f} s after the close"
    return err


def test_closing_over_a_job_that_cannot_be_interrupted_exits_0_quickly(tmp_path):
    proc = _launch("""
        def drive(win):
            from gui.app import Worker
            # sleeps in C and never looks at its cancel flag, like a Numba compile
            Worker(time.sleep, 60).start()
            QTimer.singleShot(200, lambda: (say("closing"), win.close()))
    """, tmp_path)
    _ended_within(proc, _wait_for(proc, "closing"))


def test_closing_during_a_first_launch_compile_of_training_exits_0_quickly(tmp_path):
    # the case: an empty Numba cache, training started in the dashboard, the window
    # closed while the training thread compiles
    proc = _launch("""
        def drive(win):
            win.select_lesson("Training dashboard")
            lesson = win.current_lesson()
            assert lesson.start_training()
            def close_when_compiling():
                if lesson.session.tasks[0].steps == 0:
                    say("closing")
                    win.close()
                else:
                    say("compiled already: nothing to test")
                    win.close()
            QTimer.singleShot(1500, close_when_compiling)
    """, tmp_path, NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"))
    _ended_within(proc, _wait_for(proc, "closing"))


def test_ctrl_c_in_the_terminal_quits(tmp_path):
    proc = _launch("""
        def drive(win):
            say("shown")
    """, tmp_path)
    _wait_for(proc, "shown")
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    err = _ended_within(proc, sent)
    assert "Traceback" not in err


def test_ctrl_c_quits_even_over_uninterruptible_work(tmp_path):
    proc = _launch("""
        def drive(win):
            from gui.app import Worker
            Worker(time.sleep, 60).start()
            say("shown")
    """, tmp_path)
    _wait_for(proc, "shown")
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _ended_within(proc, sent)


def test_settings_are_saved_before_the_process_ends_over_stuck_work(tmp_path):
    proc = _launch("""
        def drive(win):
            from gui.app import Worker
            Worker(time.sleep, 60).start()
            win.select_lesson("Training dashboard")
            QTimer.singleShot(200, lambda: (say("closing"), win.close()))
    """, tmp_path)
    _ended_within(proc, _wait_for(proc, "closing"))
    ini = next((tmp_path / "config").rglob("*.conf"), None) or next(
        (tmp_path / "config").rglob("*.ini"))
    assert "lastLesson=Training dashboard" in ini.read_text()


def test_closing_during_a_stalled_download_exits_0_quickly_and_keeps_no_partial(tmp_path):
    from cifar_fixtures import LoopbackServer

    with LoopbackServer() as srv:
        srv.routes["/cifar.tar.gz"] = ("gated", bytes(400_000))   # half, then it stalls
        proc = _launch(f"""
            def drive(win):
                win.select_lesson("CIFAR-10")
                lesson = win.current_lesson()
                lesson.url = {srv.url + "/cifar.tar.gz"!r}
                lesson.sha256 = "0" * 64
                lesson.download()
                def close_when_stalled():
                    if lesson.download_bar.value() == 0:
                        QTimer.singleShot(100, close_when_stalled)
                        return
                    say("closing")
                    win.close()
                QTimer.singleShot(100, close_when_stalled)
        """, tmp_path)
        _ended_within(proc, _wait_for(proc, "closing"))
    cache = tmp_path / "data" / "cifar10"
    assert cache.is_dir() and list(cache.iterdir()) == []


def test_a_partial_download_a_crash_left_is_removed_at_the_next_start(tmp_path):
    folder = tmp_path / "data" / "cifar10"
    folder.mkdir(parents=True)
    partial = folder / ".cifar-10-python.tar.gz.x1y2z3.part"
    partial.write_bytes(bytes(1000))
    old = time.time() - 3600
    os.utime(partial, (old, old))
    kept = folder / "cifar-10-python.tar.gz"       # a finished download is not touched
    kept.write_bytes(b"data")
    proc = _launch("""
        def drive(win):
            QTimer.singleShot(100, lambda: (say("closing"), win.close()))
    """, tmp_path)
    _ended_within(proc, _wait_for(proc, "closing"))
    assert not partial.exists() and kept.exists()
