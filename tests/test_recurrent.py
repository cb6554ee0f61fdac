"""SimpleRNN, LSTM and Embedding against plain float64 loops written here from the formulas,
and their gradients (backpropagation through time) against centred finite differences."""
import numpy as np
import pytest

from core.io import load_model, save_model
from core.layers import LSTM, Dense, Embedding, Flatten, SimpleRNN
from core.model import Sequential
from core.optimizers import Adam


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def rnn_ref(x, w, u, b):
    n, t, _ = x.shape
    h = np.zeros((n, u.shape[0]))
    out = []
    for s in range(t):
        h = np.tanh(x[:, s] @ w + h @ u + b)
        out.append(h)
    return np.stack(out, axis=1)


def lstm_ref(x, w, u, b):
    n, t, _ = x.shape
    m = u.shape[0]
    h, c = np.zeros((n, m)), np.zeros((n, m))
    out = []
    for s in range(t):
        z = x[:, s] @ w + h @ u + b
        i, f, g, o = sig(z[:, :m]), sig(z[:, m:2 * m]), np.tanh(z[:, 2 * m:3 * m]), sig(z[:, 3 * m:])
        c = f * c + i * g
        h = o * np.tanh(c)
        out.append(h)
    return np.stack(out, axis=1)


REFS = {SimpleRNN: rnn_ref, LSTM: lstm_ref}


def _layer(cls, f, units, t, return_sequences, seed=0):
    layer = cls(units, return_sequences=return_sequences)
    layer.build((t, f), np.random.default_rng(seed))
    # larger weights than the initialisation, so every gate works in its curved part
    rng = np.random.default_rng(seed + 1)
    for key, p in layer.params.items():
        p[...] = rng.normal(0, 0.6, p.shape)
    return layer


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM])
@pytest.mark.parametrize("n,t,f,units", [(1, 1, 1, 1), (3, 5, 4, 6), (2, 17, 3, 2), (4, 28, 28, 8)])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_forward_matches_the_formula(cls, n, t, f, units, return_sequences):
    layer = _layer(cls, f, units, t, return_sequences)
    x = np.random.default_rng(2).normal(size=(n, t, f)).astype(np.float32)
    want = REFS[cls](x.astype(np.float64), *(layer.params[k].astype(np.float64)
                                             for k in ("kernel", "recurrent_kernel", "bias")))
    got = layer.forward(x)
    np.testing.assert_allclose(got, want if return_sequences else want[:, -1], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM])
@pytest.mark.parametrize("n,t,f,units,return_sequences",
                         [(2, 1, 2, 3, False), (2, 6, 3, 4, False), (3, 4, 2, 3, True)])
def test_backprop_through_time_matches_finite_differences(cls, n, t, f, units, return_sequences):
    layer = _layer(cls, f, units, t, return_sequences, seed=3)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(n, t, f))
    out_shape = (n, t, units) if return_sequences else (n, units)
    r = rng.normal(size=out_shape)          # L = Σ r · output: dL/doutput = r
    params = {k: v.astype(np.float64) for k, v in layer.params.items()}

    def loss(x_, p):
        h = REFS[cls](x_, p["kernel"], p["recurrent_kernel"], p["bias"])
        return float(np.sum(r * (h if return_sequences else h[:, -1])))

    layer.forward(x.astype(np.float32))
    dx = layer.backward(r.astype(np.float32))
    eps = 1e-6
    for key, p in params.items():
        num = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + eps
            up = loss(x, params)
            p[idx] = old - eps
            down = loss(x, params)
            p[idx] = old
            num[idx] = (up - down) / (2 * eps)
        np.testing.assert_allclose(layer.grads[key], num, rtol=2e-3, atol=2e-4, err_msg=key)
    num_x = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        up = loss(x, params)
        x[idx] = old - eps
        down = loss(x, params)
        x[idx] = old
        num_x[idx] = (up - down) / (2 * eps)
    np.testing.assert_allclose(dx, num_x, rtol=2e-3, atol=2e-4)


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM])
def test_two_hundred_steps_stay_finite_and_record_every_step(cls):
    layer = _layer(cls, 3, 5, 200, False, seed=5)
    x = np.random.default_rng(6).normal(0, 3, size=(2, 200, 3)).astype(np.float32)
    out = layer.forward(x)
    dx = layer.backward(np.ones_like(out))
    assert np.isfinite(out).all() and np.isfinite(dx).all()
    assert all(np.isfinite(g).all() for g in layer.grads.values())
    extras = layer.trace_extras()
    assert extras["hidden_states"].shape == (2, 200, 5)
    assert extras["grad_hidden_states"].shape == (2, 200, 5)
    if cls is LSTM:
        for gate in ("input_gate", "forget_gate", "candidate", "output_gate", "cell_states"):
            assert extras[gate].shape == (2, 200, 5)
        assert ((extras["forget_gate"] > 0) & (extras["forget_gate"] < 1)).all()


def test_keras_weight_shapes_and_lstm_forget_bias():
    lstm = LSTM(4)
    lstm.build((7, 3), np.random.default_rng(0))
    assert [p.shape for p in lstm.get_weights()] == [(3, 16), (4, 16), (16,)]
    np.testing.assert_array_equal(lstm.params["bias"], [0] * 4 + [1] * 4 + [0] * 8)
    u = lstm.params["recurrent_kernel"]
    np.testing.assert_allclose(u @ u.T, np.eye(4), atol=1e-5)   # orthogonal rows
    rnn = SimpleRNN(6)
    rnn.build((7, 3), np.random.default_rng(0))
    assert [p.shape for p in rnn.get_weights()] == [(3, 6), (6, 6), (6,)]


