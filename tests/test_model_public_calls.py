"""The public calls the GUI uses instead of the engine's private state: set_weight,
weights_snapshot and layer_outputs(x, pre_activations=True), checked against NumPy."""

import threading

import numpy as np
import pytest

from core.layers import Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU
from core.model import Sequential
from core.optimizers import SGD


def _dense_model():
    m = Sequential([Dense(5, activation="tanh"), Dense(4), ReLU(), Dropout(0.5),
                    Dense(3, activation="softmax")], input_shape=(6,), seed=2)
    m.compile(optimizer=SGD(0.1), loss="sparse_categorical_crossentropy")
    return m


def _numpy_forward(weights, x):
    """The dense model above in float64 NumPy: (output, z) per layer (inference: dropout off)."""
    w1, b1, w2, b2, w3, b3 = (w.astype(np.float64) for w in weights)
    z1 = x @ w1 + b1
    a1 = np.tanh(z1)
    z2 = a1 @ w2 + b2
    a3 = np.maximum(z2, 0)
    z5 = a3 @ w3 + b3
    e = np.exp(z5 - z5.max(1, keepdims=True))
    return [(a1, z1), (z2, z2), (a3, z2), (a3, None), (e / e.sum(1, keepdims=True), z5)]


def test_layer_outputs_with_pre_activations_match_numpy():
    m = _dense_model()
    x = np.random.default_rng(0).standard_normal((7, 6)).astype(np.float32)
    got = m.layer_outputs(x, pre_activations=True)
    want = _numpy_forward(m.get_weights(), x.astype(np.float64))
    assert len(got) == len(want) == len(m.layers)
    for (out, z), (w_out, w_z) in zip(got, want):
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, w_out, rtol=1e-5, atol=1e-6)
        if w_z is None:
            assert z is None
        else:
            assert z.dtype == np.float32
            np.testing.assert_allclose(z, w_z, rtol=1e-5, atol=1e-6)
    # without the flag: the outputs alone, the same numbers
    for plain, (out, _) in zip(m.layer_outputs(x), got):
        np.testing.assert_array_equal(plain, out)


def test_layer_outputs_are_copies():
    m = _dense_model()
    x = np.ones((2, 6), np.float32)
    first = m.layer_outputs(x, pre_activations=True)
    again = m.layer_outputs(x + 1, pre_activations=True)
    assert not np.array_equal(first[0][1], again[0][1])  # the first call's z was not overwritten


def test_conv_pre_activation_is_the_convolution_plus_bias():
    m = Sequential([Conv2D(2, 3, activation="relu"), MaxPool2D(2), Flatten(),
                    Dense(3, activation="sigmoid")], input_shape=(6, 6, 1), seed=4)
    x = np.random.default_rng(1).standard_normal((2, 6, 6, 1)).astype(np.float32)
    (a, z), (pooled, no_z), (flat, _), (out, z_out) = m.layer_outputs(x, pre_activations=True)
    w, b, wd, bd = (v.astype(np.float64) for v in m.get_weights())
    want_z = np.zeros((2, 4, 4, 2))
    for i in range(4):
        for j in range(4):
            want_z[:, i, j, :] = np.einsum("nhwc,hwcf->nf", x[:, i:i + 3, j:j + 3, :], w) + b
    np.testing.assert_allclose(z, want_z, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(a, np.maximum(want_z, 0), rtol=1e-4, atol=1e-5)
    assert no_z is None
    np.testing.assert_allclose(z_out, flat.astype(np.float64) @ wd + bd, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out, 1 / (1 + np.exp(-z_out.astype(np.float64))), rtol=1e-5)


def test_weights_snapshot_copies_every_layers_parameters():
    m = _dense_model()
    snap = m.weights_snapshot()
    assert len(snap) == len(m.layers)
    assert [sorted(s) for s in snap] == [["bias", "kernel"], ["bias", "kernel"], [], [],
                                         ["bias", "kernel"]]
    flat = [s[k] for s in snap for k in ("kernel", "bias") if s]
    for a, b in zip(flat, m.get_weights()):
        np.testing.assert_array_equal(a, b)
    before = [{k: v.copy() for k, v in s.items()} for s in snap]
    # training updates the weights in place (dropout may silence the first layers' gradients,
    # never the output bias's); whatever moved, the snapshot keeps the values it took
    m.train_on_batch(np.ones((3, 6), np.float32), [0, 1, 2])
    assert not np.array_equal(snap[-1]["bias"], m.layers[-1].params["bias"])
    m.set_weight(0, "kernel", (0, 0), 7.0)
    for s, b in zip(snap, before):
        for k in s:
            np.testing.assert_array_equal(s[k], b[k])


def test_weights_snapshot_waits_for_a_step_in_progress():
    m = _dense_model()
    taken = []
    with m._lock:  # a training step holds the model's lock
        t = threading.Thread(target=lambda: taken.append(m.weights_snapshot()))
        t.start()
        t.join(0.2)
        assert t.is_alive() and not taken
    t.join(5)
    assert len(taken) == 1


def test_set_weight_changes_one_weight_and_returns_the_old_value():
    m = _dense_model()
    before = m.get_weights()
    old = m.set_weight(0, "kernel", (2, 3), 1.25)
    assert old == float(before[0][2, 3])
    after = m.get_weights()
    want = [w.copy() for w in before]
    want[0][2, 3] = np.float32(1.25)
    for a, b in zip(after, want):
        np.testing.assert_array_equal(a, b)
    assert m.set_weight(4, "bias", 1, -0.5) == float(before[5][1])
    assert m.get_weights()[5][1] == np.float32(-0.5)
    # the next forward pass uses it: z = x·W + b by hand
    x = np.ones((1, 6), np.float32)
    z = m.layer_outputs(x, pre_activations=True)[0][1]
    np.testing.assert_allclose(z, x.astype(np.float64) @ after[0] + after[1], rtol=1e-5)


@pytest.mark.parametrize("args,match", [
    ((9, "kernel", (0, 0), 1.0), "layer_index"),
    ((2, "kernel", (0, 0), 1.0), "no parameter"),
    ((0, "kernel", (6, 0), 1.0), "shape"),
    ((0, "kernel", (0,), 1.0), "shape"),
    ((0, "bias", (0,), float("nan")), "finite"),
    ((0, "bias", (0,), "a lot"), "number"),
])
def test_set_weight_refuses_what_is_not_a_weight(args, match):
    m = _dense_model()
    before = m.get_weights()
    with pytest.raises(ValueError, match=match):
        m.set_weight(*args)
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_set_weight_reaches_the_fused_dense_step():
    m = Sequential([Dense(4, activation="relu"), Dense(3, activation="softmax")],
                   input_shape=(5,), seed=0)
    m.compile(optimizer=SGD(0.1), loss="sparse_categorical_crossentropy")
    x = np.ones((2, 5), np.float32)
    m.train_on_batch(x, [0, 1])  # the whole-step kernel now holds the weight arrays
    m.set_weight(1, "bias", (0,), 50.0)
    np.testing.assert_allclose(m.predict(x)[:, 0], 1.0, atol=1e-6)
