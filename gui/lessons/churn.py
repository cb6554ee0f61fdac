"""Customer churn (tutorial 18) and imbalanced data (the goal tutorial 21) on any CSV.

The bundled SYNTHETIC Telco-like table is the offline default; Open CSV… reads any file (the
real Telco customer-churn CSV works). The learner picks the column to predict, sees every
preprocessing step (core.data's PreprocessingReport) and a before/after preview of the first
rows, trains the course's small network in a worker (gui.training_worker) with a live curve,
and reads the classification report. Because churners are the minority, the balancing choice
(none, class weights, oversampling, undersampling; core.teaching.imbalance) matters; "Compare all
four" trains one network per choice from the same start and tabulates the minority class's
recall, precision and F1 and the accuracy of each.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QFormLayout, QFrame,
                               QHeaderView, QLabel, QLineEdit, QListWidget, QPlainTextEdit,
                               QProgressBar, QPushButton, QScrollArea, QSpinBox, QSplitter,
                               QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout,
                               QWidget)

from core import metrics
from core.teaching.classifier_eval import predicted_classes
from core.data import churn_csv_text
from core.teaching.imbalance import (BALANCING, DEFAULT_HIDDEN, TableData, balance, build_tabular_model,
                            csv_header, guess_id_columns, guess_target, load_table,
                            minority_class, minority_scores, raw_preview, read_text_file,
                            split_table)
from core.teaching.runs import RunStore
from gui.lessons.base import Lesson
from gui.training_worker import TrainingSession, TrainingTask, format_duration
from gui.widgets.numbers import fmt, mono_font
from gui.widgets.training_plot import TrainingPlot, run_color

SYNTHETIC_SOURCE = "synthetic-churn.csv"
BATCH_SIZE = 32
LEARNING_RATE = 0.003
PREVIEW = 6
COMPARE_COLUMNS = ("run (balancing)", "training rows", "class weights", "recall", "precision",
                   "F1", "accuracy")
ERROR_STYLE = "color: #b00020; font-weight: 600;"


class ChurnLesson(Lesson):
    title = "Customer churn"
    subtitle = ("Which customers will leave? A table of customers becomes numbers a network can "
                "learn from; then see what imbalanced classes do to its recall, and fix it.")
    help_name = "churn"

    #: a run's predictions were judged (its report and comparison row exist)
    run_judged = Signal(object)
    #: a training session ended
    training_finished = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.table_data: TableData | None = None
        self.split = None
        self.session: TrainingSession | None = None
        self.store = RunStore()
        self.results: dict[int, dict] = {}        # run id → {"model", "method", ...}
        self._pending: dict[int, dict] = {}
        self._closing = False

        root = QSplitter(Qt.Orientation.Horizontal)
        root.setChildrenCollapsible(False)
        root.addWidget(self._build_data_panel())
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.setSpacing(4)
        self.message = self.make_message_label()
        rv.addWidget(self.message)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Churn lesson views")
        self.tabs.addTab(self._build_preprocessing_tab(), "1 · Preprocessing")
        self.tabs.addTab(self._build_training_tab(), "2 · Training && report")
        self.tabs.addTab(self._build_compare_tab(), "3 · Imbalance: compare")
        self.tabs.setTabToolTip(0, "What was done to the table so a network can read it")
        self.tabs.setTabToolTip(1, "The training curves and the classification report on the "
                                   "validation customers")
        self.tabs.setTabToolTip(2, "Runs side by side: how each balancing choice changed the "
                                   "minority class's recall, precision and F1")
        rv.addWidget(self.tabs, 1)
        root.addWidget(right)
        root.setStretchFactor(0, 0)
        root.setStretchFactor(1, 1)
        self.set_visual(root)
        self._build_controls()
        self.use_synthetic()

    # --- building ---------------------------------------------------------------------------
    def _build_data_panel(self) -> QWidget:
        panel = QWidget()
        form = QFormLayout(panel)
        form.setContentsMargins(0, 0, 6, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(5)
        self.source_label = QLabel()
        self.source_label.setWordWrap(True)
        self.source_label.setAccessibleName("Data source")
        form.addRow(QLabel("<b>Data</b>"))
        form.addRow(self.source_label)
        self.open_button = QPushButton("Open CSV…")
        self.open_button.setToolTip("Choose a CSV file: a header row of column names, then one "
                                    "row per customer (the Telco customer-churn file works)")
        self.open_button.setAccessibleName("Open CSV file")
        self.synthetic_button = QPushButton("Synthetic set")
        self.synthetic_button.setToolTip("Go back to the bundled SYNTHETIC churn-like customers")
        self.synthetic_button.setAccessibleName("Use the synthetic churn data")
        form.addRow(self.open_button)
        form.addRow(self.synthetic_button)
        self.target_combo = QComboBox()
        self.target_combo.setToolTip("The column to predict (the label); the others are the "
                                     "features")
        self.target_combo.setAccessibleName("Column to predict")
        self.target_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.target_combo.setMinimumContentsLength(8)
        form.addRow("Predict:", self.target_combo)
        self.drop_edit = QLineEdit()
        self.drop_edit.setToolTip("Columns to leave out, separated by commas: an ID names a "
                                  "customer but says nothing about them")
        self.drop_edit.setAccessibleName("Columns to ignore")
        form.addRow("Ignore:", self.drop_edit)
        self.data_label = QLabel()
        self.data_label.setWordWrap(True)
        self.data_label.setObjectName("mutedText")
        form.addRow(self.data_label)
        form.addRow(QLabel("<b>Network</b>"))
        self.network_label = QLabel()
        self.network_label.setWordWrap(True)
        self.network_label.setToolTip("The course's churn network, trained with Adam "
                                      f"(η = {LEARNING_RATE}) on batches of {BATCH_SIZE}")
        form.addRow(self.network_label)
        self.open_button.clicked.connect(self.open_csv)
        self.synthetic_button.clicked.connect(self.use_synthetic)
        self.target_combo.currentTextChanged.connect(self._on_target_changed)
        self.drop_edit.editingFinished.connect(self._on_drop_changed)
        scroll = QScrollArea()
        scroll.setWidget(panel)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFixedWidth(230)
        self.data_panel = panel
        return scroll

    def _table(self, name: str, tip: str) -> QTableWidget:
        t = QTableWidget(0, 0)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setFont(mono_font())
        t.verticalHeader().setDefaultSectionSize(t.fontMetrics().height() + 6)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        t.setAlternatingRowColors(True)
        t.setAccessibleName(name)
        t.setToolTip(tip)
        return t

    def _build_preprocessing_tab(self) -> QWidget:
        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        self.report_list = QListWidget()
        self.report_list.setWordWrap(True)
        self.report_list.setAccessibleName("Preprocessing steps")
        self.report_list.setToolTip("Every step that turned the file into numbers, in order")
        split.addWidget(self.report_list)
        before = QWidget()
        bl = QVBoxLayout(before)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.setSpacing(2)
        bl.addWidget(QLabel("<b>Before</b>: the first rows as the file has them"))
        self.before_table = self._table("Rows before preprocessing",
                                        "The first rows of the file, text as it is")
        bl.addWidget(self.before_table)
        split.addWidget(before)
        after = QWidget()
        al = QVBoxLayout(after)
        al.setContentsMargins(0, 0, 0, 0)
        al.setSpacing(2)
        al.addWidget(QLabel("<b>After</b>: the same rows as the network sees them "
                            "(hover a header or a number for how it was made)"))
        self.after_table = self._table("Rows after preprocessing",
                                       "The same rows, one-hot encoded and scaled")
        al.addWidget(self.after_table)
        split.addWidget(after)
        split.setSizes([110, 150, 170])
        return split

    def _build_training_tab(self) -> QWidget:
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        self.plot = TrainingPlot(metrics=("loss",), smoothing=0.6, x_axis="epoch",
                                 granularity="epoch", show_controls=False)
        # epochs only here: the plot's own key names per-batch lines this lesson never shows
        self.plot.style_key.hide()
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.plot, 1)
        key = QLabel("●── training · □┄┄ validation; colours: the runs in step 3")
        key.setObjectName("mutedText")
        key.setWordWrap(True)
        key.setMinimumWidth(100)
        ll.addWidget(key)
        split.addWidget(left)
        box = QWidget()
        bl = QVBoxLayout(box)
        bl.setContentsMargins(0, 0, 0, 0)
        self.report_title = QLabel("Classification report (validation customers)")
        self.report_title.setWordWrap(True)
        bl.addWidget(self.report_title)
        self.report_view = QPlainTextEdit()
        self.report_view.setReadOnly(True)
        self.report_view.setFont(mono_font())
        self.report_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.report_view.setAccessibleName("Classification report")
        self.report_view.setToolTip(
            "precision = TP/(TP+FP), recall = TP/(TP+FN), f1-score = 2·P·R/(P+R) for each "
            "class; support = customers of that class. Macro avg: plain mean over classes; "
            "weighted avg: weighted by support.")
        self.report_view.setPlainText("Press Train.")
        bl.addWidget(self.report_view, 1)
        split.addWidget(box)
        split.setSizes([320, 440])
        return split

    def _build_compare_tab(self) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(4, 4, 4, 4)
        self.minority_label = QLabel()
        self.minority_label.setWordWrap(True)
        self.minority_label.setMinimumWidth(120)
        lay.addWidget(self.minority_label)
        self.compare_table = self._table(
            "Runs compared", "One row per training run, judged on the validation customers; "
                             "select a row to see its classification report")
        self.compare_table.setColumnCount(len(COMPARE_COLUMNS))
        self.compare_table.setHorizontalHeaderLabels(COMPARE_COLUMNS)
        self.compare_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.compare_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.compare_table.verticalHeader().setVisible(False)
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
            self.compare_table.horizontalHeaderItem(c).setToolTip(tips.get(name, name))
        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        split.addWidget(self.compare_table)
        self.bars = pg.PlotWidget()
        self.bars.setBackground("w")
        self.bars.setMenuEnabled(False)
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
        self.compare_table.itemSelectionChanged.connect(self._on_compare_selected)
        return box

    def _build_controls(self) -> None:
        self.train_button = self.add_control(
            QPushButton("Train"), tooltip="Train the network with the balancing chosen "
                                          "(in the background)", name="Train")
        self.compare_button = self.add_control(
            QPushButton("Compare all four"),
            tooltip="Train four networks from the same start: no balancing, class weights, "
                    "oversampling, undersampling", name="Compare all four balancing choices")
        self.stop_button = self.add_control(QPushButton("Stop"),
                                            tooltip="Stop training after the current batch",
                                            name="Stop training")
        self.add_controls_separator()
        self.balance_combo = self.add_control(
            QComboBox(), label="Balancing:",
            tooltip="none: train on the data as it is. class weights: a minority example's "
                    "loss counts N/(classes·its class count) times. oversampling: repeat "
                    "minority rows at random. undersampling: drop majority rows at random.",
            name="Balancing")
        for key, text in BALANCING.items():
            self.balance_combo.addItem(text, key)
        self.epochs_spin = self.add_control(QSpinBox(), label="Epochs:",
                                            tooltip="Passes over the training customers",
                                            name="Epochs")
        self.epochs_spin.setRange(1, 500)
        self.epochs_spin.setValue(20)
        self.progress = self.add_control(QProgressBar(), tooltip="Weight updates done",
                                         name="Training progress", stretch=1)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setValue(0)
        self.progress.setFormat("ready")
        self.progress.setMinimumWidth(100)
        self.train_button.clicked.connect(lambda: self.train())
        self.compare_button.clicked.connect(self.compare_all)
        self.stop_button.clicked.connect(self.stop_training)
        self._update_controls()

    # --- data ------------------------------------------------------------------------------
    def use_synthetic(self) -> bool:
        return self.load_text(churn_csv_text(2000, 0), SYNTHETIC_SOURCE, synthetic=True)

    def open_csv(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a CSV file", "",
                                              "CSV files (*.csv);;All files (*)")
        if path:
            self.load_csv(path)

    def load_csv(self, path) -> bool:
        """Use the CSV at `path`; False (and a message naming the problem) if it cannot be."""
        try:
            text = read_text_file(path)
        except ValueError as exc:
            self._say(f"This file cannot be used: {exc}", error=True)
            return False
        return self.load_text(text, Path(path).name)

    def load_text(self, text: str, source: str, synthetic: bool = False,
                  target: str | None = None, drop=None) -> bool:
        if self.is_training():
            self._say("Stop the training before changing the data.", error=True)
            return False
        try:
            header = csv_header(text, source)
            target = target if target in header else guess_target(header)
            if drop is None:
                drop = [c for c in guess_id_columns(header) if c != target]
            table = load_table(text, source, target, drop, synthetic=synthetic)
        except ValueError as exc:
            self._say(f"This file cannot be used: {exc}", error=True)
            return False
        self._set_table(table)
        return True

    def _set_table(self, table: TableData) -> None:
        if self.table_data is not None and self.results:
            # runs on other data (or another target) would be compared unfairly: start over
            self.results.clear()
            self.compare_table.setRowCount(0)
            self._update_bars()
            self.plot.clear()
            self.store = RunStore()
        self.table_data = table
        self.split = split_table(table.dataset)
        ds = table.dataset
        self.target_combo.blockSignals(True)
        self.target_combo.clear()
        self.target_combo.addItems(table.header)
        self.target_combo.setCurrentText(table.target)
        self.target_combo.blockSignals(False)
        self.drop_edit.setText(", ".join(table.drop))
        kind = "SYNTHETIC churn-like customers (made up, Telco-shaped)" if table.synthetic \
            else table.source
        self.source_label.setText(f"{kind}: {table.report.rows_read} rows")
        xt, yt, xv, yv = self.split
        self.data_label.setText(f"{len(ds)} rows × {ds.num_features} features after encoding; "
                                f"{len(yt)} to train, {len(yv)} to validate (stratified).")
        out = ("1 sigmoid unit (binary cross-entropy)" if ds.num_classes == 2 else
               f"{ds.num_classes} softmax units (cross-entropy)")
        self.network_label.setText(
            f"{ds.num_features} inputs → " + " → ".join(f"{u} ReLU" for u in DEFAULT_HIDDEN)
            + f" → {out}")
        self._fill_preprocessing()
        self._describe_minority()
        self._say(f"Loaded {table.source}. Step 1: see how it was encoded; step 2: train.")
        self.report_view.setPlainText("Press Train.")

    def _on_target_changed(self, target: str) -> None:
        t = self.table_data
        if t is None or not target or target == t.target:
            return
        drop = [c for c in guess_id_columns(t.header) if c != target]
        if not self.load_text(t.text, t.source, t.synthetic, target=target, drop=drop):
            self.target_combo.blockSignals(True)
            self.target_combo.setCurrentText(t.target)
            self.target_combo.blockSignals(False)

    def _on_drop_changed(self) -> None:
        t = self.table_data
        if t is None:
            return
        drop = [c.strip() for c in self.drop_edit.text().split(",") if c.strip()]
        if tuple(drop) == tuple(t.drop):
            return
        if not self.load_text(t.text, t.source, t.synthetic, target=t.target, drop=drop):
            self.drop_edit.setText(", ".join(t.drop))

    def _fill_preprocessing(self) -> None:
        t = self.table_data
        ds, rep = t.dataset, t.report
        self.report_list.clear()
        self.report_list.addItems(rep.lines)
        header, rows = raw_preview(t, PREVIEW)
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
        tips = self._feature_tips()
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
                item.setToolTip(self._cell_tip(name, v, rows[r], raw_index))
                self.after_table.setItem(r, c, item)
            item = QTableWidgetItem(str(int(ds.y[r])))
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setToolTip(f"{rows[r][raw_index[t.target]]} → {int(ds.y[r])}")
            self.after_table.setItem(r, len(names) - 1, item)

    def _scaling_of(self, column: str):
        rep = self.table_data.report
        if rep.scaling is None or column not in rep.numeric_columns:
            return None
        k = rep.numeric_columns.index(column)
        return float(rep.scaling.shift[k]), float(rep.scaling.scale[k])

    def _feature_tips(self) -> dict:
        rep = self.table_data.report
        tips = {}
        for name in self.table_data.dataset.feature_names:
            if name in rep.numeric_columns:
                sc = self._scaling_of(name)
                tips[name] = (f"{name}: a number, min-max scaled: (x − min)/(max − min) with "
                              f"min {fmt(sc[0])}, max {fmt(sc[0] + sc[1])}" if sc else
                              f"{name}: a number, unscaled")
            elif "=" in name:
                col, value = name.split("=", 1)
                if col in rep.binary_columns:
                    tips[name] = f"{col} has two values: 1 if it is {value}, else 0"
                else:
                    tips[name] = f"one-hot: 1 if {col} is {value}, else 0"
        return tips

    def _cell_tip(self, name: str, value: float, raw_row, raw_index) -> str:
        rep = self.table_data.report
        if name in rep.numeric_columns:
            cell = raw_row[raw_index[name]]
            sc = self._scaling_of(name)
            if sc is None:
                return f"{name} = {cell}"
            lo, span = sc
            return (f"({cell} − {fmt(lo)}) / ({fmt(lo + span)} − {fmt(lo)}) = {fmt(value)}"
                    if cell else f"{name} was blank: filled, then scaled to {fmt(value)}")
        if "=" in name:
            col, v = name.split("=", 1)
            cell = raw_row[raw_index[col]] if col in raw_index else "?"
            return f"{col} is {cell!r}: {'1' if value else '0'} for '{v}'"
        return fmt(value)

    def _describe_minority(self) -> None:
        ds = self.table_data.dataset
        xt, yt, xv, yv = self.split
        k = minority_class(yt)
        counts = np.bincount(yt, minlength=ds.num_classes)
        self.minority = k
        share = counts[k] / len(yt)
        self.minority_label.setText(
            f"Recall, precision and F1 below are the minority class's: "
            f"<b>{self.table_data.target} = {ds.class_names[k]}</b>, "
            f"{counts[k]} of {len(yt)} training rows ({fmt(100 * share)} %). A network that "
            f"never predicts it is still right {fmt(100 * (1 - share))} % of the time: accuracy "
            f"hides it, the minority's recall does not.")

    # --- training ------------------------------------------------------------------------
    def is_training(self) -> bool:
        return self.session is not None and self.session.is_running()

    def method(self) -> str:
        return self.balance_combo.currentData()

    def train(self, methods=None) -> bool:
        """Train one network per balancing method (the chosen one by default)."""
        if self.is_training() or self.table_data is None:
            return False
        methods = [self.method()] if methods is None else list(methods)
        ds = self.table_data.dataset
        xt, yt, xv, yv = self.split
        epochs = self.epochs_spin.value()
        tasks = []
        try:
            for method in methods:
                x_fit, y_fit, cw = balance(xt, yt, method, seed=0)
                model = build_tabular_model(ds.num_features, ds.num_classes,
                                            learning_rate=LEARNING_RATE, seed=0)
                counts = np.bincount(y_fit, minlength=ds.num_classes)
                run = self.store.new_run({"balancing": BALANCING[method], "epochs": epochs},
                                         name=BALANCING[method])
                task = TrainingTask(run, model, x_fit, y_fit, epochs=epochs,
                                    batch_size=BATCH_SIZE, validation_data=(xv, yv), seed=0,
                                    class_weight=cw)
                tasks.append(task)
                self._pending[run.id] = {"model": model, "method": method, "counts": counts,
                                         "class_weight": cw, "run": run}
        except ValueError as exc:
            self._say(f"Cannot train: {exc}", error=True)
            return False
        for t in tasks:
            self.plot.add_run(t.run)
        self.session = TrainingSession(tasks, parent=self)
        self.session.updated.connect(self.plot.update_runs)
        self.session.progress_changed.connect(self._on_progress)
        self.session.run_ended.connect(self._on_run_ended)
        self.session.finished.connect(self._on_finished)
        self.session.start(self.start_worker)
        what = ", ".join(BALANCING[m] for m in methods)
        self._say(f"Training ({what}): {epochs} epochs on {len(yt)} customers…")
        self.tabs.setCurrentIndex(1 if len(methods) == 1 else 2)
        self._update_controls()
        return True

    def compare_all(self) -> bool:
        return self.train(list(BALANCING))

    def stop_training(self) -> None:
        if self.is_training():
            self.session.stop()

    def _on_progress(self, p) -> None:
        self.progress.setValue(int(round(1000 * p.fraction)))
        self.progress.setFormat(f"{p.done} of {p.total} updates · "
                                f"{format_duration(p.remaining)} left")

    def _on_run_ended(self, run) -> None:
        self.plot.update_runs([run.id])
        if run.status in ("diverged", "failed"):
            self._say(f"{run.name} {run.status}: {run.stop_reason}", error=True)

    def _on_finished(self) -> None:
        self._update_controls()
        if self._closing:
            return
        self.plot.refresh()
        judged = []
        for rid, info in list(self._pending.items()):
            run = info["run"]
            del self._pending[rid]
            if run.status in ("diverged", "failed"):
                continue
            if not self._judge(run, info):
                continue
            judged.append(run)
        if judged:
            self.progress.setValue(1000 if all(r.status == "finished" for r in judged)
                                   else self.progress.value())
            states = {r.status for r in judged}
            self.progress.setFormat(f"{len(judged)} run{'s' if len(judged) > 1 else ''} "
                                    + ("finished" if states == {"finished"} else "done"))
            last = judged[-1]
            self._select_compare_row(last.id)
            if len(judged) > 1:
                self._say("Compare the minority recall of the runs: balancing finds more of "
                          "the minority class.")
            else:
                self._say(f"{last.name}: read the classification report; then try another "
                          "balancing choice or compare all four.")
        self.training_finished.emit()

    def _judge(self, run, info) -> bool:
        ds = self.table_data.dataset
        xt, yt, xv, yv = self.split
        try:
            scores = info["model"].predict(xv)
            y_pred = predicted_classes(scores)
        except ValueError as exc:
            self._say(f"{run.name}: its predictions are unusable ({exc})", error=True)
            return False
        scores_k = minority_scores(yv, y_pred, self.minority, ds.num_classes)
        report = metrics.classification_report(yv, y_pred, class_names=ds.class_names)
        self.results[run.id] = {**info, "y_pred": y_pred, "scores": scores_k, "report": report}
        self._add_compare_row(run)
        self.run_judged.emit(run)
        return True

    def _add_compare_row(self, run) -> None:
        res = self.results[run.id]
        s = res["scores"]
        ds = self.table_data.dataset
        counts = res["counts"]
        row = self.compare_table.rowCount()
        self.compare_table.insertRow(row)
        swatch = QPixmap(12, 12)
        swatch.fill(run_color(run))
        name = QTableWidgetItem(QIcon(swatch), run.name + ("" if run.status == "finished"
                                                           else f" ({run.status})"))
        name.setData(Qt.ItemDataRole.UserRole, run.id)
        self.compare_table.setItem(row, 0, name)
        self.compare_table.setItem(row, 1, QTableWidgetItem(
            " / ".join(f"{ds.class_names[k]} {int(c)}" for k, c in enumerate(counts))))
        cw = res["class_weight"]
        weights = (" / ".join(f"{ds.class_names[k]} {fmt(w)}" for k, w in cw.items())
                   if cw else "1 each")
        item = QTableWidgetItem(weights)
        if cw:
            n, c = int(counts.sum()), len(counts)
            item.setToolTip("\n".join(f"{ds.class_names[k]}: {n} / ({c} × {int(counts[k])}) = "
                                      f"{fmt(w)}" for k, w in cw.items()))
        self.compare_table.setItem(row, 2, item)
        cm = metrics.confusion_matrix(self.split[3], res["y_pred"], num_classes=ds.num_classes)
        k = self.minority
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
            self.compare_table.setItem(row, c, item)
        self._update_bars()

    def _update_bars(self) -> None:
        """Recall and precision of the minority class, one pair of bars per run, in table order."""
        rows = []
        for r in range(self.compare_table.rowCount()):
            rid = self.compare_table.item(r, 0).data(Qt.ItemDataRole.UserRole)
            res = self.results.get(rid)
            if res is not None:
                rows.append((res["run"].name, res["scores"]))
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

    def compare_value(self, run_id: int, column: str) -> float:
        """The full value behind a comparison cell."""
        c = COMPARE_COLUMNS.index(column)
        for r in range(self.compare_table.rowCount()):
            if self.compare_table.item(r, 0).data(Qt.ItemDataRole.UserRole) == run_id:
                return float(self.compare_table.item(r, c).data(Qt.ItemDataRole.UserRole))
        raise KeyError(run_id)

    def _select_compare_row(self, run_id: int) -> None:
        for r in range(self.compare_table.rowCount()):
            if self.compare_table.item(r, 0).data(Qt.ItemDataRole.UserRole) == run_id:
                self.compare_table.selectRow(r)
        self._show_report(run_id)

    def _on_compare_selected(self) -> None:
        rows = {i.row() for i in self.compare_table.selectedIndexes()}
        if rows:
            rid = self.compare_table.item(min(rows), 0).data(Qt.ItemDataRole.UserRole)
            self._show_report(rid)

    def _show_report(self, run_id: int) -> None:
        res = self.results.get(run_id)
        if res is None:
            return
        run = res["run"]
        self.report_title.setText(f"Classification report of <b>{run.name}</b> on the "
                                  f"{len(self.split[3])} validation customers "
                                  "(threshold 0.5):")
        self.report_view.setPlainText(res["report"])

    def _update_controls(self) -> None:
        running = self.is_training()
        for w in (self.train_button, self.compare_button, self.balance_combo, self.epochs_spin,
                  self.data_panel):
            w.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        if error:
            self.show_status(text, 8000)

    # --- lifecycle ----------------------------------------------------------------------------
    def deactivate(self) -> None:
        if self.session is not None and self.is_training():
            self.session.stop_and_wait(5000, why="when you left the lesson")
        self._update_controls()

    def shutdown(self) -> None:
        self._closing = True
        if self.session is not None:
            self.session.stop_and_wait(5000, why="when the window closed")
        super().shutdown()
