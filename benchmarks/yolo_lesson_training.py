"""The YOLO lesson's live training settings, measured without the window (issue 17 items 4-5).

    .venv/bin/python benchmarks/yolo_lesson_training.py [--setting quick|full|both]

Runs exactly what the lesson's Train page runs (gui/lessons/yolo_pages.SETTINGS and
ROUND_SCENES, core.teaching.detector.SessionDetector driven round by round, the live mAP
on 100 held-out scenes after every round), from the moment the learner presses Train:
training-scene generation, the rounds and the per-round mAP all count. Then scores the
result on 500 held-out scenes (the benchmark's, seed 10,000, test digits). Kernels are
warmed first, as the app's start-up does.

Measured 2026-12-06 on this project's VM (2 cores shared with other helpers' jobs, load
7.2-12, where one weight update took 0.24 s instead of the 36 ms benchmarks/detection.py
saw at load 2.4-5.6):
  quick (4,000 scenes, 800 updates):  236 s; live mAP after rounds 1/5/10/20
        0.022/0.277/0.708/0.843; mAP@0.5 on 500 held-out scenes 0.819
  full (10,000 scenes, 3,000 updates): 616 s; live mAP after rounds 1/18/37/75
        0.022/0.843/0.891/0.902; mAP@0.5 on 500 held-out scenes 0.888
At 36 ms an update that is about 30 s and 2 min (scene generation ~5 s and the live mAP
~50 ms a round on top). The per-round live mAP on 100 scenes cost 0.34 s under that load,
about 4 % of a 40-update round.
"""
import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from core.teaching import yolo_steps as ys  # noqa: E402
from core.teaching.detector import DetectorTrainer, SessionDetector, build_detector  # noqa: E402
from core.teaching.scenes import digit_pool, make_scenes  # noqa: E402
from core.teaching.yolo import Grid  # noqa: E402

# the lesson's settings, without importing Qt
SETTINGS = {"quick": (4000, 20), "full": (10000, 75)}
ROUND_SCENES = 1280
LIVE_HELD_OUT = 100


def run(name: str, grid: Grid, test) -> None:
    n_scenes, rounds = SETTINGS[name]
    t0 = time.perf_counter()
    live = ys.held_out_scenes(LIVE_HELD_OUT)
    scenes = make_scenes(n_scenes, seed=0)
    trainer = DetectorTrainer(build_detector(grid, seed=0), grid)
    fit = SessionDetector(trainer, scenes)
    x, y = scenes.images[:ROUND_SCENES], np.arange(ROUND_SCENES)
    live_maps = []
    for r in range(rounds):
        fit.fit(x, y, epochs=1, batch_size=32, seed=r)
        live_maps.append(ys.score_held_out(trainer.model, grid, live).m_ap)
    wall = time.perf_counter() - t0
    m_ap = ys.score_held_out(trainer.model, grid, test).m_ap
    print(f"{name}: {n_scenes} scenes, {rounds} rounds, {len(trainer.history)} updates, "
          f"{wall:.1f} s from Train to the last live mAP; live mAP after rounds "
          f"1/{rounds // 4}/{rounds // 2}/{rounds}: "
          + "/".join(f"{live_maps[i]:.3f}" for i in (0, rounds // 4 - 1, rounds // 2 - 1, -1))
          + f"; mAP@0.5 on 500 held-out scenes {m_ap:.3f}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--setting", choices=["quick", "full", "both"], default="both")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    grid = Grid()
    digit_pool("train"), digit_pool("test")
    warm = DetectorTrainer(build_detector(grid, seed=99), grid, batch_size=8)
    warm.train_epoch(make_scenes(8, seed=99))
    test = make_scenes(500, seed=ys.HELD_OUT_SEED, split="test")
    for name in (["quick", "full"] if args.setting == "both" else [args.setting]):
        run(name, grid, test)


if __name__ == "__main__":
    main()
