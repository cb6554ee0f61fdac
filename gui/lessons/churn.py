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
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QFrame, QLabel, QLineEdit,
                               QPushButton, QScrollArea, QSpinBox, QSplitter, QTabWidget,
                               QVBoxLayout, QWidget)

from core import metrics
from core.teaching.classifier_eval import predicted_classes
from core.data import ReadCancelled, churn_csv_text
from core.teaching.imbalance import (BALANCING, DEFAULT_HIDDEN, TableData, balance,
                                     build_tabular_model, csv_header, guess_id_columns,
                                     guess_target, load_table, minority_class, minority_scores,
                                     read_text_file, split_table)
from core.teaching.runs import RunStore
from gui.lessons.base import Lesson
from gui.training_worker import TrainingSession, TrainingTask, format_duration
from gui.lessons.churn_tabs import TrainingReportPage
from gui.widgets.balancing_compare import BalancingCompare
from gui.widgets.churn_factors import ChurnFactorsView
from gui.widgets.load_progress import LoadProgress, worker_progress
from gui.widgets.numbers import fmt
from gui.widgets.preprocessing_view import PreprocessingView
from gui.widgets.lazy_tab import LazyTab
from gui.widgets.progress_bar import progress_bar

SYNTHETIC_SOURCE = "synthetic-churn.csv"
BATCH_SIZE = 32
LEARNING_RATE = 0.003
PREVIEW = 6
ERROR_STYLE = "color: #b00020; font-weight: 600;"
#: CSV text longer than this is encoded again in a worker when its columns change (~0.1 s)
LARGE_TEXT = 256 * 1024


