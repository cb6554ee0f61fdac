"""Numbers behind the first four theory lessons (neuron, activations, losses, descent).

Everything here is computed by the engine itself (core.model, core.losses,
core.activations and the dense kernel), so what a lesson draws is what training computes.
No Qt: the lessons only draw these arrays.

The course's first neuron: age (scaled by 1/100, as the course does) and affordability
(0/1) → one sigmoid neuron → probability of buying insurance, trained with log loss
(binary cross-entropy) from w1 = w2 = 1, b = 0.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from core import activations as activations_mod
from core import losses as losses_mod
from core.data import load_insurance_course_table
from core.kernels.dense import dense_forward
from core.layers import Dense, Sigmoid
from core.model import Sequential
from core.optimizers import SGD
from core.teaching.numbers import fmt

#: the course divides age by 100 so both inputs are of similar size
AGE_SCALE = 100.0
#: where the course starts gradient descent: w1 = w2 = 1, b = 0
COURSE_START = (1.0, 1.0, 0.0)
#: the loss the notes' Tutorial 12 slide reports after its first forward pass, made from
#: weights "randomly selected"; the slide's weights live only in its picture
NOTES_LOSS = 4.3
#: a start on the course's own table whose log loss is the notes' 4.3 (4.300 to 4 digits):
#: weights far too large, so the neuron says "buys" for almost everyone and the people
#: who did not buy cost a lot. The notebook's gentler start w1 = w2 = 1, b = 0 gives 0.716.
NOTES_START = (13.0, 5.6, 2.0)

#: names as the loss lesson offers them, in the course's order of introduction
LOSS_NAMES = ("mean_absolute_error", "mean_squared_error", "binary_crossentropy",
              "categorical_crossentropy", "sparse_categorical_crossentropy")
ACTIVATION_NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "softmax")


# --- the insurance data ---------------------------------------------------------------
@dataclass(frozen=True)
class InsuranceData:
    """The course's 28-row table, as the neuron sees it."""

    age: np.ndarray            # (N,) years, as printed in the course's table
    affordability: np.ndarray  # (N,) 0 or 1
    x: np.ndarray              # (N, 2) float32: [age / 100, affordability]
    y: np.ndarray              # (N,) float32: 1 = bought insurance

    def __len__(self) -> int:
        return len(self.y)


def insurance_data() -> InsuranceData:
    table = load_insurance_course_table()
    age = table.x[:, 0].astype(np.float32)                                   # (N,)
    afford = table.x[:, 1].astype(np.float32)                                # (N,)
    x = np.stack([age / np.float32(AGE_SCALE), afford], axis=1).astype(np.float32)  # (N, 2)
    return InsuranceData(age=age, affordability=afford, x=np.ascontiguousarray(x),
                         y=table.y.astype(np.float32))


def _neuron_weights(w1, w2, b) -> list[np.ndarray]:
    return [np.array([[w1], [w2]], dtype=np.float32), np.array([b], dtype=np.float32)]


def make_neuron(w1: float = 1.0, w2: float = 1.0, b: float = 0.0,
                learning_rate: float = 0.5) -> Sequential:
    """The course's neuron as an engine model: Dense(1) then a sigmoid, log loss, plain SGD.

    The sigmoid is its own layer so `layer_outputs` hands back both z and ŷ; the engine
    still fuses it with binary cross-entropy exactly as Dense(1, activation="sigmoid").
    """
    model = Sequential([Dense(1), Sigmoid()], input_shape=(2,), name="insurance_neuron")
    model.compile(optimizer=SGD(learning_rate), loss="binary_crossentropy")
    model.set_weights(_neuron_weights(w1, w2, b))
    return model


