"""Training dashboard: configure a network, train it, watch the curves, compare runs.

The course's TensorBoard tutorial (16) in one lesson: loss and accuracy of training and
validation data plotted live per batch and per epoch, every run kept for comparison with its
settings beside it, exports to CSV and TensorBoard event files (dashboard_export), and the
equivalent Keras code.
The data and the model come from core.teaching.tasks; the pieces shown are reusable:
gui.widgets.training_plot.TrainingPlot, gui.widgets.run_table.RunTable,
gui.widgets.network_editor.LayerListEditor, gui.training_worker.TrainingSession and
core.teaching.runs.RunStore.
"""
from __future__ import annotations

import os

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QFrame, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QScrollArea, QSpinBox, QSplitter, QStyle,
                               QTabWidget, QVBoxLayout, QWidget)

from core.teaching.keras_code import keras_code_for_model
from core.teaching.runs import RunStore
from core.teaching.tasks import PreparedData, build_classifier, parse_learning_rate, prepare_dataset
from gui.lessons.base import Lesson
from gui.lessons.dashboard_csv import DashboardCsv, _csv_cache_key
from gui.lessons.dashboard_export import DashboardExport
from gui.training_worker import (Progress, TrainingSession, TrainingTask, format_duration,
                                 remaining_formula)
from gui.widgets.code_view import CodeView
from gui.widgets.load_progress import LoadProgress
from gui.widgets.network_editor import LayerListEditor
from gui.widgets.numbers import fmt, mono_font
from gui.widgets.run_table import RunTable
from gui.widgets.training_plot import TrainingPlot
from gui.widgets.progress_bar import progress_bar


DATASETS = (
    ("digits", "Digits (5,000 real MNIST)"),
    ("breast_cancer", "Breast cancer (569 tumours)"),
    ("insurance", "Insurance (SYNTHETIC, 200 people)"),
    ("csv", "CSV file…"),
)
ACTIVATIONS = ("relu", "sigmoid", "tanh", "leaky_relu", "linear")
LEARNING_RATES = ("0.0001", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "1", "3")
MAX_HIDDEN = 5
#: a CSV larger than this is read in a worker also when its columns change (~0.1 s to read)
LARGE_CSV_BYTES = 256 * 1024


