"""The CIFAR-10 lesson's "Feature maps" tab: one test image through the lesson's CNN or
through the learner's own model (File ▸ Open model…), every layer's output as maps.

Not a lesson itself (the registry lists lessons by module and class); CifarLesson feeds it
the test images and its CNN, and hands it the learner's model.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from core.teaching.learner_models import CIFAR_SHAPE, feature_map_problem, top_outputs
from gui.lessons.cnn_common import (add_layer_combo, add_maps_of_combo, layer_caption,
                                    output_as_maps)
from gui.widgets.feature_maps import FeatureMapGrid
from gui.widgets.image_grid import image_qimage
from gui.widgets.numbers import fmt, mono_font

INPUT_PX = 128          # the 32×32 test image drawn 4× with visible pixels


def cifar_maps_problem(model) -> str | None:
    """Why `model` cannot show feature maps of this lesson's images, or None."""
    return feature_map_problem(model, CIFAR_SHAPE, "the lesson's photos")


class CifarFeatureMaps(QWidget):
    """Test image chooser, whose maps ("the lesson's CNN" or "your model"), layer chooser;
    the image with the network's top answers beside the chosen layer's maps."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.images: np.ndarray | None = None     # (N, 32, 32, 3) uint8 test images
        self.names: tuple[str, ...] = ()
        self.cnn = None                           # the lesson's CNN (untrained until trained)
        self.cnn_state = "untrained"
        self.learner = None                       # (model, name) from File ▸ Open model…
        self._stale = True                        # redraw when next shown

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        cap = QLabel("Test image #")
        self.image_spin = QSpinBox()
        self.image_spin.setRange(0, 0)
        self.image_spin.setToolTip("Which test image to send through the network")
        self.image_spin.setAccessibleName("Test image number")
        cap.setBuddy(self.image_spin)
        top.addWidget(cap)
        top.addWidget(self.image_spin)
        self.maps_combo = add_maps_of_combo(top, "32×32×3")
        top.addStretch(1)
        lay.addLayout(top)
        top = QHBoxLayout()
        self.layer_combo = add_layer_combo(top)
        lay.addLayout(top)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName("What the feature maps need")
        lay.addWidget(self.message)
        body = QHBoxLayout()
        side = QVBoxLayout()
        self.input_view = QLabel()
        self.input_view.setFixedSize(INPUT_PX, INPUT_PX)
        self.input_view.setAccessibleName("Test image")
        side.addWidget(self.input_view)
        self.prediction_label = QLabel()
        self.prediction_label.setFont(mono_font())
        self.prediction_label.setWordWrap(True)
        # "automobile: 13.29 %" on one line in the monospace font
        self.prediction_label.setFixedWidth(INPUT_PX + 44)
        self.prediction_label.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.prediction_label.setToolTip("the last layer's output: the network's probability "
                                         "for each class (top three)")
        side.addWidget(self.prediction_label, 1)
        body.addLayout(side)
        self.map_grid = FeatureMapGrid("sequential", "activation", max_maps=64)
        body.addWidget(self.map_grid, 1)
        lay.addLayout(body, 1)

        self.image_spin.valueChanged.connect(lambda _v: self.update_maps())
        self.layer_combo.currentIndexChanged.connect(lambda _i: self.update_maps())
        self.maps_combo.currentIndexChanged.connect(self._on_maps_model_changed)
        self._show_message()

    # --- what the lesson hands over ------------------------------------------------------
    def set_images(self, images_u8: np.ndarray, names) -> None:
        """The test images (N, 32, 32, 3) uint8 and the class names."""
        self.images, self.names = images_u8, tuple(names)
        self.image_spin.setRange(0, max(len(images_u8) - 1, 0))
        self._changed()

    def set_cnn(self, model, state: str) -> None:
        """The lesson's CNN and whether it is "untrained", "training" or "trained"."""
        same = model is self.cnn
        self.cnn, self.cnn_state = model, state
        if not same and self.maps_combo.currentData() == "lesson":
            self._fill_layers()
        self._changed()

    def set_learner_model(self, model, name: str) -> str | None:
        """Offer the learner's model as "your model"; returns why it does not fit, or None
        (then the lesson's CNN stays)."""
        i = self.maps_combo.findData("yours")
        problem = cifar_maps_problem(model)
        if problem is not None:
            self.learner = None
            if i >= 0:
                self.maps_combo.removeItem(i)
            return problem
        self.learner = (model, name)
        if i < 0:
            self.maps_combo.addItem("your model", "yours")
            i = self.maps_combo.count() - 1
        self.maps_combo.setItemData(i, f"your model: {name}", Qt.ItemDataRole.ToolTipRole)
        if self.maps_combo.currentIndex() == i:
            self._on_maps_model_changed(i)
        else:
            self.maps_combo.setCurrentIndex(i)
        return None

    def maps_model(self) -> tuple[object, str]:
        """(model whose maps are shown, how the prediction names it); model None if none."""
        if self.maps_combo.currentData() == "yours" and self.learner is not None:
            return self.learner[0], f"Your model ({self.learner[1]})"
        return self.cnn, f"The {self.cnn_state} CNN"

    # --- drawing ---------------------------------------------------------------------------
    def _changed(self) -> None:
        # a layer pass of a CNN is work: only for the learner looking at this tab
        self._stale = True
        if self.isVisible():
            self.update_maps()
        else:
            self._show_message()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.update_maps()

    def _on_maps_model_changed(self, _i) -> None:
        self._fill_layers()
        self.update_maps()

    def _fill_layers(self) -> None:
        current = self.layer_combo.currentIndex()
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        model = self.maps_model()[0]
        for i, lay in enumerate(model.layers if model is not None else []):
            self.layer_combo.addItem(layer_caption(i, lay, lay.output_shape))
            self.layer_combo.setItemData(i, f"{lay.name} ({type(lay).__name__})",
                                         Qt.ItemDataRole.ToolTipRole)
        self.layer_combo.setCurrentIndex(current if 0 <= current < self.layer_combo.count() else 0)
        self.layer_combo.blockSignals(False)

    def _show_message(self) -> bool:
        """Say what is missing (True) or hide the sentence (False)."""
        text = ""
        if self.images is None or not len(self.images):
            text = ("Download or open CIFAR-10 (or open a folder of your photos) above: then "
                    "pick a test image and see what every layer makes of it.")
        elif self.maps_model()[0] is None:
            text = ("Press Train for the lesson's CNN, or open your own model (Conv2D, "
                    "32×32×3 inputs) with File ▸ Open model…, to see its feature maps.")
        self.message.setText(text)
        self.message.setVisible(bool(text))
        return bool(text)

    def current_image(self) -> np.ndarray:
        """The chosen test image as the network reads it: (32, 32, 3) float32 in [0, 1]."""
        return self.images[self.image_spin.value()].astype(np.float32) / np.float32(255)

    def update_maps(self) -> None:
        if self._show_message():
            return
        self._stale = False
        model, who = self.maps_model()
        if self.layer_combo.count() != len(model.layers):
            self._fill_layers()
        img = self.current_image()
        self.input_view.setPixmap(QPixmap.fromImage(image_qimage(img)).scaled(
            INPUT_PX, INPUT_PX, Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.FastTransformation))
        outs = model.layer_outputs(img[None])                             # list of (1, ...)
        names = self.names if len(self.names) == outs[-1][0].size else ()
        top = top_outputs(model, outs[-1][0])
        self.prediction_label.setText(f"{who} says:\n" + "\n".join(
            f"{names[c] if names else c}: " + (f"{fmt(100 * v)} %" if p else fmt(v))
            for c, v, p in top))
        i = max(self.layer_combo.currentIndex(), 0)
        maps, caption = output_as_maps(outs[i][0])
        self.map_grid.set_maps(maps, caption=f"{type(model.layers[i]).__name__} output: "
                                             f"{caption}")
