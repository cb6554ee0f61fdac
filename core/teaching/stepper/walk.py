"""Every step of one training step, as a list a learner can walk through.

`walk_through(model, batch)` runs the engine's own `model.trace_step` (on the model's
current weights, which it then puts back) and writes each number of that record as a
Step: the forward pass unit by unit, the loss, every partial derivative by the chain
rule as a product of local derivatives with the numbers filled in, the SGD update, and
a finite-difference check of each gradient. The values shown are the trace's; the
stepper only multiplies the recorded factors to write the products out.

Symbols follow the course: for one neuron x1, x2, w1, w2, b, z, ŷ, L. With more layers
the layer is a superscript and the unit a subscript: z¹₂ and a¹₂ are unit 2 of layer 1,
w¹₁₂ is layer 1's weight from input 1 to unit 2, w²₁ the output's weight from hidden
unit 1, b¹₂ a bias.
"""
from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field

import numpy as np

from core.teaching.stepper.cases import Batch
from core.teaching.stepper.fd import DEFAULT_H, centred_differences
from core.teaching.stepper.numbers import factor, num, sub, sup
from core.wording import difference

PHASES = ("forward", "loss", "backward", "update", "check")
PHASE_TITLES = {
    "forward": "Forward pass",
    "loss": "Loss",
    "backward": "Backward pass (chain rule)",
    "update": "Update (gradient descent)",
    "check": "Check: backprop vs finite differences",
}
ACTIVATIONS = ("sigmoid", "tanh", "relu")
LOSSES = ("binary_crossentropy", "mean_squared_error")
#: beyond this many paths from a weight to the loss, the sum is written recursively
MAX_PATHS = 4
MAX_BATCH = 8
MAX_UNITS = 9


@dataclass(frozen=True)
class Target:
    """The diagram quantity a step is about (NetworkDiagram.highlight's arguments).

    kind "node": unit i of layer `layer` (-1 = the input column); "edge": the weight
    from input unit i to unit j of Dense layer `layer`; "bias": the bias of unit i.
    """

    kind: str
    layer: int
    i: int
    j: int | None = None


@dataclass(frozen=True)
class Step:
    kind: str                    # one of PHASES
    symbol: str                  # "z", "ŷ", "L", "∂L/∂w1", "w1"; "x1, x2, y" for the inputs
    formula: str                 # with the numbers filled in; may span several lines
    value: float | None          # what the step computes (None: the inputs of a sample)
    target: Target | None        # what to highlight in the diagram
    sample: int | None = None    # row of the batch, None for batch-wide quantities
    rule: str = ""               # the formula in symbols only
    note: str = ""               # one sentence of why

    @property
    def title(self) -> str:
        return PHASE_TITLES[self.kind]


@dataclass(frozen=True)
class GradientCheck:
    symbol: str                  # "∂L/∂w1"
    param: str                   # "w1"
    target: Target
    analytic: float              # backprop's value (the engine's trace)
    numeric: float               # centred finite difference, float64
    loss_plus: float
    loss_minus: float
    h: float

    @property
    def abs_error(self) -> float:
        return abs(self.analytic - self.numeric)

    @property
    def rel_error(self) -> float:
        scale = max(abs(self.analytic), abs(self.numeric))
        return 0.0 if scale == 0.0 else self.abs_error / scale

    @property
    def agrees(self) -> bool:
        # the analytic side is float32: ~1e-7 relative is all it can hold
        return self.abs_error <= 1e-5 + 1e-3 * abs(self.numeric)


@dataclass
class Walkthrough:
    steps: list[Step]
    trace: object                         # core.trace.StepTrace
    batch: Batch
    checks: list[GradientCheck]
    weights_before: list[np.ndarray]
    weights_after: list[np.ndarray]
    learning_rate: float | None           # None when the optimizer is not plain SGD
    params: list[tuple[str, Target]] = field(default_factory=list)
    _optimizer_after: object = None

    def __len__(self) -> int:
        return len(self.steps)

    def find(self, symbol: str, sample: int | None = None, kind: str | None = None) -> Step:
        for s in self.steps:
            if s.symbol == symbol and s.sample == sample and (kind is None or s.kind == kind):
                return s
        raise KeyError((symbol, sample, kind))

    def first(self, kind: str) -> int:
        """Index of the first step of a phase (-1 if there is none)."""
        return next((k for k, s in enumerate(self.steps) if s.kind == kind), -1)

    @property
    def loss(self) -> float:
        return float(self.trace.loss)


