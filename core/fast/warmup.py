"""Compile (or load from Numba's on-disk cache) every kernel the app uses, ahead of need.

A first-ever launch has nothing in Numba's cache, and compiling the engine's kernels takes
a while; done lazily, the first prediction or training step would freeze for that long.
`warm_up()` runs them all once on tiny arrays instead, in the order the app needs them:
"inference" (one image through a model: first the drawing pad's own two networks, so that
it can read a drawing as soon as those two steps are done, then every other one-image
kernel), "batches" (one layer at a time for a
lesson's feature maps, then the threaded forward kernels: evaluating a test set), then "training". With a warm cache
each step only loads machine code: the whole warm-up takes well under a second.

Qt-free on purpose: the GUI calls it from a worker thread and forwards `progress` to a
progress bar (the kernels release the GIL, compiling mostly does not, so the window stays
responsive but not idle). Kernels compiled here are the exact specialisations the layers
call later (C-contiguous float32 arrays, the same argument types), run on one thread and on
several; a test checks that training and predicting after it compile nothing new. Worker
processes take the steps in `dispatch_order` (core.fast.parallel_warmup).

    from core.fast.warmup import warm_up, INFERENCE
    warm_up(progress=lambda done, total, label, phase: print(done, total, label, phase))
    warm_up(phases=(INFERENCE,))   # just what predictions need
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

INFERENCE = "inference"   # one image at a time: the drawing pad, a lesson's live prediction
BATCHES = "batches"       # many images: evaluating, feature maps, threaded predictions
TRAINING = "training"     # gradients, losses
PHASES = (INFERENCE, BATCHES, TRAINING)


@dataclass
class WarmupReport:
    """What warm_up did: seconds per step, in order, and whether it ran to the end."""

    seconds: dict[str, float] = field(default_factory=dict)
    phase_seconds: dict[str, float] = field(default_factory=dict)
    completed: bool = False
    #: processor seconds per step (its process's; wall seconds mislead on a busy machine)
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return float(sum(self.seconds.values()))


def _mode(chunks):
    """Two chunks on Numba's threads (compiles the threaded driver), one on the caller's."""
    return "threads" if chunks > 1 else "serial"


def _arrays(rng, *shapes):
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def _conv_cases(rng):
    """(x, w, b, plan, fused plan): 3x3x1 takes the direct loops, 3x3x4 im2col + BLAS;
    two samples so that a forced two-chunk call really splits."""
    from core.kernels.conv import im2col as K
    from core.kernels.conv import pool_fused as CP

    out = []
    # 6x6 inputs: two pooled rows, so that one image's rows can be split between threads
    for xs, ws in (((2, 6, 6, 1), (3, 3, 1, 4)), ((2, 6, 6, 4), (3, 3, 4, 3))):
        x, w, b = _arrays(rng, xs, ws, ws[3:])
        out.append((x, w, b, K.conv2d_plan(xs, ws),
                    CP.convpool_plan(xs[1:], ws, (1, 1), "valid", (2, 2), (2, 2), "valid")))
    return out


def _forward_steps(chunks):
    """Every forward kernel a prediction or a lesson's feature maps can call."""
    from core.kernels import _threads
    from core.kernels import activations as A
    from core.kernels.conv import im2col as K
    from core.kernels.conv import pool_fused as CP
    from core.kernels import dense as D
    from core.kernels import pool as P

    rng = np.random.default_rng(0)

    def conv_pool():
        for x, w, b, _, fused in _conv_cases(rng):
            if chunks == 1:
                # one image, as a prediction runs it: with several threads its rows are split
                # between them (or not, whichever is faster at the moment), else one thread
                if _threads.n_chunks() > 1:
                    for mode in ("threads", "serial"):
                        CP.convpool_forward(x[:1], w, b, fused, True, False, chunks=2, mode=mode)
                    _threads.wake()
                else:
                    CP.convpool_forward(x[:1], w, b, fused, True, False, chunks=1)
            else:
                # batches: split into chunks on threads or one after the other
                for mode in ("threads", "serial"):
                    CP.convpool_forward(x, w, b, fused, True, False, chunks=2, mode=mode)

    def dense():
        if chunks == 1:  # one image: split by samples, the only driver a prediction needs
            x, w, b = _arrays(rng, (1, 5), (5, 3), (3,))
            D.dense_forward_planned(x, w, b, True, chunks=1)
            return
        # batches: split by input features (2x5 @ 5x3) and by samples (6x2 @ 2x3)
        for xs, ws in (((2, 5), (5, 3)), ((6, 2), (2, 3))):
            x, w, b = _arrays(rng, xs, ws, ws[1:])
            for c, mode in ((1, None), (2, "threads"), (2, "serial")):
                D.dense_forward_planned(x, w, b, True, chunks=c, mode=mode)

    def activations():
        (z,) = _arrays(rng, (2, 3))
        A.softmax_forward(z)
        for f in (A.relu_forward, A.sigmoid_forward, A.tanh_forward, A.leaky_relu_forward):
            f(z)

    def layers(c):
        for x, w, b, plan, _ in _conv_cases(rng):
            K.conv2d_forward_planned(x, w, b, plan, True, chunks=c, mode=_mode(c))
        (x,) = _arrays(rng, (2, 4, 4, 3))
        plan = P.max_pool_plan(x.shape, 2)
        P.max_pool_forward_planned(x, plan, False, chunks=c, mode=_mode(c))
        if c == 1:
            P.avg_pool_forward(x, 2)

    if chunks == 1:
        # what the drawing pad's prediction needs, nothing more: it is usable after this
        return [("convolution + pooling", conv_pool), ("dense", dense),
                ("activations", activations)]

    def curves():
        from core.kernels.smoothing import ema

        ema(np.zeros(2), 0.5, 0.0, 0.0, 0, np.empty(2))  # float64, as the training plots call it

    # a lesson's feature maps (one layer at a time) and its training curves come first, then
    # the threaded kernels
    return [("single layers", lambda: layers(1)), ("training curves", curves),
            ("convolution + pooling, batches", conv_pool),
            ("dense, threaded", dense), ("single layers, threaded", lambda: layers(2))]


