"""A 3×3 convolution filter the learner edits: a preset chooser, nine weights and a bias.

A preset's exact weights (1/9, not the 0.1111 a spin box shows) are kept until a cell is
edited, so the feature map is computed with the filter the preset names.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QGridLayout, QGroupBox, QHBoxLayout,
                               QLabel, QSizePolicy, QVBoxLayout)

from gui.widgets.numbers import mono_font


class FilterEditor(QGroupBox):
    """Preset chooser, a 3×3 grid of weights and a bias, each editable."""

    def __init__(self, parent=None):
        super().__init__("Filter (3×3 weights)", parent)
        lay = QVBoxLayout(self)
        lay.setSpacing(4)
        self.preset = QComboBox(self)
        self.preset.setToolTip("Start from a ready-made filter; edit any weight afterwards")
        self.preset.setAccessibleName("Filter preset")
        lay.addWidget(self.preset)
        grid = QGridLayout()
        grid.setSpacing(2)
        self.cells: list[QDoubleSpinBox] = []
        for i in range(9):
            sb = QDoubleSpinBox(self)
            sb.setRange(-9.99, 9.99)
            sb.setDecimals(4)
            sb.setSingleStep(0.1)
            sb.setFont(mono_font())
            sb.setButtonSymbols(QDoubleSpinBox.ButtonSymbols.NoButtons)
            sb.setAlignment(Qt.AlignmentFlag.AlignRight)
            r, c = divmod(i, 3)
            sb.setToolTip(f"Filter weight w[{r},{c}]: multiplies the pixel at row {r}, "
                          f"column {c} of the window")
            sb.setAccessibleName(f"Filter weight row {r} column {c}")
            grid.addWidget(sb, r, c)
            self.cells.append(sb)
        lay.addLayout(grid)
        row = QHBoxLayout()
        cap = QLabel("Bias b", self)
        row.addWidget(cap)
        self.bias = QDoubleSpinBox(self)
        self.bias.setRange(-9.99, 9.99)
        self.bias.setDecimals(4)
        self.bias.setSingleStep(0.1)
        self.bias.setFont(mono_font())
        self.bias.setToolTip("Added to every window's sum (a Conv2D layer learns one per filter)")
        self.bias.setAccessibleName("Filter bias")
        cap.setBuddy(self.bias)
        row.addWidget(self.bias, 1)
        lay.addLayout(row)
        self._exact: np.ndarray | None = None
        self._exact_bias = 0.0
        self.description = QLabel(self)
        self.description.setWordWrap(True)
        self.description.setObjectName("mutedText")
        self.description.setSizePolicy(QSizePolicy.Policy.Preferred,
                                       QSizePolicy.Policy.MinimumExpanding)
        lay.addWidget(self.description)

    def kernel(self) -> np.ndarray:
        # a preset's exact weights (1/9 is not 0.1111) until the learner edits a cell
        if self._exact is not None:
            return self._exact.copy()
        return np.array([sb.value() for sb in self.cells], np.float32).reshape(3, 3)

    def bias_value(self) -> float:
        return self._exact_bias if self._exact is not None else self.bias.value()

    def forget_exact(self) -> None:
        self._exact = None

    def set_kernel(self, kernel, bias: float = 0.0) -> None:
        self._exact = np.asarray(kernel, np.float32).reshape(3, 3).copy()
        self._exact_bias = float(bias)
        for sb, v in zip(self.cells, np.asarray(kernel, np.float64).ravel()):
            sb.blockSignals(True)
            sb.setValue(float(v))
            sb.blockSignals(False)
        self.bias.blockSignals(True)
        self.bias.setValue(float(bias))
        self.bias.blockSignals(False)
