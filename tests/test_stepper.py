"""The backprop stepper against numbers computed here by hand (math / NumPy).

Nothing in this file calls the engine to get expected values: the insurance neuron is
worked out with `math` the way the course does it on the whiteboard, the hidden-layer
networks by a small float64 NumPy forward and backward pass written below, and the
gradients once more by centred finite differences.
"""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.layers import Conv2D, Dense, Flatten
from core.model import Sequential
from core.optimizers import SGD, Adam
from core.teaching.stepper import (Batch, apply_update, hidden_layer_network, insurance_batch,
                                   insurance_neuron, neuron_chain, num, walk_through)
from core.teaching.stepper.walk import GradientCheck, Target, _check_step

# the course's table, first rows: (age, affordability, bought)
PEOPLE = [(22, 1, 0), (25, 0, 0), (47, 1, 1), (52, 0, 0), (46, 1, 1), (56, 1, 1)]


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def close(a, b, rel=2e-5, abs_=1e-6):
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)


# --- the course's neuron, by hand ---------------------------------------------------------

def test_one_person_from_the_course_start_matches_the_hand_computation():
    model = insurance_neuron()            # w1 = w2 = 1, b = 0, η = 0.5
    walk = walk_through(model, insurance_batch([0]))
    age, afford, y = PEOPLE[0]
    x1, x2 = age / 100, afford            # the course divides age by 100
    z = 1 * x1 + 1 * x2 + 0
    yhat = sigmoid(z)
    loss = -(y * math.log(yhat) + (1 - y) * math.log(1 - yhat))
    dl_dyhat = -y / yhat + (1 - y) / (1 - yhat)
    dyhat_dz = yhat * (1 - yhat)
    g = {"w1": dl_dyhat * dyhat_dz * x1, "w2": dl_dyhat * dyhat_dz * x2, "b": dl_dyhat * dyhat_dz}

    assert close(walk.find("z", 0).value, z)
    assert close(walk.find("ŷ", 0).value, yhat)
    assert close(walk.find("L", None, "loss").value, loss)
    assert close(walk.loss, loss)
    assert close(walk.find("∂L/∂ŷ", 0).value, dl_dyhat)
    assert close(walk.find("∂L/∂z", 0).value, dl_dyhat * dyhat_dz)
    for name, start in (("w1", 1.0), ("w2", 1.0), ("b", 0.0)):
        assert close(walk.find(f"∂L/∂{name}", None, "backward").value, g[name])
        assert close(walk.find(name, None, "update").value, start - 0.5 * g[name])

    # the formula writes the chain rule as the product of local derivatives, numbers in
    f = walk.find("∂L/∂w1", None, "backward").formula
    assert "∂L/∂w1 = ∂L/∂ŷ · ∂ŷ/∂z · ∂z/∂w1" in f
    assert f"= {num(dl_dyhat)} · {num(dyhat_dz)} · 0.22 = {num(g['w1'])}" in f
    u = walk.find("w1", None, "update").formula
    assert "w1 ← w1 − η·∂L/∂w1" in u
    assert f"= 1 − 0.5·{num(g['w1'])} = {num(1 - 0.5 * g['w1'])}" in u
    assert "1/(1 + e^(-1.22))" in walk.find("ŷ", 0).formula


def test_a_batch_of_four_people_averages_the_per_person_terms():
    model = insurance_neuron()
    walk = walk_through(model, insurance_batch([0, 1, 2, 3]))
    rows = np.array(PEOPLE[:4], dtype=np.float64)
    x = np.stack([rows[:, 0] / 100, rows[:, 1]], axis=1)          # (4, 2)
    y = rows[:, 2]
    yhat = 1 / (1 + np.exp(-(x @ np.ones(2))))
    per = -(y * np.log(yhat) + (1 - y) * np.log(1 - yhat))
    # the course's formulas: ∂L/∂w = (1/n) Σ x·(ŷ − y), ∂L/∂b = (1/n) Σ (ŷ − y)
    gw = x.T @ (yhat - y) / 4
    gb = np.mean(yhat - y)

    for n in range(4):
        assert close(walk.find("ŷ", n).value, yhat[n])
        assert close(walk.find("ℓ", n).value, per[n])
        # 1/N sits inside ∂L/∂ŷ because L is the batch mean
        assert close(walk.find("∂L/∂ŷ", n).value,
                     (-y[n] / yhat[n] + (1 - y[n]) / (1 - yhat[n])) / 4)
    assert close(walk.loss, per.mean())
    assert f"/ 4 = {num(per.mean())}" in walk.find("L", None, "loss").formula
    assert close(walk.find("∂L/∂w1", None, "backward").value, gw[0])
    assert close(walk.find("∂L/∂w2", None, "backward").value, gw[1])
    assert close(walk.find("∂L/∂b", None, "backward").value, gb)
    # one line per person, then their sum
    f = walk.find("∂L/∂w1", None, "backward").formula
    for n in range(4):
        assert f"person {n + 1}: " in f
        assert num((yhat[n] - y[n]) / 4 * x[n, 0]) in f
    assert f.splitlines()[-1].endswith(f"= {num(gw[0])}")
    assert close(walk.find("w2", None, "update").value, 1 - 0.5 * gw[1])


