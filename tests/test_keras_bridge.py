"""`from core import keras`: the course's Keras code runs on the engine with Keras's names,
arguments, return values and printed progress. Numbers are checked against plain NumPy."""
import glob
import os
import struct

import numpy as np
import pytest

from core import keras
from core.keras import datasets, layers, models  # noqa: F401  (tutorial 24's import form)


def _digits(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 6, 6)).astype(np.float32)
    y = (x[:, :3].sum(axis=(1, 2)) > x[:, 3:].sum(axis=(1, 2))).astype(np.int64)
    return x, y


def test_input_shape_on_the_first_layer_builds_the_model_as_in_the_course():
    model = keras.Sequential([keras.layers.Flatten(input_shape=(28, 28)),
                              keras.layers.Dense(100, activation="relu"),
                              keras.layers.Dense(10, activation="sigmoid")])
    assert model.built and model.output_shape == (10,)
    assert model.count_params() == 784 * 100 + 100 + 100 * 10 + 10
    single = keras.Sequential(keras.layers.Dense(10, input_shape=(784,), activation="sigmoid"))
    assert single.built and single.count_params() == 7850
    dim = keras.Sequential([keras.layers.Dense(4, input_dim=3)])
    assert dim.layers[0].params["kernel"].shape == (3, 4)
    added = keras.Sequential()
    added.add(keras.Input(shape=(5,)))
    added.add(keras.layers.Dense(2))
    assert added.built and added.output_shape == (2,)


def test_fit_prints_keras_progress_lines_and_returns_keras_history_keys(capsys):
    x, y = _digits()
    model = keras.Sequential([keras.layers.Flatten(input_shape=(6, 6)),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, batch_size=50, validation_data=(x[:20], y[:20]))
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "4/4 [==============================]" in out and "val_accuracy:" in out
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.history["loss"]) == 2
    model.fit(x, y, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(x, y, epochs=1, verbose=2)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln]
    assert lines[0] == "Epoch 1/1" and lines[1].startswith("7/7 - ") and "loss:" in lines[1]


def test_evaluate_returns_a_list_a_float_or_a_dict_as_keras_does(capsys):
    x, y = _digits()
    model = keras.Sequential([keras.layers.Flatten(input_shape=(6, 6)),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, acc = model.evaluate(x, y, verbose=0)
    p = model.predict(x, verbose=0).astype(np.float64)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(len(y)), y])), rel=1e-5)
    assert acc == pytest.approx(np.mean(p.argmax(1) == y))
    assert model.evaluate(x, y, verbose=0, return_dict=True) == {"loss": loss, "accuracy": acc}
    model.evaluate(x, y)
    assert "7/7 [==============================]" in capsys.readouterr().out
    bare = keras.Sequential([keras.layers.Dense(1, input_shape=(3,))])
    bare.compile(optimizer="sgd", loss="mse")
    assert isinstance(bare.evaluate(np.ones((4, 3)), np.zeros(4), verbose=0), float)


