"""Speed of the engine against PyTorch CPU, side by side and interleaved in one run.

    .venv/bin/python benchmarks/speed.py              # everything, both BLAS settings (~2-3 min)
    .venv/bin/python benchmarks/speed.py --quick      # fewer repeats (~1.5 min)
    .venv/bin/python benchmarks/speed.py --torch-passive --single-thread   # + two more passes

PyTorch is the reference where it is installed (`pip install torch==2.13.0`: for this
benchmark only, never a dependency of the app or its tests); otherwise a plain-NumPy
reference is (benchmarks/_reference_numpy.py). Both sides run in the same process, at
their default thread counts, interleaved block by block so that whatever else the machine
is doing slows both alike; figures are medians over all timed calls after a warm-up.

What is timed: the course CNN's training step (batch 64), the dense 784-128-10 training
step (batch 128), one-image CNN prediction, a full epoch over the 5,000 offline digits for
both networks, and the kernels alone. Ours is `model.train_on_batch` (forward, loss,
backward, finiteness check, SGD update); PyTorch's is the loop every tutorial writes
(zero_grad, forward, cross-entropy, backward, optimizer.step) on the equivalent NCHW
model holding the same initial weights (the first losses are printed to show it).

Two passes, each in a fresh process because OpenBLAS reads its settings when it loads:
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (what users' machines have), and set (some
machines, this project's build machine included, pin OpenBLAS to its slower AVX2 code
that way; if they are not set in the environment, Haswell / 2 MiB stand in). PyTorch uses
MKL, which ignores both. Then start-up: import + first prediction with an empty Numba
cache (NUMBA_CACHE_DIR pointed at a fresh folder) and with a warm one, and the time to
compile every kernel from scratch.

On a busy machine (other processes wanting the cores) PyTorch's OpenMP threads spin while
they wait for each other, and its times can grow 10-100x while ours (sleeping Numba
threads) grow much less: ratios from such a run flatter us. --torch-passive adds a pass
with OMP_WAIT_POLICY=PASSIVE for PyTorch, --single-thread one with a single thread on each
side (per-core speed, which other load disturbs least); a quiet machine is the fair
comparison of the default settings.
"""
from __future__ import annotations

import argparse
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

BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
STAND_IN = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": str(2 * 1024 * 1024)}
TARGETS = {  # ratio ours / PyTorch, (BLAS vars unset, set)
    "CNN train step (batch 64)": (0.45, 0.65),
    "dense train step (batch 128)": (0.60, 0.85),
    "CNN predict (1 image)": (0.50, 0.60),
}
JSON_MARK = "@@RESULT "


# ---------------------------------------------------------------- timing


