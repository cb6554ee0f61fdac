"""Which columns a network diagram has, planned from a layer list alone (no Qt here).

A diagram column is what a learner calls "a layer": a Dense layer together with the
activation that follows it (its own `activation=` or a separate ReLU()/Softmax() layer),
a Dropout, a conv/pool block, or the input. The plan is built from `model.layers` and
their output shapes, never from a fixed architecture, so a learner's own network draws
without code changes. The trace player uses the same plan, so its frames and the
diagram's columns always agree.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from core.activations import WORDS as ACTIVATION_WORDS

ACTIVATION_CLASSES = ("ReLU", "Sigmoid", "Tanh", "LeakyReLU", "Softmax")
#: an output layer up to this size is always drawn whole (CIFAR's 10, a few dozen classes)
OUTPUT_UNITS_ALWAYS_SHOWN = 32
BLOCK_CLASSES = ("Conv2D", "MaxPool2D", "AvgPool2D", "MaxPooling2D", "AveragePooling2D")


@dataclass
class LayerSpec:
    """What the diagram needs to know about one layer (from a model or a trace)."""
    index: int
    name: str
    class_name: str
    output_shape: tuple
    activation: str | None = None          # Dense/Conv2D `activation=` or the layer's own f
    config: dict = field(default_factory=dict)


@dataclass
class Column:
    index: int
    kind: str                   # "input" | "image" | "dense" | "dropout" | "block" | "flatten" | "activation"
    title: str                  # for people: "hidden layer 1", "output", "dropout"
    subtitle: str               # e.g. "100 ReLU", "rate 0.5"
    units: int                  # flat units this column passes on (0 for blocks)
    layers: tuple = ()          # model layer indices folded into this column
    param_layer: int | None = None   # the layer holding kernel/bias (Dense), if any
    act_layer: int | None = None     # a separate activation layer folded in
    activation: str | None = None    # f of this column's output
    shape: tuple = ()           # the column's output shape (no batch axis)
    image_shape: tuple | None = None   # (H, W, C) when drawn as an image
    shown: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    layer_name: str = ""        # the Keras name ("dense_1") for code-like text such as W[i, j]

    @property
    def out_layer(self) -> int:
        """Index of the layer whose output is this column's values (-1: the input)."""
        return self.layers[-1] if self.layers else -1

    @property
    def has_nodes(self) -> bool:
        return self.kind in ("input", "dense", "dropout", "flatten", "activation")

    @property
    def hidden_units(self) -> int:
        return 0 if not self.has_nodes else self.units - len(self.shown)


def people_caption(kind: str, units: int, activation: str | None = None,
                   position: str = "hidden", number: int = 0,
                   rate: float | None = None) -> tuple[str, str]:
    """(title, detail) naming a diagram column for people, not by its Keras name.

    kind: "input" | "dense" | "dropout" | "activation" | "flatten"; position: "hidden" or
    "output" for a dense column; number: which hidden layer (0 when there is only one).
    ("hidden layer 1", "100 ReLU"), ("output", "10 sigmoid"), ("dropout", "rate 0.5").
    """
    word = "linear" if activation in (None, "linear") else \
        ACTIVATION_WORDS.get(activation, activation)
    if kind == "dense":
        title = "output" if position == "output" else \
            ("hidden layer" + (f" {number}" if number else ""))
        return title, f"{units} {word}"
    if kind == "dropout":
        return "dropout", (f"rate {rate:g}" if isinstance(rate, (int, float)) else "drops units")
    if kind == "activation":
        return word, f"{units} value{'s' if units != 1 else ''}"
    if kind == "flatten":
        return "flatten", f"{units} values"
    return "input", f"{units} feature{'s' if units != 1 else ''}"


def people_name(*args, **kwargs) -> str:
    """The caption on one line: "hidden layer 1 · 100 ReLU", "output · 10 sigmoid"."""
    return " · ".join(people_caption(*args, **kwargs))


def _name_for_people(cols: list[Column], specs: list[LayerSpec]) -> None:
    """Give every column its people's caption once the activations are folded in."""
    rates = {s.index: s.config.get("rate") for s in specs}
    dense = [c for c in cols if c.kind == "dense"]
    # the last Dense is the output unless real layers (not just its activation) follow it
    after_last = cols[cols.index(dense[-1]) + 1:] if dense else []
    is_output = bool(dense) and all(c.kind in ("dropout", "activation") for c in after_last)
    hidden = dense[:-1] if is_output else dense
    n_blocks = {"conv": 0, "pool": 0}
    for col in cols:
        if col.kind == "dense":
            position = "hidden" if col in hidden else "output"
            number = hidden.index(col) + 1 if col in hidden and len(hidden) > 1 else 0
            col.title, col.subtitle = people_caption("dense", col.units, col.activation,
                                                     position, number)
        elif col.kind == "dropout":
            col.title, col.subtitle = people_caption("dropout", col.units,
                                                     rate=rates.get(col.layers[0]))
        elif col.kind in ("activation", "flatten"):
            col.title, col.subtitle = people_caption(col.kind, col.units, col.activation)
        elif col.kind == "block" and "filters" in col.subtitle:
            n_blocks["conv"] += 1
            col.title = f"convolution {n_blocks['conv']}"
        elif col.kind == "block" and "pool" in col.subtitle:
            n_blocks["pool"] += 1
            col.title = f"pooling {n_blocks['pool']}"


