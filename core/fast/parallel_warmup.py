"""Compiling the kernels in several processes at once: a first-ever launch on every core.

Numba compiles one function at a time and holds the GIL while it does, so a second core can
only help from a second process. `warm_up_parallel(jobs)` starts `jobs` worker processes
(`python -m core.fast.parallel_warmup --worker`) and hands them the warm-up's steps by
number over their stdin, in warm_up's order (inference first), each to whichever worker is
free: the drawing pad's kernels are ready as soon as the slowest inference step is, and the
rest is shared. All workers write into the same Numba cache folder (they inherit
NUMBA_CACHE_DIR); the process that asked then loads the machine code from there.

Numba writes each cache file atomically (a temporary file, then a rename), but it adds a
specialisation to a function's index by reading the index, adding one entry and writing it
back, with no lock (numba/core/caching.py, IndexDataCacheFile.save). Two processes saving
two specialisations of one function at the same moment could both pick data file number 1,
and the index that wins could pair one's signature with the other's machine code.
`share_numba_cache()` puts that read-add-write under an OS file lock in every process that
may compile into a shared cache while another does (the workers, the app's own process, the
test session); saving is milliseconds, so nobody waits for long. Two processes compiling
the SAME specialisation only duplicate work: both write the same entry.

A worker whose parent dies (the window closed, the coordinator killed) notices within a
fraction of a second and exits, so no compiler is left running for nobody.

    from core.fast.parallel_warmup import warm_up_parallel
    warm_up_parallel(jobs=2, progress=lambda done, total, label, phase: ...)
"""
from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from core.fast.warmup import PHASES, WarmupReport, dispatch_order

_LOCK_NAME = ".index.lock"
_installed = False


# ---------------------------------------------------------------- sharing Numba's cache


#: how long a process waits for another to finish compiling a function before it
#: compiles the function itself (a stuck process must not stall a lesson for ever)
COMPILE_WAIT_S = 300.0


@contextlib.contextmanager
def _file_lock(path: str, timeout: float | None = None):
    """An exclusive OS lock on the file `path` (released when the file is closed, even if
    the process dies). Yields whether it was taken: without a way to lock, or after
    `timeout` seconds of waiting, the caller goes on unlocked (Numba's own behaviour)."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        f = open(path, "a+b")
    except OSError:
        yield False
        return
    try:
        yield _lock(f, timeout)
    finally:
        f.close()


def _lock(f, timeout: float | None) -> bool:
    try:
        if os.name == "nt":
            import msvcrt

            f.seek(0)
            msvcrt.locking(f.fileno(), msvcrt.LK_LOCK, 1)  # gives up after ~10 s
            return True
        import fcntl

        if timeout is None:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            return True
        end = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() > end:
                    return False
                time.sleep(0.02)
    except OSError:
        return False


def share_numba_cache() -> bool:
    """Let this process compile into a Numba cache other processes compile into too
    (once per process; returns False if this Numba lacks what is wrapped, then nothing
    changes: compiling still works, only without these guarantees).

    - A function's cache index is updated under a lock (`<cache folder>/.index.lock`).
    - A function is compiled by one process at a time (`<cache folder>/.compiling/<its
      index name>`): a process that wants a function another one is compiling waits,
      then loads it from the cache instead of compiling it a second time. This counts
      most for the functions that many kernels call: two workers compiling two kernels
      that share them would otherwise both compile them. The lock is taken inside
      Numba's own compiler lock (one compile at a time per process), and kernels do not
      call each other in a cycle, so two processes never wait for each other.
    """
    global _installed
    if _installed:
        return True
    try:
        from numba.core.caching import IndexDataCacheFile
        from numba.core.compiler_lock import global_compiler_lock
        from numba.core.dispatcher import Dispatcher
    except ImportError:
        return False
    save, compile_ = (getattr(IndexDataCacheFile, "save", None), getattr(Dispatcher, "compile", None))
    if save is None or compile_ is None:
        return False

    def locked_save(self, key, data):
        with _file_lock(os.path.join(os.path.dirname(self._index_path), _LOCK_NAME)):
            return save(self, key, data)

    held: set[str] = set()  # functions whose compile lock this process holds

    def compile_once(self, sig):
        index = getattr(getattr(getattr(self, "_cache", None), "_cache_file", None),
                        "_index_path", None)
        if index is None:  # not cached (cache=False): nothing to share
            return compile_(self, sig)
        with global_compiler_lock:
            if index in held:  # this process is compiling it already (a nested call)
                return compile_(self, sig)
            path = os.path.join(os.path.dirname(index), ".compiling", os.path.basename(index))
            with _file_lock(path, COMPILE_WAIT_S):
                held.add(index)
                try:
                    return compile_(self, sig)  # loads it if another process saved it
                finally:
                    held.discard(index)

    locked_save.__wrapped__ = save
    compile_once.__wrapped__ = compile_
    IndexDataCacheFile.save = locked_save
    Dispatcher.compile = compile_once
    _installed = True
    return True


# ---------------------------------------------------------------- the coordinator


#: written into Numba's cache folder once every step of a warm-up has run there (the folder
#: is named after the kernels' source, core.kernels._cache: a new version starts without it)
_COMPLETE_MARK = "warm-up-complete"


def _cache_is_complete() -> bool:
    folder = os.environ.get("NUMBA_CACHE_DIR")
    return bool(folder) and os.path.exists(os.path.join(folder, _COMPLETE_MARK))


def _note_complete(report, phases) -> None:
    folder = os.environ.get("NUMBA_CACHE_DIR")
    if folder and report.completed and set(PHASES) <= set(phases):
        with contextlib.suppress(OSError):
            Path(folder, _COMPLETE_MARK).touch()


def default_jobs() -> int:
    """One worker per core this process may use."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    return max(1, n)


