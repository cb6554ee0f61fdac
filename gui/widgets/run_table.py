"""The run selector: every run a row, its settings and results side by side.

What TensorBoard's run list and hparams table do together: a check box shows or hides the
run's curves, the name (with the run's colour) can be edited, and the columns compare what
differed between runs (optimizer, learning rate, batch size, ...) with what came of it
(updates per epoch, time, last loss and accuracy). Numbers use fmt() in monospace; hovering a
number shows its full value (and, for updates per epoch, the formula with the numbers).

    table = RunTable(store)                       # a core.teaching.runs.RunStore, for renaming
    table.add_run(run); table.update_runs([run.id])
    table.visibility_changed.connect(plot.set_run_visible)
"""
from __future__ import annotations

import math

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QTableWidget,
                               QTableWidgetItem)

from core.teaching.runs import Run, RunStore, format_setting
from core.wording import difference, percent
from gui.widgets.numbers import fmt, mono_font
from gui.widgets.training_plot import run_color

__all__ = ["RunTable", "SETTING_LABELS", "RESULT_COLUMNS"]

#: column captions for common settings keys (others show the key itself)
SETTING_LABELS = {
    "dataset": "data", "network": "network", "hidden": "hidden layers",
    "activation": "activation", "optimizer": "optimizer", "learning_rate": "lr",
    "batch_size": "batch", "epochs": "epochs", "seed": "seed", "mode": "mode",
    "train_samples": "N", "dropout": "dropout",
}
SETTING_TIPS = {
    "learning_rate": "Learning rate η: w ← w − η·∂L/∂w",
    "batch_size": "Batch size: examples per weight update",
    "train_samples": "N: training examples",
    "network": "Hidden layers (units and activation)",
}
RESULT_COLUMNS = (
    ("updates_per_epoch", "updates/epoch"),
    ("steps", "updates"),
    ("time", "time (s)"),
    ("loss", "loss"),
    ("val_loss", "val loss"),
    ("accuracy", "accuracy"),
    ("val_accuracy", "val accuracy"),
)
_STATUS_TEXT = {"new": "ready", "running": "training…", "paused": "paused",
                "finished": "finished", "stopped": "stopped", "diverged": "diverged (NaN)",
                "failed": "failed"}
#: a run that ended but failed (core.teaching.diagnosis): its status says how, in two words
_DIAGNOSIS_TEXT = {"chance": "at chance", "flat": "flat loss", "diverged": "diverged"}
_FIXED = ("show", "run", "status")


#: fixed decimals per result column (accuracies are percentages, see result_text)
RESULT_DECIMALS = {"time": 2, "loss": 4, "val_loss": 4}


def result_text(key: str, value) -> str:
    """A result as its column writes it: accuracies as percentages ("91.20 %"), losses to
    4 decimals and seconds to 2, so a column's decimal points line up (a value too small
    to show says so: "below 0.01"); counts as they are, and a diverged loss (huge, NaN)
    in the app's words."""
    v = float(value)
    if key in ("accuracy", "val_accuracy") and math.isfinite(v):
        return percent(v)
    if key in RESULT_DECIMALS and math.isfinite(v) and abs(v) < 1e6:
        return difference(v, RESULT_DECIMALS[key])
    return fmt(value)


