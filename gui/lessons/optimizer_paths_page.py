"""One page of the "Optimizers on the loss surface" lesson: a contour map with three runs
replayed update by update, their counters, and the settings that made them.

The runs are computed in full beforehand (core.teaching.descent_paths, off the GUI thread);
the page replays them on one clock counting the *examples* whose gradient has been
computed, so the runs stay comparable: after one epoch every run has seen all N people,
batch descent once in one update and stochastic descent in N. Stepping moves the clock to
the next moment any run makes an update.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QFormLayout, QHBoxLayout, QLabel, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from core.teaching.descent_paths import PathMapData
from gui.widgets.numbers import fmt, mono_label, mono_table
from gui.widgets.path_map import STYLES, SYMBOL_TEXT, PathMap

COLUMNS = ("run", "updates", "epoch", "time", "loss")
COLUMN_TIPS = (
    "The run, with the marker it has on the map",
    "Weight updates made so far",
    "Passes over the data so far: examples seen ÷ N",
    "Compute time so far: updates × the measured time of one of its updates (the median "
    "of all of them, since single timings of a few microseconds are mostly noise)",
    "Log loss on all the data at the run's weights now (the map's value there)",
)


def ms(seconds: float) -> str:
    """Milliseconds with fixed decimals, so a column of times lines up."""
    return f"{seconds * 1000.0:.3f} ms"


class PathsPage(QWidget):
    """A map of three runs, with the controls that choose them in a column beside it."""

    def __init__(self, colors: tuple[str, str, str], widths: tuple[float, float, float],
                 parent=None):
        super().__init__(parent)
        self.colors = [QColor(c) for c in colors]
        self.widths = widths
        self.data: PathMapData | None = None
        self.events = np.zeros(0, np.int64)
        self.position = 0       # events passed: 0 is the start, len(events) the end

        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(10)
        self.map = PathMap("w1 (weight of age/100)", "w2 (weight of affordability)")
        lay.addWidget(self.map, 3)

        side = QWidget()
        self.side = QVBoxLayout(side)
        self.side.setContentsMargins(0, 0, 0, 0)
        self.side.setSpacing(6)
        self.about_label = QLabel()
        self.about_label.setWordWrap(True)
        self.about_label.setAccessibleName("What the map shows")
        self.side.addWidget(self.about_label)
        self.form = QFormLayout()
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setHorizontalSpacing(8)
        self.form.setVerticalSpacing(4)
        self.side.addLayout(self.form)
        self.clock_label = mono_label()
        self.clock_label.setAccessibleName("Examples seen so far")
        self.side.addWidget(self.clock_label)
        self.table = mono_table("Runs: updates, epoch, time and loss so far",
                                "Each run's counters at this moment of the replay")
        self.table.setColumnCount(len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        for col, tip in enumerate(COLUMN_TIPS):
            self.table.horizontalHeaderItem(col).setToolTip(tip)
        self.table.verticalHeader().setVisible(False)
        self.table.setRowCount(3)
        self.table.setFixedHeight(self.table.horizontalHeader().sizeHint().height()
                                  + 3 * self.table.verticalHeader().defaultSectionSize() + 4)
        self.side.addWidget(self.table)
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.summary_label.setAccessibleName("What the runs show")
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.side.addWidget(self.summary_label)
        self.side.addStretch(1)
        lay.addWidget(side, 2)
        self.set_busy("Computing the runs…")

    def add_setting(self, caption: str, widget: QWidget, tooltip: str, name: str) -> QWidget:
        widget.setToolTip(tooltip)
        widget.setAccessibleName(name)
        self.form.addRow(caption, widget)
        return widget

    # --- the runs ------------------------------------------------------------------------
    def set_busy(self, text: str) -> None:
        self.summary_label.setText(text)

    def set_data(self, data: PathMapData, caption: str) -> None:
        """Show freshly computed runs, from the start."""
        self.data = data
        ps = data.path_set
        self.events = ps.events()
        self.map.set_surface(data.w1_values, data.w2_values, data.surface, caption)
        w1, w2, best = ps.minimum
        self.map.set_landmarks(ps.start, (w1, w2),
                               f"lowest loss on this map: {fmt(best)} at w1 = {fmt(w1)}, "
                               f"w2 = {fmt(w2)}")
        self.map.set_paths([(p.label, c, p.points, wd)
                            for p, c, wd in zip(ps.paths, self.colors, self.widths)])
        for row, path in enumerate(ps.paths):
            symbol = SYMBOL_TEXT[STYLES[row % len(STYLES)][1]]
            item = QTableWidgetItem(f"{symbol} {path.label}")
            item.setForeground(self.colors[row])
            item.setToolTip(path.rule)
            self.table.setItem(row, 0, item)
        self.position = 0
        self.refresh()

    def examples_seen(self) -> int:
        return int(self.events[self.position - 1]) if self.position > 0 else 0

    def updates_now(self) -> list[int]:
        """Each run's updates made at this moment of the replay."""
        if self.data is None:
            return []
        seen = self.examples_seen()
        return [p.updates_done(seen) for p in self.data.path_set.paths]

    def at_end(self) -> bool:
        return self.position >= len(self.events)

    def step(self) -> bool:
        """On to the next update of any run; False at the end."""
        if self.data is None or self.at_end():
            return False
        self.position += 1
        self.refresh()
        return True

    def step_back(self) -> bool:
        if self.position <= 0:
            return False
        self.position -= 1
        self.refresh()
        return True

    def reset(self) -> None:
        self.position = 0
        self.refresh()

    # --- what the learner reads ------------------------------------------------------------
    def refresh(self) -> None:
        if self.data is None:
            return
        ps = self.data.path_set
        counts = self.updates_now()
        self.map.show_upto(counts)
        n = len(ps.problem)
        seen = self.examples_seen()
        self.clock_label.setText(f"epoch {fmt(seen / n)} of {fmt(ps.total_examples / n)}  "
                                 f"({seen} of {ps.total_examples} examples)")
        for row, (path, k) in enumerate(zip(ps.paths, counts)):
            # fixed decimals per column: the digits line up as the counters run
            cells = (str(k), f"{path.epoch_at(k):.2f}", ms(path.seconds[k]),
                     f"{path.losses[k]:.4f}")
            for col, (text, tip) in enumerate(zip(cells, self._formulas(path, k)), start=1):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip(tip)
                self.table.setItem(row, col, item)
        self.summary_label.setText(self.summary(counts))

    def _formulas(self, path, k: int) -> tuple[str, str, str, str]:
        """Each counter's hover text: how the number is made."""
        n = path.n_examples
        per = path.seconds[1] if len(path.seconds) > 1 else 0.0
        w1, w2 = path.points[k]
        people = "person" if path.batch_size == 1 else "people"
        return (f"{k} update{'' if k == 1 else 's'} of {path.batch_size} {people} each "
                f"({path.rule})",
                f"epoch = examples seen ÷ N = {path.examples[k]} ÷ {n} = {path.epoch_at(k):.2f}",
                f"time = updates × one update's time = {k} × {per * 1e6:.1f} µs = "
                f"{ms(path.seconds[k])}",
                f"L = −(1/{n}) Σ[y·log ŷ + (1−y)·log(1−ŷ)] at w1 = {fmt(w1)}, w2 = {fmt(w2)}, "
                f"b = {fmt(self.data.path_set.problem.bias)}: {path.losses[k]:.4f}")

    def summary(self, counts: list[int]) -> str:
        ps = self.data.path_set
        stopped = [p.stop_reason for p in ps.paths if p.stop_reason]
        if not self.at_end():
            text = ("Press Play to watch the runs, or Step to move to the next update of "
                    "any run." if self.position == 0 else "")
            return " ".join([text] + stopped).strip()
        best = min(ps.paths, key=lambda p: p.losses[-1])
        parts = [f"{p.label} {p.updates} updates in {ms(p.seconds[-1])}, loss "
                 f"{p.losses[-1]:.4f}" for p in ps.paths]
        bottom = np.asarray(ps.minimum[:2])
        away = ", ".join(f"{p.label} {np.linalg.norm(p.points[-1] - bottom):.2f}"
                         for p in ps.paths)
        return (f"Done: {'; '.join(parts)}. Lowest: {best.label}. The lowest loss on this "
                f"map is {ps.minimum[2]:.4f}; distance left to the star: {away}. "
                + " ".join(stopped)).strip()


__all__ = ["PathsPage", "COLUMNS"]
