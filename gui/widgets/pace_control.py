"""The training pace: how many weight updates per second a lesson's training makes.

A run of the dashboard finishes in 0.3 s at full speed: nothing for a class to watch. This
one control, shared by every lesson that trains, slows the training session itself
(`TrainingSession.set_updates_per_second`) from one update per second — each update lands
on the chart on its own — to full speed. A lesson adds it with `Lesson.add_pace_control`;
the choice is remembered per lesson while the app runs.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

__all__ = ["PaceControl", "PACES", "FULL_SPEED", "pace_text", "set_default_for_all"]

#: updates per second offered, slowest first; None is full speed
FULL_SPEED = None
PACES: tuple[float | None, ...] = (1, 2, 5, 10, 30, 100, 300, FULL_SPEED)

#: the learner's choice per lesson, while the app runs
_remembered: dict[str, float | None] = {}
#: when set (a tuple holding the pace), every new control starts at it (the test suite
#: trains at full speed unless a test asks for a pace)
_default_for_all: tuple | None = None


def set_default_for_all(pace: float | None | bool = False) -> None:
    """Start every new pace control at `pace`; `False` gives the lessons' own defaults back."""
    global _default_for_all
    _default_for_all = None if pace is False else (pace,)


def pace_text(pace: float | None) -> str:
    """"1 update/s", "10/s", "full speed": short, the controls bars are full."""
    if pace is None:
        return "full speed"
    n = int(pace) if float(pace).is_integer() else pace
    return "1 update/s" if n == 1 else f"{n}/s"


class PaceControl(QWidget):
    """"Pace: [10/s ▾]" (weight updates per second). Signal `pace_changed(object)`: updates per second, or None
    for full speed."""

    pace_changed = Signal(object)

    def __init__(self, key: str, default: float | None = FULL_SPEED, parent=None):
        super().__init__(parent)
        self.key = key
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 0, 0, 0)   # apart from a neighbouring label
        lay.setSpacing(4)
        self.caption = QLabel("Pace:", self)
        lay.addWidget(self.caption)
        self.combo = QComboBox(self)
        for pace in PACES:
            self.combo.addItem(pace_text(pace), pace)
        self.caption.setBuddy(self.combo)
        lay.addWidget(self.combo)
        lay.addStretch(1)   # in a column, the control stays at its natural width on the left
        tip = ("How fast training runs: at most this many weight updates per second, so a "
               "class can watch each update land on the chart; full speed trains as fast as "
               "the computer can. It applies at once, also in the middle of a run. The "
               "training-time axis and s/update count only the computing, never the waiting.")
        self.setToolTip(tip)
        self.combo.setToolTip(tip)
        self.combo.setAccessibleName("Training pace")
        self.combo.setAccessibleDescription(tip)
        if key in _remembered:
            start = _remembered[key]
        elif _default_for_all is not None:
            start = _default_for_all[0]
        else:
            start = default
        self.set_pace(start)
        self.combo.currentIndexChanged.connect(self._on_index)

    def updates_per_second(self) -> float | None:
        return self.combo.currentData()

    def set_pace(self, pace: float | None) -> None:
        """Choose the offered pace nearest to `pace` (None: full speed)."""
        if pace is None:
            index = PACES.index(FULL_SPEED)
        else:
            finite = [i for i, p in enumerate(PACES) if p is not None]
            index = min(finite, key=lambda i: abs(PACES[i] - float(pace)))
        self.combo.setCurrentIndex(index)

    def text(self) -> str:
        return self.combo.currentText()

    def _on_index(self, _index: int) -> None:
        pace = self.updates_per_second()
        _remembered[self.key] = pace
        self.pace_changed.emit(pace)
