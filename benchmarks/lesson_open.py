"""How long each lesson takes from the navigator click to interactive (issue 15 item 14:
every lesson within 200 ms), and the GUI thread's longest stall while it opens.

    .venv/bin/python benchmarks/lesson_open.py [--runs 3] [--only "Neuron,Dropout"] [--profile]
                                               [--click warm|early|cold]

Each run is a fresh `python` process (Numba's cache as it is: run once beforehand so it is
warm) holding the main window at 1280×800 with the Welcome page shown. When the click comes:

  warm      (default) after the app's own background warm-up has finished: the window is
            made as main.py makes it (`warm_up_engine=True`: a child process checks every
            kernel is cached, then a worker thread loads them all into this process, ~1 s
            with a warm cache), and the click waits for its `ready` signal. This is what a
            learner meets: a second or two after launch, before their first click lands,
            every kernel is loaded
  early     a click in the app's first second, before the warm-up has loaded the kernels:
            Numba started (its typing context, ~1-3 s of one-time set-up, is then not any
            lesson's cost), but each lesson's own kernels load from the cache when it first
            calls them (~10-15 ms each); this was the only mode before
  cold      (`--cold-engine`) Numba not even started: a click at once after launch

A 10 ms timer on the GUI thread then "clicks" the lesson's navigator row, as a learner's
click arrives, and measures:

  open      from the click to the event loop's first free moment after the lesson's first
            paint: construction, the first activate(), the first paint and anything the
            lesson queued to run at once (what the learner waits for)
  cpu       the GUI thread's processor time over the same span: what the opening costs on an
            idle machine (wall times grow with the machine's load, this hardly does)
  others    the processor time of the app's other threads over the same span (workers the
            lesson started, anything still running from the start-up): on two cores it
            competes with the GUI thread for the cores and their shared caches
  built     from the click to the lesson constructed, shown and activated (the click's
            own handler returned; the rest of open is painting and queued work)
  painted   from the click to the first paint event of any widget (printed per run)
  gc        time spent in garbage collections over the same span (part of open)
  stall     the longest time the GUI thread was unavailable in the 2 s after the click (a
            lesson that opens fast but then computes on the GUI thread shows here)

Prints the median of the runs per lesson, most processor time first, and the load average:
the machine may be shared, so compare lessons within one run. `--profile` prints a cProfile of the open span
(construction, activate, the first paint) for each lesson instead.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 200.0
WATCH_S = 2.0

CHILD = r"""
import json, os, sys, time
sys.path.insert(0, %(root)r)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from gui.app import create_application
app = create_application([])
from gui.settings import use_private_settings
use_private_settings(%(settings)r)
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from gui.main_window import MainWindow

click_when = %(click)r
if click_when == "early":
    # Numba started, as the app's background warm-up does in its first second (its typing
    # context, ~1-3 s of one-time set-up, is then not any lesson's cost); a lesson's own
    # kernels still load from the cache when it first calls them
    import numpy as np
    from core.kernels.dense import dense_forward
    dense_forward(np.ones((2, 2), np.float32), np.ones((2, 2), np.float32),
                  np.zeros(2, np.float32))
# "warm": the app's own warm-up, as main.py starts it; the click waits for it to finish
win = MainWindow(warm_up_engine=click_when == "warm")
win.resize(1280, 800)
win.show()
title = %(title)r
row = win.row_of(title)
out = {"title": title}
ticks = []
state = {"click": None, "painted": None, "open": None, "cpu": None, "proc": None}


import gc
gc_spans = []   # (start, end) of every garbage collection on any thread


def _on_gc(phase, info):
    if phase == "start":
        gc_spans.append([time.perf_counter(), None])
    elif gc_spans and gc_spans[-1][1] is None:
        gc_spans[-1][1] = time.perf_counter()


gc.callbacks.append(_on_gc)


class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and state["painted"] is None:
            state["painted"] = time.perf_counter()
        return False


first_paint = FirstPaint()
prof = None
if %(profile)r:
    import cProfile, pstats
    prof = cProfile.Profile()


def tick():
    now = time.perf_counter()
    ticks.append(now)
    if state["click"] is None:
        return
    if state["painted"] is not None and state["open"] is None:
        if prof is not None:
            prof.disable()
            pstats.Stats(prof, stream=sys.stderr).sort_stats(%(sort)r).print_stats(45)
        state["open"] = now
        state["cpu"] = time.thread_time() - state["cpu"]
        state["proc"] = time.process_time() - state["proc"]
    if now - state["click"] > %(watch)r:
        timer.stop()
        after = [t for t in ticks if t >= state["click"]]
        gaps = [b - a for a, b in zip([state["click"]] + after, after)]
        out["open_ms"] = (state["open"] - state["click"]) * 1000
        out["built_ms"] = (state["built"] - state["click"]) * 1000
        out["painted_ms"] = (state["painted"] - state["click"]) * 1000
        out["stall_ms"] = max(gaps) * 1000
        out["cpu_ms"] = state["cpu"] * 1000
        out["others_ms"] = (state["proc"] - state["cpu"]) * 1000
        out["gc_ms"] = 1000 * sum(b - a for a, b in gc_spans
                                  if b is not None and state["click"] <= a <= state["open"])
        print(json.dumps(out)); sys.stdout.flush()
        win.close(); app.quit()


