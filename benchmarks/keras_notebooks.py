"""The course's notebook models on our engine (core.keras) beside real Keras, on the same
arrays: test accuracy over several seeds and seconds per epoch, interleaved. Real Keras is
benchmark-only; without it only our side runs.

    KERAS_BACKEND=tensorflow /work/bench-venv/bin/python benchmarks/keras_notebooks.py \
        [--quick] [--interleave 5] [--seeds 5] [--only T24,T20] [--no-accuracy] [--no-timing]

Each model is built from the same code for both libraries (`lib` is core.keras or keras).

Fit time (the notebook's own arrays and batch size). Both models live in this one process
and train in turns: a round is one fit call of each side (the order alternates between
rounds, so neither always runs right after the other's allocations), repeated
--interleave times after one untimed warm-up fit per side (Keras traces its train
function, our kernels load, both allocators reach their steady state - issue 12's rule
for rivals). Each epoch's seconds come from an on_epoch_begin/on_epoch_end callback, so a
fit call's set-up (Keras builds a tf.data pipeline per call) is not counted, as it is not
per epoch in a notebook's single fit(epochs=...). Small notebooks run several epochs per
call (`per_round`) so that a round is long enough to time. Reported: median seconds per
epoch of each side, min-max, and the ratio of the medians (ours / Keras, lower is
faster). On a machine shared with other programs one side's epoch can land while the
other cores are busy; interleaving spreads that over both sides, the median drops it.
Beside the wall time, the processor seconds per epoch (the process's, all threads; one
side trains at a time): the work an epoch costs, which the other programs on a shared
machine change far less than its wall time. That is what Keras's "bimodal" tutorial-24
epoch was: over 8 epochs in one process its processor time stayed at 2.26-2.54 s while
the wall time went 3.5-10.4 s with the machine's load (2 cores, load average 8-9);
page faults were ~30-700 an epoch after the first, and turning oneDNN off
(TF_ENABLE_ONEDNN_OPTS=0) made it slower and fault-heavy (80,000-500,000 an epoch), so
neither memory nor oneDNN makes the two modes: the scheduler does. Both sides here run
warm, in one process, in turns, so they meet the same load.
On a machine far busier than its cores (load average 15 on 2 cores, 2026-12-07) wall
time mostly measures each side's share of the processors, which grows with its number
of runnable threads (TensorFlow keeps more than our two); and each of our parallel
kernels waits at its end for a thread that may be descheduled, so our processor time
grows too (tutorial 24's step: 38.5 ms one-threaded, 49.6 ms on two threads there).

Accuracy (--seeds runs per side, seed i sets the initial weights, shuffling and dropout
of both libraries): mean and standard deviation of the test accuracy over the seeds, each
run trained from scratch for the notebook's epochs on the notebook's training arrays.
The test sets are larger than the notebooks' own where the data allows it, because a
2-point clause needs a test set that resolves 2 points: the standard error of an
accuracy p measured on n samples is sqrt(p(1-p)/n), 3.3 points for tutorial 20's 42
samples at p = 0.85 (a single run's 4.7-point gap there was noise), 0.25 points for
20,000. So the synthetic tables (18, 20) are scored on 20,000 fresh samples of the same
rule, and the MNIST notebooks (7, 16) on the real 10,000-digit MNIST test set when it is
present (../shared/data/mnist, evaluation only), else on the 1,000 held-out offline
digits (~0.9 points of standard error). What remains is the spread between seeds, which
the table shows beside each mean. Tutorial 24 trains on CIFAR-shaped noise (no CIFAR-10
offline): fit time only, accuracy on noise means nothing.
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

MNIST_TEST = ROOT.parent / "shared" / "data" / "mnist"
BIG_TEST = 20_000  # fresh samples scoring the synthetic tables (see the docstring)


def digits(real_test=False):
    from core.data.offline import _raw_digits

    x, y = _raw_digits()
    order = np.random.default_rng(0).permutation(len(y))
    x, y = x[order].astype(np.float32) / 255, y[order]
    train, test = (x[:4000], y[:4000]), (x[4000:], y[4000:])
    if real_test and (MNIST_TEST / "t10k-images-idx3-ubyte.gz").exists():
        from core.data.idx import load_mnist_test_idx

        xs, ys = load_mnist_test_idx(MNIST_TEST)
        test = (xs.reshape(len(ys), 28, 28), ys)  # the notebooks' (N, 28, 28) shape
    return train, test


def table(n, features, rule, seed, big_test=False):
    """n samples of a seeded synthetic table, 80 % for training; the rest, or BIG_TEST
    fresh samples of the same rule when big_test, for testing."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    y = rule(x).astype(np.int64)
    k = int(n * 0.8)
    if big_test:
        xs = np.random.default_rng(seed + 1000).normal(size=(BIG_TEST, features)).astype(np.float32)
        return (x[:k], y[:k]), (xs, rule(xs).astype(np.int64))
    return (x[:k], y[:k]), (x[k:], y[k:])


