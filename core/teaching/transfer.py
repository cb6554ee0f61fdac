"""Transfer learning (tutorial 27): the shipped digit CNN as a frozen feature extractor for
new symbols, beside the same network trained from scratch on the same few drawings.

Three parts, all Qt-free:

* stroke synthesis: seeded hand-drawn-looking symbols (+, −, ×, ÷, =) as strokes in the
  drawing pad's coordinates (0..1), rendered on a 280 x 280 paper canvas the way the pad
  renders (round caps, dark ink on white) and prepared by the pad's own path,
  `core.digits.to_mnist`: a synthetic symbol reaches the networks exactly as a drawn one does;
* the set-up: `transfer_model` (the base's layers with its weights, frozen, and a new Dense
  head), `scratch_model` (the same layers, fresh weights, all trainable), `fine_tune`
  (unfreeze the top weighted layers, smaller learning rate);
* what the lesson shows: per-layer weight movement (a frozen layer's is exactly 0).
"""
from __future__ import annotations

import numpy as np

from core.digits import to_mnist
from core.layers import Dense, Dropout, from_config
from core.model import Sequential
from core.optimizers import Adam

__all__ = ["EXAMPLE_SYMBOLS", "CANVAS", "symbol_strokes", "render_strokes", "symbol_image",
           "synthetic_set", "feature_layers", "base_problem", "as_base_input", "transfer_model",
           "scratch_model", "fine_tune",
           "weight_movement", "frozen_flags", "HEAD_NAME", "LEARNING_RATE",
           "FINE_TUNE_LEARNING_RATE"]

CANVAS = 280           # the pad's recognition canvas, pixels
HEAD_NAME = "new_head"
LEARNING_RATE = 1e-3
#: fine-tuning moves pretrained weights: ten times smaller steps than the head's, so the
#: features the base learned on 5,000 digits are adjusted, not overwritten by a few drawings
FINE_TUNE_LEARNING_RATE = 1e-4

# Each symbol: strokes as polylines in pad coordinates (x right, y down, 0..1).
_TEMPLATES: dict[str, list[list[tuple[float, float]]]] = {
    "+": [[(0.5, 0.2), (0.5, 0.8)], [(0.2, 0.5), (0.8, 0.5)]],
    "−": [[(0.2, 0.5), (0.8, 0.5)]],
    "×": [[(0.27, 0.27), (0.73, 0.73)], [(0.73, 0.27), (0.27, 0.73)]],
    "÷": [[(0.2, 0.5), (0.8, 0.5)], [(0.5, 0.28), (0.505, 0.285)],
          [(0.5, 0.72), (0.505, 0.725)]],
    "=": [[(0.22, 0.4), (0.78, 0.4)], [(0.22, 0.6), (0.78, 0.6)]],
}
#: the symbols "Use example symbols" can draw, in the lesson's order
EXAMPLE_SYMBOLS: tuple[str, ...] = tuple(_TEMPLATES)
_PEN_WIDTHS = (0.045, 0.075, 0.11)   # the pad's thin / normal / thick, fraction of its side


def symbol_strokes(symbol: str, rng: np.random.Generator) -> tuple[list[np.ndarray], float]:
    """One hand-drawn-looking copy of `symbol`: (strokes, pen width). Each stroke is a float
    (n, 2) array of pad coordinates. A hand is not a ruler: the whole symbol is rotated,
    stretched and moved a little, each end point wobbles and each stroke bows."""
    if symbol not in _TEMPLATES:
        raise ValueError(f"no example strokes for {symbol!r}; example symbols are "
                         f"{' '.join(EXAMPLE_SYMBOLS)}")
    angle = np.deg2rad(rng.uniform(-12, 12))
    sx, sy = rng.uniform(0.75, 1.15, 2)
    c, s = np.cos(angle), np.sin(angle)
    shift = rng.uniform(-0.1, 0.1, 2)
    out = []
    for stroke in _TEMPLATES[symbol]:
        p = np.asarray(stroke, np.float64)
        length = float(np.hypot(*(p[-1] - p[0])))
        if length > 0.05:      # a dot stays a dot; a line gets wobbly ends
            p = p + rng.normal(0, 0.025, p.shape)
        t = np.linspace(0, 1, 16)[:, None]
        line = p[0] + t * (p[-1] - p[0])                      # (16, 2)
        normal = np.array([-(p[-1] - p[0])[1], (p[-1] - p[0])[0]])
        normal /= max(np.hypot(*normal), 1e-9)
        bow = rng.normal(0, 0.04) * np.sin(np.pi * t)          # a bowed stroke
        line = line + bow * normal
        centred = (line - 0.5) * (sx, sy)
        rotated = centred @ np.array([[c, s], [-s, c]])
        out.append(np.clip(rotated + 0.5 + shift, 0.02, 0.98))
    return out, float(rng.choice(_PEN_WIDTHS))