def test_stepping_leaves_the_model_alone_until_the_update_is_applied():
    model = insurance_neuron()
    batch = insurance_batch([2, 4])
    walk = walk_through(model, batch)
    w, b = model.get_weights()
    assert w.ravel().tolist() == [1.0, 1.0] and b.tolist() == [0.0]
    again = walk_through(model, batch)
    assert [s.value for s in again.steps] == [s.value for s in walk.steps]

    apply_update(model, walk)
    w, b = model.get_weights()
    g = walk.trace.layers[0].param_grads
    np.testing.assert_allclose(w, 1 - 0.5 * g["kernel"], rtol=1e-6)
    np.testing.assert_allclose(b, -0.5 * g["bias"], rtol=1e-6)
    nxt = walk_through(model, batch)
    assert nxt.loss < walk.loss          # one gradient step on the same batch lowers its loss
    assert nxt.find("w1", None, "update").formula.splitlines()[1].startswith(
        f"  = {num(w[0, 0])} − 0.5·")


def test_phases_come_in_order_and_every_number_is_tied_to_the_diagram():
    walk = walk_through(insurance_neuron(), insurance_batch([0, 1]))
    kinds = [s.kind for s in walk.steps]
    order = ["forward", "loss", "backward", "update", "check"]
    assert sorted(kinds, key=order.index) == kinds
    assert all(k in kinds for k in order)
    for s in walk.steps:
        if s.kind in ("update", "check") or s.symbol.startswith("∂L/∂w"):
            assert s.target.kind in ("edge", "bias")
        if s.value is not None:
            assert s.formula.splitlines()[0].startswith(s.symbol) or s.kind in ("check",)
    assert walk.find("w2", None, "update").target == Target("edge", 0, 1, 0)
    assert walk.find("b", None, "update").target == Target("bias", 0, 0)
    assert walk.find("x1, x2, y", 1).target.layer == -1


def test_gradient_check_agrees_with_backprop_and_flags_a_wrong_gradient():
    walk = walk_through(insurance_neuron(0.3, -1.2, 0.4), insurance_batch([0, 2, 5]))
    assert [c.param for c in walk.checks] == ["w1", "w2", "b"]
    for c in walk.checks:
        assert c.agrees
        assert c.analytic == pytest.approx(walk.find(c.symbol, None, "backward").value)
        assert c.numeric == pytest.approx((c.loss_plus - c.loss_minus) / (2 * c.h))
        assert c.rel_error < 1e-4
    wrong = GradientCheck("∂L/∂w1", "w1", Target("edge", 0, 0, 0), analytic=0.2, numeric=0.1,
                          loss_plus=1.000001, loss_minus=0.999999, h=1e-5)
    assert not wrong.agrees
    assert "DISAGREE" in _check_step(wrong).formula


def test_numbers_are_written_like_the_rest_of_the_app():
    fmt = pytest.importorskip("gui.widgets.numbers").fmt
    for v in (0.123456, -6.5501, 12345.6, 1e-9, 0.0, -0.0, 3.0, float("nan"), float("inf")):
        assert num(v) == fmt(v)


# --- hidden layers: an independent NumPy backprop -------------------------------------------

