"""The computational graph of the insurance neuron's loss, for the chain-rule lesson.

    x1, w1, x2, w2, b → z = w1·x1 + w2·x2 + b → ŷ = σ(z) → L = log loss(ŷ, y)

Every edge carries its local derivative (∂z/∂w1 = x1, ∂ŷ/∂z = ŷ·(1 − ŷ), ∂L/∂ŷ), and the
backward walk visits one node at a time, multiplying the local derivatives along the
path from L. The numbers come from the engine's trace of one training step (through
`walk_through`), so they are the ones the backprop stepper shows.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.teaching.stepper.cases import Batch, insurance_neuron
from core.teaching.stepper.numbers import factor, num
from core.teaching.stepper.walk import Walkthrough, walk_through


@dataclass(frozen=True)
class ChainNode:
    name: str                 # "x1", "w1", "z", "ŷ", "L", "y"
    value: float
    formula: str              # how the value is computed, numbers filled in
    role: str                 # "input" | "param" | "target" | "op" | "loss"


@dataclass(frozen=True)
class ChainEdge:
    src: str
    dst: str
    symbol: str               # "∂z/∂w1"; "" where no derivative is taken (y → L)
    value: float | None
    formula: str


@dataclass(frozen=True)
class BackStep:
    node: str                 # the node whose ∂L/∂node this step finds
    symbol: str               # "∂L/∂w1"
    value: float
    path: tuple[str, ...]     # nodes from L down to `node`
    factors: tuple[tuple[str, float], ...]   # the local derivatives multiplied
    formula: str              # "∂L/∂w1 = ∂L/∂ŷ · ∂ŷ/∂z · ∂z/∂w1 = a · b · c = d"


@dataclass
class ChainGraph:
    nodes: dict[str, ChainNode]
    edges: list[ChainEdge]
    backward: list[BackStep]
    walk: Walkthrough = field(repr=False)

    def edge(self, src: str, dst: str) -> ChainEdge:
        for e in self.edges:
            if e.src == src and e.dst == dst:
                return e
        raise KeyError((src, dst))

    def grad(self, node: str) -> float:
        for s in self.backward:
            if s.node == node:
                return s.value
        raise KeyError(node)


def neuron_chain(x1: float, x2: float, y: int, w1: float = 1.0, w2: float = 1.0,
                 b: float = 0.0) -> ChainGraph:
    """The graph for one person (x1 = age/100, x2 = affordability, y = bought)."""
    if y not in (0, 1):
        raise ValueError(f"y is 0 (did not buy) or 1 (bought), got {y!r}")
    for name, v in (("x1", x1), ("x2", x2), ("w1", w1), ("w2", w2), ("b", b)):
        if not np.isfinite(v):
            raise ValueError(f"{name} must be a finite number, got {v!r}")
    model = insurance_neuron(w1, w2, b)
    batch = Batch(x=np.array([[x1, x2]], np.float32), y=np.array([int(y)], np.int64),
                  labels=["this person"], input_notes=[["age/100", "affordability"]],
                  target_note="bought insurance")
    walk = walk_through(model, batch)
    t = walk.trace
    rec = t.layers[0]
    xs = t.x[0].astype(np.float64)                       # (2,) as the engine saw them
    ws = rec.params["kernel"][:, 0].astype(np.float64)   # (2,)
    bias = float(rec.params["bias"][0])
    z = float(rec.pre_activation[0, 0])
    yhat = float(rec.output[0, 0])

    def formula(symbol, kind):
        return walk.find(symbol, None if symbol == "L" else 0, kind).formula

    nodes = {
        "x1": ChainNode("x1", float(xs[0]), f"x1 = age/100 = {num(xs[0])}", "input"),
        "x2": ChainNode("x2", float(xs[1]), f"x2 = affordability = {num(xs[1])}", "input"),
        "w1": ChainNode("w1", float(ws[0]), f"w1 = {num(ws[0])} (a weight: learned)", "param"),
        "w2": ChainNode("w2", float(ws[1]), f"w2 = {num(ws[1])} (a weight: learned)", "param"),
        "b": ChainNode("b", bias, f"b = {num(bias)} (the bias: learned)", "param"),
        "z": ChainNode("z", z, formula("z", "forward"), "op"),
        "ŷ": ChainNode("ŷ", yhat, formula("ŷ", "forward"), "op"),
        "y": ChainNode("y", float(y), f"y = {y} (the answer: {'bought' if y else 'did not buy'})",
                       "target"),
        "L": ChainNode("L", float(t.loss), formula("L", "loss"), "loss"),
    }
    dl_dyhat = float(t.grad_prediction[0, 0])
    dyhat_dz = yhat * (1.0 - yhat)
    if y == 1:
        dl_text = f"with y = 1: −1/ŷ = −1/{num(yhat)} = {num(dl_dyhat)}"
    else:
        dl_text = f"with y = 0: 1/(1 − ŷ) = 1/(1 − {num(yhat)}) = {num(dl_dyhat)}"
    edges = [
        ChainEdge("x1", "z", "∂z/∂x1", float(ws[0]), f"∂z/∂x1 = w1 = {num(ws[0])}"),
        ChainEdge("w1", "z", "∂z/∂w1", float(xs[0]),
                  f"∂z/∂w1 = x1 = {num(xs[0])}   (z = w1·x1 + …: w1 is multiplied by x1)"),
        ChainEdge("x2", "z", "∂z/∂x2", float(ws[1]), f"∂z/∂x2 = w2 = {num(ws[1])}"),
        ChainEdge("w2", "z", "∂z/∂w2", float(xs[1]),
                  f"∂z/∂w2 = x2 = {num(xs[1])}   (z = … + w2·x2 + …: w2 is multiplied by x2)"),
        ChainEdge("b", "z", "∂z/∂b", 1.0, "∂z/∂b = 1   (b is simply added to z)"),
        ChainEdge("z", "ŷ", "∂ŷ/∂z", dyhat_dz,
                  f"∂ŷ/∂z = σ'(z) = ŷ·(1 − ŷ) = {num(yhat)}·(1 − {num(yhat)}) = {num(dyhat_dz)}"),
        ChainEdge("ŷ", "L", "∂L/∂ŷ", dl_dyhat,
                  f"∂L/∂ŷ = −y/ŷ + (1 − y)/(1 − ŷ)\n  {dl_text}"),
        ChainEdge("y", "L", "", None, "y is the answer: L compares ŷ with it (no derivative "
                                      "is taken: y is not learned)"),
    ]
    g_z = float(rec.grad_pre_activation[0, 0])
    backward = [
        BackStep("L", "∂L/∂L", 1.0, ("L",), (),
                 "∂L/∂L = 1   (start: a change in L changes L by the same amount)"),
        BackStep("ŷ", "∂L/∂ŷ", dl_dyhat, ("L", "ŷ"), (("∂L/∂ŷ", dl_dyhat),),
                 f"∂L/∂ŷ = 1 · {factor(dl_dyhat)} = {num(dl_dyhat)}"),
        BackStep("z", "∂L/∂z", g_z, ("L", "ŷ", "z"),
                 (("∂L/∂ŷ", dl_dyhat), ("∂ŷ/∂z", dyhat_dz)),
                 f"∂L/∂z = ∂L/∂ŷ · ∂ŷ/∂z = {factor(dl_dyhat)} · {factor(dyhat_dz)} = {num(g_z)}"
                 f"\n  (the same as ŷ − y = {num(yhat)} − {y} = {num(yhat - y)}: sigmoid and "
                 "log loss simplify to this)"),
    ]
    for name, local in (("w1", float(xs[0])), ("w2", float(xs[1])), ("b", 1.0)):
        g = walk.find(f"∂L/∂{name}", None, "backward").value
        backward.append(BackStep(
            name, f"∂L/∂{name}", g, ("L", "ŷ", "z", name),
            (("∂L/∂ŷ", dl_dyhat), ("∂ŷ/∂z", dyhat_dz), (f"∂z/∂{name}", local)),
            f"∂L/∂{name} = ∂L/∂ŷ · ∂ŷ/∂z · ∂z/∂{name}\n"
            f"  = {factor(dl_dyhat)} · {factor(dyhat_dz)} · {factor(local)} = {num(g)}"))
    return ChainGraph(nodes=nodes, edges=edges, backward=backward, walk=walk)
