"""Compiling the engine's kernels in the background, with progress in the status bar.

On a first-ever launch Numba has nothing cached and compiling every kernel takes tens
of seconds; done lazily, the first prediction or training step would freeze for that
long. Compiling also holds Python's GIL, so it runs in a child process
(`python -m core.fast.warmup`, which shares the steps between one worker process per core)
that fills Numba's on-disk cache while the window stays fully responsive; the drawing
pad's kernels come first, then the other inference kernels. Then a worker thread loads the
cached kernels into this process (well under a second). If the child cannot run, the
worker compiles in-process instead: slower, never wrong.

Until then a lesson that needs a kernel not yet cached compiles it itself, and this
widget, in the status bar of every lesson, says what is being prepared and how far along.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from core.fast.warmup import DRAWING_PAD
from gui.app import Worker, current_worker, time_left_ms

_PHASE_WORDS = {"inference": "predictions", "batches": "batch work", "training": "training"}


def _load_in_process():
    from core.fast.warmup import warm_up

    worker = current_worker()

    def progress(done, total, label, phase):
        worker.report((done, total, label, phase), force=done == total)

    return warm_up(progress=progress, should_stop=worker.is_cancelled)


class PadKernels(QObject):
    """Are the drawing pad's fast kernels still being compiled by the background warm-up
    (a first-ever launch)? Until they are, the pad reads drawings by the readable NumPy
    forward pass (core.readable) instead of waiting ~10 s for them; `ready` says when to
    read again the fast way (with the saliency map, which needs the backward kernels)."""

    ready = Signal()

    def __init__(self):
        super().__init__()
        self.pending = False

    def set_pending(self, pending: bool) -> None:
        was, self.pending = self.pending, bool(pending)
        if was and not self.pending:
            self.ready.emit()


_pad_kernels: list[PadKernels] = []


def pad_kernels() -> PadKernels:
    """The one PadKernels of the application (made on first use: a QObject needs the app)."""
    if not _pad_kernels:
        _pad_kernels.append(PadKernels())
    return _pad_kernels[0]


class EngineWarmup(QWidget):
    """A label and a progress bar for the status bar; hides itself when the engine is ready."""

    #: the whole warm-up finished (True) or was cut short / failed (False)
    ready = Signal(bool)
    #: (done, total, label, phase) for every step, from the child or the loading thread
    progressed = Signal(int, int, str, str)
    #: the drawing pad's networks are compiled: it reads drawings without waiting
    drawing_pad_ready = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel("Preparing the engine…", self)
        self.bar = QProgressBar(self)
        self.bar.setMaximumWidth(160)
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName("Engine preparation progress")
        tip = ("Compiling the engine's fast kernels. The first launch does this once; later "
               "launches load them from the cache in a fraction of a second.")
        self.setToolTip(tip)
        self.bar.setToolTip(tip)
        lay.addWidget(self.label)
        lay.addWidget(self.bar)
        self.process: QProcess | None = None
        self.worker: Worker | None = None
        self.phase = ""
        self.pad_ready = False
        self._stopped = False
        self._buffer = b""

    # --- stages -------------------------------------------------------------------------
    def start(self) -> None:
        """Compile in a child process; load in-process when it is done."""
        if self._stopped or self.process is not None:
            return      # the window closed before its first paint's timer fired
        import core
        from core.fast.parallel_warmup import share_numba_cache

        pad_kernels().set_pending(True)
        self.process = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        root = str(Path(core.__file__).resolve().parent.parent)
        env.insert("PYTHONPATH", os.pathsep.join(p for p in (root, env.value("PYTHONPATH")) if p))
        self.process.setProcessEnvironment(env)
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        self.process.readyReadStandardOutput.connect(self._read_child)
        self.process.finished.connect(self._child_finished)
        self.process.errorOccurred.connect(self._child_failed_to_start)
        self.process.start(sys.executable, ["-m", "core.fast.warmup"])
        # a lesson may compile a kernel here while the children do: one of them waits for
        # the other and loads it, instead of both compiling it (see parallel_warmup)
        share_numba_cache()

    def _read_child(self) -> None:
        self._buffer += bytes(self.process.readAllStandardOutput())
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            parts = line.decode("utf-8", "replace").split("\t")
            if len(parts) == 4 and parts[0].isdigit() and parts[1].isdigit():
                self._on_progress((int(parts[0]), int(parts[1]), parts[3], parts[2]))

    def _child_finished(self, code: int, status) -> None:
        if self._stopped:
            return
        # exit code ≠ 0: the in-process pass compiles whatever the child could not
        self._load()

    def _child_failed_to_start(self, error) -> None:
        if error == QProcess.ProcessError.FailedToStart and not self._stopped:
            self._load()

    def _load(self) -> None:
        if self.worker is not None:
            return
        self.worker = Worker(_load_in_process, progress_interval=0.1)
        self.worker.progress.connect(self._on_progress)
        self.worker.finished.connect(lambda report: self._finish(report.completed))
        self.worker.failed.connect(self._on_failed)
        self.worker.start()

    def stop(self, timeout_ms: int = 3000) -> None:
        """The window is closing: end the child and the loading thread."""
        self._stopped = True
        pad_kernels().set_pending(False)
        if self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning:
            self.process.kill()
            self.process.waitForFinished(time_left_ms(timeout_ms))
        if self.worker is not None:
            self.worker.stop_and_wait(timeout_ms)

    # --- display ------------------------------------------------------------------------
    def _on_progress(self, value) -> None:
        done, total, label, phase = value
        self.phase = phase
        self.progressed.emit(done, total, label, phase)
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        # label: the first step not finished yet; the drawing pad's steps come first
        pad = done < total and label.startswith(DRAWING_PAD)
        if not pad and not self.pad_ready:
            self.pad_ready = True
            pad_kernels().set_pending(False)
            self.drawing_pad_ready.emit()
        what = "the drawing pad" if pad else _PHASE_WORDS.get(phase, phase)
        doing = "Loading the engine" if self.worker is not None else "Preparing the engine"
        self.label.setText(f"{doing} for {what}… ({done}/{total})")

    def _on_failed(self, exc) -> None:
        pad_kernels().set_pending(False)    # the fast path compiles on first use
        self.label.setText(f"Kernels will compile on first use ({type(exc).__name__}: {exc})")
        self.ready.emit(False)

    def _finish(self, completed: bool) -> None:
        pad_kernels().set_pending(False)
        self.hide()
        self.ready.emit(bool(completed))


__all__ = ["EngineWarmup", "PadKernels", "pad_kernels"]