def _worker_command(phases) -> list[str]:
    return [sys.executable, "-m", "core.fast.parallel_warmup", "--worker", "--phases", ",".join(phases)]


def _worker_env() -> dict:
    """This process's environment, with this checkout's `core` first on the path (so a
    worker compiles the code this process runs, not another installed copy)."""
    import core

    env = dict(os.environ)
    root = str(Path(core.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _start_worker(phases, env, events: queue.Queue, w: int):
    proc = subprocess.Popen(_worker_command(phases), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            env=env, text=True, bufsize=1)

    def read():
        for line in proc.stdout:
            events.put((w, line.rstrip("\n")))
        events.put((w, None))  # the worker ended

    threading.Thread(target=read, name=f"warmup-worker-{w}", daemon=True).start()
    return proc


def warm_up_parallel(jobs: int | None = None,
                     progress: Callable[[int, int, str, str], None] | None = None,
                     should_stop: Callable[[], bool] | None = None,
                     phases=PHASES) -> WarmupReport:
    """Run the warm-up's steps in `jobs` worker processes; returns a WarmupReport.

    progress(done, total, label, phase) as warm_up calls it: done counts finished steps,
    label and phase are those of the first step in warm_up's order not finished yet (so,
    as with warm_up, every step before it is done, and a phase is complete when a call
    names a later one, or done == total); once at the start with done == 0 and once at the
    end with done == total. `seconds` and `cpu_seconds` hold each step's wall and
    processor seconds in its worker; `completed` is False if a step failed, a worker died
    or should_stop() said stop (the caller's own warm_up() then compiles what is missing).
    With jobs == 1 this is warm_up() in this process.
    """
    from core.fast.warmup import warm_up

    if jobs is None:
        # a cache a whole warm-up already filled only needs loading: starting workers that
        # each import Numba would make a warm launch slower, not faster; without any cache
        # (core.kernels._cache) a worker's machine code could never reach this process
        from core.kernels import _cache as kernel_cache

        jobs = 1 if _cache_is_complete() or not kernel_cache.caching else default_jobs()
    jobs = max(1, int(jobs))
    if jobs == 1:
        share_numba_cache()
        report = warm_up(progress=progress, should_stop=should_stop, phases=phases)
        _note_complete(report, phases)
        return report
    phases = tuple(p for p in PHASES if p in phases)
    env = _worker_env()
    events: queue.Queue = queue.Queue()
    procs = {w: _start_worker(phases, env, events, w) for w in range(jobs)}
    report = WarmupReport()
    plan: list[tuple[str, str]] | None = None
    pending: list[int] = []
    running: dict[int, int] = {}       # worker -> step it is running
    finished: set[int] = set()
    alive = set(procs)
    failed = False
    last_line = None

    def send(w):
        if pending:
            i = pending.pop(0)
            running[w] = i
            try:
                procs[w].stdin.write(f"{i}\n")
                procs[w].stdin.flush()
                return
            except OSError:
                running.pop(w)
                pending.insert(0, i)
        with contextlib.suppress(OSError):
            procs[w].stdin.close()  # nothing more for it: it exits

    def tell():
        nonlocal last_line
        if progress is None or plan is None:
            return
        todo = [i for i in range(len(plan)) if i not in finished]
        if todo:
            label, phase = plan[todo[0]]
        else:
            label, phase = "done", plan[-1][1] if plan else ""
        line = (len(finished), len(plan), label, phase)
        if line != last_line:
            last_line = line
            progress(*line)

    try:
        while alive:
            if should_stop is not None and should_stop():
                return report
            try:
                w, line = events.get(timeout=0.1)
            except queue.Empty:
                continue
            if line is None:  # the worker ended
                alive.discard(w)
                if running.pop(w, None) is not None:  # it died mid-step: that step is not done
                    failed = True
                continue
            kind, _, rest = line.partition("\t")
            if kind == "plan":  # every worker computes the same plan: the first one counts
                if plan is None:
                    plan = [tuple(p) for p in json.loads(rest)]
                    pending = dispatch_order(plan)
                    tell()
                send(w)
            elif kind in ("done", "failed"):
                i_text, _, secs = rest.partition("\t")
                secs, _, cpu = secs.partition("\t")
                i = int(i_text)
                running.pop(w, None)
                if kind == "done":
                    finished.add(i)
                    label, phase = plan[i]
                    dt = float(secs)
                    report.seconds[label] = dt
                    report.phase_seconds[phase] = report.phase_seconds.get(phase, 0.0) + dt
                    report.cpu_seconds[label] = float(cpu or 0.0)
                else:
                    failed = True
                tell()
                send(w)
        report.completed = plan is not None and not failed and len(finished) == len(plan)
        _note_complete(report, phases)
        return report
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
                if not report.completed:
                    proc.kill()
        for proc in procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)


def warm_up_claiming(folder: str, phases=PHASES) -> WarmupReport:
    """Run, in this process, every warm-up step that no other process has claimed yet in
    `folder`, in the order workers take them (dispatch_order); returns what this process ran.

    For processes that already run side by side and each want the kernels (a test
    session's workers): each takes the next unclaimed step (a file created exclusively in
    `folder`, which must be fresh and shared by them), so together they compile every
    kernel once, without a coordinator, and each goes on with its own work when no step
    is left. A step another process is still compiling is not waited for.
    """
    from core.fast.warmup import steps
    from core.kernels import _threads

    share_numba_cache()
    _threads.configure()
    report = WarmupReport()
    todo = steps(phases)
    for i in dispatch_order([(label, phase) for label, phase, _ in todo]):
        label, phase, fn = todo[i]
        try:
            os.close(os.open(os.path.join(folder, f"step-{i}.claim"),
                             os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            continue
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        report.seconds[label] = dt = time.perf_counter() - t0
        report.cpu_seconds[label] = time.process_time() - c0
        report.phase_seconds[phase] = report.phase_seconds.get(phase, 0.0) + dt
    report.completed = True
    return report


# ---------------------------------------------------------------- a worker


def _exit_with_parent() -> None:
    """End this worker within ~0.2 s of its parent's death (its stdin may stay open when
    a grandparent holds it)."""
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(0.2)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def worker(phases=PHASES, out=sys.stdout, inp=sys.stdin) -> int:
    """Print the plan (label, phase of every step), then run each step number read from
    `inp` until it closes, printing `done <i> <seconds> <processor seconds>` (or
    `failed <i> <error>`)."""
    from core.fast.warmup import steps
    from core.kernels import _threads

    _exit_with_parent()
    share_numba_cache()
    _threads.configure()
    todo = steps(phases)
    print("plan\t" + json.dumps([[label, phase] for label, phase, _ in todo]), file=out, flush=True)
    for line in inp:
        line = line.strip()
        if not line:
            continue
        i = int(line)
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            todo[i][2]()
        except Exception as exc:  # noqa: BLE001 - reported; the app compiles it on use
            print(f"failed\t{i}\t{type(exc).__name__}: {exc}".replace("\n", " "), file=out,
                  flush=True)
            continue
        print(f"done\t{i}\t{time.perf_counter() - t0:.3f}\t{time.process_time() - c0:.3f}",
              file=out, flush=True)
    return 0


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="a warm-up worker process (see module docstring)")
    ap.add_argument("--worker", action="store_true", required=True)
    ap.add_argument("--phases", default=",".join(PHASES))
    args = ap.parse_args(argv)
    return worker(tuple(p for p in args.phases.split(",") if p))


if __name__ == "__main__":
    raise SystemExit(main())