class Names:
    """The symbols of a Dense stack, course style for a single neuron."""

    def __init__(self, n_inputs: int, units: list[int]):
        self.n_inputs = n_inputs
        self.units = units
        self.single = len(units) == 1
        self.last = len(units) - 1

    def x(self, i: int) -> str:
        return f"x{i + 1}"

    def _lu(self, letter: str, layer: int, unit: int) -> str:
        if self.single:
            return letter
        if layer == self.last and self.units[layer] == 1:
            return f"{letter}{sup(layer + 1)}"
        return f"{letter}{sup(layer + 1)}{sub(unit + 1)}"

    def z(self, layer: int, unit: int) -> str:
        return self._lu("z", layer, unit)

    def a(self, layer: int, unit: int) -> str:
        if layer == self.last and self.units[layer] == 1:
            return "ŷ"
        if layer == -1:
            return self.x(unit)
        return self._lu("a", layer, unit)

    def inp(self, layer: int, i: int) -> str:
        """The i-th input of layer `layer`: an x for the first layer, an a after."""
        return self.x(i) if layer == 0 else self.a(layer - 1, i)

    def w(self, layer: int, i: int, j: int) -> str:
        if self.single:
            return f"w{i + 1}"
        if layer == self.last and self.units[layer] == 1:
            return f"w{sup(layer + 1)}{sub(i + 1)}"
        return f"w{sup(layer + 1)}{sub(i + 1)}{sub(j + 1)}"

    def b(self, layer: int, j: int) -> str:
        return self._lu("b", layer, j)


def _d(top: str, bottom: str) -> str:
    return f"∂{top}/∂{bottom}"


def _act_local(name: str, z: float, a: float) -> tuple[str, str, float]:
    """(rule, numbers, value) of ∂a/∂z for an activation at this point."""
    if name == "sigmoid":
        v = a * (1.0 - a)
        return "a·(1 − a)", f"{num(a)}·(1 − {num(a)})", v
    if name == "tanh":
        v = 1.0 - a * a
        return "1 − a²", f"1 − {factor(a)}²", v
    # relu: the slope is 1 where the unit is on, 0 where it is off
    v = 1.0 if z > 0 else 0.0
    return "1 if z > 0, else 0", f"z = {num(z)} {'>' if z > 0 else '≤'} 0", v


def _act_forward(name: str, z: float) -> tuple[str, str]:
    if name == "sigmoid":
        return "σ(z) = 1/(1 + e^(−z))", f"1/(1 + e^({num(-z)}))"
    if name == "tanh":
        return "tanh(z)", f"tanh({num(z)})"
    return "max(0, z)", f"max(0, {num(z)})"


def _check_model(model) -> tuple[list[str], list[int]]:
    if model.loss is None or model.optimizer is None:
        raise ValueError("compile the model first: the stepper shows one training step")
    acts, units = [], []
    for layer in model.layers:
        if type(layer).__name__ != "Dense":
            raise ValueError(f"the stepper writes out Dense layers only, not {type(layer).__name__}")
        act = layer.output_activation()
        if act not in ACTIVATIONS:
            raise ValueError(f"the stepper knows the activations {', '.join(ACTIVATIONS)}, "
                             f"not {act!r}")
        acts.append(act)
        units.append(layer.units)
    if units[-1] != 1:
        raise ValueError("the stepper needs one output unit (a probability ŷ)")
    if max(units) > MAX_UNITS or model.input_shape[0] > MAX_UNITS:
        raise ValueError(f"the stepper writes out networks of at most {MAX_UNITS} units a layer")
    if model.loss.name not in LOSSES:
        raise ValueError(f"the stepper knows the losses {', '.join(LOSSES)}, not {model.loss.name}")
    return acts, units


