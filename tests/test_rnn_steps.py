"""core.teaching.rnn_steps: the numbers of the "What is an RNN" lesson, against plain NumPy.

The references here are written from the equations (h_t = tanh(x_t·W + h_{t−1}·U + b),
ŷ = h_T·V + c, L = (ŷ − y)²) in float64, independently of the engine; gradients are also
checked by centred finite differences of that loss.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from core.teaching import rnn_steps as rs


def _weights(units=2, seed=3):
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 0.7, (1, units)).astype(np.float32),
            rng.normal(0, 0.5, (units, units)).astype(np.float32),
            rng.normal(0, 0.2, units).astype(np.float32),
            rng.normal(0, 0.8, (units, 1)).astype(np.float32),
            rng.normal(0, 0.2, 1).astype(np.float32)]


def _forward(weights, seq):
    W, U, b, V, c = (np.asarray(w, np.float64) for w in weights)
    h = np.zeros(U.shape[0])
    hs = []
    for x in np.asarray(seq, np.float64):
        h = np.tanh(x * W[0] + h @ U + b)
        hs.append(h)
    return np.array(hs), float(h @ V[:, 0] + c[0])


def _loss(weights, seq, target):
    return (_forward(weights, seq)[1] - target) ** 2


def _bptt(weights, seq, target):
    """∂L/∂h_t for every t, and ∂L/∂W, ∂L/∂U, ∂L/∂b, by the chain rule written out."""
    W, U, b, V, c = (np.asarray(w, np.float64) for w in weights)
    hs, y = _forward(weights, seq)
    T, u = hs.shape
    dh = np.zeros((T, u))
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros_like(b)
    carry = 2 * (y - target) * V[:, 0]
    for t in range(T - 1, -1, -1):
        dh[t] = carry
        dz = carry * (1 - hs[t] ** 2)
        h_prev = hs[t - 1] if t else np.zeros(u)
        dW[0] += seq[t] * dz
        dU += np.outer(h_prev, dz)
        db += dz
        carry = U @ dz
    return dh, dW, dU, db


def _finite_difference(weights, seq, target, k, eps=1e-6):
    base = [np.asarray(w, np.float64) for w in weights]
    grad = np.zeros_like(base[k])
    for idx in np.ndindex(base[k].shape):
        plus = [w.copy() for w in base]
        minus = [w.copy() for w in base]
        plus[k][idx] += eps
        minus[k][idx] -= eps
        grad[idx] = (_loss(plus, seq, target) - _loss(minus, seq, target)) / (2 * eps)
    return grad


@pytest.mark.parametrize("units,length", [(1, 1), (2, 3), (2, 5), (3, 8), (3, 12)])
def test_walk_forward_matches_the_recurrence(units, length):
    weights = _weights(units, seed=units + length)
    seq = rs.running_sum_data(1, length, seed=length)[0].reshape(-1)
    walk = rs.walk_through(weights, seq)
    hs, y = _forward(weights, seq)
    np.testing.assert_allclose(walk.hidden, hs, rtol=1e-5, atol=1e-6)
    assert walk.prediction == pytest.approx(y, abs=1e-5)
    assert walk.loss == pytest.approx((y - seq.sum()) ** 2, rel=1e-4, abs=1e-7)
    forward = [s for s in walk.steps if s.phase == "forward" and s.t is not None]
    assert [s.t for s in forward] == list(range(1, length + 1))
    for s in forward:
        np.testing.assert_allclose(s.value, hs[s.t - 1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("units,length", [(1, 2), (2, 5), (3, 7)])
def test_backward_through_time_matches_the_chain_rule_and_finite_differences(units, length):
    weights = _weights(units, seed=10 + length)
    seq = rs.running_sum_data(1, length, seed=20 + length)[0].reshape(-1).astype(np.float64)
    target = float(seq.sum()) + 0.3          # never already right: gradients are not tiny
    walk = rs.walk_through(weights, seq, target)
    dh, dW, dU, db = _bptt(weights, seq, target)
    np.testing.assert_allclose(walk.grad_hidden, dh, rtol=1e-4, atol=1e-6)
    for key, ref, k in (("kernel", dW, 0), ("recurrent_kernel", dU, 1), ("bias", db, 2)):
        np.testing.assert_allclose(walk.grads[key], ref, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(walk.grads[key], _finite_difference(weights, seq, target, k),
                                   rtol=1e-3, atol=1e-5)
    # the shares the lesson writes out, step by step, add up to the engine's gradients
    share_w, share_u, share_b = walk.weight_grad_shares()
    np.testing.assert_allclose(share_w.sum(axis=0), walk.grads["kernel"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(share_u.sum(axis=0), walk.grads["recurrent_kernel"], rtol=1e-4,
                               atol=1e-6)
    np.testing.assert_allclose(share_b.sum(axis=0), walk.grads["bias"], rtol=1e-4, atol=1e-6)
    backward = [s.t for s in walk.steps if s.phase == "backward" and s.t is not None]
    assert backward == sorted(backward, reverse=True) and backward[0] == length


def test_update_is_sgd_and_the_learners_weights_stay_put():
    weights = _weights(2)
    before = [w.copy() for w in weights]
    walk = rs.walk_through(weights, [0.3, -0.1, 0.4], learning_rate=0.1)
    for w, b in zip(weights, before):
        np.testing.assert_array_equal(w, b)
    updates = {s.quantity: s.value for s in walk.steps if s.phase == "update"}
    _, dW, dU, db = _bptt(weights, np.array([0.3, -0.1, 0.4]), 0.6)
    np.testing.assert_allclose(updates["new W"], (weights[0] - 0.1 * dW).ravel(), atol=1e-5)
    np.testing.assert_allclose(updates["new U"], (weights[1] - 0.1 * dU).ravel(), atol=1e-5)
    np.testing.assert_allclose(updates["new b"], weights[2] - 0.1 * db, atol=1e-5)


def test_formulas_show_the_traces_numbers_and_never_scientific_notation():
    weights = _weights(2)
    weights[2][:] = 1e-6                   # tiny numbers must still read as decimals
    walk = rs.walk_through(weights, [0.3, -0.1, 0.4, 0.2, -0.5])
    first = walk.steps[0]
    assert first.quantity == "h₁"
    assert rs.plain(walk.hidden[0][0]) in first.formula
    for s in walk.steps:
        assert not re.search(r"\de[+-]\d", s.formula + s.value_text()), s.formula
    assert rs.plain(1.234e-5) == "0.00001234"
    assert rs.plain(-0.5) == "-0.5"


def test_dense_refuses_other_lengths_and_the_rnn_weights_read_any_length():
    dense = rs.dense_model(5)
    assert dict(rs.weight_shapes(dense))["dense.kernel"] == (5, 1)
    refused = rs.feed(dense, np.zeros(8))
    assert not refused.ok and "(batch, 5, 1)" in refused.message
    assert rs.feed(dense, np.zeros(5)).ok
    refused = rs.feed(dense, np.zeros(6))           # built for T, refuses T + 1
    assert not refused.ok and "got (1, 6, 1)" in refused.message
    assert "Flatten cannot read sequences of any length" in rs.dense_any_length_refusal()
    weights = _weights(3)
    seqs = rs.demo_sequences()
    assert [len(s) for s in seqs] == [2, 5, 10, 20]
    results = rs.rnn_on_lengths(weights, seqs)
    for seq, res in zip(seqs, results):
        assert res.ok
        assert res.prediction == pytest.approx(_forward(weights, seq)[1], abs=1e-5)
    # one model, built once for any length, reads them all
    model = rs.any_length(weights)
    assert model.input_shape == (None, 1)
    for seq in seqs:
        assert rs.feed(model, seq).prediction == pytest.approx(_forward(weights, seq)[1],
                                                               abs=1e-5)


def test_the_tiny_rnn_learns_the_running_sum():
    x, y = rs.running_sum_data(512, rs.TRAIN_LENGTH, seed=0)
    assert np.allclose(y, x.sum(axis=1))
    model = rs.make_model(2, seed=0)
    assert model.input_shape == (None, 1)   # built for any length, trained on one
    history = model.fit(x, y, epochs=40, batch_size=32, seed=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
    xt, yt = rs.running_sum_data(300, rs.TRAIN_LENGTH, seed=7)
    mse = float(((model.predict(xt) - yt) ** 2).mean())
    assert mse < 0.05 * float(yt.var())


@pytest.mark.parametrize("text,words", [("", "Type a few numbers"),
                                        ("0.3, abc", "“abc” is not a number"),
                                        (", ".join(["0.1"] * 13), "At most 12"),
                                        ("0.1, 50", "between -10 and 10"),
                                        ("nan", "between -10 and 10")])
def test_a_bad_sequence_gets_a_sentence(text, words):
    with pytest.raises(ValueError, match=words):
        rs.parse_sequence(text)


def test_sequences_parse_with_commas_or_spaces():
    np.testing.assert_allclose(rs.parse_sequence("0.3, -0.1 0.4;0.2"), [0.3, -0.1, 0.4, 0.2],
                               rtol=1e-6)