def test_embedding_looks_up_rows_and_repeated_ids_add_their_gradients():
    emb = Embedding(5, 3)
    emb.build((4,), np.random.default_rng(0))
    ids = np.array([[1, 1, 4, 0], [1, 2, 2, 1]])
    out = emb.forward(ids.astype(np.float32))
    np.testing.assert_array_equal(out, emb.params["embeddings"][ids])
    dy = np.random.default_rng(1).normal(size=out.shape).astype(np.float32)
    emb.backward(dy)
    want = np.zeros((5, 3))
    for (n, t), i in np.ndenumerate(ids):
        want[i] += dy[n, t]
    np.testing.assert_allclose(emb.grads["embeddings"], want, rtol=1e-6)
    with pytest.raises(ValueError, match="0…4"):
        emb.forward(np.array([[5, 0, 0, 0]]))


def test_a_recurrent_network_learns_a_task_that_needs_memory_and_saves(tmp_path):
    """Was the first step's value positive? Only a state carried across 8 steps knows."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(256, 8, 1)).astype(np.float32)
    y = (x[:, 0, 0] > 0).astype(np.int64)
    model = Sequential([LSTM(8), Dense(2, activation="softmax")], input_shape=(8, 1), seed=0)
    model.compile(optimizer=Adam(0.02), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=40, batch_size=32, seed=0)
    assert history.history["accuracy"][-1] > 0.9
    save_model(model, tmp_path / "lstm.npz")
    back = load_model(tmp_path / "lstm.npz")
    np.testing.assert_array_equal(back.predict(x[:5]), model.predict(x[:5]))
    record = model.trace_step(x[:4], y[:4])
    assert record.layers[0].extras["hidden_states"].shape == (4, 8, 8)


def test_embedding_then_rnn_then_dense_in_one_model():
    rng = np.random.default_rng(8)
    ids = rng.integers(0, 10, (64, 6))
    y = (ids[:, -1] >= 5).astype(np.int64)
    model = Sequential([Embedding(10, 4), SimpleRNN(8, return_sequences=True), Flatten(),
                        Dense(2, activation="softmax")], input_shape=(6,), seed=0)
    model.compile(optimizer=Adam(0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(ids, y, epochs=30, batch_size=16, seed=0)
    assert history.history["accuracy"][-1] > 0.9


def test_clipnorm_and_clipvalue_clip_as_keras_does():
    from core.optimizers import SGD

    w = np.zeros(4, np.float32)
    g = np.array([3.0, 4.0, 0.0, 0.0], np.float32)   # norm 5
    SGD(1.0, clipnorm=1.0).apply([w], [g])
    np.testing.assert_allclose(w, [-0.6, -0.8, 0, 0], rtol=1e-6)
    w[:] = 0
    SGD(1.0, clipvalue=3.5).apply([w], [g])
    np.testing.assert_allclose(w, [-3.0, -3.5, 0, 0])
    assert SGD(0.1, clipnorm=1.0).fused_rule() is None   # the compiled dense step cannot clip
    assert SGD(0.1).fused_rule() is not None


def test_recurrent_layers_through_core_keras():
    from core import keras

    model = keras.Sequential([keras.layers.LSTM(16, input_shape=(28, 28)),
                              keras.layers.Dense(10, activation="softmax")])
    assert model.output_shape == (10,) and model.count_params() == 4 * 16 * (28 + 16 + 1) + 170
    model.compile(optimizer=keras.optimizers.Adam(clipnorm=1.0),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).random((8, 28, 28), dtype=np.float32)
    model.fit(x, np.arange(8), epochs=1, verbose=0)
    with pytest.raises(NotImplementedError, match="return_state"):
        keras.layers.LSTM(4, return_state=True)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "linear"])
def test_simple_rnn_with_another_activation_matches_finite_differences(activation):
    f = {"relu": lambda z: np.maximum(z, 0), "sigmoid": sig, "linear": lambda z: z}[activation]
    layer = SimpleRNN(3, activation=activation)
    layer.build((4, 2), np.random.default_rng(0))
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 4, 2))
    r = rng.normal(size=(2, 3))
    p = {k: v.astype(np.float64) for k, v in layer.params.items()}

    def loss(p):
        h = np.zeros((2, 3))
        for s in range(4):
            h = f(x[:, s] @ p["kernel"] + h @ p["recurrent_kernel"] + p["bias"])
        return float(np.sum(r * h))

    out = layer.forward(x.astype(np.float32))
    layer.backward(r.astype(np.float32))
    np.testing.assert_allclose(np.sum(r * out), loss(p), rtol=1e-4)
    w = p["recurrent_kernel"]
    num = np.zeros_like(w)
    for idx in np.ndindex(w.shape):
        old = w[idx]
        w[idx] = old + 1e-6
        up = loss(p)
        w[idx] = old - 1e-6
        down = loss(p)
        w[idx] = old
        num[idx] = (up - down) / 2e-6
    np.testing.assert_allclose(layer.grads["recurrent_kernel"], num, rtol=2e-3, atol=2e-5)
    assert SimpleRNN.from_config(layer.get_config()).activation.name == activation if \
        activation != "linear" else SimpleRNN.from_config(layer.get_config()).activation is None
