"""What preprocessing did to a table, for the churn lesson: the list of steps, then the
first rows as the file has them and as the network sees them, each number's tooltip saying
how it was made (core.teaching.imbalance)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QListWidget, QSplitter, QTableWidgetItem, QVBoxLayout, QWidget

from core.teaching.imbalance import TableData, cell_tip, feature_tips, raw_preview
from gui.widgets.numbers import fmt, mono_table


class PreprocessingView(QSplitter):
    """The steps, a "before" table and an "after" table, stacked."""

    def __init__(self, parent=None):
        super().__init__(Qt.Orientation.Vertical, parent)
        self.setChildrenCollapsible(False)
        self.report_list = QListWidget()
        self.report_list.setWordWrap(True)
        self.report_list.setAccessibleName("Preprocessing steps")
        self.report_list.setToolTip("Every step that turned the file into numbers, in order")
        self.addWidget(self.report_list)
        before = QWidget()
        bl = QVBoxLayout(before)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.setSpacing(2)
        bl.addWidget(QLabel("<b>Before</b>: the first rows as the file has them"))
        self.before_table = mono_table("Rows before preprocessing",
                                       "The first rows of the file, text as it is")
        bl.addWidget(self.before_table)
        self.addWidget(before)
        after = QWidget()
        al = QVBoxLayout(after)
        al.setContentsMargins(0, 0, 0, 0)
        al.setSpacing(2)
        al.addWidget(QLabel("<b>After</b>: the same rows as the network sees them "
                            "(hover a header or a number for how it was made)"))
        self.after_table = mono_table("Rows after preprocessing",
                                      "The same rows, one-hot encoded and scaled")
        al.addWidget(self.after_table)
        self.addWidget(after)
        self.setSizes([110, 150, 170])


    def show_table(self, t: TableData, rows: int) -> None:
        """The steps, then the first `rows` rows before and after, for table `t`."""
        ds, rep = t.dataset, t.report
        self.report_list.clear()
        self.report_list.addItems(rep.lines)
        header, rows = raw_preview(t, rows)
        self.before_table.clear()
        self.before_table.setColumnCount(len(header))
        self.before_table.setHorizontalHeaderLabels(header)
        self.before_table.setRowCount(len(rows))
        for c, name in enumerate(header):
            item = self.before_table.horizontalHeaderItem(c)
            if name == t.target:
                item.setToolTip(f"{name}: the column to predict")
            elif name in t.drop:
                item.setToolTip(f"{name}: ignored")
            else:
                item.setToolTip(name)
        for r, cells in enumerate(rows):
            for c, cell in enumerate(cells):
                item = QTableWidgetItem(cell)
                if header[c] in t.drop:
                    item.setForeground(QColor("#8a939f"))
                self.before_table.setItem(r, c, item)
        names = list(ds.feature_names) + [f"{t.target} (class id)"]
        self.after_table.clear()
        self.after_table.setColumnCount(len(names))
        self.after_table.setHorizontalHeaderLabels(names)
        n = min(len(rows), len(ds))
        self.after_table.setRowCount(n)
        tips = feature_tips(rep, ds.feature_names)
        for c, name in enumerate(ds.feature_names):
            self.after_table.horizontalHeaderItem(c).setToolTip(tips.get(name, name))
        mapping = ", ".join(f"{k} → {v}" for k, v in rep.target_mapping.items())
        self.after_table.horizontalHeaderItem(len(names) - 1).setToolTip(
            f"The label: {mapping}")
        raw_index = {name: i for i, name in enumerate(header)}
        for r in range(n):
            for c, name in enumerate(ds.feature_names):
                v = float(ds.x[r, c])
                item = QTableWidgetItem(fmt(v))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip(cell_tip(rep, name, v, rows[r], raw_index))
                self.after_table.setItem(r, c, item)
            item = QTableWidgetItem(str(int(ds.y[r])))
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setToolTip(f"{rows[r][raw_index[t.target]]} → {int(ds.y[r])}")
            self.after_table.setItem(r, len(names) - 1, item)