class DashboardLesson(DashboardCsv, DashboardExport, Lesson):
    title = "Training dashboard"
    subtitle = ("Train a network of your choice and watch training and validation loss and "
                "accuracy move, batch by batch and epoch by epoch; every run is kept to compare.")
    help_name = "dashboard"
    course_tutorials = (16,)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.store = RunStore()
        self.session: TrainingSession | None = None
        self._data_cache: dict[str, PreparedData] = {}
        self._csv_path: str | None = None
        self._codes: dict[int, str] = {}
        self._active_runs: list = []
        self._csv_loader = None      # the Worker reading a CSV file, while it runs
        self._train_size = 0         # training examples of the data shown, once prepared

        root = QWidget()
        outer = QHBoxLayout(root)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(8)
        outer.addWidget(self._build_config_panel())

        right = QVBoxLayout()
        right.setSpacing(4)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setVisible(False)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.setAccessibleName("Training message")
        right.addWidget(self.message_label)

        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Dashboard views")
        self.plot = TrainingPlot(metrics=("loss", "accuracy"), smoothing=0.6)
        self.table = RunTable(self.store)
        self.table.setMinimumHeight(90)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.plot)
        split.addWidget(self.table)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        self.tabs.addTab(split, "Curves && runs")
        self.tabs.setTabToolTip(0, "Live curves of every run, and the runs side by side")
        self.tabs.addTab(self._build_code_view(), "Keras code")
        self.tabs.setTabToolTip(1, "The same experiment written for Keras, to carry into the "
                                   "course notebooks")
        right.addWidget(self.tabs, 1)
        outer.addLayout(right, 1)
        self.set_visual(root)

        self.table.visibility_changed.connect(self.plot.set_run_visible)
        self.table.message.connect(lambda text: self._show_message(text, error=True))
        self.table.current_run_changed.connect(self._on_run_selected)

        self._build_controls()
        self._code_timer = QTimer(self)
        self._code_timer.setSingleShot(True)
        self._code_timer.setInterval(150)
        self._code_timer.timeout.connect(self.update_code)
        self._prepare_first_data()

    # --- building ---------------------------------------------------------------------------
    def _build_config_panel(self) -> QWidget:
        panel = QWidget()
        form = QFormLayout(panel)
        form.setContentsMargins(0, 0, 6, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(5)

        def tip(widget, text, name):
            widget.setToolTip(text)
            widget.setAccessibleName(name)
            if isinstance(widget, QComboBox):
                # long entries must not widen the fixed-width panel (they would be clipped)
                widget.setSizeAdjustPolicy(
                    QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
                widget.setMinimumContentsLength(8)
            return widget

        self.dataset_combo = tip(QComboBox(), "The data to learn from", "Dataset")
        for key, text in DATASETS:
            self.dataset_combo.addItem(text, key)
        form.addRow("Data:", self.dataset_combo)
        self.csv_row = QWidget()
        csv_lay = QVBoxLayout(self.csv_row)
        csv_lay.setContentsMargins(0, 0, 0, 0)
        csv_lay.setSpacing(3)
        self.open_csv_button = tip(QPushButton("Open CSV…"),
                                   "Choose a CSV file: one row per example, a header row of "
                                   "column names", "Open CSV file")
        csv_lay.addWidget(self.open_csv_button)
        self.csv_progress = LoadProgress()
        self.csv_progress.cancel_requested.connect(self.cancel_csv_loading)
        csv_lay.addWidget(self.csv_progress)
        t_row = QHBoxLayout()
        t_row.addWidget(QLabel("Predict:"))
        self.target_combo = tip(QComboBox(), "The column to predict (the label)",
                                "Target column")
        t_row.addWidget(self.target_combo, 1)
        csv_lay.addLayout(t_row)
        d_row = QHBoxLayout()
        d_row.addWidget(QLabel("Ignore:"))
        self.drop_edit = tip(QLineEdit(), "Columns to leave out, separated by commas (an ID "
                                          "column, for example)", "Columns to ignore")
        d_row.addWidget(self.drop_edit, 1)
        csv_lay.addLayout(d_row)
        form.addRow(self.csv_row)
        self.data_label = QLabel()
        self.data_label.setWordWrap(True)
        self.data_label.setObjectName("mutedText")
        form.addRow(self.data_label)

        self.network = LayerListEditor(self._config_changed, ACTIVATIONS, MAX_HIDDEN)
        self.network.add_layer(64, "relu")
        form.addRow(QLabel("<b>Hidden layers</b>"))
        form.addRow(self.network)

        self.optimizer_combo = tip(QComboBox(), "How the gradient updates the weights: plain "
                                                "gradient descent (SGD) or Adam", "Optimizer")
        self.optimizer_combo.addItem("SGD", "sgd")
        self.optimizer_combo.addItem("Adam", "adam")
        form.addRow("Optimizer:", self.optimizer_combo)
        self.lr_combo = tip(QComboBox(), "Learning rate η: the step size, w ← w − η·∂L/∂w. "
                                         "Type any positive number.", "Learning rate")
        self.lr_combo.setEditable(True)
        self.lr_combo.addItems(LEARNING_RATES)
        self.lr_combo.setCurrentText("0.1")
        self.lr_combo.lineEdit().setFont(mono_font())
        form.addRow("Learning rate:", self.lr_combo)
        self.batch_spin = tip(QSpinBox(), "Examples per weight update: 1 = stochastic, all = "
                                          "batch gradient descent, between = mini-batch",
                              "Batch size")
        self.batch_spin.setRange(1, 100_000)
        self.batch_spin.setValue(32)
        form.addRow("Batch size:", self.batch_spin)
        self.epochs_spin = tip(QSpinBox(), "Passes over the training data", "Epochs")
        self.epochs_spin.setRange(1, 1000)
        self.epochs_spin.setValue(10)
        form.addRow("Epochs:", self.epochs_spin)
        self.seed_spin = tip(QSpinBox(), "Seed of the starting weights and the shuffling: the "
                                         "same seed and settings give the same run", "Seed")
        self.seed_spin.setRange(0, 99_999)
        form.addRow("Seed:", self.seed_spin)

        self.dataset_combo.currentIndexChanged.connect(self._on_dataset_changed)
        self.open_csv_button.clicked.connect(self.open_csv)
        self.target_combo.currentTextChanged.connect(self._on_csv_options)
        self.drop_edit.editingFinished.connect(self._on_csv_options)
        for w in (self.optimizer_combo,):
            w.currentIndexChanged.connect(self._config_changed)
        self.lr_combo.currentTextChanged.connect(self._config_changed)
        for s in (self.batch_spin, self.epochs_spin, self.seed_spin):
            s.valueChanged.connect(self._config_changed)
        for s in (self.batch_spin, self.epochs_spin):
            s.valueChanged.connect(self._show_plan)

        scroll = QScrollArea()
        scroll.setWidget(panel)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFixedWidth(300)
        self.config_panel = panel
        return scroll

    def _build_code_view(self) -> QWidget:
        self.code_box = CodeView("Keras code")
        self.code_caption, self.code_view = self.code_box.caption, self.code_box.text
        self.copy_button = self.code_box.copy_button
        self.code_box.copied.connect(
            lambda: self.show_status("Keras code copied to the clipboard", 3000))
        return self.code_box

    def _build_controls(self) -> None:
        icon = self.style().standardIcon
        self.start_button = self.add_control(
            QPushButton(icon(QStyle.StandardPixmap.SP_MediaPlay), "Start"), tooltip="Train a new run with these settings (Space)",
            name="Start training")
        self.pause_button = self.add_control(
            QPushButton(icon(QStyle.StandardPixmap.SP_MediaPause), "Pause"), tooltip="Pause or resume the training (Space)",
            name="Pause training")
        self.stop_button = self.add_control(
            QPushButton(icon(QStyle.StandardPixmap.SP_MediaStop), "Stop"), tooltip="Stop after the current batch; the run is kept",
            name="Stop training")
        self.add_pace_control(100)  # 10 epochs of digits ≈ 13 s: a class can watch them
        self.add_controls_separator()
        self.progress_bar = self.add_control(
            progress_bar("ready"), tooltip="Weight updates done of all planned (epochs × "
                                           "updates per epoch)", name="Training progress",
            stretch=1)
        self.progress_bar.setMinimumWidth(120)
        self.time_label = self.add_control(QLabel("—"), tooltip="Time remaining",
                                           name="Time remaining")
        self.time_label.setFont(mono_font())
        self.time_label.setMinimumWidth(self.time_label.fontMetrics()
                                        .horizontalAdvance("00 min 00 s left") + 4)
        self.add_controls_separator()
        self.csv_button = self.add_control(
            QPushButton("CSV…"), tooltip="Export the selected run (or the latest) to CSV: one "
                                         "file per epoch, one per batch",
            name="Export run to CSV")
        self.tb_button = self.add_control(
            QPushButton("TensorBoard…"),
            tooltip="Export the selected run (or the latest) as TensorBoard event files into "
                    "a folder; then run: tensorboard --logdir <folder>",
            name="Export run to TensorBoard")
        self.start_button.clicked.connect(self.start_training)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop_training)
        self.csv_button.clicked.connect(self.export_csv_dialog)
        self.tb_button.clicked.connect(self.export_tensorboard_dialog)
        self.space = QShortcut(QKeySequence(Qt.Key.Key_Space), self)
        self.space.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.space.activated.connect(self._space)
        self._update_buttons()

    # --- configuration ----------------------------------------------------------------------
    def dataset_key(self) -> str:
        return self.dataset_combo.currentData()

    def learning_rate(self) -> float:
        return parse_learning_rate(self.lr_combo.currentText())

    def settings(self, data: PreparedData | None = None) -> dict:
        hidden = self.network.layers()
        net = " → ".join(f"{u} {a}" for u, a in hidden) or "no hidden layer"
        s = {
            "dataset": data.name if data else self.dataset_combo.currentText(),
            "network": net,
            "optimizer": self.optimizer_combo.currentText(),
            "learning_rate": self.learning_rate(),
            "batch_size": self.batch_spin.value(),
            "epochs": self.epochs_spin.value(),
            "seed": self.seed_spin.value(),
        }
        if data is not None:
            s["train_samples"] = len(data.y_train)
        return s

    def data(self) -> PreparedData:
        """The current dataset, prepared (cached); ValueError with a readable message."""
        drop = self._drop_columns()
        if self.dataset_key() == "csv" and self._csv_path and _csv_cache_key(
                self._csv_path, self.target_combo.currentText(), drop) not in \
                self._data_cache and self._is_large(self._csv_path):
            raise ValueError("the CSV file is still being read" if self.is_loading_csv()
                             else "the CSV file has not been read with these columns yet")
        return prepare_dataset(self.dataset_key(), self._data_cache, self._csv_path,
                               self.target_combo.currentText(), drop)

    def _prepare_first_data(self) -> None:
        """The 5,000 digits converted, shuffled and split in a worker: on the GUI thread they
        held the opening for ~0.1-0.25 s. Asked for before they arrive (Start pressed at
        once), data() prepares them itself, as it does for any dataset not cached yet."""
        key = self.dataset_key()
        self.csv_row.setVisible(False)
        self.data_label.setText("Preparing the data…")

        def arrived(data: PreparedData) -> None:
            self._data_cache.setdefault(key, data)
            if self.dataset_key() == key:   # else the learner chose another meanwhile
                self._on_dataset_changed()

        self.start_worker(prepare_dataset, key, {}, on_finished=arrived,
                          on_failed=lambda exc: self.data_label.setText(str(exc)))

    def _on_dataset_changed(self, *_):
        is_csv = self.dataset_key() == "csv"
        self.csv_row.setVisible(is_csv)
        self._refresh_data_label()
        self._config_changed()

    def _refresh_data_label(self) -> None:
        try:
            data = self.data()
        except ValueError as exc:
            self.data_label.setText(str(exc))
            self.network.set_output_text("")
            if self.dataset_key() == "csv" and self._csv_path:
                self._show_message(str(exc), error=True)
            return
        self.data_label.setText(data.description)
        out = ("output: 1 sigmoid (binary cross-entropy)" if data.n_classes == 2 else
               f"output: {data.n_classes} softmax (cross-entropy)")
        self.network.set_output_text(out)
        self.batch_spin.setToolTip(
            f"Examples per weight update: 1 = stochastic, {len(data.y_train)} = batch gradient "
            "descent, between = mini-batch")
        self._train_size = len(data.y_train)
        self._show_plan()
        if self.dataset_key() == "csv":
            self._show_message("")

    def open_csv(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a CSV file", "",
                                              "CSV files (*.csv);;All files (*)")
        if path:
            self.load_csv_in_background(path)

    def _show_plan(self, *_):
        """Frame the empty plot for the run Start would make (the data's size once known)."""
        n, batch = self._train_size, self.batch_spin.value()
        if n:
            self.plot.show_plan(self.epochs_spin.value(), -(-n // min(batch, n)))

    def _config_changed(self, *_):
        if hasattr(self, "_code_timer"):
            self._code_timer.start()

    # --- Keras code ----------------------------------------------------------------------------
    def current_code(self) -> str:
        data = self.data()
        model = build_classifier(data, self.network.layers(), self.optimizer_combo.currentData(),
                            self.learning_rate(), self.seed_spin.value())
        return keras_code_for_model(model, epochs=self.epochs_spin.value(),
                                    batch_size=min(self.batch_spin.value(), len(data.y_train)),
                                    seed=self.seed_spin.value(), dataset=data.key,
                                    **data.keras)

    def update_code(self) -> None:
        run = self.table.current_run()
        if run is not None and run.id in self._codes:
            self.code_caption.setText(f"Keras code of <b>{run.name}</b> (the run selected in "
                                      "the table):")
            self.code_view.setPlainText(self._codes[run.id])
            return
        try:
            code = self.current_code()
        except ValueError as exc:
            self.code_caption.setText("The settings are not complete yet:")
            self.code_view.setPlainText(f"# {exc}")
            return
        self.code_caption.setText("Keras code for the settings on the left (select a run in "
                                  "the table to see its code):")
        self.code_view.setPlainText(code)

    def copy_code(self) -> None:
        self.code_box.copy()

    def _on_run_selected(self, run_id: int) -> None:
        self.update_code()

    # --- training ----------------------------------------------------------------------------
    def start_training(self) -> bool:
        """Start a new run with the current settings; False (and a message) if they are bad."""
        if self.is_training():
            return False
        try:
            data = self.data()
            settings = self.settings(data)
            model = build_classifier(data, self.network.layers(),
                                self.optimizer_combo.currentData(), settings["learning_rate"],
                                settings["seed"])
            code = keras_code_for_model(model, epochs=settings["epochs"],
                                        batch_size=min(settings["batch_size"],
                                                       len(data.y_train)),
                                        seed=settings["seed"], dataset=data.key,
                                        **data.keras)
        except ValueError as exc:
            self._show_message(f"Cannot start: {exc}", error=True)
            return False
        run = self.store.new_run(settings)
        task = TrainingTask(run, model, data.x_train, data.y_train, epochs=settings["epochs"],
                            batch_size=settings["batch_size"],
                            validation_data=(data.x_val, data.y_val), seed=settings["seed"])
        self._codes[run.id] = code
        self.plot.add_run(run)
        self.table.add_run(run)
        self._show_message("")
        if self.session is not None:
            self.session.deleteLater()   # the finished session (and its models) can go
        self.session = TrainingSession([task], parent=self)
        self.session.updated.connect(self._on_updated)
        self.session.progress_changed.connect(self._on_progress)
        self.session.run_ended.connect(self._on_run_ended)
        self.session.state_changed.connect(lambda _: self._update_buttons())
        self.session.finished.connect(self._on_finished)
        self._active_runs = [run]
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat(f"{run.name}: starting…")
        self.start_session(self.session)
        self._update_buttons()
        self.show_status(f"Training {run.name}: {settings['network']}, "
                         f"{settings['optimizer']} η={fmt(settings['learning_rate'])}, "
                         f"batch {settings['batch_size']}, {settings['epochs']} epochs", 5000)
        return True

    def toggle_pause(self) -> None:
        if not self.is_training():
            return
        if self.session.is_paused():
            self.session.resume()
        else:
            self.session.pause()
        self.table.update_runs([r.id for r in self._active_runs])
        self._update_buttons()

    def stop_training(self) -> None:
        if self.session is not None and self.is_training():
            self.session.stop()
            self._update_buttons()

    def _space(self) -> None:
        if self.is_training():
            self.toggle_pause()
        else:
            self.start_training()

    @staticmethod
    def _is_large(path) -> bool:
        """Big enough that reading it on the GUI thread would be felt (~0.1 s)."""
        try:
            return os.path.getsize(path) > LARGE_CSV_BYTES
        except OSError:
            return False

    def _update_buttons(self) -> None:
        running = self.is_training()
        paused = running and self.session.is_paused()
        self.start_button.setEnabled(not running and not self.is_loading_csv())
        for w in (self.open_csv_button, self.target_combo, self.drop_edit):
            w.setEnabled(not self.is_loading_csv())   # one read at a time, none lost
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pause_button.setIcon(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MediaPlay if paused else QStyle.StandardPixmap.SP_MediaPause))
        self.pause_button.setAccessibleName("Resume training" if paused else "Pause training")
        self.config_panel.setEnabled(not running)
        has_runs = len(self.store) > 0
        self.csv_button.setEnabled(has_runs)
        self.tb_button.setEnabled(has_runs)

    def _on_updated(self, run_ids) -> None:
        self.plot.update_runs(run_ids)
        self.table.update_runs(run_ids)

    def _on_progress(self, p: Progress) -> None:
        self.progress_bar.setValue(int(round(1000 * p.fraction)))
        run = self._active_runs[0] if self._active_runs else None
        epochs = run.settings.get("epochs") if run else None
        done_epochs = run.finished_epochs if run else 0
        paused = self.session is not None and self.session.is_paused()
        label = "paused" if paused else f"{100 * p.fraction:.0f}%"
        self.progress_bar.setFormat(
            f"{run.name if run else ''}: epoch {min(done_epochs + 1, epochs or 1)} of {epochs}"
            f" · {p.done} of {p.total} updates · {label}")
        self.time_label.setText("paused" if paused else
                                f"{format_duration(p.remaining)} left")
        self.time_label.setToolTip(remaining_formula(p))
        self.progress_bar.setToolTip(
            f"{p.done} of {p.total} weight updates = {100 * p.fraction:.1f}%\n"
            f"training time {format_duration(p.elapsed)}; time left ≈ time so far / updates "
            f"done × updates left")

    def _on_run_ended(self, run) -> None:
        self.plot.update_runs([run.id])
        self.table.update_runs([run.id])
        if run.status in ("diverged", "failed"):
            self._show_message(f"{run.name} {run.status}: {run.stop_reason}", error=True)
        elif run.diagnosis is not None:   # it "finished", and learned nothing: say why
            self._show_message(f"{run.name} {run.status}: {run.diagnosis}", error=True)
        elif run.status == "stopped":
            self._show_message(f"{run.name}: {run.stop_reason}")

    def _on_finished(self) -> None:
        self.plot.refresh()
        self.table.refresh()
        run = self._active_runs[0] if self._active_runs else None
        if run is not None:
            self.progress_bar.setFormat(f"{run.name}: {run.status} · {run.steps} of "
                                        f"{run.total_steps} updates")
            if run.status == "finished":
                self.progress_bar.setValue(1000)
            self.time_label.setText(format_duration(run.elapsed))
            self.time_label.setToolTip(f"{run.name} trained for {run.elapsed!r} s")
        self._update_buttons()

    def _show_message(self, text: str, error: bool = False) -> None:
        self.message_label.setText(text)
        self.message_label.setStyleSheet("color: #b00020; font-weight: 600;" if error else "")
        self.message_label.setVisible(bool(text))
        if text and error:
            self.show_status(text, 8000)

    # --- lifecycle ----------------------------------------------------------------------------
    def deactivate(self) -> None:
        super().deactivate()          # stops the training session
        self._update_buttons()
