"""The numbers one diagram shows: values, gradients and weights per column (no Qt here).

A `Snapshot` is taken once per `set_input` / `set_trace`; animation frames only choose
which of its numbers are visible, so stepping never recomputes anything. Values come
from the engine's public calls (`model.layer_outputs(x, pre_activations=True)`,
`model.weights_snapshot()`, the StepTrace); the only arithmetic here is what a formula on
screen needs to be written out (z = Σ w·x + b of one unit).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core import activations as act_mod
from gui.widgets.diagram.layout import Column


@dataclass
class Snapshot:
    columns: list[Column]
    x: np.ndarray | None = None                       # the sample's input, flat
    values: list = field(default_factory=list)        # per column: flat values or None
    maps: dict = field(default_factory=dict)          # block column → (H, W, C) array
    pre: dict = field(default_factory=dict)           # column → z (flat)
    grad_a: dict = field(default_factory=dict)        # column → ∂L/∂a (flat)
    grad_z: dict = field(default_factory=dict)        # column → ∂L/∂z (flat)
    params: dict = field(default_factory=dict)        # layer → {"kernel", "bias"} used forward
    params_after: dict = field(default_factory=dict)  # layer → after the update
    grads: dict = field(default_factory=dict)         # layer → {"kernel", "bias"} (batch)
    masks: dict = field(default_factory=dict)         # column → kept mask (bool, flat)
    dropout_rates: dict = field(default_factory=dict)  # column → rate
    trace: object = None
    sample: int = 0
    batch: int = 1
    loss_name: str | None = None
    loss: float | None = None                          # batch mean
    sample_loss: float | None = None
    y_true: object = None                              # the sample's target
    fused_output: bool = False                         # ∂L/∂z of the output = (ŷ − y)/N

    @property
    def has_values(self) -> bool:
        return self.x is not None

    @property
    def has_trace(self) -> bool:
        return self.trace is not None

    def input_of(self, k: int) -> np.ndarray | None:
        """Values entering column k (the previous column's output)."""
        return None if k == 0 else self.values[k - 1]


def _dz_from_da(activation: str | None, z, a, da) -> np.ndarray:
    """∂L/∂z for one sample through the engine's own activation backward."""
    fn = act_mod.get(activation)
    if fn is None:
        return np.asarray(da, np.float32)
    z2, a2, da2 = (np.asarray(v, np.float32).reshape(1, -1) for v in (z, a, da))
    return np.asarray(fn.backward(z2, a2, da2), np.float32).ravel()


def _row(arr, sample: int):
    """One sample of a recorded array, flat; None when the step did not record it."""
    return None if arr is None else np.asarray(arr[sample]).ravel()


def _put(d: dict, k: int, value) -> None:
    if value is not None:
        d[k] = value


def weights_of(model) -> dict:
    """{layer index: {"kernel": ..., "bias": ...}} for the layers with parameters (copies,
    taken between two training steps)."""
    return {i: params for i, params in enumerate(model.weights_snapshot()) if params}


def weight_of(model, layer: int, param: str, index: tuple) -> float:
    """One weight or bias as it stands between two training steps (a worker thread may be
    in the middle of an update: the value is read under the model's lock)."""
    return float(model.weights_snapshot()[layer][param][tuple(index)])


def empty_snapshot(columns, model) -> Snapshot:
    snap = Snapshot(columns=columns, values=[None] * len(columns))
    if model is not None:
        snap.params = weights_of(model)
        for col in columns:
            if col.kind == "dropout":
                snap.dropout_rates[col.index] = getattr(model.layers[col.out_layer], "rate", 0.0)
    return snap


def snapshot_from_input(model, columns, x_one) -> Snapshot:
    snap = empty_snapshot(columns, model)
    x = np.asarray(x_one, np.float32)
    if x.shape != tuple(model.input_shape):
        if x.size != int(np.prod(model.input_shape)):
            raise ValueError(f"the model expects one input of shape {model.input_shape}, "
                             f"got {x.shape}")
        x = x.reshape(model.input_shape)
    pairs = model.layer_outputs(x[None], pre_activations=True)  # (output, z) per layer
    outs = [out for out, _ in pairs]
    snap.x = x.ravel()
    for col in columns:
        k = col.index
        if k == 0:
            snap.values[0] = snap.x if not col.layers else outs[col.out_layer][0].ravel()
            continue
        out = outs[col.out_layer][0]
        snap.values[k] = out.ravel()
        if col.kind == "block":
            snap.maps[k] = out
        if col.param_layer is not None and col.kind == "dense":
            if col.act_layer is not None:
                snap.pre[k] = outs[col.param_layer][0].ravel()
            elif col.activation not in (None, "linear"):
                snap.pre[k] = pairs[col.param_layer][1][0].ravel()  # z = x·W + b, the layer's
            else:
                snap.pre[k] = snap.values[k]
        elif col.kind == "activation":
            snap.pre[k] = snap.values[k - 1]
    return snap


def snapshot_from_trace(trace, columns, sample: int = 0, model=None, specs=None) -> Snapshot:
    snap = empty_snapshot(columns, model)
    n = len(trace.x)
    if not 0 <= sample < n:
        raise ValueError(f"sample must be in 0…{n - 1}, got {sample}")
    snap.trace, snap.sample, snap.batch = trace, int(sample), n
    recs = trace.layers
    snap.x = np.asarray(trace.x[sample], np.float32).ravel()
    for rec in recs:
        if rec.params:
            snap.params[rec.index] = {k: v.copy() for k, v in rec.params.items()}
            snap.params_after[rec.index] = {k: v.copy() for k, v in rec.params_after.items()}
            snap.grads[rec.index] = {k: v.copy() for k, v in rec.param_grads.items()}
    for col in columns:
        k = col.index
        if k == 0:
            snap.values[0] = snap.x if not col.layers else recs[col.out_layer].output[sample].ravel()
            continue
        out_rec = recs[col.out_layer]
        snap.values[k] = out_rec.output[sample].ravel()
        _put(snap.grad_a, k, _row(out_rec.grad_output, sample))
        if col.kind == "block":
            snap.maps[k] = out_rec.output[sample]
        if col.kind == "dense":
            rec = recs[col.param_layer]
            if col.act_layer is not None:
                snap.pre[k] = rec.output[sample].ravel()
                _put(snap.grad_z, k, _row(recs[col.act_layer].grad_input, sample))
            elif col.activation not in (None, "linear"):
                snap.pre[k] = rec.pre_activation[sample].ravel()
                if rec.grad_pre_activation is not None:
                    snap.grad_z[k] = _row(rec.grad_pre_activation, sample)
                elif k in snap.grad_a:
                    snap.grad_z[k] = _dz_from_da(col.activation, snap.pre[k], snap.values[k],
                                                 snap.grad_a[k])
            else:
                snap.pre[k] = snap.values[k]
                _put(snap.grad_z, k, snap.grad_a.get(k))
        elif col.kind == "activation":
            snap.pre[k] = snap.values[k - 1]
            _put(snap.grad_z, k, _row(recs[col.act_layer].grad_input, sample))
        elif col.kind == "dropout":
            if k not in snap.dropout_rates and specs is not None:
                rate = specs[col.out_layer].config.get("rate")
                if rate is not None:
                    snap.dropout_rates[k] = rate
            kept = out_rec.extras.get("kept")
            if kept is not None:
                snap.masks[k] = np.asarray(kept[sample]).ravel().astype(bool)
    last = recs[-1]
    out_col = columns[-1]
    snap.fused_output = (last.grad_pre_activation is not None and out_col.kind == "dense"
                         and out_col.activation in ("softmax", "sigmoid"))
    snap.loss_name = trace.loss_name
    snap.loss = float(trace.loss)
    snap.sample_loss = float(np.asarray(trace.per_sample_loss)[sample])
    snap.y_true = np.asarray(trace.y_true)[sample]
    return snap
