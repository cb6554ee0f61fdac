"""Keras's progress lines (TensorFlow 2's, as the course's notebooks show them)."""
from __future__ import annotations

import sys
import time

from core.callbacks import Callback

BAR = 30


def _time(seconds: float) -> str:
    return f"{seconds:.0f}s"


def _per_step(seconds: float, steps: int) -> str:
    per = seconds / max(steps, 1)
    return f"{per * 1e3:.0f}ms/step" if per >= 1e-3 else f"{per * 1e6:.0f}us/step"


def _values(logs: dict, keys) -> str:
    return "".join(f" - {k}: {logs[k]:.4f}" for k in keys if k in logs)


def bar(done: int, total: int) -> str:
    width = len(str(total))
    filled = BAR if done >= total else int(BAR * done / max(total, 1))
    arrow = "=" * filled if done >= total else "=" * max(filled - 1, 0) + ">"
    return f"{done:>{width}}/{total} [{arrow:<{BAR}}]"


def summary_line(steps: int, seconds: float, logs: dict, keys) -> str:
    """'313/313 [==============================] - 0s 1ms/step - loss: 0.2661 - accuracy: 0.9255'"""
    return f"{bar(steps, steps)} - {_time(seconds)} {_per_step(seconds, steps)}{_values(logs, keys)}"


class KerasProgress(Callback):
    """fit's output at verbose=1 (a bar redrawn in place on a terminal, its last state on
    each epoch's line elsewhere) and verbose=2 (one line per epoch)."""

    def __init__(self, verbose: int, epochs: int, steps: int, keys, stream=None):
        super().__init__()
        self.verbose, self.epochs, self.steps = verbose, epochs, steps
        self.keys = keys
        self.stream = stream or sys.stdout
        self._live = self.verbose == 1 and getattr(self.stream, "isatty", lambda: False)()

    def _write(self, text):
        self.stream.write(text)
        self.stream.flush()

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()
        self._sums, self._seen = {}, 0
        self._write(f"Epoch {epoch + 1}/{self.epochs}\n")

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        n = logs.get("size", 1)
        for k in self.keys:
            if k in logs:
                self._sums[k] = self._sums.get(k, 0.0) + logs[k] * n
        self._seen += n
        if self._live:
            running = {k: v / self._seen for k, v in self._sums.items()}
            self._write(f"\r{bar(batch + 1, self.steps)}{_values(running, self.keys)}")

    def on_epoch_end(self, epoch, logs=None):
        dt = time.perf_counter() - self._t0
        keys = list(self.keys) + [f"val_{k}" for k in self.keys]
        if self.verbose == 2:
            self._write(f"{self.steps}/{self.steps} - {_time(dt)} - {_per_step(dt, self.steps)}"
                        f"{_values(logs or {}, keys)}\n")
        else:
            self._write(("\r" if self._live else "") + summary_line(self.steps, dt, logs or {}, keys)
                        + "\n")
