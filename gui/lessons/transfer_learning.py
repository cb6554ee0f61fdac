"""Transfer learning (tutorial 27): teach the digit CNN new symbols from a few drawings.

The learner names a few symbols, draws some of each on the pad (or presses "Use example
symbols" for synthetic ones rendered through the pad's own path), keeping some drawings
back. "Train both" trains, in one TrainingSession, the shipped digit CNN's layers frozen with
a new Dense head (core.teaching.transfer.transfer_model) beside the same network from
scratch; the plot shows both on the held-back drawings, the layer table shows which layers
are frozen and how far each one's weights moved (a frozen layer's: exactly 0). "Fine-tune"
then unfreezes the top two weighted layers at a ten times smaller learning rate.

A learner's own model (File ▸ Open model) can be the frozen base instead, when it takes a
28×28 drawing and ends in a Dense classifier (core.teaching.transfer.base_problem); when it
does not, the lesson says why in one sentence and keeps the shipped CNN.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QSpinBox, QSplitter, QTableWidgetItem, QVBoxLayout, QWidget)

from core.digits import has_ink, to_mnist
from core.io import load_model
from core.teaching import transfer as tl
from core.teaching.runs import RunStore
from gui.lessons.base import Lesson
from gui.training_worker import TrainingSession, TrainingTask
from gui.widgets.drawing_pad import DrawingPad
from gui.widgets.numbers import fmt, mono_font, mono_table
from gui.widgets.training_plot import TrainingPlot, run_color
from gui.widgets.progress_bar import progress_bar
from resources.paths import model_path, resource

DEFAULT_SYMBOLS = tl.EXAMPLE_SYMBOLS           # + − × ÷ =
MAX_SYMBOLS = 6
BATCH_SIZE = 5
FINE_TUNE_EPOCHS = 15
HELD_BACK_EXAMPLES = 20                        # per symbol, for "Use example symbols"
EXAMPLE_SEED = 27
SEED = 0
SHIPPED_BASE = "the shipped digit CNN"
ERROR_STYLE = "color: #b00020; font-weight: 600;"
FROZEN = "frozen"       # words, not a padlock glyph: not every font has one
TRAINS = "trains"


def load_base():
    """The shipped digit CNN, the frozen base (None if it is missing). Always the shipped
    one, not a CNN trained in another lesson: the lesson's numbers should be repeatable."""
    if not resource("models", "digits_cnn.npz").is_file():
        return None
    with model_path("digits_cnn") as path:
        return load_model(path)


def _example_drawings(per_symbol: int) -> dict:
    """{"train": [(image, label)...], "held": [...]}: synthetic example symbols (worker)."""
    x, y = tl.synthetic_set(DEFAULT_SYMBOLS, per_symbol, seed=EXAMPLE_SEED)
    xv, yv = tl.synthetic_set(DEFAULT_SYMBOLS, HELD_BACK_EXAMPLES, seed=EXAMPLE_SEED + 1)
    return {"train": [(a[..., 0], int(b)) for a, b in zip(x, y)],
            "held": [(a[..., 0], int(b)) for a, b in zip(xv, yv)]}


