"""The training progress bar every lesson shows: thousandths of the work, with a word at rest."""
from __future__ import annotations

from PySide6.QtWidgets import QProgressBar

#: steps of the bar: fine enough for a smooth fill, small enough for Qt's int range
STEPS = 1000


def progress_bar(at_rest: str = "ready") -> QProgressBar:
    """A bar from 0 to STEPS that reads `at_rest` ("ready", "not trained") until work starts.
    Its value is set, not left at Qt's -1: a bar never set draws an empty box, no text."""
    bar = QProgressBar()
    bar.setRange(0, STEPS)
    bar.setValue(0)
    bar.setTextVisible(True)
    bar.setFormat(at_rest)
    return bar