def _plain_sgd_rate(optimizer) -> float | None:
    cfg = optimizer.get_config()
    if cfg.get("name") == "sgd" and not cfg.get("momentum"):
        return float(cfg["learning_rate"])
    return None


def walk_through(model, batch: Batch, h: float = DEFAULT_H) -> Walkthrough:
    """The step list of one training step of `model` on `batch`; the model is left as it was."""
    acts, units = _check_model(model)
    n = len(batch)
    if not 1 <= n <= MAX_BATCH:
        raise ValueError(f"choose 1 to {MAX_BATCH} samples so every number fits on screen")
    before = model.get_weights()
    optimizer_before = copy.deepcopy(model.optimizer)
    try:
        trace = model.trace_step(batch.x, batch.y)
        after = model.get_weights()
        optimizer_after = copy.deepcopy(model.optimizer)
    finally:
        # the learner asked to look, not to train: the next step starts from the same weights
        model.set_weights(before)
        model.optimizer = optimizer_before
    names = Names(int(model.input_shape[0]), units)
    builder = _Builder(trace, batch, names, acts, _plain_sgd_rate(model.optimizer),
                       model.loss.name)
    steps, params = builder.build()
    fd = centred_differences([np.asarray(w) for w in before], acts, model.loss.name,
                             batch.x, batch.y, h)
    checks = []
    for (symbol, target), (k, idx) in zip(params, builder.param_slots):
        plus, minus, est = fd[k][idx]
        analytic = float(builder.grad_of(k, idx))
        checks.append(GradientCheck(symbol=f"∂L/∂{symbol}", param=symbol, target=target,
                                    analytic=analytic, numeric=float(est),
                                    loss_plus=float(plus), loss_minus=float(minus), h=h))
    steps += [_check_step(c) for c in checks]
    return Walkthrough(steps=steps, trace=trace, batch=batch, checks=checks,
                       weights_before=[w.copy() for w in before], weights_after=after,
                       learning_rate=builder.lr, params=params,
                       _optimizer_after=optimizer_after)


def apply_update(model, walk: Walkthrough) -> None:
    """Take the step the walk-through shows: the model gets the weights after its update."""
    model.set_weights(walk.weights_after)
    if walk._optimizer_after is not None:
        model.optimizer = copy.deepcopy(walk._optimizer_after)


def _check_step(c: GradientCheck) -> Step:
    d_loss = c.loss_plus - c.loss_minus
    verdict = "they agree" if c.agrees else "they DISAGREE: the backward pass has a bug"
    formula = "\n".join([
        f"backprop:           {c.symbol} = {num(c.analytic)}",
        f"finite difference:  [L({c.param} + h) − L({c.param} − h)] / (2h),  h = {num(c.h)}",
        f"                    = {num(d_loss)} / {num(2 * c.h)} = {num(c.numeric)}",
        # float32 rounding leaves ~1e-9: said in words, not as 0.0000000005808
        f"difference {difference(c.abs_error, 6)} (relative {difference(c.rel_error, 6)}): "
        f"{verdict}",
    ])
    return Step(kind="check", symbol=c.symbol, formula=formula, value=c.numeric,
                target=c.target,
                rule=f"{c.symbol} ≈ [L({c.param} + h) − L({c.param} − h)] / (2h)",
                note="Nudge the weight a tiny bit up and down, recompute the loss in float64: "
                     "the slope must match what the chain rule gave.")


