"""Freezing a layer (Keras's `layer.trainable = False`): its weights never move, on every
way a step can run, while the layers after it train; the gradient reaching the trainable
layers is the one plain NumPy computes."""
import numpy as np
import pytest

from core.io import load_model, save_model
from core.layers import Conv2D, Dense, Flatten, MaxPool2D
from core.model import Sequential
from core.optimizers import SGD, Adam


def _dense_model(seed=0):
    m = Sequential([Dense(6, activation="relu"), Dense(5, activation="relu"),
                    Dense(3, activation="softmax")], input_shape=(4,), seed=seed)
    return m


def _data(n=32, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 4)).astype(np.float32), rng.integers(0, 3, n)


@pytest.mark.parametrize("record", [False, True])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_a_frozen_layer_keeps_its_weights_bit_for_bit_while_the_others_train(record, optimizer):
    m = _dense_model()
    opt = {"sgd": SGD(0.1), "momentum": SGD(0.1, momentum=0.9), "adam": Adam(0.01)}[optimizer]
    m.compile(optimizer=opt, loss="sparse_categorical_crossentropy")
    m.layers[1].trainable = False
    frozen = [w.copy() for w in m.layers[1].get_weights()]
    others = [w.copy() for w in m.layers[0].get_weights() + m.layers[2].get_weights()]
    x, y = _data()
    for _ in range(3):
        if record:
            m.trace_step(x, y)
        else:
            m.train_on_batch(x, y)
    for a, b in zip(m.layers[1].get_weights(), frozen):
        assert np.array_equal(a, b)
    moved = m.layers[0].get_weights() + m.layers[2].get_weights()
    assert all(not np.array_equal(a, b) for a, b in zip(moved, others))


def test_the_trainable_layers_get_the_gradient_plain_numpy_computes_through_a_frozen_one():
    m = Sequential([Dense(5, activation="relu"), Dense(3, activation="softmax")],
                   input_shape=(4,), seed=3)
    m.compile(optimizer=SGD(0.5), loss="sparse_categorical_crossentropy")
    m.layers[1].trainable = False
    x, y = _data(16, seed=4)
    (w1, b1), (w2, b2) = m.layers[0].get_weights(), m.layers[1].get_weights()
    w1, b1, w2, b2 = (a.astype(np.float64) for a in (w1, b1, w2, b2))
    z1 = x @ w1 + b1
    h = np.maximum(z1, 0)
    z2 = h @ w2 + b2
    p = np.exp(z2 - z2.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    dz2 = p.copy()
    dz2[np.arange(len(y)), y] -= 1
    dz2 /= len(y)
    dz1 = (dz2 @ w2.T) * (z1 > 0)
    want_w1 = w1 - 0.5 * x.T.astype(np.float64) @ dz1
    want_b1 = b1 - 0.5 * dz1.sum(0)
    m.train_on_batch(x, y)
    got_w1, got_b1 = m.layers[0].get_weights()
    np.testing.assert_allclose(got_w1, want_w1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_b1, want_b1, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(m.layers[1].get_weights()[0], w2.astype(np.float32))


def test_a_frozen_convolution_base_under_a_trainable_head():
    rng = np.random.default_rng(5)
    m = Sequential([Conv2D(4, 3, activation="relu"), MaxPool2D(2), Flatten(),
                    Dense(3, activation="softmax")], input_shape=(8, 8, 1), seed=0)
    m.compile(optimizer=SGD(0.1), loss="sparse_categorical_crossentropy")
    m.layers[0].trainable = False
    base = [w.copy() for w in m.layers[0].get_weights()]
    head = m.layers[3].get_weights()[0].copy()
    x = rng.standard_normal((8, 8, 8, 1)).astype(np.float32)
    m.fit(x, rng.integers(0, 3, 8), epochs=2, batch_size=4, verbose=0)
    for a, b in zip(m.layers[0].get_weights(), base):
        assert np.array_equal(a, b)
    assert not np.array_equal(m.layers[3].get_weights()[0], head)


def test_freezing_between_steps_keeps_each_weights_own_optimizer_state():
    """Adam's moments belong to a weight, not to its place in a list: freezing the first
    layer must not hand its moments to the next layer's weights."""
    x, y = _data()
    a, b = _dense_model(), _dense_model()
    for m in (a, b):
        m.compile(optimizer=Adam(0.01), loss="sparse_categorical_crossentropy")
        m.train_on_batch(x, y)
    a.layers[0].trainable = False
    a.train_on_batch(x, y)
    # b: the same, with the first layer's update undone by hand instead of frozen
    keep = b.layers[0].get_weights()
    b.train_on_batch(x, y)
    b.layers[0].set_weights(keep)
    for la, lb in zip(a.layers[1:], b.layers[1:]):
        for wa, wb in zip(la.get_weights(), lb.get_weights()):
            np.testing.assert_allclose(wa, wb, rtol=1e-6, atol=1e-7)


def test_summary_counts_frozen_weights_as_non_trainable():
    m = _dense_model()
    m.layers[0].trainable = False
    text = m.summary()
    frozen = 4 * 6 + 6
    total = m.count_params()
    assert f"Trainable params: {total - frozen:,}" in text
    assert f"Non-trainable params: {frozen:,}" in text


def test_a_frozen_layer_stays_frozen_through_a_model_file(tmp_path):
    m = _dense_model()
    m.layers[1].trainable = False
    path = tmp_path / "m.npz"
    save_model(m, path)
    back = load_model(path)
    assert [lay.trainable for lay in back.layers] == [True, False, True]


def test_trainable_must_be_a_boolean():
    with pytest.raises(ValueError, match="trainable"):
        Dense(3, trainable="no")
    assert Dense(3, trainable=False).trainable is False
