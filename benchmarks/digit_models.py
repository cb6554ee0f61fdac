"""Accuracy of the two shipped digit models on the real MNIST test set (10,000 digits).

    .venv/bin/python benchmarks/digit_models.py [--mnist ../shared/data/mnist]

The models (resources/models/digits_*.npz) were trained by scripts/train_digit_models.py on
the 5,000 offline digits only; the test set is read here and nowhere else. Targets
(issue 4): CNN >= 99.0 %, dense >= 97.0 %.
"""
import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from core.data import load_mnist_test_idx  # noqa: E402
from core.io import load_model  # noqa: E402
from resources.paths import model_path  # noqa: E402

TARGETS = {"digits_cnn": 0.990, "digits_mlp": 0.970}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mnist", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    args = ap.parse_args()
    if not os.path.isdir(args.mnist):
        sys.exit(f"no MNIST test set at {args.mnist}: pass --mnist FOLDER with the t10k IDX files")
    x, y = load_mnist_test_idx(args.mnist)  # (10000, 28, 28, 1), (10000,)
    print(f"MNIST test set: {len(x)} digits from {args.mnist}")
    for name, target in TARGETS.items():
        with model_path(name) as path:
            model = load_model(path)
            size = path.stat().st_size
        t0 = time.perf_counter()
        pred = np.argmax(model.predict(x), axis=1)
        seconds = time.perf_counter() - t0
        acc = float(np.mean(pred == y))
        errors = int(np.sum(pred != y))
        verdict = "meets" if acc >= target else "MISSES"
        print(f"{name}: accuracy {100 * acc:.2f} % ({errors} errors), target "
              f"{100 * target:.1f} % -> {verdict}; {model.count_params():,} parameters, "
              f"file {size / 1e6:.2f} MB, scored in {seconds:.1f} s")


if __name__ == "__main__":
    main()
