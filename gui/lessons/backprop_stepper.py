"""Backprop, step by step: every number of one training step, one at a time.

The list comes from core.teaching.stepper (built from the engine's own trace of the step); this
lesson only shows it: the list on the left, the network diagram on the right with the
same quantity highlighted, the formula with its numbers large underneath, and the phase
always named above. "Next training step" applies the update and walks the new weights.
"""
from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QFont, QFontMetrics
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDoubleSpinBox, QFrame,
                               QHBoxLayout, QHeaderView, QLabel, QPlainTextEdit, QPushButton,
                               QSizePolicy, QSpinBox, QSplitter, QTableWidget,
                               QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from core.teaching import predict, stepper
from core.wording import difference
from core.optimizers import SGD
from gui.lessons.base import Lesson
from gui.widgets.playback import PlaybackClock
from gui.widgets.numbers import fmt, mono_font
from gui.widgets.phase_strip import PHASE_COLORS, PHASE_WORDS, PhaseStrip
from gui.widgets.values_ahead import hide_values_ahead

try:  # written alongside this lesson; without it the lesson still shows the list
    from gui.widgets.diagram.network import NetworkDiagram
except ImportError as exc:  # pragma: no cover - depends on the other module being there
    NetworkDiagram = None
    _DIAGRAM_ERROR = str(exc)
else:
    _DIAGRAM_ERROR = ""

CASES = (("insurance", "Insurance neuron (course)"), ("hidden", "One hidden layer"))
#: milliseconds per step at 1× speed
STEP_MS = 1400
N_PEOPLE = 28
MAX_BATCH = 4
#: the gradient check's columns: gradients and their differences to 5 decimals
CHECK_DECIMALS = 5
DIFF_DECIMALS = 5


def _help(widget: QWidget, tip: str, name: str) -> QWidget:
    widget.setToolTip(tip)
    widget.setAccessibleName(name)
    return widget