def numpy_backprop(weights, acts, loss, x, y):
    """Forward and backward in float64 for a Dense stack; returns (cache, grads)."""
    f = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh,
         "relu": lambda z: np.maximum(z, 0)}
    df = {"sigmoid": lambda z, a: a * (1 - a), "tanh": lambda z, a: 1 - a ** 2,
          "relu": lambda z, a: (z > 0).astype(float)}
    a = [np.asarray(x, np.float64)]
    zs = []
    for k, act in enumerate(acts):
        z = a[-1] @ weights[2 * k].astype(np.float64) + weights[2 * k + 1].astype(np.float64)
        zs.append(z)
        a.append(f[act](z))
    n = len(x)
    t = np.asarray(y, np.float64).reshape(-1, 1)
    p = a[-1]
    if loss == "binary_crossentropy":
        per = -(t * np.log(p) + (1 - t) * np.log(1 - p))[:, 0]
        da = (-t / p + (1 - t) / (1 - p)) / n
    else:
        per = ((p - t) ** 2)[:, 0]
        da = 2 * (p - t) / n
    grads, das, dzs = [None] * (2 * len(acts)), [None] * len(acts), [None] * len(acts)
    for k in range(len(acts) - 1, -1, -1):
        das[k] = da
        dz = da * df[acts[k]](zs[k], a[k + 1])
        dzs[k] = dz
        grads[2 * k] = a[k].T @ dz
        grads[2 * k + 1] = dz.sum(axis=0)
        da = dz @ weights[2 * k].astype(np.float64).T
    return {"z": zs, "a": a[1:], "da": das, "dz": dzs, "per": per}, grads


def finite_differences(weights, acts, loss, x, y, h=1e-6):
    def total(ws):
        return numpy_backprop(ws, acts, loss, x, y)[0]["per"].mean()
    out = []
    for k, w in enumerate(weights):
        g = np.zeros(w.shape)
        for idx in np.ndindex(w.shape):
            plus = [np.array(v, np.float64) for v in weights]
            minus = [np.array(v, np.float64) for v in weights]
            plus[k][idx] += h
            minus[k][idx] -= h
            g[idx] = (total(plus) - total(minus)) / (2 * h)
        out.append(g)
    return out


def test_one_hidden_layer_matches_numpy_backprop_step_by_step():
    model = hidden_layer_network(hidden=3, activation="tanh", seed=4)
    batch = insurance_batch([0, 2])
    walk = walk_through(model, batch)
    ws = walk.weights_before
    cache, grads = numpy_backprop(ws, ["tanh", "sigmoid"], "binary_crossentropy", batch.x,
                                  batch.y)
    for n in range(2):
        for j in range(3):
            assert close(walk.find(f"z¹{'₁₂₃'[j]}", n).value, cache["z"][0][n, j])
            assert close(walk.find(f"a¹{'₁₂₃'[j]}", n).value, cache["a"][0][n, j])
            assert close(walk.find(f"∂L/∂a¹{'₁₂₃'[j]}", n).value, cache["da"][0][n, j])
            assert close(walk.find(f"∂L/∂z¹{'₁₂₃'[j]}", n).value, cache["dz"][0][n, j])
        assert close(walk.find("ŷ", n).value, cache["a"][1][n, 0])
        assert close(walk.find("∂L/∂z²", n).value, cache["dz"][1][n, 0])
    sub = "₁₂₃"
    for i in range(2):
        for j in range(3):
            step = walk.find(f"∂L/∂w¹{sub[i]}{sub[j]}", None, "backward")
            assert close(step.value, grads[0][i, j])
            # the hidden weight's gradient is the product along its path to the loss
            assert (f"∂L/∂ŷ · ∂ŷ/∂z² · ∂z²/∂a¹{sub[j]} · ∂a¹{sub[j]}/∂z¹{sub[j]} · "
                    f"∂z¹{sub[j]}/∂w¹{sub[i]}{sub[j]}") in step.formula
            assert step.target == Target("edge", 0, i, j)
    for j in range(3):
        assert close(walk.find(f"∂L/∂w²{sub[j]}", None, "backward").value, grads[2][j, 0])
        assert close(walk.find(f"∂L/∂b¹{sub[j]}", None, "backward").value, grads[1][j])
    assert close(walk.find("∂L/∂b²", None, "backward").value, grads[3][0])
    # every update step is w − η·g for the weight its target names
    for s in walk.steps:
        if s.kind == "update":
            t = s.target
            k = 2 * t.layer + (0 if t.kind == "edge" else 1)
            idx = (t.i, t.j) if t.kind == "edge" else (t.i,)
            assert close(s.value, ws[k][idx] - 0.5 * grads[k][idx])
            assert close(s.value, walk.weights_after[k][idx], rel=1e-6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), hidden=st.lists(st.integers(1, 3), min_size=1, max_size=2),
       act=st.sampled_from(["sigmoid", "tanh", "relu"]),
       loss=st.sampled_from(["binary_crossentropy", "mean_squared_error"]),
       n=st.integers(1, 4), lr=st.sampled_from([0.05, 0.5, 2.0]))
