"""Reading a drawn digit, and teaching a network the right answer for one drawing.

:func:`read_drawing` is the one path from a drawing to probabilities that the "Draw a digit"
lesson and the benchmarks share: the pad's pixels → :func:`core.digits.to_mnist` → the
network.

:func:`teach` fine-tunes a network on one corrected drawing. Training on that drawing alone
would make the network say the new digit for *everything* (catastrophic forgetting), so every
step's batch mixes a few lightly distorted copies of the drawing with digits replayed from the
offline set, whose labels keep the rest of what the network knows in place.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.augment import AugmentConfig, augment
from core.callbacks import Callback
from core import readable as plain
from core.digits import to_mnist

__all__ = ["Reading", "read_drawing", "TeachResult", "teach", "teaching_batch",
           "teaching_batches", "begin_teaching", "UntilSure", "TEACH_AUGMENT", "MAX_STEPS",
           "BATCH_SIZE"]

#: `teach`'s defaults, which the "Draw a digit" lesson's training session uses too
MAX_STEPS, MIN_STEPS, TARGET, BATCH_SIZE, COPIES, LEARNING_RATE = 40, 5, 0.9, 32, 8, 1e-3

#: Gentle distortions for the taught drawing: enough that the lesson is "this shape is a 7",
#: not "these exact pixels are a 7".
TEACH_AUGMENT = AugmentConfig(shift=1.0, rotation=6.0, scale=(0.95, 1.05), shear=0.05,
                              elastic_alpha=15.0, elastic_sigma=4.0, elastic_prob=0.5,
                              thicken=1.0, thin=0.5, stroke_prob=0.3)


@dataclass
class Reading:
    """What the network makes of one drawing."""

    image: np.ndarray  # (28, 28) float32, what the network sees
    probabilities: np.ndarray | None  # (10,) float32, None for a blank drawing
    saliency: np.ndarray | None = None  # (28, 28) |∂p_top/∂x|, when asked for

    @property
    def blank(self) -> bool:
        return self.probabilities is None

    @property
    def top(self) -> int | None:
        return None if self.probabilities is None else int(np.argmax(self.probabilities))


def _as_input(image28: np.ndarray, model=None) -> np.ndarray:
    """(1, 28, 28, 1), or the 784 pixels in the shape `model` takes ((28, 28), (784,), ...)."""
    shape = (28, 28, 1) if model is None or model.input_shape is None else model.input_shape
    return np.asarray(image28, np.float32).reshape((1, *shape))


def learner_model_problem(model) -> str | None:
    """Why `model` cannot read a drawing (a sentence), or None: it must take the 784 pixels of
    a 28×28 digit in some shape and give 10 outputs, one per digit."""
    shape = getattr(model, "input_shape", None)
    if not shape or int(np.prod(shape)) != 784:
        return (f"it takes inputs of shape {tuple(shape) if shape else '?'}, and a drawing "
                f"is 28×28 = 784 pixels")
    if tuple(model.output_shape) != (10,):
        return f"it gives outputs of shape {tuple(model.output_shape)}, not one per digit (10)"
    return None


def as_probabilities(model, out: np.ndarray) -> np.ndarray:
    """A model's 10 outputs as probabilities: softmax outputs as they are, sigmoid outputs
    rescaled to sum to 1 (as Keras's cross-entropy reads them), raw scores (logits) through
    a softmax."""
    out = np.asarray(out, np.float64)
    last = model.layers[-1].output_activation() if model.layers else None
    if last == "softmax":
        return out.astype(np.float32)
    if last == "sigmoid" and out.sum() > 0:
        return (out / out.sum()).astype(np.float32)
    e = np.exp(out - out.max())
    return (e / e.sum()).astype(np.float32)


def read_drawing(model, drawing, saliency: bool = False, image28=None,
                 readable: bool = False) -> Reading:
    """Probabilities (and optionally a saliency map) of `model` for a drawing of any size.

    `drawing` is anything :func:`core.digits.to_mnist` reads (the pad's (H, W) uint8
    canvas, dark-on-light or light-on-dark). Pass `image28` when the 28x28 form is already
    known (several networks reading the same drawing). A blank drawing gives no
    probabilities: a network always answers *something*, and an answer to nothing would
    teach the wrong lesson. The saliency map is |∂p_top/∂x|, the sensitivity of the top
    class's probability to each input pixel.

    `readable`: the probabilities by the plain-NumPy forward pass (core.readable), without
    a saliency map - what the pad shows while the fast kernels are still compiling. A
    network with a layer it does not cover is read the fast way.
    """
    x28 = to_mnist(drawing) if image28 is None else np.asarray(image28, np.float32)
    if not x28.any():
        return Reading(x28, None, None)
    x = _as_input(x28, model)
    if readable:
        try:
            return Reading(x28, as_probabilities(model, plain.predict(model, x)[0]), None)
        except NotImplementedError:
            pass
    probs = as_probabilities(model, model.predict(x)[0])  # (10,)
    sal = None
    if saliency:
        g = model.input_gradient(x, int(np.argmax(probs)))  # (1, 28, 28, 1)
        sal = np.abs(np.asarray(g, np.float32).reshape(28, 28))
    return Reading(x28, probs, sal)


def teaching_batch(image28: np.ndarray, label: int, replay_x: np.ndarray, replay_y: np.ndarray,
                   rng: np.random.Generator, batch_size: int = 32,
                   copies: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """One fine-tuning batch: `copies` distorted copies of the drawing labelled `label`, the
    rest random replayed digits with their own labels. Shapes (B, 28, 28, 1), (B,)."""
    copies = int(min(max(copies, 1), batch_size))
    own = augment(np.repeat(_as_input(image28), copies, axis=0), rng, TEACH_AUGMENT)
    n_replay = batch_size - copies
    idx = rng.integers(0, len(replay_x), n_replay)
    x = np.concatenate([own, np.asarray(replay_x, np.float32)[idx]], axis=0)  # (B, 28, 28, 1)
    y = np.concatenate([np.full(copies, int(label), np.int64),
                        np.asarray(replay_y, np.int64)[idx]])  # (B,)
    return x, y


@dataclass
class TeachResult:
    label: int
    before: np.ndarray  # (10,) probabilities for the drawing before teaching
    after: np.ndarray  # (10,) after
    steps: int
    losses: list[float] = field(default_factory=list)
    stopped: bool = False  # cancelled before the end


def teaching_batches(image28: np.ndarray, label: int, replay_x: np.ndarray,
                     replay_y: np.ndarray, seed: int | None, steps: int = MAX_STEPS,
                     batch_size: int = BATCH_SIZE,
                     copies: int = COPIES) -> tuple[np.ndarray, np.ndarray]:
    """The batches `teach` draws, in its order, stacked: step k's batch is rows
    [k·batch_size, (k+1)·batch_size). They do not depend on the network, so `model.fit` over
    them (shuffle=False, no seed) makes `teach`'s updates. Shapes (steps·B, 28, 28, 1),
    (steps·B,)."""
    rng = np.random.default_rng(seed)
    x28 = np.asarray(image28, np.float32).reshape(28, 28)
    parts = [teaching_batch(x28, label, replay_x, replay_y, rng, batch_size, copies)
             for _ in range(int(steps))]
    return (np.concatenate([p[0] for p in parts], axis=0),
            np.concatenate([p[1] for p in parts]))


def begin_teaching(model, image28: np.ndarray, label: int, replay_x: np.ndarray,
                   replay_y: np.ndarray, learning_rate: float = LEARNING_RATE) -> np.ndarray:
    """Check the request, then give `model` a fresh Adam (the learner's correction should not
    ride on stale momentum). Returns the drawing's probabilities before teaching, (10,)."""
    from core.optimizers import Adam

    label = int(label)
    if not 0 <= label <= 9:
        raise ValueError(f"a digit label is 0..9, got {label}")
    x28 = np.asarray(image28, np.float32).reshape(28, 28)
    if not x28.any():
        raise ValueError("there is no drawing to learn from: draw a digit first")
    if len(replay_x) != len(replay_y) or len(replay_x) == 0:
        raise ValueError("teaching needs replay digits with one label each")
    before = np.asarray(model.predict(_as_input(x28))[0], np.float32)
    model.compile(optimizer=Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return before


class UntilSure(Callback):
    """Ends a fit over `teaching_batches` where `teach` stops: after at least `min_steps`
    updates, once the network gives `label` at least `target` probability for the drawing.
    Each batch's logs gain that probability as "p_label"; `losses` and `steps` count as
    `teach` does."""

    def __init__(self, image28: np.ndarray, label: int, min_steps: int = MIN_STEPS,
                 target: float = TARGET):
        super().__init__()
        self.x = _as_input(image28)  # (1, 28, 28, 1)
        self.label, self.min_steps, self.target = int(label), int(min_steps), float(target)
        self.steps = 0
        self.losses: list[float] = []
        self.reached = False

    def on_batch_end(self, batch, logs=None):
        logs = {} if logs is None else logs
        self.steps += 1
        self.losses.append(float(logs.get("loss", float("nan"))))
        p = float(self.model.predict(self.x)[0][self.label])
        logs["p_label"] = p
        if self.steps >= self.min_steps and p >= self.target:
            self.reached = True
            self.model.stop_training = True


def teach(model, image28: np.ndarray, label: int, replay_x: np.ndarray, replay_y: np.ndarray, *,
          max_steps: int = MAX_STEPS, min_steps: int = MIN_STEPS, target: float = TARGET,
          batch_size: int = BATCH_SIZE, copies: int = COPIES,
          learning_rate: float = LEARNING_RATE, seed: int | None = None,
          should_stop=None, on_step=None) -> TeachResult:
    """Fine-tune `model` in place until it gives `label` at least `target` probability for
    the drawing (after at least `min_steps`, at most `max_steps` Adam steps).

    Each step trains on :func:`teaching_batch`. `should_stop()` (optional) is checked
    before every step to cancel; `on_step(step, loss, p_label)` reports progress.
    (The lesson trains the same steps as one `fit` over :func:`teaching_batches` with
    :class:`UntilSure`, in its training session.)
    """
    before = begin_teaching(model, image28, label, replay_x, replay_y, learning_rate)
    label = int(label)
    x28 = np.asarray(image28, np.float32).reshape(28, 28)
    x = _as_input(x28)
    rng = np.random.default_rng(seed)
    losses: list[float] = []
    stopped = False
    steps = 0
    p_label = float(before[label])
    for steps in range(1, int(max_steps) + 1):
        if should_stop is not None and should_stop():
            stopped = True
            steps -= 1
            break
        bx, by = teaching_batch(x28, label, replay_x, replay_y, rng, batch_size, copies)
        losses.append(float(model.train_on_batch(bx, by)["loss"]))
        p_label = float(model.predict(x)[0][label])
        if on_step is not None:
            on_step(steps, losses[-1], p_label)
        if steps >= min_steps and p_label >= target:
            break
    after = np.asarray(model.predict(x)[0], np.float32)
    return TeachResult(label, before, after, steps, losses, stopped)