def _training_steps():
    from core.kernels import activations as A
    from core.kernels.conv import im2col as K
    from core.kernels.conv import pool_fused as CP
    from core.kernels import dense as D
    from core.kernels import losses as L
    from core.kernels import pool as P
    from core.kernels import sgd as S
    from core.kernels import all_finite, fanout

    rng = np.random.default_rng(1)

    def conv_pool(chunks):
        def run():
            for x, w, b, _, fused in _conv_cases(rng):
                y, arg = CP.convpool_forward(x, w, b, fused, True, True, chunks=chunks, mode=_mode(chunks))
                CP.convpool_backward(x, w, y, arg, y, fused, True, True, chunks=chunks, mode=_mode(chunks))
        return run

    def dense(chunks):
        def run():
            x, w, b = _arrays(rng, (2, 5), (5, 3), (3,))
            _, a = D.dense_forward_planned(x, w, b, True)
            D.dense_backward_planned(x, w, a, a, True, chunks=chunks, mode=_mode(chunks))
            fanout.parts(("sgd rows", w.shape), S.sgd_rows_part, 2, (w, w.copy(), np.float32(-0.1)),
                         mode=_mode(chunks))
        return run

    def layers(chunks):
        def run():
            for x, w, b, plan, _ in _conv_cases(rng):
                a = K.conv2d_forward_planned(x, w, b, plan, True)
                K.conv2d_backward_planned(x, w, a, plan, a, True, chunks=chunks, mode=_mode(chunks))
            (x,) = _arrays(rng, (2, 4, 4, 3))
            plan = P.max_pool_plan(x.shape, 2)
            y, arg = P.max_pool_forward_planned(x, plan, True, chunks=chunks, mode=_mode(chunks))
            P.max_pool_backward_planned(y, arg, x.shape, chunks=chunks, mode=_mode(chunks))
            if chunks == 1:
                K.conv2d_grad_bias(a)
                P.avg_pool_backward(y, x.shape, 2)
        return run

    def activations_and_losses():
        z, t = _arrays(rng, (2, 3), (2, 3))
        A.softmax_backward(A.softmax_forward(z), z)
        A.relu_backward(z, z)
        A.leaky_relu_backward(z, z)
        A.sigmoid_backward(A.sigmoid_forward(z), z)
        A.tanh_backward(A.tanh_forward(z), z)
        p = np.abs(t) / np.abs(t).sum(axis=1, keepdims=True)
        labels = np.array([0, 2], np.int64)
        all_finite(z)
        L.softmax_cross_entropy(z, labels)
        L.softmax_cross_entropy_onehot(z, p)
        L.sigmoid_binary_cross_entropy(z, p)
        L.mean_squared_error(t, z)
        L.mean_absolute_error(t, z)
        L.binary_crossentropy(p, p)
        L.categorical_crossentropy(p, p)
        L.sparse_categorical_crossentropy(labels, p)
        w, g, v = _arrays(rng, (6,), (6,), (6,))
        S.sgd_plain(w, g, np.float32(0.1))
        S.sgd_momentum(w, g, v, np.float32(0.1), np.float32(0.9), False)
        S.adam_in_place(w, g, v, v.copy(), np.float32(0.9), np.float32(0.999), np.float32(0.1),
                        np.float32(1e-7))

    def dense_network_step():
        # a dense network's whole step is one kernel (core.kernels.dense_step): one model
        # with a hidden ReLU and a linear layer compiles it for every depth
        from core.layers import Dense
        from core.model import Sequential
        from core.optimizers import SGD

        m = Sequential([Dense(3, activation="relu"), Dense(3), Dense(2, activation="softmax")],
                       input_shape=(4,), seed=0)
        m.compile(optimizer=SGD(0.1), loss="sparse_categorical_crossentropy")
        (x,) = _arrays(rng, (2, 4))
        m.train_on_batch(x, np.array([0, 1]))

    def recurrent():
        # LSTM and SimpleRNN forward and BPTT (core.kernels.recurrent): one specialisation
        # each serves every activation, sequence length, batch size and thread count
        from core.kernels import recurrent as R

        (x,) = _arrays(rng, (2, 3, 2))
        for gates, fwd, bwd in ((4, R.lstm_forward_planned, R.lstm_backward_planned),
                                (1, R.rnn_forward_planned, R.rnn_backward_planned)):
            w, u, b, dy = _arrays(rng, (2, gates * 3), (3, gates * 3), (gates * 3,), (2, 3))
            state = fwd(x, w, u, b, chunks=2, mode="threads")
            for need_dx in (True, False):
                bwd(x, w, u, *state, dy, need_input_grad=need_dx, chunks=2, mode="threads")

    # The longest step first, and each threaded variant after its one-core twin and
    # after other work: the two share kernels, and a process that claimed the threaded
    # step while the other still compiled the twin waited on its cache lock doing nothing
    # (38 s of a 45 s step, cold cache, 2 processes, `benchmarks/compile_times.py`).
    return [("convolution + pooling gradients", conv_pool(1)),
            ("dense network step", dense_network_step),
            ("recurrent layers", recurrent),
            ("dense gradients", dense(1)),
            ("single-layer gradients", layers(1)),
            ("losses, activation gradients, updates", activations_and_losses),
            ("dense gradients, threaded", dense(2)),
            ("single-layer gradients, threaded", layers(2)),
            ("convolution + pooling gradients, threaded", conv_pool(2))]


