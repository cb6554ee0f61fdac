"""Vanishing and exploding gradients (the course's tutorial 35): how big the gradient is at
every layer of a deep dense network and at every time step of an RNN.

Every number comes from the engine's own record of one training step
(`Sequential.trace_step` → `core.trace.StepTrace`): a Dense layer's weight gradient
‖∂L/∂W‖ and error signal ‖∂L/∂z‖, and a SimpleRNN's gradient arriving at each step's
hidden state ‖∂L/∂h_t‖ (`extras["grad_hidden_states"]`). This module only builds the
small networks, measures norms and words what they show; the lesson draws them.

Initial weights are Keras's own initialisers times a scale: Glorot-uniform kernels (and the
RNN's orthogonal recurrent kernel) ×0.5 ("small"), ×1 ("Glorot", Keras's default) or ×2
("large"). Each layer multiplies the backward signal by roughly (weight scale × slope of
the activation); ten layers or thirty time steps multiply that factor ten or thirty times.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.callbacks import Callback
from core.layers import Dense
from core.layers.recurrent import SimpleRNN, orthogonal
from core.model import Sequential
from core.optimizers import SGD
from core.teaching.numbers import fmt

ACTIVATIONS = ("sigmoid", "tanh", "relu")
#: multiplier of Keras's default initial weights
INIT_SCALES = {"small": 0.5, "Glorot": 1.0, "large": 2.0}
DEPTH, WIDTH, BATCH = 10, 32, 64
RNN_STEPS, RNN_UNITS = 30, 16
LOSS = "mean_squared_error"
#: a norm below this is shown as "0" (log scales have no zero)
TINY = 1e-30

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_of_ten(exponent: int) -> str:
    """-6 → "10⁻⁶": how the lesson writes orders of magnitude (no scientific notation)."""
    return "10" + str(int(exponent)).translate(_SUPERSCRIPT)


def readable(x: float) -> str:
    """A gradient size for a sentence: 4 significant digits between 0.001 and 10 000,
    otherwise "3.2 × 10⁻⁷" (never "3.2e-07")."""
    x = float(x)
    if not math.isfinite(x):
        return fmt(x)
    if x == 0.0:
        return "0"
    if 1e-3 <= abs(x) < 1e4:
        return fmt(x)
    exponent = math.floor(math.log10(abs(x)))
    mantissa = x / 10.0 ** exponent
    if round(abs(mantissa), 1) >= 10.0:       # 9.96 × 10⁻⁷ rounds up to 10 × 10⁻⁷
        mantissa, exponent = mantissa / 10.0, exponent + 1
    return f"{mantissa:.1f} × {power_of_ten(exponent)}"


def _scale(name: str) -> float:
    if name not in INIT_SCALES:
        raise ValueError(f"initial weights must be one of {', '.join(INIT_SCALES)}, "
                         f"got {name!r}")
    return INIT_SCALES[name]


def _probe_data(shape_x: tuple, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal inputs and regression targets: the same batch for every setting."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape_x).astype(np.float32)
    y = rng.standard_normal((shape_x[0], 1)).astype(np.float32)
    return x, y


# --- a deep dense network ------------------------------------------------------------
def deep_network(activation: str, init: str, depth: int = DEPTH, width: int = WIDTH,
                 seed: int = 0) -> Sequential:
    """`depth` Dense layers of `width` units with `activation`, then a linear Dense(1);
    kernels Glorot-uniform × the init scale, biases zero."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    gain = _scale(init)
    layers = [Dense(width, activation=activation) for _ in range(depth - 1)] + [Dense(1)]
    model = Sequential(layers, input_shape=(width,), seed=seed)
    model.compile(SGD(0.01), LOSS)
    model.set_weights([w * np.float32(gain) if w.ndim == 2 else w for w in model.get_weights()])
    return model


@dataclass
class LayerFlow:
    """The gradient sizes at every layer, first layer (nearest the input) first."""

    weight_grad: np.ndarray     # ‖∂L/∂W‖ per layer: how much each layer's weights move
    error_signal: np.ndarray    # ‖∂L/∂z‖ per layer: the backward signal arriving there
    loss: float

    def values(self, measure: str) -> np.ndarray:
        return self.weight_grad if measure == "weights" else self.error_signal


def layer_flow(trace) -> LayerFlow:
    """Norms per Dense layer of a StepTrace: weight gradients and error signals ∂L/∂z
    (∂L/∂output for a linear layer, where z is the output)."""
    weight, signal = [], []
    for rec in trace.layers:
        if "kernel" not in rec.param_grads:
            continue
        weight.append(_norm(rec.param_grads["kernel"]))
        dz = rec.grad_pre_activation if rec.grad_pre_activation is not None else rec.grad_output
        signal.append(_norm(dz))
    return LayerFlow(np.array(weight), np.array(signal), float(trace.loss))


def dense_gradients(activation: str, init: str, depth: int = DEPTH, width: int = WIDTH,
                    seed: int = 0) -> LayerFlow:
    """One traced training step of `deep_network` on a fixed batch."""
    model = deep_network(activation, init, depth, width, seed)
    x, y = _probe_data((BATCH, width), seed + 1)
    return layer_flow(model.trace_step(x, y))


