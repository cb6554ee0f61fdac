"""Move a digit sideways and ask a dense network and a CNN what it is (the notes' reason
for CNNs: a dense network is sensitive to where the digit is).

Glue only: the shifting and both answers come from core.teaching.location.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QGridLayout, QHBoxLayout, QLabel, QPushButton, QSlider,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from core.teaching.location import answers_over_shifts, shift_digit
from gui.widgets.feature_maps import ArrayView
from gui.widgets.numbers import mono_font, mono_table

#: the shifts offered, in pixels to the right (negative: to the left)
SHIFTS = tuple(range(-6, 7))
WRONG_COLOR = "#a50026"


def percent(p: float) -> str:
    return f"{100.0 * p:.1f} %"


class ShiftTest(QWidget):
    """The digit moved by the slider, both models' answers now, and at every shift."""

    find_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.dense = self.cnn = None
        self.image = np.zeros((28, 28), np.float32)
        self.label = -1
        self.answers = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(6)
        self.intro = QLabel(
            "A dense network gives each of the 784 pixels its own weights: the same digit a "
            "few pixels to the side meets other weights. A CNN's filters slide, so its "
            "features move with the digit. Move the digit and compare their answers.", self)
        self.intro.setWordWrap(True)
        outer.addWidget(self.intro)
        row = QHBoxLayout()
        row.setSpacing(12)
        left = QVBoxLayout()
        self.view = ArrayView("The digit, moved", "sequential", self)
        left.addWidget(self.view, 1)
        slide = QHBoxLayout()
        cap = QLabel("Move →", self)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(SHIFTS[0], SHIFTS[-1])
        self.slider.setValue(0)
        self.slider.setPageStep(1)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setToolTip("Pixels to move the digit right (negative: left)")
        self.slider.setAccessibleName("Move the digit")
        cap.setBuddy(self.slider)
        self.shift_label = QLabel(self)
        self.shift_label.setFont(mono_font())
        slide.addWidget(cap)
        slide.addWidget(self.slider, 1)
        slide.addWidget(self.shift_label)
        left.addLayout(slide)
        row.addLayout(left, 2)

        right = QVBoxLayout()
        right.setSpacing(6)
        grid = QGridLayout()
        self.dense_answer = QLabel(self)
        self.cnn_answer = QLabel(self)
        for r, (name, lbl) in enumerate((("Dense network", self.dense_answer),
                                         ("CNN", self.cnn_answer))):
            cap = QLabel(f"<b>{name}</b> says", self)
            grid.addWidget(cap, r, 0)
            lbl.setFont(mono_font())
            lbl.setStyleSheet("font-size: 16pt;")
            lbl.setAccessibleName(f"{name} answer")
            grid.addWidget(lbl, r, 1)
        right.addLayout(grid)
        self.table = mono_table("Answers at every shift",
                                "Each model's answer with the digit moved by every shift; "
                                "✗ marks a wrong answer")
        right.addWidget(self.table)
        self.verdict = QLabel(self)
        self.verdict.setWordWrap(True)
        self.verdict.setAccessibleName("What moving the digit did")
        right.addWidget(self.verdict)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Both models on many moved digits")
        right.addWidget(self.summary)
        self.find_button = QPushButton("Find a digit where they differ", self)
        self.find_button.setToolTip("Jump to the next offline digit whose dense answer changes "
                                    "when moved while the CNN stays right")
        self.find_button.setAccessibleName("Find a digit where they differ")
        self.find_button.clicked.connect(self.find_requested)
        right.addWidget(self.find_button, 0, Qt.AlignmentFlag.AlignLeft)
        right.addStretch(1)
        row.addLayout(right, 3)
        outer.addLayout(row, 1)
        self.slider.valueChanged.connect(lambda _v: self._show_shift())

    # --- data -----------------------------------------------------------------------------
    def set_models(self, dense, cnn) -> None:
        self.dense, self.cnn = dense, cnn

    def set_unavailable(self, text: str) -> None:
        self.dense = self.cnn = None
        self.verdict.setText(text)
        self.view.set_empty(text)

    def set_digit(self, image01, label: int) -> None:
        """A (28, 28) digit in 0…1 and its true label; both models answer every shift."""
        if self.dense is None or self.cnn is None:
            return
        self.image = np.asarray(image01, np.float32).reshape(28, 28)
        self.label = int(label)
        self.answers = answers_over_shifts(self.dense, self.cnn, self.image, SHIFTS)
        self._fill_table()
        self._show_shift()

    def answer(self, shift: int):
        return next(a for a in self.answers if a.shift == shift)

    # --- drawing --------------------------------------------------------------------------
    def _fill_table(self) -> None:
        t = self.table
        t.setRowCount(2)
        t.setColumnCount(len(SHIFTS))
        t.setHorizontalHeaderLabels([f"{s:+d}" if s else "0" for s in SHIFTS])
        t.setVerticalHeaderLabels(["dense", "CNN"])
        # exactly its two rows: no empty box under them
        t.setFixedHeight(t.horizontalHeader().sizeHint().height()
                         + 2 * t.verticalHeader().defaultSectionSize() + 2 * t.frameWidth() + 2)
        for j, a in enumerate(self.answers):
            for i, cls in enumerate((a.dense_class, a.cnn_class)):
                wrong = cls != self.label
                item = QTableWidgetItem(f"✗ {cls}" if wrong else f"{cls}")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if wrong:
                    item.setForeground(Qt.GlobalColor.darkRed)
                t.setItem(i, j, item)
        dense_wrong = [a.shift for a in self.answers if a.dense_class != self.label]
        cnn_wrong = [a.shift for a in self.answers if a.cnn_class != self.label]

        def where(shifts):
            return ", ".join(f"{s:+d}" for s in shifts) + " px"

        if dense_wrong and not cnn_wrong:
            text = (f"The dense network's answer changes when this {self.label} moves "
                    f"({where(dense_wrong)}); the CNN says {self.label} at every shift.")
        elif not dense_wrong and not cnn_wrong:
            text = (f"Both read this {self.label} right at every shift from {SHIFTS[0]} to "
                    f"+{SHIFTS[-1]} px: press “Find a digit where they differ”.")
        else:
            text = (f"Dense network wrong at {where(dense_wrong) if dense_wrong else 'no shift'}; "
                    f"CNN wrong at {where(cnn_wrong) if cnn_wrong else 'no shift'}.")
        self.verdict.setText(text)

    def _show_shift(self) -> None:
        s = self.slider.value()
        self.shift_label.setText(f"{s:+d} px" if s else "0 px")
        if self.dense is None or not self.answers:
            return
        self.view.set_array(shift_digit(self.image, s), 0.0, 1.0)
        a = self.answer(s)
        for lbl, cls, p in ((self.dense_answer, a.dense_class, a.dense_prob),
                            (self.cnn_answer, a.cnn_class, a.cnn_prob)):
            mark = "" if cls == self.label else "  ✗"
            lbl.setText(f"{cls}  ({percent(p)}){mark}")
            lbl.setStyleSheet("font-size: 16pt;" + ("" if cls == self.label
                                                    else f" color: {WRONG_COLOR};"))
