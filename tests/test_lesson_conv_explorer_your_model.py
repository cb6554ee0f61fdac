"""Convolution explorer: the learner's own model (File ▸ Open model…) lends the 3×3 kernels of
its first Conv2D layer as filters when it takes 28×28×1 digits; any other model is refused in
one sentence. The feature map is checked against SciPy's correlate2d."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import correlate2d

from core import keras
from core.data import load_offline_digits
from core.teaching.learner_models import first_conv_problem
from gui.lessons.conv_explorer import ConvExplorerLesson


@pytest.fixture
def lesson(shown_lesson):
    return shown_lesson(ConvExplorerLesson)


def _saved_and_opened(model, tmp_path):
    model.save(tmp_path / "mine.keras")
    return keras.models.load_model(tmp_path / "mine.keras")


def _my_cnn(tmp_path, filters=4):
    return _saved_and_opened(keras.Sequential([
        keras.layers.Conv2D(filters, (3, 3), activation="relu", input_shape=(28, 28, 1),
                            name="mine"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax")], seed=7), tmp_path)


def _your_presets(lesson):
    combo = lesson.editor.preset
    return [combo.itemText(i) for i in range(combo.count())
            if combo.itemText(i).startswith("Your model's filter")]


def test_your_models_filters_slide_over_the_digit(qtbot, lesson, tmp_path):
    mine = _my_cnn(tmp_path)
    statuses = []
    lesson.status_message.connect(lambda text, _ms: statuses.append(text))
    lesson.learner_model_opened(mine, "mine.keras")
    assert statuses == ["The 4 filters of mine.keras's first Conv2D layer are in the filter "
                        "chooser."]
    assert _your_presets(lesson) == [f"Your model's filter {i}" for i in range(1, 5)]
    assert lesson.editor.preset.currentText() == "Your model's filter 1"
    assert "mine.keras" in lesson.editor.description.text()

    kernel, bias = mine.get_weights()[:2]                           # (3, 3, 1, 4), (4,)
    x, _ = load_offline_digits()
    lesson.digit_spin.setValue(11)
    digit = x[11, :, :, 0].astype(np.float64)
    for f in (0, 2):
        lesson.editor.preset.setCurrentText(f"Your model's filter {f + 1}")
        np.testing.assert_allclose(lesson.editor.kernel(), kernel[:, :, 0, f])
        assert lesson.editor.bias_value() == pytest.approx(float(bias[f]))
        want = correlate2d(digit, kernel[:, :, 0, f].astype(np.float64), mode="valid") + bias[f]
        np.testing.assert_allclose(lesson.map_view.values(), want, atol=1e-5)


@pytest.mark.parametrize("layers, words", [
    ([keras.layers.Conv2D(2, (5, 5), input_shape=(28, 28, 1)), keras.layers.Flatten(),
      keras.layers.Dense(10)],
     "its first Conv2D layer has 5×5 filters, and the explorer slides 3×3 ones"),
    ([keras.layers.Conv2D(2, 3, input_shape=(32, 32, 3)), keras.layers.Flatten(),
      keras.layers.Dense(10)],
     "it takes inputs of shape 32×32×3, and the lesson's digits are 28×28×1 images"),
    ([keras.layers.Flatten(input_shape=(28, 28, 1)), keras.layers.Dense(10)],
     "it has no Conv2D layer, so it makes no feature maps to look at"),
])
def test_a_model_that_does_not_fit_is_refused_in_a_sentence(qtbot, lesson, tmp_path, layers,
                                                            words):
    lesson.learner_model_opened(_my_cnn(tmp_path), "mine.keras")
    lesson.editor.preset.setCurrentText("Your model's filter 2")
    statuses = []
    lesson.status_message.connect(lambda text, _ms: statuses.append(text))
    other = keras.Sequential(layers, seed=0)
    assert first_conv_problem(other) == words
    lesson.learner_model_opened(other, "other.keras")
    assert statuses == [f"other.keras's filters cannot slide over the digit here: {words}."]
    assert _your_presets(lesson) == []
    # the editor left the refused model's filter for a ready-made one
    combo = lesson.editor.preset
    assert combo.currentIndex() == 0 and not combo.currentText().startswith("Your")
    assert "mine.keras" not in lesson.editor.description.text()
