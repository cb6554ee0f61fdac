"""The draw-a-digit lesson's "teach it" box: the right digit, Teach it, Save…, Reset, and a
line saying what teaching did."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFrame, QGridLayout, QLabel, QPushButton


class TeachBox(QFrame):
    """The controls only; the lesson connects the buttons to its teaching worker."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("teachBox")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 6, 8, 6)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(4)
        title = QLabel("Wrong? Tell it the right digit and teach it:")
        title.setStyleSheet("font-weight: 600;")
        grid.addWidget(title, 0, 0, 1, 4)
        self.label_combo = QComboBox(self)
        self.label_combo.addItems([f"it is a {d}" for d in range(10)])
        self.label_combo.setToolTip("The digit you meant to draw")
        self.label_combo.setAccessibleName("The right digit")
        grid.addWidget(self.label_combo, 1, 0)
        self.teach_button = QPushButton("Teach it", self)
        self.teach_button.setToolTip(
            "A few training steps on this drawing, mixed with replayed offline digits so the "
            "network does not forget the rest")
        self.teach_button.setAccessibleName("Teach it")
        grid.addWidget(self.teach_button, 1, 1)
        self.save_button = QPushButton("Save…", self)
        self.save_button.setToolTip("Save the taught network to a .npz model file")
        self.save_button.setAccessibleName("Save taught network")
        grid.addWidget(self.save_button, 1, 2)
        self.reset_button = QPushButton("Reset", self)
        self.reset_button.setToolTip("Forget what you taught: reload the shipped network")
        self.reset_button.setAccessibleName("Reset to the shipped network")
        grid.addWidget(self.reset_button, 1, 3)
        self.teach_label = QLabel("Draw a digit, pick the right answer and press Teach it.")
        self.teach_label.setObjectName("mutedText")
        self.teach_label.setWordWrap(True)
        self.teach_label.setFont(self.font())
        grid.addWidget(self.teach_label, 2, 0, 1, 4)