def test_validation_split_holds_back_the_last_samples_before_shuffling():
    x, y = _digits(100)
    model = keras.Sequential([keras.layers.Flatten(input_shape=(6, 6)),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=1, validation_split=0.25, verbose=0)
    loss, acc = model.evaluate(x[75:], y[75:], verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(loss)
    assert history.history["val_accuracy"][0] == pytest.approx(acc)


def test_from_logits_trains_exactly_as_a_softmax_output_would():
    """A linear output with from_logits=True computes the same loss and gradient as the
    same network with a softmax output: after the same steps, the same weights."""
    x, y = _digits(64)
    a = keras.Sequential([keras.layers.Flatten(input_shape=(6, 6)), keras.layers.Dense(2)], seed=0)
    b = keras.Sequential([keras.layers.Flatten(input_shape=(6, 6)),
                          keras.layers.Dense(2, activation="softmax")], seed=0)
    b.set_weights(a.get_weights())
    a.compile(optimizer=keras.optimizers.SGD(0.5),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    b.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    z = a.predict(x, verbose=0).astype(np.float64)
    ref = np.mean(np.log(np.exp(z).sum(1)) - z[np.arange(len(y)), y])
    assert a.evaluate(x, y, verbose=0) == pytest.approx(ref, rel=1e-5)
    a.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
    b.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)


def test_unscaled_pixels_through_a_sigmoid_output_train_without_an_error():
    """Tutorial 7 without scaling: 0–255 inputs, sigmoid outputs, sparse cross-entropy.
    Every output saturates to 0; Keras clips each to [1e-7, 1 − 1e-7] before renormalising."""
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (64, 784)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    model = keras.Sequential([keras.layers.Dense(10, input_shape=(784,), activation="sigmoid")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    # the engine's own loss on saturated outputs (what raised ZeroDivisionError): each
    # score clipped first, then the row renormalised, as TensorFlow does
    from core.losses import SparseCategoricalCrossentropy

    p = np.zeros((3, 10), np.float32)
    p[1, 4] = 1.0
    want = -np.log(np.float64(1e-7) / (10 * 1e-7))
    got = SparseCategoricalCrossentropy()(np.array([2, 3, 5]), p)
    c = np.clip(p.astype(np.float64), 1e-7, 1 - 1e-7)
    assert got == pytest.approx(np.mean(-np.log(c[[0, 1, 2], [2, 3, 5]] / c.sum(1))), rel=1e-5)
    assert np.isfinite(got) and want > 0


def test_a_frozen_keras_layer_keeps_its_weights_and_reused_layers_keep_theirs():
    x, y = _digits()
    base = keras.Sequential([keras.layers.Flatten(input_shape=(6, 6)),
                             keras.layers.Dense(8, activation="relu"),
                             keras.layers.Dense(2, activation="softmax")])
    base.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    base.fit(x, y, epochs=2, verbose=0)
    trained = base.layers[1].get_weights()
    features = base.layers[1]
    features.trainable = False
    head = keras.Sequential([base.layers[0], features,
                             keras.layers.Dense(2, activation="softmax", name="new_head")])
    for w, v in zip(head.layers[1].get_weights(), trained):
        np.testing.assert_array_equal(w, v)   # reusing a layer does not re-initialise it
    head.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    head.fit(x, y, epochs=2, verbose=0)
    for w, v in zip(features.get_weights(), trained):
        np.testing.assert_array_equal(w, v)
    frozen = keras.layers.Dense(3, input_shape=(4,), trainable=False)
    assert frozen.trainable is False


def test_early_stopping_counts_patience_as_keras_does():
    """patience=2: the second epoch in a row without improvement is the last one."""
    x, y = _digits(40)
    model = keras.Sequential([keras.layers.Flatten(input_shape=(6, 6)),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(1e-12), loss="sparse_categorical_crossentropy")
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=2, min_delta=1e-3)
    history = model.fit(x, y, epochs=20, verbose=0, callbacks=[stop])
    assert len(history.epoch) == 3   # epoch 1 improves on nothing; 2 and 3 do not improve


def _events(folder):
    from tensorboardX.proto import event_pb2

    found = {}
    for path in glob.glob(os.path.join(folder, "events.out.tfevents.*")):
        data = open(path, "rb").read()
        i = 0
        while i < len(data):
            (length,) = struct.unpack("<Q", data[i:i + 8])
            event = event_pb2.Event.FromString(data[i + 12:i + 12 + length])
            i += 12 + length + 4
            for v in event.summary.value:
                found.setdefault(v.tag, []).append((event.step, v.simple_value))
    return found


def test_tensorboard_writes_train_and_validation_runs_with_keras_tags(tmp_path):
    x, y = _digits()
    model = keras.Sequential([keras.layers.Flatten(input_shape=(6, 6)),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, verbose=0, validation_split=0.2,
                        callbacks=[keras.callbacks.TensorBoard(log_dir=tmp_path / "logs")])
    train = _events(tmp_path / "logs" / "train")
    val = _events(tmp_path / "logs" / "validation")
    assert [s for s, _ in train["epoch_loss"]] == [0, 1]
    assert train["epoch_accuracy"][1][1] == pytest.approx(history.history["accuracy"][1], rel=1e-6)
    assert val["epoch_loss"][0][1] == pytest.approx(history.history["val_loss"][0], rel=1e-6)


def test_rmsprop_follows_keras_rule():
    from core.optimizers import RMSprop

    w = np.array([1.0, -2.0], np.float32)
    g = np.array([0.5, 0.25], np.float32)
    opt = RMSprop(0.01)
    v = np.zeros(2)
    ref = w.astype(np.float64)
    for _ in range(3):
        opt.apply([w], [g])
        v = 0.9 * v + 0.1 * g.astype(np.float64) ** 2
        ref = ref - 0.01 * g / np.sqrt(v + 1e-7)
    np.testing.assert_allclose(w, ref, rtol=1e-5)
    assert isinstance(keras.optimizers.get("rmsprop"), RMSprop)


def test_to_categorical_matches_one_hot_rows():
    y = np.array([0, 2, 1, 2])
    np.testing.assert_array_equal(keras.utils.to_categorical(y), np.eye(3)[y])
    assert keras.utils.to_categorical(y, num_classes=5).shape == (4, 5)
    assert keras.utils.to_categorical(y.reshape(-1, 1)).shape == (4, 3)
    with pytest.raises(ValueError):
        keras.utils.to_categorical(np.array([0.5]))


def test_what_the_engine_cannot_do_is_refused_by_name():
    with pytest.raises(NotImplementedError, match="kernel_initializer"):
        keras.layers.Dense(3, kernel_initializer="he_normal")
    with pytest.raises(NotImplementedError, match="use_bias"):
        keras.layers.Conv2D(3, 3, use_bias=False)
    with pytest.raises(NotImplementedError, match="amsgrad"):
        keras.optimizers.Adam(amsgrad=True)
    with pytest.raises(NotImplementedError, match="interpolation"):
        keras.layers.RandomRotation(0.1, interpolation="nearest")
    with pytest.raises(NotImplementedError, match="precision"):
        keras.Sequential([keras.layers.Dense(1, input_shape=(2,))]).compile(
            optimizer="adam", loss="mse", metrics=["precision"])
    keras.layers.Dense(3, kernel_initializer="glorot_uniform", use_bias=True)  # the defaults


def test_offline_mnist_comes_in_keras_shapes_and_says_so(monkeypatch, capsys):
    def offline():
        raise OSError("no network")

    monkeypatch.setattr(keras.datasets, "_full_mnist", offline)
    (xt, yt), (xs, ys) = keras.datasets.mnist.load_data()
    assert xt.shape == (4000, 28, 28) and xs.shape == (1000, 28, 28)
    assert xt.dtype == np.uint8 and yt.dtype == np.uint8 and xt.max() == 255
    assert set(np.unique(yt)) == set(range(10))
    assert "5,000 MNIST digits" in capsys.readouterr().out


def test_a_saved_keras_model_loads_back_with_its_training_set_up(tmp_path):
    x, y = _digits()
    model = keras.Sequential([keras.layers.Flatten(input_shape=(6, 6)),
                              keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["acc"])
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.npz")
    back = keras.models.load_model(tmp_path / "m.npz")
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0))
    assert back.loss.from_logits and back.metrics == ["acc"]
    assert back.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))


def test_set_random_seed_makes_a_run_repeatable():
    x, y = _digits()

    def run():
        keras.utils.set_random_seed(7)
        m = keras.Sequential([keras.layers.Flatten(input_shape=(6, 6)), keras.layers.Dropout(0.3),
                              keras.layers.Dense(2, activation="softmax")])
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        m.fit(x, y, epochs=2, verbose=0)
        return m.get_weights()

    try:
        for a, b in zip(run(), run()):
            np.testing.assert_array_equal(a, b)
    finally:
        keras.utils._seeds.clear()


@pytest.mark.parametrize("cnn", [False, True])
def test_the_apps_keras_code_view_runs_unchanged_on_core_keras(cnn, tmp_path, monkeypatch,
                                                               capsys):
    """The "Keras code" view writes real Keras; with the import line pointed at core.keras
    (the one line a learner changes) the whole script runs and trains."""
    from core.layers import Conv2D, Dense, Flatten, MaxPool2D
    from core.model import Sequential
    from core.teaching.keras_code import keras_code_for_model

    layers_ = ([Conv2D(4, 3, activation="relu"), MaxPool2D(2)] if cnn else []) + [
        Flatten(), Dense(16, activation="relu"), Dense(10)]
    m = Sequential(layers_, input_shape=(28, 28, 1), seed=0)
    m.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
    code = keras_code_for_model(m, epochs=1, batch_size=128, dataset="digits")
    assert "from_logits=True" in code
    code = code.replace("from tensorflow import keras", "from core import keras").replace(
        "from tensorflow.keras import", "from core.keras import")
    monkeypatch.chdir(tmp_path)
    try:
        exec(compile(code, "keras_code", "exec"), {})
    finally:
        keras.utils._seeds.clear()
    out = capsys.readouterr().out
    assert "Epoch 1/1" in out and "val_accuracy" in out
    assert list((tmp_path / "logs" / "train").glob("events.out.tfevents.*"))


def test_a_cross_entropy_after_a_sigmoid_output_trains_as_keras_does():
    """Keras takes a sigmoid output's inputs as the logits of a softmax cross-entropy (the
    course's tutorial 7 model: sigmoid outputs, sparse cross-entropy). Loss and gradient
    are checked against that formula in plain NumPy."""
    x, y = _digits(32, seed=3)
    model = keras.Sequential([keras.layers.Flatten(input_shape=(6, 6)),
                              keras.layers.Dense(3, activation="sigmoid")], seed=1)
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    w, b = (a.astype(np.float64) for a in model.get_weights())
    xf = x.reshape(len(x), -1).astype(np.float64)
    z = xf @ w + b
    want_loss = np.mean(np.log(np.exp(z).sum(1)) - z[np.arange(len(y)), y])
    assert model.evaluate(x, y, verbose=0) == pytest.approx(want_loss, rel=1e-5)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    want_w = w - 0.5 * xf.T @ p / len(y)
    model.fit(x, y, epochs=1, batch_size=len(x), verbose=0)
    np.testing.assert_allclose(model.get_weights()[0], want_w, rtol=1e-4, atol=1e-6)
    # the app's own engine keeps the plain definition: −log of the normalised sigmoid outputs
    from core.model import Sequential
    from core.layers import Dense, Flatten
    own = Sequential([Flatten(), Dense(3, activation="sigmoid")], input_shape=(6, 6), seed=1)
    own.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    q = 1 / (1 + np.exp(-z))
    assert own.evaluate(x, y)["loss"] == pytest.approx(
        np.mean(-np.log(q[np.arange(len(y)), y] / q.sum(1))), rel=1e-5)


def test_the_augmentation_tutorials_layers_change_training_images_only():
    rng = np.random.default_rng(2)
    x = rng.random((6, 8, 8, 3), dtype=np.float32)
    y = rng.integers(0, 2, 6)
    data_augmentation = keras.Sequential([
        keras.layers.experimental.preprocessing.RandomFlip("horizontal", input_shape=(8, 8, 3)),
        keras.layers.experimental.preprocessing.RandomRotation(0.1),
        keras.layers.experimental.preprocessing.RandomZoom(0.1),
    ])
    np.testing.assert_array_equal(data_augmentation.predict(x, verbose=0), x)  # identity
    flip = keras.layers.RandomFlip("horizontal", seed=0)
    flip.build((8, 8, 3))
    out = flip.forward(x, training=True)
    for a, b in zip(out, x):   # each image either itself or its mirror image
        assert np.array_equal(a, b) or np.array_equal(a, b[:, ::-1])
    rot = keras.layers.RandomRotation(0.25, seed=0)
    rot.build((8, 8, 3))
    assert not np.allclose(rot.forward(x, training=True), x)
    model = keras.Sequential([keras.layers.Rescaling(1. / 255, input_shape=(8, 8, 3)),
                              keras.layers.RandomFlip("horizontal"), keras.layers.RandomZoom(0.1),
                              keras.layers.Conv2D(2, 3, activation="relu"),
                              keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")])
    np.testing.assert_allclose(model.layers[0].forward(x * 255), x, rtol=1e-6)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x * 255, y, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_augmentation_layers_travel_through_keras_files(tmp_path):
    model = keras.Sequential([keras.layers.Rescaling(1. / 255, input_shape=(8, 8, 1)),
                              keras.layers.RandomFlip("horizontal"),
                              keras.layers.RandomRotation(0.1), keras.layers.RandomZoom(0.2),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    model.save(tmp_path / "aug.keras")
    back = keras.models.load_model(tmp_path / "aug.keras")
    assert [type(lay).__name__ for lay in back.layers] == [
        "Rescaling", "RandomFlip", "RandomRotation", "RandomZoom", "Flatten", "Dense"]
    assert back.layers[2].factor == (-0.1, 0.1) and back.layers[0].scale == pytest.approx(1 / 255)


def test_the_keras_code_view_writes_recurrent_layers_that_build_the_same_network(tmp_path,
                                                                                monkeypatch):
    """SimpleRNN, LSTM and Embedding are real Keras layers: the code view writes them (with
    the arguments that differ from Keras's defaults), and the script run on core.keras builds
    a network of the same layers, shapes and weight counts."""
    from core.layers import Dense
    from core.layers.recurrent import LSTM, Embedding, SimpleRNN
    from core.model import Sequential
    from core.teaching.keras_code import keras_code_for_model

    m = Sequential([Embedding(30, 8), LSTM(16, return_sequences=True),
                    SimpleRNN(4, activation="relu"), Dense(3, activation="softmax")],
                   input_shape=(None,), seed=0)
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    code = keras_code_for_model(m, epochs=1, batch_size=32, dataset=None)
    assert "no Keras equivalent" not in code
    for line in ("layers.Embedding(30, 8)", "layers.LSTM(16, return_sequences=True)",
                 'layers.SimpleRNN(4, activation="relu")'):
        assert line in code
    rng = np.random.default_rng(0)
    namespace = {"x_train": rng.integers(0, 30, (64, 7)), "y_train": rng.integers(0, 3, 64),
                 "x_val": rng.integers(0, 30, (16, 11)), "y_val": rng.integers(0, 3, 16)}
    code = code.replace("from tensorflow import keras", "from core import keras").replace(
        "from tensorflow.keras import", "from core.keras import")
    monkeypatch.chdir(tmp_path)
    try:
        exec(compile(code, "keras_code", "exec"), namespace)
    finally:
        keras.utils._seeds.clear()
    built = namespace["model"]
    assert [type(layer).__name__ for layer in built.layers] == [
        type(layer).__name__ for layer in m.layers]
    assert [w.shape for w in built.get_weights()] == [w.shape for w in m.get_weights()]
    assert built.layers[2].get_config()["activation"] == "relu"
    assert built.layers[1].return_sequences and not built.layers[2].return_sequences
