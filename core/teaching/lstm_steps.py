"""The numbers behind the LSTM lesson (the course's tutorial 36).

`cell_walk(weights, sequence, t)`: one LSTM cell at time step t, stage by stage — the forget
gate f, the input gate i, the candidate c̃, the output gate o, the new cell state c and the
hidden state h — each with its formula and the formula again with the numbers in. The gate
values are the engine's own (`LSTM.trace_extras` after a traced step on a copy of the
network, so the learner's weights never move); the pre-activations written into the
formulas are x_t·W + h_{t−1}·U + b from the weights, the numbers a learner could redo.

The memory task: the first step carries a sign (±1, marked by a second input channel that
is 1 only there); every later step is noise. After `MEMORY_STEPS` steps the network must
say which sign came first. A SimpleRNN has to push that one bit through every noisy step;
an LSTM can close its input gate and keep it in the cell state with the forget gate near 1.
`memory_gradients` is the gradient ‖∂L/∂h_t‖ that reaches each step in one traced step.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.layers import LSTM, Dense, SimpleRNN
from core.model import Sequential
from core.optimizers import Adam
from core.teaching.gradient_flow import step_flow
from core.teaching.rnn_steps import vec

# --- one cell, step by step -------------------------------------------------------------------
CELL_UNITS = 2
DEFAULT_SEQUENCE = (0.5, -0.3, 0.8, 0.1)
#: Keras's gate order inside the kernel's 4u columns
GATE_BLOCKS = {"i": 0, "f": 1, "c̃": 2, "o": 3}


@dataclass(frozen=True)
class Stage:
    symbol: str             # "f", "i", "c̃", "o", "c", "h"
    name: str               # "forget gate"
    role: str               # one sentence: what it does
    formula: str            # symbolic
    numbers: str            # the same formula with this step's numbers
    value: np.ndarray       # (units,)


@dataclass(frozen=True)
class CellStep:
    t: int                  # 1-based
    x: np.ndarray           # (features,)
    h_prev: np.ndarray
    c_prev: np.ndarray
    stages: tuple[Stage, ...]

    def stage(self, symbol: str) -> Stage:
        return next(s for s in self.stages if s.symbol == symbol)


def cell_model(units: int = CELL_UNITS, seed: int = 0) -> Sequential:
    """LSTM(units) reading (T, 1) sequences, then Dense(1): the cell the lesson opens."""
    model = Sequential([LSTM(units), Dense(1)], input_shape=(len(DEFAULT_SEQUENCE), 1),
                       seed=seed)
    model.compile(Adam(0.01), "mean_squared_error")
    return model


def cell_record(weights, sequence) -> dict[str, np.ndarray]:
    """The engine's per-step record of one sequence through the LSTM: hidden states, cell
    states and the four gates, each (T, units) — from a traced step on a copy."""
    seq = np.asarray(sequence, np.float32).reshape(-1)
    units = int(np.asarray(weights[1]).shape[0])
    model = Sequential([LSTM(units), Dense(1)], input_shape=(len(seq), 1), seed=0)
    model.set_weights([np.array(w, np.float32, copy=True) for w in weights])
    model.compile(Adam(0.01), "mean_squared_error")
    trace = model.trace_step(seq.reshape(1, -1, 1), np.zeros((1, 1), np.float32))
    extras = trace.layers[0].extras
    return {k: np.asarray(v[0], np.float64) for k, v in extras.items()
            if k in ("hidden_states", "cell_states", "input_gate", "forget_gate", "candidate",
                     "output_gate")}


def cell_walks(weights, sequence) -> list[CellStep]:
    """Every time step of the LSTM reading `sequence` (one traced step for all of them)."""
    rec = cell_record(weights, sequence)
    return [cell_walk(weights, sequence, t, rec) for t in range(1, len(rec["hidden_states"]) + 1)]


def cell_walk(weights, sequence, t: int, record: dict | None = None) -> CellStep:
    """Step `t` (1-based) of the LSTM reading `sequence`, as six stages with numbers."""
    seq = np.asarray(sequence, np.float64).reshape(-1)
    if not 1 <= t <= len(seq):
        raise ValueError(f"time step {t} is outside the sequence's 1…{len(seq)}")
    rec = record if record is not None else cell_record(weights, seq)
    kernel, recurrent, bias = (np.asarray(w, np.float64) for w in weights[:3])
    m = recurrent.shape[0]
    x = seq[t - 1:t]
    h_prev = rec["hidden_states"][t - 2] if t > 1 else np.zeros(m)
    c_prev = rec["cell_states"][t - 2] if t > 1 else np.zeros(m)
    z = x @ kernel + h_prev @ recurrent + bias

    def pre(symbol):
        k = GATE_BLOCKS[symbol]
        return z[k * m:(k + 1) * m]

    f, i = rec["forget_gate"][t - 1], rec["input_gate"][t - 1]
    g, o = rec["candidate"][t - 1], rec["output_gate"][t - 1]
    c, h = rec["cell_states"][t - 1], rec["hidden_states"][t - 1]

    def gate(symbol, name, role, fn, value):
        sub = {"f": "f", "i": "i", "c̃": "c", "o": "o"}[symbol]
        return Stage(symbol, name, role,
                     f"{symbol} = {fn}(x_t·W_{sub} + h_(t−1)·U_{sub} + b_{sub})",
                     f"{symbol} = {fn}({vec(pre(symbol))}) = {vec(value)}", value)

    stages = (
        gate("f", "forget gate", "How much of the old cell state to keep (1 keeps all, "
             "0 forgets).", "σ", f),
        gate("i", "input gate", "How much of the new candidate to write into the cell.",
             "σ", i),
        gate("c̃", "candidate", "The new content the cell could store, between −1 and 1.",
             "tanh", g),
        gate("o", "output gate", "How much of the cell to show as the hidden state.", "σ", o),
        Stage("c", "cell state", "Keep f of the old memory, add i of the candidate.",
              "c_t = f · c_(t−1) + i · c̃",
              f"c_t = {vec(f)} · {vec(c_prev)} + {vec(i)} · {vec(g)} = {vec(c)}", c),
        Stage("h", "hidden state", "What the cell passes on: the output gate times "
              "tanh of the cell.", "h_t = o · tanh(c_t)",
              f"h_t = {vec(o)} · tanh({vec(c)}) = {vec(h)}", h),
    )
    return CellStep(t, x, h_prev, c_prev, stages)


# --- the memory task ---------------------------------------------------------------------------
MEMORY_STEPS = 30
MEMORY_UNITS = 8
MEMORY_SAMPLES = 2048
MEMORY_EPOCHS = 20
MEMORY_LEARNING_RATE = 0.01
MEMORY_NOISE = 2.0
#: a held-out set no training run uses
MEMORY_TEST_SEED = 10_000


def memory_data(n: int, seed: int = 0, steps: int = MEMORY_STEPS, noise: float = MEMORY_NOISE):
    """(n, steps, 2) sequences and (n, 1) labels: channel 0 is the sign (±1) at step 1 and
    noise (normal, spread `noise`) after it; channel 1 is 1 at step 1 only ("remember this").
    The label is 1 when the first sign was +1."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, steps, 2), np.float32)
    x[:, :, 0] = noise * rng.standard_normal((n, steps))
    label = rng.integers(0, 2, n)
    x[:, 0, 0] = np.where(label == 1, 1.0, -1.0)
    x[:, 0, 1] = 1.0
    return x, label.astype(np.float32).reshape(-1, 1)


