"""The readable forward pass (core.readable: every layer by its kernel family's plain-NumPy
reference) gives what the fast `predict` gives, for every layer it covers, and says which
layer it cannot read instead of guessing."""
import numpy as np
import pytest

from core import readable
from core.layers import (LSTM, AveragePooling2D, Conv2D, Dense, Dropout, Flatten, LeakyReLU,
                         MaxPooling2D, ReLU, Rescaling, Softmax)
from core.model import Sequential
from core.teaching.teach import read_drawing


def _every_covered_layer(seed):
    m = Sequential([Rescaling(2.0, offset=-1.0),
                    Conv2D(4, 3, padding="same", activation="relu"),
                    Conv2D(3, 3, strides=2, activation="tanh"),
                    MaxPooling2D(2, padding="same"),
                    Conv2D(5, 2, activation=None), LeakyReLU(0.1),
                    AveragePooling2D(2, strides=1),
                    Flatten(), Dense(12, activation="sigmoid"), Dropout(0.5), ReLU(),
                    Dense(6), Softmax()], input_shape=(15, 13, 2), seed=seed)
    return m


@pytest.mark.parametrize("seed", [0, 1])
def test_readable_predictions_equal_the_fast_ones(seed):
    m = _every_covered_layer(seed)
    x = np.random.default_rng(seed).random((7, 15, 13, 2), dtype=np.float32)
    fast = m.predict(x)
    plain = readable.predict(m, x)
    assert plain.dtype == np.float32 and plain.shape == fast.shape == (7, 6)
    np.testing.assert_allclose(plain, fast, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(plain.sum(axis=1), 1.0, atol=1e-5)


def test_dense_reads_the_last_axis_as_keras_does():
    m = Sequential([Dense(3, activation="tanh"), Flatten(), Dense(2, activation="softmax")],
                   input_shape=(4, 5), seed=3)
    x = np.random.default_rng(3).standard_normal((2, 4, 5)).astype(np.float32)
    np.testing.assert_allclose(readable.predict(m, x), m.predict(x), rtol=1e-4, atol=1e-6)


def test_a_layer_without_a_readable_form_is_named():
    m = Sequential([LSTM(4), Dense(2)], input_shape=(3, 2), seed=0)
    with pytest.raises(NotImplementedError, match="LSTM"):
        readable.predict(m, np.zeros((1, 3, 2), np.float32))


def test_the_pads_plain_reading_matches_the_fast_one_without_a_saliency_map():
    from gui.lessons.draw_digit import load_shipped

    drawing = np.full((280, 280), 255, np.uint8)    # the pad's canvas: dark ink on white
    drawing[50:230, 125:160] = 0                    # a thick "1"
    drawing[50:80, 95:130] = 0
    for key in ("mlp", "cnn"):
        model, error = load_shipped(key)
        assert error is None
        fast = read_drawing(model, drawing, saliency=True)
        plain = read_drawing(model, drawing, saliency=True, readable=True)
        assert plain.top == fast.top and plain.saliency is None and fast.saliency is not None
        np.testing.assert_allclose(plain.probabilities, fast.probabilities, atol=1e-5)
