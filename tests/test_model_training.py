"""Sequential against plain-NumPy backprop, the optimizers' rules, callbacks and stopping."""
import numpy as np
import pytest

from core.callbacks import Callback, EarlyStopping, LambdaCallback
from core.layers import Conv2D, Dense, Dropout, Flatten, MaxPool2D, AvgPool2D, Tanh
from core.model import Sequential
from core.optimizers import SGD, Adam


def numpy_mlp_grads(x, y, w1, b1, w2, b2):
    """Textbook backprop for Dense(tanh) → Dense(softmax) + sparse cross-entropy, float64."""
    x = x.astype(np.float64)
    z1 = x @ w1 + b1
    a1 = np.tanh(z1)
    z2 = a1 @ w2 + b2
    e = np.exp(z2 - z2.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    n = len(x)
    loss = -np.mean(np.log(p[np.arange(n), y]))
    dz2 = p.copy()
    dz2[np.arange(n), y] -= 1
    dz2 /= n
    dw2 = a1.T @ dz2
    db2 = dz2.sum(0)
    da1 = dz2 @ w2.T
    dz1 = da1 * (1 - a1 ** 2)
    return loss, [x.T @ dz1, dz1.sum(0), dw2, db2]


def make_mlp(seed=0, lr=0.1, momentum=0.0):
    m = Sequential([Dense(5, activation="tanh"), Dense(3, activation="softmax")],
                   input_shape=(4,), seed=seed)
    m.compile(optimizer=SGD(lr, momentum=momentum), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
    return m


def test_trace_gradients_equal_numpy_backprop():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 4)).astype(np.float32)
    y = rng.integers(0, 3, 6)
    m = make_mlp()
    w = [a.astype(np.float64) for a in m.get_weights()]
    ref_loss, ref_grads = numpy_mlp_grads(x, y, *w)
    tr = m.trace_step(x, y)
    assert tr.loss == pytest.approx(ref_loss, rel=1e-5)
    got = [tr.layers[0].param_grads["kernel"], tr.layers[0].param_grads["bias"],
           tr.layers[1].param_grads["kernel"], tr.layers[1].param_grads["bias"]]
    for g, r in zip(got, ref_grads):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-6)
    # the record chains: what leaves layer 1 is what arrives at layer 0
    np.testing.assert_allclose(tr.layers[1].grad_input, tr.layers[0].grad_output)
    np.testing.assert_allclose(tr.layers[1].input, tr.layers[0].output)
    # SGD: update = −η·g, and the model now holds params + update
    after = m.get_weights()
    for before, g, new in zip(w, ref_grads, after):
        np.testing.assert_allclose(new, before - 0.1 * g, rtol=1e-4, atol=1e-6)
    assert tr.layers[0].pre_activation.shape == (6, 5)
    assert tr.layers[0].activation == "tanh"
    # ∂L/∂z of the hidden layer: ∂L/∂a · (1 − tanh²z), by hand from the recorded values
    a1 = np.tanh(tr.layers[0].pre_activation)
    np.testing.assert_allclose(tr.layers[0].grad_pre_activation,
                               tr.layers[0].grad_output * (1 - a1 ** 2), rtol=1e-4, atol=1e-7)


def test_trace_records_unfused_gradient_of_prediction():
    x = np.array([[0.5, -1.0, 2.0, 0.1]], np.float32)
    m = make_mlp()
    tr = m.trace_step(x, np.array([2]))
    p = tr.y_pred[0]
    # Keras's form L = −log(p_y / Σp): ∂L/∂p_k = 1/Σp − [k = y]/p_y, with Σp = 1
    expected = np.ones(3)
    expected[2] -= 1.0 / p[2]
    np.testing.assert_allclose(tr.grad_prediction[0], expected, rtol=1e-4)
    # the fused ∂L/∂z equals p − onehot
    np.testing.assert_allclose(tr.layers[1].grad_pre_activation[0], p - [0, 0, 1], atol=1e-6)


