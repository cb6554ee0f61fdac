"""Where compile time goes, from an empty cache: a first-ever launch's warm-up.

    .venv/bin/python benchmarks/compile_times.py [--jobs N] [--top 25] [--first-prediction-only]

Runs in a fresh, empty Numba cache (a temporary NUMBA_CACHE_DIR, inherited by any worker
process). By default as the app does it (core.fast.warmup's main: the steps shared between
N worker processes, N = one per core): when the drawing pad's kernels were compiled, when
the inference phase was, when everything was, and each step's processor seconds.

With --jobs 1 everything runs in this process, as before the warm-up went parallel: one
prediction of the course CNN, then the whole warm-up. Numba reports each compilation as a
"numba:compile" event; a kernel's own share is its time minus the compilations it
triggered (its callees), so the shares add up to the total.

Either way it also prints the processor seconds of this process and its children: on a
machine other people use, wall seconds depend on them, processor seconds much less.
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
    ap.add_argument("--first-prediction-only", action="store_true",
                    help="with --jobs 1: stop after the course CNN's first prediction")
    ap.add_argument("--jobs", type=int, default=None,
                    help="worker processes (default: one per core); 1: in this process")
    args = ap.parse_args()
    cache = tempfile.mkdtemp(prefix="backprop-lab-compile-")
    os.environ["NUMBA_CACHE_DIR"] = cache  # before Numba is imported: it reads it once
    t0 = time.perf_counter()
    try:
        from core.fast.parallel_warmup import default_jobs

        jobs = default_jobs() if args.jobs is None else args.jobs
        rc = _measure(args) if jobs == 1 or args.first_prediction_only else _parallel(jobs)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print(f"\nin all: {time.perf_counter() - t0:.1f} s wall, {_cpu():.1f} processor seconds "
          f"(this process and its children; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores)")
    return rc


def _cpu() -> float:
    import resource

    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def _parallel(jobs: int) -> int:
    from core.fast.parallel_warmup import warm_up_parallel
    from core.fast.warmup import DRAWING_PAD, INFERENCE

    marks: dict[str, float] = {}
    t0 = time.perf_counter()

    def progress(done, total, label, phase):
        now = time.perf_counter() - t0
        if not (done < total and label.startswith(DRAWING_PAD)):
            marks.setdefault("drawing pad", now)
        if done == total or phase != INFERENCE:
            marks.setdefault("inference", now)

    rep = warm_up_parallel(jobs, progress=progress)
    total = time.perf_counter() - t0
    print(f"{jobs} worker processes; completed: {rep.completed}")
    print(f"drawing pad's kernels compiled after {marks.get('drawing pad', total):.1f} s, "
          f"inference phase {marks.get('inference', total):.1f} s, every kernel {total:.1f} s")
    print(f"\nprocessor seconds per step (sum {sum(rep.cpu_seconds.values()):.1f}), "
          f"wall seconds beside:")
    for label, cpu in sorted(rep.cpu_seconds.items(), key=lambda kv: -kv[1]):
        print(f"  {cpu:6.2f}  {rep.seconds[label]:6.2f}  {label}")
    return 0 if rep.completed else 1


def _measure(args) -> int:

    from numba.core import event

    own: dict[str, float] = {}
    stack: list[list] = []

    class Listener(event.Listener):
        def on_start(self, ev):
            f = ev.data["dispatcher"].py_func
            stack.append([f"{f.__module__}.{f.__name__}", time.process_time(), 0.0])

        def on_end(self, ev):
            name, t0, children = stack.pop()
            total = time.process_time() - t0
            own[name] = own.get(name, 0.0) + total - children
            if stack:
                stack[-1][2] += total

    event.register("numba:compile", Listener())
    import numpy as np

    from speed import course_cnn

    x = np.zeros((1, 28, 28, 1), np.float32)
    x[0, 5:23, 12:16, 0] = 1.0
    t0, c0 = time.perf_counter(), _cpu()
    course_cnn().predict(x)
    print(f"first prediction: {time.perf_counter() - t0:.1f} s ({_cpu() - c0:.1f} processor s)")
    if not args.first_prediction_only:
        from core.fast.warmup import warm_up

        t0 = time.perf_counter()
        rep = warm_up()
        print(f"warm-up: {time.perf_counter() - t0:.1f} s "
              f"({', '.join(f'{k} {v:.1f} s' for k, v in rep.phase_seconds.items())})")
    print(f"\nown compile processor seconds, {args.top} largest of {len(own)} (sum {sum(own.values()):.1f} s):")
    for name, secs in sorted(own.items(), key=lambda kv: -kv[1])[:args.top]:
        print(f"  {secs:6.2f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
