"""CNN on digits shows the feature maps of the learner's own model (File ▸ Open model…) when
it has Conv2D layers and takes 28×28×1 digits; any other model is refused in one sentence."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from scipy.signal import correlate2d

from core import keras
from core.teaching.learner_models import feature_map_problem
from gui.lessons import cnn_common
from gui.lessons.cnn_digits import CnnDigitsLesson


@pytest.fixture
def lesson(shown_lesson):
    w = shown_lesson(CnnDigitsLesson)
    yield w
    w.shutdown()   # before the reset: a run ending as it stops still records its CNN
    cnn_common._TRAINED.update(model=None, source="")


def _my_cnn(tmp_path):
    """A learner's own CNN as it arrives from a file: saved by core.keras, opened again."""
    model = keras.Sequential([
        keras.layers.Conv2D(3, (5, 5), activation="relu", input_shape=(28, 28, 1), name="mine"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax")], seed=3)
    model.save(tmp_path / "mine.keras")
    return keras.models.load_model(tmp_path / "mine.keras")


def test_your_model_shows_its_own_feature_maps_for_the_chosen_digit(qtbot, lesson, tmp_path):
    mine = _my_cnn(tmp_path)
    statuses = []
    lesson.status_message.connect(lambda text, _ms: statuses.append(text))
    lesson.learner_model_opened(mine, "mine.keras")
    assert statuses == []
    assert lesson.maps_combo.currentText() == "your model"
    assert "mine.keras" in lesson.maps_combo.itemData(1, Qt.ItemDataRole.ToolTipRole)
    captions = [lesson.layer_combo.itemText(i) for i in range(lesson.layer_combo.count())]
    assert captions[0] == "1. convolution → 24×24×3" and len(captions) == 4
    assert lesson.layer_combo.itemData(0, Qt.ItemDataRole.ToolTipRole) == "mine (Conv2D)"

    kernel, bias = mine.get_weights()[:2]                       # (5, 5, 1, 3), (3,)
    (_, _), (xv, _) = lesson.data()
    lesson.digit_spin.setValue(7)
    lesson.layer_combo.setCurrentIndex(0)
    want = np.stack([np.maximum(correlate2d(xv[7, :, :, 0].astype(np.float64),
                                            kernel[:, :, 0, f].astype(np.float64),
                                            mode="valid") + bias[f], 0) for f in range(3)])
    np.testing.assert_allclose(lesson.map_grid.maps(), want, atol=1e-5)
    text = lesson.prediction_label.text()
    assert "Your model (mine.keras) says:" in text
    probs = mine.predict(xv[7:8])[0]
    assert text.splitlines()[-3].startswith(f"{int(np.argmax(probs))}: ")

    lesson.maps_combo.setCurrentIndex(0)                        # back to the lesson's CNN
    assert lesson.layer_combo.count() == len(lesson.cnn.layers)
    assert "CNN says:" in lesson.prediction_label.text()


@pytest.mark.parametrize("layers, words", [
    ([keras.layers.Flatten(input_shape=(28, 28, 1)), keras.layers.Dense(10)],
     "it has no Conv2D layer, so it makes no feature maps to look at"),
    ([keras.layers.Conv2D(2, 3, input_shape=(32, 32, 3)), keras.layers.Flatten(),
      keras.layers.Dense(10)],
     "it takes inputs of shape 32×32×3, and the lesson's digits are 28×28×1 images"),
])
def test_a_model_that_does_not_fit_says_why_and_the_lesson_keeps_its_cnn(
        qtbot, lesson, tmp_path, layers, words):
    lesson.learner_model_opened(_my_cnn(tmp_path), "mine.keras")
    statuses = []
    lesson.status_message.connect(lambda text, _ms: statuses.append(text))
    other = keras.Sequential(layers, seed=0)
    assert feature_map_problem(other) == words
    lesson.learner_model_opened(other, "other.keras")
    assert statuses == [f"other.keras cannot show feature maps here: {words}."]
    assert lesson.maps_combo.count() == 1 and lesson.maps_model()[0] is lesson.cnn
    assert lesson.layer_combo.count() == len(lesson.cnn.layers)
