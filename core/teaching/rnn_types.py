"""Types of RNN (the course's tutorial 34): one-to-one, one-to-many, many-to-one and
many-to-many, each a small task the engine trains in seconds.

Every example is a real `Sequential` model on seeded data:

* one-to-one — a digit seen all at once: its 784 pixels are one time step, one answer;
* many-to-one — the same digits read row by row: 28 steps of 28 pixels, one answer at the end;
* one-to-many — a wave drawn from one number: the height a at the first step (nothing after),
  the curve a·sin at every step;
* many-to-many, tagging — mark each step where the running sum so far is positive;
* many-to-many, next value — read a wave and say its next value at every step.

An output at every step is a Dense layer after `SimpleRNN(return_sequences=True)`: the same
weights at each step (Keras's Dense on sequences). A step that has no input gets zeros:
the unrolled picture draws no arrow there. `Shape` says which steps take an input and which
give an output, and the GUI draws exactly that. `score` measures a trained model on held-out
data the same way the lesson writes it (accuracy, or how close the curve is).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from core.data import load_offline_digits
from core.layers import Dense, SimpleRNN
from core.model import Sequential
from core.optimizers import Adam
from core.teaching.numbers import fmt

#: held-out samples every score is measured on
TEST_SAMPLES = 500


@dataclass(frozen=True)
class Shape:
    """Which time steps read an input and which give an output (drawn, not trained)."""

    name: str
    inputs: tuple[bool, ...]
    outputs: tuple[bool, ...]

    @property
    def steps(self) -> int:
        return len(self.inputs)


def shape(name: str, steps: int) -> Shape:
    """The picture of `name` ("one-to-one", "one-to-many", "many-to-one", "many-to-many")
    drawn with `steps` cells (one-to-one always has a single cell)."""
    if name == "one-to-one":
        return Shape(name, (True,), (True,))
    first = tuple(k == 0 for k in range(steps))
    last = tuple(k == steps - 1 for k in range(steps))
    every = (True,) * steps
    table = {"one-to-many": (first, every), "many-to-one": (every, last),
             "many-to-many": (every, every)}
    if name not in table:
        raise ValueError(f"unknown RNN shape {name!r}")
    return Shape(name, *table[name])


@dataclass(frozen=True)
class Score:
    """How a model does on held-out data: `value` in [0, 1] (higher is better), the sentence
    the lesson shows, and for curve tasks one sequence's true and predicted values."""

    value: float
    text: str
    true_curve: np.ndarray | None = None
    predicted_curve: np.ndarray | None = None
    input_curve: np.ndarray | None = None


@dataclass(frozen=True)
class Example:
    key: str
    title: str
    shape: str
    steps: int
    task: str                       # one sentence: what goes in, what comes out
    loss: str
    units: int
    epochs: int
    train_samples: int
    data: Callable[[int, int], tuple[np.ndarray, np.ndarray]]
    score: Callable[[Sequential, np.ndarray, np.ndarray], Score]
    outputs: int = 1
    activation: str | None = None
    learning_rate: float = 0.01
    batch_size: int = 32

    def make_model(self, seed: int = 0) -> Sequential:
        every_step = self.shape in ("one-to-many", "many-to-many")
        x, _ = self.data(1, 0)
        model = Sequential([SimpleRNN(self.units, return_sequences=every_step),
                            Dense(self.outputs, activation=self.activation)],
                           input_shape=x.shape[1:], seed=seed)
        model.compile(optimizer=Adam(self.learning_rate), loss=self.loss)
        return model

    def training_data(self, seed: int = 0):
        return self.data(self.train_samples, seed)

    def test_data(self):
        # a seed no training run uses: the score is always on unseen data
        return self.data(TEST_SAMPLES, 10_000)

    def picture(self, steps: int = 5) -> Shape:
        return shape(self.shape, steps)


# --- data --------------------------------------------------------------------------------------
_DIGITS: tuple[np.ndarray, np.ndarray] | None = None
#: the last 500 of the 5,000 offline digits are the held-out ones
_DIGIT_TEST = 500


def _digits():
    global _DIGITS
    if _DIGITS is None:
        x, y = load_offline_digits()
        _DIGITS = (np.ascontiguousarray(x[..., 0], dtype=np.float32), np.asarray(y))
    return _DIGITS


def _digit_split(n: int, seed: int):
    x, y = _digits()
    if seed == 10_000:
        idx = np.arange(len(x) - _DIGIT_TEST, len(x))[:n]
    else:
        idx = np.random.default_rng(seed).permutation(len(x) - _DIGIT_TEST)[:n]
    return x[idx], y[idx].astype(np.int64)


def digits_at_once(n: int, seed: int = 0):
    """Each digit as ONE time step of 784 pixels: (n, 1, 784)."""
    x, y = _digit_split(n, seed)
    return x.reshape(len(x), 1, 28 * 28), y


def digits_by_rows(n: int, seed: int = 0):
    """Each digit as 28 time steps, one row of 28 pixels each: (n, 28, 28)."""
    return _digit_split(n, seed)


WAVE_STEPS = 20


