"""Where in a training step the learner is: Forward → Loss → Backward → Update → Check, the
current phase boxed in its colour (the backprop stepper's header, and its table's colours)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from core.teaching import stepper
from gui.widgets.colors import BACKWARD_COLOR, FORWARD_COLOR

UPDATE_COLOR = QColor("#3b4452")
PHASE_COLORS = {"forward": FORWARD_COLOR, "loss": FORWARD_COLOR, "backward": BACKWARD_COLOR,
                "update": UPDATE_COLOR, "check": BACKWARD_COLOR}
PHASE_WORDS = {"forward": "Forward", "loss": "Loss", "backward": "Backward",
               "update": "Update", "check": "Check"}


class PhaseStrip(QWidget):
    """Forward → Loss → Backward → Update → Check, the current phase boxed and coloured,
    with what is being computed beside it: where you are is never left to colour alone."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.chips: dict[str, QLabel] = {}
        for k, phase in enumerate(stepper.PHASES):
            if k:
                arrow = QLabel("→")
                arrow.setObjectName("mutedText")
                lay.addWidget(arrow)
            chip = QLabel(PHASE_WORDS[phase])
            chip.setToolTip(stepper.PHASE_TITLES[phase])
            chip.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.chips[phase] = chip
            lay.addWidget(chip)
        lay.addSpacing(12)
        self.where = QLabel()
        self.where.setObjectName("stepWhere")
        self.where.setAccessibleName("Where in the training step")
        lay.addWidget(self.where, 1)
        self.phase = None
        self.set_phase("forward", "")

    def set_phase(self, phase: str, where: str) -> None:
        self.phase = phase
        for name, chip in self.chips.items():
            color = PHASE_COLORS[name].name()
            if name == phase:
                chip.setStyleSheet(f"background: {color}; color: white; font-weight: 700;"
                                   "border-radius: 4px; padding: 2px 10px;")
            else:
                chip.setStyleSheet(f"color: {color}; border: 1px solid {color};"
                                   "border-radius: 4px; padding: 2px 10px;")
        self.where.setText(where)
        self.setAccessibleDescription(f"Phase: {stepper.PHASE_TITLES[phase]}. {where}")
