"""Training off the GUI thread, reported live into `core.teaching.runs.Run` records.

A `TrainingSession` runs `model.fit` for one or more `TrainingTask`s in a `gui.app.Worker`.
A callback collects every batch's and epoch's logs in the worker thread and sends them to the
GUI thread in chunks, at most one every `report_interval` seconds (and at each epoch end), so a
fast run cannot flood the event loop however small its batches; nothing is dropped. On the GUI
thread the chunk is appended to each task's `Run` and `updated` is emitted.

Several tasks train interleaved, one epoch each in turn ("three ways at once"); each task's
clock counts only its own training time, so their wall-clock curves compare fairly on a
shared CPU. Pause blocks the training thread between batches; stop sets `model.stop_training`
(the engine's cooperative flag, checked after every batch). A NaN/inf loss stops a task with
the engine's own reason (`History.stop_reason`), which becomes `run.stop_reason`.

A session can be paced update by update (`set_updates_per_second`, what a lesson's pace
control sets; None is full speed): after each weight update the training thread waits until
1/rate seconds have passed since the previous one. The wait is no blind sleep: Stop, Pause,
a new pace, leaving the lesson or closing the window end it at once; and it counts as a pause,
not as training time, so the seconds axis and "s/update" stay the engine's own.

When a run ends, `core.teaching.diagnosis` judges its history (stuck at chance, diverged,
flat loss) and puts the sentence with its likely cause in `run.diagnosis` (None if the run
learned) before `run_ended` is emitted: one place, so every lesson says it the same way.

A task can also train until stopped (`epochs=None`, paced by `pace`, epoch by epoch with
`epoch_seed`), prepare its data and compute a result in the worker thread (`prepare`,
`finish`), and send the GUI thread snapshots of its model (`snapshot`, at most one every
`snapshot_every` seconds and a last one when it ends): what the playground, the hidden-layers
comparison and the CNN lessons need, so no lesson runs a training loop of its own.

Usage (in a lesson)::

    run = store.new_run(settings)
    task = TrainingTask(run, model, x, y, epochs=10, batch_size=32,
                        validation_data=(xv, yv), seed=0)
    self.session = TrainingSession([task], parent=self)
    self.session.updated.connect(self.plot.update_runs)     # list of run ids
    self.session.progress_changed.connect(self.show_progress) # Progress
    self.session.finished.connect(self.on_training_done)
    self.start_session(self.session)  # Lesson: leaving the lesson or the window stops it
    ...
    self.session.pause(); self.session.resume(); self.session.stop()
"""
from __future__ import annotations

import gc
import math
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal

from core.callbacks import Callback
from core.teaching.diagnosis import chance_accuracy, diagnose_run
from core.teaching.numbers import fmt
from core.teaching.runs import Run
from gui.app import GUI_GATE, Worker, current_worker

__all__ = ["TrainingTask", "TrainingSession", "Progress", "format_duration",
           "remaining_formula"]

#: how much nicer (lower priority) than the window the training thread runs
TRAINING_NICENESS = 10
#: GIL switch interval while any session trains. The training thread runs Python between
#: kernels; each time the GUI thread returns from a Qt call it must win the GIL back, and by
#: default may wait 5 ms for it, many times per repaint. 1 ms keeps a repaint short.
TRAINING_SWITCH_INTERVAL = 0.001
_running_sessions: set = set()
_saved_switch_interval: list[float] = []




_froze_gc: list[bool] = []


def _session_started(session) -> None:
    if not _running_sessions:
        # A full garbage collection walks every live object (the window holds ~150,000)
        # while holding the GIL: 50-300 ms with the window frozen. Objects alive now
        # (widgets, modules, data) are moved out of the collector's reach while anything
        # trains; training's short-lived logs still get collected in the young generations.
        # Only if nobody else froze them: their freeze is theirs to undo.
        _froze_gc[:] = [gc.get_freeze_count() == 0]
        if _froze_gc[0]:
            gc.freeze()
        _saved_switch_interval[:] = [sys.getswitchinterval()]
        sys.setswitchinterval(min(TRAINING_SWITCH_INTERVAL, sys.getswitchinterval()))
    _running_sessions.add(session)