def test_momentum_and_adam_follow_their_rules():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(8, 4)).astype(np.float32)
    y = rng.integers(0, 3, 8)
    m = make_mlp(momentum=0.9)
    w0 = [a.astype(np.float64) for a in m.get_weights()]
    _, g0 = numpy_mlp_grads(x, y, *w0)
    m.train_on_batch(x, y)
    w1 = [a.astype(np.float64) for a in m.get_weights()]
    _, g1 = numpy_mlp_grads(x, y, *w1)
    m.train_on_batch(x, y)
    for a0, a1, a2, d0, d1 in zip(w0, w1, m.get_weights(), g0, g1):
        v1 = -0.1 * d0
        v2 = 0.9 * v1 - 0.1 * d1
        np.testing.assert_allclose(a1, a0 + v1, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(a2, a1 + v2, rtol=1e-4, atol=1e-6)

    m = make_mlp()
    m.compile(optimizer=Adam(0.01), loss="sparse_categorical_crossentropy")
    w0 = [a.astype(np.float64) for a in m.get_weights()]
    _, g = numpy_mlp_grads(x, y, *w0)
    m.train_on_batch(x, y)
    for a0, a1, d in zip(w0, m.get_weights(), g):
        mom, vel = 0.1 * d, 0.001 * d * d
        step = 0.01 * np.sqrt(1 - 0.999) / (1 - 0.9)
        np.testing.assert_allclose(a1, a0 - step * mom / (np.sqrt(vel) + 1e-7),
                                   rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize("batch_size, steps", [(None, 1), (20, 1), (1, 20), (6, 4), (64, 1)])
def test_batch_size_chooses_batch_stochastic_or_minibatch(batch_size, steps):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(20, 4)).astype(np.float32)
    y = rng.integers(0, 3, 20)
    sizes = []
    m = make_mlp()
    m.fit(x, y, epochs=2, batch_size=batch_size,
          callbacks=[LambdaCallback(on_batch_end=lambda b, logs: sizes.append(logs["size"]))])
    assert len(sizes) == 2 * steps
    assert sum(sizes) == 40


def test_callback_can_stop_training_after_a_batch():
    class StopAfter(Callback):
        def __init__(self):
            super().__init__()
            self.seen = 0

        def on_batch_end(self, batch, logs=None):
            self.seen += 1
            if self.seen == 3:
                self.model.stop_training = True

    x = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    y = np.zeros(50, int)
    cb = StopAfter()
    hist = make_mlp().fit(x, y, epochs=5, batch_size=5, callbacks=[cb])
    assert cb.seen == 3
    assert len(hist.epoch) == 1
    assert hist.stop_reason and "request" in hist.stop_reason


def test_exploding_loss_stops_with_reason_and_keeps_finite_weights():
    rng = np.random.default_rng(4)
    x = (rng.normal(size=(64, 4)) * 100).astype(np.float32)
    y = (x[:, :1] * 3).astype(np.float32)
    m = Sequential([Dense(8, activation="relu"), Dense(1)], input_shape=(4,), seed=0)
    m.compile(optimizer=SGD(10.0), loss="mean_squared_error")
    hist = m.fit(x, y, epochs=50, batch_size=8)
    assert hist.stop_reason is not None
    # stopped as the loss exploded (issue 13 item 6), or at the latest when it overflowed
    assert any(w in hist.stop_reason for w in ("NaN", "infinite", "diverging"))
    assert "learning rate" in hist.stop_reason
    assert len(hist.epoch) < 50
    assert all(np.all(np.isfinite(w)) for w in m.get_weights())


def test_history_has_training_and_validation_curves():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(60, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int)
    m = make_mlp(lr=0.5)
    hist = m.fit(x[:40], y[:40], epochs=8, batch_size=10, validation_data=(x[40:], y[40:]),
                 seed=0)
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 8 for v in hist.history.values())
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    ev = m.evaluate(x[40:], y[40:])
    assert ev["loss"] == pytest.approx(hist.history["val_loss"][-1], rel=1e-5)
    p = m.predict(x[40:])
    acc = np.mean(p.argmax(1) == y[40:])
    assert ev["accuracy"] == pytest.approx(acc)


