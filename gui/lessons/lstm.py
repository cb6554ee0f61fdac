"""LSTM (the course's tutorial 36): one cell opened up — forget gate, input gate, candidate,
output gate, cell state and hidden state, revealed one at a time with the engine's numbers —
then a SimpleRNN and an LSTM trained side by side on a task that needs memory across 30
steps, with the gradient that reaches each time step.

The numbers are core.teaching.lstm_steps' (a traced step of a real LSTM on a copy of the
network); training runs in the lesson's training session; nothing numeric happens here.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QGridLayout, QHBoxLayout, QHeaderView, QLabel,
                               QLineEdit, QPushButton, QTableWidget, QTableWidgetItem,
                               QTabWidget, QVBoxLayout, QWidget)

from core.teaching import lstm_steps as ls
from core.teaching import rnn_steps as rs
from core.teaching.gradient_flow import TINY, readable
from core.teaching.runs import RunStore
from gui.lessons.base import Lesson
from gui.lessons.vanishing_gradients import PowerOfTenAxis
from gui.training_worker import TrainingSession, TrainingTask
from gui.widgets.colors import BACKWARD_COLOR, FORWARD_COLOR
from gui.widgets.numbers import mono_font
from gui.widgets.playback import PlaybackClock
from gui.widgets.plots import LegendPlot, text_size

STEP_MS = 1100
MEMORY_BUTTON = "Train both"
MODELS = (("SimpleRNN", BACKWARD_COLOR), ("LSTM", FORWARD_COLOR))
#: the gradient probe: this many held-out sequences in one traced step
PROBE = 64
HISTORY_COLUMNS = ["t", "x", "f", "i", "candidate", "o", "c", "h"]


def _walks_job(weights, sequence):
    return ls.cell_walks(weights, sequence)


def _memory_prepare(task, before: dict, xg, yg) -> None:
    """Before training (worker thread): the gradient through time of the untrained network,
    the one it has to learn from."""
    before[task.run.id] = ls.memory_gradients(task.model, xg, yg)


def _memory_snapshot(task, before: dict, xv, yv, xg, yg):
    """At each epoch's end (worker thread): accuracy on new sequences, the gradient that
    reaches every time step now, and before training."""
    return (ls.memory_accuracy(task.model, xv, yv), ls.memory_gradients(task.model, xg, yg),
            before.get(task.run.id))


class StageCard(QLabel):
    """One stage of the cell: its name and role, its formula, then its numbers once shown."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.setObjectName("stageCard")
        self.state = "hidden"

    def show_stage(self, stage: ls.Stage, state: str) -> None:
        """state: "hidden" (formula only), "done" (with numbers) or "current" (highlighted)."""
        self.state = state
        numbers = rs_html(stage.numbers) if state != "hidden" else "?"
        border = FORWARD_COLOR.name() if state == "current" else "#9aa1aa"
        width = 3 if state == "current" else 1
        self.setStyleSheet(f"#stageCard {{ border: {width}px solid {border}; "
                           f"border-radius: 6px; padding: 6px; }}")
        self.setText(f"<b>{stage.symbol} — {stage.name}</b><br>{stage.role}<br>"
                     f"<code>{rs_html(stage.formula)}</code><br><code>{numbers}</code>")
        self.setAccessibleName(f"{stage.name}")
        self.setAccessibleDescription(stage.numbers if state != "hidden" else stage.formula)


