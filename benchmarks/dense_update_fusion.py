"""Tutorial 24's CIFAR ANN, first layer (3072 x 3000 weights, batch 32): what the weight
gradient, its finiteness check and the SGD pass cost, and whether computing dW in row
chunks small enough to stay in cache (so the check and the update could read it there)
pays (issue 14: the fit time against Keras).

    .venv/bin/python benchmarks/dense_update_fusion.py

Each variant splits the rows between two threads as core.kernels.dense does. Five runs of
2026-12-07 (AMD EPYC, 2 cores): dW alone 3.9-4.6 ms, + check 4.2-5.0, + SGD pass 5.6-6.7;
in chunks of 64 rows 6.0-6.2 ms (a tie with the separate passes), of 32 rows 6.4-6.8:
the smaller BLAS calls lose what the cache saves.
"""
import sys
import time
from pathlib import Path

import numpy as np
from numba import njit, prange

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.kernels import _threads  # noqa: E402
from core.kernels._common import all_finite_2d  # noqa: E402
from core.kernels.blas import gemm  # noqa: E402


@njit(parallel=True, nogil=True)
def dw_only(x, dz, dw):
    for t in prange(2):
        f0, f1 = t * 1536, (t + 1) * 1536
        gemm(x[:, f0:f1], dz, dw[f0:f1], True, False, 0.0)

@njit(parallel=True, nogil=True)
def dw_check(x, dz, dw):
    ok = np.zeros(2, np.bool_)
    for t in prange(2):
        f0, f1 = t * 1536, (t + 1) * 1536
        gemm(x[:, f0:f1], dz, dw[f0:f1], True, False, 0.0)
        ok[t] = all_finite_2d(dw[f0:f1])
    return ok.all()

@njit(parallel=True, nogil=True)
def dw_check_sgd(x, dz, dw, w, lr):
    ok = np.zeros(2, np.bool_)
    for t in prange(2):
        f0, f1 = t * 1536, (t + 1) * 1536
        gemm(x[:, f0:f1], dz, dw[f0:f1], True, False, 0.0)
        ok[t] = all_finite_2d(dw[f0:f1])
    for t in prange(2):
        f0, f1 = t * 1536, (t + 1) * 1536
        for i in range(f0, f1):
            for j in range(w.shape[1]):
                w[i, j] += lr * dw[i, j]
    return ok.all()

@njit(parallel=True, nogil=True)
def chunked(x, dz, dw, w, lr, rows):
    ok = np.zeros(2, np.bool_)
    for t in prange(2):
        f0, f1 = t * 1536, (t + 1) * 1536
        good = True
        for r0 in range(f0, f1, rows):
            r1 = min(f1, r0 + rows)
            gemm(x[:, r0:r1], dz, dw[r0:r1], True, False, 0.0)
            good = good and all_finite_2d(dw[r0:r1])
            for i in range(r0, r1):
                for j in range(w.shape[1]):
                    w[i, j] += lr * dw[i, j]
        ok[t] = good
    return ok.all()

def main():
    _threads.configure()
    rng = np.random.default_rng(0)
    x = rng.random((32, 3072), dtype=np.float32)
    dz = (rng.standard_normal((32, 3000)) * 0.01).astype(np.float32)
    dw = np.empty((3072, 3000), np.float32)
    w = (rng.standard_normal((3072, 3000)) * 0.01).astype(np.float32)
    lr = np.float32(-0.01)
    fns = [("dW only", dw_only, (x, dz, dw)), ("dW + check", dw_check, (x, dz, dw)),
           ("dW + check + SGD pass", dw_check_sgd, (x, dz, dw, w, lr)),
           ("chunked 32 rows", chunked, (x, dz, dw, w, lr, 32)),
           ("chunked 64 rows", chunked, (x, dz, dw, w, lr, 64))]
    for _, f, a in fns: f(*a)
    res = {n: [] for n, _, _ in fns}
    for r in range(15):
        for n, f, a in fns:
            t0 = time.perf_counter(); f(*a); res[n].append(time.perf_counter() - t0)
    for n in res:
        print(f"{n}: {np.median(res[n])*1e3:.2f} ms")


if __name__ == "__main__":
    main()
