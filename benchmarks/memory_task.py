"""The LSTM lesson's memory task at the lesson's own settings, over several seeds: does the
LSTM learn to remember the first step's sign across 30 steps of noise, and does the
SimpleRNN of the same size stay near chance (50 %)? Also trains every Types-of-RNN example
at its lesson settings (--types) and prints its score and time.

    .venv/bin/python benchmarks/memory_task.py [--seeds 0 1 2 3 4] [--types]

Accuracy is on 512 held-out sequences no run trains on; the gradient columns are the share
of the last step's gradient ‖∂L/∂h_30‖ that reaches step 1, ‖∂L/∂h_1‖ / ‖∂L/∂h_30‖, before
and after training (one traced step on 64 held-out sequences).
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.teaching import lstm_steps as ls  # noqa: E402
from core.teaching import rnn_types as rt  # noqa: E402
from core.teaching.gradient_flow import readable  # noqa: E402


def memory(seeds):
    xv, yv = ls.memory_data(512, ls.MEMORY_TEST_SEED)
    print(f"memory task: T={ls.MEMORY_STEPS}, {ls.MEMORY_UNITS} units, {ls.MEMORY_SAMPLES} "
          f"sequences, {ls.MEMORY_EPOCHS} epochs, Adam {ls.MEMORY_LEARNING_RATE}, batch 32, "
          f"noise {ls.MEMORY_NOISE}")
    results = {"SimpleRNN": [], "LSTM": []}
    for seed in seeds:
        x, y = ls.memory_data(ls.MEMORY_SAMPLES, seed)
        for kind in results:
            model = ls.memory_model(kind, seed)
            start = ls.memory_gradients(model, xv[:64], yv[:64])
            t0 = time.perf_counter()
            model.fit(x, y, epochs=ls.MEMORY_EPOCHS, batch_size=32, seed=seed)
            seconds = time.perf_counter() - t0
            acc = ls.memory_accuracy(model, xv, yv)
            grads = ls.memory_gradients(model, xv[:64], yv[:64])
            results[kind].append(acc)
            print(f"seed {seed}  {kind:9s}  accuracy {100 * acc:6.2f} %  train {seconds:5.1f} s"
                  f"  step 1 / step {len(grads)} gradient: before {readable(start[0] / start[-1])},"
                  f" after {readable(grads[0] / grads[-1])}", flush=True)
    for kind, accs in results.items():
        print(f"{kind}: accuracy {', '.join(f'{100 * a:.1f} %' for a in accs)}; "
              f"mean {100 * sum(accs) / len(accs):.1f} %")


def types(seed):
    for e in rt.EXAMPLES:
        (x, y), (xt, yt) = e.training_data(seed), e.test_data()
        model = e.make_model(seed)
        t0 = time.perf_counter()
        model.fit(x, y, epochs=e.epochs, batch_size=e.batch_size, seed=seed)
        seconds = time.perf_counter() - t0
        print(f"{e.shape:12s} {e.key:11s} train {seconds:5.1f} s  {e.score(model, xt, yt).text}",
              flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--types", action="store_true", help="also the Types-of-RNN examples")
    args = ap.parse_args()
    memory(args.seeds)
    if args.types:
        types(args.seeds[0])


if __name__ == "__main__":
    main()