def cifar_like(n=2000):
    rng = np.random.default_rng(1)
    x = rng.random((n, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, n)
    return (x, y), (x[:500], y[:500])


def churn_rule(x):
    return x[:, 0] + x[:, 1] * x[:, 2] > 0


def sonar_rule(x):
    return x[:, 0] + x[:, 1] > 0


def notebooks():
    """(name, data(for_accuracy) -> (train, test), epochs, batch, epochs per timed round,
    build(lib), optimizer, loss, scored)."""
    yield ("T7 dense 784-10", digits, 5, 32, 1, lambda L: L.Sequential([
        L.layers.Flatten(input_shape=(28, 28)), L.layers.Dense(10, activation="sigmoid")]),
        "adam", "sparse_categorical_crossentropy", True)
    yield ("T7 hidden 784-100-10", digits, 5, 32, 1, lambda L: L.Sequential([
        L.layers.Flatten(input_shape=(28, 28)), L.layers.Dense(100, activation="relu"),
        L.layers.Dense(10, activation="sigmoid")]), "adam", "sparse_categorical_crossentropy", True)
    yield ("T16 SGD 784-100-10", digits, 5, 32, 1, lambda L: L.Sequential([
        L.layers.Flatten(input_shape=(28, 28)), L.layers.Dense(100, activation="relu"),
        L.layers.Dense(10, activation="sigmoid")]), "SGD", "sparse_categorical_crossentropy", True)
    yield ("T18 churn 26-26-15-1", lambda big: table(7000, 26, churn_rule, 2, big),
           20, 32, 1, lambda L: L.Sequential([
               L.layers.Dense(26, input_shape=(26,), activation="relu"),
               L.layers.Dense(15, activation="relu"), L.layers.Dense(1, activation="sigmoid")]),
           "adam", "binary_crossentropy", True)
    yield ("T20 dropout 60-60-30-15-1", lambda big: table(208, 60, sonar_rule, 3, big),
           100, 8, 10, lambda L: L.Sequential([
               L.layers.Dense(60, input_dim=60, activation="relu"), L.layers.Dropout(0.5),
               L.layers.Dense(30, activation="relu"), L.layers.Dropout(0.5),
               L.layers.Dense(15, activation="relu"), L.layers.Dropout(0.5),
               L.layers.Dense(1, activation="sigmoid")]), "adam", "binary_crossentropy", True)
    yield ("T24 ANN 3072-3000-1000-10", lambda big: cifar_like(), 1, 32, 1, lambda L: L.Sequential([
        L.layers.Flatten(input_shape=(32, 32, 3)), L.layers.Dense(3000, activation="relu"),
        L.layers.Dense(1000, activation="relu"), L.layers.Dense(10, activation="softmax")]),
        "SGD", "sparse_categorical_crossentropy", False)
    yield ("T24 CNN", lambda big: cifar_like(), 1, 32, 1, lambda L: L.Sequential([
        L.layers.Conv2D(32, (3, 3), activation="relu", input_shape=(32, 32, 3)),
        L.layers.MaxPooling2D((2, 2)), L.layers.Conv2D(64, (3, 3), activation="relu"),
        L.layers.MaxPooling2D((2, 2)), L.layers.Flatten(), L.layers.Dense(64, activation="relu"),
        L.layers.Dense(10, activation="softmax")]), "adam", "sparse_categorical_crossentropy", False)


def compiled(lib, build, optimizer, loss, seed):
    lib.utils.set_random_seed(seed)
    model = build(lib)
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    return model


class EpochClock:
    """Wall and processor seconds of every epoch a fit call runs (callback hooks of either
    library). Processor time is that of the whole process, all threads: only one side
    trains at a time, so it is that side's work."""

    def __init__(self, lib):
        self.seconds, self.cpu = [], []
        self._t0 = self._c0 = 0.0
        self.callback = lib.callbacks.LambdaCallback(on_epoch_begin=self._begin,
                                                     on_epoch_end=self._end)

    def _begin(self, epoch, logs=None):
        self._t0, self._c0 = time.perf_counter(), time.process_time()

    def _end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._t0)
        self.cpu.append(time.process_time() - self._c0)


def fit_times(sides, build, data, batch, per_round, optimizer, loss, rounds):
    """{side: EpochClock}: the sides' models trained in turns (see the docstring)."""
    (xt, yt), _ = data
    models = {name: compiled(lib, build, optimizer, loss, 0) for name, lib in sides}
    clocks = {name: EpochClock(lib) for name, lib in sides}
    for name, _ in sides:  # warm-up, untimed
        models[name].fit(xt, yt, epochs=1, batch_size=batch, verbose=0)
    for r in range(rounds):
        for name, _ in (sides if r % 2 == 0 else sides[::-1]):
            models[name].fit(xt, yt, epochs=per_round, batch_size=batch, verbose=0,
                             callbacks=[clocks[name].callback])
    return clocks