class ChurnLesson(Lesson):
    title = "Customer churn"
    subtitle = ("Which customers will leave? A table of customers becomes numbers a network can "
                "learn from; then see what imbalanced classes do to its recall, and fix it.")
    help_name = "churn"
    course_tutorials = (18, 21)

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
        self._example_pending = True    # the example table is made once the lesson shows
        self._loader = None          # the Worker reading a CSV file, while it runs

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
        self.factors = ChurnFactorsView()
        self.tabs.addTab(self.factors, "1 · Why do they leave?")
        self.preprocessing = PreprocessingView()
        self.report_list = self.preprocessing.report_list
        self.before_table = self.preprocessing.before_table
        self.after_table = self.preprocessing.after_table
        self.tabs.addTab(self.preprocessing, "2 · Preprocessing")
        # steps 3 and 4 are hidden at opening: built when first looked at (or first needed)
        self._minority_text = ""
        self._training_page = LazyTab(self._build_training_page)
        self.tabs.addTab(self._training_page, "3 · Training && report")
        self._compare_page = LazyTab(self._build_compare)
        self.tabs.addTab(self._compare_page, "4 · Imbalance: compare")
        for i, tip in enumerate((
                "The course's question first: the share of customers who left, by each factor",
                "What was done to the table so a network can read it",
                "The training curves and the classification report on the validation customers",
                "Runs side by side: how each balancing choice changed the minority class's "
                "recall, precision and F1")):
            self.tabs.setTabToolTip(i, tip)
        rv.addWidget(self.tabs, 1)
        root.addWidget(right)
        root.setStretchFactor(0, 0)
        root.setStretchFactor(1, 1)
        self.set_visual(root)
        self._build_controls()
        # the example table is made in a worker, started once the lesson is on screen
        self.after_first_paint(self._load_example)

    # --- building ---------------------------------------------------------------------------
    def _build_training_page(self) -> TrainingReportPage:
        page = TrainingReportPage()
        page.plot.show_plan(self.epochs_spin.value())
        self.epochs_spin.valueChanged.connect(page.plot.show_plan)
        return page

    def _build_compare(self) -> BalancingCompare:
        compare = BalancingCompare()
        compare.run_selected.connect(self._show_report)
        compare.minority_label.setText(self._minority_text)
        return compare

    plot = property(lambda self: self._training_page.content().plot)
    report_title = property(lambda self: self._training_page.content().report_title)
    report_view = property(lambda self: self._training_page.content().report_view)
    compare = property(lambda self: self._compare_page.content())
    compare_table = property(lambda self: self.compare.table)
    minority_label = property(lambda self: self.compare.minority_label)

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
        self.load_progress = LoadProgress()
        self.load_progress.cancel_requested.connect(self.cancel_loading)
        form.addRow(self.load_progress)
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
        self.progress = self.add_control(progress_bar("ready"), tooltip="Weight updates done",
                                         name="Training progress", stretch=1)
        self.progress.setMinimumWidth(100)
        self.add_pace_control(None)  # the story is the end result: full speed
        self.train_button.clicked.connect(lambda: self.train())
        self.compare_button.clicked.connect(self.compare_all)
        self.stop_button.clicked.connect(self.stop_training)
        self._update_controls()

    # --- data ------------------------------------------------------------------------------
    def _load_example(self) -> None:
        self._example_pending = False
        if self.table_data is None and self._loader is None:
            self.use_synthetic(in_background=True)
        else:
            self._update_controls()

    def use_synthetic(self, in_background: bool = False) -> bool:
        if in_background:  # as the lesson opens: making and encoding 2,000 rows took ~0.3 s
            return self._load_in_background(lambda: load_table(churn_csv_text(
                2000, 0), SYNTHETIC_SOURCE, synthetic=True), "the example") is not None
        return self.load_text(churn_csv_text(2000, 0), SYNTHETIC_SOURCE, synthetic=True)

    def open_csv(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a CSV file", "",
                                              "CSV files (*.csv);;All files (*)")
        if path:
            self.load_csv_in_background(path)

    # --- reading off the GUI thread (a million rows take seconds to encode) -----------------
    def load_csv_in_background(self, path):
        """Read and encode the CSV at `path` in a worker, with progress and Cancel; the
        table in use stays until the new one is ready. Returns the Worker (None if busy)."""
        path = Path(path)

        def job():
            text = read_text_file(path)
            header = csv_header(text, path.name)
            target = guess_target(header)
            drop = [c for c in guess_id_columns(header) if c != target]
            return load_table(text, path.name, target, drop, progress=worker_progress())
        return self._load_in_background(job, path.name)

    def _load_in_background(self, job, name: str, on_failed=None):
        if self._loader is not None:
            return None
        if self.is_training():
            self._say("Stop the training before changing the data.", error=True)
            return None

        def finished(table):
            if self.is_training():
                self._say("Stop the training before changing the data.", error=True)
                return
            self._set_table(table, count_in_worker=True)   # the window stays free after it too

        def failed(exc):
            if isinstance(exc, ReadCancelled):
                self._say(f"Reading {name} was cancelled; the data in use stays.")
            elif isinstance(exc, (ValueError, OSError)):
                self._say(f"This file cannot be used: {exc}", error=True)
            else:
                self._say(f"Reading {name} failed: {type(exc).__name__}: {exc}", error=True)
            if on_failed is not None:
                on_failed()

        def done():
            self._loader = None
            self.load_progress.finish()
            self._update_controls()

        self.load_progress.start(name)
        self._loader = self.start_worker(job, on_progress=self.load_progress.set_fraction,
                                         on_finished=finished, on_failed=failed,
                                         on_done=done)
        self._update_controls()
        return self._loader

    def is_loading(self) -> bool:
        return self._loader is not None or self._example_pending

    def cancel_loading(self) -> None:
        if self._loader is not None:
            self._loader.cancel()
            self.load_progress.cancelling()

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

    def _set_table(self, table: TableData, count_in_worker: bool = False) -> None:
        if self.table_data is not None and self.results:
            # runs on other data (or another target) would be compared unfairly: start over
            self.results.clear()
            self.compare.clear()
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
        self.preprocessing.show_table(table, PREVIEW)
        self._describe_minority()
        # step 1 counts the raw rows again: in a worker for a big file or one read in a worker
        self.factors.count(table, self.minority, self.start_worker
                           if count_in_worker or len(table.text) > LARGE_TEXT else None)
        self._say(f"Loaded {table.source}. Step 1: which customers leave; step 2: how the table "
                  "was encoded; step 3: train.")
        if self._training_page.is_built():
            self.report_view.setPlainText("Press Train.")

    def _on_target_changed(self, target: str) -> None:
        t = self.table_data
        if t is None or not target or target == t.target:
            return
        drop = [c for c in guess_id_columns(t.header) if c != target]

        def restore():
            self.target_combo.blockSignals(True)
            self.target_combo.setCurrentText(t.target)
            self.target_combo.blockSignals(False)
        if len(t.text) > LARGE_TEXT:        # seconds of encoding: not on the GUI thread
            if self._reload_in_background(t, target, drop, restore) is None:
                restore()
        elif not self.load_text(t.text, t.source, t.synthetic, target=target, drop=drop):
            restore()

    def _on_drop_changed(self) -> None:
        t = self.table_data
        if t is None:
            return
        drop = [c.strip() for c in self.drop_edit.text().split(",") if c.strip()]
        if tuple(drop) == tuple(t.drop):
            return

        def restore():
            self.drop_edit.setText(", ".join(t.drop))
        if len(t.text) > LARGE_TEXT:
            if self._reload_in_background(t, t.target, drop, restore) is None:
                restore()
        elif not self.load_text(t.text, t.source, t.synthetic, target=t.target, drop=drop):
            restore()

    def _reload_in_background(self, t: TableData, target: str, drop, restore):
        """The table in use encoded again for another target or other dropped columns."""
        def job():
            return load_table(t.text, t.source, target, drop, synthetic=t.synthetic,
                              progress=worker_progress())
        return self._load_in_background(job, t.source, on_failed=restore)

    def _describe_minority(self) -> None:
        ds = self.table_data.dataset
        xt, yt, xv, yv = self.split
        k = minority_class(yt)
        counts = np.bincount(yt, minlength=ds.num_classes)
        self.minority = k
        share = counts[k] / len(yt)
        self._minority_text = (
            f"Recall, precision and F1 below are the minority class's: "
            f"<b>{self.table_data.target} = {ds.class_names[k]}</b>, "
            f"{counts[k]} of {len(yt)} training rows ({fmt(100 * share)} %). A network that "
            f"never predicts it is still right {fmt(100 * (1 - share))} % of the time: accuracy "
            f"hides it, the minority's recall does not.")
        if self._compare_page.is_built():
            self.minority_label.setText(self._minority_text)

    # --- training ------------------------------------------------------------------------
    def method(self) -> str:
        return self.balance_combo.currentData()

    def train(self, methods=None) -> bool:
        """Train one network per balancing method (the chosen one by default)."""
        if self.is_training() or self.table_data is None or self.is_loading():
            return False
        methods = [self.method()] if methods is None else list(methods)
        ds = self.table_data.dataset
        xt, yt, xv, yv = self.split
        epochs = self.epochs_spin.value()
        done = self.trained_run(methods, epochs)
        if done:
            # the same data, start and settings: a second row would only repeat the first
            methods = [m for m in methods if m not in done]
            names = ", ".join(BALANCING[m] for m in done)
            if not methods:
                self._select_compare_row(done[list(done)[-1]])
                self.tabs.setCurrentIndex(3)
                rows = "its row" if len(done) == 1 else "their rows"
                self._say(f"Already trained for {epochs} epochs on this data: {names} (see "
                          f"{rows} in step 4). Change the epochs to train again.")
                return False
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
                                         "class_weight": cw, "run": run, "epochs": epochs}
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
        self.start_session(self.session)
        what = ", ".join(f"{t.run.name} on {len(t.y)} rows" for t in tasks)
        kept = f" ({names}: already trained, kept)" if done else ""
        self._say(f"Training for {epochs} epochs: {what}{kept}…")
        self.tabs.setCurrentIndex(2 if len(methods) == 1 else 3)
        self._update_controls()
        return True

    def trained_run(self, methods, epochs: int) -> dict[str, int]:
        """{method: run id} of the given methods already trained (or training) for `epochs`
        epochs on the data in use (a run stopped early may be trained again)."""
        out = {}
        for rid, info in list(self.results.items()) + list(self._pending.items()):
            stopped = info["run"].status not in ("finished", "running", "new")
            if info["method"] in methods and info.get("epochs") == epochs and not stopped:
                out[info["method"]] = rid
        return out

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
        self.compare.add_run(run, self.results[run.id], ds.class_names, yv, self.minority)
        self.run_judged.emit(run)
        return True

    def bar_heights(self) -> tuple[list[float], list[float]]:
        """(recall heights, precision heights) as drawn."""
        return self.compare.bar_heights()

    def compare_value(self, run_id: int, column: str) -> float:
        """The full value behind a comparison cell."""
        return self.compare.value(run_id, column)

    def _select_compare_row(self, run_id: int) -> None:
        self.compare.select_run(run_id)
        self._show_report(run_id)

    def _show_report(self, run_id: int) -> None:
        res = self.results.get(run_id)
        if res is None:
            return
        self.report_title.setText(f"Classification report of <b>{res['run'].name}</b> on the "
                                  f"{len(self.split[3])} validation customers (threshold 0.5):")
        self.report_view.setPlainText(res["report"])

    def _update_controls(self) -> None:
        running = self.is_training()
        busy = running or self.is_loading()
        for w in (self.train_button, self.compare_button, self.balance_combo, self.epochs_spin,
                  self.target_combo, self.drop_edit, self.open_button, self.synthetic_button):
            w.setEnabled(not busy)
        self.data_panel.setEnabled(not running)   # Cancel stays usable while reading
        self.stop_button.setEnabled(running)

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        self.show_status(text, 8000) if error else None

    def deactivate(self) -> None:
        super().deactivate()        # stops the training and waits for it
        self._update_controls()

    def shutdown(self) -> None:
        self._closing = True        # the stopped runs are not judged any more
        super().shutdown()