#: the networks the drawing pad reads every drawing with (resources/models/<name>.npz)
DRAWING_PAD_NETWORKS = ("digits_mlp", "digits_cnn")
#: the label of every step that compiles what the drawing pad's first reading needs
DRAWING_PAD = "drawing pad"


def _drawing_pad_steps():
    """The drawing pad's first reading (one image through each shipped network), as two
    steps that compile different kernels, so that two worker processes share it.

    The pad reads with the networks themselves, whatever their layers; so the steps are
    built from the shipped files' architecture: the CNN's convolution + pooling pairs (the
    fused one-image kernels, the larger half) in one step, every other run of layers in
    the other, each as a small network of its own fed the shape it gets in the whole one
    (so its layers pick the kernels they pick there). A network that cannot be loaded is
    left out: the pad reports that itself.
    """
    from core.io import load_model
    from core.model import Sequential
    from resources.paths import model_path

    pairs, others = [], []
    for name in DRAWING_PAD_NETWORKS:
        try:
            with model_path(name) as path:
                whole = load_model(path)
        except (OSError, ValueError):
            continue
        layers = whole.get_config()["layers"]
        i = 0
        while i < len(layers):
            pair = (layers[i]["class_name"] == "Conv2D" and i + 1 < len(layers)
                    and layers[i + 1]["class_name"] == "MaxPool2D")
            j = i + 2 if pair else i + 1
            while not pair and j < len(layers) and not (
                    layers[j]["class_name"] == "Conv2D" and j + 1 < len(layers)
                    and layers[j + 1]["class_name"] == "MaxPool2D"):
                j += 1
            (pairs if pair else others).append((layers[i:j], whole.layers[i].input_shape))
            i = j

    def reading(parts, times):
        def run():
            rng = np.random.default_rng(2)
            for layers, shape in parts:
                part = Sequential.from_config({"layers": layers, "input_shape": list(shape)})
                for _ in range(times):
                    part.predict(rng.random((1, *shape), dtype=np.float32))
        return run

    # a pair's one-image kernel runs on threads the first time, on one the second
    # (core.kernels._threads.run tries each way once): both, for the pad's second reading
    return [(f"{DRAWING_PAD}: {what}", reading(parts, times)) for what, parts, times in
            (("convolution + pooling", pairs, 2), ("other layers", others, 1)) if parts]


