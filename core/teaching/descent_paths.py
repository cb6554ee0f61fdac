"""Descent paths on the insurance loss surface: batch vs stochastic vs mini-batch (tutorial
14's picture) and the optimizer arena (plain SGD, momentum, Adam from one start).

The model is the course's insurance neuron, ŷ = σ(w1·age/100 + w2·affordability + b), with
the bias *held fixed* at its best value b*. The loss is then a function of exactly the two
drawn weights, so the contour map is the true loss of every point a path visits (not a
slice that goes stale while a third parameter moves), and the map's lowest point is the
best the full three-parameter neuron can do: with b = b* the best (w1, w2) is the overall
optimum's.

Each update's gradient is the course's formula ∂L/∂w = (1/B)·Σ(ŷ − y)·x over the B examples
of its batch; the update itself is the engine's optimizer (core.optimizers.SGD, Adam)
applied to that gradient, so the rules are the ones `Sequential.fit` uses. Every path
records its weights after each update, the loss there (on all the data, by the engine's
loss: the surface's own value), how many examples it had seen, and the compute time spent.
No Qt: the lesson only draws these arrays.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from core.optimizers import SGD, Adam, Optimizer
from core.teaching import surfaces
from core.teaching.numbers import fmt

#: where every path starts: the course notebook's w1 = w2 = 1
START = (surfaces.COURSE_START[0], surfaces.COURSE_START[1])


@dataclass(frozen=True)
class PlaneProblem:
    """The insurance neuron with its bias held at `bias`: a loss of (w1, w2) alone."""

    x: np.ndarray          # (N, 2) float32: [age / 100, affordability]
    y: np.ndarray          # (N,) float32: 1 = bought insurance
    bias: float

    def __len__(self) -> int:
        return len(self.y)

    def loss(self, w1, w2) -> np.ndarray:
        """Mean log loss on all the data at (w1, w2) (broadcast), by the engine."""
        return surfaces.neuron_log_loss(self.x, self.y, w1, w2, self.bias)

    def surface(self, w1_values, w2_values) -> np.ndarray:
        """Loss over the grid: array (len(w2_values), len(w1_values)), row i at w2[i]."""
        return surfaces.loss_surface(self.x, self.y, w1_values, w2_values, self.bias)

    def gradient(self, w, rows=None) -> np.ndarray:
        """(∂L/∂w1, ∂L/∂w2) of the mean log loss over the examples `rows` (all if None),
        float32: (1/B)·Σ(ŷ − y)·x — the course's formula."""
        x = self.x if rows is None else self.x[rows]                      # (B, 2)
        y = self.y if rows is None else self.y[rows]                      # (B,)
        w = np.asarray(w, np.float32)
        z = x @ w + np.float32(self.bias)                                  # (B,)
        y_hat = 1.0 / (1.0 + np.exp(-z))                                   # (B,)
        return ((y_hat - y) @ x / np.float32(len(y))).astype(np.float32)  # (2,)

    def minimum(self) -> tuple[float, float, float]:
        """(w1, w2, loss) at the bottom of this map."""
        w1, w2, loss = surfaces.slice_minimum(self.x, self.y, self.bias)
        return w1, w2, loss


def insurance_plane() -> PlaneProblem:
    """The course's 28-row insurance table with b held at the neuron's best bias."""
    data = surfaces.insurance_data()
    _w1, _w2, b, _loss = surfaces.insurance_optimum(data.x, data.y)
    return PlaneProblem(x=data.x, y=data.y, bias=float(b))


@dataclass
class DescentPath:
    """One run: where the weights were after each update.

    Row 0 of every array is the start (no update yet); row k is after update k.
    """

    key: str
    label: str             # "batch", "stochastic", "mini-batch 4", "SGD", …
    rule: str              # the update rule with its settings, for the legend's tooltip
    batch_size: int
    points: np.ndarray     # (U + 1, 2) float64: (w1, w2)
    losses: np.ndarray     # (U + 1,) loss on all the data at each point
    examples: np.ndarray   # (U + 1,) int: examples whose gradient was computed so far
    seconds: np.ndarray    # (U + 1,) compute time so far: updates × one update's measured time
    n_examples: int        # N, so examples / N is the epoch
    stop_reason: str | None = None

    @property
    def updates(self) -> int:
        return len(self.points) - 1

    def updates_done(self, examples_seen: float) -> int:
        """How many updates this run has made once `examples_seen` examples went by."""
        return int(np.searchsorted(self.examples, examples_seen, side="right")) - 1

    def epoch_at(self, update: int) -> float:
        return float(self.examples[update]) / self.n_examples