def _session_ended(session) -> None:
    _running_sessions.discard(session)
    if not _running_sessions:
        if _saved_switch_interval:
            sys.setswitchinterval(_saved_switch_interval.pop())
        if _froze_gc and _froze_gc.pop():
            # frozen objects are never collected: left frozen, whatever died since (a
            # closed lesson's widgets, a finished run's model) would leak for good
            gc.unfreeze()


@dataclass
class TrainingTask:
    """One `model.fit(x, y, epochs, batch_size, validation_data, seed)` reporting into `run`.

    `epochs=None` trains until stopped, one epoch per fit; `batch_size` may then change
    between epochs (the GUI thread sets it). The hooks run in the worker thread.
    """

    run: Run
    model: object
    x: np.ndarray
    y: np.ndarray
    epochs: int | None
    batch_size: int
    validation_data: tuple | None = None
    seed: int | None = 0
    shuffle: bool = True
    class_weight: dict | None = None
    #: before training: may replace x / validation_data (e.g. bytes → float32 off the GUI)
    prepare: Callable[["TrainingTask"], None] | None = None
    #: after training (also when stopped or diverged): its return value becomes `result`
    finish: Callable[["TrainingTask"], object] | None = None
    #: at an epoch's end, at most every `snapshot_every` s, and once more at the end if the
    #: model changed since: its value reaches the GUI thread as `snapshot(run, value)`
    snapshot: Callable[["TrainingTask"], object] | None = None
    snapshot_every: float = 0.0
    #: the shuffling seed of each epoch when training epoch by epoch (default: derived)
    epoch_seed: Callable[[int], int] | None = None
    #: at least this many seconds per epoch (read every epoch: a speed slider can change it)
    pace: Callable[[], float] | None = None
    #: epochs the model had before this task (for `epoch_seed` and the rows' epoch axis)
    first_epoch: int = 0
    #: False: no per-batch rows (a run that trains until stopped would grow without end)
    record_batches: bool = True
    #: True: a stop waits for the end of the epoch (where the counters count whole epochs)
    whole_epochs: bool = False
    #: the model's own callbacks, called before the session's reporter in the worker
    #: thread: what they add to a batch's logs reaches `run.batches`; one may end the fit
    callbacks: tuple = ()
    #: False: no verdict on how the run went (a few steps on one drawing is not a training
    #: run that could be "stuck at chance")
    diagnose: bool = True
    # --- filled in while training (worker thread) ---
    steps: int = field(default=0, init=False)
    epochs_done: int = field(default=0, init=False)
    batch_in_epoch: int = field(default=0, init=False)
    clock: float = field(default=0.0, init=False)
    status: str = field(default="new", init=False)
    last_loss: float = field(default=0.0, init=False)
    stop_reason: str | None = field(default=None, init=False)
    result: object = field(default=None, init=False)
    _stop_check: Callable[[], bool] = field(default=lambda: False, init=False, repr=False)
    _snap_time: float = field(default=float("-inf"), init=False, repr=False)
    _snap_steps: int = field(default=-1, init=False, repr=False)

    def __post_init__(self):
        n = len(self.x)
        if n == 0:
            raise ValueError("there are no training samples")
        if self.epochs is not None and int(self.epochs) < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}")
        if int(self.batch_size) < 1:
            raise ValueError(f"batch size must be at least 1, got {self.batch_size}")
        self.epochs = None if self.epochs is None else int(self.epochs)
        self._set_batch_size()
        # a run without end has no total: progress counts its updates only
        self.total_steps = 0 if self.epochs is None else self.updates_per_epoch * self.epochs
        self.run.updates_per_epoch = self.updates_per_epoch
        self.run.total_steps = self.total_steps

    def stop_wanted(self) -> bool:
        """True once its session was asked to stop: a long `prepare` or `finish` may cut
        itself short (the window waits for them)."""
        return self._stop_check()

    @property
    def open_ended(self) -> bool:
        return self.epochs is None

    def _set_batch_size(self) -> None:
        self.batch_size = min(int(self.batch_size), len(self.x))
        self.updates_per_epoch = math.ceil(len(self.x) / self.batch_size)


@dataclass
class Progress:
    """Where a session stands: weight updates done of total, training time, time left."""

    done: int
    total: int
    elapsed: float
    remaining: float | None

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