def test_early_stopping_stops_when_validation_stalls():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(40, 4)).astype(np.float32)
    y = rng.integers(0, 3, 40)   # noise: validation loss cannot keep improving
    m = make_mlp(lr=1.0)
    hist = m.fit(x[:20], y[:20], epochs=200, batch_size=20, validation_data=(x[20:], y[20:]),
                 callbacks=[EarlyStopping(patience=2)])
    assert len(hist.epoch) < 200
    assert "early stopping" in hist.stop_reason


def test_same_seed_same_run():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(30, 4)).astype(np.float32)
    y = rng.integers(0, 3, 30)

    def run():
        m = Sequential([Dense(6, activation="relu"), Dropout(0.3), Dense(3, activation="softmax")],
                       input_shape=(4,), seed=11)
        m.compile(SGD(0.1), "sparse_categorical_crossentropy")
        return m.fit(x, y, epochs=3, batch_size=4, seed=5).history["loss"]

    assert run() == run()


def test_finite_differences_through_a_small_cnn():
    """Every layer type chained: the model's analytic gradients against centred differences."""
    rng = np.random.default_rng(8)
    # seed 27: no max-pool window holds a near-tie, so max is smooth within ±eps
    x = np.random.default_rng(27).normal(size=(2, 7, 7, 2)).astype(np.float32)
    y = np.array([1, 0])
    m = Sequential([Conv2D(3, 3, padding="same", activation="tanh"), MaxPool2D(2),
                    Conv2D(2, 2, strides=1), Tanh(), AvgPool2D(1), Flatten(),
                    Dense(2, activation="softmax")], input_shape=(7, 7, 2), seed=3)
    m.compile(SGD(1e-9), "sparse_categorical_crossentropy")
    tr = m.trace_step(x, y)
    weights = m.get_weights()
    windows = np.sort(tr.layers[0].output[:, :6, :6].reshape(2, 3, 2, 3, 2, 3)
                      .transpose(0, 1, 3, 5, 2, 4).reshape(-1, 4), axis=1)
    assert (windows[:, -1] - windows[:, -2]).min() > 0.05
    eps = 1e-3

    def loss_at(ws):
        m.set_weights(ws)
        return m.evaluate(x, y)["loss"]

    grads = [g for rec in tr.layers for g in rec.param_grads.values()]
    for wi in range(len(weights)):
        flat = weights[wi].reshape(-1)
        for j in rng.choice(flat.size, size=min(4, flat.size), replace=False):
            plus = [w.copy() for w in weights]
            minus = [w.copy() for w in weights]
            plus[wi].reshape(-1)[j] += eps
            minus[wi].reshape(-1)[j] -= eps
            fd = (loss_at(plus) - loss_at(minus)) / (2 * eps)
            assert grads[wi].reshape(-1)[j] == pytest.approx(fd, rel=5e-2, abs=2e-4)


def test_summary_count_params_and_keras_weight_order():
    m = Sequential([Dense(128, activation="relu"), Dense(10, activation="softmax")],
                   input_shape=(784,))
    assert m.count_params() == 784 * 128 + 128 + 128 * 10 + 10
    assert [w.shape for w in m.get_weights()] == [(784, 128), (128,), (128, 10), (10,)]
    s = m.summary()
    assert "dense (Dense)" in s and "dense_1 (Dense)" in s and "101,770" in s
    c = Sequential([Conv2D(32, 3, activation="relu"), MaxPool2D(), Flatten(), Dense(10)],
                   input_shape=(28, 28, 1))
    assert [w.shape for w in c.get_weights()] == [(3, 3, 1, 32), (32,), (13 * 13 * 32, 10), (10,)]
    assert c.layers[1].output_shape == (13, 13, 32)


def test_wrong_inputs_give_clear_messages():
    m = make_mlp()
    with pytest.raises(ValueError, match="shape"):
        m.predict(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="targets"):
        m.fit(np.zeros((3, 4)), np.zeros(2, int))
    with pytest.raises(ValueError, match="class ids"):
        m.train_on_batch(np.zeros((2, 4)), np.array([0, 7]))
    with pytest.raises(ValueError, match="Flatten"):
        Sequential([Dense(3)], input_shape=(28, 28, 1))
    with pytest.raises(ValueError, match="learning_rate"):
        SGD(-1)
    with pytest.raises(ValueError, match="unknown loss"):
        m.compile("sgd", "hinge_of_doom")
    with pytest.raises(ValueError, match="compile"):
        Sequential([Dense(2)], input_shape=(2,)).fit(np.zeros((2, 2)), np.zeros(2))


