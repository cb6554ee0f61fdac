"""The "Ask me first" panel: a question before the lesson reveals its next number, answer
buttons (or the keys 1–4; 0–9 for a digit), then "Right!" or "Not quite — …" with the true
value and one line of why, and the lesson's running score.

It only shows a core.teaching.predict.Question and reports the choice (`answered`); the
lesson frame (gui/lessons/base.py) decides when to ask and what to reveal afterwards.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractButton, QFrame, QHBoxLayout, QLabel, QPushButton,
                               QToolButton, QVBoxLayout)

from core.teaching.predict import Question

DIGITS = tuple("0123456789")
RIGHT_COLOR = "#1b7837"
WRONG_COLOR = "#b2182b"
IDLE_TEXT = ("Ask me first is on: before each new number the lesson stops and asks you to "
             "predict it. Press ▶ Play or → Step.")


def key_for(choices: tuple[str, ...], index: int) -> str:
    """The key that answers choice `index`: its digit for a digit question, else 1, 2, …"""
    return choices[index] if tuple(choices) == DIGITS else str(index + 1)


class PredictionPanel(QFrame):
    """Shows one question at a time; `answered(choice)` when the learner picks one."""

    answered = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("predictionPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Predict first")
        self.question: Question | None = None
        self.buttons: list[QAbstractButton] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        lay.setSpacing(3)

        top = QHBoxLayout()
        top.setSpacing(8)
        self.prompt_label = QLabel(IDLE_TEXT, self)
        bold = QFont(self.font())
        bold.setWeight(QFont.Weight.DemiBold)
        self.prompt_label.setFont(bold)
        self.prompt_label.setWordWrap(True)
        self.prompt_label.setAccessibleName("Question")
        top.addWidget(self.prompt_label, 1)
        self.button_row = QHBoxLayout()
        self.button_row.setSpacing(4)
        top.addLayout(self.button_row)
        self.score_label = QLabel("No predictions yet", self)
        self.score_label.setObjectName("mutedText")
        self.score_label.setAccessibleName("Prediction score")
        top.addWidget(self.score_label)
        lay.addLayout(top)

        self.verdict_label = QLabel("", self)
        self.verdict_label.setWordWrap(True)
        self.verdict_label.setAccessibleName("Right or wrong")
        self.verdict_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.verdict_label.setVisible(False)
        lay.addWidget(self.verdict_label)

        # window-wide digit keys that work only while a question is open (a text field the
        # learner types in keeps its digits: Qt lets it override shortcuts)
        self.shortcuts: dict[str, QShortcut] = {}
        for digit in DIGITS:
            sc = QShortcut(QKeySequence(digit), self)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.setEnabled(False)
            sc.activated.connect(lambda d=digit: self._on_key(d))
            self.shortcuts[digit] = sc

    # --- showing -------------------------------------------------------------------------
    def is_asking(self) -> bool:
        return self.question is not None

    def ask(self, question: Question) -> None:
        self.question = question
        self.prompt_label.setText(question.prompt)
        self._make_buttons(question.choices)
        self.verdict_label.setVisible(False)
        self._enable_keys(True)

    def show_verdict(self, text: str, right: bool) -> None:
        self.question = None
        self._enable_keys(False)
        for b in self.buttons:
            b.setEnabled(False)
        self.verdict_label.setText(text)
        self.verdict_label.setStyleSheet(
            f"color: {RIGHT_COLOR if right else WRONG_COLOR}; font-weight: 600;")
        self.verdict_label.setVisible(True)

    def withdraw(self) -> None:
        """The lesson moved elsewhere (reset, step back): the open question no longer applies."""
        self.question = None
        self._enable_keys(False)
        self._make_buttons(())
        self.prompt_label.setText(IDLE_TEXT)
        self.verdict_label.setVisible(False)

    def set_score_text(self, text: str) -> None:
        self.score_label.setText(text)

    # --- answering -----------------------------------------------------------------------
    def choose(self, index: int) -> None:
        if self.question is None or not 0 <= index < len(self.question.choices):
            return
        self.answered.emit(int(index))

    def _on_key(self, digit: str) -> None:
        if self.question is None or not self.isVisible():
            return
        choices = self.question.choices
        for k in range(len(choices)):
            if key_for(choices, k) == digit:
                self.choose(k)
                return

    def _enable_keys(self, on: bool) -> None:
        for sc in self.shortcuts.values():
            sc.setEnabled(on)

    def _make_buttons(self, choices) -> None:
        for b in self.buttons:
            self.button_row.removeWidget(b)
            b.deleteLater()
        self.buttons = []
        digits = tuple(choices) == DIGITS
        for k, text in enumerate(choices):
            key = key_for(choices, k)
            if digits:      # ten compact keys leave the question its room
                b = QToolButton(self)
                b.setText(text)
                b.setMinimumWidth(b.fontMetrics().horizontalAdvance("00") + 16)
            else:
                b = QPushButton(f"{key}  {text}", self)
            b.setToolTip(f"Your prediction: {text} (key {key})")
            b.setAccessibleName(f"Predict {text}")
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            b.clicked.connect(lambda _=False, i=k: self.choose(i))
            self.button_row.addWidget(b)
            self.buttons.append(b)