def format_duration(seconds: float | None) -> str:
    """12.3 s, 4 min 05 s, 1 h 02 min; "—" when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        m, s = divmod(int(round(seconds)), 60)
        return f"{m} min {s:02d} s"
    h, rem = divmod(int(round(seconds)), 3600)
    return f"{h} h {rem // 60:02d} min"


def remaining_formula(p: Progress) -> str:
    """The time-left estimate written out with its numbers (for a tooltip)."""
    if p.remaining is None:
        return "time left: not known until every run has made a weight update"
    if p.done == 0:
        return "time left ≈ 0 s"
    return (f"time left ≈ training time so far ÷ updates done × updates left\n"
            f"≈ {p.elapsed:.3g} s ÷ {p.done} × {p.total - p.done} ≈ "
            f"{format_duration(p.remaining)} (per run, summed)")


class _Reporter(Callback):
    """Runs in the worker thread: turns fit's hooks into rows, pauses, stops."""

    def __init__(self, session: "TrainingSession", task: TrainingTask):
        super().__init__()
        self.session, self.task = session, task

    def on_batch_end(self, batch, logs=None):
        s, t = self.session, self.task
        logs = logs or {}
        t.steps += 1
        t.batch_in_epoch += 1
        row = {k: float(v) for k, v in logs.items()
               if k not in ("epoch", "batch", "step", "size")}
        row["step"] = t.steps
        row["epoch"] = t.first_epoch + t.epochs_done + t.batch_in_epoch / t.updates_per_epoch
        row["time"] = s._task_time(t)
        t.last_loss = row.get("loss", 0.0)
        if t.record_batches:
            s._pending_batches[t.run.id].append(row)
        s._wait_for_pace(t)
        GUI_GATE.wait_idle()
        s._wait_if_paused(t)
        if s._stop_wanted() and not self.model.stop_training and not t.whole_epochs:
            self.model.stop_training = True
            t.status = "stopped"
            self.model.stop_reason = t.stop_reason = (
                f"stopped {s._stop_why} at epoch {t.epochs_done + 1}, after {t.steps} "
                f"weight updates")
        s._maybe_emit()

    def on_epoch_end(self, epoch, logs=None):
        s, t = self.session, self.task
        complete = t.batch_in_epoch == t.updates_per_epoch
        t.batch_in_epoch = 0
        if not complete:   # a stopped epoch's averages would sit at a misleading x
            return
        t.epochs_done += 1
        row = {k: float(v) for k, v in (logs or {}).items()}
        row.update(step=t.steps, epoch=t.first_epoch + t.epochs_done, time=s._task_time(t))
        s._pending_epochs[t.run.id].append(row)
        if t.snapshot is not None and time.perf_counter() - t._snap_time >= t.snapshot_every:
            s._take_snapshot(t)
        s._maybe_emit(force=True)


