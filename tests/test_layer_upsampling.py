"""UpSampling2D against a loop reference and centred finite differences, in a model."""

import numpy as np
import pytest

from core.io import load_model, save_model
from core.layers import Conv2D, MaxPool2D, UpSampling2D
from core.model import Sequential


def _loop_upsample(x, sh, sw):
    n, h, w, c = x.shape
    out = np.zeros((n, h * sh, w * sw, c), x.dtype)
    for i in range(h * sh):
        for j in range(w * sw):
            out[:, i, j, :] = x[:, i // sh, j // sw, :]
    return out


@pytest.mark.parametrize("size", [2, 3, (2, 3), (1, 4)])
def test_forward_matches_loop_reference(size):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    layer = UpSampling2D(size)
    layer.build(x.shape[1:])
    sh, sw = (size, size) if isinstance(size, int) else size
    y = layer.forward(x)
    assert layer.output_shape == (3 * sh, 4 * sw, 5) == y.shape[1:]
    np.testing.assert_array_equal(y, _loop_upsample(x, sh, sw))


@pytest.mark.parametrize("size", [2, (3, 2)])
def test_backward_matches_finite_differences(size):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 3, 2))
    layer = UpSampling2D(size)
    layer.build(x.shape[1:])
    weights = rng.standard_normal(layer.forward(x).shape)   # L = Σ weights · y

    def loss(v):
        return float(np.sum(weights * layer.forward(v)))

    layer.forward(x)
    dx = layer.backward(weights)
    numeric = np.zeros_like(x)
    eps = 1e-6
    for idx in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += eps
        down[idx] -= eps
        numeric[idx] = (loss(up) - loss(down)) / (2 * eps)
    np.testing.assert_allclose(dx, numeric, rtol=1e-7, atol=1e-8)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="size"):
        UpSampling2D(0)
    with pytest.raises(ValueError, match="bilinear"):
        UpSampling2D(2, interpolation="bilinear")
    with pytest.raises(ValueError, match="height, width, channels"):
        Sequential([UpSampling2D(2)], input_shape=(8,))


def test_trains_in_a_model_and_survives_save_and_load(tmp_path):
    model = Sequential([Conv2D(4, 3, padding="same", activation="relu"), MaxPool2D(2),
                        UpSampling2D(2), Conv2D(1, 1, activation="sigmoid")],
                       input_shape=(8, 8, 1), seed=0)
    model.compile("adam", "binary_crossentropy")
    x = np.random.default_rng(2).random((16, 8, 8, 1)).astype(np.float32)
    y = (x > 0.5).astype(np.float32)
    first = model.evaluate(x, y)["loss"]
    model.fit(x, y, epochs=30, batch_size=8, seed=0)
    assert model.evaluate(x, y)["loss"] < first
    save_model(model, tmp_path / "m.npz")
    again = load_model(tmp_path / "m.npz")
    assert isinstance(again.layers[2], UpSampling2D) and again.layers[2].size == (2, 2)
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-6, atol=1e-6)
