"""Chain rule: the insurance neuron's loss as a graph, walked backward one node at a time.

The numbers (forward values, local derivatives on the edges, the running products)
come from core.teaching.stepper.neuron_chain, i.e. from the engine's trace of one training step;
this lesson draws them and lets the learner change the inputs and weights.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFrame, QHBoxLayout, QLabel,
                               QVBoxLayout, QWidget)

from core.teaching import predict, stepper
from core.teaching.notes_names import NOTES_NAMES, derivative_chain
from gui.lessons.base import Lesson
from gui.widgets.playback import PlaybackClock
from gui.widgets.colors import BACKWARD_COLOR, FORWARD_COLOR, AccentLegend
from gui.widgets.computation_graph import ChainGraphView
from gui.widgets.numbers import fmt, mono_font

STEP_MS = 1600


class ChainRuleLesson(Lesson):
    title = "Chain rule"
    subtitle = ("The neuron's loss as a graph: local derivatives on the edges, multiplied "
                "along the path from the loss back to each weight.")
    help_name = "chain_rule"
    course_tutorials = (15,)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.graph = None
        self._loading = False

        root = QWidget()
        col = QVBoxLayout(root)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(6)
        col.addWidget(self._inputs_row())
        self.view = ChainGraphView()
        col.addWidget(self.view, 1)
        col.addWidget(self._product_panel())
        self.set_visual(root)

        pb = self.add_playback()
        pb.step_forward.connect(self.step_forward)
        pb.step_back.connect(self.step_back)
        pb.reset.connect(self.reset)
        self._clock = PlaybackClock(pb, STEP_MS, self._tick, rewind=self._rewind_at_end)
        pb.forward_button.setToolTip("One node further back towards the weights (→)")
        pb.back_button.setToolTip("One node back towards the loss (←)")
        pb.reset_button.setToolTip("Back to the forward values, person 1 and the course's "
                                   "start w1 = w2 = 1, b = 0 (R)")
        self.add_controls_stretch()
        self.add_control(AccentLegend())
        self.reset()

    # --- widgets -----------------------------------------------------------------------
    def _spin(self, lo, hi, step, decimals, tip, name) -> QDoubleSpinBox:
        s = QDoubleSpinBox()
        s.setRange(lo, hi)
        s.setSingleStep(step)
        s.setDecimals(decimals)
        s.setToolTip(tip)
        s.setAccessibleName(name)
        s.setKeyboardTracking(False)
        s.valueChanged.connect(self._recompute)
        return s

    def _inputs_row(self) -> QWidget:
        row = QWidget()
        lay = QHBoxLayout(row)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)

        def add(text, w):
            lbl = QLabel(text)
            lbl.setBuddy(w)
            lay.addWidget(lbl)
            lay.addWidget(w)

        self.person_box = QComboBox()
        raw, bought = stepper.insurance_table()
        for k, (r, y) in enumerate(zip(raw, bought)):
            self.person_box.addItem(f"{k + 1}: age {int(r[0])}, "
                                    f"{'can' if r[1] else 'cannot'} afford, "
                                    f"{'bought' if y else 'did not buy'}", k)
        self.person_box.setToolTip("Load a person of the course's insurance table into x1, x2 "
                                   "and y")
        self.person_box.setAccessibleName("Person")
        self.person_box.currentIndexChanged.connect(lambda k: self.load_person(k))
        add("Person", self.person_box)
        lay.addSpacing(8)
        self.x1 = self._spin(0.0, 1.5, 0.01, 2, "x1 = age/100 (the course scales age this way)",
                             "x1 (age/100)")
        add("x1", self.x1)
        self.x2 = self._spin(0.0, 1.0, 1.0, 0, "x2 = affordability: 1 can afford, 0 cannot",
                             "x2 (affordability)")
        add("x2", self.x2)
        self.y = QComboBox()
        self.y.addItem("0", 0)
        self.y.addItem("1", 1)
        self.y.setToolTip("y: the answer, 1 if the person bought insurance, else 0")
        self.y.setAccessibleName("y (bought insurance)")
        self.y.currentIndexChanged.connect(self._recompute)
        add("y", self.y)
        sep = QFrame()
        sep.setFrameShape(QFrame.Shape.VLine)
        lay.addWidget(sep)
        self.w1 = self._spin(-10, 10, 0.1, 2, "Weight w1 of x1 (learned)", "w1")
        add("w1", self.w1)
        self.w2 = self._spin(-10, 10, 0.1, 2, "Weight w2 of x2 (learned)", "w2")
        add("w2", self.w2)
        self.b = self._spin(-10, 10, 0.1, 2, "Bias b (learned)", "b")
        add("b", self.b)
        lay.addStretch(1)
        return row

    def _product_panel(self) -> QWidget:
        box = QFrame()
        box.setObjectName("formulaPanel")
        box.setFrameShape(QFrame.Shape.StyledPanel)
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        formulas = QWidget()
        row.addWidget(formulas, 1)
        row.addWidget(self._notes_names_box())
        lay = QVBoxLayout(formulas)
        lay.setContentsMargins(8, 4, 8, 6)
        lay.setSpacing(2)
        self.step_title = QLabel()
        f = QFont(self.font())
        f.setWeight(QFont.Weight.DemiBold)
        self.step_title.setFont(f)
        lay.addWidget(self.step_title)
        self.product = QLabel()
        big = mono_font()
        big.setPointSizeF(big.pointSizeF() * 1.2)
        self.product.setFont(big)
        self.product.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.product.setAccessibleName("Running product of the chain rule")
        lines = self.product.fontMetrics().lineSpacing()
        self.product.setMinimumHeight(3 * lines)
        lay.addWidget(self.product)
        self.path_label = QLabel()
        self.path_label.setObjectName("mutedText")
        self.path_label.setWordWrap(True)
        lay.addWidget(self.path_label)
        return box

    def _notes_names_box(self) -> QWidget:
        """The course notes call z and ŷ 'y' and 'e': the two sets of names side by side,
        with the current step's product written in both."""
        box = QFrame()
        box.setObjectName("notesNames")
        box.setFrameShape(QFrame.Shape.StyledPanel)
        lay = QVBoxLayout(box)
        lay.setContentsMargins(8, 4, 8, 6)
        lay.setSpacing(2)
        title = QLabel("<b>In the course notes (tutorial 15)</b>")
        lay.addWidget(title)
        self.names_label = QLabel("<br>".join(
            f"notes' <b>{notes}</b> = our <b>{ours}</b>: {what}" for notes, ours, what in NOTES_NAMES)
            + "<br>(the notes' y is not the answer y above)")
        self.names_label.setAccessibleName("The notes' names and the app's names")
        self.names_label.setWordWrap(True)
        lay.addWidget(self.names_label)
        self.notes_chain = QLabel()
        self.notes_chain.setFont(mono_font())
        self.notes_chain.setAccessibleName("The current product in the notes' names")
        self.notes_chain.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.notes_chain)
        box.setMaximumWidth(430)
        return box

    def _show_notes_chain(self, path) -> None:
        self.notes_chain.setText(f"notes: {derivative_chain(path, notes=True)}\n"
                                 f"here:  {derivative_chain(path)}")

    # --- values ------------------------------------------------------------------------
    def load_person(self, k: int) -> None:
        raw, bought = stepper.insurance_table()
        self._loading = True
        self.person_box.setCurrentIndex(k)
        self.x1.setValue(float(raw[k, 0]) / stepper.AGE_SCALE)
        self.x2.setValue(float(raw[k, 1]))
        self.y.setCurrentIndex(int(bought[k]))
        self._loading = False
        self._recompute()

    def _recompute(self) -> None:
        if self._loading:
            return
        try:
            graph = stepper.neuron_chain(self.x1.value(), self.x2.value(),
                                         int(self.y.currentData()), self.w1.value(),
                                         self.w2.value(), self.b.value())
        except ValueError as exc:
            self.show_status(f"Cannot compute this graph: {exc}", 6000)
            return
        self.graph = graph
        self.view.set_graph(graph)
        self._show_step()

    @property
    def step(self) -> int:
        return self.view.step

    def _show_step(self) -> None:
        g = self.graph
        k = self.view.step
        total = len(g.backward)
        if k == 0:
            n = g.nodes
            self.step_title.setText(f"Forward pass (step 0 of {total}): the values")
            self.step_title.setStyleSheet(f"color: {FORWARD_COLOR.name()};")
            self.product.setText(f"z = {fmt(n['z'].value)}   ŷ = σ(z) = {fmt(n['ŷ'].value)}   "
                                 f"L = {fmt(n['L'].value)}")
            self.product.setToolTip("\n\n".join(n[s].formula for s in ("z", "ŷ", "L")))
            self.path_label.setText("Each edge is labelled with its local derivative: how much "
                                    "the node it points to changes per unit change of where it "
                                    "starts. Press → to walk backward from L.")
            self._show_notes_chain(("L", "ŷ", "z", "w1"))
            return
        s = g.backward[k - 1]
        self.step_title.setText(f"Backward, step {k} of {total}: {s.symbol}")
        self.step_title.setStyleSheet(f"color: {BACKWARD_COLOR.name()};")
        self.product.setText(s.formula)
        self.product.setToolTip(s.formula + f"\n= {s.value!r}")
        self._show_notes_chain(s.path)
        if len(s.path) == 1:
            why = "The walk starts at the loss: ∂L/∂L = 1."
        else:
            why = (f"Path {' → '.join(s.path)}: multiply the local derivatives on its edges "
                   "(the chain rule).")
            if s.node in ("w1", "w2", "b"):
                why += " ∂L/∂z is reused from the previous steps: that is backprop's saving."
        self.path_label.setText(why)

    # --- stepping ------------------------------------------------------------------------
    def next_question(self):
        return predict.chain_question(self.graph, self.view.step + 1)

    def step_forward(self) -> None:
        if self.graph is None or self.ask_first(self.step_forward):
            return
        if self.view.step >= len(self.graph.backward):
            self.playback.set_playing(False)
            self.show_status("Every gradient is found. Change a weight or an input to see "
                             "the numbers change, or press R to start again.", 6000)
            return
        self.view.set_step(self.view.step + 1)
        self._show_step()

    def step_back(self) -> None:
        if self.graph is None:
            return
        self.view.set_step(self.view.step - 1)
        self._show_step()

    def reset(self) -> None:
        self._loading = True
        for spin, v in ((self.w1, stepper.COURSE_START["w1"]), (self.w2, stepper.COURSE_START["w2"]),
                        (self.b, stepper.COURSE_START["b"])):
            spin.setValue(v)
        self._loading = False
        self.view.step = 0
        self.load_person(0)

    def _rewind_at_end(self) -> None:
        if self.graph is not None and self.view.step >= len(self.graph.backward):
            self.view.set_step(0)
            self._show_step()

    def _tick(self) -> None:
        if self.graph is None or self.view.step >= len(self.graph.backward):
            self.playback.set_playing(False)
            return
        self.step_forward()

    def deactivate(self) -> None:
        self.playback.set_playing(False)
        super().deactivate()

    def shutdown(self) -> None:
        self._clock.stop()
        super().shutdown()
