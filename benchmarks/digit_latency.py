"""How long one drawing takes to read: pad canvas -> to_mnist -> network (median of many).

    .venv/bin/python benchmarks/digit_latency.py [--repeats 2000]

Uses core.teaching.teach.read_drawing, the path the "Draw a digit" lesson runs after every stroke
segment, on 280 x 280 uint8 pad-sized canvases made from real offline digits (dark on light,
as the pad draws). Target (issue 4): CNN median < 1 ms including to_mnist.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from core.data import load_offline_digits  # noqa: E402
from core.digits import to_mnist  # noqa: E402
from core.io import load_model  # noqa: E402
from core.teaching.teach import read_drawing  # noqa: E402
from resources.paths import model_path  # noqa: E402


def canvases(n: int) -> list[np.ndarray]:
    x, _ = load_offline_digits()
    out = []
    for img in x[:n, ..., 0]:
        big = np.kron(img, np.ones((10, 10), np.float32))  # (280, 280)
        out.append((255 - np.rint(255 * big)).astype(np.uint8))  # dark ink on white
    return out


def timed(fn, drawings, repeats):
    for d in drawings[:20]:  # warm-up: JIT caches, allocator
        fn(d)
    times = []
    for i in range(repeats):
        d = drawings[i % len(drawings)]
        t0 = time.perf_counter()
        fn(d)
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    return statistics.median(times), times[int(0.9 * len(times))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=2000)
    args = ap.parse_args()
    drawings = canvases(100)
    models = {}
    for name in ("digits_cnn", "digits_mlp"):
        with model_path(name) as path:
            models[name] = load_model(path)
    rows = [
        ("to_mnist alone", lambda d: to_mnist(d)),
        ("CNN: to_mnist + predict", lambda d: read_drawing(models["digits_cnn"], d)),
        ("dense: to_mnist + predict", lambda d: read_drawing(models["digits_mlp"], d)),
        ("CNN + saliency (input gradient)",
         lambda d: read_drawing(models["digits_cnn"], d, saliency=True)),
    ]
    print(f"{args.repeats} single drawings, 280 x 280 uint8 canvases")
    for label, fn in rows:
        median, p90 = timed(fn, drawings, args.repeats)
        print(f"{label:34s} median {median:.3f} ms   90th percentile {p90:.3f} ms")
    median, _ = timed(rows[1][1], drawings, args.repeats)
    print(f"target: CNN median < 1 ms -> {'meets' if median < 1.0 else 'MISSES'} "
          f"({median:.3f} ms)")


if __name__ == "__main__":
    main()