@dataclass
class PathSet:
    """The runs drawn together on one map, and the map's facts."""

    paths: list[DescentPath]
    problem: PlaneProblem
    start: tuple[float, float]
    minimum: tuple[float, float, float] = field(default=None)

    def __post_init__(self):
        if self.minimum is None:
            self.minimum = self.problem.minimum()

    @property
    def total_examples(self) -> int:
        return int(max(p.examples[-1] for p in self.paths))

    def events(self) -> np.ndarray:
        """Every distinct 'examples seen' count at which some run makes an update, sorted:
        stepping through these is stepping update by update."""
        return np.unique(np.concatenate([p.examples[1:] for p in self.paths]))

    def by_key(self, key: str) -> DescentPath:
        return next(p for p in self.paths if p.key == key)


def _batches(n: int, batch_size: int, epochs: int, seed: int):
    """Row indices of each update: every epoch a fresh shuffle (the same for every run with
    the same seed), cut into batches of `batch_size`, the last one possibly smaller —
    as `Sequential.fit` does. Batch descent (batch_size ≥ n) uses all rows in order."""
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(n)
        if batch_size >= n:
            yield np.arange(n)
            continue
        for lo in range(0, n, batch_size):
            yield order[lo:lo + batch_size]


def run_path(problem: PlaneProblem, optimizer: Optimizer, batch_size: int, epochs: int,
             start=START, seed: int = 0, key: str = "", label: str = "",
             rule: str = "", max_distance: float = 1e6) -> DescentPath:
    """Train (w1, w2) from `start` for `epochs` passes over the data with `optimizer`, one
    update per batch of `batch_size` examples; record every update.

    A run that blows up (weights beyond `max_distance` or not finite) stops there with a
    sentence in `stop_reason`, and the path keeps the points before it.
    """
    n = len(problem)
    batch_size = int(min(max(1, batch_size), n))
    w = np.array(start, np.float32)                                     # (2,) trained in place
    points, examples, durations = [w.astype(np.float64)], [0], []
    seen, stop = 0, None
    for rows in _batches(n, batch_size, epochs, seed):
        t0 = time.perf_counter()
        g = problem.gradient(w, rows)
        optimizer.apply([w], [g])
        durations.append(time.perf_counter() - t0)
        seen += len(rows)
        if not np.all(np.isfinite(w)) or float(np.max(np.abs(w))) > max_distance:
            stop = (f"{label or 'This run'} diverged after {len(points)} updates: the weights "
                    f"flew off the map. Choose a smaller learning rate.")
            break
        points.append(w.astype(np.float64))
        examples.append(seen)
    # one update of a given batch size costs the same every time; single timings of a few
    # microseconds are mostly noise (a garbage collection, a cache miss), so each update is
    # charged the median of all of them
    per_update = float(np.median(durations)) if durations else 0.0
    seconds = per_update * np.arange(len(points), dtype=np.float64)
    pts = np.asarray(points, np.float64)                                # (U + 1, 2)
    losses = np.asarray(problem.loss(pts[:, 0], pts[:, 1]), np.float64)  # (U + 1,)
    return DescentPath(key=key, label=label, rule=rule, batch_size=batch_size, points=pts,
                       losses=losses, examples=np.asarray(examples, np.int64),
                       seconds=seconds, n_examples=n,
                       stop_reason=stop)


def _lr(value: float) -> str:
    return f"η = {fmt(value)}"


def batch_variants(problem: PlaneProblem | None = None, learning_rate: float = 2.0,
                   mini_batch: int = 4, epochs: int = 30, start=START,
                   seed: int = 0) -> PathSet:
    """Tutorial 14's three ways, same start, same learning rate, same shuffles: batch
    (all N examples per update), stochastic (1) and mini-batch (`mini_batch`)."""
    problem = problem or insurance_plane()
    n = len(problem)
    mini_batch = int(min(max(2, mini_batch), n))
    runs = (("batch", "batch", n), ("sgd", "stochastic", 1),
            ("mini", f"mini-batch {mini_batch}", mini_batch))
    paths = [run_path(problem, SGD(learning_rate), bs, epochs, start, seed, key=key,
                      label=label, rule=f"w ← w − η·∂L/∂w over {bs} example"
                                        f"{'s' if bs > 1 else ''}, {_lr(learning_rate)}")
             for key, label, bs in runs]
    return PathSet(paths, problem, tuple(map(float, start)))


@dataclass(frozen=True)
class ArenaSettings:
    """The arena's three optimizers. Adam's step is about η in every direction whatever
    the gradient's size, so its η is on another scale than SGD's (as Keras's defaults,
    0.01 and 0.001, are)."""

    sgd_rate: float = 5.0
    momentum_rate: float = 5.0
    momentum: float = 0.9
    adam_rate: float = 0.5
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7