def test_random_networks_against_numpy_and_finite_differences(seed, hidden, act, loss, n, lr):
    rng = np.random.default_rng(seed)
    layers = [Dense(h, activation=act) for h in hidden] + [Dense(1, activation="sigmoid")]
    model = Sequential(layers, input_shape=(2,), seed=seed)
    ws = [rng.normal(0, 0.8, w.shape).astype(np.float32) for w in model.get_weights()]
    model.set_weights(ws)
    model.compile(optimizer=SGD(lr), loss=loss)
    x = rng.normal(0, 1, (n, 2)).astype(np.float32)
    y = rng.integers(0, 2, n)
    walk = walk_through(model, Batch(x=x, y=y, labels=[f"s{k}" for k in range(n)]))
    acts = [act] * len(hidden) + ["sigmoid"]
    cache, grads = numpy_backprop(ws, acts, loss, x, y)
    fd = finite_differences(ws, acts, loss, x, y)
    assert close(walk.loss, cache["per"].mean(), rel=1e-5)
    checks = iter(walk.checks)
    for s in walk.steps:
        if s.kind != "update":
            continue
        t = s.target
        k = 2 * t.layer + (0 if t.kind == "edge" else 1)
        idx = (t.i, t.j) if t.kind == "edge" else (t.i,)
        g = grads[k][idx]
        grad_step = walk.find("∂L/∂" + s.symbol, None, "backward")
        assert grad_step.target == t
        assert math.isclose(grad_step.value, g, rel_tol=1e-4, abs_tol=1e-6)
        assert math.isclose(grad_step.value, fd[k][idx], rel_tol=1e-3, abs_tol=1e-6)
        assert math.isclose(s.value, ws[k][idx] - lr * g, rel_tol=1e-5, abs_tol=1e-6)
        c = next(checks)
        assert c.param == s.symbol and c.target == t
        assert math.isclose(c.numeric, fd[k][idx], rel_tol=1e-4, abs_tol=1e-7)
        assert c.agrees
        # the product written out (per sample, then summed) lands on the value shown
        assert grad_step.formula.splitlines()[-1].endswith(num(g)) or \
            math.isclose(float(grad_step.formula.rsplit("= ", 1)[1]), g, rel_tol=2e-3,
                         abs_tol=1e-6)
    np.testing.assert_array_equal(model.get_weights()[0], ws[0])


def test_a_weight_reaching_the_loss_by_several_paths_sums_their_products():
    model = Sequential([Dense(2, activation="tanh"), Dense(2, activation="sigmoid"),
                        Dense(1, activation="sigmoid")], input_shape=(2,), seed=3)
    model.compile(optimizer=SGD(0.1), loss="binary_crossentropy")
    batch = Batch(x=np.array([[0.3, -0.7]], np.float32), y=np.array([1]), labels=["s"])
    walk = walk_through(model, batch)
    f = walk.find("∂L/∂w¹₁₂", None, "backward").formula
    first = f.splitlines()
    # two hidden units in layer 2, so two paths from w¹₁₂ to the loss
    assert "∂z³/∂a²₁" in f and "∂z³/∂a²₂" in f
    assert first[1].lstrip().startswith("+ ")
    cache, grads = numpy_backprop(walk.weights_before, ["tanh", "sigmoid", "sigmoid"],
                                  "binary_crossentropy", batch.x, batch.y)
    assert close(walk.find("∂L/∂w¹₁₂", None, "backward").value, grads[0][0, 1])
    # the gradient reaching a¹₁ is a sum over the two units it feeds
    node = walk.find("∂L/∂a¹₁", 0).formula
    assert node.splitlines()[0] == "∂L/∂a¹₁ = ∂L/∂z²₁ · ∂z²₁/∂a¹₁ + ∂L/∂z²₂ · ∂z²₂/∂a¹₁"
    assert "with ∂z²₁/∂a¹₁ = w²₁₁, ∂z²₂/∂a¹₁ = w²₁₂" in node
    assert close(walk.find("∂L/∂a¹₁", 0).value, cache["da"][0][0, 0])


