"""Time from process start to the main window on screen, with a cold and a warm Numba cache.

    .venv/bin/python benchmarks/startup.py [--repeats 5] [--window-only]

Each run is a fresh `python` process that builds the app as `main.main()` does (with the
background warm-up) and stops once every kernel is loaded; the cold runs point
NUMBA_CACHE_DIR at an empty folder. Columns: the window on screen; "pad reads": a drawing
read by both shipped networks 0.25 s after the window appeared, as the pad would (by plain
NumPy, core.readable, while the warm-up still compiles their kernels: "first reading:
plain"); "pad fast": the pad able to read the fast way (its networks' kernels compiled by
the background warm-up, then one reading with both networks in the app's own process);
the other one-image kernels compiled (the inference phase); every kernel loaded into the
app's process; and the processor seconds the app and its warm-up processes used (wall
seconds depend on who else uses the machine; these much less). `--window-only` stops each
run once the window is on screen.

Each run keeps its preferences in a temporary folder of its own: closing the window saves
its layout, which must not replace the learner's.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import time, json, sys
t0 = time.perf_counter()
sys.path.insert(0, %(root)r)
from gui.app import create_application
app = create_application([])
from gui.settings import use_private_settings
use_private_settings(%(settings)r)
from gui.main_window import MainWindow
from PySide6.QtCore import QTimer
win = MainWindow(warm_up_engine=True)
win.show()
out = {}
def shown():
    out["window_s"] = time.perf_counter() - t0
    if %(window_only)r:
        print(json.dumps(out)); sys.stdout.flush()
        win.close(); app.quit()
        return
    warm = win.engine_warmup
    def read_both(readable):
        # one drawing through both shipped networks, as the pad reads it
        import numpy as np
        from core.io import load_model
        from core.teaching.teach import read_drawing
        from resources.paths import model_path
        drawing = np.zeros((280, 280), np.uint8); drawing[60:220, 130:150] = 255
        for name in ("digits_mlp", "digits_cnn"):
            with model_path(name) as path:
                read_drawing(load_model(path), drawing, readable=readable)
    def first_reading():
        # what the pad does with a drawing at once: by plain NumPy while the warm-up still
        # compiles the networks' fast kernels (gui.engine_warmup.pad_kernels)
        from gui.engine_warmup import pad_kernels
        plain = pad_kernels().pending
        read_both(plain)
        out["first_reading_s"] = time.perf_counter() - t0
        out["first_reading_plain"] = plain
    QTimer.singleShot(250, first_reading)    # the warm-up's child has started by then
    def progress(done, total, label, phase):
        if (phase != "inference" or done == total) and "inference_s" not in out:
            out["inference_s"] = time.perf_counter() - t0
    warm.progressed.connect(progress)
    def pad_ready():
        # the pad's first fast reading, in this process: loads what the warm-up compiled
        read_both(False)
        out["pad_s"] = time.perf_counter() - t0
    warm.drawing_pad_ready.connect(pad_ready)
    def ready(ok):
        import resource
        out["all_kernels_s"] = time.perf_counter() - t0
        out.setdefault("inference_s", out["all_kernels_s"])
        out.setdefault("pad_s", out["all_kernels_s"])
        out["cpu_s"] = sum(r.ru_utime + r.ru_stime for r in (
            resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)))
        print(json.dumps(out)); sys.stdout.flush()
        win.close(); app.quit()
    warm.ready.connect(ready)
QTimer.singleShot(0, shown)
app.exec()
"""


def run(cache_dir, window_only=False):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", NUMBA_CACHE_DIR=cache_dir)
    with tempfile.TemporaryDirectory() as settings:
        code = CHILD % {"root": str(ROOT), "settings": settings, "window_only": window_only}
        out = subprocess.run([sys.executable, "-c", code], env=env,
                             capture_output=True, text=True, timeout=1800)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not line:
        sys.exit(f"child failed:\n{out.stderr[-2000:]}")
    return json.loads(line[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--window-only", action="store_true",
                    help="stop each run once the window is on screen")
    args = ap.parse_args()
    rows = {"cold": [], "warm": []}
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as cache:
            # empty cache: everything compiles; then the same cache, now filled
            rows["cold"].append(run(cache, args.window_only))
            rows["warm"].append(run(cache, args.window_only))
    if args.window_only:
        for kind, rs in rows.items():
            print(f"{kind:<6} window shown {statistics.median(r['window_s'] for r in rs):.2f} s")
        return
    print(f"{'cache':<6}{'window shown':>14}{'pad reads':>11}{'pad fast':>10}{'inference':>11}"
          f"{'all kernels':>13}{'processor s':>13}")
    for kind, rs in rows.items():
        med = {k: statistics.median(r[k] for r in rs) for k in rs[0]
               if k != "first_reading_plain"}
        how = "plain" if all(r["first_reading_plain"] for r in rs) else \
            "fast" if not any(r["first_reading_plain"] for r in rs) else "mixed"
        print(f"{kind:<6}{med['window_s']:>13.2f}s{med['first_reading_s']:>10.2f}s"
              f"{med['pad_s']:>9.2f}s{med['inference_s']:>10.2f}s"
              f"{med['all_kernels_s']:>12.2f}s{med['cpu_s']:>13.1f}   first reading: {how}")
    print(f"(medians of {args.repeats} fresh processes; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