def _stats(ts):
    import numpy as np

    a = np.sort(np.asarray(ts))
    return {"median": float(np.median(a)), "p25": float(a[len(a) // 4]),
            "p75": float(a[(3 * len(a)) // 4]), "n": int(len(a))}


SETTLE = 0.03  # seconds between blocks: the other side's OpenMP threads stop spinning


def interleaved(ours, ref, reps, block, warm=3, budget=None):
    """Time ours() and ref() in alternating blocks; each list holds one time per call.

    Both sides' thread pools spin for a while after each call (PyTorch's libgomp ~5 ms by
    default, ours ~0.5 ms) and would steal a core from the other side's first calls. So
    each block starts after a short pause and one untimed call: every timed call sees its
    own side's threads awake and the other side's asleep, as in a program using only one.
    Stops early (after at least 2 rounds) once `budget` seconds are spent, so a loaded
    machine cannot stretch the run without end.
    """
    for fn in (ours, ref):
        time.sleep(SETTLE)
        for _ in range(warm):
            fn()
    t_ours, t_ref = [], []
    t_end = None if budget is None else time.perf_counter() + budget
    for r in range(reps):
        if t_end is not None and r >= 2 and time.perf_counter() > t_end:
            break
        pair = ((ours, t_ours), (ref, t_ref)) if r % 2 == 0 else ((ref, t_ref), (ours, t_ours))
        for fn, out in pair:
            time.sleep(SETTLE)
            fn()
            for _ in range(block):
                t0 = time.perf_counter()
                fn()
                out.append(time.perf_counter() - t0)
    return _stats(t_ours), _stats(t_ref)


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


class TorchSide:
    """The same networks in PyTorch, NCHW, holding our initial weights."""

    name = "PyTorch"

    def __init__(self, cnn, mlp):
        import torch
        from torch import nn

        self.torch = torch
        self.name = f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads)"
        self.cnn = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                                 nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                 nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10))
        self.mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
        w = cnn.get_weights()
        with torch.no_grad():
            for layer, k, b in ((self.cnn[0], w[0], w[1]), (self.cnn[3], w[2], w[3])):
                layer.weight.copy_(torch.from_numpy(k.transpose(3, 2, 0, 1).copy()))
                layer.bias.copy_(torch.from_numpy(b))
            # our Flatten reads (h, w, c), PyTorch's (c, h, w): permute the first dense rows
            k3 = w[4].reshape(5, 5, 64, 128).transpose(2, 0, 1, 3).reshape(1600, 128)
            for layer, k, b in ((self.cnn[7], k3, w[5]), (self.cnn[9], w[6], w[7])):
                layer.weight.copy_(torch.from_numpy(k.T.copy()))
                layer.bias.copy_(torch.from_numpy(b))
            wm = mlp.get_weights()
            for layer, k, b in ((self.mlp[1], wm[0], wm[1]), (self.mlp[3], wm[2], wm[3])):
                layer.weight.copy_(torch.from_numpy(k.T.copy()))
                layer.bias.copy_(torch.from_numpy(b))
        self.loss = nn.CrossEntropyLoss()
        self.opt_cnn = torch.optim.SGD(self.cnn.parameters(), lr=0.01)
        self.opt_mlp = torch.optim.SGD(self.mlp.parameters(), lr=0.01)
        self.predictor = None

    def batch(self, x, y):
        t = self.torch
        return t.from_numpy(x.transpose(0, 3, 1, 2).copy()), t.from_numpy(y)

    def train_cnn(self, xb, yb):
        return self._step(self.cnn, self.opt_cnn, xb, yb)

    def train_mlp(self, xb, yb):
        return self._step(self.mlp, self.opt_mlp, xb, yb)

    def _step(self, net, opt, xb, yb):
        opt.zero_grad()
        loss = self.loss(net(xb), yb)
        loss.backward()
        opt.step()
        return loss

    def predict(self, x1):
        if self.predictor is None:
            import copy

            self.predictor = copy.deepcopy(self.cnn).eval()
        with self.torch.no_grad():
            return self.torch.softmax(self.predictor(x1), dim=1)

    def epoch(self, which, x, y, batch, seed):
        t = self.torch
        g = t.Generator().manual_seed(seed)
        order = t.randperm(len(x), generator=g)
        step = self.train_cnn if which == "cnn" else self.train_mlp
        for s in range(0, len(x), batch):
            idx = order[s:s + batch]
            step(x[idx], y[idx])

    # kernels alone
    def kernels(self, shapes):
        t = self.torch
        F = t.nn.functional
        g = t.Generator().manual_seed(0)
        out = {}
        (n, h, w_, c), (kh, kw, _, f) = shapes["conv_x"], shapes["conv_w"]
        x = t.rand(n, c, h, w_, generator=g)
        k = t.rand(f, c, kh, kw, generator=g) - 0.5
        b = t.zeros(f)
        dy = t.rand(n, f, h - kh + 1, w_ - kw + 1, generator=g)
        out["conv forward"] = lambda: F.conv2d(x, k, b)
        out["conv input gradient"] = lambda: t.nn.grad.conv2d_input(x.shape, k, dy)
        out["conv weight gradient"] = lambda: t.nn.grad.conv2d_weight(x, k.shape, dy)
        n, h, w_, c = shapes["pool_x"]
        xp = t.rand(n, c, h, w_, generator=g)
        yp, idx = F.max_pool2d(xp, 2, return_indices=True)
        dyp = t.rand(yp.shape, generator=g)
        out["max pool forward"] = lambda: F.max_pool2d(xp, 2, return_indices=True)
        out["max pool backward"] = lambda: t.ops.aten.max_pool2d_with_indices_backward(
            dyp, xp, [2, 2], [2, 2], [0, 0], [1, 1], False, idx)
        n, i = shapes["dense_x"]
        o = shapes["dense_w"][1]
        xd, wd, bd = t.rand(n, i, generator=g), t.rand(o, i, generator=g), t.zeros(o)
        dyd = t.rand(n, o, generator=g)
        out["dense forward"] = lambda: F.linear(xd, wd, bd)
        out["dense backward"] = lambda: (dyd @ wd, dyd.T @ xd, dyd.sum(0))
        return out


class NumpySide:
    """The plain-NumPy reference, for machines without PyTorch."""

    def __init__(self, cnn, mlp):
        import numpy as np

        from benchmarks import _reference_numpy as R

        self.np, self.R = np, R
        self.name = f"plain NumPy {np.__version__}"
        self.cnn = R.NumpyCNN(cnn.get_weights())
        self.mlp = R.NumpyMLP(mlp.get_weights())

    def batch(self, x, y):
        return x, y

    def train_cnn(self, xb, yb):
        return self.cnn.train_step(xb, yb)

    def train_mlp(self, xb, yb):
        return self.mlp.train_step(xb, yb)

    def predict(self, x1):
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
        return out


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


def run_pass(args):
    # PyTorch first: its own libgomp reads GOMP_SPINCOUNT when it loads, and the engine sets
    # that variable for its libgomp (core.kernels._threads); PyTorch keeps its defaults.
    if not args.numpy_reference:
        try:
            import torch  # noqa: F401
        except ImportError:
            pass
    import numpy as np

    from core.data import load_offline_digits

    quick = args.quick
    env_desc = ", ".join(f"{v}={os.environ[v]}" for v in BLAS_VARS if v in os.environ) or "unset"
    x, y = load_offline_digits()
    cnn, mlp = course_cnn(), course_mlp()
    try:
        if args.numpy_reference:
            raise ImportError
        ref = TorchSide(cnn, mlp)
    except ImportError:
        ref = NumpySide(cnn, mlp)
    info, libs = blas_summary()
    print(f"  OPENBLAS vars: {env_desc}" + (f"; OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}"
                                          if "OMP_WAIT_POLICY" in os.environ else ""))
    print(f"  our BLAS (Numba's np.dot uses SciPy's): {libs}")
    print(f"  Numba: {info['numba_threads']} threads, batches split in {info['chunks']} chunks")
    print(f"  reference: {ref.name}")

    def batches(size, k=24):
        xs, ys = [], []
        for i in range(k):
            s = (i * size) % (len(x) - size)
            xs.append(np.ascontiguousarray(x[s:s + size]))
            ys.append(y[s:s + size].copy())
        return xs, ys, [ref.batch(a, b) for a, b in zip(xs, ys)]

    results = {}

    def row(name, o, r, note=""):
        ratio = o["median"] / r["median"]
        results[name] = {"ours": o, "ref": r, "ratio": ratio, "ratio_p25": o["p25"] / r["p25"],
                         "note": note}
        unit, scale = ("ms", 1e3) if r["median"] < 2 else ("s", 1)
        print(f"  {name:<38} {o['median'] * scale:9.3f} {unit:<2} {r['median'] * scale:9.3f} {unit:<2}"
              f" {ratio:6.2f}x {o['p25'] / r['p25']:6.2f}x   {note}", flush=True)

    print(f"  {'':<38} {'ours':>12} {'reference':>12} {'ratio':>7} {'(p25)':>7}   medians; "
          "(p25): ratio of the fastest quarters")
    # same network on both sides: the first losses agree
    xs, ys, rb = batches(64)
    first_ours = cnn.train_on_batch(xs[0], ys[0])["loss"]
    first_ref = _value(ref.train_cnn(*rb[0]))
    xd, yd, rd = batches(128)
    first_ours_d = mlp.train_on_batch(xd[0], yd[0])["loss"]
    first_ref_d = _value(ref.train_mlp(*rd[0]))
    results["first losses"] = {"cnn": [first_ours, first_ref], "mlp": [first_ours_d, first_ref_d]}

    it = {"c": 0, "r": 0}

    def cyc(fn, xs_, ys_, key):
        def call():
            i = it[key] = (it[key] + 1) % len(xs_)
            fn(xs_[i], ys_[i])
        return call

    # blocks long enough that the first steps after the pause between blocks (cold caches,
    # sleeping threads: slower for both sides) are a small part of each
    reps = 10 if quick else 24
    o, r = interleaved(cyc(cnn.train_on_batch, xs, ys, "c"), cyc(ref.train_cnn, *zip(*rb), "r"),
                       reps, 10 if quick else 16, budget=6 if quick else 15)
    row("CNN train step (batch 64)", o, r)
    it.update(c=0, r=0)
    o, r = interleaved(cyc(mlp.train_on_batch, xd, yd, "c"), cyc(ref.train_mlp, *zip(*rd), "r"),
                       reps * 2, 20 if quick else 30, budget=3 if quick else 8)
    row("dense train step (batch 128)", o, r)
    x1 = np.ascontiguousarray(x[:1])
    x1r = ref.batch(x1, y[:1])[0]
    o, r = interleaved(lambda: cnn.predict(x1), lambda: ref.predict(x1r), reps * 2, 30 if quick else 50,
                       budget=3 if quick else 6)
    row("CNN predict (1 image)", o, r)

    xr, yr = ref.batch(x, y)
    for which, model, batch in (("cnn", cnn, 64), ("mlp", mlp, 128)):
        name = f"{'CNN' if which == 'cnn' else 'dense'} epoch (5,000 digits, batch {batch})"
        seeds = iter(range(100))
        o, r = interleaved(
            lambda: model.fit(x, y, epochs=1, batch_size=batch, seed=next(seeds)),
            lambda: ref.epoch(which, xr, yr, batch, next(seeds)),
            2 if quick else 3, 1, warm=1, budget=8 if quick else 15)
        row(name, o, r, f"{len(x) // batch + 1} steps")

    ours_k, ref_k = our_kernels(KERNEL_SHAPES), ref.kernels(KERNEL_SHAPES)
    for name in ours_k:
        o, r = interleaved(ours_k[name], ref_k[name], reps, 5 if quick else 8, budget=1 if quick else 2.5)
        row(name, o, r, KERNEL_NOTES[name])
    from core.kernels import _threads

    sites = _threads.site_report()
    faster = sum(1 for t, s_, _ in sites.values() if t <= s_)
    print(f"  Numba threading layer {_threads.describe()['threading_layer']}; at the end, threads were "
          f"faster than one core at {faster} of {len(sites)} kernel call sites")
    return {"env": env_desc, "blas": libs, "numba": info, "reference": ref.name,
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
        env.update(NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--passes", choices=["both", "unset", "set"], default="both")
    ap.add_argument("--no-startup", action="store_true", help="skip the start-up measurements")
    ap.add_argument("--numpy-reference", action="store_true", help="compare with plain NumPy even if PyTorch is installed")
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
    print(f"  {platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, "
          f"Python {platform.python_version()}, NumPy {np.__version__}, Numba {numba.__version__}")
    print("  medians of every timed call after warm-up; ours and the reference interleaved in one process;")
    print("  on a shared machine, compare the ratios rather than the absolute times")
    extra = ["--quick"] if args.quick else []
    if args.numpy_reference:
        extra.append("--numpy-reference")
    passes = {}
    kinds = ["unset", "set"] if args.passes == "both" else [args.passes]
    if args.torch_passive:
        kinds.append("passive")
    if args.single_thread:
        kinds.append("1 thread")
    titles = {"passive": "unset, PyTorch with OMP_WAIT_POLICY=PASSIVE",
              "1 thread": "unset, one thread each (NUMBA_NUM_THREADS=1, OMP_NUM_THREADS=1)"}
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

    print("\n== summary: ratio ours / reference (lower is faster; targets from issue 3) ==")
    header = f"  {'':<40}" + "".join(f"{k:>14}" for k in kinds) + "   targets (unset / set)"
    print(header)
    names = list(next(iter(passes.values()))["results"])
    for name in names:
        if name == "first losses":
            continue
        cells = "".join(f"{passes[k]['results'][name]['ratio']:13.2f}x" for k in kinds)
        tgt = TARGETS.get(name)
        verdict = ""
        if tgt:  # the targets are for the default settings: the "unset" and "set" passes
            marks = [f"{k} {'met' if passes[k]['results'][name]['ratio'] <= tgt[i] else 'NOT met'}"
                     for i, k in enumerate(("unset", "set")) if k in passes]
            verdict = f"   <= {tgt[0]:.2f} / <= {tgt[1]:.2f}: {', '.join(marks)}"
        print(f"  {name:<40}{cells}{verdict}")
    fl = next(iter(passes.values()))["results"]["first losses"]
    print(f"  same networks: first CNN loss ours {fl['cnn'][0]:.6f} / reference {fl['cnn'][1]:.6f}, "
          f"dense {fl['mlp'][0]:.6f} / {fl['mlp'][1]:.6f}")
    print(f"  total benchmark time {time.perf_counter() - T_START:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({"passes": passes, "startup": startup}, indent=1))


if __name__ == "__main__":
    main()
