"""Do Keras and Backprop Lab read each other's model files? (Needs real Keras; benchmark-only.)

    KERAS_BACKEND=tensorflow /work/bench-venv/bin/python benchmarks/keras_files_roundtrip.py

Saves engine models (dense, CNN, activation layers, a frozen layer, a from_logits loss) as
.keras files, opens each with keras.models.load_model and compares Keras's predictions with
the engine's (they must agree to 1e-5); then saves Keras models as .keras and .h5 and opens
them with the engine. Also runs the "Keras code" view's output for a dense network and a CNN in real
Keras, and models with a free time axis (input_shape=(None, F)) both ways on two lengths.
Prints one line per file and exits 1 on any mismatch.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def engine_models():
    from core import keras as ck

    yield "dense", ck.Sequential([ck.layers.Flatten(input_shape=(6, 6)),
                                  ck.layers.Dense(5, activation="relu"),
                                  ck.layers.Dense(3, activation="softmax")]), (4, 6, 6)
    yield "cnn", ck.Sequential([ck.layers.Conv2D(3, 3, activation="relu", input_shape=(8, 8, 2)),
                                ck.layers.MaxPooling2D(2), ck.layers.Flatten(),
                                ck.layers.Dropout(0.3), ck.layers.Dense(3, activation="softmax")]), (2, 8, 8, 2)
    acts = ck.Sequential([ck.layers.Dense(5, input_shape=(4,)), ck.layers.LeakyReLU(0.2),
                          ck.layers.Dense(3), ck.layers.Activation("tanh"), ck.layers.Dense(3),
                          ck.layers.Activation("sigmoid"), ck.layers.Dense(2), ck.layers.Softmax(),
                          ck.layers.ReLU()])
    yield "activations", acts, (3, 4)
    yield "augmentation", ck.Sequential([
        ck.layers.Rescaling(1. / 255, input_shape=(8, 8, 3)), ck.layers.RandomFlip("horizontal"),
        ck.layers.RandomRotation(0.1), ck.layers.RandomZoom(0.1),
        ck.layers.Conv2D(2, 3, activation="relu"), ck.layers.Flatten(), ck.layers.Dense(2)]), (2, 8, 8, 3)
    yield "recurrent", ck.Sequential([ck.layers.Embedding(12, 4, input_shape=(6,)),
                                      ck.layers.SimpleRNN(5, return_sequences=True),
                                      ck.layers.LSTM(3), ck.layers.Dense(2)]), "ids"
    frozen = ck.Sequential([ck.layers.Dense(4, input_shape=(3,), trainable=False),
                            ck.layers.Dense(2)])
    frozen.compile(optimizer="sgd", loss=ck.losses.SparseCategoricalCrossentropy(from_logits=True),
                   metrics=["accuracy"])
    yield "frozen_logits", frozen, (5, 3)


def free_length_agrees(folder: Path, keras) -> int:
    """Models with a free time axis (input_shape=(None, F)) both ways, each on two lengths:
    the number of mismatches."""
    from core import keras as ck
    from core.keras import saving

    rng = np.random.default_rng(1)
    bad = 0
    ours = {"free_length": ck.Sequential([
                ck.layers.SimpleRNN(4, return_sequences=True, input_shape=(None, 2)),
                ck.layers.LSTM(3, return_sequences=True), ck.layers.Dense(2)]),
            "free_length_ids": ck.Sequential([
                ck.Input(shape=(None,)), ck.layers.Embedding(10, 3), ck.layers.LSTM(4),
                ck.layers.Dense(2)])}
    for name, model in ours.items():
        path = folder / f"{name}.keras"
        saving.save(model, path)
        theirs = keras.models.load_model(path)
        for t in (4, 30):
            x = (rng.integers(0, 10, (3, t)).astype(np.float32) if name.endswith("ids")
                 else rng.normal(size=(3, t, 2)).astype(np.float32))
            diff = float(np.abs(theirs.predict(x, verbose=0) - model.predict(x, verbose=0)).max())
            bad += diff > 1e-5
            print(f"engine → Keras  {name:16s} T={t:<3d} max |Δ| {diff:.1e}  "
                  f"{'ok' if diff <= 1e-5 else 'MISMATCH'}")
    fixtures = ROOT / "tests" / "fixtures" / "keras"
    for name in ours:
        model = saving.load(fixtures / f"{name}.keras")
        for t in (4, 9):
            x, want = (np.load(fixtures / f"{name}_{k}{t}.npy") for k in "xy")
            diff = float(np.abs(model.predict(x) - want).max())
            bad += diff > 1e-5
            print(f"Keras → engine  {name:16s} T={t:<3d} max |Δ| {diff:.1e}  "
                  f"{'ok' if diff <= 1e-5 else 'MISMATCH'}")
    return bad


def keras_code_runs_in_keras(folder: Path) -> bool:
    """The app's "Keras code" view for dense (with and without dropout), CNN, SimpleRNN and
    LSTM networks on the digits, run as written in real Keras."""
    from core.layers import LSTM, Conv2D, Dense, Dropout, Flatten, MaxPool2D, SimpleRNN
    from core.model import Sequential
    from core.teaching.keras_code import keras_code_for_model

    ok = True
    rows = (28, 28)   # the digit read row by row, as the RNN lessons do
    for name, shape, layers in (
            ("dense", (28, 28, 1), [Flatten(), Dense(16, activation="relu"),
                                    Dense(10, activation="softmax")]),
            ("dropout", (28, 28, 1), [Flatten(), Dense(32, activation="relu"), Dropout(0.2),
                                      Dense(10, activation="softmax")]),
            ("cnn", (28, 28, 1), [Conv2D(4, 3, activation="relu"), MaxPool2D(2), Flatten(),
                                  Dense(10, activation="softmax")]),
            ("simple_rnn", rows, [SimpleRNN(16), Dense(10, activation="softmax")]),
            ("lstm", rows, [LSTM(16), Dense(10, activation="softmax")])):
        model = Sequential(layers, input_shape=shape, seed=0)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        code = keras_code_for_model(model, epochs=1, batch_size=128, dataset="digits")
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            exec(compile(code, f"keras_code_{name}", "exec"), {"__name__": "__main__"})
            result = "ran"
        except Exception as exc:  # noqa: BLE001 - report, do not stop the other checks
            result, ok = f"FAILED: {type(exc).__name__}: {exc}", False
        finally:
            os.chdir(cwd)
        print(f"Keras code view → real Keras  {name:10s} {result}")
    return ok


def main() -> int:
    import keras

    from core.keras import saving

    bad = 0
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        for name, model, shape in engine_models():
            x = (rng.integers(0, 12, (3, 6)).astype(np.float32) if shape == "ids"
                 else rng.normal(size=shape).astype(np.float32))
            path = Path(tmp) / f"{name}.keras"
            saving.save(model, path)
            theirs = keras.models.load_model(path)
            diff = float(np.abs(theirs.predict(x, verbose=0) - model.predict(x, verbose=0)).max())
            frozen = [lay.trainable for lay in theirs.layers]
            ok = diff <= 1e-5 and frozen == [lay.trainable for lay in model.layers]
            bad += not ok
            print(f"engine → Keras  {name:14s} max |Δ| {diff:.1e}  trainable {frozen}  "
                  f"{'ok' if ok else 'MISMATCH'}")
        fixtures = ROOT / "tests" / "fixtures" / "keras"
        for name in ("dense", "cnn", "activations", "recurrent"):
            x, want = np.load(fixtures / f"{name}_x.npy"), np.load(fixtures / f"{name}_y.npy")
            for ext in (".keras", ".h5"):
                ours = saving.load(fixtures / f"{name}{ext}")
                diff = float(np.abs(ours.predict(x) - want).max())
                bad += diff > 1e-5
                print(f"Keras → engine  {name + ext:14s} max |Δ| {diff:.1e}  "
                      f"{'ok' if diff <= 1e-5 else 'MISMATCH'}")
        bad += free_length_agrees(Path(tmp), keras)
        bad += not keras_code_runs_in_keras(Path(tmp))
    print("all agree" if not bad else f"{bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