def accuracies(lib, build, data, epochs, batch, optimizer, loss, seeds):
    (xt, yt), (xs, ys) = data
    out = []
    for seed in seeds:
        model = compiled(lib, build, optimizer, loss, seed)
        model.fit(xt, yt, epochs=epochs, batch_size=batch, verbose=0)
        out.append(float(model.evaluate(xs, ys, verbose=0)[1]))
    return out


def load():
    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="a fifth of the epochs for accuracy, 2 seeds, 3 rounds")
    ap.add_argument("--interleave", type=int, default=None, metavar="N",
                    help="timed rounds per notebook (default 5, --quick 3)")
    ap.add_argument("--seeds", type=int, default=None, help="accuracy runs per side (default 5)")
    ap.add_argument("--only", default="", help="comma-separated words: notebooks whose name "
                    "contains one, e.g. --only T24,T20")
    ap.add_argument("--no-accuracy", action="store_true")
    ap.add_argument("--no-timing", action="store_true")
    args = ap.parse_args()
    rounds = args.interleave or (3 if args.quick else 5)
    seeds = range(args.seeds or (2 if args.quick else 5))
    from core import keras as ours
    from core.kernels import _threads
    try:
        import keras as theirs
    except ImportError:
        theirs = None
    sides = [("ours", ours)] + ([("Keras", theirs)] if theirs else [])
    info = _threads.describe()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, NumPy {np.__version__}; Keras "
          f"{'not installed' if theirs is None else theirs.__version__ + ' (' + theirs.backend.backend() + ')'}; "
          f"our threads {info['numba_threads']} ({info['threading_layer']})")
    print("load average at start: %.2f %.2f %.2f" % load())
    print(f"timing: {rounds} interleaved rounds after a warm-up fit; accuracy: seeds "
          f"{list(seeds)}, MNIST test: {'real 10k' if (MNIST_TEST / 't10k-images-idx3-ubyte.gz').exists() else 'offline 1k'}, "
          f"tables: {BIG_TEST} fresh samples")
    words = [w.strip() for w in args.only.split(",") if w.strip()]
    head = (f"{'notebook':26s} | {'ours acc':>13s} {'Keras acc':>13s} {'diff':>6s} | "
            f"{'ours s/epoch':>12s} {'(min-max)':>15s} {'Keras s/epoch':>13s} {'(min-max)':>15s} "
            f"{'ratio':>5s} | {'ours cpu':>8s} {'Keras cpu':>8s} {'ratio':>5s}")
    print(head)
    print("-" * len(head))
    for name, data_fn, epochs, batch, per_round, build, opt, loss, scored in notebooks():
        if words and not any(w in name for w in words):
            continue
        acc = {}
        if scored and not args.no_accuracy:
            data = data_fn(True)
            ep = max(1, epochs // 5) if args.quick else epochs
            for side, lib in sides:
                acc[side] = accuracies(lib, build, data, ep, batch, opt, loss, seeds)
        times = {}
        if not args.no_timing:
            times = fit_times(sides, build, data_fn(False), batch, per_round, opt, loss, rounds)

        def a(side):
            v = acc.get(side)
            return f"{np.mean(v):.3f}±{np.std(v):.3f}" if v else "-"

        def t(side):
            v = times[side].seconds if side in times else None
            return (f"{np.median(v):12.4f} ({min(v):6.4f}-{max(v):6.4f})" if v
                    else f"{'-':>12s} {'':15s}")

        def c(side):
            return np.median(times[side].cpu)

        diff = (f"{np.mean(acc['ours']) - np.mean(acc['Keras']):+6.3f}"
                if "ours" in acc and "Keras" in acc else f"{'-':>6s}")
        both = "ours" in times and "Keras" in times
        ratio = (f"{np.median(times['ours'].seconds) / np.median(times['Keras'].seconds):5.2f}"
                 if both else f"{'-':>5s}")
        cpu = (f"{c('ours'):8.4f} {c('Keras'):8.4f} {c('ours') / c('Keras'):5.2f}" if both
               else f"{c('ours'):8.4f} {'-':>8s} {'-':>5s}" if times else f"{'-':>8s} " * 2 + " " * 5)
        print(f"{name:26s} | {a('ours'):>13s} {a('Keras'):>13s} {diff} | {t('ours')} "
              f"{t('Keras')} {ratio} | {cpu}", flush=True)
    print("load average at end: %.2f %.2f %.2f" % load())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
