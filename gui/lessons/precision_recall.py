"""Precision, recall, F1 (tutorial 19): a trained classifier's predictions, judged class by class.

A small dense network is trained in a worker (gui.training_worker) on the task the learner
picks: 10 digit classes, or the binary breast-cancer task (positive = malignant). Its
predictions on the held-out examples fill a confusion matrix drawn as a heat map; clicking a
cell lists the examples in it. Beside it, every class's TP, FP, FN, precision, recall and F1,
with the formula and the numbers plugged in, and the macro and weighted averages. For the
binary task a threshold slider re-decides every prediction (score ≥ threshold = malignant):
the matrix, the figures and a point on the precision-recall curve move with it.

All figures come from core.metrics (tested against scikit-learn) via core.teaching.classifier_eval.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QSlider, QSpinBox, QSplitter, QTableWidget,
                               QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from core import metrics
from core.teaching.classifier_eval import (TASKS, TRAIN_SETTINGS, ClassifierTask, build_classifier,
                                           per_class, predicted_classes, prepare_task)
from core.teaching.runs import RunStore
from gui.lessons.base import Lesson
from gui.lessons.precision_recall_formulas import PrecisionRecallFormulas
from gui.training_worker import TrainingSession, TrainingTask
from gui.widgets.colors import FORWARD_COLOR
from gui.widgets.confusion_matrix import CellExamples, ConfusionMatrixView
from gui.widgets.numbers import fmt, mono_font
from gui.widgets.progress_bar import progress_bar


COLUMNS = ("class", "TP", "FP", "FN", "support", "precision", "recall", "F1")
THRESHOLD_STEPS = 1000          # the slider moves the threshold in steps of 0.001
ERROR_STYLE = "color: #b00020; font-weight: 600;"


class PrecisionRecallLesson(PrecisionRecallFormulas, Lesson):
    title = "Precision, recall, F1"
    subtitle = ("A trained network's predictions on held-out data: where it is right and "
                "wrong (the confusion matrix), and precision, recall and F1 for every class.")
    help_name = "precision_recall"
    course_tutorials = (19,)

    #: the figures were recomputed (after training, or a threshold change)
    results_changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.store = RunStore(prefix="classifier")
        self.session: TrainingSession | None = None
        self.task: ClassifierTask | None = None
        self._tasks: dict[str, ClassifierTask] = {}
        # a task's data is read in a worker (the digits parse for seconds on a slow disk);
        # Train pressed meanwhile trains the moment it arrives
        self._loaders: dict[str, object] = {}
        self._train_when_loaded = False
        self._results: dict[str, dict] = {}      # task key → {"scores", "model", "run"}
        self.scores: np.ndarray | None = None
        self.y_pred: np.ndarray | None = None
        self.figures = None
        self.selected_class = 0
        self._closing = False
        self._started_once = False

        visual = QWidget()
        outer = QVBoxLayout(visual)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(4)
        self.message = self.make_message_label()
        outer.addWidget(self.message)
        root = QSplitter(Qt.Orientation.Horizontal)
        root.setChildrenCollapsible(False)
        self.matrix = ConfusionMatrixView()
        root.addWidget(self.matrix)

        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Figures and examples")
        self.tabs.addTab(self._build_figures(), "Precision, recall, F1")
        self.examples = CellExamples()
        self.tabs.addTab(self.examples, "Examples in the cell")
        self.tabs.setTabToolTip(0, "Per-class figures with their formulas; the binary task "
                                   "adds the threshold and the precision-recall curve")
        self.tabs.setTabToolTip(1, "The held-out examples in the confusion-matrix cell you "
                                   "clicked")
        root.addWidget(self.tabs)
        root.setStretchFactor(0, 2)
        root.setStretchFactor(1, 3)
        root.setSizes([400, 600])
        outer.addWidget(root, 1)
        visual_widget = visual
        self.set_visual(visual_widget)

        self._build_controls()
        self.matrix.cell_selected.connect(lambda i, j, idx: self._on_cell(i, j, idx, True))
        self.table.itemSelectionChanged.connect(self._on_row_selected)

    # --- building ---------------------------------------------------------------------------
    def _build_figures(self) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(
            self.table.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setFont(mono_font())
        self.table.setAccessibleName("Precision, recall and F1 per class")
        self.table.setToolTip("One row per class; hover a number for its formula with the "
                              "numbers plugged in, select a row to see them below")
        tips = {"TP": "True positives of the class: truly it and predicted it (the diagonal "
                      "cell)",
                "FP": "False positives: predicted as the class but truly another (its column "
                      "minus the diagonal)",
                "FN": "False negatives: truly the class but predicted as another (its row "
                      "minus the diagonal)",
                "support": "How many held-out examples truly belong to the class (its row)",
                "precision": "precision = TP / (TP + FP): of those predicted as the class, "
                             "the share that are",
                "recall": "recall = TP / (TP + FN): of those that are the class, the share "
                          "found",
                "F1": "F1 = 2·precision·recall / (precision + recall): their harmonic mean",
                "class": "The class; the last rows are the macro and weighted averages"}
        for c, name in enumerate(COLUMNS):
            self.table.horizontalHeaderItem(c).setToolTip(tips[name])
        lay.addWidget(self.table, 3)
        self.formula = QLabel("Train a network to see its figures.")
        self.formula.setFont(mono_font())
        self.formula.setWordWrap(True)
        self.formula.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.formula.setAccessibleName("Formulas with numbers")
        self.formula.setToolTip("The selected class's figures with the counts plugged in")
        self.formula.setMinimumHeight(3 * self.formula.fontMetrics().lineSpacing() + 6)
        self.formula.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        lay.addWidget(self.formula)

        self.binary_box = QWidget()
        bl = QVBoxLayout(self.binary_box)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.setSpacing(2)
        row = QHBoxLayout()
        caption = QLabel("Threshold:")
        row.addWidget(caption)
        self.threshold_slider = QSlider(Qt.Orientation.Horizontal)
        self.threshold_slider.setRange(0, THRESHOLD_STEPS)
        self.threshold_slider.setValue(THRESHOLD_STEPS // 2)
        self.threshold_slider.setSingleStep(5)
        self.threshold_slider.setPageStep(50)
        self.threshold_slider.setToolTip(
            "Decision threshold t: a tumour is predicted malignant when the network's score "
            "(its sigmoid output) is ≥ t. Lower t finds more malignant tumours (recall up) "
            "but raises more false alarms (precision down).")
        self.threshold_slider.setAccessibleName("Decision threshold")
        caption.setBuddy(self.threshold_slider)
        row.addWidget(self.threshold_slider, 1)
        self.threshold_label = QLabel()
        self.threshold_label.setFont(mono_font())
        self.threshold_label.setMinimumWidth(
            self.threshold_label.fontMetrics().horizontalAdvance("t = 0.000 ") + 4)
        row.addWidget(self.threshold_label)
        bl.addLayout(row)
        self.pr_plot = pg.PlotWidget(enableMenu=False)   # no menu made to be thrown away
        self.pr_plot.setBackground("w")
        self.pr_plot.showGrid(x=True, y=True, alpha=0.25)
        self.pr_plot.setLabel("bottom", "recall")
        self.pr_plot.setLabel("left", "precision")
        self.pr_plot.setTitle("Precision-recall curve (every threshold)", color="#1d232b")
        for axis in ("left", "bottom"):
            self.pr_plot.getAxis(axis).enableAutoSIPrefix(False)
        self.pr_plot.setXRange(0, 1.02, padding=0)
        self.pr_plot.setYRange(0, 1.05, padding=0)
        self.pr_plot.setMouseEnabled(x=False, y=False)
        self.pr_plot.setMinimumHeight(170)
        self.pr_plot.setAccessibleName("Precision-recall curve")
        self.pr_curve = self.pr_plot.plot([], [], pen=pg.mkPen("#2166ac", width=2),
                                          stepMode=None)
        self.pr_point = pg.ScatterPlotItem(size=13, brush=pg.mkBrush(FORWARD_COLOR),
                                           pen=pg.mkPen("w", width=1.5))
        self.pr_point.setZValue(10)
        self.pr_plot.addItem(self.pr_point)
        self.pr_text = pg.TextItem(color="#1d232b", anchor=(0, 1))
        self.pr_plot.addItem(self.pr_text)
        bl.addWidget(self.pr_plot, 4)
        self.binary_box.setVisible(False)
        lay.addWidget(self.binary_box, 4)
        self.accuracy_label = QLabel()
        self.accuracy_label.setFont(mono_font())
        self.accuracy_label.setAccessibleName("Accuracy")
        lay.addWidget(self.accuracy_label)
        self.threshold_slider.valueChanged.connect(self._on_threshold)
        return box

    def _build_controls(self) -> None:
        self.task_combo = self.add_control(QComboBox(), label="Task:",
                                           tooltip="What the network learns: 10 digit classes, "
                                                   "or the binary breast-cancer diagnosis",
                                           name="Task")
        for key, text in TASKS.items():
            self.task_combo.addItem(text, key)
        self.seed_spin = self.add_control(QSpinBox(), label="Seed:",
                                          tooltip="Seed of the starting weights and shuffling",
                                          name="Seed")
        self.seed_spin.setRange(0, 9999)
        self.train_button = self.add_control(
            QPushButton("Train"), tooltip="Train the network on this task (in the background) "
                                          "and judge it on the held-out examples",
            name="Train the classifier")
        self.stop_button = self.add_control(QPushButton("Stop"),
                                            tooltip="Stop training; the network is judged as "
                                                    "it is now", name="Stop training")
        self.progress = self.add_control(progress_bar("not trained yet"),
                                         tooltip="Weight updates done",
                                         name="Training progress", stretch=1)
        self.add_pace_control(None)  # the story is the judged result: full speed
        self.task_combo.currentIndexChanged.connect(self._on_task_changed)
        self.train_button.clicked.connect(self.train)
        self.stop_button.clicked.connect(self.stop_training)
        self._update_buttons()

    # --- training --------------------------------------------------------------------------
    def task_key(self) -> str:
        return self.task_combo.currentData()

    def set_task(self, key: str) -> None:
        self.task_combo.setCurrentIndex(self.task_combo.findData(key))

    def _task(self, key: str) -> ClassifierTask:
        return self._tasks[key]

    def _load_task(self, key: str) -> None:
        if key in self._loaders:
            return
        self._loaders[key] = self.start_worker(
            prepare_task, key, on_finished=lambda task, k=key: self._on_task_loaded(k, task),
            on_failed=lambda exc, k=key: self._on_task_failed(k, exc))

    def _on_task_loaded(self, key: str, task) -> None:
        self._loaders.pop(key, None)
        if task is None or self._closing:
            return
        self._tasks[key] = task
        if self._train_when_loaded and key == self.task_key():
            self._train_when_loaded = False
            self.train()
        self._update_buttons()

    def _on_task_failed(self, key: str, exc) -> None:
        self._loaders.pop(key, None)
        if key == self.task_key():
            self._train_when_loaded = False
            self.progress.setFormat("no data")
            self._say(f"Cannot load the data: {exc}", error=True)
        self._update_buttons()

    def train(self) -> bool:
        if self.is_training():
            return False
        key = self.task_key()
        if key not in self._tasks:  # loading first; training follows on its own
            self._train_when_loaded = True
            self._load_task(key)
            self.progress.setFormat("loading the data…")
            self._say(f"Loading the {self.task_combo.currentText()} data; training starts "
                      "when it is in…")
            self._update_buttons()
            return True
        task = self._task(key)
        seed = self.seed_spin.value()
        settings = TRAIN_SETTINGS[key]
        model = build_classifier(task, seed)
        run = self.store.new_run({"dataset": task.name, "seed": seed, **settings})
        t = TrainingTask(run, model, task.x_train, task.y_train, epochs=settings["epochs"],
                         batch_size=settings["batch_size"],
                         validation_data=(task.x_val, task.y_val), seed=seed)
        self.session = TrainingSession([t], parent=self)
        self.session.progress_changed.connect(self._on_progress)
        self.session.finished.connect(lambda k=key, m=model, r=run: self._on_trained(k, m, r))
        self.progress.setValue(0)
        self.progress.setFormat(f"training on {task.name}…")
        self._say(f"Training a small network on {task.name}: "
                  f"{settings['epochs']} epochs, batch size {settings['batch_size']}…")
        self.start_session(self.session)
        self._update_buttons()
        return True

    def stop_training(self) -> None:
        if self._train_when_loaded:  # pressed while the data was loading
            self._train_when_loaded = False
            self.progress.setFormat("stopped before training")
            self._update_buttons()
        if self.is_training():
            self.session.stop()

    def _on_progress(self, p) -> None:
        self.progress.setValue(int(round(1000 * p.fraction)))
        self.progress.setFormat(f"{p.done} of {p.total} weight updates")

    def _on_trained(self, key: str, model, run) -> None:
        self._update_buttons()
        if self._closing:
            return
        if run.status in ("diverged", "failed"):
            self._say(f"Training {run.status}: {run.stop_reason}", error=True)
            self.progress.setFormat(run.status)
            return
        task = self._task(key)
        try:
            scores = model.predict(task.x_val)
            predicted_classes(scores)          # NaN scores are refused here, with a message
        except ValueError as exc:
            self._say(f"The network's predictions are unusable: {exc}", error=True)
            return
        if task.binary:
            scores = scores.reshape(-1)         # (N,) sigmoid score of "malignant"
        self._results[key] = {"scores": scores, "model": model, "run": run}
        acc = run.epochs.last("val_accuracy")
        note = "" if run.status == "finished" else f" ({run.stop_reason})"
        self.progress.setValue(1000 if run.status == "finished" else self.progress.value())
        self.progress.setFormat(f"trained: {run.steps} weight updates{note}")
        self._say(f"{task.description}" + (f" Validation accuracy {fmt(acc)}." if acc else ""))
        if key == self.task_key():
            self.show_results()

    def _update_buttons(self) -> None:
        running = self.is_training()
        waiting = self._train_when_loaded  # for its data: another task can still be chosen
        self.train_button.setEnabled(not (running or waiting))
        self.stop_button.setEnabled(running or waiting)
        self.task_combo.setEnabled(not running)
        self.seed_spin.setEnabled(not running)

    def _on_task_changed(self, *_):
        key = self.task_key()
        if key in self._results:
            self.show_results()
        else:
            self._clear_results()
            if not self.is_training():
                self.train()

    # --- figures ---------------------------------------------------------------------------
    def threshold(self) -> float:
        return self.threshold_slider.value() / THRESHOLD_STEPS

    def set_threshold(self, t: float) -> None:
        self.threshold_slider.setValue(int(round(float(t) * THRESHOLD_STEPS)))

    def _clear_results(self) -> None:
        self.task = None
        self.scores = self.y_pred = self.figures = None
        self.matrix.clear("Training…" if self.is_training() else
                          "Loading the data…" if self._train_when_loaded else "Press Train")
        self.examples.clear()
        self.table.setRowCount(0)
        self.formula.setText("Train a network to see its figures.")
        self.accuracy_label.setText("")
        self.binary_box.setVisible(False)

    def show_results(self) -> None:
        """Show the current task's predictions: matrix, table, (binary) curve."""
        key = self.task_key()
        res = self._results.get(key)
        if res is None:
            self._clear_results()
            return
        task = self._task(key)
        if task is not self.task:
            # the positive class (malignant) first; for digits the first class
            self.selected_class = 1 if task.binary else 0
        self.task = task
        self.scores = res["scores"]
        self.examples.set_class_names(self.task.class_names)
        if self.task.binary:
            self.examples.set_table(self.task.show_columns, self.task.x_show)
            p, r, _ = metrics.precision_recall_curve(self.task.y_val, self.scores)
            self.pr_curve.setData(r, p)
        else:
            self.examples.set_images(self.task.x_show)
        self.binary_box.setVisible(self.task.binary)
        self.matrix.clear_selection()
        self._recompute()

    def _on_threshold(self, *_):
        self.threshold_label.setText(f"t = {self.threshold():.3f}")
        if self.task is not None and self.task.binary:
            self._recompute()

    def _recompute(self) -> None:
        task = self.task
        self.threshold_label.setText(f"t = {self.threshold():.3f}")
        self.y_pred = predicted_classes(self.scores, self.threshold())
        self.figures = per_class(task.y_val, self.y_pred, task.num_classes)
        self.matrix.set_data(task.y_val, self.y_pred, task.class_names)
        self._fill_table()
        if task.binary:
            self._move_point()
        sel = self.matrix.selected
        if sel is not None:
            self._on_cell(*sel, self.matrix.examples(*sel))
        self.results_changed.emit()

    def _fill_table(self) -> None:
        f, names = self.figures, self.task.class_names
        c = len(names)
        self.table.blockSignals(True)
        self.table.setRowCount(c + 2)
        for k in range(c):
            tp, fp, fn = int(f.tp[k]), int(f.fp[k]), int(f.fn[k])
            tips = self._class_tips(k)
            values = [names[k], tp, fp, fn, int(f.support[k]), f.precision[k], f.recall[k],
                      f.f1[k]]
            for col, v in enumerate(values):
                self._set_cell(k, col, v, tips.get(COLUMNS[col], ""))
        for r, (label, avg) in enumerate((("macro avg", f.macro), ("weighted avg", f.weighted))):
            row = c + r
            kind = "macro" if r == 0 else "weighted"
            self._set_cell(row, 0, label, "macro: the plain mean over the classes; weighted: "
                                          "each class weighted by its support")
            for col in (1, 2, 3):
                self._set_cell(row, col, "", "")
            self._set_cell(row, 4, int(f.support.sum()), "All held-out examples")
            for col, m in ((5, "precision"), (6, "recall"), (7, "F1")):
                self._set_cell(row, col, avg["f1" if m == "F1" else m],
                               self._average_formula(kind, m))
        sel = min(self.selected_class, c - 1)
        self.table.selectRow(sel)
        if self.task.binary:      # four rows: give the rest of the height to the curve
            rows_h = sum(self.table.rowHeight(r) for r in range(c + 2))
            self.table.setMaximumHeight(rows_h + self.table.horizontalHeader().height() + 6)
        else:
            self.table.setMaximumHeight(16777215)
        self.table.blockSignals(False)
        self._show_formulas(sel)
        acc = f.accuracy
        right, total = int(np.trace(f.cm)), int(f.cm.sum())
        self.accuracy_label.setText(f"accuracy = {right}/{total} = {fmt(acc)}")
        self.accuracy_label.setToolTip(
            f"accuracy = correct / all = diagonal sum / total = {right}/{total} = {acc!r}")

    def _set_cell(self, row: int, col: int, value, tip: str) -> None:
        if isinstance(value, (float, np.floating)):
            text = fmt(value)
        else:
            text = str(value)
        item = QTableWidgetItem(text)
        if isinstance(value, (int, float, np.integer, np.floating)):
            item.setData(Qt.ItemDataRole.UserRole, float(value))
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if row >= len(self.task.class_names):
            item.setBackground(QColor("#eef1f5"))
        if tip:
            item.setToolTip(tip)
        self.table.setItem(row, col, item)

    # --- cells and threshold ----------------------------------------------------------------
    def _on_cell(self, i: int, j: int, indices, clicked: bool = False) -> None:
        task = self.task
        if task is None:
            return
        if task.binary:
            notes = [fmt(self.scores[k]) for k in indices[: self.examples.MAX_SHOWN]]
        else:
            notes = [f"p({task.class_names[j]}) = {fmt(self.scores[k, j])}"
                     for k in indices[: self.examples.MAX_SHOWN]]
        self.examples.show_cell(i, j, indices, notes)
        if clicked:
            self.tabs.setCurrentWidget(self.examples)
            name_i, name_j = task.class_names[i], task.class_names[j]
            if i == j:
                what = f"these {len(indices)} are the true positives of {name_i}"
            else:
                what = (f"these {len(indices)} are false negatives of {name_i} and false "
                        f"positives of {name_j}")
            self.show_status(f"True {name_i}, predicted {name_j}: {what}", 6000)

    def _move_point(self) -> None:
        m = metrics.metrics_at_threshold(self.task.y_val, self.scores, self.threshold())
        self.pr_point.setData([m["recall"]], [m["precision"]])
        self.pr_text.setText(f"t = {self.threshold():.3f}: P = {fmt(m['precision'])}, "
                             f"R = {fmt(m['recall'])}")
        self.pr_text.setPos(0.02, 0.02)
        self.pr_point.setToolTip(
            f"threshold {self.threshold():.3f}: TP {m['tp']}, FP {m['fp']}, FN {m['fn']}\n"
            f"precision = {m['tp']}/({m['tp']}+{m['fp']}) = {fmt(m['precision'])}\n"
            f"recall = {m['tp']}/({m['tp']}+{m['fn']}) = {fmt(m['recall'])}")

    def point(self) -> tuple[float, float]:
        """The (recall, precision) point shown on the curve."""
        xs, ys = self.pr_point.getData()
        return float(xs[0]), float(ys[0])

    def shown_value(self, row: int, column: str) -> float:
        """The full value behind a table cell (what the cell shows, to 4 digits)."""
        item = self.table.item(row, COLUMNS.index(column))
        return float(item.data(Qt.ItemDataRole.UserRole))

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        if error:
            self.show_status(text, 8000)

    # --- lifecycle ----------------------------------------------------------------------------
    def activate(self) -> None:
        if not self._started_once:
            self._started_once = True
            if self.task_key() not in self._results and not self.is_training():
                self.train()

    def deactivate(self) -> None:
        self._train_when_loaded = False  # leaving cancels a start that waited for the data
        super().deactivate()          # stops the training session
        self._update_buttons()

    def shutdown(self) -> None:
        self._closing = True
        super().shutdown()
