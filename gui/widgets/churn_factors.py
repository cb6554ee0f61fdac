"""The churn lesson's first question, answered from the table itself: the churn rate per
group of each factor (core.teaching.churn_factors), one bar chart per factor, with the
rate over all customers as a dashed line and each bar's count on hover."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from core.teaching.churn_factors import FactorRates, churn_factors
from gui.widgets.numbers import fmt

BAR_COLOR = "#2166ac"
BAR_HIGH = "#d6604d"       # groups above the overall rate (the bar's number says it too)


def percent(rate: float) -> str:
    """Whole percents on the bars: a class reads 46 % at a glance (the counts are on hover)."""
    return f"{100 * rate:.0f} %"


def tick_label(text: str, width: int = 10) -> str:
    """A long category on two lines ("Month-to-\nmonth"), so no tick hides another."""
    if len(text) <= width:
        return text
    for sep in ("-", " ", "_"):
        cut = text.rfind(sep, 0, width + 1)
        if cut > 0:
            return text[:cut + (sep == "-")].strip() + "\n" + text[cut + 1:].strip()
    return text


class FactorChart(pg.PlotWidget):
    """One factor: a bar per group, its churn rate printed on it."""

    def __init__(self, parent=None):
        super().__init__(parent, enableMenu=False)   # no menu made to be thrown away
        self.setBackground("w")
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.getAxis("left").enableAutoSIPrefix(False)
        self.getAxis("bottom").setHeight(40)     # room for a two-line category
        self.getAxis("left").setTicks([[(v, f"{v} %") for v in (0, 25, 50, 75, 100)]])
        self.showGrid(y=True, alpha=0.25)
        self.setMinimumSize(200, 160)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, brushes=[])
        self.addItem(self.bars)
        self.overall_line = pg.InfiniteLine(angle=0, pen=pg.mkPen("#1d232b", width=1,
                                                                  style=Qt.PenStyle.DashLine))
        self.addItem(self.overall_line)
        self.labels: list[pg.TextItem] = []
        self.factor: FactorRates | None = None

    def show_factor(self, factor: FactorRates) -> None:
        self.factor = factor
        for t in self.labels:
            self.removeItem(t)
        self.labels = []
        xs = list(range(len(factor.buckets)))
        heights = [100 * b.rate for b in factor.buckets]
        brushes = [BAR_HIGH if b.rate > factor.overall else BAR_COLOR for b in factor.buckets]
        self.bars.setOpts(x=xs, height=heights, width=0.7, brushes=brushes)
        for x, b in zip(xs, factor.buckets):
            t = pg.TextItem(percent(b.rate), color="#1d232b", anchor=(0.5, 1))
            t.setPos(x, 100 * b.rate)
            self.addItem(t)
            self.labels.append(t)
        self.overall_line.setPos(100 * factor.overall)
        if factor.numeric:   # ranges of one width: the lower ends say it, shorter
            step = factor.buckets[0].label.split("–")
            ticks = [(x, b.label.split("–")[0]) for x, b in zip(xs, factor.buckets)]
            self.setLabel("bottom", f"from (each bar {fmt(float(step[1]) - float(step[0]))} "
                                    "wide)")
        else:
            ticks = [(x, tick_label(b.label)) for x, b in zip(xs, factor.buckets)]
            self.setLabel("bottom", "")
        title = factor.column
        self.getAxis("bottom").setTicks([ticks])
        top = max([100 * b.rate for b in factor.buckets] + [10.0])
        self.setYRange(0, min(105.0, top * 1.22), padding=0)
        self.setXRange(-0.75, len(xs) - 0.25, padding=0)
        self.setTitle(title, size="10pt")
        self.setAccessibleName(f"Churn rate by {factor.column}")
        self.setToolTip("\n".join(
            f"{b.label}: {b.positive} of {b.count} left = {percent(b.rate)}"
            for b in factor.buckets)
            + f"\nall customers: {percent(factor.overall)} (dashed line)")

    def heights(self) -> list[float]:
        return list(self.bars.opts["height"])


class ChurnFactorsView(QWidget):
    """Up to three factor charts side by side and a sentence naming the strongest one."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.summary = QLabel("Reading the table…")
        self.summary.setWordWrap(True)
        self.summary.setMinimumWidth(120)
        self.summary.setAccessibleName("What the factors show")
        lay.addWidget(self.summary)
        row = QHBoxLayout()
        lay.addLayout(row, 1)
        self._table = None
        self.charts = [FactorChart(self) for _ in range(3)]
        for chart in self.charts:
            row.addWidget(chart, 1)
        note = QLabel("Bar: the share of the customers in that group who left (hover for the "
                      "counts). Dashed line: all customers. Red bars lie above it. The "
                      "network in step 3 learns all the columns at once.")
        note.setWordWrap(True)
        note.setObjectName("mutedText")
        lay.addWidget(note)

    def show_factors(self, factors: list[FactorRates]) -> None:
        for chart, factor in zip(self.charts, factors):
            chart.show_factor(factor)
            chart.setVisible(True)
        for chart in self.charts[len(factors):]:
            chart.factor = None
            chart.setVisible(False)
        if not factors:
            self.summary.setText("No column splits the customers into groups to compare.")
            return
        f0 = factors[0]
        strongest = max(factors, key=lambda f: f.spread())
        usable = [b for b in strongest.buckets if b.count >= 20] or list(strongest.buckets)
        hi = max(usable, key=lambda b: b.rate)
        lo = min(usable, key=lambda b: b.rate)
        self.summary.setText(
            f"<b>Why do customers leave?</b> Of all {f0.total} customers, "
            f"{percent(f0.overall)} left ({f0.positive_label}). By "
            f"<b>{strongest.column}</b> it differs the most: {percent(hi.rate)} of "
            f"'{hi.label}' ({hi.positive} of {hi.count}) but {percent(lo.rate)} of "
            f"'{lo.label}' ({lo.positive} of {lo.count}).")

    def count(self, table, positive_class: int, start_worker=None) -> None:
        """Count `table` (core.teaching.imbalance.TableData) by its factors, on the rows the
        network sees, as the share of class `positive_class`; with `start_worker` (a
        Lesson's) off the GUI thread."""
        self._table = table
        # the cells as the file writes them ("1.0" for the class the reader names "1")
        cells = [raw for raw, k in table.report.target_mapping.items() if k == positive_class]
        name = table.dataset.class_names[positive_class]

        def job():
            return churn_factors(table.text, table.target, cells, table.report.dropped_rows,
                                 table.drop, table.report.decimal_comma, positive_name=name)

        def finished(factors):
            if self._table is table and factors is not None:   # not a table since replaced
                self.show_factors(factors)

        def failed(exc):
            self.show_problem(f"The factors cannot be counted: {exc}")
        if start_worker is not None:
            self.show_problem("Counting the customers by factor…")
            start_worker(job, on_finished=finished, on_failed=failed)
            return
        try:
            finished(job())
        except ValueError as exc:
            failed(exc)

    def show_problem(self, text: str) -> None:
        self.summary.setText(text)
        for chart in self.charts:
            chart.setVisible(False)
