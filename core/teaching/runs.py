"""Training runs as records: the settings a run was made with and everything it logged.

What TensorBoard's run selector keeps, without Qt: a `Run` holds its settings (JSON-safe),
one row per training step (`run.batches`) and one per finished epoch (`run.epochs`); a
`RunStore` keeps every run of a session, named and numbered. A run exports to CSV and to
TensorBoard event files laid out as Keras's TensorBoard callback lays them out
(`<logdir>/<run>/train`, `<logdir>/<run>/validation`, tags `epoch_loss`, `batch_loss`, ...),
so `tensorboard --logdir <logdir>` shows the runs side by side as in the course.

Columns: the x-axes are "step" (weight updates so far), "epoch" (epochs done, fractional
for a batch row: batch 3 of 10 in the first epoch is 0.3) and "time" (seconds of training,
pauses excluded); every other column is a metric ("loss", "accuracy", "val_loss", ...).
"""
from __future__ import annotations

import csv
import math
import os
import re
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from core.teaching.numbers import fmt

__all__ = ["X_AXES", "STATUSES", "LogTable", "Run", "RunStore", "write_csv", "export_csv",
           "export_tensorboard", "format_setting"]

#: the three x-axes every row carries
X_AXES = ("step", "epoch", "time")
#: a run's life: new → running ⇄ paused → finished | stopped | diverged | failed
STATUSES = ("new", "running", "paused", "finished", "stopped", "diverged", "failed")


class LogTable:
    """Columns of float64 growing one row at a time; a value a row lacks is NaN.

    Appending is amortised O(1) (capacity doubles), and `column()` is a read-only view, so a
    live plot can hand the whole series to a curve without copying it row by row.
    """

    def __init__(self, columns: Iterable[str] = ()):
        self._n = 0
        self._cap = 0
        self._data: dict[str, np.ndarray] = {}
        for name in columns:
            self._add_column(name)

    def __len__(self) -> int:
        return self._n

    @property
    def columns(self) -> list[str]:
        return list(self._data)

    def has(self, name: str) -> bool:
        return name in self._data and bool(self._n) and not np.all(np.isnan(self.column(name)))

    def _add_column(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"a column needs a name, got {name!r}")
        self._data[name] = np.full(self._cap, np.nan)

    def _grow(self, need: int) -> None:
        if need <= self._cap:
            return
        cap = max(64, self._cap * 2, need)
        for name, col in self._data.items():
            grown = np.full(cap, np.nan)
            grown[:self._n] = col[:self._n]
            self._data[name] = grown
        self._cap = cap

    def append(self, row: Mapping[str, float]) -> None:
        self._grow(self._n + 1)
        for name, value in row.items():
            if name not in self._data:
                self._add_column(name)
            self._data[name][self._n] = _float(value)
        self._n += 1

    def extend(self, rows: Iterable[Mapping[str, float]]) -> None:
        for row in rows:
            self.append(row)

    def column(self, name: str) -> np.ndarray:
        """The column's values so far (a read-only view); KeyError if it was never logged."""
        view = self._data[name][:self._n]
        view.flags.writeable = False
        return view

    def get(self, name: str) -> np.ndarray:
        """Like `column`, but an all-NaN series for a column never logged."""
        if name in self._data:
            return self.column(name)
        return np.full(self._n, np.nan)

    def last(self, name: str) -> float | None:
        """The latest finite value of a column, or None."""
        if name not in self._data or not self._n:
            return None
        col = self.column(name)
        finite = np.flatnonzero(np.isfinite(col))
        return float(col[finite[-1]]) if finite.size else None

    def row(self, i: int) -> dict[str, float]:
        return {name: float(col[i]) for name, col in self._data.items()}

    def rows(self):
        for i in range(self._n):
            yield self.row(i)


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"logged values must be numbers, got {value!r}") from None


