"""Formulas with the actual numbers plugged in, for what the learner hovers (no Qt here).

"z = Σ w·x + b = 0.5·1.2 + (-0.3)·0.7 + 0.1 = 0.49;  a = σ(z) = 0.6201". Every number is
written with `fmt` (4 significant digits); the result on the right is always the engine's
own value, so the formula explains the number the diagram shows rather than redoing it.
"""
from __future__ import annotations

import numpy as np

from gui.widgets.diagram.data import Snapshot
from gui.widgets.numbers import fmt, paren as p

#: a sum with more terms than this is written as its largest terms plus "…"
MAX_TERMS = 6
from core.losses import WORDS as LOSS_WORDS  # noqa: E402 - one loss catalogue


def weighted_sum(x: np.ndarray, w: np.ndarray, b: float, z: float, xname: str = "x") -> str:
    """z = Σ w·x + b written out (the largest terms only when the layer is wide)."""
    terms = w.astype(np.float64) * x.astype(np.float64)                     # (I,)
    n = len(terms)
    if n <= MAX_TERMS:
        parts = " + ".join(f"{p(wi)}·{p(xi)}" for wi, xi in zip(w, x))
        return f"z = Σ w·{xname} + b = {parts} + {p(b)} = {fmt(z)}"
    top = np.argsort(-np.abs(terms), kind="stable")[:4]
    parts = " + ".join(f"{p(w[i])}·{p(x[i])}" for i in top)
    rest = float(terms.sum() - terms[top].sum())
    return (f"z = Σ w·{xname} + b over {n} inputs\n"
            f"  = {parts} + … ({n - 4} smaller terms, together {fmt(rest)}) + {p(b)}"
            f" = {fmt(z)}")


def activation_line(name: str | None, z: float, a: float, zvec=None) -> str:
    if name in (None, "linear"):
        return f"a = z = {fmt(a)} (no activation)"
    if name == "sigmoid":
        return f"a = σ(z) = 1 / (1 + e^({fmt(-z)})) = {fmt(a)}"
    if name == "relu":
        return f"a = ReLU(z) = max(0, {fmt(z)}) = {fmt(a)}"
    if name == "tanh":
        return f"a = tanh({fmt(z)}) = {fmt(a)}"
    if name == "leaky_relu":
        return (f"a = z = {fmt(a)} (z > 0)" if z > 0 else
                f"a = α·z = α·{p(z)} = {fmt(a)} (leaky ReLU, z ≤ 0)")
    if name == "softmax" and zvec is not None:
        zs = np.asarray(zvec, np.float64)
        total = float(np.exp(zs - zs.max()).sum())
        return (f"a = e^z / Σₖ e^zₖ = e^({fmt(z - zs.max())}) / {fmt(total)} = {fmt(a)}"
                f"  (z shifted by max z = {fmt(zs.max())}; the ratio is unchanged)")
    return f"a = {name}(z) = {fmt(a)}"


def local_derivative(name: str | None, z: float, a: float, da: float, dz: float) -> str:
    """∂L/∂z = ∂L/∂a · f′(z) with the factor's own formula."""
    if name in (None, "linear"):
        return f"∂L/∂z = ∂L/∂a · 1 = {fmt(dz)}"
    if name == "sigmoid":
        d = a * (1 - a)
        return (f"∂L/∂z = ∂L/∂a · σ′(z) = ∂L/∂a · a(1 − a) = {p(da)}·{p(a)}·{p(1 - a)}"
                f" = {p(da)}·{p(d)} = {fmt(dz)}")
    if name == "tanh":
        return f"∂L/∂z = ∂L/∂a · (1 − a²) = {p(da)}·{p(1 - a * a)} = {fmt(dz)}"
    if name == "relu":
        d = 1 if z > 0 else 0
        return f"∂L/∂z = ∂L/∂a · ReLU′(z) = {p(da)}·{d} = {fmt(dz)}  (ReLU′ = 1 if z > 0 else 0)"
    if name == "leaky_relu":
        return f"∂L/∂z = ∂L/∂a · (1 if z > 0 else α) = {fmt(dz)}"
    if name == "softmax":
        return f"∂L/∂z = a·(∂L/∂a − Σₖ aₖ·∂L/∂aₖ) = {fmt(dz)}  (softmax couples all outputs)"
    return f"∂L/∂z = {fmt(dz)}"


