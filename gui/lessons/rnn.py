"""What is an RNN (the course's tutorial 33): one cell, unrolled over time, the same weights
at every step, the hidden state carried forward — walked forward and backward through time
with the numbers, on a tiny SimpleRNN that learns a running sum while you watch.

The numbers come from core.teaching.rnn_steps (the engine's own trace of a training step);
this lesson only shows them: the unrolled picture on top, the list of steps and the formula
with its numbers underneath. The second tab feeds sequences of 2 to 20 values to the one
trained RNN (built for any length: input_shape=(None, 1)) and to a dense network built for 5,
and shows the dense network's refusals in the engine's words.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QGroupBox, QHBoxLayout,
                               QHeaderView, QLabel, QLineEdit, QPlainTextEdit, QPushButton,
                               QSpinBox, QSplitter, QTableWidget, QTableWidgetItem, QTabWidget,
                               QVBoxLayout, QWidget)

from core.teaching import predict, rnn_steps as rs
from core.teaching.runs import RunStore
from gui.lessons.base import Lesson
from gui.widgets.playback import PlaybackClock
from gui.widgets.colors import BACKWARD_COLOR, FORWARD_COLOR
from gui.widgets.numbers import mono_font
from gui.widgets.phase_strip import UPDATE_COLOR
from gui.widgets.unrolled_rnn import UnrolledRnn
from gui.widgets.values_ahead import hide_values_ahead
from gui.training_worker import TrainingSession, TrainingTask

#: milliseconds per step at 1× speed
STEP_MS = 1200
TRAIN_SEQUENCES = 512
TRAIN_EPOCHS = 60
DEFAULT_SEQUENCE = "0.3, -0.1, 0.4, 0.2, -0.5"
PHASE_COLORS = {"forward": FORWARD_COLOR, "loss": FORWARD_COLOR, "backward": BACKWARD_COLOR,
                "update": UPDATE_COLOR}


def _first_walk_job(weights, seq):
    """The first walk, and one prediction of each kind the lesson makes: every engine kernel
    they need is compiled (or loaded from Numba's cache) here, off the window's thread."""
    rs.rnn_on_lengths(weights, [seq])
    rs.feed(rs.dense_model(rs.TRAIN_LENGTH), np.zeros(rs.TRAIN_LENGTH, np.float32))
    rs.dense_any_length_refusal()
    return rs.walk_through(weights, seq)


def _help(widget: QWidget, tip: str, name: str) -> QWidget:
    widget.setToolTip(tip)
    widget.setAccessibleName(name)
    return widget


class RnnLesson(Lesson):
    title = "What is an RNN"
    subtitle = ("One cell reused at every time step, its hidden state carried forward: watch "
                "a tiny RNN add up a sequence, forward and backward through time.")
    help_name = "rnn"
    course_tutorials = (33,)
    status_hint = "→ steps forward, ← back, Space plays; Train teaches the network to add up."
    explanation_collapsed_by_default = True

    def __init__(self, parent=None):
        super().__init__(parent)
        self.weights: list[np.ndarray] | None = None
        self.walk: rs.Walk | None = None
        self.sequence = rs.parse_sequence(DEFAULT_SEQUENCE)
        self.index = 0
        self.session: TrainingSession | None = None
        self.store = RunStore("rnn")
        self.epochs_trained = 0
        self._engine_ready = False     # the first trace runs in a worker (kernels may compile)

        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Through time, and any length")
        self.tabs.addTab(self._through_time_tab(), "Through time")
        self.tabs.addTab(self._length_tab(), "Any length (why not a dense network?)")
        self.set_visual(self.tabs)

        pb = self.add_playback()
        pb.step_forward.connect(self.step_forward)
        pb.step_back.connect(self.step_back)
        pb.reset.connect(self.reset)
        self._clock = PlaybackClock(pb, STEP_MS, self._tick, rewind=self._rewind_at_end)
        pb.reset_button.setToolTip("Back to the first time step of the forward pass (R)")
        self.train_button = self.add_control(
            QPushButton("Train"), tooltip="Train the network on 512 random sequences to say "
            "their total; the steps and numbers above follow its weights live",
            name="Train")
        self.train_button.clicked.connect(self.toggle_training)
        self.new_button = self.add_control(
            QPushButton("New weights"), tooltip="Start again from fresh random weights",
            name="New weights")
        self.new_button.clicked.connect(self.new_weights)
        # the tiny network's 60 epochs take half a second at full speed: 300 updates/s
        # (16 an epoch) lets a class watch the loss fall over ~3 s
        self.add_pace_control(300)
        self.add_controls_stretch()
        self.train_label = QLabel("Untrained: random weights")
        self.train_label.setFont(mono_font())
        self.train_label.setAccessibleName("Training state")
        self.train_label.setWordWrap(True)   # two lines rather than a window wider than 1280
        self.add_control(self.train_label)

        self.new_weights()

    # --- building ------------------------------------------------------------------------------
    def _through_time_tab(self) -> QWidget:
        page = QWidget()
        col = QVBoxLayout(page)
        col.setContentsMargins(4, 4, 4, 4)
        row = QHBoxLayout()
        self.sequence_edit = _help(QLineEdit(DEFAULT_SEQUENCE), "The sequence the network reads, "
                                   "one number per time step (commas between them)", "Sequence")
        self.sequence_edit.returnPressed.connect(self.apply_sequence)
        lbl = QLabel("Sequence")
        lbl.setBuddy(self.sequence_edit)
        row.addWidget(lbl)
        row.addWidget(self.sequence_edit, 1)
        self.apply_button = _help(QPushButton("Read it"), "Walk this sequence through the "
                                  "network", "Read the sequence")
        self.apply_button.clicked.connect(self.apply_sequence)
        row.addWidget(self.apply_button)
        self.units_spin = _help(QSpinBox(), "Hidden units: the size of the state h carried from "
                                "step to step", "Hidden units")
        self.units_spin.setRange(1, 3)
        self.units_spin.setValue(rs.DEFAULT_UNITS)
        self.units_spin.valueChanged.connect(self.new_weights)
        lbl = QLabel("Hidden units")
        lbl.setBuddy(self.units_spin)
        row.addWidget(lbl)
        row.addWidget(self.units_spin)
        col.addLayout(row)
        self.message = self.make_message_label()
        self.message.setVisible(False)
        col.addWidget(self.message)
        self.where = QLabel()
        self.where.setAccessibleName("Where in the training step")
        self.where.setWordWrap(True)
        col.addWidget(self.where)

        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        self.diagram = UnrolledRnn()
        split.addWidget(self.diagram)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.setChildrenCollapsible(False)
        self.table = self._make_table()
        bottom.addWidget(self.table)
        self.formula_view = QPlainTextEdit()
        self.formula_view.setReadOnly(True)
        self.formula_view.setFont(mono_font())
        self.formula_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.formula_view.setAccessibleName("Formula with its numbers")
        self.formula_view.setToolTip("How the selected number was computed, with the numbers "
                                     "from the engine's record of this training step")
        bottom.addWidget(self.formula_view)
        bottom.setSizes([540, 500])
        split.addWidget(bottom)
        split.setSizes([270, 230])
        col.addWidget(split, 1)
        return page

    def _make_table(self) -> QTableWidget:
        t = QTableWidget(0, 4)
        t.setHorizontalHeaderLabels(["Phase", "Step", "Quantity", "Value"])
        t.setAccessibleName("Steps of the training step")
        t.setToolTip("Every number of one training step, in the order it is computed; click "
                     "a row to jump to it")
        t.verticalHeader().setVisible(False)
        t.verticalHeader().setDefaultSectionSize(t.fontMetrics().height() + 6)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setFocusPolicy(Qt.FocusPolicy.ClickFocus)   # ← / → belong to stepping
        header = t.horizontalHeader()
        for k in range(3):
            header.setSectionResizeMode(k, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        t.itemSelectionChanged.connect(self._on_row_selected)
        return t

    def _length_tab(self) -> QWidget:
        page = QWidget()
        col = QVBoxLayout(page)
        intro = QLabel("A dense network has one weight per input value, so it is built for one "
                       "length. The RNN has one weight per input feature and reads the values "
                       "one at a time, so one trained network reads any length: it is built "
                       "with input_shape=(None, 1), None meaning any number of steps.")
        intro.setWordWrap(True)
        col.addWidget(intro)
        row = QHBoxLayout()
        self.length_spin = _help(QSpinBox(), "How many values the sequence fed to both networks "
                                 "has (the dense one was built for 5; the RNN for any length)",
                                 "Sequence length")
        self.length_spin.setRange(*rs.DEMO_RANGE)
        self.length_spin.setValue(8)
        self.length_spin.valueChanged.connect(self.refresh_lengths)
        lbl = QLabel("Feed a sequence of length")
        lbl.setBuddy(self.length_spin)
        row.addWidget(lbl)
        row.addWidget(self.length_spin)
        self.fed_text = QLabel()   # the sequence both networks are fed, written once
        self.fed_text.setFont(mono_font())
        self.fed_text.setWordWrap(True)
        self.fed_text.setAccessibleName("The sequence fed to both networks")
        row.addWidget(self.fed_text, 1)
        col.addLayout(row)
        boxes = QHBoxLayout()
        self.dense_box = QGroupBox("Dense network: Flatten → Dense(1), built for 5 values")
        self.rnn_box = QGroupBox("RNN: SimpleRNN → Dense(1), one network for any length")
        self.dense_text = QLabel()
        self.rnn_text = QLabel()
        for box, text, name in ((self.dense_box, self.dense_text, "Dense network"),
                                (self.rnn_box, self.rnn_text, "RNN")):
            text.setFont(mono_font())
            text.setWordWrap(True)
            text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            text.setAccessibleName(f"{name} on the sequence")
            QVBoxLayout(box).addWidget(text)
            boxes.addWidget(box, 1)
        col.addLayout(boxes)
        self.lengths_table = QTableWidget(0, 4)
        self.lengths_table.setHorizontalHeaderLabels(
            ["Length", "Sequence", "True total", "RNN says"])
        lengths = ", ".join(map(str, rs.DEMO_LENGTHS))
        self.lengths_table.setAccessibleName(f"The same RNN on {lengths} steps")
        self.lengths_table.setToolTip(f"The one trained RNN reading sequences of {lengths} "
                                      "values")
        self.lengths_table.setFont(mono_font())
        self.lengths_table.verticalHeader().setVisible(False)
        self.lengths_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        h = self.lengths_table.horizontalHeader()
        for k in range(4):
            h.setSectionResizeMode(k, QHeaderView.ResizeMode.Stretch if k == 1 else
                                   QHeaderView.ResizeMode.ResizeToContents)
        rows = self.lengths_table.verticalHeader().defaultSectionSize()
        self.lengths_table.setMaximumHeight(
            (len(rs.DEMO_LENGTHS) + 1) * rows
            + self.lengths_table.horizontalHeader().sizeHint().height())
        col.addWidget(self.lengths_table)
        note = QLabel("The RNN only ever trains on sequences of 5. Reading 2 or 10 values a "
                      "trained one is usually close to the true total, at 20 often less so: a "
                      "network that has seen one length may learn a trick that only works near "
                      "that length, which is why real RNNs train on sequences of many lengths.")
        note.setWordWrap(True)
        note.setObjectName("mutedText")
        col.addWidget(note)
        col.addStretch(1)
        return page

    # --- weights, walk --------------------------------------------------------------------------
    def new_weights(self) -> None:
        if self.session is not None and self.session.is_running():
            self.session.stop_and_wait(why="for new weights")
        self.epochs_trained = 0
        self.train_label.setText("Untrained: random weights")
        seed = int(np.random.default_rng().integers(10_000))
        self.model = rs.make_model(self.units_spin.value(), None, seed)   # any length
        self.set_weights(self.model.get_weights())

    def set_weights(self, weights) -> None:
        self.weights = [np.array(w, copy=True) for w in weights]
        self._rebuild_walk()

    def apply_sequence(self) -> None:
        try:
            seq = rs.parse_sequence(self.sequence_edit.text())
        except ValueError as exc:
            self.message.setText(f"{exc} The network still reads "
                                 f"{', '.join(rs.plain(v) for v in self.sequence)}.")
            self.message.setVisible(True)
            return
        self.message.setVisible(False)
        self.sequence = seq
        self.index = 0
        self._rebuild_walk()

    def _rebuild_walk(self) -> None:
        weights, seq = self.weights, self.sequence
        if self._engine_ready:
            self._show_walk(rs.walk_through(weights, seq))
            return
        # the first trace may compile the engine's Dense kernels: off the window's thread
        self.where.setText("Preparing the network (the first time compiles the engine)…")
        self.start_worker(_first_walk_job, weights, seq,
                          on_finished=lambda walk, asked=(weights, seq): self._first_walk(
                              walk, asked))

    def _first_walk(self, walk, asked) -> None:
        self._engine_ready = True
        if asked[0] is self.weights and asked[1] is self.sequence:
            self._show_walk(walk)
        else:                      # the learner changed something meanwhile
            self._rebuild_walk()

    def _show_walk(self, walk: rs.Walk) -> None:
        self.walk = walk
        self.diagram.set_walk(walk)
        t = self.table
        t.blockSignals(True)
        # sized once after filling, not once per cell (that made each live refresh 150 ms)
        header = t.horizontalHeader()
        modes = [header.sectionResizeMode(k) for k in range(4)]
        for k in range(4):
            header.setSectionResizeMode(k, QHeaderView.ResizeMode.Fixed)
        t.setRowCount(len(walk.steps))
        mono = mono_font()
        for r, s in enumerate(walk.steps):
            color = PHASE_COLORS[s.phase]
            cells = (rs.PHASE_WORDS[s.phase], "" if s.t is None else str(s.t), s.quantity,
                     s.value_text())
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 0:
                    item.setForeground(color)
                if c == 3:
                    item.setFont(mono)
                    item.setToolTip(s.formula)
                t.setItem(r, c, item)
        for k, mode in enumerate(modes):
            header.setSectionResizeMode(k, mode)
        t.blockSignals(False)
        self.index = min(self.index, len(walk.steps) - 1)
        self._show_step()
        self.refresh_lengths()

    def _show_step(self) -> None:
        if self.walk is None:
            return
        s = self.walk.steps[self.index]
        T = self.walk.length
        if s.phase == "forward" and s.t is not None:
            pos = (s.t, s.t, None, False)
        elif s.phase in ("forward", "loss"):
            pos = (None, T, None, True)
        elif s.phase == "backward" and s.t is not None:
            pos = (s.t, T, s.t, True)
        elif s.phase == "backward" and s.quantity == "∂L/∂ŷ":
            pos = (None, T, T + 1, True)
        else:
            pos = (None, T, 1, True)
        self.diagram.set_position(s.phase, *pos)
        color = PHASE_COLORS[s.phase].name()
        self.where.setText(f"<b style='color:{color}'>{rs.PHASE_TITLES[s.phase]}</b> — "
                           f"{s.where}  ({self.index + 1} of {len(self.walk.steps)})")
        at = "" if s.t is None else f" (step {s.t})"
        self.formula_view.setPlainText(f"{s.quantity}{at} = {s.value_text()}\n\n{s.formula}")
        self.table.blockSignals(True)
        self.table.selectRow(self.index)
        self.table.blockSignals(False)
        item = self.table.item(self.index, 0)
        if item is not None:
            self.table.scrollToItem(item)
        if self.playback is not None:
            self.playback.set_step_back_enabled(self.index > 0)
        hide_values_ahead(self.table, 3, self.index, self.ask_first_enabled())

    def _on_row_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows and self.walk is not None:
            self.index = rows[0].row()
            self._show_step()

    # --- playback ---------------------------------------------------------------------------------
    def next_question(self):
        return predict.rnn_question(self.walk, self.index + 1)

    def set_ask_first(self, on: bool) -> None:
        super().set_ask_first(on)
        if self.walk is not None:
            hide_values_ahead(self.table, 3, self.index, self.ask_first_enabled())

    def step_forward(self) -> None:
        if self.walk is None or self.ask_first(self.step_forward):
            return
        if self.index < len(self.walk.steps) - 1:
            self.index += 1
            self._show_step()
        elif self.playback is not None and self.playback.is_playing():
            self.playback.set_playing(False)

    def step_back(self) -> None:
        if self.walk is not None and self.index > 0:
            self.index -= 1
            self._show_step()

    def reset(self) -> None:
        self.index = 0
        self._show_step()

    def _tick(self) -> None:
        self.step_forward()

    def _rewind_at_end(self) -> None:
        if self.walk is not None and self.index >= len(self.walk.steps) - 1:
            self.index = 0
            self._show_step()

    # --- any length ------------------------------------------------------------------------------
    def refresh_lengths(self) -> None:
        if self.weights is None or not self._engine_ready:
            return
        n = self.length_spin.value()
        seq = rs.running_sum_data(1, n, seed=100 + n)[0].reshape(-1)
        self.fed_text.setText(f"{', '.join(rs.plain(v) for v in seq)} (total "
                              f"{rs.plain(seq.sum())})")
        dense = rs.dense_model(rs.TRAIN_LENGTH)
        d = rs.feed(dense, seq)
        shapes = ", ".join(f"{name} {shape}" for name, shape in rs.weight_shapes(dense))
        verdict = (f"prediction {rs.plain(d.prediction)}" if d.ok else
                   f"cannot read it. The engine says: {d.message}")
        self.dense_text.setText(
            f"Weights: {shapes}\n\nFed {n} values: {verdict}\n\n"
            f"Built for any length instead (input_shape=(None, 1)), the engine says: "
            f"{rs.dense_any_length_refusal()}")
        # one network for every length: the lesson's own weights, in one model
        rnn = rs.any_length(self.weights)
        said = rs.feed(rnn, seq)
        shapes = ", ".join(f"{name} {shape}" for name, shape in rs.weight_shapes(rnn))
        shape = ", ".join(map(str, rnn.input_shape))
        self.rnn_text.setText(f"Built once for input_shape=({shape}). Weights, the same for "
                              f"every length: {shapes}\n\nFed {n} values: prediction "
                              f"{rs.plain(said.prediction)}, true total {rs.plain(seq.sum())}")
        seqs = rs.demo_sequences()
        results = [rs.feed(rnn, s) for s in seqs]
        t = self.lengths_table
        t.setRowCount(len(seqs))
        for r, (s, res) in enumerate(zip(seqs, results)):
            for c, text in enumerate((str(len(s)), ", ".join(rs.plain(v) for v in s),
                                      rs.plain(s.sum()), rs.plain(res.prediction))):
                t.setItem(r, c, QTableWidgetItem(text))

    # --- live training ---------------------------------------------------------------------------
    def toggle_training(self) -> None:
        if self.session is not None and self.session.is_running():
            self.session.stop()
            return
        x, y = rs.running_sum_data(TRAIN_SEQUENCES, rs.TRAIN_LENGTH, seed=self.epochs_trained)
        run = self.store.new_run({"units": self.units_spin.value()})
        task = TrainingTask(run, self.model, x, y, epochs=TRAIN_EPOCHS, batch_size=32,
                            seed=self.epochs_trained, snapshot=lambda t: t.model.get_weights(),
                            snapshot_every=0.25, record_batches=False)
        self.session = TrainingSession([task], warm_up=False, parent=self)
        self.session.snapshot.connect(self._on_snapshot)
        self.session.updated.connect(lambda _ids, r=run: self._on_progress(r))
        self.session.finished.connect(self._on_training_done)
        self.train_button.setText("Stop")
        self.start_session(self.session)

    def _on_progress(self, run) -> None:
        loss = run.table("epoch").last("loss")
        if loss is not None:
            self.train_label.setText(f"Epoch {self.epochs_trained + run.finished_epochs}, "
                                     f"loss {rs.plain(loss)}")

    def _on_snapshot(self, run, weights) -> None:
        self._on_progress(run)
        self.set_weights(weights)

    def _on_training_done(self) -> None:
        self.train_button.setText("Train")
        tasks = self.session.tasks if self.session is not None else []
        for run in [t.run for t in tasks if t.model is self.model]:
            self.epochs_trained += run.finished_epochs
            if run.stop_reason:
                self.show_status(f"Training {run.stop_reason}.", 5000)
        self.set_weights(self.model.get_weights())

    def deactivate(self) -> None:
        if self.playback is not None:
            self.playback.set_playing(False)
        super().deactivate()
