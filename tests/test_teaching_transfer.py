"""core.teaching.transfer: synthetic symbols through the pad's path, the frozen-base set-up
against plain NumPy, and transfer beating from-scratch on a few drawings."""
import numpy as np
import pytest

from core.digits import to_mnist
from core.io import load_model
from core.teaching import transfer as tl
from resources.paths import model_path


@pytest.fixture(scope="module")
def base():
    with model_path("digits_cnn") as p:
        return load_model(p)


def test_a_rendered_line_is_ink_within_half_the_pen_width_and_paper_elsewhere():
    img = tl.render_strokes([np.array([[0.2, 0.5], [0.8, 0.5]])], width=0.1, size=100)
    assert img.dtype == np.uint8 and img.shape == (100, 100)
    # independent: pixel centres at distance d from the segment y = 50, x in [20, 80]
    assert img[50, 50] == 0 and img[46, 30] == 0            # 3.5 px off, radius 5
    assert img[40, 50] == 255 and img[50, 10] == 255        # 9.5 px off; left of the cap
    assert img[50, 16] == 0                                  # round cap: 3.5 px left of the end


def test_synthetic_symbols_are_seeded_and_come_through_to_mnist():
    x1, y1 = tl.synthetic_set(["+", "−"], 3, seed=5)
    x2, y2 = tl.synthetic_set(["+", "−"], 3, seed=5)
    assert x1.shape == (6, 28, 28, 1) and x1.dtype == np.float32
    assert np.array_equal(x1, x2) and list(y1) == [0, 1, 0, 1, 0, 1]
    assert not np.array_equal(x1, tl.synthetic_set(["+", "−"], 3, seed=6)[0])
    rng = np.random.default_rng(9)
    strokes, width = tl.symbol_strokes("×", rng)
    image = tl.render_strokes(strokes, width)
    assert np.array_equal(to_mnist(image), tl.symbol_image("×", np.random.default_rng(9)))
    # a minus is a wide bar once to_mnist has scaled it: ink in few rows, many columns
    minus = x1[1, ..., 0] > 0.3
    assert minus.any(axis=1).sum() < minus.any(axis=0).sum() / 2


def test_unknown_example_symbol_is_a_clear_error():
    with pytest.raises(ValueError, match="no example strokes"):
        tl.symbol_strokes("Q", np.random.default_rng(0))


def test_transfer_model_is_the_frozen_base_with_a_new_head(base):
    m = tl.transfer_model(base, 5, seed=0)
    assert [lay.name for lay in m.layers[:-1]] == [
        lay.name for lay in base.layers[:-1] if type(lay).__name__ != "Dropout"]
    assert m.layers[-1].name == tl.HEAD_NAME and m.output_shape == (5,)
    assert tl.frozen_flags(m) == [bool(lay.params) for lay in m.layers[:-1]] + [False]
    # the features it gives the head are the base's hidden Dense output (plain NumPy on
    # the base's own last-but-one activations)
    x, _ = tl.synthetic_set(["+", "×"], 2, seed=1)
    feats = base.layer_outputs(x)[-3]                        # dense (256), before dropout
    w, b = m.layers[-1].get_weights()
    z = feats.astype(np.float64) @ w + b
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(m.predict(x), p, rtol=1e-4, atol=1e-5)


def test_training_moves_only_the_head_then_fine_tuning_moves_the_top_layers(base):
    m = tl.transfer_model(base, 3, seed=0)
    x, y = tl.synthetic_set(["+", "−", "×"], 3, seed=2)
    before = [lay.get_weights() for lay in m.layers]
    m.fit(x, y, epochs=3, batch_size=5, seed=0)
    moved = tl.weight_movement(before, m)
    for lay, change in zip(m.layers[:-1], moved[:-1]):
        assert change is None if not lay.params else change == 0.0
    assert moved[-1] > 0
    names = tl.fine_tune(m, top_layers=2)
    assert names == ["conv2d_3", "dense"]
    assert m.optimizer.get_config()["learning_rate"] == pytest.approx(
        tl.FINE_TUNE_LEARNING_RATE)
    before = [lay.get_weights() for lay in m.layers]
    m.fit(x, y, epochs=2, batch_size=5, seed=0)
    moved = dict(zip([lay.name for lay in m.layers], tl.weight_movement(before, m)))
    assert moved["conv2d_3"] > 0 and moved["dense"] > 0 and moved[tl.HEAD_NAME] > 0
    assert moved["conv2d"] == moved["conv2d_1"] == moved["conv2d_2"] == 0.0


def test_scratch_model_has_the_same_layers_with_fresh_trainable_weights(base):
    s = tl.scratch_model(base, 4, seed=0)
    t = tl.transfer_model(base, 4, seed=0)
    assert [type(a) for a in s.layers] == [type(b) for b in t.layers]
    assert not any(tl.frozen_flags(s))
    assert not np.array_equal(s.layers[0].get_weights()[0], t.layers[0].get_weights()[0])


def test_the_frozen_base_beats_training_from_scratch_on_three_drawings_per_symbol(base):
    symbols = tl.EXAMPLE_SYMBOLS
    x, y = tl.synthetic_set(symbols, 3, seed=1001)
    xv, yv = tl.synthetic_set(symbols, 20, seed=2001)
    acc = {}
    for name, make in (("transfer", tl.transfer_model), ("scratch", tl.scratch_model)):
        m = make(base, len(symbols), seed=1)
        m.fit(x, y, epochs=30, batch_size=5, seed=1)
        acc[name] = float(np.mean(m.predict(xv).argmax(1) == yv))
    assert acc["transfer"] >= 0.9
    assert acc["transfer"] >= acc["scratch"] + 0.08, acc


def test_a_course_style_dense_model_can_be_the_base_its_drawings_reshaped():
    """The course's first Keras model, Flatten(input_shape=(28, 28)) → Dense → Dense(10),
    with a Softmax layer after its classifier: cut before the classifier, drawings
    reshaped to (N, 28, 28)."""
    from core.layers import Dense, Flatten, Softmax
    from core.model import Sequential

    base = Sequential([Flatten(), Dense(8, activation="relu"), Dense(10), Softmax()],
                      input_shape=(28, 28), seed=0)
    assert tl.base_problem(base) is None
    assert [type(lay).__name__ for lay in tl.feature_layers(base)] == ["Flatten", "Dense"]
    model = tl.transfer_model(base, 3, seed=0)
    x = tl.as_base_input(model, np.zeros((2, 28, 28, 1), np.float32))
    assert x.shape == (2, 28, 28) and model.predict(x).shape == (2, 3)


def test_a_base_that_cannot_lend_features_says_why():
    from core.layers import Conv2D, Dense, Flatten
    from core.model import Sequential

    assert "no layer with weights before its classifier" in tl.base_problem(
        Sequential([Flatten(), Dense(10)], input_shape=(28, 28, 1), seed=0))
    assert "does not end in a Dense classifier" in tl.base_problem(
        Sequential([Conv2D(2, 3), Conv2D(2, 3)], input_shape=(28, 28, 1), seed=0))
    assert tl.base_problem(Sequential([Dense(4), Dense(10)], input_shape=(784,), seed=0)) is None