def neuron_forward(x, w1: float, w2: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """(z, ŷ) for every row of x (N, 2): z = w1·x1 + w2·x2 + b, ŷ = σ(z), by the engine."""
    z, y_hat = make_neuron(w1, w2, b).layer_outputs(x)
    return z[:, 0], y_hat[:, 0]                                              # (N,), (N,)


def neuron_log_loss(x, y, w1, w2, b) -> np.ndarray:
    """Mean log loss of the neuron for many weight settings at once.

    w1, w2, b broadcast to one shape S; returns the loss for each, shape S. This is the
    loss training minimises and reports (the engine's sigmoid + binary cross-entropy
    fused on z), so a point of a descent path sits exactly on this surface.
    """
    w1, w2, b = np.broadcast_arrays(np.asarray(w1, np.float32), np.asarray(w2, np.float32),
                                    np.asarray(b, np.float32))
    shape = w1.shape
    kernel = np.stack([w1.ravel(), w2.ravel()], axis=0)                     # (2, G)
    # one Dense layer with a unit per weight setting: column g is z under setting g
    # b.ravel() copied: a view of a broadcast array would make NumPy warn in the kernel's check
    z = dense_forward(np.ascontiguousarray(x, np.float32), np.ascontiguousarray(kernel),
                      b.ravel().copy())                                      # (N, G)
    z = np.ascontiguousarray(z.T)                                          # (G, N)
    targets = np.ascontiguousarray(np.broadcast_to(np.asarray(y, np.float32), z.shape))
    per_setting, _ = losses_mod.get("binary_crossentropy").fused(targets, z)  # (G,)
    return np.asarray(per_setting, np.float64).reshape(shape)


def loss_surface(x, y, w1_values, w2_values, b: float) -> np.ndarray:
    """Log loss over the grid w1_values × w2_values at bias b: array (len(w2), len(w1)).

    Row i is w2 = w2_values[i], column j is w1 = w1_values[j] (image order: x across).
    """
    w1g, w2g = np.meshgrid(np.asarray(w1_values, np.float32), np.asarray(w2_values, np.float32))
    return neuron_log_loss(x, y, w1g, w2g, b)


def insurance_optimum(x=None, y=None, iterations: int = 50) -> tuple[float, float, float, float]:
    """(w1, w2, b, loss) at the bottom of the log-loss bowl, by Newton's method in float64.

    The lesson marks this point and measures how far a run still has to go.
    """
    if x is None or y is None:
        d = insurance_data()
        x, y = d.x, d.y
    xb = np.column_stack([np.asarray(x, np.float64), np.ones(len(x))])      # (N, 3)
    t = np.asarray(y, np.float64)                                           # (N,)
    w = np.array(COURSE_START, np.float64)                                  # (3,)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(xb @ w)))                                 # (N,)
        grad = xb.T @ (p - t) / len(t)                                      # (3,)
        hess = (xb * (p * (1.0 - p))[:, None]).T @ xb / len(t)              # (3, 3)
        step = np.linalg.solve(hess + 1e-12 * np.eye(3), grad)
        w -= step
        if np.max(np.abs(step)) < 1e-12:
            break
    loss = float(neuron_log_loss(x, y, w[0], w[1], w[2]))
    return float(w[0]), float(w[1]), float(w[2]), loss


def slice_minimum(x, y, b: float, iterations: int = 60) -> tuple[float, float, float]:
    """(w1, w2, loss) with the lowest log loss when the bias is held at b.

    The lesson's map is this slice; its "lowest loss here" marker must be the slice's own
    bottom, not the overall optimum (which needs another b and can sit on a yellow wall).
    Newton's method in float64 on the 2-D convex slice, from w1 = w2 = 0.
    """
    xs = np.asarray(x, np.float64)                                          # (N, 2)
    t = np.asarray(y, np.float64)                                           # (N,)
    w = np.zeros(2)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(xs @ w + b)))                             # (N,)
        grad = xs.T @ (p - t) / len(t)                                      # (2,)
        hess = (xs * (p * (1.0 - p))[:, None]).T @ xs / len(t)              # (2, 2)
        step = np.linalg.solve(hess + 1e-9 * np.eye(2), grad)
        # damped: far from the bottom a full Newton step can overshoot the flat walls
        scale = min(1.0, 5.0 / max(np.max(np.abs(step)), 1e-300))
        w -= scale * step
        if np.max(np.abs(step)) < 1e-12:
            break
    return float(w[0]), float(w[1]), float(neuron_log_loss(x, y, w[0], w[1], b))