class RunTable(QTableWidget):
    """Rows = runs. Signals: visibility_changed(run_id, visible), renamed(run_id, name),
    current_run_changed(run_id or -1), message(text) for a refused rename."""

    visibility_changed = Signal(int, bool)
    renamed = Signal(int, str)
    current_run_changed = Signal(int)
    message = Signal(str)

    def __init__(self, store: RunStore | None = None, settings_columns=None,
                 result_columns=RESULT_COLUMNS, parent=None):
        super().__init__(0, 0, parent)
        self.store = store
        self._fixed_settings = list(settings_columns) if settings_columns else None
        self._result_columns = list(result_columns)
        self._runs: list[Run] = []
        self._filling = False
        self._dirty: set[int] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._flush)
        self.setAccessibleName("Runs")
        self.setToolTip("Every training run: tick to show its curves, double-click a name to "
                        "rename it; settings and results side by side")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.verticalHeader().setVisible(False)
        # every column as wide as its contents; a narrow table scrolls sideways rather than
        # squeezing its last column (it was 26 px wide, its numbers cut)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(False)
        self.setAlternatingRowColors(True)
        self._mono = mono_font()
        self.itemChanged.connect(self._on_item_changed)
        self.itemSelectionChanged.connect(self._on_selection)
        self._rebuild_columns()

    # --- columns ------------------------------------------------------------------------
    def _settings_keys(self) -> list[tuple[str, str]]:
        if self._fixed_settings is not None:
            return self._fixed_settings
        keys: list[str] = []
        for run in self._runs:
            for k in run.settings:
                if k not in keys and not k.startswith("_"):
                    keys.append(k)
        return [(k, SETTING_LABELS.get(k, k)) for k in keys]

    def columns(self) -> list[tuple[str, str, str]]:
        """(kind, key, caption) per column; kind is "fixed", "setting" or "result"."""
        cols = [("fixed", "show", "show"), ("fixed", "run", "run"),
                ("fixed", "status", "status")]
        cols += [("setting", k, label) for k, label in self._settings_keys()]
        cols += [("result", k, label) for k, label in self._result_columns]
        return cols

    def column_of(self, key: str) -> int:
        for i, (_, k, _) in enumerate(self.columns()):
            if k == key:
                return i
        raise KeyError(key)

    def _rebuild_columns(self) -> None:
        cols = self.columns()
        if [c[2] for c in cols] == [self.horizontalHeaderItem(i).text()
                                    if self.horizontalHeaderItem(i) else None
                                    for i in range(self.columnCount())]:
            return
        self.setColumnCount(len(cols))
        self.setHorizontalHeaderLabels([c[2] for c in cols])
        for i, (kind, key, caption) in enumerate(cols):
            tip = {"show": "Show or hide this run's curves",
                   "run": "The run's name and colour (double-click to rename)",
                   "status": "Training, paused, finished, stopped or diverged",
                   "updates_per_epoch": "Weight updates per epoch = ⌈N / batch size⌉",
                   "steps": "Weight updates done so far",
                   "time": "Seconds of training (pauses excluded)"}.get(
                key, SETTING_TIPS.get(key, f"{caption}: the run's "
                                           f"{'setting' if kind == 'setting' else 'last value'}"))
            self.horizontalHeaderItem(i).setToolTip(tip)
        for row, run in enumerate(self._runs):
            self._fill_row(row, run)

    # --- runs -------------------------------------------------------------------------------
    def runs(self) -> list[Run]:
        return list(self._runs)

    def add_run(self, run: Run) -> None:
        if run in self._runs:
            return
        self._runs.append(run)
        self._filling = True
        self.insertRow(self.rowCount())
        self._filling = False
        before = self.columnCount()
        self._rebuild_columns()
        if self.columnCount() == before:
            self._fill_row(len(self._runs) - 1, run)

    def remove_run(self, run_id: int) -> None:
        for row, run in enumerate(self._runs):
            if run.id == run_id:
                self._runs.pop(row)
                self.removeRow(row)
                return

    def row_of(self, run_id: int) -> int:
        for row, run in enumerate(self._runs):
            if run.id == run_id:
                return row
        raise KeyError(run_id)

    def update_runs(self, run_ids=None) -> None:
        """Refresh these runs' status and results (coalesced to 4 times a second)."""
        ids = [r.id for r in self._runs] if run_ids is None else run_ids
        self._dirty.update(ids)
        if not self._timer.isActive():
            self._timer.start()

    def refresh(self) -> None:
        """Refresh every row now."""
        self._dirty.update(r.id for r in self._runs)
        self._flush()

    def _flush(self) -> None:
        self._timer.stop()
        dirty, self._dirty = self._dirty, set()
        for row, run in enumerate(self._runs):
            if run.id in dirty:
                self._fill_row(row, run)

    def set_run_visible(self, run_id: int, visible: bool) -> None:
        item = self.item(self.row_of(run_id), 0)
        item.setCheckState(Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked)

    def current_run(self) -> Run | None:
        rows = self.selectionModel().selectedRows() if self.selectionModel() else []
        if not rows:
            return None
        return self._runs[rows[0].row()]

    def select_run(self, run_id: int) -> None:
        self.selectRow(self.row_of(run_id))

    def cell_text(self, run_id: int, key: str) -> str:
        return self.item(self.row_of(run_id), self.column_of(key)).text()

    # --- cells --------------------------------------------------------------------------------
    def _item(self, row: int, col: int) -> QTableWidgetItem:
        item = self.item(row, col)
        if item is None:
            item = QTableWidgetItem()
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            self.setItem(row, col, item)
        return item

    def _fill_row(self, row: int, run: Run) -> None:
        self._filling = True
        try:
            results = run.results()
            for col, (kind, key, caption) in enumerate(self.columns()):
                item = self._item(row, col)
                if key == "show":
                    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                                  | Qt.ItemFlag.ItemIsUserCheckable)
                    item.setCheckState(Qt.CheckState.Checked if run.visible
                                       else Qt.CheckState.Unchecked)
                    item.setToolTip(f"Show or hide the curves of {run.name}")
                    item.setData(Qt.ItemDataRole.AccessibleTextRole,
                                 f"show {run.name}")
                elif key == "run":
                    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                                  | Qt.ItemFlag.ItemIsEditable)
                    if item.text() != run.name:
                        item.setText(run.name)
                    item.setIcon(_swatch(run_color(run)))
                    item.setToolTip(f"{run.name} (double-click to rename)")
                elif key == "status":
                    text = _STATUS_TEXT.get(run.status, run.status)
                    if run.status == "diverged" and "NaN" not in (run.stop_reason or "") \
                            and "infinite" not in (run.stop_reason or ""):
                        text = "diverged"   # the loss grew far but stayed a number
                    diagnosis = getattr(run, "diagnosis", None)
                    if diagnosis is not None and run.status != "diverged":
                        text += f" · {_DIAGNOSIS_TEXT.get(diagnosis.kind, diagnosis.kind)}"
                    item.setText(text)
                    item.setToolTip("\n".join(str(t) for t in (run.stop_reason, diagnosis)
                                              if t) or text)
                    if run.status in ("diverged", "failed") or diagnosis is not None:
                        item.setForeground(QColor("#b00020"))
                elif kind == "setting":
                    value = run.settings.get(key)
                    item.setText(format_setting(value))
                    item.setToolTip(f"{caption}: {format_setting(value)}")
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        item.setFont(self._mono)
                else:
                    value = results.get(key)
                    item.setFont(self._mono)
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                    item.setText("—" if value is None else result_text(key, value))
                    item.setToolTip(self._result_tip(run, key, caption, value))
        finally:
            self._filling = False

    @staticmethod
    def _result_tip(run: Run, key: str, caption: str, value) -> str:
        if value is None:
            return f"{caption}: not known yet"
        full = repr(float(value)) if isinstance(value, float) and math.isfinite(value) \
            else fmt(value)
        if key == "updates_per_epoch":
            n = run.settings.get("train_samples")
            bs = run.settings.get("batch_size")
            if n and bs:
                return (f"updates per epoch = ⌈N / batch size⌉ = ⌈{n} / {min(int(bs), int(n))}"
                        f"⌉ = {value}")
        if key == "steps" and run.updates_per_epoch:
            return (f"weight updates so far = {value} "
                    f"({fmt(value / run.updates_per_epoch)} epochs × {run.updates_per_epoch})")
        if key == "time":
            return f"{full} s of training"
        return f"{caption} after the last finished epoch = {full}"

    # --- edits -------------------------------------------------------------------------------
    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling:
            return
        row, col = item.row(), item.column()
        if row >= len(self._runs):
            return
        run = self._runs[row]
        key = self.columns()[col][1]
        if key == "show":
            visible = item.checkState() == Qt.CheckState.Checked
            if visible != run.visible:
                run.visible = visible
                self.visibility_changed.emit(run.id, visible)
        elif key == "run":
            wanted = item.text()
            try:
                name = self.store.rename(run.id, wanted) if self.store else wanted.strip()
                if not name:
                    raise ValueError("a run needs a name")
            except (ValueError, KeyError) as exc:
                self.message.emit(f"Cannot rename: {exc}")
                self._fill_row(row, run)
                return
            run.name = name
            self._fill_row(row, run)
            self.renamed.emit(run.id, name)

    def _on_selection(self) -> None:
        run = self.current_run()
        self.current_run_changed.emit(run.id if run else -1)


def _swatch(color: QColor) -> QIcon:
    pix = QPixmap(12, 12)
    pix.fill(color)
    return QIcon(pix)