def test_not_plain_sgd_shows_the_update_the_optimizer_chose():
    model = Sequential([Dense(1, activation="sigmoid")], input_shape=(2,))
    model.set_weights([np.ones((2, 1)), np.zeros(1)])
    model.compile(optimizer=Adam(0.1), loss="binary_crossentropy")
    walk = walk_through(model, insurance_batch([0]))
    step = walk.find("w1", None, "update")
    assert "w1 ← w1 + Δw1" in step.formula
    assert walk.learning_rate is None
    # Adam's first step moves every weight by about its learning rate
    assert step.value == pytest.approx(0.9, abs=1e-3)


def test_models_and_batches_it_cannot_write_out_are_refused_clearly():
    with pytest.raises(ValueError, match="Dense"):
        m = Sequential([Conv2D(1, 2), Flatten(), Dense(1, activation="sigmoid")],
                       input_shape=(3, 3, 1))
        m.compile(optimizer=SGD(0.1), loss="binary_crossentropy")
        walk_through(m, Batch(x=np.zeros((1, 3, 3, 1), np.float32), y=np.zeros(1), labels=["a"]))
    with pytest.raises(ValueError, match="compile"):
        walk_through(Sequential([Dense(1, activation="sigmoid")], input_shape=(2,)),
                     insurance_batch([0]))
    two_out = Sequential([Dense(2, activation="sigmoid")], input_shape=(2,))
    two_out.compile(optimizer=SGD(0.1), loss="binary_crossentropy")
    with pytest.raises(ValueError, match="one output"):
        walk_through(two_out, insurance_batch([0]))
    with pytest.raises(ValueError, match="1 to 8"):
        walk_through(insurance_neuron(), insurance_batch(list(range(9))))
    with pytest.raises(ValueError, match="person 29"):
        insurance_batch([28])
    with pytest.raises(ValueError, match="hidden"):
        hidden_layer_network(hidden=12)


# --- the chain-rule graph ------------------------------------------------------------------

def test_chain_graph_multiplies_local_derivatives_along_each_path():
    x1, x2, y, w1, w2, b = 0.47, 1.0, 1, 0.5, -1.5, 0.25
    g = neuron_chain(x1, x2, y, w1, w2, b)
    z = w1 * x1 + w2 * x2 + b
    yhat = sigmoid(z)
    loss = -math.log(yhat)
    dl_dyhat = -1 / yhat
    dyhat_dz = yhat * (1 - yhat)
    assert close(g.nodes["z"].value, z)
    assert close(g.nodes["ŷ"].value, yhat)
    assert close(g.nodes["L"].value, loss)
    assert close(g.edge("ŷ", "L").value, dl_dyhat)
    assert close(g.edge("z", "ŷ").value, dyhat_dz)
    assert close(g.edge("w1", "z").value, x1)
    assert close(g.edge("w2", "z").value, x2)
    assert g.edge("b", "z").value == 1.0
    assert g.edge("y", "L").value is None
    assert [s.node for s in g.backward] == ["L", "ŷ", "z", "w1", "w2", "b"]
    expected = {"L": 1.0, "ŷ": dl_dyhat, "z": yhat - y, "w1": (yhat - y) * x1,
                "w2": (yhat - y) * x2, "b": yhat - y}
    for s in g.backward:
        assert close(s.value, expected[s.node])
        assert s.path[0] == "L" and s.path[-1] == s.node
        if s.factors:
            assert close(math.prod(v for _, v in s.factors), s.value, rel=1e-4)
    w1_step = g.backward[3]
    assert w1_step.formula.splitlines()[0] == "∂L/∂w1 = ∂L/∂ŷ · ∂ŷ/∂z · ∂z/∂w1"
    assert f"· 0.47 = {num((yhat - y) * x1)}" in w1_step.formula
    assert "1.5" in g.nodes["z"].formula          # hover text has the numbers in
    with pytest.raises(ValueError):
        neuron_chain(0.2, 1, 2)
