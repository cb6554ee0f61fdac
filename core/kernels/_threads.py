"""One layer of threads: Numba splits a batch into one chunk per thread, BLAS runs single-threaded.

Two thread pools fighting over the same cores is the slowest thing a kernel can do (Numba's
workers each calling a multi-threaded OpenBLAS made steps ~100x slower on 2 cores). So the
BLAS that Numba's `np.dot` calls (SciPy's, through scipy.linalg.cython_blas) is set to one
thread, and the big kernels run their chunks in a `prange` instead. If that BLAS cannot be
found or limited (no threadpoolctl, an unknown library), every kernel runs its serial
driver and the BLAS keeps its own threads: slower on many cores, never oversubscribed.

The number of chunks is fixed by the thread count, so a result is bit-for-bit reproducible
for a given seed and thread count.

Numba's threads come from its own "workqueue" layer (unless NUMBA_THREADING_LAYER says
otherwise): its workers sleep between kernels. OpenMP's workers instead spin for a long
while after each parallel region (hundreds of thousands of PAUSE instructions, tens of ms
on recent Intel cores), so during training one core would stay busy doing nothing and the
window's own thread would have to fight for the other; on a loaded machine the spinning
made a training step 20x slower. workqueue aborts the process if two Python threads
launch parallel kernels at once (a training worker and a prediction, say), so every
parallel launch goes through PARALLEL_LOCK.
"""

from __future__ import annotations

import os
import threading

import numba

PARALLEL_LOCK = threading.Lock()

_state: dict = {}


def _numba_blas_controllers():
    """threadpoolctl controllers of the BLAS library Numba's np.dot uses (SciPy's)."""
    import scipy.linalg.cython_blas  # noqa: F401  (loads the library threadpoolctl must see)
    from threadpoolctl import ThreadpoolController

    scipy_dir = os.path.dirname(os.path.dirname(os.path.abspath(scipy.linalg.cython_blas.__file__)))
    roots = (scipy_dir, scipy_dir + ".libs", os.path.join(scipy_dir, ".dylibs"))
    found = []
    for lib in ThreadpoolController().lib_controllers:
        if lib.user_api == "blas" and os.path.abspath(lib.filepath).startswith(roots):
            found.append(lib)
    return found


def _choose_threading_layer():
    if os.environ.get("NUMBA_THREADING_LAYER"):
        return  # the user's choice
    try:
        from numba.np.ufunc import parallel

        if parallel._is_initialized:
            return  # someone already started Numba's threads: too late to choose
    except (ImportError, AttributeError):
        pass
    numba.config.THREADING_LAYER = "workqueue"


def configure() -> int:
    """Make Numba's BLAS single-threaded (once) and return the number of batch chunks."""
    if "chunks" in _state:
        return _state["chunks"]
    _choose_threading_layer()
    chunks = 1
    libs = []
    try:
        libs = _numba_blas_controllers()
    except Exception:  # noqa: BLE001 - no SciPy BLAS / threadpoolctl: stay serial
        libs = []
    if libs:
        try:
            for lib in libs:
                lib.set_num_threads(1)
            chunks = max(1, int(numba.get_num_threads()))
        except Exception:  # noqa: BLE001
            chunks = 1
    _state["chunks"] = chunks
    _state["libs"] = [(lib.internal_api, lib.filepath) for lib in libs]
    return chunks


def n_chunks() -> int:
    """Chunks a parallel kernel splits its batch into (1 means: run the serial driver)."""
    c = _state.get("chunks")
    return configure() if c is None else c


def describe() -> dict:
    """What is in use, for benchmarks and bug reports: threads, threading layer, BLAS libraries."""
    configure()
    info = {"numba_threads": int(numba.get_num_threads()), "chunks": _state["chunks"],
            "numba_blas": _state["libs"]}
    try:
        info["threading_layer"] = numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet
        info["threading_layer"] = "(not started)"
    try:
        from threadpoolctl import threadpool_info
        info["blas"] = [
            {k: lib.get(k) for k in ("internal_api", "architecture", "num_threads", "version", "filepath")}
            for lib in threadpool_info() if lib.get("user_api") == "blas"
        ]
    except Exception:  # noqa: BLE001
        info["blas"] = []
    return info