# --- activations ----------------------------------------------------------------------
def activation_curve(name: str, z, alpha: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """(a, da/dz) of an element-wise activation at every z, from the engine's forward and
    backward (backward of an all-ones upstream gradient is the derivative itself)."""
    if name == "softmax":
        raise ValueError("softmax is not element-wise: use softmax_curve / softmax_jacobian")
    fn = activations_mod.LeakyReLUFn(alpha) if name == "leaky_relu" else activations_mod.get(name)
    if fn is None:
        raise ValueError(f"unknown activation {name!r}")
    z = np.ascontiguousarray(z, dtype=np.float32)                           # (G,)
    a = fn.forward(z)
    dadz = fn.backward(z, a, np.ones_like(z))
    return np.asarray(a), np.asarray(dadz)


def saturated_intervals(z, dadz, fraction: float = 0.1) -> list[tuple[float, float]]:
    """Stretches of z where da/dz < fraction · max(da/dz): where gradients vanish.

    Returned as [(start, end), ...] in z, each run of consecutive grid points below the
    threshold (ends at grid points; an interval can be a single point).
    """
    z = np.asarray(z, np.float64)
    d = np.asarray(dadz, np.float64)
    if z.shape != d.shape or z.ndim != 1:
        raise ValueError("z and dadz must be 1-D arrays of the same length")
    if len(z) == 0 or not np.any(np.isfinite(d)):
        return []
    low = d < fraction * np.nanmax(d)                                       # (G,)
    edges = np.diff(np.concatenate([[0], low.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return [(float(z[s]), float(z[e])) for s, e in zip(starts, ends)]


def softmax_outputs(logits) -> np.ndarray:
    """softmax of one logit vector (C,) → probabilities (C,), by the engine."""
    z = np.ascontiguousarray(np.asarray(logits, np.float32)[None, :])      # (1, C)
    return activations_mod.get("softmax").forward(z)[0]


def softmax_jacobian(logits) -> np.ndarray:
    """J[i, j] = ∂a_i/∂z_j of the softmax at `logits` (C,), by the engine's backward:
    an upstream gradient of e_i gives row i of the Jacobian."""
    z = np.asarray(logits, np.float32)
    c = len(z)
    zz = np.ascontiguousarray(np.tile(z, (c, 1)))                           # (C, C)
    fn = activations_mod.get("softmax")
    a = fn.forward(zz)
    eye = np.eye(c, dtype=np.float32)
    # backward returns Jᵀ·e_i; the softmax Jacobian is symmetric, so this is row i too
    return np.asarray(fn.backward(zz, a, eye))


def softmax_curve(logits, index: int, z_values) -> tuple[np.ndarray, np.ndarray]:
    """a_index and ∂a_index/∂z_index as z_index sweeps z_values, the other logits fixed."""
    base = np.asarray(logits, np.float32)
    if not 0 <= index < len(base):
        raise ValueError(f"index must be in 0..{len(base) - 1}, got {index}")
    z_values = np.asarray(z_values, np.float32)
    zz = np.tile(base, (len(z_values), 1))                                  # (G, C)
    zz[:, index] = z_values
    fn = activations_mod.get("softmax")
    a = fn.forward(np.ascontiguousarray(zz))                               # (G, C)
    upstream = np.zeros_like(zz)
    upstream[:, index] = 1.0
    grad = fn.backward(zz, a, upstream)                                     # (G, C) row g: J[index, :]
    return a[:, index].copy(), grad[:, index].copy()


# --- losses ---------------------------------------------------------------------------
def _two_class(p: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.stack([1.0 - p, p], axis=-1).astype(np.float32))  # (N, 2)


def per_sample_losses(loss_name: str, y_true, y_prob) -> tuple[np.ndarray, float]:
    """Per-sample losses and their mean for binary labels y_true (N,) and predicted
    probabilities of class 1, y_prob (N,), as the engine computes them.

    For the categorical losses the prediction becomes [1 − ŷ, ŷ] and the label one-hot
    [1 − y, y] (categorical) or the class id y (sparse): on two classes they equal
    binary cross-entropy, only the label format differs.
    """
    loss = losses_mod.get(loss_name)
    y_true = np.asarray(y_true, np.float32)
    p = np.asarray(y_prob, np.float32)
    if y_true.shape != p.shape or y_true.ndim != 1:
        raise ValueError("y_true and y_prob must be 1-D arrays of the same length")
    if loss.name == "categorical_crossentropy":
        targets, preds = _two_class(y_true), _two_class(p)
    elif loss.name == "sparse_categorical_crossentropy":
        targets, preds = y_true.astype(np.int64), _two_class(p)
    else:
        targets, preds = y_true[:, None], p[:, None]
    per = np.asarray(loss.per_sample(loss.prepare_targets(targets, preds.shape), preds)[0],
                     np.float64)
    return per, float(np.mean(per)) if len(per) else float("nan")


def class_probabilities(p_true, true_class: int, n_classes: int) -> np.ndarray:
    """Rows of probabilities with p_true on `true_class` and the rest shared equally."""
    p = np.clip(np.atleast_1d(np.asarray(p_true, np.float64)), 0.0, 1.0)  # (G,)
    if n_classes < 2 or not 0 <= true_class < n_classes:
        raise ValueError(f"true_class must be in 0..{n_classes - 1} with ≥ 2 classes")
    out = np.repeat(((1.0 - p) / (n_classes - 1))[:, None], n_classes, axis=1)  # (G, C)
    out[:, true_class] = p
    return out.astype(np.float32)


def loss_curve(loss_name: str, y_true: float, predictions, n_classes: int = 3) -> np.ndarray:
    """The loss of one sample as its prediction sweeps `predictions`, by the engine.

    MAE, MSE, binary CE: y_true is the target and each prediction is ŷ.
    Categorical / sparse CE: y_true is the true class id; each prediction is the
    probability given to it, the other classes sharing the rest equally.
    """
    loss = losses_mod.get(loss_name)
    preds = np.asarray(predictions, np.float32)                             # (G,)
    if loss.name in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        k = int(y_true)
        probs = class_probabilities(preds, k, n_classes)                   # (G, C)
        if loss.name == "categorical_crossentropy":
            targets = np.zeros_like(probs)
            targets[:, k] = 1.0
        else:
            targets = np.full(len(preds), k, np.int64)
        per = loss.per_sample(loss.prepare_targets(targets, probs.shape), probs)[0]
    else:
        targets = np.full((len(preds), 1), y_true, np.float32)
        p = np.ascontiguousarray(preds[:, None])
        per = loss.per_sample(loss.prepare_targets(targets, p.shape), p)[0]
    return np.asarray(per, np.float64)


# --- gradient descent on the neuron ----------------------------------------------------
@dataclass
class DescentStep:
    """What one full-batch step did."""

    epoch: int
    before: tuple[float, float, float]
    after: tuple[float, float, float]
    gradient: tuple[float, float, float]     # ∂L/∂w1, ∂L/∂w2, ∂L/∂b at `before`
    loss_before: float
    loss_after: float
    stop_reason: str | None = None


@dataclass
class NeuronDescent:
    """The course's neuron trained one full-batch epoch at a time by the engine.

    `path[k]` are the weights after k epochs and `losses[k]` the log loss there (the
    same function as the surface). SGD without momentum keeps no state, so `back()`
    undoes a step exactly.
    """

    learning_rate: float = 0.5
    start: tuple[float, float, float] = COURSE_START
    data: InsuranceData = field(default_factory=insurance_data)

    def __post_init__(self):
        self.model = make_neuron(*self.start, learning_rate=self.learning_rate)
        self.reset()

    # --- state ------------------------------------------------------------------------
    def reset(self) -> None:
        self.model.set_weights(_neuron_weights(*self.start))
        self.path: list[tuple[float, float, float]] = [tuple(map(float, self.start))]
        self.losses: list[float] = [self.loss_at(*self.start)]
        self.gradients: list[tuple[float, float, float]] = []
        self.stop_reason: str | None = None

    @property
    def epoch(self) -> int:
        return len(self.path) - 1

    @property
    def weights(self) -> tuple[float, float, float]:
        return self.path[-1]

    def loss_at(self, w1, w2, b) -> float:
        return float(neuron_log_loss(self.data.x, self.data.y, w1, w2, b))

    def set_start(self, start: tuple[float, float, float]) -> None:
        """Begin again from other weights (the path so far is dropped)."""
        self.start = tuple(map(float, start))
        self.reset()

    def set_learning_rate(self, learning_rate: float) -> None:
        """Takes effect from the next step (the path so far stays)."""
        self.model.optimizer = SGD(learning_rate)
        self.learning_rate = self.model.optimizer.learning_rate

    # --- stepping -----------------------------------------------------------------------
    def step(self) -> DescentStep:
        """One epoch = one full-batch gradient step w ← w − η·∂L/∂w, by `fit`."""
        before = self.weights
        if self.stop_reason is not None:
            return DescentStep(self.epoch, before, before, (0.0, 0.0, 0.0),
                               self.losses[-1], self.losses[-1], self.stop_reason)
        x, y = self.data.x, self.data.y
        hist = self.model.fit(x, y, epochs=1, batch_size=len(x), shuffle=False)
        kernel, bias = self.model.get_weights()
        after = (float(kernel[0, 0]), float(kernel[1, 0]), float(bias[0]))
        grads = self.model.layers[0].grads
        gradient = (float(grads["kernel"][0, 0]), float(grads["kernel"][1, 0]),
                    float(grads["bias"][0]))
        loss_before = float(hist.history["loss"][0]) if hist.history.get("loss") else math.nan
        if hist.stop_reason is not None and after == before:
            # the engine refused the step (NaN/inf) and kept the weights: stay put
            self.stop_reason = hist.stop_reason
            return DescentStep(self.epoch, before, before, gradient, self.losses[-1],
                               self.losses[-1], self.stop_reason)
        self.path.append(after)
        self.gradients.append(gradient)
        self.losses.append(self.loss_at(*after))
        # a step taken, after which fit found the loss diverging: the next ones are not
        self.stop_reason = hist.stop_reason
        return DescentStep(self.epoch, before, after, gradient, loss_before, self.losses[-1],
                           self.stop_reason)

    def gradient_at(self, w1: float, w2: float, b: float) -> tuple[float, float, float]:
        """(∂L/∂w1, ∂L/∂w2, ∂L/∂b) of the full-batch log loss at these weights, from the
        engine's backward pass on a throwaway copy of the neuron (nothing here moves)."""
        trace = make_neuron(w1, w2, b, self.learning_rate).trace_step(self.data.x, self.data.y)
        g = trace.layers[0].param_grads
        return (float(g["kernel"][0, 0]), float(g["kernel"][1, 0]), float(g["bias"][0]))

    def next_gradient(self) -> tuple[float, float, float]:
        """The gradient the next step will follow (at the current weights)."""
        return self.gradient_at(*self.weights)

    def back(self) -> bool:
        """Undo the last step; False at the start."""
        if len(self.path) <= 1:
            return False
        self.path.pop()
        self.losses.pop()
        self.gradients.pop()
        self.stop_reason = None
        self.model.set_weights(_neuron_weights(*self.path[-1]))
        return True

    def path_array(self) -> np.ndarray:
        return np.asarray(self.path, np.float64)                            # (K + 1, 3)


#: verdict kinds, from best to worst; the lesson colours its message by these
VERDICTS = ("start", "downhill", "converged", "crawling", "overshoot", "diverging", "stopped")


def descent_verdict(losses, learning_rate: float, best_loss: float,
                    stop_reason: str | None = None, tolerance: float = 1e-3,
                    window: int = 10,
                    start_text: str = "the course's start w1 = w2 = 1, b = 0") -> tuple[str, str]:
    """(kind, sentence) describing how a run of gradient descent is going.

    Judged over the last `window` epochs so the message does not flicker while the loss
    bounces. kinds: "stopped" (the engine stopped training), "diverging" (the loss was
    recently worse than at the start), "overshoot" (some recent step went uphill),
    "converged" (within `tolerance` of the best loss), "crawling" (going down, but at
    this pace the bottom is more than 300 epochs away), "downhill", "start".
    """
    lr = fmt(learning_rate)
    if stop_reason:
        return "stopped", stop_reason
    losses = [float(v) for v in losses]
    if len(losses) < 2:
        first = (f"loss {fmt(losses[0])} at {start_text}. "
                 if losses else "")
        return "start", f"Start: {first}Press Step or Play."
    start, prev, last = losses[0], losses[-2], losses[-1]
    epochs = len(losses) - 1
    if not math.isfinite(last):
        return "diverging", (f"Diverged: the loss is no longer a finite number after epoch "
                             f"{epochs}. Reset and choose a smaller learning rate than {lr}.")
    recent = losses[-(window + 1):]
    # float32 rounding makes a settled loss wobble in its last digits: not a step uphill
    ups = sum(b > a + 1e-6 * max(1.0, abs(a)) for a, b in zip(recent, recent[1:]))
    if max(recent[1:]) > start:
        return "diverging", (
            f"Diverging: the loss ({fmt(last)}) has been worse than where it started "
            f"({fmt(start)}). With learning rate {lr} each step jumps across the valley and "
            f"lands higher up the other side. Reset and choose a smaller learning rate.")
    if max(recent) - best_loss <= tolerance:
        return "converged", (f"Converged: loss {fmt(last)} is within {fmt(tolerance)} of the best "
                             f"possible ({fmt(best_loss)}) after {epochs} epochs.")
    if ups:
        return "overshoot", (
            f"Overshooting: the loss went uphill in {ups} of the last {len(recent) - 1} "
            f"epochs (now {fmt(last)}). Learning rate {lr} jumps past the bottom of the "
            f"valley; a smaller rate walks down smoothly.")
    gain = prev - last
    remaining = last - best_loss
    if epochs >= 5 and (gain <= 0 or remaining / gain > 300):
        more = "many" if gain <= 0 else f"{remaining / gain:,.0f}"
        return "crawling", (
            f"Crawling: the last epoch lowered the loss by only {fmt(gain, 2)}. At this pace the "
            f"best loss ({fmt(best_loss)}) is at least {more} epochs away: learning rate {lr} "
            f"is too small.")
    return "downhill", (f"Going downhill: loss {fmt(prev)} → {fmt(last)} in epoch {epochs} "
                        f"(best possible {fmt(best_loss)}).")


def path_extent(path, base=(-4.0, 18.0, -4.0, 8.0), margin: float = 0.08) -> tuple[float, float, float, float]:
    """(w1_min, w1_max, w2_min, w2_max) covering `base` and every point of `path` (K, ≥2),
    with a margin, so a run that flies off the default map is still drawn on it."""
    lo1, hi1, lo2, hi2 = map(float, base)
    p = np.asarray(path, np.float64)
    if p.size:
        finite = p[np.all(np.isfinite(p[:, :2]), axis=1)]
        if len(finite):
            lo1, hi1 = min(lo1, finite[:, 0].min()), max(hi1, finite[:, 0].max())
            lo2, hi2 = min(lo2, finite[:, 1].min()), max(hi2, finite[:, 1].max())
    d1, d2 = (hi1 - lo1) * margin, (hi2 - lo2) * margin
    if (lo1, hi1, lo2, hi2) == tuple(map(float, base)):
        return lo1, hi1, lo2, hi2
    return lo1 - d1, hi1 + d1, lo2 - d2, hi2 + d2


__all__ = [
    "ACTIVATION_NAMES", "AGE_SCALE", "COURSE_START", "DescentStep", "InsuranceData",
    "LOSS_NAMES", "NOTES_LOSS", "NOTES_START", "NeuronDescent", "VERDICTS", "activation_curve", "class_probabilities",
    "descent_verdict", "insurance_data", "insurance_optimum", "loss_curve", "loss_surface",
    "make_neuron", "neuron_forward", "neuron_log_loss", "path_extent", "per_sample_losses",
    "saturated_intervals", "slice_minimum", "softmax_curve", "softmax_jacobian", "softmax_outputs",
]
