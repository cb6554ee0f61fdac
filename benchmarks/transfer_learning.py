"""Transfer learning vs training from scratch on a few drawings of new symbols.

The shipped digit CNN (resources/models/digits_cnn.npz) as a frozen feature extractor with a
new Dense head, beside the same network trained from scratch, both on `--per-class` synthetic
drawings of each symbol (strokes rendered on the pad's 280 x 280 canvas and prepared by the
pad's own path, core.digits.to_mnist), scored on `--held-out` other drawings per symbol.
Then fine-tuning: the top two weighted layers unfrozen, learning rate 10x smaller. Repeated
over `--seeds` seeds (drawings and initial weights); prints each run and the medians.

    .venv/bin/python benchmarks/transfer_learning.py [--per-class 1 3 5] [--seeds 5]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from core.io import load_model  # noqa: E402
from core.teaching.transfer import (EXAMPLE_SYMBOLS, fine_tune, scratch_model,  # noqa: E402
                                    synthetic_set, transfer_model)
from resources.paths import model_path  # noqa: E402

# the lesson's own settings (gui/lessons/transfer_learning.py)
EPOCHS = 30
BATCH = 5
FINE_TUNE_EPOCHS = 15


def accuracy(model, x, y) -> float:
    return float(np.mean(model.predict(x).argmax(1) == y))


def one_run(base, symbols, per_class, held_out, seed):
    x, y = synthetic_set(symbols, per_class, seed=1000 + seed)
    xv, yv = synthetic_set(symbols, held_out, seed=2000 + seed)
    out = {}
    t = transfer_model(base, len(symbols), seed=seed)
    t0 = time.perf_counter()
    t.fit(x, y, epochs=EPOCHS, batch_size=BATCH, seed=seed, verbose=0)
    out["transfer_s"] = time.perf_counter() - t0
    out["transfer"] = accuracy(t, xv, yv)
    s = scratch_model(base, len(symbols), seed=seed)
    t0 = time.perf_counter()
    s.fit(x, y, epochs=EPOCHS, batch_size=BATCH, seed=seed, verbose=0)
    out["scratch_s"] = time.perf_counter() - t0
    out["scratch"] = accuracy(s, xv, yv)
    fine_tune(t)
    t.fit(x, y, epochs=FINE_TUNE_EPOCHS, batch_size=BATCH, seed=seed, verbose=0)
    out["fine_tuned"] = accuracy(t, xv, yv)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-class", type=int, nargs="+", default=[1, 3, 5])
    ap.add_argument("--held-out", type=int, default=40)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--symbols", default=" ".join(EXAMPLE_SYMBOLS))
    args = ap.parse_args(argv)
    symbols = args.symbols.split()
    with model_path("digits_cnn") as p:
        base = load_model(p)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    for per_class in args.per_class:
        print(f"\nsymbols {' '.join(symbols)}: {per_class} training drawings each, "
              f"{args.held_out} held out each; {EPOCHS} epochs, batch {BATCH}, Adam 0.001; "
              f"fine-tuning {FINE_TUNE_EPOCHS} epochs at 0.0001")
        rows = []
        for seed in range(args.seeds):
            r = one_run(base, symbols, per_class, args.held_out, seed)
            rows.append(r)
            print(f"seed {seed}: held-out accuracy transfer {r['transfer']:.3f} "
                  f"({r['transfer_s']:.2f} s), from scratch {r['scratch']:.3f} "
                  f"({r['scratch_s']:.2f} s), fine-tuned {r['fine_tuned']:.3f}")
        med = {k: float(np.median([r[k] for r in rows])) for k in rows[0]}
        print(f"median of {args.seeds}: transfer {med['transfer']:.3f} in "
              f"{med['transfer_s']:.2f} s, from scratch {med['scratch']:.3f} in "
              f"{med['scratch_s']:.2f} s, fine-tuned {med['fine_tuned']:.3f}")

if __name__ == "__main__":
    main()
