"""Speed of the engine against its rivals on the CPU, side by side and interleaved in one run.

    python benchmarks/speed.py              # everything, both BLAS settings (~5-8 min, quiet machine)
    python benchmarks/speed.py --quick      # fewer repeats (~3-4 min, quiet machine)
    python benchmarks/speed.py --torch-passive --single-thread   # + two more passes
    python benchmarks/speed.py --fresh-malloc   # the fresh-process artefact, for comparison
    python benchmarks/speed.py --rows "CNN train step,CNN epoch" --rivals torch,tf   # a subset

The rivals are optional and benchmark-only, never dependencies of the app or its tests;
install them beside the app in a separate environment, e.g.
    python3 -m venv /work/bench-venv
    /work/bench-venv/bin/pip install -e . torch==2.13.0 tensorflow-cpu "jax[cpu]"
    /work/bench-venv/bin/python benchmarks/speed.py
A rival that is not installed shows as "not installed" in its rows:
  * PyTorch CPU (benchmarks/rivals_torch.py): every row, the equivalent NCHW networks, the
    loop every tutorial writes (zero_grad, forward, cross-entropy, backward, optimizer.step);
    without it a plain-NumPy reference (benchmarks/_reference_numpy.py) stands in;
  * TensorFlow-Keras CPU (benchmarks/rivals_tf.py): the course's own Keras model code,
    timed as `model.train_on_batch`, as a `@tf.function` training step, and as one
    `model.fit` epoch over the 5,000 offline digits;
  * JAX CPU (benchmarks/rivals_jax.py): the same CNN in jax.numpy / jax.lax, one
    jax.jit-compiled training step, and an epoch as a Python loop of that step.
Every side starts from our initial weights (the first losses are printed to show it) and
trains with SGD(0.01), batch 64 (CNN) or 128 (dense).

Steady state: every side is timed as it runs inside an application, not in a fresh
process. A fresh process's glibc malloc hands big buffers out as fresh mmaps and page-faults
them in on every step (PyTorch's course-CNN step: ~12 ms that way, ~7.3 ms in an app that
has loaded data); after the process has freed one large block, as any app that loaded a
data set has, they come from the heap. So each pass first allocates and frees one 30 MiB
NumPy array (benchmarks/speed_support.py says why this and not mallopt), then gives every
side warm-up calls, and prints the page faults per CNN step that are left (JAX's are
real: XLA's one 55 MiB scratch buffer per step is above the 32 MiB that glibc's threshold
can reach, so it is mmap-ed afresh every step in any application; rivals_jax.py).

All sides run in the same process, at their default thread counts, interleaved block by
block (the order rotating each round) so that whatever else the machine is doing slows
all alike; figures are medians over all timed calls after the warm-up.

What is timed: the course CNN's training step (batch 64), the dense 784-128-10 training
step (batch 128), one-image CNN prediction, a full epoch over the 5,000 offline digits for
both networks, LSTM(128) and SimpleRNN(128) with a Dense(10) head (a training step with
Adam on 64 digits read as 28 rows of 28 pixels, and one sequence predicted; against
PyTorch's own nn.LSTM / nn.RNN, benchmarks/recurrent_rivals.py), and the kernels alone. Ours is `model.train_on_batch` (forward, loss,
backward, finiteness check, SGD update) and `model.fit`.

Two passes, each in a fresh process because OpenBLAS reads its settings when it loads:
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (what users' machines have), and set (some
machines, this project's build machine included, pin OpenBLAS to its slower AVX2 code
that way; if they are not set in the environment, Haswell / 2 MiB stand in). PyTorch uses
MKL and oneDNN, TensorFlow oneDNN and Eigen, JAX XLA: the variables change only our side.
Then start-up: import + first prediction with an empty Numba cache (NUMBA_CACHE_DIR
pointed at a fresh folder) and with a warm one, and the time to compile every kernel.

On a busy machine (other processes wanting the cores) PyTorch's OpenMP threads spin while
they wait for each other, and its times can grow 10-100x while ours (sleeping Numba
threads) grow much less: ratios from such a run flatter us. --torch-passive adds a pass
with OMP_WAIT_POLICY=PASSIVE for PyTorch, --single-thread one with a single thread on every
side (per-core speed, which other load disturbs least); a quiet machine is the fair
comparison of the default settings.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

T_START = time.perf_counter()
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.speed_support import (CNN_EPOCH, CNN_STEP, DENSE_EPOCH, DENSE_STEP,  # noqa: E402
                                      LSTM_PREDICT, LSTM_STEP, PREDICT, RNN_PREDICT, RNN_STEP,
                                      cpu_description, cycling, enter_fresh_state,
                                      enter_steady_state,
                                      faults_per_call)

BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
STAND_IN = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": str(2 * 1024 * 1024)}
TARGETS = {  # ratio ours / PyTorch, (BLAS vars unset, set); issue 3, measured in fresh processes
    CNN_STEP: (0.45, 0.65),
    DENSE_STEP: (0.60, 0.85),
    PREDICT: (0.50, 0.60),
}
RIVALS = ("torch", "tf", "jax")
JSON_MARK = "@@RESULT "


# ---------------------------------------------------------------- timing


def _stats(ts):
    import numpy as np

    a = np.sort(np.asarray(ts))
    return {"median": float(np.median(a)), "p25": float(a[len(a) // 4]),
            "p75": float(a[(3 * len(a)) // 4]), "n": int(len(a))}


SETTLE = 0.03  # seconds between blocks: the other side's OpenMP threads stop spinning


def interleaved(fns, reps, block, warm=3, budget=None):
    """Time each of fns in turn, block by block; returns one stats dict per fn.

    Every side's thread pool spins for a while after each call (PyTorch's libgomp ~5 ms by
    default, ours ~0.5 ms) and would steal a core from the next side's first calls. So
    each block starts after a short pause and one untimed call: every timed call sees its
    own side's threads awake and the others' asleep, as in a program using only one. The
    order rotates each round, so no side always follows the same other. Stops early (after
    at least 2 rounds) once `budget` seconds are spent, so a loaded machine cannot
    stretch the run without end.
    """
    for fn in fns:
        time.sleep(SETTLE)
        for _ in range(warm):
            fn()
    times = [[] for _ in fns]
    t_end = None if budget is None else time.perf_counter() + budget
    for r in range(reps):
        if t_end is not None and r >= 2 and time.perf_counter() > t_end:
            break
        k = r % len(fns)
        for i in list(range(k, len(fns))) + list(range(k)):
            fn, out = fns[i], times[i]
            time.sleep(SETTLE)
            fn()
            for _ in range(block):
                t0 = time.perf_counter()
                fn()
                out.append(time.perf_counter() - t0)
    return [_stats(t) for t in times]


# ---------------------------------------------------------------- the networks


def course_cnn(seed=0):
    from core.layers import Conv2D, Dense, Flatten, MaxPool2D
    from core.model import Sequential
    from core.optimizers import SGD

    m = Sequential([Conv2D(32, 3, activation="relu"), MaxPool2D(2),
                    Conv2D(64, 3, activation="relu"), MaxPool2D(2), Flatten(),
                    Dense(128, activation="relu"), Dense(10, activation="softmax")],
                   input_shape=(28, 28, 1), seed=seed)
    m.compile(optimizer=SGD(0.01), loss="sparse_categorical_crossentropy")
    return m


def course_mlp(seed=0):
    from core.layers import Dense, Flatten
    from core.model import Sequential
    from core.optimizers import SGD

    m = Sequential([Flatten(), Dense(128, activation="relu"), Dense(10, activation="softmax")],
                   input_shape=(28, 28, 1), seed=seed)
    m.compile(optimizer=SGD(0.01), loss="sparse_categorical_crossentropy")
    return m


class _AllCores:
    """NumPy's BLAS at one thread per core while the NumPy side runs, as it was after: the
    engine sets it to one (its kernels call NumPy's own OpenBLAS from their threads,
    core.kernels._blas_library), which would handicap a reference a learner runs alone."""

    def __init__(self):
        from threadpoolctl import ThreadpoolController

        from core.kernels._blas_library import numpy_cblas

        used = numpy_cblas()  # None: the engine leaves NumPy's BLAS alone
        self.libs = [lib for lib in ThreadpoolController().lib_controllers
                     if used is not None and os.path.abspath(lib.filepath) == used[0]]
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        # the one-thread pass sets OPENBLAS_NUM_THREADS=1: the reference keeps to one core too
        self.cores = int(os.environ.get("OPENBLAS_NUM_THREADS") or cores)

    def __enter__(self):
        self.before = [lib.get_num_threads() for lib in self.libs]
        for lib in self.libs:
            lib.set_num_threads(self.cores)

    def __exit__(self, *exc):
        for lib, n in zip(self.libs, self.before):
            lib.set_num_threads(n)


class NumpySide:
    """The plain-NumPy reference, for machines without PyTorch."""

    label = "plain NumPy"

    def __init__(self, w, wm):
        import numpy as np

        from benchmarks import _reference_numpy as R

        self.np, self.R = np, R
        self.name = f"plain NumPy {np.__version__}"
        self.cnn = R.NumpyCNN(w)
        self.mlp = R.NumpyMLP(wm)
        self.all_cores = _AllCores()

    def batch(self, x, y):
        return x, y

    def train_cnn(self, xb, yb):
        with self.all_cores:
            return self.cnn.train_step(xb, yb)

    def train_mlp(self, xb, yb):
        with self.all_cores:
            return self.mlp.train_step(xb, yb)

    def predict(self, x1):
        with self.all_cores:
            z = self.cnn.logits(x1)
        e = self.np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def epoch(self, which, x, y, batch, seed):
        order = self.np.random.default_rng(seed).permutation(len(x))
        step = self.train_cnn if which == "cnn" else self.train_mlp
        for s in range(0, len(x), batch):
            idx = order[s:s + batch]
            step(x[idx], y[idx])

    def kernels(self, shapes):
        np, R = self.np, self.R
        rng = np.random.default_rng(0)
        out = {}
        x = rng.random(shapes["conv_x"], dtype=np.float32)
        k = rng.random(shapes["conv_w"], dtype=np.float32) - 0.5
        b = np.zeros(k.shape[3], np.float32)
        y, cols = R.conv_forward(x, k, b)
        dy = rng.random(y.shape, dtype=np.float32)
        out["conv forward"] = lambda: R.conv_forward(x, k, b)
        out["conv input gradient"] = lambda: R.conv_grad_input(dy, k, x.shape)
        out["conv weight gradient"] = lambda: R.conv_grad_weight(R.conv_forward(x, k, b)[1], dy, k.shape)
        xp = rng.random(shapes["pool_x"], dtype=np.float32)
        yp, v = R.max_pool_forward(xp)
        dyp = rng.random(yp.shape, dtype=np.float32)
        out["max pool forward"] = lambda: R.max_pool_forward(xp)
        out["max pool backward"] = lambda: R.max_pool_backward(dyp, v, xp.shape)
        xd = rng.random(shapes["dense_x"], dtype=np.float32)
        wd = rng.random(shapes["dense_w"], dtype=np.float32)
        bd = np.zeros(wd.shape[1], np.float32)
        dyd = rng.random((xd.shape[0], wd.shape[1]), dtype=np.float32)
        out["dense forward"] = lambda: xd @ wd + bd
        out["dense backward"] = lambda: (dyd @ wd.T, xd.T @ dyd, dyd.sum(0))
        return {name: self._on_all_cores(fn) for name, fn in out.items()}

    def _on_all_cores(self, fn):
        def run():
            with self.all_cores:
                return fn()
        return run


def our_kernels(shapes):
    import numpy as np

    from core import kernels as K

    rng = np.random.default_rng(0)
    out = {}
    x = rng.random(shapes["conv_x"], dtype=np.float32)
    k = rng.random(shapes["conv_w"], dtype=np.float32) - 0.5
    b = np.zeros(k.shape[3], np.float32)
    dy = rng.random(K.conv2d_forward(x, k, b).shape, dtype=np.float32)
    out["conv forward"] = lambda: K.conv2d_forward(x, k, b)
    out["conv input gradient"] = lambda: K.conv2d_grad_input(dy, k, x.shape)
    out["conv weight gradient"] = lambda: K.conv2d_grad_weight(x, dy, k.shape[:2])
    xp = rng.random(shapes["pool_x"], dtype=np.float32)
    yp, arg = K.max_pool_forward(xp, 2)
    dyp = rng.random(yp.shape, dtype=np.float32)
    out["max pool forward"] = lambda: K.max_pool_forward(xp, 2)
    out["max pool backward"] = lambda: K.max_pool_backward(dyp, arg, xp.shape)
    xd = rng.random(shapes["dense_x"], dtype=np.float32)
    wd = rng.random(shapes["dense_w"], dtype=np.float32)
    bd = np.zeros(wd.shape[1], np.float32)
    dyd = rng.random((xd.shape[0], wd.shape[1]), dtype=np.float32)
    out["dense forward"] = lambda: K.dense_forward(xd, wd, bd)
    out["dense backward"] = lambda: K.dense_backward(xd, wd, dyd)
    return out


KERNEL_SHAPES = {  # the course CNN's second convolution, its first pooling, its first dense
    "conv_x": (64, 13, 13, 32), "conv_w": (3, 3, 32, 64), "pool_x": (64, 26, 26, 32),
    "dense_x": (128, 784), "dense_w": (784, 128),
}
KERNEL_NOTES = {
    "conv forward": "64x13x13x32 -> 64 filters 3x3, + bias",
    "conv input gradient": "same layer",
    "conv weight gradient": "same layer",
    "max pool forward": "64x26x26x32, 2x2, with argmax",
    "max pool backward": "same",
    "dense forward": "128x784 -> 128, + bias",
    "dense backward": "dx, dw, db",
}


# ---------------------------------------------------------------- one pass (child process)


def _value(loss):
    return float(loss.detach()) if hasattr(loss, "detach") else float(loss)



def blas_summary():
    from core.kernels import _threads

    info = _threads.describe()
    libs = "; ".join(f"{b['internal_api']} {b.get('version')} {b.get('architecture')} "
                     f"x{b.get('num_threads')} ({Path(b['filepath']).name})" for b in info["blas"])
    return info, libs


class Work:
    """What every side trains on, made once: the same batches, the same initial weights."""

    def __init__(self, x, y, cnn_weights, mlp_weights, k=24):
        import numpy as np

        self.x, self.y = x, y
        self.cnn_weights, self.mlp_weights = cnn_weights, mlp_weights

        def batches(size):
            starts = [(i * size) % (len(x) - size) for i in range(k)]
            return ([np.ascontiguousarray(x[s:s + size]) for s in starts],
                    [y[s:s + size].copy() for s in starts])

        self.cnn_x, self.cnn_y = batches(64)
        self.dense_x, self.dense_y = batches(128)
        self.x1 = np.ascontiguousarray(x[:1])


def ours_contenders(cnn, mlp, work):
    seeds = iter(range(10 ** 6))
    x, y = work.x, work.y
    return {
        CNN_STEP: cycling(cnn.train_on_batch, work.cnn_x, work.cnn_y),
        DENSE_STEP: cycling(mlp.train_on_batch, work.dense_x, work.dense_y),
        PREDICT: lambda: cnn.predict(work.x1),
        CNN_EPOCH: lambda: cnn.fit(x, y, epochs=1, batch_size=64, seed=next(seeds)),
        DENSE_EPOCH: lambda: mlp.fit(x, y, epochs=1, batch_size=128, seed=next(seeds)),
    }


class Reference:
    """PyTorch's (or plain NumPy's) side: every row, the kernels included."""

    def __init__(self, side):
        self.side, self.label, self.name = side, side.label, side.name

    def first_losses(self, work):
        s = self.side
        return {"cnn": {self.label: _value(s.train_cnn(*s.batch(work.cnn_x[0], work.cnn_y[0])))},
                "mlp": {self.label: _value(s.train_mlp(*s.batch(work.dense_x[0], work.dense_y[0])))}}

    def contenders(self, work):
        s, L = self.side, self.label
        cnn_b = [s.batch(a, b) for a, b in zip(work.cnn_x, work.cnn_y)]
        dense_b = [s.batch(a, b) for a, b in zip(work.dense_x, work.dense_y)]
        x1 = s.batch(work.x1, work.y[:1])[0]
        xr, yr = s.batch(work.x, work.y)
        seeds = iter(range(10 ** 6))
        return {
            CNN_STEP: {L: cycling(s.train_cnn, *zip(*cnn_b))},
            DENSE_STEP: {L: cycling(s.train_mlp, *zip(*dense_b))},
            PREDICT: {L: lambda: s.predict(x1)},
            CNN_EPOCH: {L: lambda: s.epoch("cnn", xr, yr, 64, next(seeds))},
            DENSE_EPOCH: {L: lambda: s.epoch("mlp", xr, yr, 128, next(seeds))},
        }


def import_rivals(wanted):
    """Import the rivals' frameworks before the engine, each where installed.

    PyTorch first: its own libgomp reads GOMP_SPINCOUNT when it loads, and the engine sets
    that variable for its libgomp (core.kernels._threads); PyTorch keeps its defaults.
    Returns {key: why not} for each wanted rival that cannot be imported."""
    missing = {}
    for key in RIVALS:
        if key not in wanted:
            continue
        try:
            if key == "torch":
                import torch  # noqa: F401
            elif key == "tf":
                from benchmarks.rivals_tf import import_tensorflow

                import_tensorflow()
            else:
                import jax  # noqa: F401
        except ImportError as exc:
            missing[key] = "not installed" if exc.name and exc.name.split(".")[0] in (
                "torch", "tensorflow", "jax", "jaxlib", "keras") else f"not importable: {exc}"
    return missing


#: (reps quick/full, block quick/full, budget quick/full in seconds for two sides, warm-up calls)
TIMING = {
    CNN_STEP: ((10, 24), (10, 16), (6, 15), 3),
    DENSE_STEP: ((20, 48), (20, 30), (3, 8), 3),
    PREDICT: ((20, 48), (30, 50), (3, 6), 3),
    CNN_EPOCH: ((2, 3), (1, 1), (8, 15), 1),
    DENSE_EPOCH: ((2, 3), (1, 1), (8, 15), 1),
    LSTM_STEP: ((10, 24), (10, 16), (6, 15), 3),
    RNN_STEP: ((10, 24), (10, 16), (4, 10), 3),
    LSTM_PREDICT: ((20, 48), (30, 50), (3, 6), 3),
    RNN_PREDICT: ((20, 48), (30, 50), (3, 6), 3),
}
KERNEL_TIMING = ((10, 24), (5, 8), (1, 2.5), 3)


def run_pass(args):
    wanted = set(args.rivals.split(",")) if args.rivals else set()
    unknown = wanted - set(RIVALS)
    if unknown:
        sys.exit(f"--rivals: unknown {sorted(unknown)}; choose from {','.join(RIVALS)}")
    if args.numpy_reference:
        wanted.discard("torch")
    missing = import_rivals(wanted)
    from core.data import load_offline_digits

    quick = args.quick
    steady = None if args.fresh_malloc else enter_steady_state()
    env_desc = ", ".join(f"{v}={os.environ[v]}" for v in BLAS_VARS if v in os.environ) or "unset"
    x, y = load_offline_digits()
    cnn, mlp = course_cnn(), course_mlp()
    work = Work(x, y, cnn.get_weights(), mlp.get_weights())

    sides, absent = [], {}  # absent: {label: (rows, why)}
    if "torch" in wanted and "torch" not in missing:
        from benchmarks.rivals_torch import TorchSide

        sides.append(Reference(TorchSide(work.cnn_weights, work.mlp_weights)))
    else:
        if "torch" in missing:
            absent["PyTorch"] = ("all", missing["torch"] + "; plain NumPy stands in")
        sides.append(Reference(NumpySide(work.cnn_weights, work.mlp_weights)))
    for key, module in (("tf", "rivals_tf"), ("jax", "rivals_jax")):
        if key not in wanted:
            continue
        mod = importlib.import_module(f"benchmarks.{module}")
        if key in missing:
            absent[mod.LABEL] = (mod.ROWS, missing[key])
            continue
        try:
            cls = mod.KerasSide if key == "tf" else mod.JaxSide
            sides.append(cls(work.cnn_weights))
        except Exception as exc:  # a broken install is reported, and the others still run
            absent[mod.LABEL] = (mod.ROWS, f"failed: {type(exc).__name__}: {exc}")
    ref = sides[0]
    if args.fresh_malloc:  # last, just before timing: everything above has raised the thresholds
        steady = enter_fresh_state()

    info, libs = blas_summary()
    print(f"  OPENBLAS vars: {env_desc}" + (f"; OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}"
                                          if "OMP_WAIT_POLICY" in os.environ else ""))
    print(f"  steady state: {steady}")
    print(f"  our BLAS (Numba's np.dot uses SciPy's): {libs}")
    print(f"  Numba: {info['numba_threads']} threads, batches split in {info['chunks']} chunks")
    for side in sides:
        print(f"  rival: {side.name}")
    for label, (_, why) in absent.items():
        print(f"  rival: {label} {why}")

    def wanted_row(row):
        return not args.rows or any(part.strip().lower() in row.lower()
                                    for part in args.rows.split(","))

    # same network on every side: the first losses agree (each side's first step, batch 0);
    # skipped when only recurrent rows are asked for (nothing else is compiled then)
    first = {"cnn": {}, "mlp": {}}
    if any(wanted_row(r) for r in (CNN_STEP, DENSE_STEP, PREDICT, CNN_EPOCH, DENSE_EPOCH)):
        first = {"cnn": {"ours": cnn.train_on_batch(work.cnn_x[0], work.cnn_y[0])["loss"]},
                 "mlp": {"ours": mlp.train_on_batch(work.dense_x[0], work.dense_y[0])["loss"]}}
        for side in sides:
            for net, losses in side.first_losses(work).items():
                first[net].update(losses)

    ours = ours_contenders(cnn, mlp, work)
    theirs = {}  # row -> {label: fn}
    for side in sides:
        for row, fns in side.contenders(work).items():
            theirs.setdefault(row, {}).update(fns)
    # the recurrent rows (issue 16): PyTorch's own LSTM / RNN; no plain-NumPy stand-in
    from benchmarks import recurrent_rivals

    rnn_models = recurrent_rivals.our_models()
    ours.update(recurrent_rivals.ours(rnn_models, work))
    if "torch" in wanted and "torch" not in missing:
        for row, fns in recurrent_rivals.torch_contenders(rnn_models, work).items():
            theirs.setdefault(row, {}).update(fns)
    if any(wanted_row(name) for name in KERNEL_NOTES):
        ours_k, ref_k = our_kernels(KERNEL_SHAPES), ref.side.kernels(KERNEL_SHAPES)
        for name in ours_k:
            ours[name] = ours_k[name]
            theirs[name] = {ref.label: ref_k[name]}

    results = {"first losses": first}
    print(f"  {'':<38} {'rival':<28} {'ours':>12} {'rival':>12} {'ratio':>7} {'(p25)':>7}   "
          "medians; ratio = ours / rival, lower is faster; (p25): ratio of the fastest quarters")

    def fmt(t, unit_s):
        return f"{t * 1e3:9.3f} ms" if not unit_s else f"{t:9.3f} s "

    for row in ours:
        if not wanted_row(row):
            continue
        (reps, block, budget, warm) = TIMING.get(row, KERNEL_TIMING)
        q = 0 if quick else 1
        labels = list(theirs.get(row, {}))
        fns = [ours[row]] + [theirs[row][lab] for lab in labels]
        stats = interleaved(fns, reps[q], block[q], warm=warm,
                            budget=budget[q] * len(fns) / 2)
        o = stats[0]
        unit_s = o["median"] >= 2
        note = KERNEL_NOTES.get(row, f"{len(x) // 64 + 1} steps" if row == CNN_EPOCH else
                                f"{len(x) // 128 + 1} steps" if row == DENSE_EPOCH else "")
        res = results[row] = {"ours": o, "rivals": {}, "absent": {}, "note": note}
        head = row
        for lab, r in zip(labels, stats[1:]):
            ratio, ratio25 = o["median"] / r["median"], o["p25"] / r["p25"]
            res["rivals"][lab] = {"stats": r, "ratio": ratio, "ratio_p25": ratio25}
            print(f"  {head:<38} {lab:<28} {fmt(o['median'], unit_s)} {fmt(r['median'], unit_s)}"
                  f" {ratio:6.2f}x {ratio25:6.2f}x   {note}", flush=True)
            head = ""
        for label, (rows, why) in absent.items():
            if rows == "all" or row in rows:
                for lab in ([label] if rows == "all" else rows[row]):
                    res["absent"][lab] = why
                    print(f"  {head:<38} {lab:<28} {why}", flush=True)
                    head = ""
        if row == CNN_STEP:  # what the steady state left: page faults per step on each side
            faults = {lab: faults_per_call(fn) for lab, fn in zip(["ours"] + labels, fns)}
            res["page_faults_per_call"] = faults
            print("  " + " " * 38 + " minor page faults per step after warm-up: "
                  + ", ".join(f"{k} {v:.0f}" for k, v in faults.items()), flush=True)

    for net, losses in first.items():
        print(f"  first {'CNN' if net == 'cnn' else 'dense'} loss, each side's first step on the same "
              "batch from the same weights: " + ", ".join(f"{k} {v:.6f}" for k, v in losses.items()))
    from core.kernels import _threads

    sites = _threads.site_report()
    faster = sum(1 for t, s_, _ in sites.values() if t <= s_)
    print(f"  Numba threading layer {_threads.describe()['threading_layer']}; at the end, threads were "
          f"faster than one core at {faster} of {len(sites)} kernel call sites")
    return {"env": env_desc, "blas": libs, "numba": info, "steady_state": steady,
            "rivals": [s.name for s in sides], "absent": {k: v[1] for k, v in absent.items()},
            "results": results, "sites_threaded": [faster, len(sites)]}


# ---------------------------------------------------------------- start-up (child process)


def startup_probe(args):
    """Import the engine and predict one digit with the course CNN; then maybe compile the rest."""
    t0 = T_START
    import numpy as np

    from core.model import Sequential  # noqa: F401  (the engine)
    import core.layers  # noqa: F401

    t_import = time.perf_counter() - t0
    m = course_cnn()
    x = np.zeros((1, 28, 28, 1), np.float32)
    x[0, 5:23, 12:16, 0] = 1.0  # a "1"
    t1 = time.perf_counter()
    m.predict(x)
    t_predict = time.perf_counter() - t1
    out = {"import": t_import, "first_predict": t_predict, "since_start": time.perf_counter() - t0}
    if args.compile_all:
        from core.fast.warmup import warm_up

        rep = warm_up()
        out["warm_up"] = rep.total
        out["warm_up_phases"] = rep.phase_seconds
    return out


def child(args_list, env):
    """Run this script with args in a fresh process; stream its lines, return its JSON."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *args_list], env=env,
                            stdout=subprocess.PIPE, text=True, cwd=str(ROOT))
    result = None
    for line in proc.stdout:
        if line.startswith(JSON_MARK):
            result = json.loads(line[len(JSON_MARK):])
        else:
            print(line, end="", flush=True)
    if proc.wait() != 0:
        sys.exit(f"benchmark child {args_list} failed")
    result = result or {}
    result["wall"] = time.perf_counter() - t0
    return result