class BackpropStepperLesson(Lesson):
    title = "Backprop, step by step"
    subtitle = ("Every number of one training step in order — forward, loss, each partial "
                "derivative by the chain rule, the update — highlighted in the network.")
    help_name = "backprop_stepper"
    course_tutorials = (15,)
    status_hint = ("→ steps forward, ← back, Space plays; click any row to jump to it, hover a "
                   "value for its formula.")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = None
        self.walk: stepper.Walkthrough | None = None
        self.index = 0
        self.training_steps = 0
        self._building = False
        self._diagram_sample = None
        self._generation = 0      # bumped for every new walk-through

        root = QWidget()
        col = QVBoxLayout(root)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(6)
        col.addWidget(self._setup_row())
        self.phase_strip = PhaseStrip()
        col.addWidget(self.phase_strip)

        self.vsplit = QSplitter(Qt.Orientation.Vertical)
        self.vsplit.setChildrenCollapsible(False)
        self.hsplit = QSplitter(Qt.Orientation.Horizontal)
        self.hsplit.setChildrenCollapsible(False)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Steps and gradient check")
        self.table = self._make_step_table()
        self.tabs.addTab(self.table, "Steps")
        self.check_panel = self._make_check_panel()
        self.tabs.addTab(self.check_panel, "Gradient check")
        self.hsplit.addWidget(self.tabs)
        self.diagram = None
        if NetworkDiagram is not None:
            self.diagram = NetworkDiagram()
            self.diagram.setAccessibleName("Network diagram")
            self.diagram.setMinimumWidth(300)
            # the lesson has its own edge-mode choice (by phase), its own phase strip and its
            # own formula panel: the diagram's copies would only take height from the network
            self.diagram.show_controls(False)
            self.diagram.banner.setVisible(False)
            self.diagram.info.setVisible(False)
            self.diagram.weight_edited.connect(self._on_weight_edited)
            self.hsplit.addWidget(self.diagram)
        else:
            print(f"BackpropStepperLesson: no network diagram ({_DIAGRAM_ERROR})",
                  file=sys.stderr)
        self.hsplit.setStretchFactor(0, 0)
        self.hsplit.setStretchFactor(1, 1)
        self.hsplit.setSizes([340, 700])
        self.vsplit.addWidget(self.hsplit)
        self.vsplit.addWidget(self._make_formula_panel())
        self.vsplit.setStretchFactor(0, 1)
        self.vsplit.setStretchFactor(1, 0)
        # room for the longest formula: a batch of 4 takes 7 lines
        lines = QFontMetrics(self.formula_view.font()).lineSpacing()
        self.vsplit.setSizes([1000, 7 * lines + 48])
        col.addWidget(self.vsplit, 1)
        self.set_visual(root)

        pb = self.add_playback()
        pb.step_forward.connect(self.step_forward)
        pb.step_back.connect(self.step_back)
        pb.reset.connect(self.reset)
        self._clock = PlaybackClock(pb, STEP_MS, self._tick, rewind=self._rewind_at_end)
        pb.reset_button.setToolTip("Back to the starting weights (w1 = w2 = 1, b = 0 for the "
                                   "course's neuron) and the first step (R)")
        self.next_button = self.add_control(
            QPushButton("Next training step"),
            tooltip="Apply this step's update to the weights and list the next training step "
                    "from the new weights",
            name="Next training step")
        self.next_button.clicked.connect(self.next_training_step)
        self.check_button = self.add_control(
            QPushButton("Check gradients"),
            tooltip="Compare every gradient backprop found with a finite-difference estimate",
            name="Check gradients")
        self.check_button.clicked.connect(self.show_check)
        self.add_controls_stretch()
        self.loss_label = QLabel()
        self.loss_label.setFont(mono_font())
        self.add_control(self.loss_label)

        self._rebuild_model()

    # --- building the widgets ----------------------------------------------------------
    def _setup_row(self) -> QWidget:
        row = QWidget()
        lay = QHBoxLayout(row)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)

        def caption(text, buddy):
            lbl = QLabel(text)
            lbl.setBuddy(buddy)
            lay.addWidget(lbl)
            lay.addWidget(buddy)
            return lbl

        self.case_box = _help(QComboBox(), "Which network to step through: the course's "
                              "one-neuron insurance model, or a network with one hidden layer",
                              "Network")
        for key, text in CASES:
            self.case_box.addItem(text, key)
        caption("Network", self.case_box)
        self.first_spin = _help(QSpinBox(), f"The first person of the batch (rows 1 to "
                                f"{N_PEOPLE} of the course's insurance table)", "First person")
        self.first_spin.setRange(1, N_PEOPLE)
        caption("Person", self.first_spin)
        self.count_spin = _help(QSpinBox(), "How many people in the batch: the loss and the "
                                "gradients are the mean over them", "Batch size")
        self.count_spin.setRange(1, MAX_BATCH)
        caption("Batch", self.count_spin)
        self.lr_spin = _help(QDoubleSpinBox(), "Learning rate η: how far the update moves each "
                             "weight against its gradient (the course uses 0.5)",
                             "Learning rate")
        self.lr_spin.setDecimals(3)
        self.lr_spin.setRange(0.001, 20.0)
        self.lr_spin.setSingleStep(0.1)
        self.lr_spin.setValue(stepper.COURSE_LEARNING_RATE)
        caption("η", self.lr_spin)
        self.hidden_widgets = QWidget()
        hl = QHBoxLayout(self.hidden_widgets)
        hl.setContentsMargins(0, 0, 0, 0)
        hl.setSpacing(6)
        self.units_spin = _help(QSpinBox(), "Units in the hidden layer", "Hidden units")
        self.units_spin.setRange(1, 3)
        self.units_spin.setValue(2)
        self.act_box = _help(QComboBox(), "The hidden layer's activation function",
                             "Hidden activation")
        self.act_box.addItems(["sigmoid", "tanh", "relu"])
        self.seed_spin = _help(QSpinBox(), "Seed of the random starting weights", "Seed")
        self.seed_spin.setRange(0, 9999)
        for text, w in (("Hidden", self.units_spin), ("", self.act_box), ("Seed", self.seed_spin)):
            if text:
                lbl = QLabel(text)
                lbl.setBuddy(w)
                hl.addWidget(lbl)
            hl.addWidget(w)
        lay.addWidget(self.hidden_widgets)
        lay.addStretch(1)
        self.people_label = QLabel()
        self.people_label.setObjectName("mutedText")
        lay.addWidget(self.people_label)

        self.case_box.currentIndexChanged.connect(self._rebuild_model)
        self.units_spin.valueChanged.connect(self._rebuild_model)
        self.act_box.currentIndexChanged.connect(self._rebuild_model)
        self.seed_spin.valueChanged.connect(self._rebuild_model)
        self.first_spin.valueChanged.connect(self._rebuild_walk)
        self.count_spin.valueChanged.connect(self._rebuild_walk)
        self.lr_spin.valueChanged.connect(self._on_learning_rate)
        return row

    def _make_step_table(self) -> QTableWidget:
        t = QTableWidget(0, 4)
        t.setHorizontalHeaderLabels(["Phase", "Who", "Quantity", "Value"])
        t.setAccessibleName("Steps of the training step")
        t.setToolTip("Every quantity of one training step, in the order backprop computes "
                     "them; hover a value for its formula")
        t.verticalHeader().setVisible(True)
        rows = t.fontMetrics().height() + 6
        t.verticalHeader().setDefaultSectionSize(rows)
        t.verticalHeader().setMinimumSectionSize(rows)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # ← / → belong to stepping; the table keeps ↑ / ↓
        t.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        header = t.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        t.itemSelectionChanged.connect(self._on_row_selected)
        return t

    def _make_check_panel(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.setContentsMargins(4, 4, 4, 4)
        intro = QLabel("Backprop's gradient next to a centred finite difference "
                       "[L(p + h) − L(p − h)] / (2h), the loss recomputed in float64 on a copy "
                       "of the weights. They must agree.")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        t = QTableWidget(0, 4)
        t.setHorizontalHeaderLabels(["Gradient", "Backprop", "Finite\ndifference", "Difference"])
        t.setAccessibleName("Gradient check")
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        t.verticalHeader().setVisible(False)
        t.verticalHeader().setDefaultSectionSize(t.fontMetrics().height() + 6)
        header = t.horizontalHeader()
        # the gradient's whole name (∂L/∂w¹₁₁, never "∂…") and the numbers fit their
        # columns; the difference column takes what is left
        for k in range(4):
            header.setSectionResizeMode(k, QHeaderView.ResizeMode.Stretch if k == 3 else
                                        QHeaderView.ResizeMode.ResizeToContents)
        t.itemSelectionChanged.connect(self._on_check_selected)
        self.check_table = t
        lay.addWidget(t, 1)
        self.check_verdict = QLabel()
        self.check_verdict.setWordWrap(True)
        lay.addWidget(self.check_verdict)
        return w

    def _make_formula_panel(self) -> QWidget:
        box = QFrame()
        box.setObjectName("formulaPanel")
        box.setFrameShape(QFrame.Shape.StyledPanel)
        lay = QVBoxLayout(box)
        lay.setContentsMargins(8, 4, 8, 4)
        lay.setSpacing(2)
        head = QHBoxLayout()
        head.setSpacing(12)
        self.formula_title = QLabel()
        font = QFont(self.font())
        font.setWeight(QFont.Weight.DemiBold)
        self.formula_title.setFont(font)
        head.addWidget(self.formula_title)
        self.note_label = QLabel()
        self.note_label.setObjectName("mutedText")
        self.note_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        head.addWidget(self.note_label, 1)
        lay.addLayout(head)
        self.formula_view = QPlainTextEdit()
        self.formula_view.setReadOnly(True)
        self.formula_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.formula_view.setFrameShape(QFrame.Shape.NoFrame)
        self.formula_view.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        big = mono_font()
        big.setPointSizeF(big.pointSizeF() * 1.15)
        self.formula_view.setFont(big)
        self.formula_view.setAccessibleName("Formula of the current step")
        self.formula_view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.formula_view.setMinimumHeight(self.formula_view.fontMetrics().lineSpacing() * 4 + 8)
        lay.addWidget(self.formula_view, 1)
        return box

    # --- model and walk-through ----------------------------------------------------------
    def case(self) -> str:
        return self.case_box.currentData()

    def _make_model(self):
        lr = self.lr_spin.value()
        if self.case() == "insurance":
            start = stepper.COURSE_START
            return stepper.insurance_neuron(start["w1"], start["w2"], start["b"], lr)
        return stepper.hidden_layer_network(self.units_spin.value(), self.act_box.currentText(),
                                            self.seed_spin.value(), lr)

    def _rebuild_model(self) -> None:
        self.clear_status()   # "Update applied…" was about the network being replaced
        self.hidden_widgets.setVisible(self.case() == "hidden")
        self.playback.set_playing(False)
        self.model = self._make_model()
        self.training_steps = 0
        if self.diagram is not None:
            self._diagram_sample = None
            self.diagram.set_model(self.model)
            if self.case() == "insurance":
                self.diagram.set_input_names(["x1 (age/100)", "x2 (afford)"])
            else:
                self.diagram.set_input_names(["x1", "x2"])
        self._rebuild_walk()

    def people(self) -> list[int]:
        first, count = self.first_spin.value() - 1, self.count_spin.value()
        return [(first + k) % N_PEOPLE for k in range(count)]

    def _on_learning_rate(self) -> None:
        if self.model is None:
            return
        try:
            self.model.compile(optimizer=SGD(self.lr_spin.value()), loss=self.model.loss)
        except ValueError as exc:
            self.show_status(f"Learning rate: {exc}", 6000)
            return
        self._rebuild_walk(keep_index=True)

    def _rebuild_walk(self, keep_index: bool = False) -> None:
        if self.model is None:
            return
        self.playback.set_playing(False)
        batch = stepper.insurance_batch(self.people())
        raw, _ = stepper.insurance_table()
        people = self.people()
        self.people_label.setText(("people " if len(people) > 1 else "person ")
                                  + ", ".join(str(i + 1) for i in people))
        self.people_label.setToolTip("The batch (age unscaled; y = 1 if they bought):\n" + "\n".join(
            f"{lbl}: age {int(raw[i, 0])}, {'can' if raw[i, 1] else 'cannot'} afford, "
            f"y = {int(batch.y[k])}"
            for k, (lbl, i) in enumerate(zip(batch.labels, self.people()))))
        self._generation += 1
        try:
            self.walk = stepper.walk_through(self.model, batch)
        except ValueError as exc:
            self.walk = None
            self.show_status(f"Cannot step through this: {exc}", 0)
            self.table.setRowCount(0)
            return
        self._fill_table()
        self._fill_checks()
        self.loss_label.setText(f"training step {self.training_steps + 1} · "
                                f"L = {fmt(self.walk.loss)}")
        self.loss_label.setToolTip(f"The batch's loss before this step's update\n"
                                   f"L = {self.walk.loss!r}")
        self.go_to(min(self.index, len(self.walk) - 1) if keep_index else 0)

    def _fill_table(self) -> None:
        t = self.table
        steps = self.walk.steps
        self._building = True
        t.setRowCount(len(steps))
        mono = mono_font()
        for r, s in enumerate(steps):
            color = PHASE_COLORS[s.kind]
            who = "" if s.sample is None else self.walk.batch.labels[s.sample].replace(
                "person ", "#")
            value = "—" if s.value is None else fmt(s.value)
            items = [QTableWidgetItem(PHASE_WORDS[s.kind]), QTableWidgetItem(who),
                     QTableWidgetItem(s.symbol), QTableWidgetItem(value)]
            items[0].setForeground(QBrush(color))
            items[1].setToolTip("" if s.sample is None else
                                f"{self.walk.batch.labels[s.sample]} of the batch")
            items[2].setFont(mono)
            items[3].setFont(mono)
            items[3].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            tip = s.formula + ("" if s.value is None else f"\n= {s.value!r}")
            for it in items[2:]:
                it.setToolTip(tip)
            items[0].setToolTip(stepper.PHASE_TITLES[s.kind])
            for c, it in enumerate(items):
                t.setItem(r, c, it)
        self._building = False

    def _fill_checks(self) -> None:
        t = self.check_table
        checks = self.walk.checks
        t.setRowCount(len(checks))
        mono = mono_font()
        for r, c in enumerate(checks):
            step = self.walk.find(c.symbol, None, "check")
            # fixed decimals per column; a difference too small to show is said in words
            cells = [c.symbol, f"{c.analytic:.{CHECK_DECIMALS}f}",
                     f"{c.numeric:.{CHECK_DECIMALS}f}", difference(c.abs_error, DIFF_DECIMALS)]
            for k, text in enumerate(cells):
                it = QTableWidgetItem(text)
                it.setFont(mono)
                it.setToolTip(step.formula)
                if k:
                    it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                t.setItem(r, k, it)
        bad = [c.symbol for c in checks if not c.agrees]
        worst = max((c.rel_error for c in checks), default=0.0)
        self.check_verdict.setText(
            (f"All {len(checks)} gradients agree (largest relative difference "
             f"{difference(worst, DIFF_DECIMALS)}: float32 rounding)." if not bad else
             f"Disagreement in {', '.join(bad)}: the backward pass is wrong there."))

    # --- stepping -------------------------------------------------------------------------
    def current(self) -> stepper.Step | None:
        if self.walk is None or not self.walk.steps:
            return None
        return self.walk.steps[self.index]

    def go_to(self, index: int) -> None:
        if self.walk is None or not self.walk.steps:
            return
        self.index = max(0, min(int(index), len(self.walk) - 1))
        s = self.walk.steps[self.index]
        self._building = True
        self.table.selectRow(self.index)
        if s.kind == "check":
            self.check_table.selectRow(self.index - self.walk.first("check"))
        else:
            self.check_table.clearSelection()
        self._building = False
        self.table.scrollToItem(self.table.item(self.index, 0),
                                QAbstractItemView.ScrollHint.PositionAtCenter)
        who = "" if s.sample is None else f" · {self.walk.batch.labels[s.sample]}"
        if s.sample is None and len(self.walk.batch) > 1 and s.kind != "forward":
            who = f" · whole batch of {len(self.walk.batch)}"
        self.phase_strip.set_phase(
            s.kind, f"{stepper.PHASE_TITLES[s.kind]} — step {self.index + 1} of "
                    f"{len(self.walk)}{who}")
        self.formula_title.setText(f"{s.symbol}" + ("" if s.value is None else
                                                    f" = {fmt(s.value)}"))
        self.formula_title.setStyleSheet(f"color: {PHASE_COLORS[s.kind].name()};")
        self.formula_view.setPlainText(s.formula)
        self.formula_view.setToolTip(s.rule + ("" if s.value is None else f"\n= {s.value!r}"))
        self.note_label.setText(s.note)
        self._show_in_diagram(s)
        hide_values_ahead(self.table, 3, self.index, self.ask_first_enabled())

    def _show_in_diagram(self, s: stepper.Step) -> None:
        d = self.diagram
        if d is None:
            return
        sample = 0 if s.sample is None else s.sample
        if self._diagram_sample != (self._generation, sample):
            self._diagram_sample = (self._generation, sample)
            d.set_trace(self.walk.trace, sample=sample)
        phase = "backward" if s.kind == "check" else s.kind
        column = None
        if s.target is not None:
            column = 0 if s.target.layer < 0 else d.column_for_layer(s.target.layer)
        who = "" if s.sample is None else f" ({self.walk.batch.labels[s.sample]})"
        d.set_phase(phase, column=column, text=f"{stepper.PHASE_TITLES[s.kind]}: "
                                               f"{s.symbol}{who}")
        d.set_edge_mode("gradient" if s.kind in ("backward", "check") else "weight")
        if s.target is None:
            d.clear_highlight()
        else:
            t = s.target
            d.highlight(t.kind, t.layer, t.i, t.j)

    def next_question(self):
        return predict.stepper_question(self.walk, self.index + 1)

    def set_ask_first(self, on: bool) -> None:
        super().set_ask_first(on)
        if self.walk is not None:
            hide_values_ahead(self.table, 3, self.index, self.ask_first_enabled())

    def step_forward(self) -> None:
        if self.walk is None or self.ask_first(self.step_forward):
            return
        if self.index >= len(self.walk) - 1:
            self.playback.set_playing(False)
            self.show_status("That was the last step: press “Next training step” to apply "
                             "the update and step through the next one.", 6000)
            return
        self.go_to(self.index + 1)

    def step_back(self) -> None:
        self.go_to(self.index - 1)

    def reset(self) -> None:
        self.index = 0
        self._rebuild_model()
        self.show_status("Back to the starting weights.", 3000)

    def next_training_step(self) -> None:
        if self.walk is None:
            return
        before = self.walk.loss
        stepper.apply_update(self.model, self.walk)
        self.training_steps += 1
        self._rebuild_walk()
        if self.walk is not None:
            if self.diagram is not None:
                self._diagram_sample = None
                self._show_in_diagram(self.current())
            self.show_status(f"Update applied. On this batch the loss went from {fmt(before)} "
                             f"to {fmt(self.walk.loss)}.", 6000)

    def _on_weight_edited(self, layer: int, param: str, index: tuple, value: float) -> None:
        """The learner typed a weight into the diagram: walk the step from the new weights."""
        self._diagram_sample = None
        self._rebuild_walk(keep_index=True)
        self.show_status(f"New weight {fmt(value)}: every number below was recomputed.", 5000)

    def show_check(self) -> None:
        if self.walk is None:
            return
        self.tabs.setCurrentWidget(self.check_panel)
        self.go_to(self.walk.first("check"))

    def _on_row_selected(self) -> None:
        if self._building:
            return
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.playback.set_playing(False)
            self.go_to(rows[0].row())

    def _on_check_selected(self) -> None:
        if self._building:
            return
        rows = self.check_table.selectionModel().selectedRows()
        if rows and self.walk is not None:
            self.go_to(self.walk.first("check") + rows[0].row())

    # --- playing --------------------------------------------------------------------------
    def _rewind_at_end(self) -> None:
        if self.walk is not None and self.index >= len(self.walk) - 1:
            self.go_to(0)

    def _tick(self) -> None:
        if self.walk is None or self.index >= len(self.walk) - 1:
            self.playback.set_playing(False)
            return
        self.step_forward()

    def deactivate(self) -> None:
        self.playback.set_playing(False)
        super().deactivate()

    def shutdown(self) -> None:
        self._clock.stop()
        super().shutdown()
