"""Sequences of any length, as in Keras: None on the time axis of the input shape builds a
model whose time dimension is free. The same weights predict, train and evaluate on any
length (checked against float64 loops written here from the formulas, and against a model
built for that one length); the declared sizes that are not free still refuse in a sentence;
.npz and .keras files keep the length free, and Keras's own file with a free length predicts
what Keras predicted on two lengths."""
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core import keras
from core.io import load_model, save_model
from core.keras import saving
from core.layers import LSTM, Dense, Embedding, Flatten, SimpleRNN
from core.model import Sequential
from core.optimizers import SGD

FIXTURES = Path(__file__).parent / "fixtures" / "keras"
LENGTHS = (1, 5, 50)


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def _rnn(x, w, u, b):
    h, out = np.zeros((len(x), u.shape[0])), []
    for s in range(x.shape[1]):
        h = np.tanh(x[:, s] @ w + h @ u + b)
        out.append(h)
    return np.stack(out, axis=1)


def _lstm(x, w, u, b):
    m = u.shape[0]
    h, c, out = np.zeros((len(x), m)), np.zeros((len(x), m)), []
    for s in range(x.shape[1]):
        z = x[:, s] @ w + h @ u + b
        i, f = _sig(z[:, :m]), _sig(z[:, m:2 * m])
        g, o = np.tanh(z[:, 2 * m:3 * m]), _sig(z[:, 3 * m:])
        c = f * c + i * g
        h = o * np.tanh(c)
        out.append(h)
    return np.stack(out, axis=1)


def _f64(model):
    return [w.astype(np.float64) for w in model.get_weights()]


def _many_to_many_reference(model, x):
    """SimpleRNN(seq) → LSTM(seq) → Dense, every step: (N, T, k)."""
    w = _f64(model)
    h = _lstm(_rnn(x.astype(np.float64), *w[0:3]), *w[3:6])
    return h @ w[6] + w[7]


def _free_model(seed=0):
    return Sequential([SimpleRNN(4, return_sequences=True), LSTM(3, return_sequences=True),
                       Dense(2)], input_shape=(None, 2), seed=seed)


@pytest.mark.parametrize("t", LENGTHS)
def test_one_model_predicts_every_length_as_the_formulas_do(t):
    model = _free_model()
    assert model.input_shape == (None, 2) and model.output_shape == (None, 2)
    x = np.random.default_rng(t).normal(size=(3, t, 2)).astype(np.float32)
    y = model.predict(x)
    assert y.shape == (3, t, 2)   # Dense after return_sequences answers at every step
    np.testing.assert_allclose(y, _many_to_many_reference(model, x), atol=2e-5)


def test_the_same_weights_answer_length_5_then_50_then_5_again():
    model = Sequential([LSTM(5), Dense(1)], input_shape=(None, 1), seed=3)
    rng = np.random.default_rng(0)
    short, long_ = (rng.normal(size=(4, t, 1)).astype(np.float32) for t in (5, 50))
    first = model.predict(short)
    w = _f64(model)
    np.testing.assert_allclose(model.predict(long_),
                               _lstm(long_.astype(np.float64), *w[:3])[:, -1] @ w[3] + w[4],
                               atol=2e-5)
    np.testing.assert_array_equal(model.predict(short), first)


def test_embedding_reads_ids_of_any_length():
    model = Sequential([Embedding(10, 3), SimpleRNN(4), Dense(2)], input_shape=(None,), seed=1)
    assert model.layers[0].output_shape == (None, 3)
    w = _f64(model)
    for t in (1, 7, 40):
        ids = np.random.default_rng(t).integers(0, 10, (5, t))
        want = _rnn(w[0][ids], *w[1:4])[:, -1] @ w[4] + w[5]
        np.testing.assert_allclose(model.predict(ids), want, atol=2e-5)