def _target_of(snap: Snapshot, j: int) -> float:
    """The target of output j: a class id becomes one-hot, a vector is read as is."""
    y = np.asarray(snap.y_true)
    if y.ndim == 0 and len(snap.values[-1]) > 1:
        return float(int(y) == j)
    return float(y) if y.ndim == 0 else float(np.ravel(y)[j])


def node_formula(snap: Snapshot, k: int, j: int, *, values: bool, grads: bool,
                 name: str = "", input_word: str = "x") -> str:
    col = snap.columns[k]
    head = name or f"{col.title}, unit {j}"
    lines = [head]
    if not values or snap.values[k] is None:
        lines.append("not computed yet: the forward pass has not reached this layer"
                     if snap.has_values else "no input yet")
        return "\n".join(lines)
    v = float(snap.values[k][j])
    if col.kind == "input":
        lines.append(f"x{j + 1} = {fmt(v)}  (input feature {j + 1})")
    elif col.kind in ("image", "flatten"):
        lines.append(f"value = {fmt(v)}")
    elif col.kind == "dropout":
        src = float(snap.values[k - 1][j])
        mask = snap.masks.get(k)
        rate = snap.dropout_rates.get(k)
        if mask is None:
            lines.append(f"a = {fmt(v)}  (dropout is off outside training: passed unchanged)")
        elif not mask[j]:
            lines.append(f"dropped this step: a = 0 (was {fmt(src)})")
        else:
            scale = f"1 / (1 − {rate:g})" if rate is not None else "1 / (1 − rate)"
            lines.append(f"kept: a = h · {scale} = {p(src)}·{fmt(v / src) if src else '…'}"
                         f" = {fmt(v)}")
    elif col.kind in ("dense", "activation"):
        z = float(snap.pre[k][j]) if k in snap.pre else v
        if col.kind == "dense":
            prm = snap.params.get(col.param_layer)
            x_in = snap.input_of(k)
            if prm is not None and x_in is not None:
                lines.append(weighted_sum(x_in, prm["kernel"][:, j], float(prm["bias"][j]), z,
                                          input_word if k == 1 else "a"))
        else:
            lines.append(f"z = {fmt(z)}  (from the layer to the left)")
        lines.append(activation_line(col.activation, z, v,
                                     snap.pre.get(k) if col.activation == "softmax" else None))
    if grads and k in snap.grad_a:
        da = float(snap.grad_a[k][j])
        last = k == len(snap.columns) - 1
        lines.append(f"∂L/∂{'ŷ' if last else 'a'} = {fmt(da)}"
                     + ("  (from the loss)" if last else "  (sum of what the layer to the right sends back)"))
        if k in snap.grad_z and col.kind in ("dense", "activation"):
            dz = float(snap.grad_z[k][j])
            z = float(snap.pre[k][j]) if k in snap.pre else v
            if last and snap.fused_output:
                y = _target_of(snap, j)
                lines.append(f"∂L/∂z = (ŷ − y) / N = ({fmt(v)} − {fmt(y)}) / {snap.batch}"
                             f" = {fmt(dz)}  ({col.activation} and the loss together)")
            else:
                lines.append(local_derivative(col.activation, z, v, da, dz))
    return "\n".join(lines)


