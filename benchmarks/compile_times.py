"""Where compile time goes: each kernel's own share of compiling everything from an empty cache.

    .venv/bin/python benchmarks/compile_times.py [--top 25] [--first-prediction-only]

Runs in a fresh, empty Numba cache (a temporary NUMBA_CACHE_DIR): one prediction of the
course CNN, then the whole warm-up (core.fast.warmup), as a first-ever launch does. Numba
reports each compilation as a "numba:compile" event; a kernel's own share is its time
minus the compilations it triggered (its callees), so the shares add up to the total.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--first-prediction-only", action="store_true")
    args = ap.parse_args()
    cache = tempfile.mkdtemp(prefix="backprop-lab-compile-")
    os.environ["NUMBA_CACHE_DIR"] = cache  # before Numba is imported: it reads it once
    try:
        return _measure(args)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def _measure(args) -> int:

    from numba.core import event

    own: dict[str, float] = {}
    stack: list[list] = []

    class Listener(event.Listener):
        def on_start(self, ev):
            f = ev.data["dispatcher"].py_func
            stack.append([f"{f.__module__}.{f.__name__}", time.perf_counter(), 0.0])

        def on_end(self, ev):
            name, t0, children = stack.pop()
            total = time.perf_counter() - t0
            own[name] = own.get(name, 0.0) + total - children
            if stack:
                stack[-1][2] += total

    event.register("numba:compile", Listener())
    import numpy as np

    from speed import course_cnn

    x = np.zeros((1, 28, 28, 1), np.float32)
    x[0, 5:23, 12:16, 0] = 1.0
    t0 = time.perf_counter()
    course_cnn().predict(x)
    print(f"first prediction: {time.perf_counter() - t0:.1f} s")
    if not args.first_prediction_only:
        from core.fast.warmup import warm_up

        t0 = time.perf_counter()
        rep = warm_up()
        print(f"warm-up: {time.perf_counter() - t0:.1f} s "
              f"({', '.join(f'{k} {v:.1f} s' for k, v in rep.phase_seconds.items())})")
    print(f"\nown compile seconds, {args.top} largest of {len(own)} (sum {sum(own.values()):.1f} s):")
    for name, secs in sorted(own.items(), key=lambda kv: -kv[1])[:args.top]:
        print(f"  {secs:6.2f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
