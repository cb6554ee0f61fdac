"""The numbers behind "What is an RNN": one tiny SimpleRNN, forward and backward through time.

The task is a running sum a learner can check in their head: read a short sequence of
numbers one at a time and say their total. The network is `SimpleRNN(units) → Dense(1)`;
its recurrent layer keeps a hidden state h_t that carries what it has read so far.

`walk_through(weights, sequence, target, learning_rate)` runs the engine's own
`trace_step` on a copy of the network (the learner's weights are never moved by it) and
writes every number of that record as a `TimeStep`: h_t at each step of the forward pass,
the prediction and loss, then ∂L/∂h_t at each step going back through time, each step's
share of ∂L/∂W, ∂L/∂U and ∂L/∂b, and the update. The values are the trace's; this module
only multiplies recorded factors to write the products out (the tests check that those
products give back the trace's own gradients).

The lesson's network is built once for sequences of any length (input_shape=(None, 1),
as Keras writes it): the SimpleRNN's weights have no time axis, so the one trained model
reads 2 values or 20 (`rnn_on_lengths`). A dense network cannot: its kernel has one row
per input value, so a network built for 5 values refuses 6 (`feed`), and the engine
refuses to build one for any length at all (`dense_any_length_refusal`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from core.layers import Dense, Flatten, SimpleRNN
from core.model import Sequential
from core.optimizers import SGD, Adam
from core.teaching.numbers import fmt

PHASES = ("forward", "loss", "backward", "update")
PHASE_TITLES = {"forward": "Forward through time", "loss": "Loss",
                "backward": "Backward through time", "update": "Update"}
PHASE_WORDS = {"forward": "Forward", "loss": "Loss", "backward": "Backward", "update": "Update"}
#: the length the network trains on; the length demo tries others
TRAIN_LENGTH = 5
DEMO_LENGTHS = (2, 5, 10, 20)
#: the walk-through's longest sequence (what fits on the screen unrolled)
MAX_LENGTH = 12
#: the lengths the "any length" demo feeds the one trained network
DEMO_RANGE = (2, 20)
#: sequence values are whole tenths in [-VALUE_RANGE, VALUE_RANGE], easy to add up by eye
VALUE_RANGE = 0.5
DEFAULT_UNITS = 2
WALK_LEARNING_RATE = 0.1
TRAIN_LEARNING_RATE = 0.02


def plain(x) -> str:
    """`fmt`'s 4 significant digits, but never in scientific notation (a beginner reads
    0.00001234, not 1.234e-05)."""
    s = fmt(x)
    if "e" not in s:
        return s
    v = float(x)
    if abs(v) >= 1:
        return f"{v:.0f}"
    decimals = 3 - math.floor(math.log10(abs(v)))
    return f"{v:.{decimals}f}"


def vec(values) -> str:
    """A short vector as the lesson writes it: [0.1234, -0.5678] (a single value bare)."""
    a = np.ravel(np.asarray(values, dtype=np.float64))
    if a.size == 1:
        return plain(a[0])
    return "[" + ", ".join(plain(v) for v in a) + "]"


def mat(values) -> str:
    """A small matrix row by row: [[0.8752, 0.252], [-0.0075, 0.9815]]."""
    a = np.atleast_2d(np.asarray(values, dtype=np.float64))
    return "[" + ", ".join(vec(row) if row.size > 1 else f"[{vec(row)}]" for row in a) + "]"


def _factor(x) -> str:
    s = vec(x)
    return f"({s})" if s.startswith("-") else s


# --- the task ------------------------------------------------------------------------------
def running_sum_data(n: int, length: int = TRAIN_LENGTH, seed: int = 0):
    """`n` sequences of `length` values (whole tenths in ±0.5) and each one's total.

    Returns x (n, length, 1) float32 and y (n, 1) float32."""
    longest = max(MAX_LENGTH, DEMO_RANGE[1])
    if length < 1 or length > longest:
        raise ValueError(f"a sequence here has 1 to {longest} steps, got {length}")
    rng = np.random.default_rng(seed)
    tenths = rng.integers(-int(VALUE_RANGE * 10), int(VALUE_RANGE * 10) + 1, (n, length, 1))
    x = (tenths / 10.0).astype(np.float32)
    return x, x.sum(axis=1).astype(np.float32)


def parse_sequence(text: str) -> np.ndarray:
    """A learner's sequence, "0.3, -0.1, 0.4" (commas or spaces): float32 (T,).

    Raises ValueError with a sentence saying what is wrong."""
    parts = [p for p in text.replace(",", " ").replace(";", " ").split() if p]
    if not parts:
        raise ValueError("Type a few numbers, for example 0.3, -0.1, 0.4.")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        bad = next(p for p in parts if not _is_number(p))
        raise ValueError(f"“{bad}” is not a number: type numbers separated by commas.") from None
    if len(values) > MAX_LENGTH:
        raise ValueError(f"At most {MAX_LENGTH} numbers fit on the screen; you typed "
                         f"{len(values)}.")
    if not all(math.isfinite(v) and abs(v) <= 10 for v in values):
        raise ValueError("Keep each number between -10 and 10.")
    return np.asarray(values, np.float32)


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


#: the input shape of a model that reads one number per step, any number of steps
ANY_LENGTH = (None, 1)


def make_model(units: int = DEFAULT_UNITS, length: int | None = None, seed: int = 0):
    """The lesson's network, compiled for training: SimpleRNN(units) → Dense(1), MSE, for
    sequences of any length (or of `length` steps only, if given)."""
    shape = ANY_LENGTH if length is None else (int(length), 1)
    model = Sequential([SimpleRNN(units), Dense(1)], input_shape=shape, seed=seed)
    model.compile(Adam(TRAIN_LEARNING_RATE), "mean_squared_error")
    return model


def any_length(weights, learning_rate: float = WALK_LEARNING_RATE):
    """A copy of the network with these weights, reading sequences of any length.

    A SimpleRNN's weights have no time axis, so one model with one set of weights serves
    every length: the model is built with input_shape=(None, 1)."""
    units = int(np.asarray(weights[1]).shape[0])
    model = Sequential([SimpleRNN(units), Dense(1)], input_shape=ANY_LENGTH, seed=0)
    model.set_weights([np.array(w, np.float32, copy=True) for w in weights])
    model.compile(SGD(learning_rate), "mean_squared_error")
    return model


# --- one training step, through time ----------------------------------------------------------
@dataclass
class TimeStep:
    """One number of the walk-through: the quantity, its value and how it was computed."""

    phase: str             # one of PHASES
    t: int | None          # time step, 1-based (None: not tied to one step)
    quantity: str          # "h₃", "∂L/∂h₂", …
    value: np.ndarray      # the number(s), from the trace
    formula: str           # the formula with the trace's numbers filled in
    where: str             # one line: what is being computed

    def value_text(self) -> str:
        return vec(self.value)


@dataclass
class Walk:
    """A training step on one sequence, from the engine's trace, ready to be walked."""

    sequence: np.ndarray          # (T,) x_t
    target: float
    hidden: np.ndarray            # (T, u) h_t
    grad_hidden: np.ndarray       # (T, u) ∂L/∂h_t (all paths)
    grad_z: np.ndarray            # (T, u) ∂L/∂z_t = ∂L/∂h_t · (1 − h_t²)
    weights: dict                 # kernel, recurrent_kernel, bias, out_kernel, out_bias
    grads: dict                   # the trace's gradients, same keys
    updates: dict                 # the trace's applied changes, same keys
    prediction: float
    loss: float
    learning_rate: float
    steps: list[TimeStep] = field(default_factory=list)

    @property
    def length(self) -> int:
        return int(self.sequence.shape[0])

    @property
    def units(self) -> int:
        return int(self.hidden.shape[1])

    def weight_grad_shares(self):
        """Each time step's share of ∂L/∂W, ∂L/∂U, ∂L/∂b: (T, 1, u), (T, u, u), (T, u).
        Their sums over time are the trace's gradients (the weights are shared)."""
        h_prev = np.vstack([np.zeros((1, self.units)), self.hidden[:-1]])
        x = self.sequence.astype(np.float64)
        dz = self.grad_z.astype(np.float64)
        return (x[:, None, None] * dz[:, None, :], h_prev[:, :, None] * dz[:, None, :], dz)


