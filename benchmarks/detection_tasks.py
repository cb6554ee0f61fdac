"""The three networks of the T28 lesson (classification, detection, segmentation), trained
as the lesson trains them: how good each is on held-out scenes after each epoch, and how
long the training took (issue 17, item 2).

    .venv/bin/python benchmarks/detection_tasks.py [--epochs 12] [--scenes 1000]
                                                   [--held-out 100]

The lesson's defaults: 1,000 training scenes (seed 28), 100 held-out scenes of held-out
digits (seed 28,000), batch 32, the three networks one epoch each in turn. Kernels are
warmed on a few scenes first (the app compiles them at start-up).

Measured 2026-12-06 on this project's VM (2 cores, shared: load 11.7), defaults, held-out
score after epochs 1 / 4 / 8 / 12 (training seconds of that network so far):
  classification (most prominent digit): 0.16 / 0.62 / 0.63 / 0.72   (45 s at epoch 12)
  detection mAP@0.5:                     0.01 / 0.14 / 0.48 / 0.68   (71 s)
  segmentation mean mask IoU:            0.00 / 0.15 / 0.28 / 0.43   (185 s)
All three were still improving at epoch 12; the lesson's default is 20 epochs.

2026-12-07, after the FCN's learning rate went from 3e-3 to 6e-3 (and UpSampling2D /
the pixel softmax lost some memory passes), same VM (load 6.6), same command:
  classification (most prominent digit): 0.16 / 0.62 / 0.63 / 0.72   (36 s at epoch 12)
  detection mAP@0.5:                     0.01 / 0.14 / 0.48 / 0.68   (61 s)
  segmentation mean mask IoU:            0.00 / 0.14 / 0.36 / 0.47   (147 s)
The speed-ups alone measured ~2% of an FCN epoch (same process, old and new code
alternating); the times above differ mostly through the machine's load. Detection at
4e-3 instead of 2e-3 was no better (mAP 0.50 / 0.60 at epochs 8 / 10), an FCN of width 8
worse (IoU 0.13 at epoch 8). The lesson no longer waits for any of this: it opens with the
three networks trained beforehand (scripts/train_scene_models.py), on its 100 held-out
scenes 75% / mAP 0.81 / IoU 0.48.
"""
import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.teaching import scene_tasks as st  # noqa: E402
from core.teaching import segmentation as sg  # noqa: E402
from core.teaching.scenes import make_scenes  # noqa: E402
from core.teaching.yolo import Grid  # noqa: E402
from gui.lessons.detection_tasks import HELD_OUT_SEED, TRAIN_SEED, score  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--scenes", type=int, default=1000)
    ap.add_argument("--held-out", type=int, default=100)
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    grid = Grid()
    train = make_scenes(args.scenes, seed=TRAIN_SEED)
    held = make_scenes(args.held_out, seed=HELD_OUT_SEED, split="test")
    targets = {"classification": np.array([st.most_prominent(b, lab) for b, lab in
                                           zip(train.boxes, train.labels)]),
               "detection": st.pack_targets(grid, train.boxes, train.labels),
               "segmentation": train.masks}
    models = {"classification": st.build_classifier(), "detection": st.build_grid_detector(grid),
              "segmentation": sg.build_fcn()}
    for kind, m in models.items():          # warm the kernels on throwaway copies
        warm = {"classification": st.build_classifier, "detection": st.build_grid_detector,
                "segmentation": sg.build_fcn}[kind]()
        warm.fit(train.images[:8], targets[kind][:8], epochs=1, batch_size=8)
    clock = dict.fromkeys(models, 0.0)
    for epoch in range(1, args.epochs + 1):
        row = []
        for kind, m in models.items():
            t0 = time.perf_counter()
            m.fit(train.images, targets[kind], epochs=1, batch_size=32, seed=epoch)
            clock[kind] += time.perf_counter() - t0
            row.append(f"{kind} {score(kind, m, grid, held):.3f} ({clock[kind]:.0f} s)")
        print(f"epoch {epoch:2d}: " + ", ".join(row), flush=True)
    print("scores: classification accuracy on the most prominent digit, detection mAP@0.5, "
          "segmentation mean class-aware mask IoU; (training seconds so far)")


if __name__ == "__main__":
    main()
