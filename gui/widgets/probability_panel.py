"""A classifier's answer for one digit: the top guess (large), its confidence, and a bar per
digit; dashed outlines can keep an earlier answer (before teaching) for comparison."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gui.widgets.colors import FORWARD_COLOR
from gui.widgets.numbers import NumberLabel, fmt


class ProbabilityPanel(QWidget):
    """Top guess (large), its confidence, and bars for all ten digits."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        top = QHBoxLayout()
        self.guess = QLabel("–")
        self.guess.setObjectName("digitGuess")
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 3.4)
        font.setWeight(QFont.Weight.Bold)
        self.guess.setFont(font)
        self.guess.setMinimumWidth(60)
        self.guess.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.guess.setAccessibleName("Top guess")
        top.addWidget(self.guess)
        side = QVBoxLayout()
        side.setSpacing(0)
        self.caption = QLabel("Top guess")
        self.caption.setObjectName("mutedText")
        self.caption.setWordWrap(True)
        side.addWidget(self.caption)
        self.confidence = NumberLabel(None, prefix="confidence p = ")
        side.addWidget(self.confidence)
        top.addLayout(side, 1)
        lay.addLayout(top)

        self.plot = pg.PlotWidget(background=None, enableMenu=False)  # no menu made to be thrown away
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.setYRange(0, 1.02, padding=0)
        self.plot.setXRange(-0.6, 9.6, padding=0)
        self.plot.setMinimumHeight(150)
        self.plot.setLabel("left", "probability")
        self.plot.setLabel("bottom", "digit")
        ax = self.plot.getAxis("bottom")
        ax.setTicks([[(k, str(k)) for k in range(10)]])
        self.plot.getAxis("left").setTicks([[(v, fmt(v)) for v in (0, 0.25, 0.5, 0.75, 1.0)]])
        self.plot.setAccessibleName("Probability of each digit")
        self.before_bars = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=0.86,
                                           brush=pg.mkBrush(0, 0, 0, 0),
                                           pen=pg.mkPen((110, 110, 110), width=1.5,
                                                        style=Qt.PenStyle.DashLine))
        self.bars = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=0.62,
                                    brush=pg.mkBrush(FORWARD_COLOR), pen=pg.mkPen(None))
        self.plot.addItem(self.before_bars)
        self.plot.addItem(self.bars)
        self.before_bars.setVisible(False)
        lay.addWidget(self.plot, 1)
        self.legend = QLabel("")
        self.legend.setObjectName("mutedText")
        self.legend.setWordWrap(True)
        lay.addWidget(self.legend)
        self.probabilities = np.zeros(10, np.float32)
        self.before = None

    def show_hint(self, text: str) -> None:
        self.probabilities = np.zeros(10, np.float32)
        self.guess.setText("")
        self.caption.setText(text)
        self.confidence.set_value(None, formula="")
        self.confidence.setVisible(False)  # no drawing, no answer: nothing to be confident of
        self.bars.setOpts(height=np.zeros(10))
        self.plot.setToolTip(text)
        self._update_legend()

    def show_probabilities(self, probs: np.ndarray, network: str) -> None:
        probs = np.asarray(probs, np.float32)
        self.probabilities = probs
        k = int(np.argmax(probs))
        self.guess.setText(str(k))
        self.confidence.setVisible(True)
        self.caption.setText(f"{network}'s top guess")
        self.confidence.set_value(
            float(probs[k]),
            formula=f"p({k}) = softmax(z)_{k} = e^z{k} / Σⱼ e^zⱼ: the {network}'s probability "
                    f"that the drawing is a {k}")
        self.bars.setOpts(height=probs)
        rows = "\n".join(f"p({d}) = {fmt(p)}" for d, p in enumerate(probs))
        self.plot.setToolTip(f"{network}: probability of each digit (softmax output)\n{rows}")
        self._update_legend()

    def set_before(self, before: np.ndarray | None) -> None:
        self.before = None if before is None else np.asarray(before, np.float32)
        self.before_bars.setVisible(self.before is not None)
        if self.before is not None:
            self.before_bars.setOpts(height=self.before)
        self._update_legend()

    def _update_legend(self) -> None:
        text = "Filled green bars: probabilities now (softmax of the output layer)."
        if self.before is not None:
            text += " Dashed outlines: the same drawing before teaching."
        self.legend.setText(text)
