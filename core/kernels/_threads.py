"""One layer of threads: Numba splits a batch into one chunk per thread, BLAS runs single-threaded.

Two thread pools fighting over the same cores is the slowest thing a kernel can do (Numba's
workers each calling a multi-threaded OpenBLAS made steps ~100x slower on 2 cores). So the
BLAS that Numba's `np.dot` calls (SciPy's, through scipy.linalg.cython_blas) is set to one
thread, and so is NumPy's own OpenBLAS when blas.gemm calls it (core.kernels._blas_library:
NumPy's own matrix products in this process then run on one thread too), and the big
kernels run their chunks on Numba's threads instead. If that BLAS cannot be
found or limited (no threadpoolctl, an unknown library), every kernel runs its serial
driver and the BLAS keeps its own threads: slower on many cores, never oversubscribed.

The number of chunks is fixed by the thread count, so a result is bit-for-bit reproducible
for a given seed and thread count.

Numba's threads come from OpenMP (GNU libgomp) where it is available, else from Numba's
own "workqueue" layer (unless NUMBA_THREADING_LAYER says otherwise). Starting a parallel
kernel costs ~1.5 us with OpenMP and ~125 us with workqueue (measured here, 2 cores), which
made threads lose to one core on every kernel of a training step. OpenMP's workers spin
after each parallel region before they sleep; libgomp's default is 300,000 spins (~5 ms of
a core here), so during training a core would stay busy doing nothing and the window would
have to fight for the other. GOMP_SPINCOUNT is set to SPIN_COUNT (~0.5 ms: long enough to
cover the Python between two kernels of one step, short enough to be asleep between steps)
when the user has not chosen one; it only takes effect if libgomp is not loaded yet.
workqueue aborts the process if two Python threads launch parallel kernels at once (a
training worker and a prediction, say) and OpenMP would give each its own team of threads
on the same cores, so every parallel launch goes through PARALLEL_LOCK.
"""

from __future__ import annotations

import os
import threading
import time

import numba

PARALLEL_LOCK = threading.Lock()
_CONFIG_LOCK = threading.Lock()

_state: dict = {}


def _numba_blas_controllers():
    """threadpoolctl controllers of the BLAS libraries the kernels call: SciPy's (Numba's
    np.dot), then NumPy's OpenBLAS if blas.gemm calls it (see _blas_library)."""
    import scipy.linalg.cython_blas  # noqa: F401  (loads the library threadpoolctl must see)
    from threadpoolctl import ThreadpoolController

    from ._blas_library import numpy_cblas

    scipy_dir = os.path.dirname(os.path.dirname(os.path.abspath(scipy.linalg.cython_blas.__file__)))
    roots = (scipy_dir, scipy_dir + ".libs", os.path.join(scipy_dir, ".dylibs"))
    numpys = numpy_cblas()
    found, gemm_lib = [], []
    for lib in ThreadpoolController().lib_controllers:
        path = os.path.abspath(lib.filepath)
        if lib.user_api == "blas" and path.startswith(roots):
            found.append(lib)
        elif numpys is not None and path == numpys[0]:
            gemm_lib.append(lib)
    # without SciPy's (Numba's np.dot) in hand nothing can be kept to one thread: serial
    return gemm_lib + found if found else []


#: libgomp spin iterations before a worker sleeps (~17 ns each here): ~0.5 ms
SPIN_COUNT = "30000"


def _choose_threading_layer():
    if os.environ.get("NUMBA_THREADING_LAYER"):
        return  # the user's choice
    try:
        from numba.np.ufunc import parallel

        if parallel._is_initialized:
            return  # someone already started Numba's threads: too late to choose
    except (ImportError, AttributeError):
        pass
    os.environ.setdefault("GOMP_SPINCOUNT", SPIN_COUNT)
    numba.config.THREADING_LAYER = "default"
    numba.config.THREADING_LAYER_PRIORITY = ["omp", "workqueue", "tbb"]


def configure() -> int:
    """Make Numba's BLAS single-threaded (once) and return the number of batch chunks."""
    with _CONFIG_LOCK:
        if "chunks" not in _state:
            _configure()
    return _state["chunks"]


def _configure():
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
    _state["libs"] = [(lib.internal_api, lib.filepath) for lib in libs]
    _state["arch"] = next((str(getattr(lib, "architecture", "") or "") for lib in libs
                           if lib.internal_api == "openblas"), "")
    _state["chunks"] = chunks


