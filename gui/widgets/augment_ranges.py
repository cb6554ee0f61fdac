"""The data-augmentation lesson's left panel: one random range per transformation, the
flips, three presets, whether flips suit the images, and the same augmentation in Keras."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (QCheckBox, QFrame, QGridLayout, QHBoxLayout, QLabel,
                               QPushButton, QSizePolicy, QSlider)

from core.teaching import augment_preview as AP
from core.teaching.augment_preview import Transformations
from gui.widgets.numbers import fmt, mono_font

ERROR_COLOR = "#b00020"
GOOD_COLOR = "#1a7f37"

#: (key, caption, slider steps, value per step, tooltip)
SLIDERS = (
    ("shift", "Shift", 12, 0.5,
     "Largest shift in pixels: each copy moves u·range down and v·range right, u and v drawn "
     "uniformly in [−1, 1]"),
    ("rotation", "Rotation", 180, 1.0,
     "Largest rotation in degrees: each copy turns by u·range, u uniform in [−1, 1] "
     "(positive = anticlockwise)"),
    ("zoom", "Zoom", 40, 0.01,
     "Largest zoom: each copy is scaled by 1 + u·range about its centre, u uniform in [−1, 1]"),
    ("elastic", "Elastic", 40, 1.0,
     "Elastic distortion α (Simard et al. 2003): random pixel displacements smoothed by a "
     f"Gaussian of width {AP.ELASTIC_SIGMA:g} px, times α — wobbles strokes like a hand does"),
    ("stroke", "Stroke width", 20, 0.05,
     "Largest stroke-width change: each copy blends towards a thicker (+) or thinner (−) "
     "version of itself by u·range (digits only)"),
)

PRESETS = {
    "none": Transformations(),
    "digits": Transformations(shift=2, rotation=10, zoom=0.1),
    "photos": Transformations(shift=3, rotation=10, zoom=0.1, horizontal_flip=True),
}
PRESET_TIPS = {
    "none": "Every range to zero: every copy is the original",
    "digits": "Small shifts, rotations and zooms — what a hand varies; no flips",
    "photos": "Shifts, rotations, zooms and left-right flips, the usual choice for photos",
}


def value_text(key: str, value: float) -> str:
    if key == "shift":
        return f"±{fmt(value)} px"
    if key == "rotation":
        return f"±{fmt(value)}°"
    if key == "zoom":
        return f"±{fmt(100 * value)}%"
    if key == "elastic":
        return f"α {fmt(value)}"
    return f"±{fmt(value)}"


class AugmentRanges(QFrame):
    """Sliders for the ranges each random copy draws inside; `changed` after every move."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._updating = False
        self.setObjectName("augmentRanges")
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(4)
        head = QLabel("<b>Random ranges</b> (each copy draws inside them)")
        head.setWordWrap(True)
        grid.addWidget(head, 0, 0, 1, 3)
        self.sliders: dict[str, QSlider] = {}
        self.value_labels: dict[str, QLabel] = {}
        self._slider_steps = {}
        mono = mono_font()
        for r, (key, caption, steps, per_step, tip) in enumerate(SLIDERS, start=1):
            label = QLabel(caption)
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, steps)
            slider.setToolTip(tip)
            slider.setAccessibleName(f"{caption} range")
            slider.setMinimumWidth(90)
            label.setBuddy(slider)
            value = QLabel()
            value.setFont(mono)
            value.setMinimumWidth(QFontMetrics(mono).horizontalAdvance("±180° ") + 4)
            value.setToolTip(tip)
            grid.addWidget(label, r, 0)
            grid.addWidget(slider, r, 1)
            grid.addWidget(value, r, 2)
            self.sliders[key] = slider
            self.value_labels[key] = value
            self._slider_steps[key] = per_step
            slider.valueChanged.connect(self._on_changed)
        r = len(SLIDERS) + 1
        self.hflip_check = QCheckBox("Flip left-right (half the copies)")
        self.hflip_check.setToolTip("Each copy is mirrored left-right with probability ½ "
                                    "(Keras: RandomFlip(\"horizontal\"))")
        self.hflip_check.setAccessibleName("Flip left-right")
        self.vflip_check = QCheckBox("Flip upside down (half the copies)")
        self.vflip_check.setToolTip("Each copy is turned upside down with probability ½ "
                                    "(Keras: RandomFlip(\"vertical\"))")
        self.vflip_check.setAccessibleName("Flip upside down")
        for i, check in enumerate((self.hflip_check, self.vflip_check)):
            grid.addWidget(check, r + i, 0, 1, 3)
            check.toggled.connect(self._on_changed)
        presets = QHBoxLayout()
        presets.setSpacing(4)
        presets.addWidget(QLabel("Presets:"))
        self.preset_buttons = {}
        for key, text in (("none", "None"), ("digits", "Digits"), ("photos", "Photos")):
            b = QPushButton(text)
            b.setToolTip(PRESET_TIPS[key])
            b.setAccessibleName(f"Preset: {text}")
            # the style's 80-pixel least button width does not fit three in the side panel at
            # 1280×800; the word itself does
            b.setMinimumWidth(b.fontMetrics().horizontalAdvance(text) + 24)
            b.clicked.connect(lambda _=False, k=key: self.apply_preset(k))
            presets.addWidget(b)
            self.preset_buttons[key] = b
        grid.addLayout(presets, r + 2, 0, 1, 3)
        self.flip_label = QLabel()
        self.flip_label.setWordWrap(True)
        self.flip_label.setAccessibleName("Are flips right for these images?")
        grid.addWidget(self.flip_label, r + 3, 0, 1, 3)
        self.keras_label = QLabel()
        self.keras_label.setWordWrap(True)
        self.keras_label.setObjectName("mutedText")
        self.keras_label.setAccessibleName("The same augmentation in Keras")
        grid.addWidget(self.keras_label, r + 4, 0, 1, 3)
        grid.setRowStretch(r + 5, 1)
        self.setFixedWidth(290)

    def value(self, key: str) -> float:
        return self.sliders[key].value() * self._slider_steps[key]

    def transformations(self, photo: bool) -> Transformations:
        """The ranges shown, for photos (no stroke width, edges filled by the nearest
        pixel) or for digits (black outside the image)."""
        return Transformations(
            shift=self.value("shift"), rotation=self.value("rotation"),
            zoom=round(self.value("zoom"), 4), elastic=self.value("elastic"),
            stroke=0.0 if photo else round(self.value("stroke"), 4),
            horizontal_flip=self.hflip_check.isChecked(),
            vertical_flip=self.vflip_check.isChecked(),
            fill="nearest" if photo else "constant")

    def set_range(self, key: str, value: float) -> None:
        self.sliders[key].setValue(int(round(value / self._slider_steps[key])))

    def apply_preset(self, key: str) -> None:
        t = PRESETS[key]
        self._updating = True
        for k, *_ in SLIDERS:
            self.set_range(k, getattr(t, k))
        self.hflip_check.setChecked(t.horizontal_flip)
        self.vflip_check.setChecked(t.vertical_flip)
        self._updating = False
        self._on_changed()

    def set_photo(self, photo: bool) -> None:
        # stroke width thickens ink on black: meaningless for a photo
        self.sliders["stroke"].setEnabled(not photo)
        self.sliders["stroke"].setToolTip(
            "Stroke width applies to digits only" if photo else SLIDERS[-1][4])

    def show_keras(self, t: Transformations, shape) -> None:
        self.keras_label.setText("Keras: " + self.keras_line(t, shape))
        self.keras_label.setToolTip(t.keras_code(shape[0], shape[1]))

    def _on_changed(self, *_) -> None:
        if self._updating:
            return
        for key, *_ in SLIDERS:
            self.value_labels[key].setText(value_text(key, self.value(key)))
        self.changed.emit()

    @staticmethod
    def keras_line(t: Transformations, shape) -> str:
        """The augmentation layers of `t` in one line: "RandomTranslation(…) · RandomRotation(…)"."""
        code = t.keras_code(shape[0], shape[1])
        layers = [ln.strip().rstrip(",").removeprefix("layers.") for ln in code.splitlines()
                  if ln.strip().startswith("layers.")]
        extra = [ln.lstrip("# ") for ln in code.splitlines() if ln.startswith("#")]
        text = " · ".join(layers) if layers else "no augmentation layers"
        return text + (f" ({extra[0]})" if extra else "")

    def explain_flips(self, t: Transformations, photo: bool) -> None:
        """Say whether the ticked flips suit these images (digits: never; photos: left-right)."""
        if not (t.horizontal_flip or t.vertical_flip):
            text = ("Flips are off. Tick them and compare: they suit photos of animals, "
                    "not digits.")
            color = ""
        elif not photo:
            text = ("✗ Wrong for digits: a mirrored 2 is not a 2 (and an upside-down 6 "
                    "reads as a 9). Flipped copies teach the network digits that do not "
                    "exist, under the wrong labels.")
            color = ERROR_COLOR
        elif t.vertical_flip:
            text = ("✗ A left-right mirrored horse is still a horse, but upside-down photos "
                    "hardly ever occur: vertical flips teach CIFAR's network the wrong thing.")
            color = ERROR_COLOR
        else:
            text = ("✓ Fine for photos: a mirrored horse or cat is still a horse or cat, so "
                    "left-right flips double CIFAR's training images for free.")
            color = GOOD_COLOR
        self.flip_label.setStyleSheet(f"color: {color};" if color else "")
        self.flip_label.setText(text)
