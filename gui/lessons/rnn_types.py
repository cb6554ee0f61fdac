"""Types of RNN (the course's tutorial 34): one-to-one, one-to-many, many-to-one and
many-to-many, each a small task trained live, with the unrolled picture of its shape.

The tasks, models and scores are core.teaching.rnn_types'; this lesson lists them, draws the
chosen one's shape with gui.widgets.unrolled_rnn (input arrows only where the shape reads an
input, ŷ only where it answers), and trains it through the lesson's training session: the
loss per epoch live, then the score on new data and, for the curve tasks, one new sequence's
true and predicted values.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QPushButton, QVBoxLayout,
                               QWidget)

from core.teaching import rnn_types as rt
from core.teaching.numbers import fmt
from core.teaching.runs import RunStore
from gui.lessons.base import Lesson
from gui.training_worker import TrainingSession, TrainingTask
from gui.widgets.colors import BACKWARD_COLOR, FORWARD_COLOR
from gui.widgets.plots import LegendPlot
from gui.widgets.unrolled_rnn import UnrolledRnn

#: cells drawn for a many-step shape (the real length is written under the picture)
DRAWN_STEPS = 5
TRAIN_BUTTON = "Train this example"


def _prepare(example: rt.Example, seed: int):
    """Off the window's thread: the data (the digits are read from disk the first time)."""
    return example.training_data(seed), example.test_data()


def _layers_text(example: rt.Example) -> str:
    every = example.shape in ("one-to-many", "many-to-many")
    rnn = f"SimpleRNN({example.units}{', return_sequences=True' if every else ''})"
    act = f", {example.activation}" if example.activation else ""
    dense = f"Dense({example.outputs}{act})" + (" at every step" if every else "")
    return f"{rnn} → {dense}"