def test_input_gradient_matches_finite_differences():
    rng = np.random.default_rng(9)
    m = Sequential([Dense(4, activation="tanh"), Dense(3, activation="softmax")],
                   input_shape=(5,), seed=1)
    x = rng.normal(size=(1, 5)).astype(np.float32)
    g = m.input_gradient(x, output_index=2)
    eps = 1e-2
    for j in range(5):
        xp, xm = x.copy(), x.copy()
        xp[0, j] += eps
        xm[0, j] -= eps
        fd = (m.predict(xp)[0, 2] - m.predict(xm)[0, 2]) / (2 * eps)
        assert g[0, j] == pytest.approx(fd, rel=2e-2, abs=1e-4)


def test_divergence_with_nan_predictions_reports_the_reason_not_a_metric_error():
    rng = np.random.default_rng(10)
    x = rng.normal(size=(64, 4)).astype(np.float32) * 50
    y = rng.integers(0, 3, 64)
    m = Sequential([Dense(16), Dense(3, activation="softmax")], input_shape=(4,), seed=0)
    m.compile(SGD(1e12), "sparse_categorical_crossentropy", ["accuracy"])
    hist = m.fit(x, y, epochs=20, batch_size=8, validation_data=(x, y))
    assert hist.stop_reason is not None and "learning rate" in hist.stop_reason
    assert all(np.all(np.isfinite(w)) for w in m.get_weights())


def test_adam_in_place_update_equals_the_numpy_rule_bit_for_bit():
    """The in-place Adam kernel gives what Keras's Adam formulas give in float32 NumPy,
    bit for bit (moments, bias-corrected step, epsilon outside the square root), over
    steps where the bias correction still changes."""
    import math

    rng = np.random.default_rng(4)
    params = [rng.standard_normal((9, 4)).astype(np.float32), rng.standard_normal(4).astype(np.float32)]
    p_ref = [p.copy() for p in params]
    m_ref = [np.zeros_like(p) for p in params]
    v_ref = [np.zeros_like(p) for p in params]
    lr, b1, b2, eps = 0.01, np.float32(0.9), np.float32(0.999), np.float32(1e-7)
    opt = Adam(lr)
    for t in range(1, 6):
        grads = [(rng.standard_normal(p.shape) * 10.0 ** rng.integers(-3, 3)).astype(np.float32)
                 for p in params]
        assert opt.apply(params, grads, return_updates=False) is None
        step = np.float32(lr * math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t))
        for p, m, v, g in zip(p_ref, m_ref, v_ref, grads):
            m[...] = m * b1 + (np.float32(1) - b1) * g
            v[...] = v * b2 + (np.float32(1) - b2) * g * g
            p += (-step * m) / (np.sqrt(v) + eps)
        for p, want in zip(params, p_ref):
            np.testing.assert_array_equal(p, want)
    assert opt.iterations == 5


@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_in_place_update_equals_the_numpy_rule(momentum, nesterov):
    """The fast in-place SGD path gives bit-for-bit what the plain NumPy formulas give."""
    from core.optimizers import SGD

    rng = np.random.default_rng(3)
    params = [rng.standard_normal((7, 5)).astype(np.float32), rng.standard_normal(5).astype(np.float32)]
    p_ref = [p.copy() for p in params]
    v_ref = [np.zeros_like(p) for p in params]
    lr, mu = np.float32(0.05), np.float32(momentum)
    opt = SGD(0.05, momentum=momentum, nesterov=nesterov)
    for _ in range(3):
        grads = [rng.standard_normal(p.shape).astype(np.float32) for p in params]
        assert opt.apply(params, grads, return_updates=False) is None
        for p, v, g in zip(p_ref, v_ref, grads):
            if momentum == 0.0:
                p += -lr * g
            else:
                v[...] = v * mu - lr * g
                p += (mu * v - lr * g) if nesterov else v
    for p, want in zip(params, p_ref):
        np.testing.assert_array_equal(p, want)