def wave_from_height(n: int, seed: int = 0):
    """One-to-many: a height a in [-1, 1] at the first step (zeros after it); the target
    is a·sin(2π·k/20) at steps k = 1…20 — one full period drawn from one number."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1.0, 1.0, n).astype(np.float32)
    x = np.zeros((n, WAVE_STEPS, 1), np.float32)
    x[:, 0, 0] = a
    k = np.arange(1, WAVE_STEPS + 1)
    y = (a[:, None] * np.sin(2 * np.pi * k / WAVE_STEPS)).astype(np.float32)
    return x, y[..., None]


TAG_STEPS = 12


def running_sum_tags(n: int, seed: int = 0):
    """Many-to-many tagging: whole tenths in ±0.5 at each of 12 steps; the tag at step t is
    1 when the sum of the values up to and including step t is above zero."""
    rng = np.random.default_rng(seed)
    x = (rng.integers(-5, 6, (n, TAG_STEPS)) / 10.0).astype(np.float32)
    totals = np.round(np.cumsum(x.astype(np.float64), axis=1), 6)
    return x[..., None], (totals > 0).astype(np.float32)[..., None]


NEXT_STEPS = 30


def next_value_waves(n: int, seed: int = 0):
    """Many-to-many next value: waves sin(ω·t + φ) with ω in [0.3, 0.6] and any phase; the
    target at step t is the wave's value at step t + 1."""
    rng = np.random.default_rng(seed)
    omega = rng.uniform(0.3, 0.6, (n, 1))
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    t = np.arange(NEXT_STEPS + 1)[None, :]
    wave = np.sin(omega * t + phase).astype(np.float32)
    return wave[:, :-1, None], wave[:, 1:, None]


# --- scores --------------------------------------------------------------------------------------
def percent(share: float) -> str:
    return f"{fmt(100.0 * share)} %"


def _class_accuracy(model, x, y) -> Score:
    p = model.predict(x)
    acc = float(np.mean(np.argmax(p, axis=1) == y))
    return Score(acc, f"{percent(acc)} of {len(y)} new digits read correctly")


def _tag_accuracy(model, x, y) -> Score:
    p = model.predict(x)[..., 0]
    acc = float(np.mean((p > 0.5) == (y[..., 0] > 0.5)))
    k = _shown(y)
    return Score(acc, f"{percent(acc)} of the steps of {len(y)} new sequences tagged "
                      f"correctly", true_curve=y[k, :, 0], predicted_curve=p[k],
                 input_curve=np.cumsum(x[k, :, 0]))


def _curve_closeness(model, x, y) -> Score:
    """The share of the target's variance the prediction explains (R², at least 0)."""
    p = model.predict(x)
    err = float(np.mean((p - y) ** 2))
    spread = float(np.mean((y - y.mean()) ** 2))
    r2 = max(0.0, 1.0 - err / spread) if spread > 0 else 0.0
    k = _shown(y)
    return Score(r2, f"mean squared error {fmt(err)} on {len(y)} new sequences: the curve "
                     f"explains {percent(r2)} of the true values' variation",
                 true_curve=y[k, :, 0], predicted_curve=p[k, :, 0], input_curve=x[k, :, 0])


def _shown(y, among: int = 20) -> int:
    """The sequence drawn for the learner: of the first `among`, the one whose true values
    vary most (a nearly flat wave says little about how well its shape was learned)."""
    return int(np.argmax(y[:among].reshape(min(among, len(y)), -1).std(axis=1)))


EXAMPLES: tuple[Example, ...] = (
    Example("one_to_one", "One digit, all at once", "one-to-one", 1,
            "All 784 pixels of a digit arrive in one step; the answer is its digit.",
            "sparse_categorical_crossentropy", 32, 4, 3000, digits_at_once, _class_accuracy,
            outputs=10, activation="softmax", learning_rate=0.003),
    Example("many_to_one", "A digit, row by row", "many-to-one", 28,
            "The 28 rows of a digit arrive one per step; after the last row, say the digit.",
            "sparse_categorical_crossentropy", 32, 6, 4500, digits_by_rows, _class_accuracy,
            outputs=10, activation="softmax", learning_rate=0.005),
    Example("one_to_many", "A wave from one number", "one-to-many", WAVE_STEPS,
            "One height a arrives at the first step; draw a·sin over the 20 steps.",
            "mean_squared_error", 16, 30, 512, wave_from_height, _curve_closeness),
    Example("tagging", "Tag every step", "many-to-many", TAG_STEPS,
            "Numbers arrive one per step; at each step say whether the sum so far is "
            "positive.", "binary_crossentropy", 8, 30, 1024, running_sum_tags,
            _tag_accuracy, activation="sigmoid"),
    Example("next_value", "The next value of a wave", "many-to-many", NEXT_STEPS,
            "A wave arrives one value per step; at each step say the value that comes "
            "next.", "mean_squared_error", 16, 20, 512, next_value_waves, _curve_closeness),
)

BY_KEY = {e.key: e for e in EXAMPLES}

__all__ = ["EXAMPLES", "BY_KEY", "Example", "Score", "Shape", "shape", "digits_at_once",
           "digits_by_rows", "wave_from_height", "running_sum_tags", "next_value_waves"]
