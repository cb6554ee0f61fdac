"""One training step as the course writes it, layer by layer, with its record.

    forward    every layer in turn, each keeping what its backward will need
    loss       L and ∂L/∂ŷ; a softmax (or sigmoid) output with cross-entropy starts the
               backward pass from ∂L/∂z = (ŷ − y)/N, the two derivatives multiplied out
    backward   every layer from the last: ∂L/∂(its input), ∂L/∂(its parameters)
    check      a NaN or infinite loss or gradient refuses the step: weights stay as they were
    update     optimizer.apply(params, grads): w ← w − η·∂L/∂w for SGD
    record     every layer's arrays as a StepTrace (core/trace.py) for the lessons

`Sequential.trace_step` runs this; other steps go the way core.fast.plan chooses, which
computes the same numbers faster and keeps less. The pieces both share (the loss and its
gradient, the check and the update, the logs) are the functions below `train_step`.
"""
from __future__ import annotations

import numpy as np

from core import layers as layers_mod
from core import metrics as metrics_mod
from core.kernels import all_finite
from core.trace import LayerTrace, StepTrace

#: layers that are an activation function alone: their input is their pre-activation
ACTIVATION_LAYERS = (layers_mod.ReLU, layers_mod.Sigmoid, layers_mod.Tanh,
                     layers_mod.LeakyReLU, layers_mod.Softmax)


def train_step(model, x, y, sample_weight=None):
    """One forward, backward and update of `model` on (x, y): (logs, StepTrace)."""
    layers = model.layers

    # forward: each layer's input and output, kept for the record
    inputs, outputs = [], []
    h = x
    for layer in layers:
        inputs.append(h)
        h = layer.forward(h, training=True)
        outputs.append(h)
    y_pred = h

    # loss: per sample, and the gradient the backward pass starts from
    per_sample, grad, grad_pred, fused = loss_and_gradient(
        model, y, y_pred, sample_weight, keep_grad_pred=True)
    loss = mean64(per_sample)

    # backward: from the last layer to the first (chain rule)
    grads_out = [None] * len(layers)   # ∂L/∂(layer output), arriving from the right
    grads_in = [None] * len(layers)    # ∂L/∂(layer input), leaving to the left
    grad_pre = {}                      # ∂L/∂z where the loss fused with the output's f
    for i in range(len(layers) - 1, -1, -1):
        layer = layers[i]
        if fused and i == len(layers) - 1:
            grads_out[i] = grad_pred
            grad_pre[i] = grad
            grad = layer.backward_from_preactivation(grad)
        else:
            grads_out[i] = grad
            grad = layer.backward(grad)
        grads_in[i] = grad

    # check, then update: never write NaN/inf into the weights (nor into a frozen layer's)
    params, grads, owners, unchecked = parameters(layers, frozen_too=True)
    before = [p.copy() for p in params]
    applied = finite(loss, unchecked)
    updates = [np.zeros_like(p) for p in params]
    live = [k for k, (i, _) in enumerate(owners) if layers[i].trainable]
    if applied:
        applied_updates = model.optimizer.apply([params[k] for k in live], [grads[k] for k in live])
        for k, u in zip(live, applied_updates):
            updates[k] = u
    logs = step_logs(model, loss, applied, y, y_pred)

    trace = _record(model, x, y, y_pred, loss, per_sample, grad_pred, logs, inputs, outputs,
                    grads_out, grads_in, grad_pre, owners, before, grads, updates)
    return logs, trace


# --- the pieces every way of running a step shares ----------------------------------
def loss_and_gradient(model, y, y_pred, sample_weight, keep_grad_pred):
    """(per-sample losses, the gradient the backward pass starts from, ∂L/∂ŷ or None,
    fused). Fused: the loss merged with the last layer's output activation, so the
    gradient is ∂L/∂z of that layer's pre-activation. ∂L/∂ŷ is computed for the record
    only (keep_grad_pred) when the fused gradient makes it unnecessary."""
    loss = model.loss
    last = model.layers[-1]
    fused = (loss.fuses_with is not None and last.output_activation() == loss.fuses_with) or (
        loss_reads_logits(model))
    grad_pred = None
    if fused:
        per_sample, grad = loss.fused(y, last.preactivation())
        if keep_grad_pred:
            targets = loss.prepare_targets(y, y_pred.shape)
            grad_pred = loss.per_sample(targets, y_pred)[1]
    else:
        targets = loss.prepare_targets(y, y_pred.shape)
        per_sample, grad = loss.per_sample(targets, y_pred)
        grad_pred = grad
    if sample_weight is not None:
        w = sample_weight.reshape((-1,) + (1,) * (grad.ndim - 1))
        grad = grad * w
        per_sample = per_sample * sample_weight
        if grad_pred is not None and grad_pred is not grad:
            grad_pred = grad_pred * w
    return per_sample, grad, grad_pred, fused


