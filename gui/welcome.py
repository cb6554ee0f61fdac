"""The first page: what Backprop Lab is, how to use it, and its colour language."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QPushButton, QTextBrowser,
                               QVBoxLayout, QWidget)

from gui.widgets.colors import AccentLegend, ColorLegend
from resources.paths import lesson_text

_FALLBACK = ("Backprop Lab lets you watch a neural network learn. Pick a lesson on the "
             "left. (The welcome text, resources/lessons/welcome.md, is missing.)")


class WelcomePage(QWidget):
    """Shown first; `start_requested` asks the window to open the first lesson."""

    start_requested = Signal()

    def __init__(self, first_lesson_title: str | None = None, parent=None):
        super().__init__(parent)
        self.setObjectName("welcomePage")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 12, 16, 12)
        outer.setSpacing(6)

        title = QLabel("Welcome to Backprop Lab", self)
        title.setObjectName("lessonTitle")
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.45)
        font.setWeight(QFont.Weight.DemiBold)
        title.setFont(font)
        outer.addWidget(title)
        sub = QLabel("Deep learning you can watch: real networks, trained while you look, "
                     "one idea per lesson.", self)
        sub.setObjectName("lessonSubtitle")
        sub.setWordWrap(True)
        outer.addWidget(sub)

        body = QHBoxLayout()
        body.setSpacing(16)
        outer.addLayout(body, 1)

        self.text = QTextBrowser(self)
        self.text.setObjectName("welcomeText")
        self.text.setOpenExternalLinks(True)
        self.text.setMarkdown(lesson_text("welcome") or _FALLBACK)
        self.text.setAccessibleName("Welcome text")
        body.addWidget(self.text, 3)

        side = QVBoxLayout()
        side.setSpacing(10)
        body.addLayout(side, 2)
        heading = QLabel("<b>Colours used in every lesson</b>", self)
        side.addWidget(heading)

        def explained(widget, text):
            side.addWidget(widget)
            note = QLabel(text, self)
            note.setObjectName("mutedText")
            note.setWordWrap(True)
            side.addWidget(note)

        self.weight_legend = ColorLegend("diverging", vmax=1.0, label="weights and gradients")
        explained(self.weight_legend, "Blue is negative, light grey is zero, orange is positive. "
                  "The numbers under the bar give the scale of what you are looking at.")
        self.activation_legend = ColorLegend("sequential", vmin=0.0, vmax=1.0,
                                             label="activations and images")
        explained(self.activation_legend, "Dark purple is small, yellow is large.")
        explained(AccentLegend(self), "Arrows and highlights: what flows forward (inputs to "
                  "output) and what flows backward (gradients, from the loss to the weights).")
        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        line.setVisible(bool(first_lesson_title))
        side.addWidget(line)
        self.start_button = QPushButton(self)
        if first_lesson_title:
            self.start_button.setText(f"Start with “{first_lesson_title}”")
        self.start_button.setToolTip("Open the first lesson of the course")
        self.start_button.setAccessibleName("Start the first lesson")
        self.start_button.setVisible(bool(first_lesson_title))
        self.start_button.clicked.connect(self.start_requested)
        side.addWidget(self.start_button, 0, Qt.AlignmentFlag.AlignLeft)
        side.addStretch(1)

    def show_help(self) -> None:
        self.text.setFocus(Qt.FocusReason.ShortcutFocusReason)
