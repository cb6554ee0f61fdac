"""NumPy's and SciPy's bundled OpenBLAS on the products the engine computes, one thread each
(core.kernels._blas_library: why blas.gemm calls NumPy's).

    .venv/bin/python benchmarks/blas_libraries.py [--repeats 40]

Both libraries are called through their Fortran sgemm with the same column-major layout
blas.gemm uses (row-major C = X @ W asked as C^T = W^T X^T), on the same arrays, in turns;
the best of three medians of each. Reported: microseconds per product and SciPy's time
over NumPy's (above 1: NumPy's library is faster). Only for the wheels' OpenBLAS builds
(scipy_sgemm_64_ in NumPy's, scipy_sgemm_ in SciPy's); anything else is said and skipped.

2026-12-07, AMD EPYC (2 cores, AVX-512; both libraries on OpenBLAS's SkylakeX kernels),
NumPy 2.4.6 (OpenBLAS 0.3.31), SciPy 1.17.1 (OpenBLAS 0.3.30), OpenBLAS variables unset:
tutorial 24's 32x3072 @ 3072x3000 9.2 ms against 15.1 (1.64x), 32x3000 @ 3000x1000 2.9
against 4.1 (1.40x), the course's dense 32x784 @ 784x128 83 against 100 us (1.19x), the
CNN's 64x1600 @ 1600x128 1.11x, the LSTM's 64x128 @ 128x512 1.10x; the CNN's im2col
products (10816x288 @ 288x64, 43264x9 @ 9x32) 1.02-1.04x, the LSTM's input product 0.99x.
"""
from __future__ import annotations

import argparse
import ctypes
import glob
import os

import numpy as np
from speed_support import median_us

CASES = {"tutorial 24, layer 1: 32x3072 @ 3072x3000": (32, 3072, 3000),
         "tutorial 24, layer 2: 32x3000 @ 3000x1000": (32, 3000, 1000),
         "course dense: 32x784 @ 784x128": (32, 784, 128),
         "course CNN dense: 64x1600 @ 1600x128": (64, 1600, 128),
         "course CNN conv 2 im2col: 10816x288 @ 288x64": (10816, 288, 64),
         "course CNN conv 1 im2col: 43264x9 @ 9x32": (43264, 9, 32),
         "LSTM(128) recurrent: 64x128 @ 128x512": (64, 128, 512),
         "LSTM(128) input: 64x28 @ 28x512": (64, 28, 512)}


def fortran_sgemm(path, name, int64):
    """A caller of the library's Fortran sgemm: (m, n, k, a, lda, b, ldb, c, ldc), 'N', 'N'."""
    fn = getattr(ctypes.CDLL(path), name)
    size = ctypes.c_int64 if int64 else ctypes.c_int32
    ptr = ctypes.c_void_p
    one, zero, no = ctypes.c_float(1.0), ctypes.c_float(0.0), ctypes.c_char_p(b"N")

    def call(m, n, k, a, lda, b, ldb, c, ldc):
        fn(no, no, ctypes.byref(size(m)), ctypes.byref(size(n)), ctypes.byref(size(k)),
           ctypes.byref(one), a.ctypes.data_as(ptr), ctypes.byref(size(lda)),
           b.ctypes.data_as(ptr), ctypes.byref(size(ldb)), ctypes.byref(zero),
           c.ctypes.data_as(ptr), ctypes.byref(size(ldc)))
    return call


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=40)
    args = ap.parse_args()
    import scipy
    import scipy.linalg.cython_blas  # noqa: F401  (loads SciPy's library)
    from threadpoolctl import threadpool_info, threadpool_limits

    here = {"numpy": os.path.dirname(np.__file__), "scipy": os.path.dirname(scipy.__file__)}
    found = {}
    for name, folder in here.items():
        pattern = os.path.join(folder + ".libs", "libscipy_openblas*")
        for path in glob.glob(pattern):
            lib = ctypes.CDLL(path)
            for symbol, int64 in (("scipy_sgemm_64_", True), ("scipy_sgemm_", False)):
                if hasattr(lib, symbol):
                    found[name] = fortran_sgemm(path, symbol, int64)
                    break
    if len(found) < 2:
        print(f"needs the wheels' OpenBLAS builds of both; found {sorted(found)}")
        return 1
    for lib in threadpool_info():
        if lib.get("user_api") == "blas":
            print(f"{os.path.basename(lib['filepath'])}: OpenBLAS {lib.get('version')}, "
                  f"{lib.get('architecture')} kernels")
    rng = np.random.default_rng(0)
    with threadpool_limits(1):
        for label, (m, k, n) in CASES.items():
            x = rng.random((m, k), dtype=np.float32)
            w = rng.random((k, n), dtype=np.float32)
            c = np.empty((m, n), np.float32)
            best = {name: float("inf") for name in found}
            for _ in range(3):
                for name, sgemm in found.items():
                    us = median_us(lambda: sgemm(n, m, k, w, n, x, k, c, n), args.repeats)
                    best[name] = min(best[name], us)
            np.testing.assert_allclose(c, x @ w, rtol=1e-3)
            print(f"{label:46s} NumPy's {best['numpy']:9.1f} us  SciPy's {best['scipy']:9.1f} us"
                  f"  ratio {best['scipy'] / best['numpy']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
