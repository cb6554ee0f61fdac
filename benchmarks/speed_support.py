"""What benchmarks/speed.py and its rival modules share: the rows of the table, cycling
over pre-made batches, the allocator's steady state, page-fault counts, the CPU's name;
and the median of a call in microseconds, for the smaller benchmarks.

The steady state. glibc's malloc serves a request above its mmap threshold (128 KiB in a
fresh process) with a fresh mmap, and gives the pages back on free. The threshold is
dynamic: the first time a process frees an mmap-ed block larger than the threshold (and
at most 32 MiB), glibc raises the threshold to that block's size and the heap's trim
threshold to twice it, so later blocks up to that size come from the heap and keep their
pages. Any program that has loaded a data set has freed such a block (loading the 5,000
offline digits frees 15 MiB temporaries), and a training step's buffers (a few MiB each
in PyTorch, TensorFlow and XLA) then stop costing page faults every step. A benchmark in
a fresh process that frees nothing large times those page faults instead: PyTorch's
course-CNN step took ~12 ms that way against ~7.3 ms in an application (issue 12), with
some 3,000 minor page faults per step against none (a fresh PyTorch process, here).

We reach the steady state the way an application does, by allocating and freeing one
30 MiB NumPy array, not with mallopt(M_MMAP_THRESHOLD): mallopt fixes the threshold and
turns glibc's own adjustment off, a state no application runs in. Every side then gets
warm-up calls before anything is timed, and `faults_per_call` shows what is left.
"""
from __future__ import annotations

import os
import platform
import resource
import subprocess
import time

CNN_STEP = "CNN train step (batch 64)"
DENSE_STEP = "dense train step (batch 128)"
PREDICT = "CNN predict (1 image)"
CNN_EPOCH = "CNN epoch (5,000 digits, batch 64)"
DENSE_EPOCH = "dense epoch (5,000 digits, batch 128)"
LSTM_STEP = "LSTM(128) train step (64 x 28 x 28)"
RNN_STEP = "SimpleRNN(128) train step (64 x 28 x 28)"
LSTM_PREDICT = "LSTM(128) predict (1 sequence)"
RNN_PREDICT = "SimpleRNN(128) predict (1 sequence)"

#: below glibc's 32 MiB ceiling for the dynamic threshold (DEFAULT_MMAP_THRESHOLD_MAX on
#: 64-bit), above every buffer of a course-CNN step on any side
STEADY_BLOCK_MIB = 30


def cycling(step, xs, ys):
    """A no-argument call that runs step(x, y) on the next of the pre-made batches."""
    state = {"i": 0}

    def call():
        i = state["i"] = (state["i"] + 1) % len(xs)
        return step(xs[i], ys[i])

    return call


def minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def enter_steady_state() -> str:
    """Free one large block as an application that loaded data has; say what was done."""
    import numpy as np

    libc, version = platform.libc_ver()
    block = np.empty(STEADY_BLOCK_MIB << 20, np.uint8)  # malloc -> mmap (above the threshold)
    block[:: 4096] = 1  # touch it, as real data would be
    del block  # free -> munmap, and glibc raises its mmap threshold to 30 MiB
    where = f"{libc} {version}" if libc else "this C library"
    return (f"one {STEADY_BLOCK_MIB} MiB NumPy array allocated and freed at start-up ({where}: "
            f"its malloc then serves big buffers from the heap, as in any program that has "
            f"loaded a data set), then warm-up calls on every side")


def enter_fresh_state() -> str:
    """Put glibc's thresholds back to a fresh process's (for --fresh-malloc comparisons).

    Loading the data set has already raised them, so a fresh process cannot simply be
    left alone; mallopt restores glibc's defaults (128 KiB) and keeps them there.
    """
    import ctypes

    m_trim_threshold, m_mmap_threshold, default = -1, -3, 128 * 1024
    try:
        libc = ctypes.CDLL(None)
        ok = libc.mallopt(m_mmap_threshold, default) == 1 and libc.mallopt(m_trim_threshold, default) == 1
    except (OSError, AttributeError):
        ok = False
    if not ok:
        return "NOT in steady state (--fresh-malloc), but mallopt is not available here"
    return ("NOT in steady state (--fresh-malloc): glibc's fresh-process thresholds restored "
            "with mallopt (128 KiB), so big buffers are fresh mmaps, page-faulted every step")


def faults_per_call(fn, n: int = 8) -> float:
    """Minor page faults per call of fn, after one untimed call."""
    fn()
    f0 = minor_faults()
    for _ in range(n):
        fn()
    return (minor_faults() - f0) / n


def cpu_description() -> str:
    """'AMD EPYC 9654, 2 cores (1 socket x 2 cores x 1 thread), 2 usable' from lscpu."""
    fields = {}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10,
                             env={**os.environ, "LC_ALL": "C"}).stdout
        for line in out.splitlines():
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    model = fields.get("Model name") or platform.processor() or platform.machine()
    try:
        sockets, cores, threads = (int(fields[k]) for k in
                                   ("Socket(s)", "Core(s) per socket", "Thread(s) per core"))
    except (KeyError, ValueError):
        return f"{model}, {os.cpu_count()} logical CPUs, {usable} usable by this process"
    extra = f", {fields['Hypervisor vendor']} guest" if fields.get("Hypervisor vendor") else ""
    return (f"{model}, {sockets * cores} cores ({sockets} socket x {cores} cores x {threads} "
            f"threads per core = {fields.get('CPU(s)', '?')} logical CPUs), {usable} usable by "
            f"this process{extra}")


def median_us(fn, repeats: int, warm: int = 3) -> float:
    """The median of `repeats` timed calls of fn(), in microseconds, after `warm` untimed ones."""
    import numpy as np

    for _ in range(warm):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1e6