def rs_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class LstmLesson(Lesson):
    title = "LSTM"
    subtitle = ("Inside one LSTM cell: gates that decide what to forget, what to write and what "
                "to show — then an LSTM remembers across 30 steps where a plain RNN cannot.")
    help_name = "lstm"
    status_hint = "→ reveals the next part of the cell, Space plays; the second tab trains " \
                  "an RNN and an LSTM side by side."
    explanation_collapsed_by_default = True
    course_tutorials = (36,)

    #: the memory comparison ended
    memory_finished = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.sequence = np.asarray(ls.DEFAULT_SEQUENCE, np.float32)
        self.weights = ls.cell_model(seed=3).get_weights()
        self.walks: list[ls.CellStep] | None = None
        self.t, self.stage = 1, 0
        self.session: TrainingSession | None = None
        self.store = RunStore("lstm")
        self.runs: dict[str, object] = {}
        self.accuracy: dict[str, list[float]] = {}
        self.gradients: dict[str, np.ndarray] = {}
        self.initial_gradients: dict[str, np.ndarray] = {}

        self.tabs = QTabWidget()
        self.tabs.addTab(self._cell_tab(), "One cell")
        self.tabs.addTab(self._memory_tab(), "Memory: RNN vs LSTM")
        self.set_visual(self.tabs)

        pb = self.add_playback()
        pb.step_forward.connect(self.step_forward)
        pb.step_back.connect(self.step_back)
        pb.reset.connect(self.reset)
        self._clock = PlaybackClock(pb, STEP_MS, self.step_forward, rewind=self._rewind)
        self._read()

    # --- building -------------------------------------------------------------------------
    def _cell_tab(self) -> QWidget:
        page = QWidget()
        col = QVBoxLayout(page)
        row = QHBoxLayout()
        self.sequence_edit = QLineEdit(", ".join(rs.plain(v) for v in self.sequence))
        self.sequence_edit.setAccessibleName("Sequence")
        self.sequence_edit.setToolTip("The numbers the LSTM reads, one per time step")
        self.sequence_edit.returnPressed.connect(self.apply_sequence)
        lbl = QLabel("Sequence")
        lbl.setBuddy(self.sequence_edit)
        row.addWidget(lbl)
        row.addWidget(self.sequence_edit, 1)
        read = QPushButton("Read it")
        read.setToolTip("Run this sequence through the cell")
        read.clicked.connect(self.apply_sequence)
        row.addWidget(read)
        new = QPushButton("New weights")
        new.setToolTip("Other random weights for the cell (Keras's initialisation)")
        new.clicked.connect(self.new_weights)
        row.addWidget(new)
        col.addLayout(row)
        self.message = self.make_message_label()
        self.message.setVisible(False)
        col.addWidget(self.message)
        self.where = QLabel()
        self.where.setAccessibleName("Where the walk is")
        self.where.setWordWrap(True)
        col.addWidget(self.where)
        self.inputs_label = QLabel()
        self.inputs_label.setFont(mono_font())
        self.inputs_label.setAccessibleName("What the cell receives")
        col.addWidget(self.inputs_label)
        grid = QGridLayout()
        grid.setSpacing(8)
        self.cards = [StageCard() for _ in range(6)]
        for k, card in enumerate(self.cards):
            grid.addWidget(card, k // 3, k % 3)
        col.addLayout(grid)
        self.history = QTableWidget(0, len(HISTORY_COLUMNS))
        self.history.setHorizontalHeaderLabels(HISTORY_COLUMNS)
        self.history.setAccessibleName("Every time step so far")
        self.history.setToolTip("The values of every time step the walk has reached: the cell "
                                "state c carries from row to row")
        self.history.setFont(mono_font())
        self.history.verticalHeader().setVisible(False)
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history.setFocusPolicy(Qt.FocusPolicy.NoFocus)    # ← / → belong to stepping
        self.history.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        col.addWidget(self.history, 1)
        return page

    def _memory_tab(self) -> QWidget:
        page = QWidget()
        col = QVBoxLayout(page)
        intro = QLabel(f"The first step carries a sign, +1 or −1 (a second input says “remember "
                       f"this”); the next {ls.MEMORY_STEPS - 1} steps are noise. At the end the "
                       f"network must say which sign came first. Both networks have "
                       f"{ls.MEMORY_UNITS} units and train on the same "
                       f"{ls.MEMORY_SAMPLES} sequences.")
        intro.setWordWrap(True)
        col.addWidget(intro)
        row = QHBoxLayout()
        self.acc_plot = LegendPlot("epoch", "accuracy on new sequences (%)", legend_columns=2)
        self.acc_plot.plot_item.setYRange(0, 100)
        self.acc_plot.plot_item.setMouseEnabled(x=False, y=False)
        self.grad_plot = LegendPlot("time step (1 = the sign to remember)", "gradient size",
                                    legend_columns=2)
        self.grad_plot.setMinimumWidth(520)
        axis = PowerOfTenAxis("left")
        axis.setPen(pg.mkPen("#5b626c"))
        axis.setTextPen(pg.mkPen("#1d232b"))
        self.grad_plot.plot_item.setAxisItems({"left": axis})
        self.grad_plot.plot_item.setLabel("left", "gradient size ‖∂L/∂h_t‖", color="#1d232b",
                                          size=text_size())
        self.grad_plot.plot_item.setMouseEnabled(x=False, y=False)
        self.grad_plot.setToolTip("How much of the loss's gradient reaches each time step's "
                                  "hidden state (log scale), measured on the last epoch's "
                                  "weights")
        self.acc_curves, self.grad_curves, self.start_curves = {}, {}, {}
        for name, color in MODELS:
            pen = pg.mkPen(color, width=2)
            self.acc_curves[name] = self.acc_plot.plot_item.plot([], [], pen=pen, symbol="o",
                                                                 symbolSize=4, symbolBrush=color)
            self.acc_plot.add_legend_entry(self.acc_curves[name], name)
            self.grad_curves[name] = self.grad_plot.plot_item.plot([], [], pen=pen)
            self.grad_plot.add_legend_entry(self.grad_curves[name], f"{name} now")
            self.start_curves[name] = self.grad_plot.plot_item.plot(
                [], [], pen=pg.mkPen(color, width=1.5, style=Qt.PenStyle.DashLine))
            self.grad_plot.add_legend_entry(self.start_curves[name],
                                            f"{name} before training")
        row.addWidget(self.acc_plot, 1)
        row.addWidget(self.grad_plot, 1)
        col.addLayout(row, 1)
        buttons = QHBoxLayout()
        self.memory_button = QPushButton(MEMORY_BUTTON)
        self.memory_button.setToolTip("Train the SimpleRNN and the LSTM on the memory task "
                                      "from fresh weights")
        self.memory_button.clicked.connect(self.toggle_memory)
        buttons.addWidget(self.memory_button)
        self.memory_message = self.make_message_label()
        self.memory_message.setText("Press “Train both”: about 15 seconds on a laptop.")
        buttons.addWidget(self.memory_message, 1)
        col.addLayout(buttons)
        return page

    # --- the cell -------------------------------------------------------------------------
    def new_weights(self) -> None:
        self.weights = ls.cell_model(seed=int(np.random.default_rng().integers(10_000))) \
            .get_weights()
        self._read()

    def apply_sequence(self) -> None:
        try:
            seq = rs.parse_sequence(self.sequence_edit.text())
        except ValueError as exc:
            self.message.setText(f"{exc} The cell still reads "
                                 f"{', '.join(rs.plain(v) for v in self.sequence)}.")
            self.message.setVisible(True)
            return
        self.message.setVisible(False)
        self.sequence = seq
        self._read()

    def _read(self) -> None:
        # the traced step may compile the engine's Dense kernels: off the window's thread
        self.where.setText("Reading the sequence (the first time compiles the engine)…")
        asked = (self.weights, self.sequence)
        self.start_worker(_walks_job, *asked,
                          on_finished=lambda walks, a=asked: self._walks_ready(walks, a))

    def _walks_ready(self, walks, asked) -> None:
        if asked[0] is not self.weights or asked[1] is not self.sequence:
            return                                  # the learner changed something since
        self.walks = walks
        self.t, self.stage = 1, 0
        self._show()

    def _show(self) -> None:
        if not self.walks:
            return
        step = self.walks[self.t - 1]
        for k, (card, stage) in enumerate(zip(self.cards, step.stages)):
            card.show_stage(stage, "current" if k == self.stage else
                            "done" if k < self.stage else "hidden")
        T = len(self.walks)
        current = step.stages[self.stage]
        self.where.setText(f"<b>Time step {self.t} of {T}</b> — {current.name}: "
                           f"{rs_html(current.role)}")
        self.inputs_label.setText(f"x_{self.t} = {ls.vec(step.x)}    h_(t−1) = "
                                  f"{ls.vec(step.h_prev)}    c_(t−1) = {ls.vec(step.c_prev)}")
        self._fill_history()
        if self.playback is not None:
            self.playback.set_step_back_enabled(self.t > 1 or self.stage > 0)

    def _fill_history(self) -> None:
        """Rows for the steps reached; the current step only up to the stage shown."""
        t = self.history
        t.setRowCount(len(self.walks))
        for r, step in enumerate(self.walks):
            shown = 6 if r + 1 < self.t else self.stage + 1 if r + 1 == self.t else -1
            cells = [str(step.t), ls.vec(step.x) if shown >= 0 else ""]
            cells += [ls.vec(st.value) if k < shown else ""
                      for k, st in enumerate(step.stages)]      # f, i, c̃, o, c, h
            for c, text in enumerate(cells):
                t.setItem(r, c, QTableWidgetItem(text))

    def step_forward(self) -> None:
        if not self.walks:
            return
        if self.stage < 5:
            self.stage += 1
        elif self.t < len(self.walks):
            self.t, self.stage = self.t + 1, 0
        elif self.playback is not None and self.playback.is_playing():
            self.playback.set_playing(False)
            return
        self._show()

    def step_back(self) -> None:
        if not self.walks:
            return
        if self.stage > 0:
            self.stage -= 1
        elif self.t > 1:
            self.t, self.stage = self.t - 1, 5
        self._show()

    def reset(self) -> None:
        self.t, self.stage = 1, 0
        self._show()

    def _rewind(self) -> None:
        if self.walks and self.t == len(self.walks) and self.stage == 5:
            self.reset()

    # --- the memory task --------------------------------------------------------------------
    def toggle_memory(self) -> None:
        if self.session is not None and self.session.is_running():
            self.session.stop()
            return
        self.train_memory()

    def train_memory(self, epochs: int = ls.MEMORY_EPOCHS, samples: int = ls.MEMORY_SAMPLES,
                     seed: int = 0) -> None:
        x, y = ls.memory_data(samples, seed)
        xv, yv = ls.memory_data(512, ls.MEMORY_TEST_SEED)
        xg, yg = xv[:PROBE], yv[:PROBE]
        tasks = []
        before: dict = {}
        self.runs, self.accuracy, self.gradients, self.initial_gradients = {}, {}, {}, {}
        for name, _ in MODELS:
            run = self.store.new_run({"model": name}, name=name)
            self.runs[name] = run
            self.accuracy[name] = []
            tasks.append(TrainingTask(
                run, ls.memory_model(name, seed), x, y, epochs=epochs, batch_size=32,
                seed=seed, record_batches=False,
                prepare=lambda t: _memory_prepare(t, before, xg, yg),
                snapshot=lambda t: _memory_snapshot(t, before, xv, yv, xg, yg)))
        for name, _ in MODELS:
            self.acc_curves[name].setData([], [])
            self.grad_curves[name].setData([], [])
            self.start_curves[name].setData([], [])
        self.session = TrainingSession(tasks, warm_up=False, parent=self)
        self.session.snapshot.connect(self._on_memory_snapshot)
        self.session.finished.connect(self._on_memory_done)
        self.memory_button.setText("Stop")
        self.memory_message.setText("Training both networks…")
        self.start_session(self.session)

    def _on_memory_snapshot(self, run, value) -> None:
        name = next((n for n, r in self.runs.items() if r is run), None)
        if name is None:
            return
        acc, grads, initial = value
        self.accuracy[name].append(acc)
        self.gradients[name] = grads
        if initial is not None and name not in self.initial_gradients:
            self.initial_gradients[name] = initial
            self.start_curves[name].setData(np.arange(1, len(initial) + 1),
                                            np.log10(np.maximum(initial, TINY)))
        values = 100.0 * np.asarray(self.accuracy[name])
        self.acc_curves[name].setData(np.arange(1, len(values) + 1), values)
        self.grad_curves[name].setData(np.arange(1, len(grads) + 1),
                                       np.log10(np.maximum(grads, TINY)))

    def memory_summary(self) -> str:
        parts = []
        for name, _ in MODELS:
            acc = self.accuracy.get(name)
            grads = self.gradients.get(name)
            if not acc or grads is None:
                continue
            text = f"{name}: {rs.plain(100 * acc[-1])} % right (chance is 50 %)."
            start = self.initial_gradients.get(name)
            if start is not None and start[-1] > 0:
                text += (f" Before training, the gradient reaching step 1 was "
                         f"{readable(start[0] / start[-1])} of the one at step {len(start)}")
                if grads[-1] > 0:
                    text += f"; now {readable(grads[0] / grads[-1])}"
                text += "."
            parts.append(text)
        return "  ".join(parts)

    def _on_memory_done(self) -> None:
        self.memory_button.setText(MEMORY_BUTTON)
        stopped = [r.stop_reason for r in self.runs.values() if r.stop_reason]
        text = self.memory_summary() or "Stopped before the first epoch ended."
        if stopped:
            text += f"  (Training {stopped[0]}.)"
        self.memory_message.setText(text)
        self.memory_finished.emit()

    def deactivate(self) -> None:
        if self.playback is not None:
            self.playback.set_playing(False)
        super().deactivate()