def _optimizer_line(snap: Snapshot, sym: str, before: float, grad: float, after: float) -> str:
    opt = (snap.trace.optimizer if snap.trace is not None else {}) or {}
    lr = opt.get("learning_rate")
    if opt.get("name") == "sgd" and not opt.get("momentum") and lr is not None:
        return (f"update: {sym} ← {sym} − η·∂L/∂{sym} = {fmt(before)} − {fmt(lr)}·{p(grad)}"
                f" = {fmt(after)}")
    return (f"update ({opt.get('name', 'optimizer')}): {sym} ← {sym} + Δ{sym} = {fmt(before)}"
            f" + {p(after - before)} = {fmt(after)}")


def edge_formula(snap: Snapshot, k: int, i: int, j: int, *, values: bool, grads: bool,
                 after: bool, src_name: str = "", dst_name: str = "") -> str:
    col = snap.columns[k]
    prm = snap.params.get(col.param_layer)
    if prm is None:
        return ""
    w0 = float(prm["kernel"][i, j])
    lines = [f"weight {col.layer_name}.kernel[{i}, {j}]: from {src_name or f'unit {i}'} "
             f"to {dst_name or f'unit {j} of the {col.title}'}"]
    if after and col.param_layer in snap.params_after:
        w1 = float(snap.params_after[col.param_layer]["kernel"][i, j])
        lines.append(f"w = {fmt(w1)}  (was {fmt(w0)} before the update)")
    else:
        lines.append(f"w = {fmt(w0)}")
    x_in = snap.input_of(k)
    if values and x_in is not None:
        xi = float(x_in[i])
        lines.append(f"contribution to z: w·x = {p(w0)}·{p(xi)} = {fmt(w0 * xi)}")
    g = snap.grads.get(col.param_layer)
    if grads and g is not None:
        gw = float(g["kernel"][i, j])
        dz = snap.grad_z.get(k)
        if dz is not None and x_in is not None:
            one = f"{p(x_in[i])}·{p(dz[j])}"
            if snap.batch == 1:
                lines.append(f"∂L/∂w = x·∂L/∂z = {one} = {fmt(gw)}")
            else:
                lines.append(f"∂L/∂w = Σ over the batch of {snap.batch} of x·∂L/∂z = {fmt(gw)}"
                             f"  (this sample: {one} = {fmt(float(x_in[i]) * float(dz[j]))})")
        else:
            lines.append(f"∂L/∂w = {fmt(gw)}")
        if after and col.param_layer in snap.params_after:
            lines.append(_optimizer_line(snap, "w", w0, gw,
                                         float(snap.params_after[col.param_layer]["kernel"][i, j])))
    lines.append("click to type a new value")
    return "\n".join(lines)


def bias_formula(snap: Snapshot, k: int, j: int, *, grads: bool, after: bool,
                 dst_name: str = "") -> str:
    col = snap.columns[k]
    prm = snap.params.get(col.param_layer)
    if prm is None:
        return ""
    b0 = float(prm["bias"][j])
    lines = [f"bias {col.layer_name}.bias[{j}] of {dst_name or f'unit {j} of the {col.title}'}"]
    if after and col.param_layer in snap.params_after:
        b1 = float(snap.params_after[col.param_layer]["bias"][j])
        lines.append(f"b = {fmt(b1)}  (was {fmt(b0)} before the update)")
    else:
        lines.append(f"b = {fmt(b0)}  (added to z = Σ w·x + b)")
    g = snap.grads.get(col.param_layer)
    if grads and g is not None:
        gb = float(g["bias"][j])
        if snap.batch == 1:
            lines.append(f"∂L/∂b = ∂L/∂z · 1 = {fmt(gb)}")
        else:
            lines.append(f"∂L/∂b = Σ over the batch of {snap.batch} of ∂L/∂z = {fmt(gb)}")
        if after and col.param_layer in snap.params_after:
            lines.append(_optimizer_line(snap, "b", b0, gb,
                                         float(snap.params_after[col.param_layer]["bias"][j])))
    lines.append("click to type a new value")
    return "\n".join(lines)


