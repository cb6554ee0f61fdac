"""A file being read in the background: a bar that fills and a Cancel button.

A CSV of a million rows takes seconds to encode; read on the GUI thread it froze the window
for all of them. Lessons read it in a `Worker` and show this while it runs; the job reports
its fraction done through `worker_progress()`, which also tells it to stop when cancelled.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QWidget

from gui.app import current_worker

__all__ = ["LoadProgress", "worker_progress"]


def worker_progress():
    """A `progress(fraction)` callback for a reader running in a Worker: reports the
    fraction to the GUI thread, and returns False once the Worker is cancelled (the reader
    then stops). Off a Worker it only says "go on"."""
    worker = current_worker()

    def progress(fraction: float) -> bool:
        if worker is None:
            return True
        if worker.is_cancelled():
            return False
        worker.report(float(fraction))
        return True

    return progress


class LoadProgress(QWidget):
    """Hidden until `start`; `cancel_requested` when the learner presses Cancel."""

    cancel_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.bar.setAccessibleName("Reading progress")
        self.bar.setToolTip("How much of the file has been read and encoded")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel reading the file")
        self.cancel_button.setToolTip("Stop reading this file; the data in use stays")
        self.cancel_button.clicked.connect(self.cancel_requested)
        lay.addWidget(self.bar, 1)
        lay.addWidget(self.cancel_button)
        self._name = ""
        self.setVisible(False)

    def start(self, name: str) -> None:
        self._name = name
        self.bar.setValue(0)
        self.bar.setFormat(f"reading {name}…")
        self.cancel_button.setEnabled(True)
        self.setVisible(True)

    def set_fraction(self, fraction) -> None:
        try:
            f = min(1.0, max(0.0, float(fraction)))
        except (TypeError, ValueError):
            return
        self.bar.setValue(int(round(1000 * f)))
        self.bar.setFormat(f"reading {self._name}: {100 * f:.0f} %")

    def cancelling(self) -> None:
        self.cancel_button.setEnabled(False)
        self.bar.setFormat(f"cancelling {self._name}…")

    def finish(self) -> None:
        self.setVisible(False)