def specs_from_model(model) -> tuple[tuple, list[LayerSpec]]:
    """(input_shape, layer specs) of a built Sequential."""
    if model.input_shape is None or not model.layers or not model.built:
        raise ValueError("the diagram needs a built model: give Sequential an input_shape")
    specs = []
    for i, lay in enumerate(model.layers):
        act = getattr(lay, "activation", None)
        specs.append(LayerSpec(i, lay.name, type(lay).__name__, tuple(lay.output_shape),
                               None if act is None else act.name, dict(lay.get_config())))
    return tuple(model.input_shape), specs


def specs_from_trace(trace) -> tuple[tuple, list[LayerSpec]]:
    """The same from a StepTrace, for a player that has no model at hand."""
    specs = []
    for rec in trace.layers:
        act = rec.activation
        if act is None and rec.class_name in ACTIVATION_CLASSES:
            act = rec.class_name.lower()
        specs.append(LayerSpec(rec.index, rec.name, rec.class_name,
                               tuple(rec.output.shape[1:]), act, _config_from_record(rec)))
    return tuple(trace.x.shape[1:]), specs


def _config_from_record(rec) -> dict:
    """The few settings a label needs, read back from what the step recorded."""
    if rec.class_name == "Conv2D" and "kernel" in rec.params:
        return {"kernel_size": list(rec.params["kernel"].shape[:2])}
    if rec.class_name in BLOCK_CLASSES and rec.input.ndim == 4:
        return {"pool_size": [max(1, rec.input.shape[1] // max(1, rec.output.shape[1])),
                              max(1, rec.input.shape[2] // max(1, rec.output.shape[2]))]}
    if rec.class_name == "Dropout" and "kept" in rec.extras:
        kept = np.asarray(rec.extras["kept"], bool)
        x, y = np.asarray(rec.input)[kept], np.asarray(rec.output)[kept]
        nz = np.abs(x) > 1e-6
        if nz.any():   # survivors are scaled by 1/(1 − rate)
            return {"rate": round(float(1.0 - np.median(x[nz] / y[nz])), 4)}
    return {}


def image_shape_of(input_shape: tuple) -> tuple | None:
    """(H, W, C) if an input reads as a picture: NHWC, or a flat square such as 784 = 28²."""
    if len(input_shape) == 3:
        return tuple(input_shape)
    if len(input_shape) == 1:
        n = input_shape[0]
        side = math.isqrt(n)
        if n >= 49 and side * side == n:
            return (side, side, 1)
    return None


def _units(shape: tuple) -> int:
    return int(math.prod(shape)) if shape else 0


def plan_columns(input_shape: tuple, specs: list[LayerSpec]) -> list[Column]:
    cols: list[Column] = []
    img = image_shape_of(input_shape)
    if img is not None:
        cols.append(Column(0, "image", "input", f"{img[0]}×{img[1]} image"
                           + ("" if img[2] == 1 else f" × {img[2]}"),
                           units=_units(input_shape), shape=tuple(input_shape), image_shape=img))
    else:
        n = _units(input_shape)
        cols.append(Column(0, "input", "input", f"{n} feature{'s' if n != 1 else ''}",
                           units=n, shape=tuple(input_shape)))
    for spec in specs:
        prev = cols[-1]
        cls = spec.class_name
        if cls == "Flatten":
            if prev.kind == "image" and not prev.layers:
                prev.layers = (spec.index,)          # the 28×28 image *is* the flat input
                prev.shape = spec.output_shape
                continue
            cols.append(Column(len(cols), "flatten", spec.name,
                               f"{_units(spec.output_shape)} values",
                               units=_units(spec.output_shape), layers=(spec.index,),
                               shape=spec.output_shape))
        elif cls == "Dense":
            n = spec.output_shape[0]
            cols.append(Column(len(cols), "dense", spec.name,
                               f"{n} unit{'s' if n != 1 else ''} · "
                               f"{ACTIVATION_WORDS.get(spec.activation, spec.activation)}",
                               units=n, layers=(spec.index,), param_layer=spec.index,
                               activation=spec.activation, shape=spec.output_shape))
        elif cls in ACTIVATION_CLASSES:
            if (prev.kind in ("dense", "block") and prev.act_layer is None
                    and prev.activation in (None, "linear")):
                prev.layers = prev.layers + (spec.index,)
                prev.act_layer = spec.index
                prev.activation = spec.activation
                word = ACTIVATION_WORDS.get(spec.activation, spec.activation)
                prev.subtitle = prev.subtitle.replace("no activation", f"{word} ({spec.name})")
                continue
            n = _units(spec.output_shape)
            cols.append(Column(len(cols), "activation", spec.name,
                               ACTIVATION_WORDS.get(spec.activation, spec.activation),
                               units=n, layers=(spec.index,), act_layer=spec.index,
                               activation=spec.activation, shape=spec.output_shape))
        elif cls == "Dropout":
            rate = spec.config.get("rate")
            sub = f"rate {rate:g}" if isinstance(rate, (int, float)) else "drops units"
            cols.append(Column(len(cols), "dropout", spec.name, sub,
                               units=_units(spec.output_shape), layers=(spec.index,),
                               shape=spec.output_shape))
        elif cls in BLOCK_CLASSES:
            h, w, c = (tuple(spec.output_shape) + (1, 1, 1))[:3]
            if cls == "Conv2D":
                k = spec.config.get("kernel_size", ["?", "?"])
                act = ACTIVATION_WORDS.get(spec.activation, spec.activation)
                sub = f"{c} filters {k[0]}×{k[1]} · {act} → {h}×{w}×{c}"
            else:
                p = spec.config.get("pool_size", ["?", "?"])
                kind = "max" if "Max" in cls else "average"
                sub = f"{kind} pool {p[0]}×{p[1]} → {h}×{w}×{c}"
            cols.append(Column(len(cols), "block", spec.name, sub, units=0,
                               layers=(spec.index,),
                               param_layer=spec.index if cls == "Conv2D" else None,
                               activation=spec.activation, shape=spec.output_shape))
        else:   # a layer type this diagram does not know yet: still drawn, as a block
            cols.append(Column(len(cols), "block", spec.name, cls, units=0,
                               layers=(spec.index,), shape=spec.output_shape))
    names = {s.index: s.name for s in specs}
    for col in cols:
        col.layer_name = names.get(col.out_layer, col.title) if col.layers else "input"
        if col.param_layer is not None:
            col.layer_name = names[col.param_layer]
    _name_for_people(cols, specs)
    return cols


def column_of_layer(columns: list[Column], layer: int) -> Column:
    """The column a model layer index is drawn in (-1 → the input column)."""
    if layer == -1:
        return columns[0]
    for col in columns:
        if layer in col.layers:
            return col
    raise ValueError(f"no diagram column shows layer {layer}")


def choose_shown(columns: list[Column], max_units: int, kernels: dict[int, np.ndarray]) -> None:
    """Pick which units each node column draws: all, or the `max_units` that matter most.

    Hidden layers are capped at `max_units`; the output layer only beyond 32 units.

    "Matter most" is fixed by the weights (‖incoming‖·‖outgoing‖), not by the current
    input, so nodes keep their place while a step is animated; ids stay in order.
    """
    max_units = max(1, int(max_units))
    for k, col in enumerate(columns):
        if not col.has_nodes:
            col.shown = np.zeros(0, np.int64)
            continue
        if col.kind in ("dropout", "activation") and k > 0 and columns[k - 1].has_nodes \
                and columns[k - 1].units == col.units:
            col.shown = columns[k - 1].shown.copy()      # same units, same places
            continue
        # the output is the answer: every class stays visible unless there are very many
        cap = max(max_units, OUTPUT_UNITS_ALWAYS_SHOWN) if k == len(columns) - 1 else max_units
        if col.units <= cap:
            col.shown = np.arange(col.units, dtype=np.int64)
            continue
        score = np.ones(col.units, np.float64)
        if col.param_layer is not None and col.param_layer in kernels:
            score *= np.linalg.norm(kernels[col.param_layer], axis=0) + 1e-12
        nxt = next((c for c in columns[k + 1:] if c.kind == "dense" or not c.has_nodes), None)
        if nxt is not None and nxt.kind == "dense" and nxt.param_layer in kernels:
            w_out = kernels[nxt.param_layer]
            if w_out.shape[0] == col.units:
                score *= np.linalg.norm(w_out, axis=1) + 1e-12
        keep = np.argsort(-score, kind="stable")[:cap]
        col.shown = np.sort(keep).astype(np.int64)


def source_units(columns: list[Column], k: int) -> np.ndarray:
    """Units of the column before `k` that edges into column k may start from."""
    src = columns[k - 1]
    if src.kind == "image":
        return np.arange(src.units, dtype=np.int64)
    return src.shown


def top_edges(values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the k entries with the largest |value| (all of them if ≤ k)."""
    v = np.abs(np.nan_to_num(np.asarray(values, np.float64), nan=np.inf))   # (I, O)
    flat = v.ravel()
    k = max(0, int(k))
    if flat.size <= k:
        idx = np.arange(flat.size)
    elif k == 0:
        idx = np.zeros(0, np.int64)
    else:
        idx = np.argpartition(-flat, k - 1)[:k]
        idx = idx[np.argsort(flat[idx], kind="stable")]     # weakest first: strong ones on top
    return np.unravel_index(idx, v.shape)