class Run:
    """One training run: `settings` (JSON-safe dict, shown side by side with other runs),
    `batches` and `epochs` log tables, a `status` and, if it ended early, `stop_reason`."""

    def __init__(self, name: str, settings: Mapping | None = None, run_id: int = 0,
                 color_index: int = 0):
        self.id = int(run_id)
        self.name = str(name)
        self.settings: dict = dict(settings or {})
        self.color_index = int(color_index)
        self.batches = LogTable(X_AXES)
        self.epochs = LogTable(X_AXES)
        self.status = "new"
        self.stop_reason: str | None = None
        #: why it failed, when it did (a core.teaching.diagnosis.Diagnosis, set as it ends)
        self.diagnosis = None
        #: wall-clock time (time.time()) when training started: TensorBoard's wall time
        self.start_time = time.time()
        #: weight updates per epoch (ceil(N / batch size)), when known
        self.updates_per_epoch: int | None = None
        self.total_steps: int | None = None
        self.visible = True

    def __repr__(self):
        return (f"<Run {self.id} {self.name!r} {self.status}: {len(self.batches)} steps, "
                f"{len(self.epochs)} epochs>")

    def table(self, level: str) -> LogTable:
        if level == "batch":
            return self.batches
        if level == "epoch":
            return self.epochs
        raise ValueError(f"level must be 'batch' or 'epoch', got {level!r}")

    def add_batch(self, row: Mapping[str, float]) -> None:
        self.batches.append(row)

    def add_epoch(self, row: Mapping[str, float]) -> None:
        self.epochs.append(row)

    def metrics(self, level: str = "epoch") -> list[str]:
        """Metric columns logged at `level` (everything but the x-axes)."""
        return [c for c in self.table(level).columns if c not in X_AXES]

    @property
    def steps(self) -> int:
        return int(self.batches.last("step") or 0)

    @property
    def elapsed(self) -> float:
        """Seconds of training so far (pauses excluded)."""
        return float(self.batches.last("time") or 0.0)

    @property
    def finished_epochs(self) -> int:
        return len(self.epochs)

    def results(self) -> dict[str, float | int | None]:
        """The numbers a run table shows beside the settings."""
        out: dict[str, float | int | None] = {
            "updates_per_epoch": self.updates_per_epoch,
            "steps": self.steps,
            "epochs_done": self.finished_epochs,
            "time": self.elapsed,
        }
        epochs_time = self.epochs.last("time")
        out["time_per_epoch"] = (epochs_time / self.finished_epochs
                                 if epochs_time and self.finished_epochs else None)
        out["time_per_update"] = self.elapsed / self.steps if self.steps else None
        for m in self.metrics("epoch"):
            out[m] = self.epochs.last(m)
        return out


class RunStore:
    """Every run of a session, in the order they were made; names are unique."""

    def __init__(self, prefix: str = "run"):
        self.prefix = prefix
        self._runs: list[Run] = []
        self._next_id = 1

    def __iter__(self):
        return iter(list(self._runs))

    def __len__(self) -> int:
        return len(self._runs)

    def __contains__(self, run) -> bool:
        return run in self._runs

    def get(self, run_id: int) -> Run:
        for run in self._runs:
            if run.id == run_id:
                return run
        raise KeyError(f"no run with id {run_id}")

    def names(self) -> list[str]:
        return [r.name for r in self._runs]

    def new_run(self, settings: Mapping | None = None, name: str | None = None) -> Run:
        """A new run with the next id and colour, named `name` (made unique) or "run <id>"."""
        run_id = self._next_id
        self._next_id += 1
        base = (name or "").strip() or f"{self.prefix} {run_id}"
        run = Run(self._unique(base), settings, run_id=run_id, color_index=run_id - 1)
        self._runs.append(run)
        return run

    def _unique(self, base: str, ignore: Run | None = None) -> str:
        taken = {r.name for r in self._runs if r is not ignore}
        if base not in taken:
            return base
        k = 2
        while f"{base} ({k})" in taken:
            k += 1
        return f"{base} ({k})"

    def rename(self, run_id: int, name: str) -> str:
        """Rename a run; returns the name it got. Empty or taken names are a ValueError."""
        run = self.get(run_id)
        name = str(name).strip()
        if not name:
            raise ValueError("a run needs a name")
        if any(r.name == name for r in self._runs if r is not run):
            raise ValueError(f"another run is already called {name!r}")
        run.name = name
        return name

    def remove(self, run_id: int) -> Run:
        run = self.get(run_id)
        self._runs.remove(run)
        return run