# --- an RNN through time ---------------------------------------------------------------
def rnn_network(init: str, steps: int = RNN_STEPS, units: int = RNN_UNITS,
                seed: int = 0, learning_rate: float = 0.01,
                clipnorm: float | None = None) -> Sequential:
    """SimpleRNN(units) (tanh) reading (steps, 1) sequences, then Dense(1); the recurrent
    kernel is Keras's orthogonal one × the init scale (the factor each step multiplies by)."""
    gain = _scale(init)
    model = Sequential([SimpleRNN(units), Dense(1)], input_shape=(steps, 1), seed=seed)
    model.compile(SGD(learning_rate, clipnorm=clipnorm), LOSS)
    weights = model.get_weights()
    rng = np.random.default_rng(seed)
    weights[1] = orthogonal(rng, (units, units)) * np.float32(gain)
    model.set_weights(weights)
    return model


def step_flow(trace) -> np.ndarray:
    """‖∂L/∂h_t‖ for t = 1 … T from the first recurrent layer of a StepTrace."""
    for rec in trace.layers:
        grads = rec.extras.get("grad_hidden_states")
        if grads is not None:                                    # (N, T, units)
            return np.sqrt(np.sum(np.square(grads, dtype=np.float64), axis=(0, 2)))
    raise ValueError("the trace has no recurrent layer with gradients through time")


def rnn_gradients(init: str, steps: int = RNN_STEPS, units: int = RNN_UNITS,
                  seed: int = 0) -> np.ndarray:
    """One traced step of `rnn_network`; the loss reads only the last step's output, so
    every earlier step's gradient got there by travelling back through time."""
    model = rnn_network(init, steps, units, seed)
    x, y = _probe_data((BATCH, steps, 1), seed + 1)
    return step_flow(model.trace_step(x, y))


def _norm(a) -> float:
    return float(np.sqrt(np.sum(np.square(a, dtype=np.float64))))


# --- what the learner sees, in words ----------------------------------------------------
def _ratio_words(first: float, last: float) -> tuple[str, int]:
    """("10⁻⁶ of", -6) style wording of first / last, and its order of magnitude."""
    if last <= TINY or first <= TINY:
        return ("nothing of" if first <= TINY else "far more than"), -99 if first <= TINY else 99
    order = round(math.log10(first / last))
    if abs(order) < 2:
        return f"{readable(first / last)} times", order
    return f"about {power_of_ten(order)} of", order


def describe_layers(values: np.ndarray, what: str = "gradient") -> str:
    """One sentence on a per-layer profile (values[0] = layer 1, nearest the input)."""
    first, last = float(values[0]), float(values[-1])
    n = len(values)
    if not np.all(np.isfinite(values)):
        return f"The {what} overflowed to infinity: the network has exploded."
    words, order = _ratio_words(first, last)
    head = f"The {what} at layer 1 is {words} the one at layer {n}"
    if order <= -2:
        return f"{head}: it vanishes on the way back, and the first layers barely learn."
    if float(np.max(values)) >= 1e3:
        return (f"{head}, and the largest is {readable(np.max(values))}: the gradient "
                f"explodes, and one update throws the weights far away.")
    if order >= 2:
        return f"{head}: it grows on the way back and explodes in deeper networks."
    if float(np.max(values)) < 1e-2:
        return (f"{head}, but every layer's is below {readable(1e-2)}: it is small "
                f"everywhere, and the whole network learns slowly.")
    return f"{head}: it keeps its size on the way back, and every layer learns."


def describe_steps(values: np.ndarray) -> str:
    """One sentence on a per-time-step profile (values[0] = step 1, the oldest input)."""
    first, last = float(values[0]), float(values[-1])
    t = len(values)
    if not np.all(np.isfinite(values)):
        return "The gradient through time overflowed to infinity: it has exploded."
    words, order = _ratio_words(first, last)
    head = f"The gradient reaching step 1 is {words} the one at step {t}"
    if order <= -2:
        return f"{head}: the RNN cannot learn what it read long ago."
    if order >= 2:
        return (f"{head}: it explodes back through time (clip it, below); tanh's "
                f"saturation is the only brake.")
    return f"{head}: it keeps its size through time."


# --- exploding gradients and clipping -----------------------------------------------------
#: the clipping demonstration: large recurrent weights and a brisk learning rate
CLIP_INIT, CLIP_LEARNING_RATE, CLIP_NORM = "large", 0.1, 1.0
CLIP_EPOCHS, CLIP_BATCH = 15, 32


def memory_task(n: int = 256, steps: int = RNN_STEPS, seed: int = 0):
    """Sequences of small values (±0.1); the target is the sum of the first three, scaled to
    ±0.3 → ±3: the answer sits at the start, so its gradient must travel back 30 steps."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-0.1, 0.1, (n, steps, 1)).astype(np.float32)
    y = (x[:, :3, 0].sum(axis=1, keepdims=True) * 10.0).astype(np.float32)
    return x, y


def clipping_network(clipnorm: float | None, seed: int = 0) -> Sequential:
    return rnn_network(CLIP_INIT, seed=seed, learning_rate=CLIP_LEARNING_RATE,
                       clipnorm=clipnorm)


class UpdateSize(Callback):
    """Adds each batch's update size ‖w_after − w_before‖ over all weights to its logs
    ("update_size"): what clipping bounds (at most learning rate × clipnorm per tensor)."""

    def on_batch_begin(self, batch, logs=None):
        self._before = [w.copy() for w in self.model.get_weights()]

    def on_batch_end(self, batch, logs=None):
        if logs is None:
            return
        after = self.model.get_weights()
        total = sum(float(np.sum(np.square(a - b, dtype=np.float64)))
                    for a, b in zip(after, self._before))
        logs["update_size"] = math.sqrt(total)
