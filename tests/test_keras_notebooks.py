"""The model code of the course's notebooks (tutorials 7, 16, 18, 20, 24), written here as a
learner writes it with `from core import keras` in place of `from tensorflow import keras`,
on small data so the suite stays quick. Each must run unchanged and learn."""
import numpy as np
import pytest

from core import keras
from core.keras import datasets, layers, models


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(0)   # as a notebook would, for a repeatable run
    yield
    keras.utils._seeds.clear()


@pytest.fixture
def offline_mnist(monkeypatch):
    def offline():
        raise OSError("offline")

    monkeypatch.setattr(keras.datasets, "_full_mnist", offline)
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    return (x_train[:1500], y_train[:1500]), (x_test[:500], y_test[:500])


@pytest.mark.slow
def test_tutorial_7_digits_without_and_with_a_hidden_layer(offline_mnist, capsys):
    (X_train, y_train), (X_test, y_test) = offline_mnist
    X_train = X_train / 255
    X_test = X_test / 255
    X_train_flattened = X_train.reshape(len(X_train), 28 * 28)
    X_test_flattened = X_test.reshape(len(X_test), 28 * 28)

    model = keras.Sequential([keras.layers.Dense(10, input_shape=(784,), activation="sigmoid")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(X_train_flattened, y_train, epochs=5)
    loss, accuracy = model.evaluate(X_test_flattened, y_test)
    y_predicted = model.predict(X_test_flattened)
    y_predicted_labels = [np.argmax(i) for i in y_predicted]
    assert accuracy > 0.8 and np.mean(np.array(y_predicted_labels) == y_test) == pytest.approx(accuracy)

    model = keras.Sequential([
        keras.layers.Flatten(input_shape=(28, 28)),
        keras.layers.Dense(100, activation="relu"),
        keras.layers.Dense(10, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(X_train, y_train, epochs=5)
    assert model.evaluate(X_test, y_test)[1] > 0.85
    assert "Epoch 5/5" in capsys.readouterr().out


def test_tutorial_7_without_scaling_runs_and_learns_less(offline_mnist):
    (X_train, y_train), (X_test, y_test) = offline_mnist
    model = keras.Sequential([keras.layers.Dense(10, input_shape=(784,), activation="sigmoid")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(X_train.reshape(len(X_train), 784), y_train, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_tutorial_16_tensorboard_and_two_optimizers(offline_mnist, tmp_path):
    (X_train, y_train), _ = offline_mnist
    X_train, y_train = X_train[:400] / 255, y_train[:400]
    for optimizer in ("adam", "SGD"):
        model = keras.Sequential([keras.layers.Flatten(input_shape=(28, 28)),
                                  keras.layers.Dense(100, activation="relu"),
                                  keras.layers.Dense(10, activation="sigmoid")])
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        tb_callback = keras.callbacks.TensorBoard(log_dir=tmp_path / "logs" / optimizer,
                                                  histogram_freq=1)
        model.fit(X_train, y_train, epochs=2, callbacks=[tb_callback], verbose=0)
        assert list((tmp_path / "logs" / optimizer / "train").glob("events.out.tfevents.*"))


def test_tutorial_18_churn_binary_classifier():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(600, 26)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] - X[:, 2] > 0).astype(np.int64)
    X_train, X_test, y_train, y_test = X[:480], X[480:], y[:480], y[480:]
    model = keras.Sequential([
        keras.layers.Dense(26, input_shape=(26,), activation="relu"),
        keras.layers.Dense(15, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(X_train, y_train, epochs=20, verbose=0)
    yp = model.predict(X_test, verbose=0)
    y_pred = [1 if v > 0.5 else 0 for v in yp[:, 0]]
    assert np.mean(np.array(y_pred) == y_test) > 0.85
    assert model.evaluate(X_test, y_test, verbose=0)[1] > 0.85


def test_tutorial_20_dropout_with_input_dim():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(208, 60)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    X_train, X_test, y_train, y_test = X[:156], X[156:], y[:156], y[156:]
    model = keras.Sequential([
        keras.layers.Dense(60, input_dim=60, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(30, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(15, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(X_train, y_train, epochs=30, batch_size=8, verbose=0)
    assert model.evaluate(X_test, y_test, verbose=0)[1] > 0.65   # chance is about 0.5


@pytest.mark.slow
def test_tutorial_24_cifar_ann_and_cnn_shapes_and_training():
    rng = np.random.default_rng(5)
    X_train = rng.integers(0, 256, (64, 32, 32, 3)).astype(np.uint8)
    y_train = rng.integers(0, 10, (64, 1)).astype(np.uint8)
    y_train = y_train.reshape(-1,)
    X_train = X_train / 255.0
    ann = models.Sequential([
        layers.Flatten(input_shape=(32, 32, 3)),
        layers.Dense(300, activation="relu"),
        layers.Dense(100, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    ann.compile(optimizer="SGD", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    ann.fit(X_train, y_train, epochs=1, verbose=0)
    cnn = models.Sequential([
        layers.Conv2D(filters=32, kernel_size=(3, 3), activation="relu", input_shape=(32, 32, 3)),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(filters=64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(64, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    cnn.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = cnn.fit(X_train, y_train, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    y_pred = cnn.predict(X_train[:5], verbose=0)
    y_classes = [np.argmax(element) for element in y_pred]
    assert len(y_classes) == 5 and cnn.output_shape == (10,)
    assert datasets.cifar10.load_data is not None