@pytest.mark.parametrize("t", (2, 9))
def test_a_training_step_on_any_length_is_the_step_a_model_built_for_that_length_takes(t):
    free = _free_model(seed=5)
    fixed = Sequential([SimpleRNN(4, return_sequences=True), LSTM(3, return_sequences=True),
                        Dense(2)], input_shape=(t, 2), seed=0)
    fixed.set_weights(free.get_weights())
    for m in (free, fixed):
        m.compile(SGD(0.1), "mean_squared_error")
    rng = np.random.default_rng(t)
    x = rng.normal(size=(6, t, 2)).astype(np.float32)
    y = rng.normal(size=(6, t, 2)).astype(np.float32)
    assert free.train_on_batch(x, y)["loss"] == pytest.approx(fixed.train_on_batch(x, y)["loss"])
    for a, b in zip(free.get_weights(), fixed.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_fit_and_evaluate_take_any_length_and_learn():
    model = Sequential([SimpleRNN(8), Dense(1)], input_shape=(None, 1), seed=0)
    model.compile(keras.optimizers.Adam(0.02), "mean_squared_error")
    rng = np.random.default_rng(0)
    data = {t: rng.uniform(-0.5, 0.5, (256, t, 1)).astype(np.float32) for t in (3, 6, 9)}
    before = model.evaluate(data[6], data[6].sum(axis=1))["loss"]
    for _ in range(8):
        for t, x in data.items():
            model.fit(x, x.sum(axis=1), epochs=1, batch_size=32, seed=t)
    assert model.evaluate(data[6], data[6].sum(axis=1))["loss"] < 0.2 * before


def test_sizes_that_are_not_free_still_refuse_in_a_sentence():
    model = _free_model()
    with pytest.raises(ValueError, match=r"expects inputs of shape \(batch, None, 2\), got "
                                         r"\(1, 4, 3\)"):
        model.predict(np.zeros((1, 4, 3), np.float32))
    with pytest.raises(ValueError, match="at least one time step"):
        model.predict(np.zeros((1, 0, 2), np.float32))
    model.compile("sgd", "mean_squared_error")
    with pytest.raises(ValueError, match=r"model gives 8 output values per sample"):
        model.fit(np.zeros((2, 4, 2)), np.zeros((2, 5, 2)))   # one label per step: 4, not 5
    fixed = Sequential([Flatten(), Dense(1)], input_shape=(5, 1))
    with pytest.raises(ValueError, match=r"expects inputs of shape \(batch, 5, 1\), got "
                                         r"\(1, 6, 1\)"):
        fixed.predict(np.zeros((1, 6, 1), np.float32))


def test_layers_that_need_the_length_refuse_a_free_one_by_name():
    with pytest.raises(ValueError, match="Flatten cannot read sequences of any length"):
        Sequential([Flatten(), Dense(1)], input_shape=(None, 1))
    with pytest.raises(ValueError, match="only the time axis"):
        Sequential([LSTM(2)], input_shape=(3, None))
    with pytest.raises(ValueError, match="how many features"):
        Sequential([Dense(2)], input_shape=(None,))


def test_keras_spellings_build_a_free_time_axis_and_summary_says_none(capsys):
    for model in (
            keras.Sequential([keras.Input(shape=(None, 3)), keras.layers.LSTM(4),
                              keras.layers.Dense(1)]),
            keras.Sequential([keras.layers.LSTM(4, input_shape=(None, 3)),
                              keras.layers.Dense(1)]),
            keras.Sequential([keras.layers.SimpleRNN(4, input_shape=(None, 3),
                                                     return_sequences=True),
                              keras.layers.Dense(1)])):
        assert model.input_shape == (None, 3)
        for t in (5, 50):
            assert model.predict(np.ones((2, t, 3), np.float32), verbose=0).shape[0] == 2
    model.summary()
    assert "(None, None, 4)" in capsys.readouterr().out


@pytest.mark.parametrize("ext", [".npz", ".keras"])
def test_saved_and_loaded_the_length_stays_free(tmp_path, ext):
    model = _free_model(seed=2)
    model.compile("adam", "mean_squared_error")
    path = save_model(model, tmp_path / f"free{ext}")
    back = load_model(path)
    assert back.input_shape == (None, 2) and back.output_shape == (None, 2)
    for t in (4, 30):
        x = np.random.default_rng(t).normal(size=(2, t, 2)).astype(np.float32)
        np.testing.assert_array_equal(back.predict(x), model.predict(x))
    back.fit(np.ones((2, 7, 2)), np.ones((2, 7, 2)), epochs=1)   # and trains on a new length


def test_our_keras_file_declares_the_free_length_as_keras_writes_it(tmp_path):
    model = _free_model()
    with zipfile.ZipFile(saving.save(model, tmp_path / "ours.keras")) as zf:
        ours = json.loads(zf.read("config.json"))
    with zipfile.ZipFile(FIXTURES / "free_length.keras") as zf:
        theirs = json.loads(zf.read("config.json"))
    assert ours["build_config"] == theirs["build_config"] == {"input_shape": [None, None, 2]}
    for a, b in zip(ours["config"]["layers"], theirs["config"]["layers"]):
        assert a["class_name"] == b["class_name"]
        assert a["config"].get("batch_shape") == b["config"].get("batch_shape")
        assert a.get("build_config") == b.get("build_config")


@pytest.mark.parametrize("name", ["free_length", "free_length_ids"])
@pytest.mark.parametrize("ext", [".keras", ".h5"])
def test_keras_files_with_a_free_length_predict_what_keras_predicted_on_two_lengths(name, ext):
    model = load_model(FIXTURES / f"{name}{ext}")
    assert model.input_shape[0] is None
    for t in (4, 9):
        x = np.load(FIXTURES / f"{name}_x{t}.npy")
        np.testing.assert_allclose(model.predict(x), np.load(FIXTURES / f"{name}_y{t}.npy"),
                                   atol=1e-5)


def test_the_model_inspector_shows_a_free_length_as_none():
    pytest.importorskip("PySide6")
    from gui.model_inspector import layer_rows

    rows = layer_rows(load_model(FIXTURES / "free_length.keras"))
    assert [r[2] for r in rows] == ["(batch, None, 4)", "(batch, None, 3)", "(batch, None, 2)"]


def test_the_keras_code_view_writes_a_free_length_as_none():
    from core.teaching.keras_code import keras_code_for_model

    model = Sequential([SimpleRNN(2), Dense(1)], input_shape=(None, 1))
    model.compile("adam", "mean_squared_error")
    code = keras_code_for_model(model, epochs=1, batch_size=32, dataset=None)
    assert "keras.Input(shape=(None, 1))," in code