def walk_through(weights, sequence, target=None, learning_rate: float = WALK_LEARNING_RATE
                 ) -> Walk:
    """The engine's trace of one SGD step of the network `weights` on one `sequence`.

    `target` defaults to the sequence's sum (the task). The weights passed in are copied;
    the step's update is recorded, never applied to them."""
    seq = np.asarray(sequence, np.float32).reshape(-1)
    if not 1 <= seq.size <= MAX_LENGTH:
        raise ValueError(f"a sequence here has 1 to {MAX_LENGTH} steps, got {seq.size}")
    tgt = float(seq.sum()) if target is None else float(target)
    model = any_length(weights, learning_rate)
    trace = model.trace_step(seq.reshape(1, -1, 1), np.array([[tgt]], np.float32))
    rnn, out = trace.layers[0], trace.layers[1]
    hidden = rnn.extras["hidden_states"][0].astype(np.float64)           # (T, u)
    grad_hidden = rnn.extras["grad_hidden_states"][0].astype(np.float64)
    walk = Walk(
        sequence=seq, target=tgt, hidden=hidden, grad_hidden=grad_hidden,
        grad_z=grad_hidden * (1.0 - hidden ** 2),
        weights={**{k: rnn.params[k] for k in ("kernel", "recurrent_kernel", "bias")},
                 "out_kernel": out.params["kernel"], "out_bias": out.params["bias"]},
        grads={**{k: rnn.param_grads[k] for k in ("kernel", "recurrent_kernel", "bias")},
               "out_kernel": out.param_grads["kernel"], "out_bias": out.param_grads["bias"]},
        updates={**{k: rnn.updates[k] for k in ("kernel", "recurrent_kernel", "bias")},
                 "out_kernel": out.updates["kernel"], "out_bias": out.updates["bias"]},
        prediction=float(trace.y_pred.reshape(-1)[0]), loss=float(trace.loss),
        learning_rate=float(learning_rate))
    walk.steps = _forward_steps(walk, trace) + _backward_steps(walk, trace) + _update_steps(walk)
    return walk


