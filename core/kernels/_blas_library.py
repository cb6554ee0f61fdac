"""Which BLAS library the kernels' matrix products (blas.gemm) call.

NumPy's and SciPy's wheels each bundle their own OpenBLAS, often of different releases;
Numba's own np.dot reaches SciPy's (through scipy.linalg.cython_blas). The releases differ
in speed: on this project's 2-core AMD EPYC test machine (2026-12-07, both on OpenBLAS's
SkylakeX kernels, one thread) NumPy's 0.3.31 computed tutorial 24's 32x3072 @ 3072x3000
in 9.2 ms where SciPy's 0.3.30 took 15.1 ms (32x3000 @ 3000x1000: 2.9 against 4.1 ms, the
course's 32x784 @ 784x128: 83 against 100 us; convolutions' tall products tie;
benchmarks/blas_libraries.py). So gemm calls NumPy's library when it is the ILP64 build
NumPy's wheels ship, whose CBLAS gemm is exported under a name of its own, and SciPy's
otherwise (another NumPy build: MKL, Accelerate, a distribution's OpenBLAS).

Compiled code calls the library's function by its name, so code compiled against one
library must never be loaded where it is missing: `cache_tag()` is part of the kernel
cache folder's name (core.kernels._cache). BACKPROP_LAB_BLAS=scipy chooses SciPy's
library whatever NumPy ships (for comparing the two).
"""
from __future__ import annotations

import ctypes
import functools
import os

#: (sgemm, dgemm) names of the ILP64 CBLAS gemm in NumPy's OpenBLAS builds: the
#: scipy-openblas64 wheels NumPy 2 ships, then the openblas64_ builds of NumPy 1.x
CBLAS_NAMES = (("scipy_cblas_sgemm64_", "scipy_cblas_dgemm64_"),
               ("cblas_sgemm64_", "cblas_dgemm64_"))


@functools.cache
def numpy_cblas() -> tuple[str, str, str] | None:
    """(library path, sgemm name, dgemm name) of NumPy's own OpenBLAS, or None when SciPy's
    is to be used. Cheap (the cache folder's name needs it at import): Numba's linker is
    given the library by `load_for_numba`, when the kernels are defined."""
    if os.environ.get("BACKPROP_LAB_BLAS", "").lower() == "scipy":
        return None
    try:
        import numpy
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    root = os.path.dirname(os.path.abspath(numpy.__file__))
    roots = (root + os.sep, root + ".libs" + os.sep)
    for lib in ThreadpoolController().lib_controllers:
        path = os.path.abspath(lib.filepath or "")
        if lib.user_api != "blas" or lib.internal_api != "openblas" or not path.startswith(roots):
            continue
        try:
            handle = ctypes.CDLL(path)
        except OSError:
            continue
        for names in CBLAS_NAMES:
            if all(hasattr(handle, name) for name in names):
                return (path, *names)
    return None


def load_for_numba() -> tuple[str, str, str] | None:
    """numpy_cblas(), its symbols loaded for Numba's linker; None (SciPy's, then) if there
    is none or llvmlite cannot load it."""
    found = numpy_cblas()
    if found is not None:
        import llvmlite.binding as llvm

        try:
            llvm.load_library_permanently(found[0])
        except RuntimeError:  # (llvmlite's error for a library it cannot load)
            return None
    return found


def cache_tag() -> str:
    """What compiled kernels depend on besides their source: the library gemm calls."""
    found = numpy_cblas()
    return "scipy" if found is None else f"{os.path.basename(found[0])}:{found[1]}"
