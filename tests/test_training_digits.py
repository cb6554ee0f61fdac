"""The engine learns real handwriting: the offline MNIST digits, held-out accuracy."""
import numpy as np

from core.data import load_offline_digits, train_validation_split
from core.layers import Conv2D, Dense, Flatten, MaxPool2D
from core.model import Sequential
from core.optimizers import SGD


def test_dense_network_learns_offline_digits():
    x, y = load_offline_digits()
    (x_tr, y_tr), (x_val, y_val) = train_validation_split(x, y, validation_fraction=0.2, seed=0)
    m = Sequential([Flatten(), Dense(128, activation="relu"), Dense(10, activation="softmax")],
                   input_shape=(28, 28, 1), seed=0)
    m.compile(SGD(0.05, momentum=0.9), "sparse_categorical_crossentropy", ["accuracy"])
    hist = m.fit(x_tr, y_tr, epochs=10, batch_size=32, validation_data=(x_val, y_val), seed=0)
    assert hist.stop_reason is None
    # 1,000 held-out digits the network never trained on
    assert hist.history["val_accuracy"][-1] >= 0.90
    assert hist.history["loss"][-1] < hist.history["loss"][0] / 5


def test_small_cnn_learns_offline_digits():
    x, y = load_offline_digits()
    (x_tr, y_tr), (x_val, y_val) = train_validation_split(x, y, validation_fraction=0.2, seed=0)
    m = Sequential([Conv2D(8, 3, activation="relu"), MaxPool2D(2), Flatten(),
                    Dense(10, activation="softmax")], input_shape=(28, 28, 1), seed=0)
    m.compile(SGD(0.05, momentum=0.9), "sparse_categorical_crossentropy", ["accuracy"])
    m.fit(x_tr, y_tr, epochs=3, batch_size=32, seed=0)
    acc = np.mean(m.predict(x_val).argmax(1) == y_val)
    assert acc >= 0.90
