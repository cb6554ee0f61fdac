"""Recurrent layers: our LSTM(128) and SimpleRNN(128) training step and one-sequence prediction
beside PyTorch CPU's (benchmark-only, optional), on 64 sequences of 28 steps × 28 features with
a Dense(10) head and Adam, as issue 16 asks. Each side runs in its own process, in its steady
state (5 untimed steps first); medians of 30 steps.

    .venv/bin/python benchmarks/recurrent_speed.py [--torch-python /work/bench-venv/bin/python]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def ours() -> dict:
    sys.path.insert(0, str(ROOT))
    from core.layers import LSTM, Dense, SimpleRNN
    from core.model import Sequential
    from core.optimizers import Adam

    rng = np.random.default_rng(0)
    x = rng.random((64, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 64)
    out = {}
    for cls in (LSTM, SimpleRNN):
        m = Sequential([cls(128), Dense(10, activation="softmax")], input_shape=(28, 28), seed=0)
        m.compile(optimizer=Adam(1e-3), loss="sparse_categorical_crossentropy")
        for _ in range(5):
            m.train_on_batch(x, y)
        steps = []
        for _ in range(30):
            t = time.perf_counter()
            m.train_on_batch(x, y)
            steps.append(time.perf_counter() - t)
        one = []
        for _ in range(50):
            t = time.perf_counter()
            m.predict(x[:1])
            one.append(time.perf_counter() - t)
        out[cls.__name__] = (float(np.median(steps)), float(np.median(one)))
    return out


def torch_side() -> dict:
    import torch

    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.random((64, 28, 28), dtype=np.float32))
    y = torch.from_numpy(rng.integers(0, 10, 64))
    out = {}
    for name, kind in (("LSTM", "LSTM"), ("SimpleRNN", "RNN")):
        net, head = getattr(torch.nn, kind)(28, 128, batch_first=True), torch.nn.Linear(128, 10)
        opt = torch.optim.Adam(list(net.parameters()) + list(head.parameters()), 1e-3)

        def step():
            opt.zero_grad()
            seq, _ = net(x)
            torch.nn.functional.cross_entropy(head(seq[:, -1]), y).backward()
            opt.step()
        for _ in range(5):
            step()
        steps = []
        for _ in range(30):
            t = time.perf_counter()
            step()
            steps.append(time.perf_counter() - t)
        one = []
        with torch.no_grad():
            for _ in range(50):
                t = time.perf_counter()
                head(net(x[:1])[0][:, -1])
                one.append(time.perf_counter() - t)
        out[name] = (float(np.median(steps)), float(np.median(one)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--torch-python", default=sys.executable,
                    help="a Python with PyTorch installed (default: this one)")
    ap.add_argument("--side", choices=("ours", "torch"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.side:
        print(json.dumps(ours() if args.side == "ours" else torch_side()))
        return 0
    results = {}
    for side, python in (("ours", sys.executable), ("torch", args.torch_python)):
        run = subprocess.run([python, __file__, "--side", side], capture_output=True, text=True)
        results[side] = json.loads(run.stdout.strip().splitlines()[-1]) if run.returncode == 0 else None
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}")
    for layer in ("LSTM", "SimpleRNN"):
        o = results["ours"][layer]
        t = results["torch"][layer] if results["torch"] else None
        ratio = f"{o[0] / t[0]:.2f}× PyTorch" if t else "PyTorch not installed"
        print(f"{layer:9s} step: ours {o[0] * 1e3:6.2f} ms" +
              (f", PyTorch {t[0] * 1e3:6.2f} ms ({ratio})" if t else f" ({ratio})") +
              f"; one sequence predicted: ours {o[1] * 1e3:.3f} ms" +
              (f", PyTorch {t[1] * 1e3:.3f} ms" if t else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