def loss_reads_logits(model) -> bool:
    """Does the loss take the last layer's pre-activations although that layer applies
    another function? Keras does this for a cross-entropy after a sigmoid output (the
    course's tutorial 7): softmax cross-entropy of the sigmoid's inputs. Only the
    core.keras bridge asks for it (`Loss.logits_of`); the app's own models never do."""
    of = getattr(model.loss, "logits_of", None)
    return of is not None and model.layers[-1].output_activation() == of


def parameters(layers, frozen_too=False):
    """Every parameter a step updates with its gradient, its owner (layer index, key), and
    the gradients no backward kernel has already found finite (the only ones the check
    must read). A frozen layer's (trainable False) only with frozen_too, for the record."""
    params, grads, owners, unchecked = [], [], [], []
    for i, layer in enumerate(layers):
        if not (layer.trainable or frozen_too):
            continue
        checked = getattr(layer, "finite_grads", ())
        for key, p in layer.params.items():
            g = layer.grads[key]
            params.append(p)
            grads.append(g)
            owners.append((i, key))
            if key not in checked:
                unchecked.append(g)
    return params, grads, owners, unchecked


def finite(loss, gradients) -> bool:
    """May this step update the weights? A finite loss and finite gradients."""
    return bool(np.isfinite(loss)) and all_finite(*gradients)  # one pass, no temporaries


def step_logs(model, loss, applied, y, y_pred) -> dict:
    """A step's logs: its loss (inf when a finite loss came with a gradient that was
    not, so the step was refused) and metrics."""
    logs = {"loss": loss if applied or not np.isfinite(loss) else float("inf")}
    for m in model.metrics:
        logs[m] = accuracy_or_nan(y, y_pred)
    return logs


def mean64(a) -> float:
    """np.mean(a, dtype=float64), the same bits, without np.mean's Python layers."""
    return float(np.add.reduce(a, axis=None, dtype=np.float64)) / a.size


def accuracy_or_nan(y_true, y_pred) -> float:
    """Accuracy, or NaN when the predictions are no longer numbers: a diverged step must
    reach the NaN stop check and its stated reason, not fail inside a metric."""
    if not np.all(np.isfinite(y_pred)):
        return float("nan")
    return metrics_mod.accuracy(y_true, y_pred)


# --- the record ---------------------------------------------------------------------
def _record(model, x, y, y_pred, loss, per_sample, grad_pred, logs, inputs, outputs,
            grads_out, grads_in, grad_pre, owners, before, grads, updates) -> StepTrace:
    layers = model.layers
    per_layer = [dict(params={}, grads={}, updates={}) for _ in layers]
    for (i, key), b, g, u in zip(owners, before, grads, updates):
        per_layer[i]["params"][key] = b
        per_layer[i]["grads"][key] = g.copy()
        per_layer[i]["updates"][key] = np.asarray(u).copy()
    records = []
    for i, layer in enumerate(layers):
        extras = {k: (np.copy(v) if isinstance(v, np.ndarray) else v)
                  for k, v in layer.trace_extras().items()}
        pre = extras.pop("pre_activation", None)
        act = extras.pop("activation", None) or (
            layer.output_activation() if isinstance(layer, ACTIVATION_LAYERS) else None)
        if pre is None and isinstance(layer, ACTIVATION_LAYERS):
            pre = inputs[i].copy()
        gpre = grad_pre.get(i)
        if gpre is None and pre is not None:
            if isinstance(layer, ACTIVATION_LAYERS):
                gpre = grads_in[i]
            else:
                # ∂L/∂z = f'(z)·∂L/∂a, the same rule the layer's backward applied
                gpre = layer.activation.backward(pre, outputs[i], grads_out[i])
        records.append(LayerTrace(
            index=i, name=layer.name, class_name=type(layer).__name__,
            input=inputs[i].copy(), output=outputs[i].copy(),
            grad_output=np.copy(grads_out[i]), grad_input=np.copy(grads_in[i]),
            params=per_layer[i]["params"], param_grads=per_layer[i]["grads"],
            updates=per_layer[i]["updates"], activation=act,
            pre_activation=pre, grad_pre_activation=(
                None if gpre is None else np.copy(gpre)),
            extras=extras))
    return StepTrace(
        x=x.copy(), y_true=np.copy(y), y_pred=y_pred.copy(), loss=loss,
        per_sample_loss=np.asarray(per_sample).copy(), loss_name=model.loss.name,
        optimizer=model.optimizer.get_config(), layers=records,
        grad_prediction=np.copy(grad_pred), metrics={k: v for k, v in logs.items()
                                                      if k != "loss"})