def memory_model(kind: str, seed: int = 0, steps: int = MEMORY_STEPS,
                 units: int = MEMORY_UNITS) -> Sequential:
    """SimpleRNN or LSTM (same number of units) → Dense(1, sigmoid), Adam."""
    layer = {"SimpleRNN": SimpleRNN, "LSTM": LSTM}[kind](units)
    model = Sequential([layer, Dense(1, activation="sigmoid")], input_shape=(steps, 2),
                       seed=seed)
    model.compile(Adam(MEMORY_LEARNING_RATE), "binary_crossentropy")
    return model


def memory_accuracy(model, x, y) -> float:
    return float(np.mean((model.predict(x) > 0.5) == (y > 0.5)))


def memory_gradients(model, x, y) -> np.ndarray:
    """‖∂L/∂h_t‖ for t = 1 … T in one traced step on a copy (the model does not move): the
    loss reads only the last step, so what reaches step 1 travelled back through time."""
    layer = model.layers[0]
    copy = memory_model(type(layer).__name__, steps=x.shape[1], units=layer.units)
    copy.set_weights([np.array(w, copy=True) for w in model.get_weights()])
    return step_flow(copy.trace_step(x, y))


__all__ = ["Stage", "CellStep", "cell_model", "cell_record", "cell_walk", "cell_walks", "memory_data",
           "memory_model", "memory_accuracy", "memory_gradients", "MEMORY_STEPS"]
