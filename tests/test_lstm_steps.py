"""The numbers behind the LSTM lesson: every gate, the cell state and the hidden state of
the cell walk against the LSTM formulas computed here in plain NumPy from the weights; the
memory task's data and its gradient through time."""
import numpy as np
import pytest

from core.teaching import lstm_steps as ls


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def reference(weights, seq):
    """The LSTM by its formulas, float64, Keras's gate order i, f, c, o."""
    w, u, b = (np.asarray(a, np.float64) for a in weights[:3])
    m = u.shape[0]
    h, c = np.zeros(m), np.zeros(m)
    rows = []
    for x in seq:
        z = np.array([x]) @ w + h @ u + b
        i, f = sig(z[:m]), sig(z[m:2 * m])
        g, o = np.tanh(z[2 * m:3 * m]), sig(z[3 * m:])
        c_prev = c
        c = f * c + i * g
        h = o * np.tanh(c)
        rows.append(dict(f=f, i=i, g=g, o=o, c=c, h=h, c_prev=c_prev))
    return rows


@pytest.mark.parametrize("seed", [0, 3, 7])
def test_every_stage_matches_the_formulas(seed):
    weights = ls.cell_model(seed=seed).get_weights()
    seq = [0.5, -0.3, 0.8, 0.1]
    walks = ls.cell_walks(weights, seq)
    ref = reference(weights, seq)
    assert len(walks) == 4
    for step, r in zip(walks, ref):
        for symbol, key in (("f", "f"), ("i", "i"), ("c̃", "g"), ("o", "o"), ("c", "c"),
                            ("h", "h")):
            np.testing.assert_allclose(step.stage(symbol).value, r[key], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(step.c_prev, r["c_prev"], atol=1e-6)
    # the formula shows this step's numbers, written without scientific notation
    s = walks[1].stage("c")
    assert s.formula == "c_t = f · c_(t−1) + i · c̃"
    assert ls.vec(ref[1]["c"]) in s.numbers and ls.vec(ref[0]["c"]) in s.numbers
    assert all("e-" not in st.numbers for w in walks for st in w.stages)


def test_a_step_outside_the_sequence_is_a_sentence():
    weights = ls.cell_model().get_weights()
    with pytest.raises(ValueError, match="outside the sequence"):
        ls.cell_walk(weights, [0.1, 0.2], 3)


def test_the_walk_does_not_move_the_weights():
    model = ls.cell_model(seed=1)
    before = [w.copy() for w in model.get_weights()]
    ls.cell_walks(model.get_weights(), [0.2, 0.4])
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_memory_data_hides_the_sign_in_the_first_step():
    x, y = ls.memory_data(200, seed=4)
    assert x.shape == (200, ls.MEMORY_STEPS, 2)
    np.testing.assert_array_equal(x[:, 0, 0] > 0, y[:, 0] == 1)
    assert np.all(x[:, 0, 1] == 1) and np.all(x[:, 1:, 1] == 0)
    assert np.abs(x[:, 1:, 0]).std() > 0.5           # the later steps are noise


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM"])
def test_memory_gradients_are_the_traced_norm_per_step_and_leave_the_model(kind):
    model = ls.memory_model(kind, seed=0, steps=10)
    x, y = ls.memory_data(16, seed=1, steps=10)
    before = [w.copy() for w in model.get_weights()]
    grads = ls.memory_gradients(model, x, y)
    assert grads.shape == (10,) and np.all(np.isfinite(grads)) and np.all(grads >= 0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    # the same numbers straight from a traced step on an identical copy
    copy = ls.memory_model(kind, seed=0, steps=10)
    dh = copy.trace_step(x, y).layers[0].extras["grad_hidden_states"].astype(np.float64)
    np.testing.assert_allclose(grads, np.sqrt((dh ** 2).sum(axis=(0, 2))), rtol=1e-5)