class TypesOfRnnLesson(Lesson):
    title = "Types of RNN"
    subtitle = ("One input or many, one output or many: four shapes of recurrent network, "
                "each trained here on a small task.")
    help_name = "rnn_types"
    status_hint = "Pick a shape on the left and train it; the picture shows where inputs " \
                  "enter and answers leave."
    explanation_collapsed_by_default = True
    course_tutorials = (34,)

    #: a training run ended and its score is on screen
    trained = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.example: rt.Example = rt.EXAMPLES[0]
        self.session: TrainingSession | None = None
        self.run = None
        self.scores: dict[str, rt.Score] = {}
        self.store = RunStore("rnn_types")
        self._seed = 0
        self._shown = True         # False once the learner left: a late data load starts nothing

        page = QWidget()
        row = QHBoxLayout(page)
        row.setContentsMargins(0, 0, 0, 0)
        self.examples = QListWidget()
        self.examples.setAccessibleName("Examples")
        self.examples.setToolTip("One small task for each shape of RNN")
        for e in rt.EXAMPLES:
            self.examples.addItem(f"{e.shape}\n  {e.title}")
        self.examples.setMaximumWidth(self.examples.fontMetrics().horizontalAdvance(
            "many-to-many   The next value of a") + 30)
        self.examples.currentRowChanged.connect(self.select)
        row.addWidget(self.examples)

        right = QVBoxLayout()
        self.picture = UnrolledRnn()
        self.picture.setMinimumHeight(190)
        self.picture.setToolTip("The network unrolled: one cell per time step, the same "
                                "weights in each; an arrow from below where the step reads an "
                                "input, ŷ above where it gives an answer")
        right.addWidget(self.picture, 3)
        self.task_label = QLabel()
        self.task_label.setWordWrap(True)
        self.task_label.setAccessibleName("The task")
        right.addWidget(self.task_label)
        self.result_label = self.make_message_label()
        self.result_label.setAccessibleName("Result")
        right.addWidget(self.result_label)
        plots = QHBoxLayout()
        self.loss_plot = LegendPlot("epoch", "loss", legend_columns=0)
        self.loss_plot.plot_item.setMouseEnabled(x=False, y=False)
        self.loss_plot.setToolTip("The training loss after each epoch")
        self.loss_curve = self.loss_plot.plot_item.plot(
            [], [], pen=pg.mkPen(FORWARD_COLOR, width=2), symbol="o", symbolSize=5,
            symbolBrush=FORWARD_COLOR)
        plots.addWidget(self.loss_plot, 1)
        self.curve_plot = LegendPlot("time step", "value", legend_columns=2)
        self.curve_plot.plot_item.setMouseEnabled(x=False, y=False)
        self.curve_plot.setToolTip("One new sequence: what the network should say at each "
                                   "step, and what it says")
        self.true_curve = self.curve_plot.plot_item.plot(
            [], [], pen=pg.mkPen("#1d232b", width=2))
        self.pred_curve = self.curve_plot.plot_item.plot(
            [], [], pen=pg.mkPen(BACKWARD_COLOR, width=2, style=pg.QtCore.Qt.PenStyle.DashLine))
        self.curve_plot.add_legend_entry(self.true_curve, "true")
        self.curve_plot.add_legend_entry(self.pred_curve, "network says")
        plots.addWidget(self.curve_plot, 1)
        right.addLayout(plots, 4)
        row.addLayout(right, 1)
        self.set_visual(page)

        self.train_button = self.add_control(
            QPushButton(TRAIN_BUTTON), tooltip="Train the selected example from fresh weights "
            "(a few seconds); Stop ends it early", name="Train")
        self.train_button.clicked.connect(self.toggle_training)
        self.add_controls_stretch()
        self.train_label = QLabel("Not trained yet")
        self.train_label.setAccessibleName("Training state")
        self.add_control(self.train_label)
        self.examples.setCurrentRow(0)

    # --- choosing ---------------------------------------------------------------------------
    def select(self, row: int) -> None:
        if not 0 <= row < len(rt.EXAMPLES):
            return
        if self.session is not None and self.session.is_running():
            self.session.stop_and_wait(why="for another example")
        self.example = e = rt.EXAMPLES[row]
        self.picture.set_shape(e.picture(DRAWN_STEPS))
        drawn = "" if e.steps == 1 else (
            f" The picture shows {DRAWN_STEPS} cells; this example unrolls over "
            f"{e.steps} steps.")
        self.task_label.setText(f"<b>{e.shape}: {e.title}.</b> {e.task}{drawn}<br>"
                                f"Network: {_layers_text(e)}; loss {e.loss}.")
        self.loss_curve.setData([], [])
        # the epochs this example trains for, not an empty 0-1 with ticks at 0.1 epoch
        self.loss_plot.plot_item.setXRange(0, e.epochs, padding=0.02)
        score = self.scores.get(e.key)
        self._show_score(score)
        self.train_label.setText("Trained" if score else "Not trained yet")

    def _show_score(self, score: rt.Score | None) -> None:
        curve = score is not None and score.true_curve is not None
        self.curve_plot.setVisible(self.example.key not in ("one_to_one", "many_to_one"))
        if score is None:
            self.result_label.setText("Press “Train this example” to train it.")
            self.true_curve.setData([], [])
            self.pred_curve.setData([], [])
            return
        self.result_label.setText(f"On new data: {score.text}.")
        if curve:
            if self.example.activation == "sigmoid":      # tags: a probability, 0 to 1
                self.curve_plot.plot_item.setYRange(-0.05, 1.05)
            else:
                self.curve_plot.plot_item.enableAutoRange()
            steps = np.arange(1, len(score.true_curve) + 1)
            self.true_curve.setData(steps, np.asarray(score.true_curve, float))
            self.pred_curve.setData(steps, np.asarray(score.predicted_curve, float))

    # --- training ---------------------------------------------------------------------------
    def toggle_training(self) -> None:
        if self.session is not None and self.session.is_running():
            self.session.stop()
            return
        self.train()

    def train(self, epochs: int | None = None, samples: int | None = None) -> None:
        """Fresh weights, then train the selected example (smaller `epochs` / `samples`
        for a quick run)."""
        e = self.example
        self._seed += 1
        self.train_button.setEnabled(False)
        self.train_label.setText("Preparing the data…")
        self.start_worker(_prepare, e, self._seed,
                          on_finished=lambda data, e=e, s=self._seed: self._start(
                              e, s, data, epochs, samples))

    def _start(self, example, seed, data, epochs, samples) -> None:
        self.train_button.setEnabled(True)
        if example is not self.example or not self._shown:
            self.train_label.setText("Not trained yet")
            return
        (x, y), (xt, yt) = data
        if samples is not None:
            x, y = x[:samples], y[:samples]
        run = self.store.new_run({"example": example.key}, name=example.title)
        self.run = run
        model = example.make_model(seed)
        task = TrainingTask(run, model, x, y, epochs=epochs or example.epochs,
                            batch_size=example.batch_size, seed=seed, record_batches=False,
                            finish=lambda t, e=example: e.score(t.model, xt, yt))
        self.session = TrainingSession([task], warm_up=False, parent=self)
        self.session.updated.connect(lambda _ids, r=run: self._on_progress(r))
        self.session.finished.connect(lambda e=example, t=task: self._on_done(e, t))
        self.loss_curve.setData([], [])
        self.train_button.setText("Stop")
        self.start_session(self.session)

    def _on_progress(self, run) -> None:
        if run is not self.run:
            return
        table = run.table("epoch")
        if not len(table):
            return
        loss = np.asarray(table.get("loss"), float)
        self.loss_curve.setData(np.arange(1, len(loss) + 1), loss)
        self.train_label.setText(f"Epoch {len(loss)}, loss {fmt(loss[-1])}")

    def _on_done(self, example, task) -> None:
        self.train_button.setText(TRAIN_BUTTON)
        self._on_progress(task.run)
        if task.run.stop_reason:
            self.show_status(f"Training {task.run.stop_reason}.", 5000)
        if isinstance(task.result, rt.Score):
            self.scores[example.key] = task.result
            if example is self.example:
                self._show_score(task.result)
                self.train_label.setText(f"Trained {task.epochs_done} epochs")
            self.trained.emit(example.key)

    # --- lifecycle --------------------------------------------------------------------------
    def activate(self) -> None:
        self._shown = True
        super().activate()

    def deactivate(self) -> None:
        self._shown = False
        super().deactivate()