def render_strokes(strokes, width: float, size: int = CANVAS) -> np.ndarray:
    """uint8 (size, size): dark ink on white paper, each stroke a round-capped line `width`
    (fraction of the side) wide, edges anti-aliased over one pixel, as the pad paints."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5          # pixel centres
    ink = np.zeros((size, size), np.float32)
    radius = 0.5 * width * size
    for stroke in strokes:
        pts = np.asarray(stroke, np.float32) * size                      # (n, 2)
        if len(pts) == 1:
            pts = np.vstack([pts, pts])
        for a, b in zip(pts[:-1], pts[1:]):
            d = b - a
            lo = np.floor(np.minimum(a, b) - radius - 2).astype(int).clip(0, size)
            hi = np.ceil(np.maximum(a, b) + radius + 2).astype(int).clip(0, size)
            if hi[0] <= lo[0] or hi[1] <= lo[1]:
                continue
            px = xx[lo[1]:hi[1], lo[0]:hi[0]] - a[0]
            py = yy[lo[1]:hi[1], lo[0]:hi[0]] - a[1]
            dd = float(d @ d)
            t = np.clip((px * d[0] + py * d[1]) / dd, 0, 1) if dd > 0 else 0.0
            dist = np.hypot(px - t * d[0], py - t * d[1])
            cover = np.clip(radius + 0.5 - dist, 0, 1)
            box = ink[lo[1]:hi[1], lo[0]:hi[0]]
            np.maximum(box, cover, out=box)
    return (255 - np.round(255 * ink)).astype(np.uint8)


def symbol_image(symbol: str, rng: np.random.Generator) -> np.ndarray:
    """float32 (28, 28): one synthetic `symbol` through the pad's canvas and `to_mnist`."""
    strokes, width = symbol_strokes(symbol, rng)
    return to_mnist(render_strokes(strokes, width))


