"""core.fast.warmup: every kernel the engine calls is compiled ahead of need, inference first."""

import numpy as np
from numba.core.dispatcher import Dispatcher

from core.fast import warmup
from core.kernels import _common, _threads, activations, dense, losses, pool, sgd
from core.kernels.conv import blocks, direct, im2col, pool_fused, winograd

MODULES = (_common, _threads, activations, blocks, direct, im2col, pool_fused, winograd, dense,
           losses, pool, sgd)


def _signatures():
    out = {}
    for mod in MODULES:
        for name, obj in vars(mod).items():
            if isinstance(obj, Dispatcher):
                out[f"{mod.__name__}.{name}"] = len(obj.signatures)
    return out


def test_progress_reports_every_step_inference_first_and_ends_at_total():
    calls = []
    report = warmup.warm_up(progress=lambda *a: calls.append(a))
    assert report.completed
    total = calls[0][1]
    assert [c[0] for c in calls] == list(range(total + 1)) and all(c[1] == total for c in calls)
    phases = [c[3] for c in calls[:-1]]
    order = [warmup.PHASES.index(p) for p in phases]
    assert order == sorted(order) and phases[0] == warmup.INFERENCE
    assert set(report.seconds) == {c[2] for c in calls[:-1]}
    assert set(report.phase_seconds) == set(warmup.PHASES)


def test_stop_request_is_honoured_between_steps():
    seen = []
    report = warmup.warm_up(progress=lambda *a: seen.append(a), should_stop=lambda: len(seen) >= 2)
    assert not report.completed and len(report.seconds) == 2


def test_only_the_asked_phases_run():
    labels = [s[1] for s in warmup.steps((warmup.INFERENCE,))]
    assert labels and set(labels) == {warmup.INFERENCE}


def test_after_warm_up_training_and_predicting_compile_nothing_new():
    # the course's networks, trained and queried the ways the app does: if any of these
    # needed a specialisation the warm-up did not make, a learner would wait for it
    from core.layers import Conv2D, Dense, Flatten, MaxPool2D
    from core.model import Sequential
    from core.optimizers import SGD

    warmup.warm_up()
    before = _signatures()
    rng = np.random.default_rng(0)
    x = rng.random((40, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, 40)
    for layers in ([Conv2D(4, 3, activation="relu"), MaxPool2D(2), Conv2D(6, 3, activation="relu"),
                    MaxPool2D(2), Flatten(), Dense(8, activation="relu"), Dense(10, activation="softmax")],
                   [Flatten(), Dense(16, activation="relu"), Dense(10, activation="softmax")]):
        m = Sequential(layers, input_shape=(28, 28, 1), seed=0)
        m.compile(optimizer=SGD(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        m.fit(x, y, epochs=1, batch_size=20, validation_data=(x[:10], y[:10]))
        m.train_on_batch(x[:1], y[:1])
        m.predict(x[:1])
        m.predict(x)
        m.layer_outputs(x[:2])
        m.trace_step(x[:3], y[:3])
    # the recurrent lessons' layers: a first layer (no input gradient), one after another
    # (its input gradient, every step's output), every SimpleRNN activation by one kernel
    from core.layers import LSTM, SimpleRNN

    rows = np.ascontiguousarray(x[..., 0])
    for layers in ([LSTM(8), Dense(10, activation="softmax")],
                   [SimpleRNN(8, activation="relu", return_sequences=True), LSTM(6),
                    Dense(10, activation="softmax")],
                   [SimpleRNN(5), Dense(10, activation="softmax")]):
        m = Sequential(layers, input_shape=(28, 28), seed=0)
        m.compile(optimizer=SGD(0.01), loss="sparse_categorical_crossentropy")
        m.fit(rows, y, epochs=1, batch_size=20)
        m.predict(rows[:1])
        m.trace_step(rows[:3], y[:3])
    after = _signatures()
    assert {k: (before.get(k), v) for k, v in after.items() if v != before.get(k)} == {}


INFERENCE_ONLY = """
import numpy as np
from core.fast import warmup
from core.layers import Conv2D, Dense, Flatten, MaxPool2D
from core.model import Sequential
import test_kernels_warmup as t

warmup.warm_up(phases=(warmup.INFERENCE,))
before = t._signatures()
m = Sequential([Conv2D(32, 3, activation="relu"), MaxPool2D(2), Conv2D(64, 3, activation="relu"),
                MaxPool2D(2), Flatten(), Dense(128, activation="relu"), Dense(10, activation="softmax")],
               input_shape=(28, 28, 1), seed=0)  # the course CNN: its second block splits rows
for _ in range(40):  # long enough for threads-or-not to try both ways
    m.predict(np.random.default_rng(1).random((1, 28, 28, 1), dtype=np.float32))
after = t._signatures()
print({k: (before.get(k), v) for k, v in after.items() if v != before.get(k)})
"""


def test_the_inference_phase_is_all_a_one_image_prediction_needs():
    # the drawing pad predicts one image at a time as soon as this phase is done; a fresh
    # process, so that nothing another test loaded hides a missing kernel
    import os
    import subprocess
    import sys
    from pathlib import Path

    here = Path(__file__).resolve().parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(here.parent), str(here)])}
    out = subprocess.run([sys.executable, "-c", INFERENCE_ONLY], capture_output=True, text=True,
                         env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "{}"
