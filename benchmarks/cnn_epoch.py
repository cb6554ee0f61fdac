"""Seconds per epoch of the course's CNN on the 5,000 offline digits (issue 7, item 5).

    .venv/bin/python benchmarks/cnn_epoch.py [--epochs 4] [--size course|small] [--batch-size 32]

Conv2D 32 3×3 relu → MaxPool 2 → Conv2D 64 3×3 relu → MaxPool 2 → Flatten → Dense 128 relu →
Dense 10 softmax, Adam, batch 32, all 5,000 digits per epoch, no validation. The first
epoch also compiles the kernels (Numba, cached on disk afterwards), so it is reported
apart; the figure is the median of the epochs after it. Seeded: a rerun trains the same
network. Prints the machine's core count and load, since the kernels use every core and a busy
machine stretches the wall time (CPU seconds are printed too).
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.callbacks import Callback  # noqa: E402
from core.teaching.cnn_models import describe, digits_cnn  # noqa: E402
from core.data import load_offline_digits  # noqa: E402


class EpochTimer(Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.t0 = time.perf_counter()
        self.c0 = time.process_time()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.t0
        cpu = time.process_time() - self.c0
        self.seconds.append(seconds)
        self.cpu.append(cpu)
        print(f"  epoch {epoch + 1}: {seconds:.2f} s ({cpu:.2f} CPU s), loss {logs['loss']:.4f}, "
              f"accuracy {logs['accuracy']:.4f}", flush=True)

    def __init__(self):
        super().__init__()
        self.seconds = []
        self.cpu = []


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--size", choices=("course", "small"), default="course")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.epochs < 2:
        sys.exit("--epochs must be at least 2: the first one includes compilation")

    x, y = load_offline_digits()
    model = digits_cnn(args.size, seed=args.seed)
    timer = EpochTimer()
    print(f"{describe(model)}\n{model.count_params():,} parameters; {len(x):,} digits, "
          f"batch {args.batch_size}, Adam; {os.cpu_count()} CPU cores")
    model.fit(x, y, epochs=args.epochs, batch_size=args.batch_size, callbacks=[timer],
              seed=args.seed)
    first, rest = timer.seconds[0], timer.seconds[1:]
    print(f"first epoch (with compilation): {first:.2f} s")
    print(f"seconds per epoch: median {statistics.median(rest):.2f} s over {len(rest)} epochs "
          f"(min {min(rest):.2f}, max {max(rest):.2f}); CPU seconds (all threads): median "
          f"{statistics.median(timer.cpu[1:]):.2f}")
    # wall time depends on what else the machine runs; the load average tells how busy it was
    if hasattr(os, "getloadavg"):
        print(f"load average during the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
