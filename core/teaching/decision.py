"""A model's decision over the input plane: what the playground's heat maps are drawn from.

For a network with two inputs, `decision_grid` evaluates it once on every point of a
regular grid over a square (or rectangle) of the plane and returns the output and every
hidden neuron's output at each point, all from one call to `model.layer_outputs`.

Grid convention (image-like, row = vertical position): ``output[j, i]`` is the value at
``(xs[i], ys[j])``, with ``ys`` rising, so row 0 is the bottom of the plane.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["DecisionGrid", "decision_grid", "grid_points", "neuron_layers"]


@dataclass
class DecisionGrid:
    """Values of a model over a grid of the plane.

    xs (R_x,), ys (R_y,) float32 coordinates; output (R_y, R_x, K) the model's output;
    hidden[l] (R_y, R_x, units_l) the outputs of the l-th layer of neurons before the
    last, in the order the data flows; hidden_names[l] the engine layer each came from.
    """

    xs: np.ndarray
    ys: np.ndarray
    output: np.ndarray
    hidden: list[np.ndarray] = field(default_factory=list)
    hidden_names: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.ys), len(self.xs))

    def probability(self) -> np.ndarray:
        """(R_y, R_x) probability of class 1: the single sigmoid unit, or softmax's column 1."""
        k = self.output.shape[-1]
        if k == 1:
            return self.output[..., 0]
        return self.output[..., 1]

    def neuron(self, layer: int, unit: int) -> np.ndarray:
        """(R_y, R_x) output of one hidden neuron."""
        return self.hidden[layer][..., unit]


def grid_points(x_range, y_range=None, resolution: int = 64):
    """(xs (R,), ys (R,), points (R·R, 2)) with points[j·R + i] = (xs[i], ys[j])."""
    resolution = int(resolution)
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2, got {resolution}")
    y_range = x_range if y_range is None else y_range
    (x0, x1), (y0, y1) = (tuple(map(float, x_range)), tuple(map(float, y_range)))
    if not (np.isfinite([x0, x1, y0, y1]).all() and x1 > x0 and y1 > y0):
        raise ValueError(f"ranges must be finite and increasing, got {x_range}, {y_range}")
    xs = np.linspace(x0, x1, resolution, dtype=np.float32)                   # (R,)
    ys = np.linspace(y0, y1, resolution, dtype=np.float32)                   # (R,)
    gx, gy = np.meshgrid(xs, ys, indexing="xy")                              # (R, R) each
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)                      # (R·R, 2)
    return xs, ys, np.ascontiguousarray(points, dtype=np.float32)


def neuron_layers(model) -> list[int]:
    """Indices of the layers whose outputs are the hidden neurons.

    A layer of neurons is whatever the next weighted layer (one with a kernel) receives:
    for ``Dense(4, activation="tanh")`` that is the Dense layer itself, for
    ``Dense(4), ReLU()`` it is the ReLU after it. The last weighted layer is the output.
    """
    weighted = [i for i, layer in enumerate(model.layers) if "kernel" in layer.params]
    return [i - 1 for i in weighted[1:]]


def decision_grid(model, x_range, y_range=None, resolution: int = 64) -> DecisionGrid:
    """Evaluate `model` (2 inputs) on a resolution × resolution grid of the plane."""
    if model.input_shape is not None and tuple(model.input_shape) != (2,):
        raise ValueError(f"the decision grid needs a model with 2 inputs, got input shape "
                         f"{tuple(model.input_shape)}")
    xs, ys, points = grid_points(x_range, y_range, resolution)
    outs = model.layer_outputs(points)
    ry, rx = len(ys), len(xs)

    def as_grid(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a.reshape(ry, rx, -1), dtype=np.float32)  # (R_y, R_x, U)

    idx = neuron_layers(model)
    return DecisionGrid(xs=xs, ys=ys, output=as_grid(outs[-1]),
                        hidden=[as_grid(outs[i]) for i in idx],
                        hidden_names=[model.layers[i].name for i in idx])
