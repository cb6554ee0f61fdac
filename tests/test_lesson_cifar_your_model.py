"""CIFAR-10's Feature maps tab: a test image through the lesson's CNN, or through the learner's
own model (File ▸ Open model…) when it has a Conv2D layer and takes 32×32×3 images; any other
model is refused in one sentence."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from scipy.signal import correlate2d

from cifar_fixtures import make_tiny_cifar
from core import keras
from gui.lessons.cifar import CifarLesson
from gui.lessons.cifar_maps import cifar_maps_problem


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_cifar(tmp_path_factory.mktemp("cifar") / "cifar-10-python.tar.gz")


@pytest.fixture
def lesson(shown_lesson, tmp_path):
    return shown_lesson(CifarLesson, cache_dir=tmp_path / "cache")


def _load(lesson, tiny):
    # what the loading worker hands the lesson (core.data.load_cifar10's arrays as bytes)
    lesson._on_loaded({"x_train": tiny["x_train"], "y_train": tiny["y_train"],
                       "x_test": tiny["x_test"], "y_test": tiny["y_test"],
                       "names": ("airplane", "automobile", "bird", "cat", "deer", "dog",
                                 "frog", "horse", "ship", "truck")})


def _my_cnn(tmp_path):
    """A learner's own CIFAR CNN as it arrives from a file: saved by core.keras, opened again."""
    model = keras.Sequential([
        keras.layers.Conv2D(4, (3, 3), activation="relu", input_shape=(32, 32, 3), name="mine"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax")], seed=5)
    model.save(tmp_path / "mine.keras")
    return keras.models.load_model(tmp_path / "mine.keras")


def _show_maps_tab(lesson):
    lesson.tabs.setCurrentWidget(lesson.maps)
    return lesson.maps


def test_before_any_data_the_tab_says_what_to_do(qtbot, lesson):
    maps = _show_maps_tab(lesson)
    assert maps.message.isVisible()
    assert "Download or open CIFAR-10" in maps.message.text()
    assert maps.map_grid.count() == 0


def test_the_lessons_cnn_shows_maps_of_the_chosen_test_image(qtbot, lesson, tiny):
    _load(lesson, tiny)
    maps = _show_maps_tab(lesson)
    assert not maps.message.isVisible()
    assert maps.maps_combo.currentText() == "the lesson's CNN"
    cnn = maps.cnn
    assert cnn.input_shape == (32, 32, 3)
    maps.image_spin.setValue(5)
    maps.layer_combo.setCurrentIndex(0)
    x = tiny["x_test"][5].astype(np.float64) / 255
    kernel, bias = cnn.get_weights()[:2]                           # (3, 3, 3, F), (F,)
    f = kernel.shape[-1]
    want = np.stack([np.maximum(sum(correlate2d(x[:, :, c], kernel[:, :, c, k], mode="valid")
                                    for c in range(3)) + bias[k], 0) for k in range(f)])
    np.testing.assert_allclose(maps.map_grid.maps(), want[:64], atol=1e-5)
    assert "The untrained CNN says:" in maps.prediction_label.text()


def test_your_model_shows_its_own_feature_maps(qtbot, lesson, tiny, tmp_path):
    _load(lesson, tiny)
    maps = _show_maps_tab(lesson)
    mine = _my_cnn(tmp_path)
    statuses = []
    lesson.status_message.connect(lambda text, _ms: statuses.append(text))
    lesson.learner_model_opened(mine, "mine.keras")
    assert statuses == ["mine.keras: its feature maps are in the Feature maps tab."]
    assert maps.maps_combo.currentText() == "your model"
    assert "mine.keras" in maps.maps_combo.itemData(1, Qt.ItemDataRole.ToolTipRole)
    captions = [maps.layer_combo.itemText(i) for i in range(maps.layer_combo.count())]
    assert captions == ["1. convolution → 30×30×4", "2. max pooling → 15×15×4",
                        "3. flatten → 900", "4. dense → 10"]

    maps.image_spin.setValue(13)
    maps.layer_combo.setCurrentIndex(0)
    kernel, bias = mine.get_weights()[:2]                           # (3, 3, 3, 4), (4,)
    x = tiny["x_test"][13].astype(np.float64) / 255                # (32, 32, 3)
    want = np.stack([np.maximum(sum(correlate2d(x[:, :, c], kernel[:, :, c, k].astype(np.float64),
                                                mode="valid") for c in range(3)) + bias[k], 0)
                     for k in range(4)])
    np.testing.assert_allclose(maps.map_grid.maps(), want, atol=1e-5)
    # the pooled maps: 2×2 maxima of the ones above
    maps.layer_combo.setCurrentIndex(1)
    pooled = want.reshape(4, 15, 2, 15, 2).max(axis=(2, 4))
    np.testing.assert_allclose(maps.map_grid.maps(), pooled, atol=1e-5)
    text = maps.prediction_label.text()
    assert text.startswith("Your model (mine.keras) says:")
    probs = mine.predict(x[None].astype(np.float32))[0]
    best = int(np.argmax(probs))
    names = lesson.class_names()
    assert text.splitlines()[1] == f"{names[best]}: " + text.splitlines()[1].split(": ")[1]
    assert abs(float(text.splitlines()[1].split(": ")[1].rstrip(" %")) - 100 * probs[best]) < 0.01

    maps.maps_combo.setCurrentIndex(0)                              # back to the lesson's CNN
    assert maps.layer_combo.count() == len(maps.cnn.layers)
    assert "CNN says:" in maps.prediction_label.text()


@pytest.mark.parametrize("layers, words", [
    ([keras.layers.Flatten(input_shape=(32, 32, 3)), keras.layers.Dense(10)],
     "it has no Conv2D layer, so it makes no feature maps to look at"),
    ([keras.layers.Conv2D(2, 3, input_shape=(28, 28, 1)), keras.layers.Flatten(),
      keras.layers.Dense(10)],
     "it takes inputs of shape 28×28×1, and the lesson's photos are 32×32×3 images"),
])
def test_a_model_that_does_not_fit_says_why_and_the_lesson_keeps_its_cnn(
        qtbot, lesson, tiny, tmp_path, layers, words):
    _load(lesson, tiny)
    maps = _show_maps_tab(lesson)
    lesson.learner_model_opened(_my_cnn(tmp_path), "mine.keras")
    statuses = []
    lesson.status_message.connect(lambda text, _ms: statuses.append(text))
    other = keras.Sequential(layers, seed=0)
    assert cifar_maps_problem(other) == words
    lesson.learner_model_opened(other, "other.keras")
    assert statuses == [f"other.keras cannot show feature maps here: {words}."]
    assert maps.maps_combo.count() == 1 and maps.maps_model()[0] is maps.cnn
    assert maps.layer_combo.count() == len(maps.cnn.layers)
