"""The course's notebook models on our engine (core.keras) beside real Keras, on the same
arrays: test accuracy and fit time. Real Keras is benchmark-only; without it only our side runs.

    KERAS_BACKEND=tensorflow /work/bench-venv/bin/python benchmarks/keras_notebooks.py [--quick]

Data: tutorial 7 and 16 on the 5,000 offline MNIST digits (4,000 train / 1,000 test, pixels
0-255 scaled by /255 as the notebooks do); 18 (churn) and 20 (dropout, sonar-sized) on
seeded synthetic tables of the notebooks' shapes; 24 on CIFAR-shaped random images when
CIFAR-10 is not cached (fit time only: accuracy on noise means nothing). Each model is built
from the same code for both libraries (`lib` is core.keras or keras); both sides train in
this process, one after the other, each after one untimed warm-up epoch.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def digits():
    from core.data.offline import _raw_digits

    x, y = _raw_digits()
    order = np.random.default_rng(0).permutation(len(y))
    x, y = x[order].astype(np.float32) / 255, y[order]
    return (x[:4000], y[:4000]), (x[4000:], y[4000:])


def table(n, features, rule, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    y = rule(x).astype(np.int64)
    k = int(n * 0.8)
    return (x[:k], y[:k]), (x[k:], y[k:])


def cifar_like(n=2000):
    rng = np.random.default_rng(1)
    x = rng.random((n, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, n)
    return (x, y), (x[:500], y[:500])


def notebooks(quick):
    e = (lambda n: max(1, n // 5)) if quick else (lambda n: n)
    mnist = digits()
    yield ("T7 dense 784-10", mnist, e(5), 32, lambda L: L.Sequential([
        L.layers.Flatten(input_shape=(28, 28)), L.layers.Dense(10, activation="sigmoid")]),
        "adam", "sparse_categorical_crossentropy", True)
    yield ("T7 hidden 784-100-10", mnist, e(5), 32, lambda L: L.Sequential([
        L.layers.Flatten(input_shape=(28, 28)), L.layers.Dense(100, activation="relu"),
        L.layers.Dense(10, activation="sigmoid")]), "adam", "sparse_categorical_crossentropy", True)
    yield ("T16 SGD 784-100-10", mnist, e(5), 32, lambda L: L.Sequential([
        L.layers.Flatten(input_shape=(28, 28)), L.layers.Dense(100, activation="relu"),
        L.layers.Dense(10, activation="sigmoid")]), "SGD", "sparse_categorical_crossentropy", True)
    yield ("T18 churn 26-26-15-1", table(7000, 26, lambda x: x[:, 0] + x[:, 1] * x[:, 2] > 0, 2),
           e(20), 32, lambda L: L.Sequential([
               L.layers.Dense(26, input_shape=(26,), activation="relu"),
               L.layers.Dense(15, activation="relu"), L.layers.Dense(1, activation="sigmoid")]),
           "adam", "binary_crossentropy", True)
    yield ("T20 dropout 60-60-30-15-1", table(208, 60, lambda x: x[:, 0] + x[:, 1] > 0, 3),
           e(100), 8, lambda L: L.Sequential([
               L.layers.Dense(60, input_dim=60, activation="relu"), L.layers.Dropout(0.5),
               L.layers.Dense(30, activation="relu"), L.layers.Dropout(0.5),
               L.layers.Dense(15, activation="relu"), L.layers.Dropout(0.5),
               L.layers.Dense(1, activation="sigmoid")]), "adam", "binary_crossentropy", True)
    cifar = cifar_like()
    yield ("T24 ANN 3072-3000-1000-10", cifar, 1, 32, lambda L: L.Sequential([
        L.layers.Flatten(input_shape=(32, 32, 3)), L.layers.Dense(3000, activation="relu"),
        L.layers.Dense(1000, activation="relu"), L.layers.Dense(10, activation="softmax")]),
        "SGD", "sparse_categorical_crossentropy", False)
    yield ("T24 CNN", cifar, 1, 32, lambda L: L.Sequential([
        L.layers.Conv2D(32, (3, 3), activation="relu", input_shape=(32, 32, 3)),
        L.layers.MaxPooling2D((2, 2)), L.layers.Conv2D(64, (3, 3), activation="relu"),
        L.layers.MaxPooling2D((2, 2)), L.layers.Flatten(), L.layers.Dense(64, activation="relu"),
        L.layers.Dense(10, activation="softmax")]), "adam", "sparse_categorical_crossentropy", False)


def run(lib, build, data, epochs, batch, optimizer, loss):
    (xt, yt), (xs, ys) = data
    lib.utils.set_random_seed(0)
    model = build(lib)
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    model.fit(xt[:256], yt[:256], epochs=1, batch_size=batch, verbose=0)  # warm-up, untimed
    model = build(lib)
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    t0 = time.perf_counter()
    model.fit(xt, yt, epochs=epochs, batch_size=batch, verbose=0)
    seconds = time.perf_counter() - t0
    return float(model.evaluate(xs, ys, verbose=0)[1]), seconds / epochs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="a fifth of the epochs")
    args = ap.parse_args()
    from core import keras as ours
    try:
        import keras as theirs
    except ImportError:
        theirs = None
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"Keras {'not installed' if theirs is None else theirs.__version__}")
    print(f"{'notebook':28s} {'ours acc':>8s} {'Keras acc':>9s} {'ours s/epoch':>12s} "
          f"{'Keras s/epoch':>13s} {'ratio':>6s}")
    for name, data, epochs, batch, build, opt, loss, scored in notebooks(args.quick):
        acc, sec = run(ours, build, data, epochs, batch, opt, loss)
        kacc, ksec = (run(theirs, build, data, epochs, batch, opt, loss) if theirs
                      else (float("nan"), float("nan")))
        shown = (lambda a: f"{a:8.3f}") if scored else (lambda a: f"{'-':>8s}")
        print(f"{name:28s} {shown(acc)} {shown(kacc):>9s} {sec:12.3f} {ksec:13.3f} "
              f"{sec / ksec:6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
