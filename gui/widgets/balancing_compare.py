"""The churn lesson's comparison of balancing choices: one row per training run with the
minority class's recall, precision, F1 and the accuracy (each number's formula on hover),
and the minority's recall and precision as bars."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QLabel, QSplitter, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from core import metrics
from gui.widgets.numbers import fmt, mono_table
from gui.widgets.training_plot import run_color

COMPARE_COLUMNS = ("run (balancing)", "training rows", "class weights", "recall", "precision",
                   "F1", "accuracy")


class BalancingCompare(QWidget):
    """Runs side by side; `run_selected(run id)` when the learner picks a row."""

    run_selected = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: dict[int, tuple[str, dict]] = {}   # run id → (name, minority scores)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.minority_label = QLabel()
        self.minority_label.setWordWrap(True)
        self.minority_label.setMinimumWidth(120)
        lay.addWidget(self.minority_label)
        self.table = mono_table(
            "Runs compared", "One row per training run, judged on the validation customers; "
                             "select a row to see its classification report")
        self.table.setColumnCount(len(COMPARE_COLUMNS))
        self.table.setHorizontalHeaderLabels(COMPARE_COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        tips = {"training rows": "Rows per class the network trained on (after resampling)",
                "class weights": "How much one example's loss counts, per class: "
                                 "N / (classes × its class count); 1 when not weighted",
                "recall": "Minority class: of its validation customers, the share found: "
                          "TP/(TP+FN)",
                "precision": "Minority class: of those predicted as it, the share that are: "
                             "TP/(TP+FP)",
                "F1": "Minority class: 2·P·R/(P+R)",
                "accuracy": "All classes: share of validation customers predicted right",
                "run (balancing)": "The run and how its training data was balanced"}
        for c, name in enumerate(COMPARE_COLUMNS):
            self.table.horizontalHeaderItem(c).setToolTip(tips.get(name, name))
        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        split.addWidget(self.table)
        self.bars = pg.PlotWidget(enableMenu=False)   # no menu made to be thrown away
        self.bars.setBackground("w")
        self.bars.setMouseEnabled(x=False, y=False)
        self.bars.hideButtons()
        self.bars.setYRange(0, 1.2, padding=0)
        self.bars.setLabel("left", "minority class")
        self.bars.getAxis("left").enableAutoSIPrefix(False)
        self.bars.showGrid(y=True, alpha=0.25)
        self.bars.setMinimumHeight(140)
        self.bars.setAccessibleName("Minority recall and precision per run")
        self.bars.setToolTip("Dark bars: the minority class's recall; light bars: its precision "
                             "(the numbers are printed on the bars)")
        self.bars.addLegend(offset=(10, 2), colCount=2)
        self.recall_bars = pg.BarGraphItem(x=[], height=[], width=0.38, brush="#2166ac",
                                           pen=pg.mkPen("w"), name="recall")
        self.precision_bars = pg.BarGraphItem(x=[], height=[], width=0.38, brush="#92c5de",
                                              pen=pg.mkPen("w"), name="precision")
        self.bars.addItem(self.recall_bars)
        self.bars.addItem(self.precision_bars)
        self._bar_labels: list = []
        split.addWidget(self.bars)
        split.setSizes([150, 170])
        lay.addWidget(split, 1)
        note = QLabel("Balancing trades precision for recall: more churners are found, at the "
                      "price of more false alarms. Which matters more is a business question.")
        note.setWordWrap(True)
        note.setObjectName("mutedText")
        lay.addWidget(note)
        self.table.itemSelectionChanged.connect(self._on_selected)


    def add_run(self, run, res: dict, class_names, y_val, minority: int) -> None:
        """One row (and a pair of bars) for a judged run; `res` holds its "counts",
        "class_weight", "y_pred" and the minority class's "scores"."""
        s = res["scores"]
        counts = res["counts"]
        self._rows[run.id] = (run.name, s)
        row = self.table.rowCount()
        self.table.insertRow(row)
        swatch = QPixmap(12, 12)
        swatch.fill(run_color(run))
        name = QTableWidgetItem(QIcon(swatch), run.name + ("" if run.status == "finished"
                                                           else f" ({run.status})"))
        name.setData(Qt.ItemDataRole.UserRole, run.id)
        self.table.setItem(row, 0, name)
        self.table.setItem(row, 1, QTableWidgetItem(
            " / ".join(f"{class_names[k]} {int(c)}" for k, c in enumerate(counts))))
        cw = res["class_weight"]
        weights = (" / ".join(f"{class_names[k]} {fmt(w)}" for k, w in cw.items())
                   if cw else "1 each")
        item = QTableWidgetItem(weights)
        if cw:
            n, c = int(counts.sum()), len(counts)
            item.setToolTip("\n".join(f"{class_names[k]}: {n} / ({c} × {int(counts[k])}) = "
                                      f"{fmt(w)}" for k, w in cw.items()))
        self.table.setItem(row, 2, item)
        cm = metrics.confusion_matrix(y_val, res["y_pred"], num_classes=len(class_names))
        k = minority
        tp, fn, fp = int(cm[k, k]), int(cm[k].sum() - cm[k, k]), int(cm[:, k].sum() - cm[k, k])
        tips = {"recall": f"recall = TP/(TP+FN) = {tp}/({tp}+{fn}) = {fmt(s['recall'])}",
                "precision": f"precision = TP/(TP+FP) = {tp}/({tp}+{fp}) = {fmt(s['precision'])}",
                "f1": f"F1 = 2·P·R/(P+R) = 2·{fmt(s['precision'])}·{fmt(s['recall'])}/"
                      f"({fmt(s['precision'])}+{fmt(s['recall'])}) = {fmt(s['f1'])}",
                "accuracy": f"accuracy = right/all = {int(np.trace(cm))}/{int(cm.sum())} = "
                            f"{fmt(s['accuracy'])}"}
        for c, key in enumerate(("recall", "precision", "f1", "accuracy"), start=3):
            item = QTableWidgetItem(fmt(s[key]))
            item.setData(Qt.ItemDataRole.UserRole, float(s[key]))
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setToolTip(tips[key])
            self.table.setItem(row, c, item)
        self.update_bars()

    def clear(self) -> None:
        self._rows.clear()
        self.table.setRowCount(0)
        self.update_bars()

    def update_bars(self) -> None:
        """Recall and precision of the minority class, one pair of bars per run, in table order."""
        rows = []
        for r in range(self.table.rowCount()):
            rid = self.table.item(r, 0).data(Qt.ItemDataRole.UserRole)
            if rid in self._rows:
                rows.append(self._rows[rid])
        xs = np.arange(len(rows), dtype=float)
        rec = [s["recall"] for _, s in rows]
        prec = [s["precision"] for _, s in rows]
        self.recall_bars.setOpts(x=xs - 0.2, height=rec, width=0.38)
        self.precision_bars.setOpts(x=xs + 0.2, height=prec, width=0.38)
        for item in self._bar_labels:
            self.bars.removeItem(item)
        self._bar_labels = []
        for x, r, p in zip(xs, rec, prec):
            for dx, v in ((-0.2, r), (0.2, p)):
                t = pg.TextItem(fmt(v), color="#1d232b", anchor=(0.5, 1))
                t.setPos(x + dx, v)
                self.bars.addItem(t)
                self._bar_labels.append(t)
        self.bars.getAxis("bottom").setTicks([[(float(x), name) for x, (name, _) in
                                               zip(xs, rows)]])
        self.bars.setXRange(-0.6, max(0.6, len(rows) - 0.4), padding=0)

    def bar_heights(self) -> tuple[list[float], list[float]]:
        """(recall heights, precision heights) as drawn."""
        return (list(self.recall_bars.opts["height"]), list(self.precision_bars.opts["height"]))

    def value(self, run_id: int, column: str) -> float:
        """The full value behind a comparison cell."""
        c = COMPARE_COLUMNS.index(column)
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).data(Qt.ItemDataRole.UserRole) == run_id:
                return float(self.table.item(r, c).data(Qt.ItemDataRole.UserRole))
        raise KeyError(run_id)

    def select_run(self, run_id: int) -> None:
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).data(Qt.ItemDataRole.UserRole) == run_id:
                self.table.selectRow(r)

    def _on_selected(self) -> None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        if rows:
            self.run_selected.emit(self.table.item(min(rows), 0).data(Qt.ItemDataRole.UserRole))
