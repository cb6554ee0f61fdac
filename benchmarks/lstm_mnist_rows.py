"""An LSTM reading each MNIST digit as 28 rows of 28 pixels, ours beside PyTorch's (issue 16 item 5).

LSTM(128) → Dense(10, softmax), Adam(1e-3), batch 32, trained on the 5,000 offline digits
(core.data.load_offline_digits) and evaluated on the real MNIST test set (10,000 digits,
benchmark-only: never trained or tuned on). Keras-style initialisation on both sides:
PyTorch's network starts from our model's initial weights (glorot-uniform kernels,
orthogonal recurrent kernels, forget-gate bias 1), so the two runs differ only in the
engine. Both see the same shuffled batches each epoch (one NumPy permutation per epoch from
the seed) and Adam with Keras's epsilon (1e-7).

    /work/bench-venv/bin/python benchmarks/lstm_mnist_rows.py [--epochs 15] [--seeds 0,1]
        [--engines ours,torch] [--mnist ../shared/data/mnist]

PyTorch is optional and benchmark-only; without it only our side runs.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

UNITS, CLASSES, BATCH, LEARNING_RATE, EPSILON = 128, 10, 32, 1e-3, 1e-7


def our_model(seed):
    from core.layers import LSTM, Dense
    from core.model import Sequential
    from core.optimizers import Adam

    m = Sequential([LSTM(UNITS), Dense(CLASSES, activation="softmax")], input_shape=(28, 28),
                   seed=seed)
    m.compile(optimizer=Adam(LEARNING_RATE, epsilon=EPSILON),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def epoch_orders(seed, n, epochs):
    rng = np.random.default_rng(seed)
    return [rng.permutation(n) for _ in range(epochs)]


def run_ours(x, y, xt, yt, seed, epochs):
    m = our_model(seed)
    times = []
    for order in epoch_orders(seed, len(x), epochs):
        t0 = time.perf_counter()
        for s in range(0, len(x), BATCH):
            idx = order[s:s + BATCH]
            m.train_on_batch(x[idx], y[idx])
        times.append(time.perf_counter() - t0)
    pred = m.predict(xt).argmax(axis=1)
    return {"accuracy": float(np.mean(pred == yt)), "epoch_seconds": times}


def run_torch(x, y, xt, yt, seed, epochs):
    import torch

    weights = our_model(seed).get_weights()   # kernel (F, 4u), recurrent (u, 4u), bias, dense
    torch.manual_seed(seed)
    lstm = torch.nn.LSTM(28, UNITS, batch_first=True)
    head = torch.nn.Linear(UNITS, CLASSES)
    with torch.no_grad():   # Keras's gate order i, f, c, o is PyTorch's i, f, g, o
        lstm.weight_ih_l0.copy_(torch.from_numpy(weights[0].T.copy()))
        lstm.weight_hh_l0.copy_(torch.from_numpy(weights[1].T.copy()))
        lstm.bias_ih_l0.copy_(torch.from_numpy(weights[2]))
        lstm.bias_hh_l0.zero_()
        head.weight.copy_(torch.from_numpy(weights[3].T.copy()))
        head.bias.copy_(torch.from_numpy(weights[4]))
    params = list(lstm.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=LEARNING_RATE, eps=EPSILON)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    times = []
    for order in epoch_orders(seed, len(x), epochs):
        t0 = time.perf_counter()
        for s in range(0, len(x), BATCH):
            idx = torch.from_numpy(order[s:s + BATCH])
            opt.zero_grad()
            seq, _ = lstm(xs[idx])
            torch.nn.functional.cross_entropy(head(seq[:, -1]), ys[idx]).backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    with torch.no_grad():
        pred = head(lstm(torch.from_numpy(xt))[0][:, -1]).argmax(dim=1).numpy()
    return {"accuracy": float(np.mean(pred == yt)), "epoch_seconds": times,
            "torch": torch.__version__, "threads": torch.get_num_threads()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--engines", default="ours,torch")
    ap.add_argument("--mnist", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    ap.add_argument("--torch-threads", type=int, default=0,
                    help="PyTorch's thread count (default: its own). On a loaded machine its "
                         "OpenMP threads spin waiting for each other: 1 gives the honest figure")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()
    from core.data import load_mnist_test_idx, load_offline_digits

    if not os.path.isdir(args.mnist):
        sys.exit(f"no MNIST test set at {args.mnist}: pass --mnist FOLDER with the t10k IDX files")
    x, y = load_offline_digits()
    x = np.ascontiguousarray(x[..., 0])                  # (5000, 28, 28): 28 rows of 28 pixels
    xt, yt = load_mnist_test_idx(args.mnist)
    xt = np.ascontiguousarray(xt[..., 0], dtype=np.float32)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if "torch" in engines:
        try:
            import torch  # noqa: F401
        except ImportError:
            print("PyTorch not installed: our side only")
            engines.remove("torch")
        else:
            if args.torch_threads:
                torch.set_num_threads(args.torch_threads)
    print(f"LSTM({UNITS}) → Dense({CLASSES}), Adam {LEARNING_RATE}, batch {BATCH}, {args.epochs} "
          f"epochs on {len(x)} offline digits; accuracy on the {len(xt)} real MNIST test digits")
    results = []
    for seed in (int(s) for s in args.seeds.split(",")):
        for engine in engines:
            run = run_ours if engine == "ours" else run_torch
            r = run(x, y, xt, yt, seed, args.epochs)
            r.update(engine=engine, seed=seed, epochs=args.epochs)
            results.append(r)
            per_epoch = float(np.median(r["epoch_seconds"]))
            print(f"  seed {seed}  {'ours' if engine == 'ours' else 'PyTorch':8s} test accuracy "
                  f"{100 * r['accuracy']:.2f} %   {per_epoch:.2f} s per epoch (median), "
                  f"{sum(r['epoch_seconds']):.1f} s in all", flush=True)
    print(f"  load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