class TrainingSession(QObject):
    """Trains its tasks in a Worker; signals arrive on the GUI thread.

    updated(list)            run ids whose `batches`/`epochs` tables grew
    snapshot(object, object) a `Run` and its task's `snapshot` value (after `updated`)
    progress_changed(object) a `Progress`
    run_ended(object)        a `Run` whose status became final (its stop_reason set)
    state_changed(str)       "running", "paused", "stopping", "done"
    finished()               every task ended and the thread is gone
    """

    updated = Signal(list)
    snapshot = Signal(object, object)
    progress_changed = Signal(object)
    run_ended = Signal(object)
    state_changed = Signal(str)
    finished = Signal()

    def __init__(self, tasks, report_interval: float = 0.05, warm_up: bool = True,
                 parent=None):
        super().__init__(parent)
        self.warm_up = bool(warm_up)
        self.tasks: list[TrainingTask] = list(tasks)
        if not self.tasks:
            raise ValueError("a training session needs at least one task")
        self.report_interval = float(report_interval)
        self.worker: Worker | None = None
        self.progress: Progress = Progress(0, sum(t.total_steps for t in self.tasks), 0.0,
                                           None)
        self._cond = threading.Condition()
        self._paused = False
        self._stop = False
        self._stop_why = "by you"
        self._pending_batches = {t.run.id: [] for t in self.tasks}
        self._pending_epochs = {t.run.id: [] for t in self.tasks}
        self._pending_snapshots: list[tuple[int, object]] = []
        self._ended: list[tuple[int, str, str | None]] = []
        self._last_emit = 0.0
        self._active_since: dict[int, float] = {}
        self._rate: float | None = None        # updates per second; None: full speed
        self._last_update_at = float("-inf")
        self._state = "new"
        self._done = False
        for t in self.tasks:
            t._stop_check = self._stop_wanted

    # --- control (GUI thread) -------------------------------------------------------------
    def start(self, starter=None) -> "TrainingSession":
        """Start training; `starter` is a Lesson's `start_worker` (use `Lesson.start_session`,
        which also stops the session when the learner leaves the lesson)."""
        if self.worker is not None:
            raise RuntimeError("a TrainingSession runs once; make a new one")
        for t in self.tasks:
            t.run.status = "running"
            t.run.start_time = time.time()
        _session_started(self)
        if starter is None:
            self.worker = Worker(self._job)
            self.worker.progress.connect(self._on_chunk)
            self.worker.failed.connect(self._on_failed)
            self.worker.done.connect(self._on_done)
            self.worker.start()
        else:
            self.worker = starter(self._job, on_progress=self._on_chunk,
                                  on_failed=self._on_failed, on_done=self._on_done)
        self._set_state("running")
        return self

    def pause(self) -> None:
        with self._cond:
            if self._stop or self._done:
                return
            self._paused = True
        for t in self.tasks:
            if t.run.status == "running":
                t.run.status = "paused"
        self._set_state("paused")

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()
        for t in self.tasks:
            if t.run.status == "paused":
                t.run.status = "running"
        if not self._done and not self._stop:
            self._set_state("running")

    def set_updates_per_second(self, rate: float | None) -> None:
        """Pace the training: at most `rate` weight updates per second (all tasks together);
        None or 0 is full speed. Takes effect at once, also in the middle of a wait."""
        if rate is not None:
            rate = float(rate)
            if not math.isfinite(rate) or rate <= 0:
                rate = None
        with self._cond:
            self._rate = rate
            self._cond.notify_all()

    def updates_per_second(self) -> float | None:
        return self._rate

    def stop(self, why: str = "by you") -> None:
        """Ask every task to stop after its current batch (does not wait)."""
        with self._cond:
            if not self._stop:
                self._stop_why = why
            self._stop = True
            self._paused = False
            self._cond.notify_all()
        if self.worker is not None:
            self.worker.cancel()
        if not self._done:
            self._set_state("stopping")

    def stop_and_wait(self, timeout_ms: int = 5000, why: str = "by you") -> bool:
        """Stop and block until the training thread has ended; True if it did."""
        self.stop(why)
        if self.worker is None:
            return True
        ok = self.worker.stop_and_wait(timeout_ms)
        if ok:
            self._on_done()
        return ok

    def is_running(self) -> bool:
        return self.worker is not None and not self._done

    def is_paused(self) -> bool:
        return self._paused and self.is_running()

    def is_stopping(self) -> bool:
        return self._stop

    def state(self) -> str:
        return self._state

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)

    # --- worker thread ----------------------------------------------------------------
    def _stop_wanted(self) -> bool:
        w = current_worker()
        return self._stop or (w is not None and w.is_cancelled())

    def _task_time(self, t: TrainingTask) -> float:
        since = self._active_since.get(t.run.id)
        return t.clock + (time.perf_counter() - since if since is not None else 0.0)

    def _wait_if_paused(self, t: TrainingTask) -> None:
        with self._cond:
            if not self._paused:
                return
            now = time.perf_counter()
            t.clock += now - self._active_since[t.run.id]
            self._maybe_emit(force=True)
            w = current_worker()
            while self._paused and not self._stop and not (w and w.is_cancelled()):
                # the timeout lets a Worker.cancel() (window closing) end the wait too
                self._cond.wait(0.05)
            self._active_since[t.run.id] = time.perf_counter()

    def _wait_for_pace(self, t: TrainingTask) -> None:
        """At a slow pace, show this update now and wait out the rest of its 1/rate
        seconds; stop, cancel, pause or a new pace end the wait (it polls every 50 ms so a
        Worker.cancel() from a closing window is seen too)."""
        if self._rate is None:
            self._last_update_at = time.perf_counter()
            return
        if 1.0 / self._rate >= self.report_interval:
            self._maybe_emit(force=True)   # one update per report: the learner sees each
        with self._cond:
            now = time.perf_counter()
            t.clock += now - self._active_since[t.run.id]   # waiting is not training
            if self._last_update_at == float("-inf"):        # the first update: its slot
                self._last_update_at = now                   # starts as it is shown
            w = current_worker()
            while not self._stop and not self._paused and not (w and w.is_cancelled()):
                if self._rate is None:
                    break
                left = self._last_update_at + 1.0 / self._rate - time.perf_counter()
                if left <= 0:
                    break
                self._cond.wait(min(left, 0.05))
            self._last_update_at = time.perf_counter()
            self._active_since[t.run.id] = self._last_update_at

    def _progress_now(self) -> Progress:
        done = sum(t.steps for t in self.tasks)
        total = sum(t.total_steps for t in self.tasks)
        elapsed = sum(self._task_time(t) for t in self.tasks)
        remaining = 0.0
        for t in self.tasks:
            if t.open_ended:
                return Progress(done, total, elapsed, None)
            left = t.total_steps - t.steps if t.status in ("new", "running") else 0
            if left and t.steps == 0:
                remaining = None
                break
            if left:
                remaining += self._task_time(t) / t.steps * left
        if remaining is not None and self._rate is not None:
            # a slow pace, not the arithmetic, decides how long the rest takes
            left = sum(t.total_steps - t.steps for t in self.tasks
                       if t.status in ("new", "running"))
            remaining = max(remaining, left / self._rate)
        return Progress(done, total, elapsed, remaining)

    def _maybe_emit(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._last_emit < self.report_interval:
            return
        self._last_emit = now
        chunk = {"batches": {}, "epochs": {}, "ended": [], "progress": self._progress_now()}
        for rid, rows in self._pending_batches.items():
            if rows:
                chunk["batches"][rid] = rows
                self._pending_batches[rid] = []
        for rid, rows in self._pending_epochs.items():
            if rows:
                chunk["epochs"][rid] = rows
                self._pending_epochs[rid] = []
        chunk["snapshots"], self._pending_snapshots = self._pending_snapshots, []
        chunk["ended"], self._ended = self._ended, []
        w = current_worker()
        if w is not None:
            w.report(chunk, force=True)

    def _take_snapshot(self, t: TrainingTask) -> None:
        t._snap_time, t._snap_steps = time.perf_counter(), t.steps
        self._pending_snapshots.append((t.run.id, t.snapshot(t)))

    def _fit(self, t: TrainingTask, epochs: int, seed) -> None:
        rid = t.run.id
        self._active_since[rid] = time.perf_counter()
        try:
            hist = t.model.fit(t.x, t.y, epochs=epochs, batch_size=t.batch_size,
                               validation_data=t.validation_data,
                               callbacks=(*t.callbacks, _Reporter(self, t)),
                               shuffle=t.shuffle, seed=seed,
                               class_weight=t.class_weight)
        finally:
            t.clock += time.perf_counter() - self._active_since.pop(rid)
        reason = hist.stop_reason
        if reason is not None and t.status != "stopped":
            t.status = "diverged" if hist.diverged or _diverged(t) else "stopped"
            t.stop_reason = reason

    def _end_task(self, t: TrainingTask) -> None:
        if t.status in ("new", "running"):
            t.status = "stopped" if t.open_ended else "finished"
            if t.open_ended:
                t.stop_reason = t.stop_reason or (
                    f"stopped {self._stop_why} after epoch {t.first_epoch + t.epochs_done}")
        if t.snapshot is not None and t.steps != t._snap_steps:
            # the model's true state when it stopped, not the last timed one
            self._run_guarded(t, lambda: self._take_snapshot(t), keep_status=True)
        if t.finish is not None:
            self._run_guarded(t, lambda: setattr(t, "result", t.finish(t)), keep_status=True)
        self._ended.append((t.run.id, t.status, t.stop_reason))

    def _pace(self, t: TrainingTask, started: float) -> None:
        """Wait out the rest of the epoch's time slot; a stop or cancel ends the wait."""
        if t.pace is None:
            return
        end = started + max(0.0, float(t.pace()))
        with self._cond:
            while not self._stop_wanted():
                left = end - time.perf_counter()
                if left <= 0:
                    break
                self._cond.wait(min(left, 0.05))

    def _epoch_by_epoch(self) -> bool:
        return len(self.tasks) > 1 or any(
            t.open_ended or t.pace is not None or t.epoch_seed is not None for t in self.tasks)

    def _warm_up(self) -> None:
        """Compile the engine's kernels on a throwaway copy of each network before any
        clock runs, so the first run's time axis does not include Numba's start-up."""
        from core.model import Sequential

        seen = set()
        for t in self.tasks:
            key = repr(t.model.get_config().get("layers")) + repr(t.model.compile_config())
            if key in seen or self._stop_wanted():
                continue
            seen.add(key)
            try:
                clone = Sequential.from_config(t.model.get_config())
                cfg = t.model.compile_config()
                clone.compile(cfg["optimizer"], cfg["loss"], cfg["metrics"])
                clone.train_on_batch(t.x[:2], t.y[:2])
                clone.evaluate(t.x[:2], t.y[:2])
            except Exception:  # noqa: BLE001 - the real fit reports any real problem
                pass

    def _job(self):
        _lower_this_threads_priority()
        for t in self.tasks:
            if t.prepare is not None:      # always: `finish` may rely on what it made
                t.prepare(t)
        if self.warm_up:
            self._warm_up()
        active = list(self.tasks)
        for t in active:
            t.status = "running"
        if not self._epoch_by_epoch():
            t = active[0]
            if self._stop_wanted():       # stopped while it prepared: no update at all
                t.status = "stopped"
                t.stop_reason = f"stopped {self._stop_why} before its first weight update"
            else:
                self._run_guarded(t, lambda: self._fit(t, t.epochs, t.seed))
            self._end_task(t)
        else:
            epoch = 0
            while active:
                for t in list(active):
                    if self._stop_wanted() and t.status == "running":
                        t.status = "stopped"
                        t.stop_reason = (f"stopped {self._stop_why} at epoch "
                                         f"{t.first_epoch + t.epochs_done + 1}, after "
                                         f"{t.steps} weight updates")
                    if t.status != "running" or (not t.open_ended
                                                 and t.epochs_done >= t.epochs):
                        self._end_task(t)
                        active.remove(t)
                        continue
                    started = time.perf_counter()
                    t._set_batch_size()        # it may have changed since the last epoch
                    seed = self._seed_for(t, epoch)
                    self._run_guarded(t, lambda t=t, seed=seed: self._fit(t, 1, seed))
                    if t.status == "running":
                        self._pace(t, started)
                epoch += 1
        self._maybe_emit(force=True)
        return None

    @staticmethod
    def _seed_for(t: TrainingTask, epoch: int):
        if t.epoch_seed is not None:
            return t.epoch_seed(t.first_epoch + epoch)
        return None if t.seed is None else _epoch_seed(t.seed, epoch)

    def _run_guarded(self, t: TrainingTask, fn, keep_status: bool = False) -> None:
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - one task's failure is shown, others go on
            if keep_status and t.status == "diverged":
                return   # a hook tripping over the NaN model: the divergence is the news
            if isinstance(exc, ValueError) and t.steps == 0:
                # fit refused the data before any step (NaN in x, labels the loss cannot
                # take): the data is the news, not the learning rate
                t.status = "failed"
                t.stop_reason = f"training could not start: {exc}"
            elif _outputs_blew_up(t):
                # the engine tripped over NaN/inf somewhere its own check does not look yet
                # (e.g. a metric on NaN predictions): still a divergence, and said so
                t.status = "diverged"
                t.last_loss = float("nan")
                lr = getattr(getattr(t.model, "optimizer", None), "learning_rate", None)
                t.stop_reason = (
                    f"training stopped: the network's outputs became NaN or infinite in "
                    f"epoch {t.epochs_done + 1}, after {t.steps} weight updates ({exc})."
                    + (f" Try a smaller learning rate (now {fmt(lr)})." if lr else ""))
            else:
                t.status = "failed"
                t.stop_reason = f"training failed: {exc}"

    # --- GUI thread --------------------------------------------------------------------
    def _on_chunk(self, chunk) -> None:
        by_id = {t.run.id: t for t in self.tasks}
        changed = set()
        for rid, rows in chunk["batches"].items():
            by_id[rid].run.batches.extend(rows)
            changed.add(rid)
        for rid, rows in chunk["epochs"].items():
            by_id[rid].run.epochs.extend(rows)
            changed.add(rid)
        ended = []
        for rid, status, reason in chunk["ended"]:
            run = by_id[rid].run
            run.status, run.stop_reason = status, reason
            _diagnose(by_id[rid])
            ended.append(run)
        self.progress = chunk["progress"]
        if changed:
            self.updated.emit(sorted(changed))
        for rid, value in chunk["snapshots"]:
            self.snapshot.emit(by_id[rid].run, value)
        self.progress_changed.emit(self.progress)
        for run in ended:
            self.run_ended.emit(run)

    def _on_failed(self, exc) -> None:
        for t in self.tasks:
            if t.run.status in ("running", "paused", "new"):
                t.run.status = "failed"
                t.run.stop_reason = f"training failed: {type(exc).__name__}: {exc}"
                self.run_ended.emit(t.run)

    def _on_done(self) -> None:
        if self._done:
            return
        self._done = True
        _session_ended(self)
        for t in self.tasks:
            if t.run.status in ("running", "paused", "new"):
                # the thread ended without reporting (e.g. stopped before its first batch)
                t.run.status = t.status if t.status not in ("new", "running") else "stopped"
                t.run.stop_reason = t.stop_reason or (
                    None if t.run.status == "finished" else f"stopped {self._stop_why}")
                _diagnose(t)
                self.run_ended.emit(t.run)
        self._set_state("done")
        self.finished.emit()


def _lower_this_threads_priority() -> None:
    """Let the GUI thread win the CPU whenever it wants it: training is the background job.

    Qt's thread priorities do nothing under Linux's normal scheduler, so on Linux the
    training thread's own nice value is raised (threads it starts, such as Numba's pool,
    inherit it); elsewhere QThread's priority is used.
    """
    try:
        if sys.platform.startswith("linux"):
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid)
                                                     + TRAINING_NICENESS))
        else:
            from PySide6.QtCore import QThread

            QThread.currentThread().setPriority(QThread.Priority.LowPriority)
    except (OSError, AttributeError, RuntimeError):
        pass   # not allowed here: training still works, the window is just less favoured