def loss_formula(snap: Snapshot, class_names=None) -> str:
    if snap.loss is None:
        return "Loss: not computed yet"
    name = snap.loss_name or "loss"
    y_hat = np.asarray(snap.values[-1], np.float64)
    y = np.asarray(snap.y_true)
    Ls = snap.sample_loss
    lines = [f"Loss: {LOSS_WORDS.get(name, name)} (sample {snap.sample + 1} of {snap.batch})"]
    if name == "binary_crossentropy" and y_hat.size == 1:
        t, q = float(np.ravel(y)[0]), float(y_hat[0])
        lines.append(f"L = −[y·log ŷ + (1 − y)·log(1 − ŷ)] = −[{fmt(t)}·log({fmt(q)}) + "
                     f"{fmt(1 - t)}·log({fmt(1 - q)})] = {fmt(Ls)}")
    elif name in ("sparse_categorical_crossentropy", "categorical_crossentropy"):
        c = int(y) if y.ndim == 0 else int(np.argmax(y))
        label = class_names[c] if class_names and c < len(class_names) else str(c)
        lines.append(f"L = −log ŷ_y = −log(ŷ of the true class {label}) = −log({fmt(y_hat[c])})"
                     f" = {fmt(Ls)}")
    elif name in ("mean_squared_error", "mean_absolute_error"):
        t = np.ravel(y).astype(np.float64)
        sq = name == "mean_squared_error"
        terms = " + ".join((f"({fmt(a)} − {fmt(b)})²" if sq else f"|{fmt(a)} − {fmt(b)}|")
                           for a, b in zip(y_hat[:4], t[:4]))
        more = " + …" if len(t) > 4 else ""
        lines.append(f"L = mean of {'(ŷ − y)²' if sq else '|ŷ − y|'} = ({terms}{more}) / "
                     f"{len(t)} = {fmt(Ls)}")
    else:
        lines.append(f"L = {fmt(Ls)}")
    if snap.batch > 1:
        lines.append(f"mean over the batch of {snap.batch}: L = {fmt(snap.loss)}")
    return "\n".join(lines)


PHASES = ("idle", "forward", "loss", "backward", "update")
PHASE_WORDS = {"idle": "Network", "forward": "Forward pass", "loss": "Loss",
               "backward": "Backward pass", "update": "Update"}


def _layer_called(title: str) -> str:
    """How a sentence names a layer column: "the output layer", "hidden layer 2", "the hidden
    layer" (the people's captions), or "layer conv2d" for a column still named by Keras."""
    if title == "output":
        return "the output layer"
    if title == "hidden layer":
        return "the hidden layer"
    return title if title.startswith("hidden layer") else f"layer {title}"


def _act_word(name) -> str:
    from gui.widgets.diagram.layout import ACTIVATION_WORDS
    return ACTIVATION_WORDS.get(name, name)


