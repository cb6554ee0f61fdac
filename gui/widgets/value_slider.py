"""A horizontal slider with its value written beside it, for a weight or a setting."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QSlider, QWidget

from gui.widgets.numbers import fmt, mono_label


class ValueSlider(QWidget):
    """A horizontal slider over [lo, hi] in steps of 1/scale, with its value beside it."""

    def __init__(self, lo: float, hi: float, value: float, scale: int = 100, step: float = 0.1,
                 page: float = 1.0, parent=None):
        super().__init__(parent)
        self.scale = scale
        self._exact: float | None = None
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(round(lo * scale), round(hi * scale))
        self.slider.setSingleStep(max(1, round(step * scale)))
        self.slider.setPageStep(max(1, round(page * scale)))
        self.slider.setMinimumWidth(90)
        self.label = mono_label()
        self.label.setMinimumWidth(self.label.fontMetrics().horizontalAdvance("-00.00") + 4)
        self.label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.label)
        self.slider.valueChanged.connect(self._show)
        self.set_value(value)
        self._show()

    def value(self) -> float:
        """The slider's value; an exact value given to `set_value` survives until the
        slider moves (a table row's 0.2279 must not turn into the slider's 0.23)."""
        if self._exact is not None and self.slider.value() == round(self._exact * self.scale):
            return self._exact
        return self.slider.value() / self.scale

    def set_value(self, v: float, exact: bool = False) -> None:
        v = float(v)
        self._exact = v if exact else None
        old = self.slider.value()
        self.slider.setValue(round(v * self.scale))
        if self.slider.value() == old:   # no valueChanged: still show the exact value
            self._show()
            if exact:
                self.slider.valueChanged.emit(old)

    def set_value_silently(self, v: float) -> None:
        """`set_value` without valueChanged: for a value the lesson itself moved."""
        self.slider.blockSignals(True)
        self.set_value(v)
        self.slider.blockSignals(False)
        self._show()

    def _show(self) -> None:
        self.label.setText(fmt(self.value()))

    def setToolTip(self, text: str) -> None:  # noqa: N802 - Qt naming
        super().setToolTip(text)
        self.slider.setToolTip(text)

    def setAccessibleName(self, name: str) -> None:  # noqa: N802 - Qt naming
        super().setAccessibleName(name)
        self.slider.setAccessibleName(name)