class TransferLearningLesson(Lesson):
    title = "Transfer learning"
    subtitle = ("Teach the digit network new symbols from a few drawings: its trained layers "
                "frozen with a new head, beside the same network trained from scratch, then "
                "fine-tuned.")
    help_name = "transfer_learning"
    course_tutorials = (27,)
    explanation_collapsed_by_default = True

    #: a training session (both networks, or fine-tuning) ended
    training_finished = Signal()
    #: "Use example symbols" filled both sets
    examples_ready = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.symbols: list[str] = list(DEFAULT_SYMBOLS)
        self.drawings: dict[str, list[tuple[np.ndarray, int]]] = {"train": [], "held": []}
        self.base = None                # the frozen base chosen now (loaded on first use)
        self.shipped_base = None        # the shipped digit CNN, once loaded
        self.learner_base = None        # the learner's own model, when it fits
        self.models: dict[str, object] = {}
        self.results: dict[str, float] = {}
        self.movement: list = []
        self.session: TrainingSession | None = None
        self.store = RunStore()
        self.runs: dict[str, object] = {}
        self._transfer_epochs = 0       # epochs the transfer network has trained so far
        self._making_examples = False

        visual = QWidget()
        outer = QVBoxLayout(visual)
        outer.setContentsMargins(0, 0, 0, 0)
        self.message = self.make_message_label()
        outer.addWidget(self.message)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        outer.addWidget(split, 1)
        split.addWidget(self._build_drawing_side())
        split.addWidget(self._build_layer_side())
        split.addWidget(self._build_result_side())
        split.setSizes([330, 420, 430])
        self.set_visual(visual)
        self._build_controls()
        self._refresh_symbols()
        self._show_layers()
        self._say("Draw a few of each symbol (or press “Use example symbols”), keep some "
                  "back for testing, then press “Train both”.")

    # --- building -------------------------------------------------------------------------
    def _build_drawing_side(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("Symbols:"))
        self.symbols_edit = QLineEdit(" ".join(self.symbols))
        self.symbols_edit.setToolTip("The new classes, separated by spaces (2 to 6): symbols "
                                     "or letters of your choice. Press Enter to apply.")
        self.symbols_edit.setAccessibleName("Symbols to teach")
        self.symbols_edit.editingFinished.connect(self._apply_symbols)
        row.addWidget(self.symbols_edit, 1)
        v.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(QLabel("This drawing is:"))
        self.class_combo = QComboBox()
        self.class_combo.setToolTip("Which symbol the drawing on the pad shows")
        self.class_combo.setAccessibleName("Symbol of this drawing")
        row.addWidget(self.class_combo, 1)
        v.addLayout(row)
        self.pad = DrawingPad()
        self.pad.setMinimumSize(220, 220)
        self.pad.setToolTip("Draw one symbol here, then add it to the training drawings or "
                            "to those held back. Right button erases.")
        self.pad.hint = "Draw a symbol here"
        v.addWidget(self.pad, 1)
        grid = QGridLayout()
        self.add_train_button = QPushButton("Add to training")
        self.add_train_button.setToolTip("The networks learn from this drawing")
        self.add_held_button = QPushButton("Hold back")
        self.add_held_button.setToolTip("Keep this drawing for measuring accuracy: the "
                                        "networks never train on it")
        clear = QPushButton("Clear pad")
        clear.setToolTip("Wipe the pad (the drawings already added stay)")
        forget = QPushButton("Forget drawings")
        forget.setToolTip("Remove every added drawing (training and held back)")
        for b in (self.add_train_button, self.add_held_button, clear, forget):
            b.setAccessibleName(b.text())
        self.add_train_button.clicked.connect(lambda: self.add_drawing("train"))
        self.add_held_button.clicked.connect(lambda: self.add_drawing("held"))
        clear.clicked.connect(self.pad.clear)
        forget.clicked.connect(self.forget_drawings)
        grid.addWidget(self.add_train_button, 0, 0)
        grid.addWidget(self.add_held_button, 0, 1)
        grid.addWidget(clear, 1, 0)
        grid.addWidget(forget, 1, 1)
        v.addLayout(grid)
        self.counts_label = QLabel()
        self.counts_label.setFont(mono_font())
        self.counts_label.setAccessibleName("Drawings per symbol")
        self.counts_label.setWordWrap(True)
        v.addWidget(self.counts_label)
        return w

    def _build_layer_side(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("Frozen base:"))
        self.base_combo = QComboBox()
        self.base_combo.addItem(SHIPPED_BASE)
        self.base_combo.setToolTip("Whose trained layers the transfer network borrows: the "
                                   "shipped digit CNN, or a model you opened with File ▸ Open "
                                   "model that takes 28×28 drawings")
        self.base_combo.setAccessibleName("Frozen base")
        self.base_combo.currentIndexChanged.connect(self._base_chosen)
        row.addWidget(self.base_combo, 1)
        v.addLayout(row)
        self.base_label = QLabel()
        self.base_label.setWordWrap(True)
        v.addWidget(self.base_label)
        self._show_base_name()
        self.layer_table = mono_table(
            "Layers of the transfer network",
            "frozen (grey, bold): training never changes these weights. “largest change”: the biggest "
            "|new − old| of any weight of the layer since the last training began")
        self.layer_table.setColumnCount(4)
        self.layer_table.setHorizontalHeaderLabels(["layer", "weights", "state",
                                                    "largest change"])
        self.layer_table.verticalHeader().hide()
        v.addWidget(self.layer_table, 1)
        self.param_label = QLabel()
        self.param_label.setFont(mono_font())
        self.param_label.setWordWrap(True)
        self.param_label.setAccessibleName("Trainable and frozen weights")
        v.addWidget(self.param_label)
        return w

    def _build_result_side(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(0, 0, 0, 0)
        self.plot = TrainingPlot(metrics=("accuracy",), smoothing=0.0, x_axis="epoch",
                                 granularity="epoch", show_controls=False)
        self.plot.style_key.hide()
        v.addWidget(self.plot, 1)
        key = QLabel("●── on its training drawings · □┄┄ on the drawings held back")
        key.setObjectName("mutedText")
        key.setWordWrap(True)
        v.addWidget(key)
        self.result_label = QLabel()
        self.result_label.setFont(mono_font())
        self.result_label.setWordWrap(True)
        self.result_label.setTextFormat(Qt.TextFormat.RichText)
        self.result_label.setAccessibleName("Accuracy on the drawings held back")
        v.addWidget(self.result_label)
        return w

    def _build_controls(self) -> None:
        self.example_button = self.add_control(
            QPushButton("Use example symbols"),
            tooltip="Fill the training drawings with synthetic strokes of + − × ÷ =, drawn "
                    "through the pad's own preparation, and hold back 20 more of each",
            name="Use example symbols")
        self.example_button.clicked.connect(self.use_examples)
        self.per_symbol_spin = self.add_control(
            QSpinBox(), label="each:", tooltip="Training drawings per symbol for the example "
                                               "symbols", name="Example drawings per symbol")
        self.per_symbol_spin.setRange(1, 20)
        self.per_symbol_spin.setValue(3)
        self.add_controls_separator()
        self.train_button = self.add_control(
            QPushButton("Train both"), tooltip="Train the frozen base + new head and the same "
                                               "network from scratch, on the same drawings",
            name="Train both")
        self.train_button.clicked.connect(self.train_both)
        self.fine_tune_button = self.add_control(
            QPushButton("Fine-tune"), tooltip="Unfreeze the top two weighted layers of the "
                                              "transfer network and train on at learning rate "
                                              f"{fmt(tl.FINE_TUNE_LEARNING_RATE)}",
            name="Fine-tune")
        self.fine_tune_button.clicked.connect(self.fine_tune)
        self.fine_tune_button.setEnabled(False)
        self.stop_button = self.add_control(QPushButton("Stop"), tooltip="Stop training",
                                            name="Stop")
        self.stop_button.clicked.connect(lambda: self.session and self.session.stop())
        self.epochs_spin = self.add_control(QSpinBox(), label="Epochs:",
                                            tooltip="Passes over the training drawings",
                                            name="Epochs")
        self.epochs_spin.setRange(1, 200)
        self.epochs_spin.setValue(30)
        self.plot.show_plan(self.epochs_spin.value())
        self.epochs_spin.valueChanged.connect(self.plot.show_plan)
        self.progress = self.add_control(progress_bar("ready"), tooltip="Weight updates done",
                                         name="Progress", stretch=1)
        self.progress.setMinimumWidth(90)
        self.add_pace_control(None)  # full speed unless the class wants to watch
        self._update_controls()

    # --- drawings -------------------------------------------------------------------------
    def _refresh_symbols(self) -> None:
        current = self.class_combo.currentIndex()
        self.class_combo.clear()
        self.class_combo.addItems(self.symbols)
        self.class_combo.setCurrentIndex(max(0, min(current, len(self.symbols) - 1)))
        self._show_counts()

    def _apply_symbols(self) -> None:
        names = self.symbols_edit.text().split()
        problem = None
        if not 2 <= len(names) <= MAX_SYMBOLS:
            problem = f"Name between 2 and {MAX_SYMBOLS} symbols, separated by spaces."
        elif len(set(names)) != len(names):
            problem = "Each symbol may appear only once."
        elif any(label >= len(names) for part in self.drawings.values() for _, label in part):
            problem = ("Some drawings belong to the symbols you removed: press “Forget "
                       "drawings” first, or keep as many symbols.")
        if problem:
            self._say(f"The symbols stay {' '.join(self.symbols)}. {problem}", error=True)
            self.symbols_edit.setText(" ".join(self.symbols))
            return
        if names != self.symbols:
            self.symbols = names
            self._refresh_symbols()
            self._say(f"Symbols: {' '.join(names)}.")

    def add_drawing(self, where: str) -> bool:
        image = self.pad.image()
        if not has_ink(image):
            self._say("The pad is empty: draw a symbol first.", error=True)
            return False
        label = self.class_combo.currentIndex()
        self.drawings[where].append((to_mnist(image), label))
        self.pad.clear()
        self._show_counts()
        return True

    def use_examples(self) -> None:
        """Synthetic drawings of the example symbols, training and held back, made in a
        worker (rendering a hundred canvases takes a few tenths of a second)."""
        if self.is_training() or self._making_examples:
            return
        per = self.per_symbol_spin.value()
        self._making_examples = True
        self._update_controls()
        self._say("Drawing example symbols…")
        self.start_worker(_example_drawings, per, on_finished=self._examples_ready,
                          on_failed=self._examples_failed)

    def _examples_ready(self, drawings) -> None:
        self._making_examples = False
        self.symbols = list(DEFAULT_SYMBOLS)
        self.symbols_edit.setText(" ".join(self.symbols))
        self.drawings = drawings
        self._refresh_symbols()
        per = self.counts("train")[0]
        self._say(f"{per} synthetic drawings of each symbol to learn from, "
                  f"{HELD_BACK_EXAMPLES} more of each held back.")
        self._update_controls()
        self.examples_ready.emit()

    def _examples_failed(self, exc) -> None:
        self._making_examples = False
        self._say(f"Could not draw the example symbols: {exc}", error=True)
        self._update_controls()

    def forget_drawings(self) -> None:
        if self.is_training() or self._making_examples:
            return
        self.drawings = {"train": [], "held": []}
        self._show_counts()

    def counts(self, where: str) -> list[int]:
        c = [0] * len(self.symbols)
        for _, label in self.drawings[where]:
            c[label] += 1
        return c

    def _show_counts(self) -> None:
        tr, he = self.counts("train"), self.counts("held")
        self.counts_label.setText("\n".join(
            f"{s:>3}: {a} to learn from, {b} held back" for s, a, b in zip(self.symbols, tr, he)))

    def _arrays(self, where: str, model=None):
        """A set of drawings as arrays, in the shape `model` takes (default (N, 28, 28, 1))."""
        items = self.drawings[where]
        x = np.stack([a for a, _ in items])[..., None].astype(np.float32)   # (N, 28, 28, 1)
        if model is not None:
            x = tl.as_base_input(model, x)
        return x, np.asarray([b for _, b in items], np.int64)

    # --- the frozen base ------------------------------------------------------------------
    def base_name(self) -> str:
        return self.base_combo.currentText()

    def _show_base_name(self) -> None:
        self.base_label.setText(f"The transfer network: the layers of {self.base_name()} up "
                                f"to its classifier, then a new head")

    def _base_chosen(self, index: int) -> None:
        # the shipped CNN is loaded when training first needs it
        self.base = self.learner_base if index > 0 else self.shipped_base
        self._show_base_name()

    def learner_model_opened(self, model, name: str) -> None:
        """The learner's own model becomes a choice of frozen base (and the one chosen) when
        it takes a 28×28 drawing and ends in a Dense classifier; otherwise one sentence why
        not, and the shipped CNN stays."""
        problem = tl.base_problem(model)
        while self.base_combo.count() > 1:        # an earlier model of theirs is gone
            self.base_combo.removeItem(1)
        self.learner_base = None if problem else model
        if problem:
            self.base_combo.setCurrentIndex(0)
            self._say(f"{name} cannot be the frozen base here: {problem}.", error=True)
            return
        self.base_combo.addItem(f"your model ({name})")
        self.base_combo.setCurrentIndex(1)
        self._say(f"{name} is now the frozen base (see “Frozen base”): press “Train both” "
                  f"to give it a new head for your symbols.")

    # --- layers ---------------------------------------------------------------------------
    def _show_layers(self) -> None:
        model = self.models.get("transfer")
        if model is None:
            self.layer_table.setRowCount(0)
            self.param_label.setText("Press “Train both” to build the transfer network.")
            return
        flags = tl.frozen_flags(model)
        self.layer_table.setRowCount(len(model.layers))
        for i, lay in enumerate(model.layers):
            moved = self.movement[i] if i < len(self.movement) else None
            state = FROZEN if flags[i] else (TRAINS if lay.params else "no weights")
            if lay.name == tl.HEAD_NAME:
                state = "trains (new)"
            cells = [lay.name, f"{lay.count_params():,}", state,
                     "" if moved is None else fmt(moved)]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if flags[i]:
                    item.setBackground(Qt.GlobalColor.lightGray)
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                    item.setToolTip("Frozen: layer.trainable = False, its weights never move")
                self.layer_table.setItem(i, j, item)
        frozen = sum(lay.count_params() for lay, f in zip(model.layers, flags) if f)
        total = model.count_params()
        self.param_label.setText(f"{total - frozen:,} weights train, {frozen:,} frozen")

    # --- training -------------------------------------------------------------------------
    def _ready_to_train(self) -> bool:
        missing = [s for s, n in zip(self.symbols, self.counts("train")) if n == 0]
        if missing:
            self._say(f"Cannot train yet: add at least one training drawing of "
                      f"{', '.join(missing)}.", error=True)
            return False
        if not self.drawings["held"]:
            self._say("Cannot train yet: hold back at least one drawing, to measure how well "
                      "each network recognises drawings it never saw.", error=True)
            return False
        if self.base_combo.currentIndex() > 0:
            self.base = self.learner_base
        elif self.shipped_base is None:
            try:
                self.shipped_base = load_base()
            except (OSError, ValueError) as exc:
                self._say(f"Cannot load the digit network: {exc}", error=True)
                return False
            if self.shipped_base is None:
                self._say("The shipped digit network is missing: run "
                          "scripts/train_digit_models.py.", error=True)
                return False
        if self.base_combo.currentIndex() == 0:
            self.base = self.shipped_base
        return True

    def _task(self, key: str, name: str, epochs: int) -> TrainingTask:
        model = self.models[key]
        x, y = self._arrays("train", model)
        xv, yv = self._arrays("held", model)
        before = [lay.get_weights() for lay in model.layers]

        def finish(task, before=before):
            return {"accuracy": float(np.mean(task.model.predict(xv).argmax(1) == yv)),
                    "movement": tl.weight_movement(before, task.model)}

        run = self.store.new_run({"train_samples": len(y), "epochs": epochs}, name=name)
        self.runs[key] = run
        self.plot.add_run(run)
        return TrainingTask(run, model, x, y, epochs=epochs, batch_size=BATCH_SIZE,
                            validation_data=(xv, yv), seed=SEED, finish=finish)

    def train_both(self) -> bool:
        if self.is_training() or self._making_examples or not self._ready_to_train():
            return False
        n = len(self.symbols)
        self.models = {"transfer": tl.transfer_model(self.base, n, seed=SEED),
                       "scratch": tl.scratch_model(self.base, n, seed=SEED)}
        self.results, self.movement = {}, []
        self._transfer_epochs = 0
        self.plot.clear()
        self.runs = {}
        epochs = self.epochs_spin.value()
        tasks = [self._task("transfer", "frozen base + new head", epochs),
                 self._task("scratch", "from scratch", epochs)]
        self._show_layers()
        self._start(tasks, "Training both networks on the same drawings…")
        return True

    def fine_tune(self) -> bool:
        model = self.models.get("transfer")
        if self.is_training() or model is None or not self._ready_to_train():
            return False
        if model.output_shape[0] != len(self.symbols):
            self._say("The symbols changed since the networks trained: press “Train both” "
                      "first.", error=True)
            return False
        names = tl.fine_tune(model, top_layers=2)
        self.models["fine"] = model       # the same network, trained on
        self.movement = []
        self._show_layers()
        task = self._task("fine", "fine-tuned", FINE_TUNE_EPOCHS)
        # its curve carries on where the head's training ended
        task.first_epoch = self._transfer_epochs
        self._start([task], f"Fine-tuning: {', '.join(names)} unfrozen, learning rate "
                            f"{fmt(tl.FINE_TUNE_LEARNING_RATE)} (ten times smaller)…")
        return True

    def _start(self, tasks, text: str) -> None:
        self.session = TrainingSession(tasks, parent=self)
        self.session.updated.connect(self.plot.update_runs)
        self.session.progress_changed.connect(self._on_progress)
        self.session.finished.connect(self._on_finished)
        self.start_session(self.session)
        self._say(text)
        self._update_controls()

    def _on_progress(self, p) -> None:
        self.progress.setValue(int(round(1000 * p.fraction)))
        self.progress.setFormat(f"{p.done} of {p.total} updates")

    def _on_finished(self) -> None:
        session = self.session
        self.plot.refresh()
        for task in session.tasks:
            key = next(k for k, r in self.runs.items() if r is task.run)
            if isinstance(task.result, dict):
                self.results[key] = task.result["accuracy"]
                if key in ("transfer", "fine"):
                    self.movement = task.result["movement"]
                    self._transfer_epochs += len(task.run.epochs)
        failed = [t.run for t in session.tasks if t.run.status in ("diverged", "failed")]
        self._show_layers()
        self._show_results()
        if failed:
            self._say(f"{failed[0].name} {failed[0].status}: {failed[0].stop_reason}",
                      error=True)
        elif all(t.run.status == "finished" for t in session.tasks):
            self.progress.setValue(1000)
            self.progress.setFormat("finished")
            self._say("Done: compare the accuracies on the drawings held back. The frozen "
                      "layers' weights did not move at all.")
        else:
            self.progress.setFormat("stopped")
            self._say("Training stopped.")
        self._update_controls()
        self.training_finished.emit()

    def _show_results(self) -> None:
        n = len(self.drawings["held"])
        rows = []
        for key, name in (("transfer", "frozen base + new head"), ("scratch", "from scratch"),
                          ("fine", "fine-tuned")):
            if key in self.results and key in self.runs:
                color = run_color(self.runs[key]).name()
                acc = self.results[key]
                rows.append(f"<span style='color:{color}'>■</span> {name}: "
                            f"{round(acc * n)} of {n} held-back drawings right = {fmt(acc)}")
        self.result_label.setText("<br>".join(rows))

    def _update_controls(self) -> None:
        running = self.is_training() or self._making_examples
        for w in (self.train_button, self.example_button, self.per_symbol_spin,
                  self.epochs_spin, self.symbols_edit, self.base_combo):
            w.setEnabled(not running)
        self.stop_button.setEnabled(running)
        model = self.models.get("transfer")
        self.fine_tune_button.setEnabled(
            not running and "transfer" in self.results and model is not None
            and any(tl.frozen_flags(model)))

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        if error:
            self.show_status(text, 8000)

    def deactivate(self) -> None:
        super().deactivate()
        self._update_controls()