def phase_sentence(phase: str, column: int | None, columns, snap: Snapshot | None = None,
                   class_names=None) -> str:
    """One sentence saying what the frame shows: "Forward: the hidden layer computes z = x·W + b, then ReLU"."""
    n_cols = len(columns)
    col = columns[column] if column is not None and 0 <= column < n_cols else None
    if phase == "idle":
        return ("The network: hover a neuron or a weight for its formula with the numbers; "
                "click a weight or a bias to type a new value.")
    if phase == "forward":
        if col is None:
            return "Forward: each layer computes its outputs from the layer before, left to right."
        head = f"Forward (layer {column} of {n_cols - 1})" if column else "Forward"
        if col.index == 0:
            if col.kind == "image":
                h, w, _ = col.image_shape
                return (f"Forward: the input enters — a {h}×{w} image whose {col.units} pixel "
                        f"values are the network's inputs.")
            names = ", ".join(f"x{i + 1}" for i in range(min(col.units, 4)))
            names += "" if col.units <= 4 else f", …, x{col.units}"
            return f"Forward: the input enters — {col.units} number{'s' if col.units != 1 else ''} ({names})."
        if col.kind == "dense":
            act = col.activation
            then = "" if act in (None, "linear") else f", then {_act_word(act)}: a = f(z)"
            return (f"{head}: {_layer_called(col.title)} computes z = x·W + b for its "
                    f"{col.units} unit{'s' if col.units != 1 else ''}{then}.")
        if col.kind == "dropout":
            rate = snap.dropout_rates.get(col.index) if snap is not None else None
            if rate is None:
                return (f"{head}: {col.title} switches units off at random (training only) "
                        f"and scales the survivors by 1/(1 − rate).")
            return (f"{head}: {col.title} switches each unit off with probability {rate:g} "
                    f"(training only) and scales the survivors by 1/(1 − {rate:g}).")
        if col.kind == "block":
            if "filters" in col.subtitle:
                return (f"{head}: {col.title} slides its filters over the input — one "
                        f"feature map per filter ({col.subtitle}).")
            return f"{head}: {col.title} shrinks each feature map ({col.subtitle})."
        if col.kind == "flatten":
            return f"{head}: {col.title} lays the feature maps out as one vector of {col.units} values."
        return f"{head}: {col.title} applies {_act_word(col.activation)} to every value."
    if phase == "loss":
        if snap is not None and snap.loss is not None:
            name = LOSS_WORDS.get(snap.loss_name, snap.loss_name)
            if snap.batch == 1:
                return (f"Loss: the prediction ŷ is compared with the target y by {name}: "
                        f"L = {fmt(snap.loss)}.")
            return (f"Loss: the prediction ŷ is compared with the target y by {name}: "
                    f"L = {fmt(snap.loss)} (mean over the batch of {snap.batch}); "
                    f"this sample's L = {fmt(snap.sample_loss)}.")
        return "Loss: the prediction ŷ is compared with the target y."
    if phase == "backward":
        if col is None:
            return "Backward: gradients flow from the loss back to every weight, right to left."
        last = col.index == n_cols - 1
        if col.kind == "dense":
            if last and snap is not None and snap.fused_output:
                dz = f"∂L/∂z = (ŷ − y)/N ({_act_word(col.activation)} and the loss together)"
            elif col.activation in (None, "linear"):
                dz = "∂L/∂z = ∂L/∂a"
            else:
                dz = f"∂L/∂z = ∂L/∂a · f′(z) ({_act_word(col.activation)})"
            back = ("; the input needs no gradient, so the pass stops here" if col.index == 1
                    else "; ∂L/∂x = ∂L/∂z·Wᵀ goes on to the left")
            return f"Backward at {_layer_called(col.title)}: {dz}; then ∂L/∂W = xᵀ·∂L/∂z and ∂L/∂b = Σ ∂L/∂z{back}."
        if col.kind == "dropout":
            return f"Backward at {_layer_called(col.title)}: gradients pass only through the kept units (× 1/(1 − rate)); dropped units get 0."
        if col.kind == "block":
            if "filters" in col.subtitle:
                return f"Backward at {_layer_called(col.title)}: ∂L/∂(filters) sums over every position a filter touched; the gradient goes on to the left."
            return f"Backward at {_layer_called(col.title)}: each gradient goes back to the position(s) its window took the value from."
        if col.kind == "flatten":
            return f"Backward at {_layer_called(col.title)}: the gradient vector is folded back into feature maps."
        return f"Backward at {_layer_called(col.title)}: ∂L/∂z = ∂L/∂a · f′(z) for every value."
    if phase == "update":
        opt = (snap.trace.optimizer if snap is not None and snap.trace is not None else {}) or {}
        lr = opt.get("learning_rate")
        eta = f" with η = {fmt(lr)}" if lr is not None else ""
        if opt.get("name") == "sgd" and not opt.get("momentum"):
            return f"Update: every weight steps against its gradient, w ← w − η·∂L/∂w{eta}; the edges now show the new weights."
        name = opt.get("name", "the optimizer")
        return f"Update: {name} moves every weight using its gradient{eta}; the edges now show the new weights."
    raise ValueError(f"phase must be one of {', '.join(PHASES)}, got {phase!r}")
