"""The fused dense training step gives exactly the layer-by-layer step's numbers."""

import numpy as np
import pytest

from core.fast import dense_step
from core.fast import plan as plan_mod
from core.kernels import _threads
from core.layers import Dense, Dropout, Flatten
from core.model import Sequential
from core.optimizers import SGD, Adam


def _model(layers, shape, lr=0.05, metrics=()):
    m = Sequential(layers, input_shape=shape, seed=11)
    m.compile(optimizer=SGD(lr), loss="sparse_categorical_crossentropy", metrics=list(metrics))
    return m


NETS = {
    "course MLP": (lambda: [Flatten(), Dense(128, activation="relu"), Dense(10, activation="softmax")],
                   (28, 28, 1), 128),
    "deep, linear and ReLU": (lambda: [Dense(9), Dense(7, activation="relu"), Dense(6, activation="relu"),
                                       Dense(3, activation="softmax")], (5,), 13),
    "one layer": (lambda: [Dense(4, activation="softmax")], (6,), 1),
}


@pytest.mark.parametrize("net", list(NETS))
@pytest.mark.parametrize("mode", ["threads", "serial"])
def test_fused_step_equals_the_layer_by_layer_step_bit_for_bit(net, mode, monkeypatch):
    layers, shape, n = NETS[net]
    rng = np.random.default_rng(3)
    x = rng.random((n,) + shape, dtype=np.float32)
    x[x < 0.6] = 0.0
    x[:, :4] = 0.0  # blank in every sample, like a digit's border: those features are left out
    y = rng.integers(0, layers()[-1].units, n)
    monkeypatch.setattr(_threads, "FORCE_MODE", mode)
    fused, plain = _model(layers(), shape, metrics=["accuracy"]), _model(layers(), shape, metrics=["accuracy"])
    assert fused._plan.kind(fused) == plan_mod.WHOLE_STEP
    calls = []
    real_run = dense_step.FusedDenseStep.run
    monkeypatch.setattr(dense_step.FusedDenseStep, "run",
                        lambda self, *a: calls.append(1) or real_run(self, *a))
    plain._plan.allow_whole_step = False  # pinned: this one goes layer by layer
    assert plain._plan.kind(plain) == plan_mod.LAYER_BY_LAYER
    for _ in range(3):
        a, b = fused.train_on_batch(x, y), plain.train_on_batch(x, y)
        assert a == b
    assert len(calls) == 3
    for wa, wb in zip(fused.get_weights(), plain.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    for la, lb in zip(fused.layers, plain.layers):
        for k in lb.grads:
            np.testing.assert_array_equal(la.grads[k], lb.grads[k])
    assert fused.optimizer.iterations == plain.optimizer.iterations == 3


def test_fused_step_matches_float64_backprop():
    # independent of the engine: the gradient of a two-layer net written out in NumPy
    layers, shape, n = NETS["course MLP"]
    rng = np.random.default_rng(8)
    x = rng.random((n,) + shape, dtype=np.float32)
    y = rng.integers(0, 10, n)
    m = _model(layers(), shape, lr=0.1)
    w1, b1, w2, b2 = (a.astype(np.float64) for a in m.get_weights())
    xf = x.reshape(n, -1).astype(np.float64)
    h = np.maximum(xf @ w1 + b1, 0)
    z = h @ w2 + b2
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    loss = -np.log(p[np.arange(n), y]).mean()
    dz = p.copy()
    dz[np.arange(n), y] -= 1
    dz /= n
    dh = (dz @ w2.T) * (h > 0)
    want = [w1 - 0.1 * xf.T @ dh, b1 - 0.1 * dh.sum(0), w2 - 0.1 * h.T @ dz, b2 - 0.1 * dz.sum(0)]
    logs = m.train_on_batch(x, y)
    assert logs["loss"] == pytest.approx(loss, rel=1e-5)
    for got, w in zip(m.get_weights(), want):
        np.testing.assert_allclose(got, w, rtol=1e-4, atol=1e-6)


def test_a_non_finite_step_changes_nothing_and_says_so():
    layers, shape, n = NETS["deep, linear and ReLU"]
    m = _model(layers(), shape)
    x = np.ones((n,) + shape, np.float32)
    bad_x = x.copy()
    bad_x[2, 1] = np.nan
    with pytest.raises(ValueError, match="row index 2"):   # bad data never reaches a step
        m.train_on_batch(bad_x, np.zeros(n, int))
    weights = m.get_weights()
    weights[0].flat[0] = np.nan        # a poisoned weight: the step's loss is NaN
    m.set_weights(weights)
    before = m.get_weights()
    logs = m.train_on_batch(x, np.zeros(n, int))
    assert np.isnan(logs["loss"])
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert m.optimizer.iterations == 0
    hist = m.fit(x, np.zeros(n, int), epochs=3, batch_size=n)
    assert hist.stop_reason and "NaN" in hist.stop_reason


def test_replaced_weights_are_the_ones_trained():
    layers, shape, n = NETS["deep, linear and ReLU"]
    m = _model(layers(), shape)
    x = np.random.default_rng(0).random((n,) + shape, dtype=np.float32)
    y = np.zeros(n, int)
    m.train_on_batch(x, y)
    fresh = [np.zeros_like(w) for w in m.get_weights()]
    m.set_weights(fresh)
    m.train_on_batch(x, y)
    assert any(np.any(w != 0) for w in m.get_weights())  # the update reached the new arrays


@pytest.mark.parametrize("build", [
    lambda: ([Dense(4, activation="relu"), Dropout(0.5), Dense(3, activation="softmax")], SGD(0.1)),
    lambda: ([Dense(4, activation="tanh"), Dense(3, activation="softmax")], SGD(0.1)),
    lambda: ([Dense(4, activation="relu"), Dense(3, activation="softmax")], SGD(0.1, momentum=0.9)),
    lambda: ([Dense(4, activation="relu"), Dense(3, activation="softmax")], Adam(0.01)),
    lambda: ([Dense(4, activation="relu"), Dense(3, activation="sigmoid")], SGD(0.1)),
])
def test_other_models_go_layer_by_layer(build):
    layers, opt = build()
    m = Sequential(layers, input_shape=(5,), seed=0)
    m.compile(optimizer=opt, loss="sparse_categorical_crossentropy")
    assert m._plan.kind(m) == plan_mod.LAYER_BY_LAYER
    m.train_on_batch(np.ones((4, 5), np.float32), [0, 1, 2, 0])  # and still trains


@pytest.mark.parametrize("labels", [[0, 3, 1, 0], [0, -1, 1, 0], [0.0, 1.0, 2.0, 2.0]])
def test_labels_are_checked_like_the_layer_by_layer_step(labels):
    m = _model(NETS["deep, linear and ReLU"][0](), (5,))
    before = m.get_weights()
    x = np.ones((4, 5), np.float32)
    if max(labels) < 3 and min(labels) >= 0:  # whole floats are accepted as class ids
        m.train_on_batch(x, np.array(labels))
        return
    with pytest.raises(ValueError, match="class ids"):
        m.train_on_batch(x, np.array(labels))
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)
