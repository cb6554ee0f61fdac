"""Sliding-window detection's cost against one pass of the YOLO-style grid detector
(issue 17, items 3 and 4): seconds per 64 x 64 scene, measured.

    .venv/bin/python benchmarks/sliding_window.py [--scenes 30] [--repeats 3]

Sliding window: the shipped digit CNN's frozen layers and the 11-class head
(core.teaching.sliding_window), every window of sides 16, 24, 32, 40 in steps of a quarter
side (252 windows), each resampled to 28 x 28: 252 network evaluations per scene, one
scene at a time as the lesson runs it (resampling included). Grid detector:
core.teaching.detector.build_detector's network, one pass per scene, one scene at a time
(its cost does not depend on its weights, so it is not trained here). Both warmed first
(kernels compiled); the median over the scenes of the best of `--repeats`.

Measured 2026-12-07 on this project's VM (2 cores, shared, load 7.6), defaults:
  sliding window: 252 CNN evaluations, median 215.7 ms per scene (0.856 ms per window)
  grid detector:  1 pass, median 0.61 ms per scene  -> the sliding window takes ~355x as long
"""
import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.io import load_model  # noqa: E402
from core.teaching import sliding_window as sw  # noqa: E402
from core.teaching.detector import build_detector  # noqa: E402
from core.teaching.scenes import make_scenes  # noqa: E402
from core.teaching.yolo import Grid  # noqa: E402
from resources.paths import model_path  # noqa: E402


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    with model_path("digits_cnn") as path:
        clf = sw.WindowClassifier(load_model(path))
    detector = build_detector(Grid())
    scenes = make_scenes(args.scenes, seed=1, split="test")
    sw.scan_scene(clf, scenes.images[0])                 # warm: compile / load kernels
    detector.predict(scenes.images[:1])
    slide, grid = [], []
    for i in range(len(scenes)):
        img = scenes.images[i:i + 1]
        slide.append(best_of(lambda: sw.scan_scene(clf, img[0]), args.repeats))
        grid.append(best_of(lambda: detector.predict(img, batch_size=1), args.repeats))
    s, g = float(np.median(slide)), float(np.median(grid))
    n = sw.window_count(64)
    print(f"sliding window: {n} windows = {n} CNN evaluations per scene, "
          f"median {1000 * s:.1f} ms per scene ({1000 * s / n:.3f} ms per window)")
    print(f"grid detector:  1 pass per scene, median {1000 * g:.2f} ms per scene")
    print(f"sliding window / grid detector: {s / g:.0f}x the time")


if __name__ == "__main__":
    main()
