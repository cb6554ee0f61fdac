"""How a model's training step runs: the choice, kept per model state, and the fast ways.

Four ways, one set of numbers (tests compare them bit for bit):

    traced          core/step.py, the readable step: every layer's arrays kept as a record
    whole step      a dense softmax network trained in one compiled call (dense_step.py),
                    when its optimizer offers a rule the kernel applies (`fused_rule`)
    fused pairs     layer by layer, each Conv2D + MaxPool2D pair one kernel (conv_pool.py)
    layer by layer  one layer after the other, keeping nothing for a record

A step asked for its record goes the traced way; any other the whole step if it can,
else layer runs (fused pairs where the model has them). Predictions use the same runs.
What the layers and the loss allow is worked out again only when they change; the
optimizer is asked at every step (a lesson may change its settings between two).
"""
from __future__ import annotations

from core import step as step_mod
from core.fast.conv_pool import ConvPoolRun, plan_runs
from core.fast.dense_step import FusedDenseStep

TRACED, WHOLE_STEP, FUSED_PAIRS, LAYER_BY_LAYER = (
    "traced", "whole step", "fused pairs", "layer by layer")


class StepPlan:
    """The ways one model's steps and predictions run.

    `allow_whole_step = False` keeps this model off the whole-step kernel (benchmarks and
    tests use it to time and compare the layer runs).
    """

    __slots__ = ("allow_whole_step", "_whole_key", "_whole", "_runs_key", "_runs", "_first")

    def __init__(self):
        self.allow_whole_step = True
        self._whole_key = self._whole = None
        self._runs_key = self._runs = self._first = None

    # --- the choice -----------------------------------------------------------------
    def kind(self, model, record=False, weighted=False) -> str:
        """Which way a step of this model runs now: TRACED, WHOLE_STEP, FUSED_PAIRS or
        LAYER_BY_LAYER."""
        if record:
            return TRACED
        whole = None if weighted else self.whole_step(model)
        if whole is not None and whole.takes(model.optimizer):
            return WHOLE_STEP
        if any(type(run) is ConvPoolRun for run in self.runs(model.layers)):
            return FUSED_PAIRS
        return LAYER_BY_LAYER

    def whole_step(self, model) -> FusedDenseStep | None:
        """The whole-step kernel for the model's layers and loss, or None."""
        if not self.allow_whole_step:
            return None
        key = (tuple((id(lay), lay.built, lay.trainable) for lay in model.layers), id(model.loss))
        if key != self._whole_key:
            self._whole_key, self._whole = key, FusedDenseStep.plan(model)
        return self._whole

    def runs(self, layers) -> list:
        """The layers as steps outside a trace and predictions run them (fused pairs included)."""
        key = tuple((id(lay), lay.built, lay.input_shape, lay.trainable) for lay in layers)
        if key != self._runs_key:
            runs = plan_runs(layers)
            first = 0
            while first < len(runs) - 1 and not runs[first].updates_weights:
                first += 1
            self._runs_key, self._runs, self._first = key, runs, first
        return self._runs

    # --- running it -------------------------------------------------------------------
    def step(self, model, x, y, sample_weight=None, record=False):
        """One forward, backward and update the chosen way: (logs, StepTrace | None)."""
        if record:
            return step_mod.train_step(model, x, y, sample_weight)
        if sample_weight is None:
            whole = self.whole_step(model)
            done = None if whole is None else whole.run(model, x, y, bool(model.metrics))
            if done is not None:
                per_sample, y_pred, applied = done
                return step_mod.step_logs(model, step_mod.mean64(per_sample), applied,
                                          y, y_pred), None
        return self._layer_runs(model, x, y, sample_weight), None

    def _layer_runs(self, model, x, y, sample_weight) -> dict:
        """core/step.py's step without its record, through the runs: the same numbers."""
        runs = self.runs(model.layers)
        h = x
        for run in runs:
            h = run.forward(h, True)
        y_pred = h
        per_sample, grad, _, fused = step_mod.loss_and_gradient(
            model, y, y_pred, sample_weight, keep_grad_pred=False)
        loss = step_mod.mean64(per_sample)
        # Nothing reads the gradient reaching the input, so the backward pass stops at the
        # first run whose weights a step changes and skips its input gradient (a whole
        # matrix product: for a first Dense or Conv2D, the largest one). Frozen layers
        # before it (a transfer-learning base) cost no backward pass at all.
        first = self._first
        last = len(runs) - 1
        for j in range(last, first - 1, -1):
            if fused and j == last:
                grad = runs[j].backward_from_preactivation(grad, j != first)
            else:
                grad = runs[j].backward(grad, j != first)
        params, grads, _, unchecked = step_mod.parameters(model.layers)
        applied = step_mod.finite(loss, unchecked)
        if applied:
            model.optimizer.apply(params, grads, return_updates=False)
        return step_mod.step_logs(model, loss, applied, y, y_pred)