class _Builder:
    def __init__(self, trace, batch, names: Names, acts, lr, loss_name):
        self.t = trace
        self.batch = batch
        self.names = names
        self.acts = acts
        self.lr = lr
        self.loss_name = loss_name
        self.n = len(batch)
        self.last = len(acts) - 1
        self.steps: list[Step] = []
        self.param_slots: list[tuple[int, tuple]] = []

    # --- recorded values (float64 views of the trace) -------------------------------
    def z(self, layer, n, j) -> float:
        return float(self.t.layers[layer].pre_activation[n, j])

    def a(self, layer, n, j) -> float:
        if layer < 0:
            return float(self.t.x[n, j])
        return float(self.t.layers[layer].output[n, j])

    def kernel(self, layer) -> np.ndarray:
        return self.t.layers[layer].params["kernel"]

    def bias(self, layer) -> np.ndarray:
        return self.t.layers[layer].params["bias"]

    def grad_z(self, layer, n, j) -> float:
        """∂L/∂z: recorded by the trace where the engine has it (the output fused with its
        loss), else ∂L/∂a · ∂a/∂z from the recorded ∂L/∂a and a."""
        rec = self.t.layers[layer]
        if rec.grad_pre_activation is not None:
            return float(rec.grad_pre_activation[n, j])
        return float(rec.grad_output[n, j]) * self.local(layer, n, j)[2]

    def local(self, layer, n, j) -> tuple[str, str, float]:
        return _act_local(self.acts[layer], self.z(layer, n, j), self.a(layer, n, j))

    def grad_of(self, k: int, idx: tuple) -> float:
        layer, key = divmod(k, 2)
        return self.t.layers[layer].param_grads["kernel" if key == 0 else "bias"][idx]

    def who(self, n: int) -> str:
        return self.batch.labels[n] if self.batch.labels else f"sample {n + 1}"

    def add(self, **kw) -> None:
        self.steps.append(Step(**kw))

    # --- the list ---------------------------------------------------------------------
    def build(self):
        for n in range(self.n):
            self.forward_sample(n)
        self.loss_steps()
        for layer in range(self.last, -1, -1):
            for n in range(self.n):
                self.backward_nodes(layer, n)
            self.param_grads(layer)
        params = self.updates()
        return self.steps, params

    def forward_sample(self, n: int) -> None:
        nm = self.names
        who = self.who(n)
        lines = []
        for i in range(nm.n_inputs):
            note = self.batch.input_notes[n][i] if self.batch.input_notes else ""
            val = num(self.a(-1, n, i))
            lines.append(f"{nm.x(i)} = {note} = {val}" if note and "=" in note else
                         f"{nm.x(i)} = {val}" + (f"   ({note})" if note else ""))
        y = float(self.t.y_true.reshape(self.n, -1)[n, 0])
        lines.append(f"y = {num(y)}   ({self.batch.target_note}: the answer we want)")
        symbol = ", ".join(nm.x(i) for i in range(nm.n_inputs)) + ", y"
        self.add(kind="forward", symbol=symbol, formula="\n".join(lines), value=None,
                 target=Target("node", -1, 0), sample=n, rule="the inputs of " + who,
                 note=f"{who.capitalize()} enters the network.")
        for layer in range(self.last + 1):
            kern, bias = self.kernel(layer), self.bias(layer)
            for j in range(nm.units[layer]):
                n_in = kern.shape[0]
                rule = " + ".join(f"{nm.w(layer, i, j)}·{nm.inp(layer, i)}" for i in range(n_in))
                rule = f"{nm.z(layer, j)} = {rule} + {nm.b(layer, j)}"
                nums = " + ".join(f"{factor(kern[i, j])}·{factor(self.a(layer - 1, n, i))}"
                                  for i in range(n_in))
                zval = self.z(layer, n, j)
                self.add(kind="forward", symbol=nm.z(layer, j),
                         formula=f"{rule}\n  = {nums} + {factor(bias[j])}\n  = {num(zval)}",
                         value=zval, target=Target("node", layer, j), sample=n, rule=rule,
                         note="The weighted sum: each input times its weight, plus the bias.")
                arule, anums = _act_forward(self.acts[layer], zval)
                aval = self.a(layer, n, j)
                asym = nm.a(layer, j)
                self.add(kind="forward", symbol=asym,
                         formula=f"{asym} = {arule.replace('z', nm.z(layer, j))}\n"
                                 f"  = {anums} = {num(aval)}",
                         value=aval, target=Target("node", layer, j), sample=n,
                         rule=f"{asym} = {arule.replace('z', nm.z(layer, j))}",
                         note=("The output: the probability the network gives."
                               if layer == self.last else
                               "The activation squashes the sum; it is this unit's output."))

    def loss_steps(self) -> None:
        out = Target("node", self.last, 0)
        per = self.t.per_sample_loss.reshape(-1)
        bce = self.loss_name == "binary_crossentropy"
        rule = ("ℓ = −[y·log ŷ + (1 − y)·log(1 − ŷ)]" if bce else "ℓ = (ŷ − y)²")
        ys = self.t.y_true.reshape(self.n, -1)[:, 0].astype(np.float64)
        for n in range(self.n):
            yh, y = self.a(self.last, n, 0), float(ys[n])
            if bce and y == 1.0:
                nums = f"with y = 1: ℓ = −log ŷ = −log({num(yh)})"
            elif bce and y == 0.0:
                nums = f"with y = 0: ℓ = −log(1 − ŷ) = −log(1 − {num(yh)})"
            elif bce:
                nums = (f"= −[{num(y)}·log({num(yh)}) + (1 − {num(y)})·log(1 − {num(yh)})]")
            else:
                nums = f"= ({num(yh)} − {num(y)})²"
            symbol = "L" if self.n == 1 else "ℓ"
            text = rule.replace("ℓ", symbol, 1)
            self.add(kind="loss", symbol=symbol,
                     formula=f"{text}\n  {nums.replace('ℓ', symbol)} = {num(per[n])}",
                     value=float(per[n]) if self.n > 1 else float(self.t.loss),
                     target=out, sample=n if self.n > 1 else None, rule=text,
                     note=("Log loss: small when the probability is near the answer, "
                           "large when it is confidently wrong." if bce else
                           "Squared error between prediction and answer."))
        if self.n > 1:
            terms = " + ".join(num(v) for v in per)
            self.add(kind="loss", symbol="L",
                     formula=f"L = ({' + '.join('ℓ' + sub(k + 1) for k in range(self.n))})"
                             f" / {self.n}\n"
                             f"  = ({terms}) / {self.n} = {num(self.t.loss)}",
                     value=float(self.t.loss), target=out, rule="L = mean of ℓ over the batch",
                     note="The batch's loss is the mean of the per-sample losses.")

    def backward_nodes(self, layer: int, n: int) -> None:
        nm = self.names
        mean = f"(1/{self.n})·" if self.n > 1 else ""
        why_mean = (f"\n  (1/{self.n}: L is the mean over the {self.n} samples of the batch)"
                    if self.n > 1 else "")
        for j in range(nm.units[layer]):
            target = Target("node", layer, j)
            asym, zsym = nm.a(layer, j), nm.z(layer, j)
            if layer == self.last:
                yh = self.a(layer, n, 0)
                y = float(self.t.y_true.reshape(self.n, -1)[n, 0])
                g = float(self.t.grad_prediction[n, 0])
                if self.loss_name == "binary_crossentropy":
                    rule = f"∂L/∂ŷ = {mean}[−y/ŷ + (1 − y)/(1 − ŷ)]"
                    if y == 1.0:
                        nums = f"with y = 1: {mean}(−1/{num(yh)})"
                    elif y == 0.0:
                        nums = f"with y = 0: {mean}1/(1 − {num(yh)})"
                    else:
                        nums = f"{mean}[−{num(y)}/{num(yh)} + (1 − {num(y)})/(1 − {num(yh)})]"
                else:
                    rule = f"∂L/∂ŷ = {mean}2·(ŷ − y)"
                    nums = f"{mean}2·({num(yh)} − {num(y)})"
                self.add(kind="backward", symbol="∂L/∂ŷ",
                         formula=f"{rule}\n  {nums} = {num(g)}{why_mean}", value=g,
                         target=target, sample=n, rule=rule,
                         note="How the loss changes when the prediction moves: the start of "
                              "the backward pass.")
            else:
                # the gradient reaching a hidden unit: one term per unit it feeds
                nxt = layer + 1
                kern = self.kernel(nxt)
                terms_sym, terms_num, locals_ = [], [], []
                for k in range(nm.units[nxt]):
                    gz = self.grad_z(nxt, n, k)
                    zk = nm.z(nxt, k)
                    terms_sym.append(f"{_d('L', zk)} · {_d(zk, asym)}")
                    terms_num.append(f"{factor(gz)} · {factor(kern[j, k])}")
                    locals_.append(f"{_d(zk, asym)} = {nm.w(nxt, j, k)}")
                g = float(self.t.layers[layer].grad_output[n, j])
                rule = f"{_d('L', asym)} = " + " + ".join(terms_sym)
                how = (f"{asym} enters {nm.z(nxt, 0)} through that weight" if nm.units[nxt] == 1
                       else f"one term per path: {asym} feeds {nm.units[nxt]} units")
                self.add(kind="backward", symbol=_d("L", asym),
                         formula=f"{rule}\n  with {', '.join(locals_)} ({how}):\n"
                                 f"  = {' + '.join(terms_num)} = {num(g)}",
                         value=g, target=target, sample=n, rule=rule,
                         note="The gradient arriving at a hidden unit from the layer after it.")
            lrule, lnums, lval = self.local(layer, n, j)
            gout = float(self.t.layers[layer].grad_output[n, j])
            gz = self.grad_z(layer, n, j)
            lrule = lrule.replace("a", asym).replace("z", zsym)
            rule = f"{_d('L', zsym)} = {_d('L', asym)} · {_d(asym, zsym)}"
            lines = [rule,
                     (f"  with {_d(asym, zsym)} = {lrule} = {lnums} = {num(lval)}"
                      if self.acts[layer] != "relu" else
                      f"  with {_d(asym, zsym)} = {num(lval)}: ReLU's slope is 1 where "
                      f"{zsym} > 0 and 0 where not, and {lnums.replace('z =', zsym + ' =')}"),
                     f"  = {factor(gout)} · {factor(lval)} = {num(gz)}"]
            if (layer == self.last and self.acts[layer] == "sigmoid"
                    and self.loss_name == "binary_crossentropy"):
                y = float(self.t.y_true.reshape(self.n, -1)[n, 0])
                lines.append(f"  (= {mean}(ŷ − y) = {mean}({num(self.a(layer, n, 0))} − {num(y)}): "
                             "sigmoid and log loss simplify to this)")
            self.add(kind="backward", symbol=_d("L", zsym), formula="\n".join(lines), value=gz,
                     target=target, sample=n, rule=rule,
                     note="Chain rule through the activation: multiply by its local slope.")

    # --- parameter gradients: products along the paths to the loss -----------------------
    def _paths(self, layer: int, j: int):
        """Unit sequences from unit j of `layer` up to the output unit."""
        ranges = [range(u) for u in self.names.units[layer + 1:self.last]]
        for mid in itertools.product(*ranges):
            yield (j, *mid, 0)

    def _path_factors(self, layer: int, path: tuple, n: int):
        """[(symbol, value)] from the loss down to z of `layer` along `path`."""
        nm = self.names
        out = [("∂L/∂ŷ", float(self.t.grad_prediction[n, 0]))]
        lsym = _d("ŷ", nm.z(self.last, 0))
        out.append((lsym, self.local(self.last, n, 0)[2]))
        for m in range(self.last, layer, -1):
            u_m, u_prev = path[m - layer], path[m - 1 - layer]
            aprev = nm.a(m - 1, u_prev)
            out.append((_d(nm.z(m, u_m), aprev), float(self.kernel(m)[u_prev, u_m])))
            out.append((_d(aprev, nm.z(m - 1, u_prev)), self.local(m - 1, n, u_prev)[2]))
        return out

    def param_grads(self, layer: int) -> None:
        nm = self.names
        kern = self.kernel(layer)
        for j in range(nm.units[layer]):
            for i in range(kern.shape[0]):
                self._param_grad(layer, i, j, weight=True)
            self._param_grad(layer, None, j, weight=False)

    def _param_grad(self, layer: int, i: int | None, j: int, weight: bool) -> None:
        nm = self.names
        psym = nm.w(layer, i, j) if weight else nm.b(layer, j)
        zsym = nm.z(layer, j)
        gsym = _d("L", psym)
        grads = self.t.layers[layer].param_grads
        value = float(grads["kernel"][i, j] if weight else grads["bias"][j])
        target = Target("edge", layer, i, j) if weight else Target("bias", layer, j)
        last_sym = _d(zsym, psym)
        last_rule = nm.inp(layer, i) if weight else "1"

        def last_val(n):
            return self.a(layer - 1, n, i) if weight else 1.0

        paths = list(self._paths(layer, j))
        lines = []
        if len(paths) <= MAX_PATHS:
            sym_paths = [" · ".join([s for s, _ in self._path_factors(layer, p, 0)] + [last_sym])
                         for p in paths]
            rule = f"{gsym} = " + "\n     + ".join(sym_paths)
            lines.append(rule)
            lines.append(f"  with {last_sym} = {last_rule}" +
                         (f", summed over the {self.n} samples of the batch:" if self.n > 1
                          else ":"))
            per_sample = []
            for n in range(self.n):
                prods, texts = [], []
                for p in paths:
                    fac = self._path_factors(layer, p, n) + [(last_sym, last_val(n))]
                    prods.append(float(np.prod([v for _, v in fac])))
                    texts.append(" · ".join(factor(v) for _, v in fac))
                total = sum(prods)
                body = " + ".join(f"[{t}]" if len(paths) > 1 else t for t in texts)
                lead = f"{self.who(n)}: " if self.n > 1 else "= "
                lines.append(f"  {lead}{body} = {num(total)}")
                per_sample.append(total)
        else:
            # too many paths to write out: reuse ∂L/∂z, which already sums them
            rule = f"{gsym} = {_d('L', zsym)} · {last_sym}"
            lines.append(rule + f"   ({last_sym} = {last_rule}; ∂L/∂{zsym} sums "
                                f"{len(paths)} paths)")
            per_sample = []
            for n in range(self.n):
                gz = self.grad_z(layer, n, j)
                per_sample.append(gz * last_val(n))
                lead = f"{self.who(n)}: " if self.n > 1 else "= "
                lines.append(f"  {lead}{factor(gz)} · {factor(last_val(n))} = "
                             f"{num(per_sample[-1])}")
        if self.n > 1:
            lines.append(f"  sum over the batch: {' + '.join(factor(v) for v in per_sample)} "
                         f"= {num(value)}")
        elif not lines[-1].rstrip().endswith(num(value)):
            lines.append(f"  = {num(value)}")
        self.add(kind="backward", symbol=gsym, formula="\n".join(lines), value=value,
                 target=target, rule=rule.replace("\n     ", " "),
                 note=("The chain rule: multiply the local derivatives along the path from "
                       "the loss to this parameter" + (", and add the paths." if len(paths) > 1
                                                       else ".")))

    def updates(self):
        nm = self.names
        params = []
        slots = []
        for layer in range(self.last + 1):
            kern = self.kernel(layer)
            for i in range(kern.shape[0]):
                for j in range(kern.shape[1]):
                    params.append((nm.w(layer, i, j), Target("edge", layer, i, j), layer,
                                   "kernel", (i, j)))
            for j in range(kern.shape[1]):
                params.append((nm.b(layer, j), Target("bias", layer, j), layer, "bias", (j,)))
        for sym, target, layer, key, idx in params:
            rec = self.t.layers[layer]
            old = float(rec.params[key][idx])
            g = float(rec.param_grads[key][idx])
            new = float(rec.params[key][idx] + rec.updates[key][idx])
            if self.lr is not None:
                rule = f"{sym} ← {sym} − η·∂L/∂{sym}"
                nums = f"{num(old)} − {num(self.lr)}·{factor(g)}"
            else:
                rule = f"{sym} ← {sym} + Δ{sym}"
                nums = f"{num(old)} + {factor(new - old)}"
            self.add(kind="update", symbol=sym, formula=f"{rule}\n  = {nums} = {num(new)}",
                     value=new, target=target, rule=rule,
                     note="Gradient descent: step against the gradient, η (the learning "
                          "rate) sets how far.")
            slots.append(((sym, target), (2 * layer + (0 if key == "kernel" else 1), idx)))
        # the checks follow the same order as the updates (Keras order)
        self.param_slots = [s for _, s in slots]
        return [p for p, _ in slots]
