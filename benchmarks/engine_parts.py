"""Where a training step's time goes, and the costs the engine's design answers to.

    .venv/bin/python benchmarks/engine_parts.py [--steps 200]

1. One course-CNN (batch 64) and one dense 784-128-10 (batch 128) training step on the
   offline digits, split by layer run (forward / backward of each) and the optimizer:
   the median of each part over the steps (the rest of a step is the loss and Python).
2. Starting a parallel kernel that does nothing, with Numba's OpenMP and workqueue
   threading layers (each in a fresh process): what one parallel kernel call costs
   before it computes anything.
3. The dense 784 -> 128 forward (batch 128) with its operands in cache and after a 16 MB
   sweep has evicted them (as in a training step, where the optimizer has just rewritten
   the weights).
4. The fixed cost of a step: a 784-4-10 network's step, whose products are negligible.

Dense networks with a softmax output train in one compiled call (core.kernels.dense_step);
their step is also timed layer by layer, the way other networks run.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from speed_support import median_us  # noqa: E402

LAUNCH = r"""
import time, numpy as np, numba
from numba import njit, prange
@njit(parallel=True, nogil=True)
def f(a):
    for t in prange(2):
        a[t] += 1.0
a = np.zeros(2); f(a)
ts = []
for _ in range(2000):
    t0 = time.perf_counter(); f(a); ts.append(time.perf_counter() - t0)
print(numba.threading_layer(), float(np.median(ts)))
"""


def step_parts(model, x, y, steps):
    """Median microseconds of a step and of each layer run's forward/backward and the update."""
    import numpy as np

    import core.fast.conv_pool as fused

    for _ in range(5):
        model.train_on_batch(x, y)
    runs = model._plan.runs(model.layers)
    names = {id(r): f"{i} {type(getattr(r, 'layer', r)).__name__ if hasattr(r, 'layer') else 'Conv2D+MaxPool2D'}"
             for i, r in enumerate(runs)}
    times: dict[str, list[float]] = {}
    originals = []

    def timed(owner, attr, label_of):
        f = getattr(owner, attr)
        originals.append((owner, attr, f))

        def wrapper(self, *a, **k):
            t0 = time.perf_counter()
            out = f(self, *a, **k)
            times.setdefault(label_of(self), []).append(time.perf_counter() - t0)
            return out
        setattr(owner, attr, wrapper)

    for cls in (fused.LayerRun, fused.ConvPoolRun):
        for attr in ("forward", "backward", "backward_from_preactivation"):
            timed(cls, attr, lambda self, attr=attr: f"{names[id(self)]} {attr.split('_')[0]}")
    timed(type(model.optimizer), "apply", lambda self: "optimizer")
    total = []
    try:
        for _ in range(steps):
            t0 = time.perf_counter()
            model.train_on_batch(x, y)
            total.append(time.perf_counter() - t0)
    finally:
        for owner, attr, f in originals:
            setattr(owner, attr, f)
    parts = {k: float(np.median(v)) * 1e6 for k, v in times.items()}
    return float(np.median(total)) * 1e6, parts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=200)
    args = ap.parse_args()

    import numpy as np

    from core.data import load_offline_digits
    from core.fast.plan import WHOLE_STEP
    from core.kernels import dense as D
    from core.layers import Dense, Flatten
    from core.model import Sequential
    from core.optimizers import SGD
    from speed import course_cnn, course_mlp

    print(f"engine parts — {os.cpu_count()} logical CPUs, load average "
          f"{os.getloadavg()[0]:.1f}; medians in microseconds")
    x, y = load_offline_digits()
    for name, model, batch in (("course CNN, batch 64", course_cnn(), 64),
                               ("dense 784-128-10, batch 128", course_mlp(), 128)):
        xb, yb = np.ascontiguousarray(x[:batch]), y[:batch].copy()
        fused = model._plan.kind(model) == WHOLE_STEP
        total, parts = step_parts(model, xb, yb, args.steps)
        if fused:  # one compiled call (core.kernels.dense_step): no layer to time on its own
            model._plan.allow_whole_step = False
            by_layer, parts = step_parts(model, xb, yb, args.steps)
            model._plan.allow_whole_step = True
            print(f"\n{name}: step {total:8.1f} as one fused call; layer by layer {by_layer:8.1f}:")
        else:
            print(f"\n{name}: step {total:8.1f}")
        for k, v in parts.items():
            print(f"  {k:<34s} {v:8.1f}")

    print("\nstarting an empty parallel kernel (fresh process per threading layer):")
    for layer in ("omp", "workqueue"):
        env = dict(os.environ, NUMBA_THREADING_LAYER=layer)
        out = subprocess.run([sys.executable, "-c", LAUNCH], capture_output=True, text=True, env=env)
        if out.returncode == 0:
            got, secs = out.stdout.split()
            print(f"  {got:<10s} {float(secs) * 1e6:8.1f}")
        else:
            print(f"  {layer:<10s} not available here")

    rng = np.random.default_rng(0)
    xd = np.ascontiguousarray(x[:128].reshape(128, -1))
    w = (rng.standard_normal((784, 128)) * 0.05).astype(np.float32)
    b = np.zeros(128, np.float32)
    sweep = np.empty(4_000_000, np.float32)
    warm = median_us(lambda: D.dense_forward_planned(xd, w, b, True), 300, warm=10)

    def cold():
        sweep.fill(1.0)
        t0 = time.perf_counter()
        D.dense_forward_planned(xd, w, b, True)
        return time.perf_counter() - t0
    cold_us = float(np.median([cold() for _ in range(100)])) * 1e6
    print(f"\ndense 784 -> 128 forward, batch 128: operands in cache {warm:8.1f}, "
          f"after a 16 MB sweep {cold_us:8.1f}")

    tiny = Sequential([Flatten(), Dense(4, activation="relu"), Dense(10, activation="softmax")],
                      input_shape=(28, 28, 1), seed=0)
    tiny.compile(optimizer=SGD(0.01), loss="sparse_categorical_crossentropy")
    xt, yt = np.ascontiguousarray(x[:128]), y[:128].copy()
    fused_us = median_us(lambda: tiny.train_on_batch(xt, yt), 2000, warm=10)
    tiny._plan.allow_whole_step = False
    print(f"fixed cost of a step (784-4-10, batch 128): {fused_us:8.1f} fused, "
          f"{median_us(lambda: tiny.train_on_batch(xt, yt), 2000, warm=10):8.1f} layer by layer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