# --- export --------------------------------------------------------------------------
def format_setting(value) -> str:
    """A setting as a table cell: numbers short, lists joined ("64, 32")."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return fmt(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(format_setting(v) for v in value) or "—"
    if value is None:
        return "—"
    return str(value)


def _number(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == int(value) and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))  # shortest text that reads back as the same float


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_csv(run: Run, path, level: str = "epoch") -> Path:
    """One table of `run` ("epoch" or "batch" rows) as CSV: the x-axes, then the metrics.

    Values are written in full precision (they read back as the same float64); a missing or
    diverged value is "nan".
    """
    table = run.table(level)
    path = Path(path)
    cols = list(X_AXES) + [c for c in table.columns if c not in X_AXES]
    data = [table.get(c) for c in cols]

    def write(fh):
        w = csv.writer(fh)
        w.writerow(cols)
        for i in range(len(table)):
            w.writerow([_number(float(col[i])) for col in data])

    _atomic_write(path, write)
    return path


def export_csv(run: Run, path) -> tuple[Path, Path]:
    """Write the per-epoch table to `path` and the per-step table beside it
    (`<name>-batches.csv`); returns both paths."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        path = path.with_name(path.name + ".csv")
    batches = path.with_name(f"{path.stem}-batches.csv")
    return write_csv(run, path, "epoch"), write_csv(run, batches, "batch")


_UNSAFE = re.compile(r"[^A-Za-z0-9._ =,()+-]+")


def _folder_name(name: str) -> str:
    safe = _UNSAFE.sub("_", name).strip(" .") or "run"
    return safe[:80]


def export_tensorboard(run: Run, logdir) -> Path:
    """Write `run` as TensorBoard event files under `logdir/<run name>/` and return that folder.

    Keras's layout, so the course's `tensorboard --logdir logs` habits carry over:
    `train/` holds `epoch_<metric>` (step = epoch index from 0) and `batch_<metric>`
    (step = weight updates so far); `validation/` holds `epoch_<metric>` from the val_
    columns, so training and validation curves overlay in one chart. The settings are
    written as a text summary. An existing folder is never mixed into: a fresh name is used.
    """
    from tensorboardX import SummaryWriter

    logdir = Path(logdir)
    base = _folder_name(run.name)
    folder, k = logdir / base, 2
    while folder.exists() and any(folder.iterdir()):
        folder, k = logdir / f"{base} ({k})", k + 1
    t0 = float(run.start_time)

    train = SummaryWriter(logdir=str(folder / "train"), flush_secs=3600, max_queue=1000)
    val = SummaryWriter(logdir=str(folder / "validation"), flush_secs=3600, max_queue=1000)
    try:
        ep = run.epochs
        ep_times = ep.get("time")
        ep_index = ep.get("epoch")
        for m in run.metrics("epoch"):
            writer, tag = (val, m[4:]) if m.startswith("val_") else (train, m)
            values = ep.get(m)
            for i in range(len(ep)):
                if not math.isnan(values[i]):
                    writer.add_scalar(f"epoch_{tag}", float(values[i]),
                                      global_step=int(ep_index[i]) - 1,
                                      walltime=t0 + float(ep_times[i]))
        b = run.batches
        steps, times = b.get("step"), b.get("time")
        for m in run.metrics("batch"):
            values = b.get(m)
            for i in range(len(b)):
                train.add_scalar(f"batch_{m}", float(values[i]), global_step=int(steps[i]),
                                 walltime=t0 + float(times[i]))
        if run.settings:
            lines = ["| setting | value |", "|---|---|"]
            lines += [f"| {k} | {format_setting(v)} |" for k, v in run.settings.items()]
            if run.stop_reason:
                lines.append(f"| stopped | {run.stop_reason} |")
            train.add_text("settings", "\n".join(lines), global_step=0, walltime=t0)
    finally:
        train.close()
        val.close()
    return folder
