"""Predict, then reveal: each question's true answer is the number the lesson reveals next,
checked against plain NumPy (issue 15 item 15)."""
import math

import numpy as np
import pytest

from core.teaching import predict, stepper, surfaces


def _sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def test_stepper_questions_match_the_forward_pass_and_the_update_in_numpy():
    lr = 0.5
    model = stepper.insurance_neuron(1.0, 1.0, 0.0, lr)
    walk = stepper.walk_through(model, stepper.insurance_batch([0]))
    raw, bought = stepper.insurance_table()
    x = np.array([raw[0, 0] / 100.0, raw[0, 1]])
    y = bought[0]
    z = x @ np.array([1.0, 1.0]) + 0.0
    yhat = _sigmoid(z)
    grads = {"w1": (yhat - y) * x[0], "w2": (yhat - y) * x[1], "b": yhat - y}
    asked = {}
    for k in range(len(walk.steps)):
        q = predict.stepper_question(walk, k)
        if q is not None:
            asked[walk.steps[k].symbol] = q
    assert asked["z"].choices[asked["z"].answer] == ("positive" if z > 0 else "negative")
    assert asked["ŷ"].choices[asked["ŷ"].answer] == ("above 50 %" if yhat > 0.5
                                                        else "below 50 %")
    for name, old in (("w1", 1.0), ("w2", 1.0), ("b", 0.0)):
        new = old - lr * grads[name]
        want = "goes up" if new > old else "goes down" if new < old else "stays the same"
        q = asked[name]
        assert q.choices[q.answer] == want
        assert f"{predict.fmt(new)}" in q.truth
    # the inputs, the loss and the gradient check are not predictions
    assert predict.stepper_question(walk, 0) is None
    assert predict.stepper_question(walk, walk.first("check")) is None


def test_a_zero_gradient_is_its_own_answer_not_a_sign():
    # person 2 of the table cannot afford insurance: x2 = 0 makes ∂L/∂w2 exactly 0
    raw, bought = stepper.insurance_table()
    k = int(np.flatnonzero(raw[:, 1] == 0)[0])
    graph = stepper.neuron_chain(raw[k, 0] / 100.0, 0.0, int(bought[k]))
    step = next(i for i, s in enumerate(graph.backward, 1) if s.node == "w2")
    q = predict.chain_question(graph, step)
    assert q.choices[q.answer] == "exactly zero"


def test_chain_questions_give_the_gradients_sign_from_numpy():
    x1, x2, y = 0.47, 1.0, 1
    graph = stepper.neuron_chain(x1, x2, y, 0.3, -2.0, 0.5)
    yhat = _sigmoid(0.3 * x1 - 2.0 * x2 + 0.5)
    want = {"z": yhat - y, "w1": (yhat - y) * x1, "w2": (yhat - y) * x2, "b": yhat - y}
    seen = set()
    for step in range(1, len(graph.backward) + 1):
        q = predict.chain_question(graph, step)
        node = graph.backward[step - 1].node
        if node in want:
            assert q.choices[q.answer] == ("positive" if want[node] > 0 else "negative")
            seen.add(node)
    assert seen == set(want)
    assert predict.chain_question(graph, 1) is None        # ∂L/∂L = 1


def _log_loss(x, y, w1, w2, b):
    p = 1.0 / (1.0 + np.exp(-(x[:, 0] * w1 + x[:, 1] * w2 + b)))
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


@pytest.mark.parametrize("lr, answer", [(0.5, "the loss falls"), (10.0, "the loss rises")])
def test_descent_question_predicts_the_next_epochs_loss(lr, answer):
    run = surfaces.NeuronDescent(learning_rate=lr)
    x, y = np.asarray(run.data.x, float), np.asarray(run.data.y, float).ravel()
    w1, w2, b = run.weights
    p = 1.0 / (1.0 + np.exp(-(x[:, 0] * w1 + x[:, 1] * w2 + b)))
    g = [np.mean((p - y) * x[:, 0]), np.mean((p - y) * x[:, 1]), np.mean(p - y)]
    after = _log_loss(x, y, w1 - lr * g[0], w2 - lr * g[1], b - lr * g[2])
    q = predict.descent_question(run)
    assert q.choices[q.answer] == answer
    run.step()
    assert run.losses[-1] == pytest.approx(after, rel=1e-4)
    assert predict.fmt(run.losses[-1]) in q.truth


def test_descent_asks_often_at_first_then_at_milestones():
    assert [e for e in range(20) if predict.asks_at_epoch(e)] == [0, 1, 2, 4, 8, 16]


def test_rnn_question_is_the_sign_of_tanh_of_the_recurrence():
    from core.teaching import rnn_steps as rs

    model = rs.make_model(seed=3)
    weights = [np.array(w) for w in model.get_weights()]
    seq = np.array([0.5, -1.0, 2.0])
    walk = rs.walk_through(weights, seq)
    W, U, b = (walk.weights[k].astype(float) for k in ("kernel", "recurrent_kernel", "bias"))
    h = np.zeros(walk.units)
    for t, x in enumerate(seq):
        h = np.tanh(x * W[0] + h @ U + b)
        index = next(i for i, s in enumerate(walk.steps) if s.phase == "forward" and s.t == t + 1)
        q = predict.rnn_question(walk, index)
        assert q.choices[q.answer] == ("positive" if h[0] > 0 else "negative")
    index = next(i for i, s in enumerate(walk.steps) if s.quantity == "ŷ")
    q = predict.rnn_question(walk, index)
    assert q.choices[q.answer] == ("above y" if walk.prediction >= walk.target else "below y")


def test_the_verdict_says_right_or_not_quite_with_the_true_value():
    q = predict.sign_question("z", -0.66, "z = w·x + b")
    assert q.verdict(1).startswith("Right! z = -0.66")
    assert q.verdict(0).startswith("Not quite — the answer is “negative”: z = -0.66")
    score = predict.Score()
    score.record(True)
    score.record(False)
    assert score.text() == "Score: 1 of 2 right"
