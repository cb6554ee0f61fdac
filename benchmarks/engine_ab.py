"""The engine of two checkouts side by side: training steps and one-sample predictions,
each measured in fresh processes that alternate between the two (this VM's noise comes in
stretches; alternating spreads it over both sides).

    git worktree add /tmp/before <commit>
    .venv/bin/python benchmarks/engine_ab.py /tmp/before [--rounds 3]
    git worktree remove /tmp/before

Each process builds the course CNN (batch 64), the course dense network (batch 32), the
tutorial-24 CIFAR ANN (3072-3000-1000-10, batch 32) and LSTM(128)/SimpleRNN(128) on 64
sequences of 28x28, and prints the median training step and the best one-sample
prediction (best of 5 x 500 calls: the floor, which noise cannot lower) of each. The
compiled kernels come from each checkout's own Numba cache (the first round may compile).
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parents[1]


def measure(root: str) -> dict:
    sys.path.insert(0, root)
    sys.path.insert(0, str(Path(root) / "benchmarks"))
    from speed import course_cnn

    from core.kernels import _threads
    from core.layers import LSTM, Dense, Flatten, SimpleRNN
    from core.model import Sequential
    from core.optimizers import SGD, Adam

    _threads.configure()
    big = np.ones(30 * 2 ** 20 // 8)  # the allocator's steady state, as speed.py does
    del big
    rng = np.random.default_rng(0)

    def dense(units, shape):
        layers = [Flatten()] + [Dense(u, activation="relu") for u in units]
        m = Sequential(layers + [Dense(10, activation="softmax")], input_shape=shape, seed=0)
        m.compile(optimizer=SGD(0.01), loss="sparse_categorical_crossentropy")
        return m

    def recurrent(cls):
        m = Sequential([cls(128), Dense(10, activation="softmax")], input_shape=(28, 28), seed=0)
        m.compile(optimizer=Adam(1e-3), loss="sparse_categorical_crossentropy")
        return m

    cases = (("CNN", course_cnn(), (28, 28, 1), 64, 200),
             ("MLP", dense((128,), (28, 28, 1)), (28, 28, 1), 32, 300),
             ("CIFAR ANN", dense((3000, 1000), (3072,)), (3072,), 32, 30),
             ("LSTM", recurrent(LSTM), (28, 28), 64, 100),
             ("SimpleRNN", recurrent(SimpleRNN), (28, 28), 64, 100))
    out = {}
    for name, m, shape, batch, reps in cases:
        x = rng.random((batch,) + shape, dtype=np.float32)
        y = rng.integers(0, 10, batch)
        for _ in range(10):
            m.train_on_batch(x, y)
        steps = []
        for _ in range(reps):
            t = time.perf_counter()
            m.train_on_batch(x, y)
            steps.append(time.perf_counter() - t)
        one = x[:1]
        for _ in range(50):
            m.predict(one)
        best = []
        for _ in range(5):
            t = time.perf_counter()
            for _ in range(500):
                m.predict(one)
            best.append((time.perf_counter() - t) / 500)
        out[name] = (float(np.median(steps)), min(best))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("other", nargs="?", help="the other checkout's root")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    if not args.other:
        ap.error("give the other checkout's root")
    sides = {"other": str(Path(args.other).resolve()), "this": str(HERE)}
    for r in range(args.rounds):
        for label in (("this", "other") if r % 2 else ("other", "this")):
            res = subprocess.run([sys.executable, __file__, "--measure", sides[label]],
                                 capture_output=True, text=True, check=True)
            got = json.loads(res.stdout.strip().splitlines()[-1])
            cells = "  ".join(f"{k} {s * 1e3:.3f} ms / {p * 1e6:.1f} us"
                              for k, (s, p) in got.items())
            print(f"round {r + 1} {label:5s}  {cells}", flush=True)
    print("(step median / best one-sample prediction)")


if __name__ == "__main__":
    main()