#: processor seconds each step after the inference phase took to compile from an empty
#: cache (`benchmarks/compile_times.py`, 2026-12-07, AMD EPYC, 2 worker processes, in this
#: order: a step finds what an earlier one compiled, so the later ones cost little): how
#: `dispatch_order` hands them out. A step missing here goes last.
ESTIMATED_SECONDS = {
    "convolution + pooling gradients": 24.9, "dense network step": 16.2,
    "recurrent layers": 10.5, "single-layer gradients": 3.7,
    "losses, activation gradients, updates": 3.1,
    "convolution + pooling gradients, threaded": 0.7, "single-layer gradients, threaded": 0.5,
    "convolution + pooling, batches": 0.3, "single layers": 0.3, "training curves": 0.2,
    "single layers, threaded": 0.15, "dense, threaded": 0.04, "dense gradients": 0.02,
    "dense gradients, threaded": 0.01,
}


def dispatch_order(plan) -> list[int]:
    """The order in which worker processes take the plan's (label, phase) steps: the
    inference phase first, as planned (the drawing pad's networks before anything else),
    then the longest step first (ESTIMATED_SECONDS). Handing out the longest jobs first
    keeps one worker from starting a 15-second step when the other is nearly done; the
    plan's own order still says which phase is complete (progress follows it)."""
    first = [i for i, (_, phase) in enumerate(plan) if phase == INFERENCE]
    rest = [i for i, (_, phase) in enumerate(plan) if phase != INFERENCE]
    rest.sort(key=lambda i: -ESTIMATED_SECONDS.get(plan[i][0], 0.0))  # stable: ties as planned
    return first + rest


def steps(phases=PHASES) -> list[tuple[str, str, Callable[[], None]]]:
    """(label, phase, function) for every warm-up step, in the order they should run."""
    makers = {INFERENCE: lambda: _drawing_pad_steps() + _forward_steps(1),
              BATCHES: lambda: _forward_steps(2),
              TRAINING: _training_steps}
    return [(label, phase, fn) for phase in PHASES if phase in phases
            for label, fn in makers[phase]()]


def warm_up(progress: Callable[[int, int, str, str], None] | None = None,
            should_stop: Callable[[], bool] | None = None,
            phases=PHASES) -> WarmupReport:
    """Compile or load every kernel, inference first; returns a WarmupReport.

    progress(done, total, label, phase) is called before each step (done = steps finished
    so far) and once more at the end with done == total; a phase is complete when the next
    call names a later phase or done == total. should_stop() is checked between steps so a
    closing window does not wait for the rest. Safe to call again: a warm step is quick.
    """
    from core.kernels import _threads

    _threads.configure()
    todo = steps(phases)
    report = WarmupReport()
    for i, (label, phase, fn) in enumerate(todo):
        if should_stop is not None and should_stop():
            return report
        if progress is not None:
            progress(i, len(todo), label, phase)
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        dt = time.perf_counter() - t0
        report.seconds[label] = dt
        report.cpu_seconds[label] = time.process_time() - c0
        report.phase_seconds[phase] = report.phase_seconds.get(phase, 0.0) + dt
    report.completed = True
    if progress is not None:
        progress(len(todo), len(todo), "done", todo[-1][1] if todo else "")
    return report


__all__ = ["warm_up", "steps", "dispatch_order", "WarmupReport", "INFERENCE", "BATCHES", "TRAINING", "PHASES",
           "DRAWING_PAD"]


def main(argv=None) -> int:
    """`python -m core.fast.warmup [--jobs N] [--phases inference,...]`: compile into
    Numba's cache, one progress line per step.

    The app runs this in a child process on start-up: compiling holds the GIL, so doing
    it in the window's own process would make the window sluggish for as long as it takes.
    The steps are shared between N worker processes (default: one per core, see
    core.fast.parallel_warmup). Lines are tab-separated `done total phase label`, label
    naming the first step (in warm_up's order) not finished yet.
    """
    import argparse

    from core.fast.parallel_warmup import warm_up_parallel
    from core.kernels import _cache as kernel_cache

    if not kernel_cache.caching:  # (it has warned why) the app compiles in its own process
        print("no kernel cache to fill: nothing compiled here could reach another process",
              file=sys.stderr)
        return 2

    ap = argparse.ArgumentParser(description="compile the engine's kernels into Numba's cache")
    ap.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per core)")
    ap.add_argument("--phases", default=",".join(PHASES))
    args = ap.parse_args(argv)

    def progress(done, total, label, phase):
        print(f"{done}\t{total}\t{phase}\t{label}", flush=True)

    phases = tuple(p for p in args.phases.split(",") if p)
    return 0 if warm_up_parallel(args.jobs, progress=progress, phases=phases).completed else 1


if __name__ == "__main__":
    raise SystemExit(main())