def _sub(n: int) -> str:
    return str(int(n)).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def _forward_steps(w: Walk, trace) -> list[TimeStep]:
    W, U, b = (w.weights[k] for k in ("kernel", "recurrent_kernel", "bias"))
    steps = []
    for t in range(w.length):
        h_prev = w.hidden[t - 1] if t else np.zeros(w.units)
        z = w.sequence[t] * W[0].astype(np.float64) + h_prev @ U.astype(np.float64) + b
        n = t + 1
        steps.append(TimeStep(
            "forward", n, f"h{_sub(n)}", w.hidden[t],
            f"h{_sub(n)} = tanh(x{_sub(n)}·W + h{_sub(n - 1)}·U + b)\n"
            f"   = tanh({_factor(w.sequence[t])}·{vec(W)} + {vec(h_prev)}·{mat(U)} + {vec(b)})\n"
            f"   = tanh({vec(z)})\n   = {vec(w.hidden[t])}",
            f"Step {n} of {w.length}: the same W, U and b read x{_sub(n)} = "
            f"{plain(w.sequence[t])} and carry h{_sub(n - 1)} forward"))
    V, c = w.weights["out_kernel"], w.weights["out_bias"]
    T = w.length
    steps.append(TimeStep(
        "forward", None, "ŷ", np.array([w.prediction]),
        f"ŷ = h{_sub(T)}·V + c = {vec(w.hidden[-1])}·{vec(V)} + {vec(c)}\n"
        f"   = {plain(w.prediction)}",
        f"The Dense layer reads only the last hidden state h{_sub(T)}"))
    steps.append(TimeStep(
        "loss", None, "L", np.array([w.loss]),
        f"L = (ŷ − y)² = ({plain(w.prediction)} − {plain(w.target)})²\n   = {plain(w.loss)}",
        f"Squared error against the true total y = {plain(w.target)}"))
    return steps


def _backward_steps(w: Walk, trace) -> list[TimeStep]:
    T = w.length
    U = w.weights["recurrent_kernel"].astype(np.float64)
    V = w.weights["out_kernel"].astype(np.float64)
    dy = float(trace.grad_prediction.reshape(-1)[0])
    steps = [TimeStep(
        "backward", None, "∂L/∂ŷ", np.array([dy]),
        f"∂L/∂ŷ = 2(ŷ − y) = 2·({plain(w.prediction)} − {plain(w.target)})\n   = {plain(dy)}",
        "The gradient starts at the loss")]
    share_w, share_u, share_b = w.weight_grad_shares()
    for t in range(T - 1, -1, -1):
        n = t + 1
        if t == T - 1:
            how = (f"∂L/∂h{_sub(n)} = ∂L/∂ŷ · Vᵀ = {_factor(dy)}·{vec(V[:, 0])}\n"
                   f"   = {vec(w.grad_hidden[t])}")
        else:
            how = (f"∂L/∂h{_sub(n)} = ∂L/∂z{_sub(n + 1)} · Uᵀ = {vec(w.grad_z[t + 1])}·Uᵀ\n"
                   f"   = {vec(w.grad_hidden[t])}   (Uᵀ = {mat(U.T)})")
        steps.append(TimeStep(
            "backward", n, f"∂L/∂h{_sub(n)}", w.grad_hidden[t],
            how + f"\n∂L/∂z{_sub(n)} = ∂L/∂h{_sub(n)} · (1 − h{_sub(n)}²) = "
                  f"{vec(w.grad_z[t])}",
            f"Back through time to step {n}: the gradient reaches h{_sub(n)} "
            + ("from the output" if t == T - 1 else f"through U from step {n + 1}")))
        steps.append(TimeStep(
            "backward", n, "share of ∂L/∂W", share_w[t][0],
            f"x{_sub(n)} · ∂L/∂z{_sub(n)} = {_factor(w.sequence[t])}·{vec(w.grad_z[t])}\n"
            f"   = {vec(share_w[t][0])}\n"
            f"(and ∂L/∂b gets {vec(share_b[t])}, ∂L/∂U gets h{_sub(n - 1)}ᵀ·∂L/∂z{_sub(n)})",
            f"W was used at step {n} too, so step {n} adds its share to W's gradient"))
    steps.append(TimeStep(
        "backward", None, "∂L/∂W", w.grads["kernel"][0],
        "∂L/∂W = sum over every step's share = "
        + " + ".join(vec(s[0]) for s in share_w) + f"\n   = {vec(w.grads['kernel'][0])}",
        "One weight matrix, used at every step: its gradient is the sum through time"))
    return steps