def blas_architecture() -> str:
    """The kernel family of the OpenBLAS blas.gemm calls ("SkylakeX", "Haswell", ...;
    what OPENBLAS_CORETYPE chooses, if set), or "" if it is not OpenBLAS or unknown."""
    configure()
    return _state["arch"]


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


# ---------------------------------------------------------------- threads or not, by measurement
#
# A kernel whose batch is split into chunks can run them on Numba's threads or one after
# the other on the calling thread. The chunks and the order their partial sums are added
# are the same either way, so the result is too, bit for bit; only the time differs. Which
# is faster depends on the moment: on an idle machine the threads win, but when other
# programs (or the window's own thread) hold the other core, a threaded kernel waits for
# its descheduled half and is slower than doing both halves at once. So each call site
# keeps the recent time of both ways and takes the faster, trying the other way now and
# then to notice when the machine changes.

PROBE_EVERY = 32  # calls between two tries of the way currently losing
FORCE_MODE = None  # "threads" or "serial" for every call (tests); None: measure
_sites: dict = {}
_last = {"threaded": False}


@numba.njit(cache=True, nogil=True, parallel=True)
def _wake_kernel(n):
    s = 0
    for i in numba.prange(n):
        s += i
    return s


def wake():
    """Start (or wake) the worker threads and return once they are running.

    OpenMP's workers sleep after ~0.5 ms without work (SPIN_COUNT), and waking them costs
    more than a small kernel: a try of the threaded way after a run of serial calls
    would be timed with that wake-up in it and look slower than it is. So such a try is
    preceded by this, untimed.
    """
    with PARALLEL_LOCK:
        _wake_kernel(max(2, n_chunks()))


#: recent times kept per way; the fastest of them decides, so a hiccup (a context switch,
#: another program's threads spinning for a moment) cannot flip a call site unless it
#: lasts RECENT calls, and one fast try is enough to come back
RECENT = 3


class _Site:
    __slots__ = ("times", "calls")

    def __init__(self):
        self.times = ([], [])  # recent seconds: threads, serial
        self.calls = 0

    def typical(self, i):
        return min(self.times[i])

    def add(self, i, dt):
        t = self.times[i]
        t.append(dt)
        if len(t) > RECENT:
            del t[0]


def one_thread(fn, *args):
    """A parallel kernel run on the calling thread only, with the same chunks: the serial
    way where there is no serial copy (~3 us more per call than one: for kernels that take
    milliseconds; fanout.in_turn runs part kernels in turn without it)."""
    with PARALLEL_LOCK:
        saved = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            return fn(*args)
        finally:
            numba.set_num_threads(saved)


def run(key, threaded_fn, serial_fn, *args, mode=None):
    """threaded_fn(*args) or serial_fn(*args), whichever has been faster for `key`.

    serial_fn None means threaded_fn on one thread (`one_thread`). mode="threads" or
    "serial" forces one (warm-up, tests). Threaded calls hold PARALLEL_LOCK; the time spent
    waiting for it counts against threads, as it should.
    """
    if mode is None:
        mode = FORCE_MODE
    if mode is None:
        site = _sites.get(key)
        if site is None:
            site = _sites[key] = _Site()
        site.calls += 1
        if not site.times[0] or not site.times[1]:
            threaded = not site.times[0]  # each way once first
        else:
            threaded = site.typical(0) <= site.typical(1)
            if site.calls % PROBE_EVERY == 0:
                threaded = not threaded
    else:
        site = None
        threaded = mode == "threads"
    if threaded and site is not None and not _last["threaded"]:
        wake()
    _last["threaded"] = threaded
    t0 = time.perf_counter()
    if threaded:
        with PARALLEL_LOCK:
            out = threaded_fn(*args)
    elif serial_fn is None:
        out = one_thread(threaded_fn, *args)
    else:
        out = serial_fn(*args)
    if site is not None:
        site.add(0 if threaded else 1, time.perf_counter() - t0)
    return out


def site_report() -> dict:
    """{call site: (typical threaded seconds, typical serial seconds, calls)}, for benchmarks."""
    return {k: (v.typical(0) if v.times[0] else 0.0, v.typical(1) if v.times[1] else 0.0, v.calls)
            for k, v in _sites.items()}
