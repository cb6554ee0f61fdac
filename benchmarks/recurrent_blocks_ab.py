"""LSTM(128) and SimpleRNN(128) training step and one-sequence prediction, with the per-step
products asked of BLAS in one call or in small blocks (core.kernels.blas.gemm_blocks),
interleaved in one process so that the machine's noise falls on both sides alike.

    .venv/bin/python benchmarks/recurrent_blocks_ab.py [--rounds 30]

Only the limit the recurrent kernels pass to gemm_blocks is switched (0: one call, as
before the blocks; 100³: blocks), nothing else. On machines whose OpenBLAS has no
AVX-512 small-matrix kernels the app never splits; the blocks are still timed here.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()
    from core.kernels import _threads
    from core.kernels import recurrent as R
    from core.kernels.blas import SMALL_MNK
    from recurrent_rivals import our_models

    _threads.configure()
    rng = np.random.default_rng(0)
    x = rng.random((64, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 64)
    x1 = x[:1].copy()
    limits = (0, SMALL_MNK)
    print(f"BLAS kernels: {_threads.blas_architecture() or 'unknown'}; the app's own limit: "
          f"{R.small_product_limit()}")
    for name, model in our_models().items():
        steps = {k: [] for k in limits}
        preds = {k: [] for k in limits}
        for limit in limits * 2:            # warm-up: compile and settle both ways
            R._small[:] = [limit]
            for _ in range(10):
                model.train_on_batch(x, y)
                model.predict(x1)
        for rnd in range(args.rounds):
            for limit in (limits if rnd % 2 else limits[::-1]):
                R._small[:] = [limit]
                model.train_on_batch(x, y)
                for _ in range(8):
                    t0 = time.perf_counter()
                    model.train_on_batch(x, y)
                    steps[limit].append(time.perf_counter() - t0)
                for _ in range(8):
                    t0 = time.perf_counter()
                    model.predict(x1)
                    preds[limit].append(time.perf_counter() - t0)
        a, b = (np.median(steps[k]) * 1e3 for k in limits)
        pa, pb = (np.median(preds[k]) * 1e3 for k in limits)
        print(f"{name}: step one call {a:.3f} ms, blocks {b:.3f} ms ({b / a:.3f}x); "
              f"one-sequence predict {pa:.3f} vs {pb:.3f} ms ({pb / pa:.3f}x)")
    R._small.clear()


if __name__ == "__main__":
    main()