def _diagnose(t: TrainingTask) -> None:
    """Put the one-sentence diagnosis of the task's ended run into `run.diagnosis`."""
    model, run = t.model, t.run
    if not t.diagnose:
        run.diagnosis = None
        return
    try:
        loss = model.compile_config()["loss"]
        loss_name = loss.get("name", "") if isinstance(loss, dict) else str(loss)
        units = int(model.output_shape[-1])
        classification = "crossentropy" in loss_name
        n_classes = (2 if units == 1 else units) if classification else None
        chance = chance_accuracy(n_classes, t.y) if classification else None
        optimizer = getattr(model, "optimizer", None)
        lr = getattr(optimizer, "learning_rate", None) or run.settings.get("learning_rate")
        run.diagnosis = diagnose_run(run, n_classes=n_classes, chance=chance,
                                     learning_rate=lr,
                                     optimizer=type(optimizer).__name__.lower())
    except Exception:  # noqa: BLE001 - a model we cannot read: no diagnosis, no crash
        run.diagnosis = None


def _outputs_blew_up(t: TrainingTask) -> bool:
    try:
        out = t.model.predict(t.x[:64])
    except Exception:  # noqa: BLE001 - a model that cannot even predict has blown up too
        return True
    return not bool(np.all(np.isfinite(out)))


def _diverged(t: TrainingTask) -> bool:
    return not math.isfinite(t.last_loss)


def _epoch_seed(seed: int, epoch: int) -> int:
    return int(np.random.SeedSequence([int(seed), int(epoch)]).generate_state(1)[0])
