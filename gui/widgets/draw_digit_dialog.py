"""A dialog where the learner draws one digit for a CNN lesson to use as its input image
(the convolution explorer, the CNN-on-digits lesson); the drawing is prepared like MNIST's
digits (core.digits.to_mnist)."""
from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QPushButton,
                               QVBoxLayout)

__all__ = ["DrawDigitDialog", "drawing_available"]


def drawing_available() -> bool:
    try:
        import gui.widgets.drawing_pad  # noqa: F401
    except ImportError:
        return False
    return True


class DrawDigitDialog(QDialog):
    """Draw a digit; `digit()` is the drawing prepared like MNIST (core.digits.to_mnist)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        from gui.widgets.drawing_pad import DrawingPad

        self.setWindowTitle("Draw a digit")
        lay = QVBoxLayout(self)
        hint = QLabel("Draw one digit (0–9). It is cropped, scaled to 20 px and centred in "
                      "28×28, as MNIST's digits were.")
        hint.setWordWrap(True)
        lay.addWidget(hint)
        self.pad = DrawingPad(self)
        self.pad.setMinimumSize(260, 260)
        lay.addWidget(self.pad, 1)
        row = QHBoxLayout()
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Wipe the pad")
        self.clear_button.setAccessibleName("Clear drawing")
        self.clear_button.clicked.connect(self.pad.clear)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Remove the last stroke")
        self.undo_button.setAccessibleName("Undo stroke")
        self.undo_button.clicked.connect(self.pad.undo)
        row.addWidget(self.clear_button)
        row.addWidget(self.undo_button)
        row.addStretch(1)
        lay.addLayout(row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel, parent=self)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Use this drawing")
        self.ok_button.setToolTip("Use the drawing as the input image")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.pad.changed.connect(self._update_ok)
        self._update_ok()

    def _update_ok(self) -> None:
        from core.digits import has_ink

        self.ok_button.setEnabled(has_ink(self.pad.image()))

    def digit(self) -> np.ndarray:
        """(28, 28) float32 in [0, 1], white ink on black."""
        from core.digits import to_mnist

        return to_mnist(self.pad.image())