def synthetic_set(symbols, per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`per_class` drawings of each symbol: x float32 (N, 28, 28, 1), y int (N,) = the
    symbol's index in `symbols`; the same seed gives the same drawings."""
    symbols = list(symbols)
    if not symbols:
        raise ValueError("name at least one symbol")
    if int(per_class) < 1:
        raise ValueError(f"draw at least one example per symbol, got {per_class}")
    rng = np.random.default_rng(seed)
    x, y = [], []
    for _ in range(int(per_class)):      # interleaved: any prefix has every class
        for k, sym in enumerate(symbols):
            x.append(symbol_image(sym, rng))
            y.append(k)
    return np.stack(x)[..., None].astype(np.float32), np.asarray(y, np.int64)


# --- the set-up ---------------------------------------------------------------------------
def _classifier_index(base: Sequential) -> tuple[int | None, str | None]:
    """(where the base's classifier sits, None) or (None, why it has none that fits). The
    classifier is the last layer holding weights (a Softmax or Dropout after it belongs to
    it too) and must be a Dense layer, with weighted feature layers before it."""
    weighted = [i for i, lay in enumerate(base.layers) if lay.params]
    if not weighted:
        return None, "it has no weights to reuse"
    last = weighted[-1]
    if not isinstance(base.layers[last], Dense):
        return None, ("it does not end in a Dense classifier, whose place the new head "
                      "would take")
    if len(weighted) < 2:
        return None, ("it has no layer with weights before its classifier, so it has no "
                      "learned features to lend")
    return last, None


def feature_layers(base: Sequential) -> list:
    """The base's layers that make features: all before its classifier (its last Dense
    layer), and without Dropout (a frozen feature extractor should give the same features
    every time, as Keras's `base(x, training=False)` does)."""
    if len(base.layers) < 2:
        raise ValueError("the base model needs at least one layer before its classifier")
    last, why = _classifier_index(base)
    if last is None:
        raise ValueError(f"the base model cannot lend its features: {why}")
    return [lay for lay in base.layers[:last] if not isinstance(lay, Dropout)]


def base_problem(base) -> str | None:
    """Why `base` cannot be the frozen base for drawings (a sentence starting "it"), or
    None when it can: it takes one 28×28 drawing (784 values, e.g. (28, 28, 1) or (28, 28))
    and ends in a Dense classifier with at least one weighted layer before it."""
    if not isinstance(base, Sequential) or not base.layers:
        return "it is not a Sequential model with layers"
    shape = base.input_shape
    if not shape or int(np.prod(shape)) != 28 * 28:
        return (f"it takes inputs of shape {tuple(shape) if shape else '?'}, and a drawing is "
                f"28×28×1")
    return _classifier_index(base)[1]


def as_base_input(base: Sequential, x) -> np.ndarray:
    """Drawings (N, 28, 28, 1) in the shape `base` takes (e.g. (N, 28, 28) or (N, 784))."""
    x = np.asarray(x, np.float32)
    return np.ascontiguousarray(x.reshape((len(x),) + tuple(base.input_shape)))


def _copy_layers(layers) -> list:
    """Fresh layers of the same configuration (unbuilt, trainable)."""
    copies = []
    for lay in layers:
        spec = {"class_name": type(lay).__name__, "config": dict(lay.get_config())}
        spec["config"].pop("trainable", None)
        copies.append(from_config(spec))
    return copies


def _compile(model: Sequential, learning_rate: float) -> Sequential:
    model.compile(optimizer=Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def transfer_model(base: Sequential, n_classes: int, seed: int = 0,
                   learning_rate: float = LEARNING_RATE) -> Sequential:
    """The base's feature layers with its trained weights, frozen, then a new Dense head of
    `n_classes` softmax units (the only weights that train)."""
    if int(n_classes) < 2:
        raise ValueError(f"a classifier needs at least 2 classes, got {n_classes}")
    source = feature_layers(base)
    layers = _copy_layers(source)
    head = Dense(int(n_classes), activation="softmax", name=HEAD_NAME)
    model = Sequential(layers + [head], input_shape=base.input_shape, name="transfer",
                       seed=seed)
    for copy, original in zip(layers, source):
        copy.set_weights(original.get_weights())
        copy.trainable = False
    return _compile(model, learning_rate)


def scratch_model(base: Sequential, n_classes: int, seed: int = 0,
                  learning_rate: float = LEARNING_RATE) -> Sequential:
    """The same architecture as `transfer_model`, every weight fresh and trainable."""
    if int(n_classes) < 2:
        raise ValueError(f"a classifier needs at least 2 classes, got {n_classes}")
    layers = _copy_layers(feature_layers(base))
    head = Dense(int(n_classes), activation="softmax", name=HEAD_NAME)
    model = Sequential(layers + [head], input_shape=base.input_shape, name="from_scratch",
                       seed=seed)
    return _compile(model, learning_rate)


def fine_tune(model: Sequential, top_layers: int = 2,
              learning_rate: float = FINE_TUNE_LEARNING_RATE) -> list[str]:
    """Unfreeze the `top_layers` highest frozen layers that hold weights and recompile with
    a smaller learning rate (fresh optimizer state, as Keras's recompile). Returns the
    names of the layers unfrozen."""
    if int(top_layers) < 1:
        raise ValueError(f"unfreeze at least one layer, got {top_layers}")
    unfrozen = []
    for lay in reversed(model.layers):
        if len(unfrozen) == int(top_layers):
            break
        if lay.params and not lay.trainable:
            lay.trainable = True
            unfrozen.append(lay.name)
    _compile(model, learning_rate)
    return unfrozen[::-1]


def frozen_flags(model: Sequential) -> list[bool]:
    """Per layer: True if it holds weights and is frozen."""
    return [bool(lay.params) and not lay.trainable for lay in model.layers]


def weight_movement(before: list[list[np.ndarray]], model: Sequential) -> list[float | None]:
    """Per layer: the largest |change| of any of its weights since `before` (a list of each
    layer's `get_weights()`), or None for a layer without weights."""
    out = []
    for old, lay in zip(before, model.layers):
        new = lay.get_weights()
        if not new:
            out.append(None)
            continue
        out.append(max(float(np.max(np.abs(n.astype(np.float64) - o))) for n, o in
                       zip(new, old)))
    return out