def click():
    app.installEventFilter(first_paint)   # the lesson and its children: any first paint
    state["click"] = time.perf_counter()
    state["cpu"] = time.thread_time()
    state["proc"] = time.process_time()
    if prof is not None:
        prof.enable()   # until the open span ends (tick): construction, activate, first paint
    win.navigator.setCurrentRow(row)
    state["built"] = time.perf_counter()


timer = QTimer()
timer.setTimerType(Qt.TimerType.PreciseTimer)
timer.setInterval(10)
timer.timeout.connect(tick)
timer.start()
if click_when == "warm":
    def warmed(ok):
        if not ok:
            print("the engine's warm-up did not complete", file=sys.stderr)
        QTimer.singleShot(300, click)   # what the warm-up's last signals queued, done first
    win.engine_warmup.ready.connect(warmed)
else:
    QTimer.singleShot(700, click)   # the window settled on the Welcome page first
app.exec()
"""


def lesson_titles() -> list[str]:
    code = ("import sys; sys.path.insert(0, %r)\nfrom gui.lessons import lesson_classes\n"
            "print('\\n'.join(c.title for c in lesson_classes()))" % str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    return [t for t in out.stdout.splitlines() if t.strip()]


def run(title: str, profile: bool = False, click: str = "warm",
        sort: str = "cumulative") -> dict | None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    with tempfile.TemporaryDirectory() as settings:
        code = CHILD % {"root": str(ROOT), "settings": settings, "title": title,
                        "watch": WATCH_S, "profile": profile, "sort": sort,
                        "click": click}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, timeout=600)
    if profile:
        print(f"===== {title}\n{out.stderr[-6000:]}")
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        print(f"{title}: the child failed\n{out.stderr[-1500:]}", file=sys.stderr)
        return None
    return json.loads(lines[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated lesson titles")
    ap.add_argument("--profile", action="store_true",
                    help="print a cProfile of each lesson's open span (the click to the "
                         "first free moment after its first paint) instead of timing it")
    ap.add_argument("--sort", default="cumulative",
                    help="the profile's order (a pstats key: cumulative, tottime, ...)")
    ap.add_argument("--click", choices=("warm", "early", "cold"), default="warm",
                    help="warm: after the app's background warm-up loaded every kernel "
                         "(what a learner meets); early: Numba started but the lesson's "
                         "kernels not loaded yet; cold: Numba not started")
    ap.add_argument("--cold-engine", action="store_true", help="the same as --click cold")
    args = ap.parse_args()
    when = "cold" if args.cold_engine else args.click
    titles = lesson_titles()
    if args.only:
        wanted = [t.strip() for t in args.only.split(",")]
        titles = [t for t in titles if t in wanted]
    if args.profile:
        for title in titles:
            run(title, profile=True, click=when, sort=args.sort)
        return
    loads = [os.getloadavg()[0]]
    rows = []
    for title in titles:
        results = [r for r in (run(title, click=when) for _ in range(args.runs)) if r]
        loads.append(os.getloadavg()[0])
        if not results:
            continue
        rows.append((title, statistics.median(r["open_ms"] for r in results),
                     statistics.median(r["cpu_ms"] for r in results),
                     statistics.median(r["stall_ms"] for r in results),
                     max(r["stall_ms"] for r in results),
                     statistics.median(r["others_ms"] for r in results)))
        each = ", ".join(f"{r['open_ms']:.0f}/{r['cpu_ms']:.0f}/{r['others_ms']:.0f}/"
                         f"{r['gc_ms']:.0f} ({r['built_ms']:.0f}/{r['painted_ms']:.0f})"
                         for r in results)
        print(f"  {title}: open/cpu/others/gc ms (built/first paint) per run {each}",
              file=sys.stderr, flush=True)
    print(f"{'lesson':<40}{'open ms':>9}{'cpu ms':>8}{'others':>8}{'stall ms':>10}"
          f"{'worst stall':>13}")
    for title, open_ms, cpu, stall, worst, others in sorted(rows, key=lambda r: -r[2]):
        flag = "" if cpu <= TARGET_MS else "  OVER 200 ms"
        print(f"{title[:39]:<40}{open_ms:>9.0f}{cpu:>8.0f}{others:>8.0f}{stall:>10.0f}"
              f"{worst:>13.0f}{flag}")
    words = {"warm": "clicked after the app's warm-up loaded every kernel",
             "early": "clicked with Numba started, the lesson's kernels not loaded",
             "cold": "clicked before Numba started"}
    print(f"(medians of {args.runs} fresh processes per lesson, {words[when]}; load average "
          f"{min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
