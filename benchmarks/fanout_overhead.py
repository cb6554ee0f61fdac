"""What a part kernel's call through core.kernels.fanout costs beside a direct call.

    .venv/bin/python benchmarks/fanout_overhead.py

A kernel with 16 arguments that does nothing: `fan` on one thread (the parallel launch and
the type-tag check), `run` (plus looking up the address), and the kernel called directly
from Python. Best of 5 x 20,000 calls. Run of 2026-12-07 (AMD EPYC, 2 vCPUs): fan 2.7 us,
run 3.2 us, direct 0.7 us.
"""
import sys
import timeit
from pathlib import Path

import numpy as np
from numba import njit, typeof

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.kernels import _threads, fanout  # noqa: E402


@njit(nogil=True, cache=True)
def nothing(t, nt, a, b, c, d, e, f, g, h, i, j, k, l_, m, n, o, p):
    pass


def main():
    _threads.configure()
    args = tuple(np.zeros((2, 2), np.float32) for _ in range(8)) + tuple(range(8))
    with _threads.PARALLEL_LOCK:
        fanout.run(nothing, 1, args)
    addr, tag = fanout.address_for(nothing, tuple(typeof(a) for a in args))
    ways = (("fan (one thread)", lambda: fanout.fan(addr, tag, 1, args)),
            ("run (one thread)", lambda: fanout.run(nothing, 1, args)),
            ("direct call", lambda: nothing(0, 1, *args)))
    with _threads.PARALLEL_LOCK:
        for name, call in ways:
            best = min(timeit.repeat(call, number=20000, repeat=5)) / 20000
            print(f"{name:18s} {best * 1e6:6.2f} us")


if __name__ == "__main__":
    main()