def optimizer_arena(problem: PlaneProblem | None = None, settings: ArenaSettings = ArenaSettings(),
                    updates: int = 80, start=START, batch_size: int | None = None,
                    seed: int = 0) -> PathSet:
    """Plain SGD, SGD with momentum and Adam from the same start on the same gradients:
    all the data per update (batch_size None), or the same shuffled mini-batches."""
    problem = problem or insurance_plane()
    n = len(problem)
    bs = n if batch_size is None else int(min(max(1, batch_size), n))
    per_epoch = math.ceil(n / bs)
    epochs = math.ceil(updates / per_epoch)
    s = settings
    runs = (
        ("sgd", "SGD", SGD(s.sgd_rate), f"w ← w − η·g, {_lr(s.sgd_rate)}"),
        ("momentum", "momentum", SGD(s.momentum_rate, momentum=s.momentum),
         f"v ← μ·v − η·g, w ← w + v, {_lr(s.momentum_rate)}, μ = {fmt(s.momentum)}"),
        ("adam", "Adam", Adam(s.adam_rate, s.beta_1, s.beta_2, s.epsilon),
         f"m ← β₁·m + (1−β₁)·g, v ← β₂·v + (1−β₂)·g², w ← w − η·m̂/(√v̂ + ε), "
         f"{_lr(s.adam_rate)}, β₁ = {fmt(s.beta_1)}, β₂ = {fmt(s.beta_2)}"),
    )
    paths = []
    for key, label, opt, rule in runs:
        path = run_path(problem, opt, bs, epochs, start, seed, key=key, label=label, rule=rule)
        _truncate(path, updates)
        paths.append(path)
    return PathSet(paths, problem, tuple(map(float, start)))


def _truncate(path: DescentPath, updates: int) -> None:
    """Keep the first `updates` updates (the last epoch may have run past them)."""
    k = min(updates, path.updates) + 1
    path.points, path.losses = path.points[:k], path.losses[:k]
    path.examples, path.seconds = path.examples[:k], path.seconds[:k]


def map_extent(path_set: PathSet, margin: float = 0.08,
               base=(-2.0, 16.0, -2.0, 6.0)) -> tuple[float, float, float, float]:
    """(w1_min, w1_max, w2_min, w2_max) covering `base`, the start, the bottom and every
    path point, with a margin."""
    pts = [np.asarray(path_set.start, np.float64)[None, :],
           np.asarray(path_set.minimum[:2], np.float64)[None, :]]
    pts += [p.points for p in path_set.paths]
    allp = np.vstack(pts)
    lo1, hi1, lo2, hi2 = base
    lo1, hi1 = min(lo1, allp[:, 0].min()), max(hi1, allp[:, 0].max())
    lo2, hi2 = min(lo2, allp[:, 1].min()), max(hi2, allp[:, 1].max())
    d1, d2 = (hi1 - lo1) * margin, (hi2 - lo2) * margin
    return lo1 - d1, hi1 + d1, lo2 - d2, hi2 + d2


@dataclass
class PathMapData:
    """Everything one map shows: the runs and the loss surface under them."""

    path_set: PathSet
    w1_values: np.ndarray   # (G,)
    w2_values: np.ndarray   # (G,)
    surface: np.ndarray     # (G, G): row i at w2_values[i], column j at w1_values[j]


def map_data(path_set: PathSet, grid: int = 121) -> PathMapData:
    """The surface over a grid covering the start, the bottom and every path point."""
    lo1, hi1, lo2, hi2 = map_extent(path_set)
    w1s, w2s = np.linspace(lo1, hi1, grid), np.linspace(lo2, hi2, grid)
    return PathMapData(path_set, w1s, w2s, path_set.problem.surface(w1s, w2s))


def variants_map(learning_rate: float = 2.0, mini_batch: int = 4, epochs: int = 30,
                 seed: int = 0) -> PathMapData:
    """The batch / stochastic / mini-batch map (what the lesson computes off the GUI thread)."""
    return map_data(batch_variants(None, learning_rate, mini_batch, epochs, seed=seed))


def arena_map(settings: ArenaSettings = ArenaSettings(), updates: int = 80,
              batch_size: int | None = None, seed: int = 0) -> PathMapData:
    """The optimizer arena's map (gradients over all the data, or over `batch_size`)."""
    return map_data(optimizer_arena(None, settings, updates, batch_size=batch_size, seed=seed))


__all__ = ["ArenaSettings", "DescentPath", "PathMapData", "PathSet", "PlaneProblem", "START",
           "arena_map", "batch_variants", "insurance_plane", "map_data", "map_extent",
           "optimizer_arena", "run_path", "variants_map"]