def _show(a, as_factor=False) -> str:
    a = np.asarray(a)
    if a.ndim == 2 and min(a.shape) > 1:
        return mat(a)
    return _factor(a) if as_factor else vec(a)


def _update_steps(w: Walk) -> list[TimeStep]:
    names = (("kernel", "W"), ("recurrent_kernel", "U"), ("bias", "b"),
             ("out_kernel", "V"), ("out_bias", "c"))
    steps = []
    for key, sym in names:
        old, grad, upd = w.weights[key], w.grads[key], w.updates[key]
        new = old.astype(np.float64) + upd
        steps.append(TimeStep(
            "update", None, f"new {sym}", new.ravel(),
            f"{sym} ← {sym} − η·∂L/∂{sym} = {_show(old)} − {plain(w.learning_rate)}·"
            f"{_show(grad, True)}\n   = {_show(new)}",
            f"Gradient descent moves {sym} once: the same {sym} serves every time step"))
    return steps


# --- why not a dense network -------------------------------------------------------------------
@dataclass
class LengthResult:
    length: int
    ok: bool
    prediction: float | None
    message: str                 # the engine's own refusal, when it refuses


def dense_model(length: int = TRAIN_LENGTH, seed: int = 0):
    """A dense network for the same task: Flatten → Dense(1), one weight per input value."""
    model = Sequential([Flatten(), Dense(1)], input_shape=(int(length), 1), seed=seed)
    model.compile(SGD(0.1), "mean_squared_error")
    return model


def weight_shapes(model) -> list[tuple[str, tuple]]:
    """(layer.weight, shape) of every weight of `model`, in Keras order."""
    out = []
    for layer in model.layers:
        for name, value in layer.params.items():
            out.append((f"{layer.name}.{name}", tuple(value.shape)))
    return out


def feed(model, sequence) -> LengthResult:
    """`model.predict` on one sequence, or the engine's reason for refusing it."""
    seq = np.asarray(sequence, np.float32).reshape(1, -1, 1)
    try:
        pred = float(model.predict(seq).reshape(-1)[0])
    except ValueError as exc:
        return LengthResult(seq.shape[1], False, None, str(exc))
    return LengthResult(seq.shape[1], True, pred, "")


def rnn_on_lengths(weights, sequences) -> list[LengthResult]:
    """One model, with one set of RNN weights, fed sequences of different lengths."""
    model = any_length(weights)
    return [feed(model, s) for s in sequences]


def dense_any_length_refusal() -> str:
    """The engine's own words when asked for a dense network that reads any length: the
    Flatten before Dense needs to know how many values it flattens."""
    try:
        Sequential([Flatten(), Dense(1)], input_shape=ANY_LENGTH)
    except ValueError as exc:
        return str(exc)
    raise AssertionError("the engine built a dense network for sequences of any length")


def demo_sequences(seed: int = 4, lengths=DEMO_LENGTHS) -> list[np.ndarray]:
    return [running_sum_data(1, n, seed + k)[0].reshape(-1) for k, n in enumerate(lengths)]


__all__ = ["PHASES", "PHASE_TITLES", "PHASE_WORDS", "TRAIN_LENGTH", "DEMO_LENGTHS",
           "MAX_LENGTH",
           "TimeStep", "Walk", "LengthResult", "plain", "vec", "mat", "running_sum_data",
           "parse_sequence", "make_model", "any_length", "walk_through", "dense_model",
           "weight_shapes", "feed", "rnn_on_lengths", "dense_any_length_refusal",
           "demo_sequences", "ANY_LENGTH", "DEMO_RANGE"]