def env_for(kind):
    env = dict(os.environ)
    if kind in ("unset", "passive", "1 thread"):
        for v in BLAS_VARS:
            env.pop(v, None)
    else:
        for v in BLAS_VARS:
            env.setdefault(v, STAND_IN[v])
    if kind == "passive":  # PyTorch's OpenMP threads sleep instead of spinning (ours always do)
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    if kind == "1 thread":  # one core each: per-core speed, little disturbed by a busy machine
        env.update(NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   OPENBLAS_NUM_THREADS="1",
                   TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1",
                   XLA_FLAGS=(env.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
                              " intra_op_parallelism_threads=1").strip())
    return env


def print_summary(passes, kinds):
    """One line per row and rival, one column per pass; PyTorch's lines checked against TARGETS."""
    def ratio(k, row, lab):
        return passes.get(k, {}).get("results", {}).get(row, {}).get("rivals", {}).get(lab, {}).get("ratio")

    print("\n== summary: ratio ours / rival (lower is faster; targets from issue 3, against PyTorch) ==")
    print(f"  {'':<38} {'rival':<28}" + "".join(f"{k:>14}" for k in kinds) + "   targets (unset / set)")
    first_pass = next(iter(passes.values()))["results"]
    for row, res in first_pass.items():
        if row == "first losses":
            continue
        head = row
        for lab in list(res["rivals"]) + list(res["absent"]):
            cells = "".join(f"{ratio(k, row, lab):13.2f}x" if ratio(k, row, lab) is not None
                            else f"{'n/a':>14}" for k in kinds)
            tgt = TARGETS.get(row) if lab == "PyTorch" else None
            verdict = ""
            if lab in res["absent"]:
                verdict = f"   {res['absent'][lab]}"
            elif tgt:  # the targets are for the default settings: the "unset" and "set" passes
                marks = [f"{k} {'met' if ratio(k, row, lab) <= tgt[i] else 'NOT met'}"
                         for i, k in enumerate(("unset", "set")) if ratio(k, row, lab) is not None]
                verdict = f"   <= {tgt[0]:.2f} / <= {tgt[1]:.2f}: {', '.join(marks)}"
            print(f"  {head:<38} {lab:<28}{cells}{verdict}")
            head = ""
    for net, losses in first_pass["first losses"].items():
        print(f"  same networks, first {'CNN' if net == 'cnn' else 'dense'} losses: "
              + ", ".join(f"{k} {v:.6f}" for k, v in losses.items()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--passes", choices=["both", "unset", "set"], default="both")
    ap.add_argument("--no-startup", action="store_true", help="skip the start-up measurements")
    ap.add_argument("--numpy-reference", action="store_true", help="compare with plain NumPy even if PyTorch is installed")
    ap.add_argument("--rivals", default=",".join(RIVALS),
                    help="comma-separated rivals to race where installed (default: %(default)s)")
    ap.add_argument("--rows", help="time only the rows whose names contain one of these "
                    "comma-separated words, e.g. --rows 'CNN train step,CNN epoch'")
    ap.add_argument("--fresh-malloc", action="store_true",
                    help="skip the allocator's steady state: the fresh-process artefact, for comparison")
    ap.add_argument("--torch-passive", action="store_true",
                    help="one more pass (variables unset) with OMP_WAIT_POLICY=PASSIVE for PyTorch: "
                         "on a busy machine its spinning OpenMP threads dominate everything else")
    ap.add_argument("--single-thread", action="store_true",
                    help="one more pass with one thread on each side: per-core speed, the figure "
                         "a busy machine disturbs least")
    ap.add_argument("--json", help="also write all results to this file")
    ap.add_argument("--child", choices=["pass", "startup"], help=argparse.SUPPRESS)
    ap.add_argument("--compile-all", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child == "pass":
        print(JSON_MARK + json.dumps(run_pass(args)), flush=True)
        return
    if args.child == "startup":
        print(JSON_MARK + json.dumps(startup_probe(args)), flush=True)
        return

    import numba
    import numpy as np

    print(f"Backprop Lab speed benchmark — {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"  {cpu_description()}")
    print(f"  Python {platform.python_version()}, NumPy {np.__version__}, Numba {numba.__version__}")
    print("  medians of every timed call after warm-up; ours and every rival interleaved in one process;")
    print("  every side measured in its steady state, as inside an application: " + (
        "NOT this run (--fresh-malloc: glibc's fresh-process thresholds restored)" if args.fresh_malloc else
        "one 30 MiB block allocated and freed at start (glibc then serves big buffers from "
        "the heap, not fresh mmaps), then warm-up calls"))
    print("  on a shared machine, compare the ratios rather than the absolute times")
    extra = ["--quick"] if args.quick else []
    if args.numpy_reference:
        extra.append("--numpy-reference")
    if args.fresh_malloc:
        extra.append("--fresh-malloc")
    extra += ["--rivals", args.rivals] + (["--rows", args.rows] if args.rows else [])
    passes = {}
    kinds = ["unset", "set"] if args.passes == "both" else [args.passes]
    if args.torch_passive:
        kinds.append("passive")
    if args.single_thread:
        kinds.append("1 thread")
    titles = {"passive": "unset, PyTorch with OMP_WAIT_POLICY=PASSIVE",
              "1 thread": "unset, one thread on every side (Numba, OpenMP/MKL, TensorFlow, XLA)"}
    for kind in kinds:
        title = titles.get(kind, kind)
        print(f"\n== pass: OpenBLAS variables {title} ==")
        passes[kind] = child(["--child", "pass", *extra], env_for(kind))

    startup = {}
    if not args.no_startup:
        print("\n== start-up (import engine + first CNN prediction, in a fresh process) ==")
        with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
            env = env_for("unset")
            env["NUMBA_CACHE_DIR"] = cache
            startup["cold"] = child(["--child", "startup", "--compile-all"], env)
            startup["warm"] = child(["--child", "startup", "--compile-all"], env)
        for k in ("cold", "warm"):
            s = startup[k]
            print(f"  {k:<5} cache: import {s['import']:.2f} s + first prediction {s['first_predict']:.2f} s"
                  f" = {s['since_start']:.2f} s in-process; then every other kernel {s['warm_up']:.2f} s"
                  f" (process wall {s['wall']:.2f} s)")
        cold = startup["cold"]
        print(f"  compiling every kernel from an empty cache: {cold['first_predict'] + cold['warm_up']:.1f} s"
              f" (of which the first prediction's kernels {cold['first_predict']:.1f} s)")

    print_summary(passes, kinds)
    print(f"  total benchmark time {time.perf_counter() - T_START:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({"passes": passes, "startup": startup}, indent=1))


if __name__ == "__main__":
    main()
