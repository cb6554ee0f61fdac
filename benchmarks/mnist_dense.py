"""Train the course's dense 784-128-10 network on the 5,000 offline digits, score it on the
real MNIST test set (10,000 digits, never used for training or tuning).

    .venv/bin/python benchmarks/mnist_dense.py [--mnist ../shared/data/mnist] [--epochs 30]

Prints the test accuracy, the training time and the settings, so the figure can be
rerun by anyone; seeded, so a rerun gives the same network.
"""
import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from core.data import load_mnist_test_idx, load_offline_digits  # noqa: E402
from core.layers import Dense, Flatten  # noqa: E402
from core.model import Sequential  # noqa: E402
from core.optimizers import SGD  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mnist", default=str(Path(__file__).resolve().parents[2] / "shared/data/mnist"))
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not os.path.isdir(args.mnist):
        sys.exit(f"no MNIST test set at {args.mnist}: pass --mnist FOLDER with the t10k IDX files")

    x, y = load_offline_digits()
    x_test, y_test = load_mnist_test_idx(args.mnist)
    model = Sequential([Flatten(), Dense(128, activation="relu"), Dense(10, activation="softmax")],
                       input_shape=(28, 28, 1), seed=args.seed)
    model.compile(optimizer=SGD(args.lr, momentum=0.9), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    t0 = time.perf_counter()
    hist = model.fit(x, y, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed)
    train_s = time.perf_counter() - t0
    result = model.evaluate(x_test, y_test)
    print(f"dense 784-128-10, SGD(lr={args.lr}, momentum=0.9), batch {args.batch_size}, "
          f"{args.epochs} epochs, seed {args.seed}")
    print(f"trained on 5,000 offline digits in {train_s:.1f} s "
          f"(final training loss {hist.history['loss'][-1]:.4f})")
    print(f"MNIST test set: {len(x_test)} digits, loss {result['loss']:.4f}, "
          f"accuracy {100 * result['accuracy']:.2f}%")
    return 0 if np.isfinite(result["loss"]) else 1


if __name__ == "__main__":
    sys.exit(main())
