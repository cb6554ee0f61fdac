"""The record of one training step: what every animation and the backprop stepper draw.

`Sequential.trace_step(x, y)` returns a StepTrace. Arrays are copies, so the record
stays true after training moves on. Naming follows the chain rule: for layer i,
`grad_output` = ∂L/∂(its output) arrives from the right, `grad_input` = ∂L/∂(its input)
leaves to the left, `param_grads[k]` = ∂L/∂(its parameter k).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class LayerTrace:
    index: int
    name: str
    class_name: str
    input: np.ndarray                       # (N, ...) what the layer received
    output: np.ndarray                      # (N, ...) what it passed on
    grad_output: np.ndarray                 # ∂L/∂output
    grad_input: np.ndarray                  # ∂L/∂input
    params: dict[str, np.ndarray]           # values used in the forward pass
    param_grads: dict[str, np.ndarray]      # ∂L/∂param
    updates: dict[str, np.ndarray]          # applied change: new − old
    activation: str | None = None           # name of f in output = f(pre_activation)
    pre_activation: np.ndarray | None = None
    grad_pre_activation: np.ndarray | None = None  # ∂L/∂z
    extras: dict = field(default_factory=dict)     # e.g. dropout "kept" mask, pool "argmax"

    @property
    def params_after(self) -> dict[str, np.ndarray]:
        return {k: v + self.updates[k] for k, v in self.params.items()}


@dataclass
class StepTrace:
    x: np.ndarray
    y_true: np.ndarray
    y_pred: np.ndarray
    loss: float
    per_sample_loss: np.ndarray
    loss_name: str
    optimizer: dict
    layers: list[LayerTrace]
    grad_prediction: np.ndarray              # ∂L/∂ŷ, as the loss alone defines it
    metrics: dict = field(default_factory=dict)

    def layer(self, name: str) -> LayerTrace:
        for rec in self.layers:
            if rec.name == name:
                return rec
        raise KeyError(name)
