"""Names, letter by letter: a character-level LSTM that learns the English first names
and invents new ones (after the course's tutorials 33 and 36).

The numbers are core.teaching.char_model's. The lesson opens the shipped model
(resources/models/char_names.npz, made by scripts/train_char_names.py) so Generate works at
once; Train makes a new one from fresh weights through the lesson's training session, with
the loss per batch live and five names drawn after every epoch (from a snapshot taken in the
training thread). Generate draws ten names at the slider's temperature and marks each new
or "in the list"; typing a prefix shows the likeliest next letters as percentages.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontDatabase, QPainter
from PySide6.QtWidgets import (QGridLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QListWidget, QPushButton, QSizePolicy, QSlider, QVBoxLayout,
                               QWidget)

from core.teaching import char_model as cm
from core.wording import percent
from core.teaching.numbers import fmt
from core.teaching.runs import RunStore
from gui.lessons.base import Lesson
from gui.training_worker import TrainingSession, TrainingTask
from gui.widgets.colors import FORWARD_COLOR
from gui.widgets.plots import LegendPlot

TRAIN_BUTTON = "Train from scratch"
#: epochs of a live run: pronounceable names by the second or third (about 7 s each here)
EPOCHS = 6
BATCH_SIZE = 128
#: names drawn after every epoch while training, and by Generate
LIVE_SAMPLES, GENERATED = 5, 10
#: next letters listed for a prefix
TOP_LETTERS = 8
SHIPPED_MODEL = "char_names"


def _open_shipped():
    """Off the window's thread: the name list (importing Faker's data), the shipped model,
    and one prediction (so any kernel compiles here, not on the window's thread)."""
    from core.io import load_model
    from resources.paths import model_path

    names = cm.load_names()
    try:
        with model_path(SHIPPED_MODEL) as path:
            model = load_model(path)
    except (OSError, ValueError):
        model = None          # the lesson still trains; it says there is no ready model
    if model is not None:
        cm.sample_names(model, 1, 1.0, seed=0)
    return names, model, cm.training_windows(names)


def _copy_model(weights):
    model = cm.make_model()
    model.set_weights(weights)
    return model


class NextLetterBars(QWidget):
    """One row per next character: the letter, its probability as a percentage, and a bar
    as long as the probability (the number is always written: the bar only helps)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[tuple[str, float]] = []
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_rows(self, rows: list[tuple[str, float]]) -> None:
        self.rows = list(rows)
        self.setAccessibleDescription("; ".join(f"{c} {percent(p)}" for c, p in self.rows))
        self.update()

    def texts(self) -> list[str]:
        return [f"{c} {percent(p)}" for c, p in self.rows]

    def row_height(self) -> int:
        return self.fontMetrics().height() + 4

    def sizeHint(self) -> QSize:
        return QSize(260, TOP_LETTERS * self.row_height() + 4)

    def minimumSizeHint(self) -> QSize:
        return QSize(160, TOP_LETTERS * self.row_height() + 4)   # every row, never clipped

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        fm = self.fontMetrics()
        line = self.row_height()
        label_w = fm.horizontalAdvance("(end)") + 8
        pct_w = max(fm.horizontalAdvance(t) for t in ["100.0 %"] + [percent(p) for _, p in
                                                                      self.rows]) + 12
        bar_w = max(10, self.width() - label_w - pct_w - 8)
        for k, (char, p) in enumerate(self.rows):
            y = 2 + k * line
            painter.setPen(self.palette().text().color())
            painter.drawText(QRectF(0, y, label_w - 8, line), Qt.AlignmentFlag.AlignRight
                             | Qt.AlignmentFlag.AlignVCenter, char)
            painter.drawText(QRectF(label_w, y, pct_w - 8, line), Qt.AlignmentFlag.AlignRight
                             | Qt.AlignmentFlag.AlignVCenter, percent(p))
            painter.fillRect(QRectF(label_w + pct_w, y + 3, bar_w * p, line - 6),
                             QColor(FORWARD_COLOR))
        painter.end()


class CharNamesLesson(Lesson):
    title = "Names, letter by letter"
    subtitle = ("An LSTM reads a name one letter at a time and guesses the next: trained on "
                "some 6,800 first names, it invents new ones.")
    help_name = "char_names"
    status_hint = "Generate names, move the temperature, type the start of a name; Train " \
                  "from scratch to watch the model learn."
    explanation_collapsed_by_default = True
    course_tutorials = (33, 36)

    #: the names and a model are ready (shipped or trained)
    ready = Signal()
    #: a training run ended
    trained = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.names: list[str] = []
        self.known: set[str] = set()
        self.windows = None          # (x, y) of every name, made off the window's thread
        self.model = None
        self.session: TrainingSession | None = None
        self.run = None
        self.store = RunStore("char_names")
        self._seed = 0
        self._draws = 0
        self._loading = False
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

        page = QWidget()
        grid = QGridLayout(page)
        grid.setContentsMargins(0, 0, 0, 0)

        train_box = QGroupBox("Training: loss and names after each epoch")
        tl = QVBoxLayout(train_box)
        self.loss_plot = LegendPlot("epoch", "loss (cross-entropy)", legend_columns=2)
        self.loss_plot.plot_item.setMouseEnabled(x=False, y=False)
        self.loss_plot.setToolTip("The loss of every batch (thin) and each epoch's mean "
                                  "(dots): −log of the probability given to the true next "
                                  "letter, averaged")
        self.batch_curve = self.loss_plot.plot_item.plot(
            [], [], pen=pg.mkPen("#9aa3ad", width=1))
        self.epoch_curve = self.loss_plot.plot_item.plot(
            [], [], pen=pg.mkPen(FORWARD_COLOR, width=2), symbol="o", symbolSize=6,
            symbolBrush=FORWARD_COLOR)
        self.loss_plot.add_legend_entry(self.batch_curve, "each batch")
        self.loss_plot.add_legend_entry(self.epoch_curve, "epoch mean")
        self.loss_plot.plot_item.setXRange(0, EPOCHS, padding=0.02)
        self.loss_plot.plot_item.setYRange(1.5, 3.4, padding=0)
        tl.addWidget(self.loss_plot, 3)
        self.samples = QListWidget()
        self.samples.setFont(mono)
        self.samples.setAccessibleName("Names drawn after each epoch")
        self.samples.setToolTip("Five names drawn at temperature 1 after each epoch: "
                                "rough guesses first, then names you could believe")
        self.samples.setWordWrap(True)
        self.samples.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.samples.addItem("Train from scratch: after each epoch, five names drawn from "
                             "the model appear here.")
        tl.addWidget(self.samples, 2)
        grid.addWidget(train_box, 0, 0)

        gen_box = QGroupBox("Generate")
        gl = QVBoxLayout(gen_box)
        row = QHBoxLayout()
        row.addWidget(QLabel("Temperature"))
        self.temperature = QSlider(Qt.Orientation.Horizontal)
        self.temperature.setRange(int(cm.MIN_TEMPERATURE * 10), int(cm.MAX_TEMPERATURE * 10))
        self.temperature.setValue(10)
        self.temperature.setAccessibleName("Temperature")
        self.temperature.setToolTip("Each next letter is drawn from softmax(logits / T): low "
                                    "T picks the likeliest letters (common names), high T "
                                    "takes chances (strange names)")
        self.temperature.valueChanged.connect(self._temperature_changed)
        row.addWidget(self.temperature, 1)
        self.temperature_label = QLabel()
        self.temperature_label.setFont(mono)
        self.temperature_label.setAccessibleName("Temperature value")
        row.addWidget(self.temperature_label)
        self.generate_button = QPushButton("Generate")
        self.generate_button.setAccessibleName("Generate")
        self.generate_button.setToolTip(f"Draw {GENERATED} new names at this temperature")
        self.generate_button.clicked.connect(self.generate)
        gl.addLayout(row)
        gl.addWidget(self.generate_button)
        self.generated = QListWidget()
        self.generated.setFont(mono)
        self.generated.setAccessibleName("Generated names")
        self.generated.setToolTip("Each name drawn, and whether it is new or already in the "
                                  "list of names the model learned from")
        # the ten names fit without scrolling (frame and a little slack around the rows)
        self.generated.setMinimumHeight(GENERATED * self.generated.fontMetrics().height() + 12)
        gl.addWidget(self.generated, 1)
        self.novel_label = QLabel()
        self.novel_label.setAccessibleName("Share of new names")
        self.novel_label.setWordWrap(True)
        gl.addWidget(self.novel_label)
        grid.addWidget(gen_box, 0, 1)

        next_box = QGroupBox("What comes next?")
        nl = QVBoxLayout(next_box)
        self.prefix = QLineEdit()
        self.prefix.setPlaceholderText("Type the start of a name, e.g. jo")
        self.prefix.setAccessibleName("Start of a name")
        self.prefix.setToolTip("The model reads these letters and gives the probability of "
                               "every next letter (at the slider's temperature)")
        self.prefix.setMaxLength(cm.MAX_NAME_LENGTH)
        self.prefix.textChanged.connect(self.show_next_letters)
        nl.addWidget(self.prefix)
        self.next_letters = NextLetterBars()
        self.next_letters.setAccessibleName("Next-letter probabilities")
        self.next_letters.setToolTip("The likeliest next letters with their probabilities; "
                                     "all 27 choices (26 letters and the end) add up to 100 %")
        nl.addWidget(self.next_letters, 1)
        self.next_label = self.make_message_label()
        self.next_label.setAccessibleName("Next-letter message")
        nl.addWidget(self.next_label)
        grid.addWidget(next_box, 0, 2)
        grid.setColumnStretch(0, 4)
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(2, 3)
        self.set_visual(page)

        self.train_button = self.add_control(
            QPushButton(TRAIN_BUTTON), tooltip=f"Fresh weights, then {EPOCHS} epochs over "
            f"the names (about a minute); Stop ends it early and keeps what was learned",
            name="Train")
        self.train_button.clicked.connect(self.toggle_training)
        self.add_controls_stretch()
        self.state_label = QLabel("Opening the name list…")
        self.state_label.setAccessibleName("Model state")
        self.add_control(self.state_label)
        self._temperature_changed()
        self._set_enabled(False)

    # --- state ------------------------------------------------------------------------------
    def temperature_value(self) -> float:
        return self.temperature.value() / 10.0

    def _temperature_changed(self) -> None:
        self.temperature_label.setText(f"T = {fmt(self.temperature_value())}")
        self.show_next_letters()

    def _set_enabled(self, on: bool) -> None:
        for w in (self.generate_button, self.prefix):
            w.setEnabled(on)
        self.train_button.setEnabled(bool(self.names) or self.is_training())

    def activate(self) -> None:
        super().activate()
        if not self.names and not self._loading:
            self._loading = True
            self.start_worker(_open_shipped, on_finished=self._opened,
                              on_failed=self._open_failed)

    def _opened(self, result) -> None:
        self._loading = False
        self.names, model, self.windows = result
        self.known = set(self.names)
        self.generated.setToolTip(f"Each name drawn, and whether it is new or already in the "
                                  f"list of {len(self.names):,} names the model learned from")
        if model is not None and self.model is None:
            self.model = model
            self.state_label.setText("Shipped model (12 epochs)")
        elif model is None:
            self.state_label.setText("No ready model: press Train from scratch")
        self._set_enabled(self.model is not None)
        if self.model is not None:
            self.generate()
            self.show_next_letters()
        self.ready.emit()

    def _open_failed(self, exc) -> None:
        self._loading = False
        self.state_label.setText("The name list could not be opened")
        self.show_status(f"The name list could not be opened: {exc}", 0)

    # --- generating -------------------------------------------------------------------------
    def generate(self) -> list[str]:
        if self.model is None:
            return []
        self._draws += 1
        made = cm.sample_names(self.model, GENERATED, self.temperature_value(),
                               seed=self._draws)
        self.generated.clear()
        for name in made:
            mark = "in the list" if name in self.known else "new"
            self.generated.addItem(f"{cm.display_name(name):<{cm.MAX_NAME_LENGTH}}  {mark}")
        new = sum(bool(n) and n not in self.known for n in made)
        self.novel_label.setText(
            f"{new} of {len(made)} are new ({percent(cm.novel_share(made, self.known))}) "
            f"at T = {fmt(self.temperature_value())}.")
        return made

    def show_next_letters(self) -> None:
        if self.model is None:
            return
        text = self.prefix.text()
        try:
            choices = cm.next_letter_probabilities(self.model, text, self.temperature_value())
        except ValueError as exc:
            self.next_letters.set_rows([])
            self.next_label.setText(f"{str(exc)[0].upper()}{str(exc)[1:]}.")
            return
        self.next_letters.set_rows([(c.label, c.probability) for c in choices[:TOP_LETTERS]])
        shown = sum(c.probability for c in choices[:TOP_LETTERS])
        after = f"after “{cm.display_name(text.strip())}”" if text.strip() else "to start a name"
        self.next_label.setText(
            f"The {TOP_LETTERS} likeliest of 27 choices {after}: {percent(shown)}; all 27: "
            # float32 sums miss 1 by a few millionths; the rounding is ours, not the model's
            f"{percent(round(sum(float(c.probability) for c in choices), 6))}.")

    # --- training ---------------------------------------------------------------------------
    def toggle_training(self) -> None:
        if self.session is not None and self.session.is_running():
            self.session.stop()
            return
        self.train()

    def train(self, epochs: int = EPOCHS, names: int | None = None) -> None:
        """Fresh weights, then `epochs` epochs (on the first `names` names for a quick run)."""
        if not self.names:
            return
        self._seed += 1
        x, y = cm.training_windows(self.names[:names]) if names else self.windows
        run = self.store.new_run({"epochs": epochs}, name=f"names {self._seed}")
        self.run = run
        limit = {}

        def prepare(task):
            limit["blas"] = cm.blas_one_thread()

        def finish(task):
            if "blas" in limit:
                limit.pop("blas").restore_original_limits()
            return task.model

        def snapshot(task):
            return (task.epochs_done, [w.copy() for w in task.model.get_weights()],
                    cm.sample_names(task.model, LIVE_SAMPLES, 1.0, seed=task.epochs_done))

        task = TrainingTask(run, cm.make_model(seed=self._seed), x, y, epochs=epochs,
                            batch_size=BATCH_SIZE, seed=self._seed, prepare=prepare,
                            finish=finish, snapshot=snapshot)
        self.session = TrainingSession([task], warm_up=False, parent=self)
        self.session.updated.connect(lambda _ids, r=run: self._on_progress(r))
        self.session.snapshot.connect(self._on_snapshot)
        self.session.finished.connect(lambda t=task: self._on_done(t))
        self.batch_curve.setData([], [])
        self.epoch_curve.setData([], [])
        self.samples.clear()
        self.train_button.setText("Stop")
        self.state_label.setText("Training…")
        self.start_session(self.session)

    def _on_progress(self, run) -> None:
        if run is not self.run:
            return
        batches = run.table("batch")
        if len(batches):
            self.batch_curve.setData(np.asarray(batches.get("epoch"), float),
                                     np.asarray(batches.get("loss"), float))
        epochs = run.table("epoch")
        if len(epochs):
            loss = np.asarray(epochs.get("loss"), float)
            self.epoch_curve.setData(np.arange(1, len(loss) + 1), loss)
            top = max(3.4, float(np.nanmax(np.asarray(batches.get("loss"), float))))
            self.loss_plot.plot_item.setYRange(min(1.5, float(np.nanmin(loss))), top,
                                               padding=0.02)
            self.state_label.setText(f"Epoch {len(loss)} of {EPOCHS}, loss {fmt(loss[-1])}")

    def _on_snapshot(self, run, value) -> None:
        if run is not self.run:
            return
        epoch, weights, names = value
        self.model = _copy_model(weights)
        shown = ", ".join(cm.display_name(n) for n in names)
        self.samples.addItem(f"epoch {epoch}: {shown}")
        self.samples.scrollToBottom()
        self._set_enabled(True)
        self.show_next_letters()

    def _on_done(self, task) -> None:
        self.train_button.setText(TRAIN_BUTTON)
        self._on_progress(task.run)
        if task.run.stop_reason:
            self.show_status(f"Training {task.run.stop_reason}.", 5000)
        if task.result is not None and task.steps:
            self.model = task.result
            n = task.epochs_done
            self.state_label.setText("Trained here: part of an epoch" if n == 0 else
                                     f"Trained here: {n} epoch{'' if n == 1 else 's'}")
            self._set_enabled(True)
            self.generate()
            self.show_next_letters()
        self.trained.emit()
