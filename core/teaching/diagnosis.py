"""Why a training run failed, in one sentence a beginner can act on.

A run can end "finished" and still have learned nothing: at learning rate 3 the dashboard's
network sat at 10 % accuracy for ten epochs and the app said only "finished". From what any
run logs — its loss per epoch (or per update), its accuracy, how many classes there are and
the learning rate — `diagnose` names one of three failures and its most likely cause:

- **diverged**: the loss grew (or became NaN/∞): the learning rate is too large;
- **stuck at chance**: the accuracy ended where guessing scores (1 / classes, or what always
  answering the most common class scores if that is more);
- **flat loss**: the loss hardly moved: too small a learning rate, or a network whose
  neurons stopped responding (dead ReLUs, saturated sigmoids).

The likely cause is named in this order: a learning rate far too large, one far too small,
too few weight updates (batch gradient descent's 10 in 10 epochs), then the loss's shape.

It returns None for a run that learned, so a caller shows the sentence only when it has
something to say. Qt-free; the GUI shows the sentence (gui.training_worker attaches it to
the run when the run ends).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.wording import number

__all__ = ["Diagnosis", "diagnose", "diagnose_run", "chance_accuracy", "suggest_smaller",
           "suggest_larger", "GROWN", "FLAT", "CHANCE_MARGIN", "SMALL_LEARNING_RATE",
           "LARGE_LEARNING_RATE", "FEW_UPDATES"]

#: a last loss this many times the first one: the run diverged
GROWN = 2.0
#: the loss fell by less than this fraction of where it started: flat
FLAT = 0.05
#: an accuracy within this much of chance is "at chance"
CHANCE_MARGIN = 0.05
#: at or below this, plain gradient descent moves the weights too little to see in a few
#: epochs (Adam's steps do not scale with the gradient: its threshold is ten times lower)
SMALL_LEARNING_RATE = 0.001
#: at or above this, a step of plain gradient descent usually jumps past the minimum
LARGE_LEARNING_RATE = 1.0
#: fewer weight updates than this can hardly learn anything, whatever the learning rate
FEW_UPDATES = 100
#: what the course's networks learn with: the advice never suggests more than this
GOOD_LEARNING_RATE = 0.1


@dataclass(frozen=True)
class Diagnosis:
    """`kind` is "diverged", "chance" or "flat"; `sentence` says it with the likely cause."""

    kind: str
    sentence: str

    def __str__(self) -> str:
        return self.sentence


def chance_accuracy(n_classes: int | None, labels=None) -> float | None:
    """What guessing scores: 1 / classes, or the share of the most common class when the
    labels are known and lopsided (always answering "benign" scores 63 % on breast cancer)."""
    chance = None
    if n_classes is not None and int(n_classes) >= 2:
        chance = 1.0 / int(n_classes)
    if labels is not None:
        y = np.asarray(labels)
        if y.ndim == 2 and y.shape[1] > 1:        # one-hot
            y = y.argmax(axis=1)
        y = y.reshape(-1)
        if y.size and np.issubdtype(y.dtype, np.number) and np.all(np.isfinite(y)) \
                and np.all(y == np.round(y)) and y.min() >= 0:
            share = float(np.bincount(y.astype(np.int64)).max() / y.size)
            chance = share if chance is None else max(chance, share)
    return chance


def suggest_smaller(learning_rate: float) -> float:
    """A learning rate worth trying after a too-large one: the course's 0.1, or a tenth if
    it already was at most that."""
    return GOOD_LEARNING_RATE if learning_rate > GOOD_LEARNING_RATE * 3 else learning_rate / 10


def suggest_larger(learning_rate: float) -> float:
    return min(learning_rate * 10, GOOD_LEARNING_RATE) if learning_rate < GOOD_LEARNING_RATE \
        else learning_rate * 3


def _as_array(values) -> np.ndarray:
    return np.asarray([] if values is None else values, dtype=np.float64).reshape(-1)


def _percent(p: float) -> str:
    return f"{number(round(100 * p, 1))} %"


def diagnose(losses, accuracies=None, *, n_classes: int | None = None,
             chance: float | None = None, learning_rate: float | None = None,
             optimizer: str = "sgd", diverged: bool = False,
             updates: int | None = None) -> Diagnosis | None:
    """The one-sentence diagnosis of a run, or None if it learned (or is too short to tell).

    `losses`: the training loss over the run, in order (per epoch, or per update for a run
    shorter than two epochs); `accuracies`: its training accuracy the same way (None for a
    regression); `chance`: what guessing scores (default 1 / `n_classes`); `diverged`: the
    engine stopped it for a NaN/∞ or exploding loss; `updates`: weight updates made.
    """
    loss = _as_array(losses)
    acc = _as_array(accuracies)
    if chance is None and n_classes is not None and int(n_classes) >= 2:
        chance = 1.0 / int(n_classes)
    lr = None if learning_rate is None else float(learning_rate)
    adam = str(optimizer).lower() == "adam"
    small = SMALL_LEARNING_RATE / (10 if adam else 1)
    large = LARGE_LEARNING_RATE / (100 if adam else 1)

    finite = loss[np.isfinite(loss)]
    blew_up = diverged or (loss.size > 0 and not np.all(np.isfinite(loss)))
    if finite.size and not blew_up:
        blew_up = finite.size >= 2 and finite[-1] > GROWN * max(finite[0], 1e-6)
    if blew_up:
        return Diagnosis("diverged", _diverged_sentence(loss, finite, lr))
    if finite.size < 2:
        return None

    start, end = float(finite[0]), float(finite[-1])
    drop = (start - end) / abs(start) if start else 0.0
    flat = drop < FLAT

    acc = acc[np.isfinite(acc)]
    if acc.size and chance is not None and acc[-1] <= chance + CHANCE_MARGIN:
        stayed = "stayed" if acc.max() <= chance + CHANCE_MARGIN else "fell back"
        if n_classes and chance <= 1 / n_classes + 1e-9:
            what = f"chance for {n_classes} classes"
        else:
            what = "what always answering the most common class scores"
        if abs(acc[-1] - chance) < 0.005:
            head = f"Accuracy {stayed} at {_percent(acc[-1])}, {what}"
        else:
            head = (f"Accuracy {stayed} at {_percent(acc[-1])}, near chance "
                    f"({_percent(chance)} is {what})")
        return Diagnosis("chance",
                         f"{head}: {_cause(lr, flat, small, large, start, end, updates)}")
    if flat:
        head = f"The loss hardly moved ({number(start)} → {number(end)})"
        return Diagnosis("flat", f"{head}: {_cause(lr, True, small, large, start, end, updates)}")
    return None


def _diverged_sentence(loss: np.ndarray, finite: np.ndarray, lr: float | None) -> str:
    if finite.size and np.all(np.isfinite(loss)):
        what = f"The loss grew from {number(finite[0])} to {number(finite.max())}"
    elif finite.size:
        what = f"The loss grew from {number(finite[0])} to NaN or infinity"
    else:
        what = "The loss became NaN or infinity"
    if lr is None:
        return f"{what}: the learning rate is probably too large — try a smaller one."
    return (f"{what}: the learning rate {number(lr)} is too large — each step overshoots "
            f"the valley and lands higher up the other side; try {number(suggest_smaller(lr))}.")


def _cause(lr: float | None, flat: bool, small: float, large: float,
           start: float, end: float, updates: int | None) -> str:
    if lr is not None and lr >= large:
        return (f"the learning rate {number(lr)} is probably too large — the weights jumped "
                f"past every good value; try {number(suggest_smaller(lr))}.")
    if lr is not None and lr <= small:
        return (f"the learning rate {number(lr)} is probably too small — each step barely "
                f"moves the weights; try {number(suggest_larger(lr))} or train longer.")
    if updates is not None and updates < FEW_UPDATES:
        return (f"it made only {updates} weight update{'s' if updates != 1 else ''}, too "
                "few to get anywhere — train more epochs, or use smaller batches (more "
                "updates per epoch).")
    if flat:
        rate = f" (now {number(lr)})" if lr is not None else ""
        return (f"the network's output hardly changes — too small a learning rate{rate} for "
                "this network, or neurons that stopped responding (dead ReLUs: every input "
                "below zero, so no gradient flows; saturated sigmoids); try a larger "
                "learning rate or another seed.")
    if lr is not None:
        return (f"the loss fell ({number(start)} → {number(end)}) but not far enough to "
                f"beat guessing — train longer, or try the learning rate "
                f"{number(suggest_larger(lr) if lr < GOOD_LEARNING_RATE else suggest_smaller(lr))}.")
    return "train longer or change the learning rate."


def diagnose_run(run, *, n_classes: int | None = None, chance: float | None = None,
                 learning_rate: float | None = None, optimizer: str = "sgd") -> Diagnosis | None:
    """`diagnose` on a `core.teaching.runs.Run`: its epoch rows when it has two or more,
    else its per-update rows. Only a run that ended (finished, diverged, or stopped after a
    few epochs) is judged: a run stopped early has not had its chance."""
    status = getattr(run, "status", "finished")
    if status not in ("finished", "diverged", "stopped"):
        return None
    if status == "stopped" and len(run.epochs) < 3:
        return None
    if learning_rate is None:
        learning_rate = run.settings.get("learning_rate")
    by_epoch = len(run.epochs) >= 2
    table = run.epochs if by_epoch else run.batches
    losses = table.get("loss")
    accs = table.get("accuracy") if "accuracy" in table.columns else None
    if not by_epoch and status != "diverged" and len(losses) > 8:
        # single updates are noisy: compare the first tenth of them with the last tenth
        tail = max(1, len(losses) // 10)
        losses = np.asarray([np.nanmean(losses[:tail]), np.nanmean(losses[-tail:])])
        if accs is not None:
            accs = np.asarray([np.nanmean(accs[:tail]), np.nanmean(accs[-tail:])])
    return diagnose(losses, accs, n_classes=n_classes, chance=chance,
                    learning_rate=None if learning_rate is None else float(learning_rate),
                    optimizer=optimizer, diverged=status == "diverged",
                    updates=run.steps or None)
