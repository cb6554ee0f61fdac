"""One step chooser (core.fast.plan) and the optimizer's own rule on every path."""

import numpy as np
import pytest

from core.fast import plan as P
from core.layers import Conv2D, Dense, Flatten, MaxPool2D
from core.model import Sequential
from core.optimizers import SGD, Adam, FusedRule


def _dense(opt):
    m = Sequential([Flatten(), Dense(6, activation="relu"), Dense(3, activation="softmax")],
                   input_shape=(4, 4, 1), seed=1)
    m.compile(optimizer=opt, loss="sparse_categorical_crossentropy")
    return m


def _data(n=8):
    rng = np.random.default_rng(0)
    return rng.random((n, 4, 4, 1), dtype=np.float32), rng.integers(0, 3, n)


def test_each_model_gets_its_way():
    m = _dense(SGD(0.1))
    assert m._plan.kind(m) == P.WHOLE_STEP
    assert m._plan.kind(m, record=True) == P.TRACED
    assert m._plan.kind(m, weighted=True) == P.LAYER_BY_LAYER
    cnn = Sequential([Conv2D(2, 3, activation="relu"), MaxPool2D(2), Flatten(),
                      Dense(3, activation="softmax")], input_shape=(8, 8, 1), seed=0)
    cnn.compile(optimizer=SGD(0.1), loss="sparse_categorical_crossentropy")
    assert cnn._plan.kind(cnn) == P.FUSED_PAIRS


def test_the_choice_follows_the_optimizer_between_steps():
    m = _dense(SGD(0.1))
    x, y = _data()
    m.train_on_batch(x, y)
    m.optimizer.momentum = 0.9  # a lesson may change it between steps
    assert m._plan.kind(m) == P.LAYER_BY_LAYER
    m.train_on_batch(x, y)
    m.optimizer.momentum = 0.0
    assert m._plan.kind(m) == P.WHOLE_STEP
    m.compile(optimizer=Adam(0.01), loss="sparse_categorical_crossentropy")
    assert m._plan.kind(m) == P.LAYER_BY_LAYER
    m.train_on_batch(x, y)
    assert m.optimizer.iterations == 1


def test_optimizers_offer_their_rule_and_count_their_steps():
    sgd = SGD(0.05)
    rule = sgd.fused_rule()
    assert rule == FusedRule("sgd", np.float32(0.05))
    assert type(rule.learning_rate) is np.float32
    assert SGD(0.05, momentum=0.5).fused_rule() is None
    assert Adam().fused_rule() is None
    sgd.count_step()
    assert sgd.iterations == 1


def test_the_whole_step_asks_the_optimizer_and_counts_through_it(monkeypatch):
    m = _dense(SGD(0.1))
    asked, counted = [], []
    opt = m.optimizer
    real_rule, real_count = opt.fused_rule, opt.count_step
    monkeypatch.setattr(opt, "fused_rule", lambda: asked.append(1) or real_rule())
    monkeypatch.setattr(opt, "count_step", lambda: counted.append(1) or real_count())
    x, y = _data()
    m.train_on_batch(x, y)
    assert asked and counted == [1] and opt.iterations == 1
    opt.learning_rate = 0.5  # the next step uses the new rate
    w = m.get_weights()
    m.train_on_batch(x, y)
    g = [lay.grads[k] for lay in m.layers for k in ("kernel", "bias") if k in lay.grads]
    for before, grad, after in zip(w, g, m.get_weights()):
        np.testing.assert_array_equal(after, before + np.float32(-0.5) * grad)


@pytest.mark.parametrize("shape", [(7, 5), (300, 300), (11,), (3, 3, 2, 4)])
def test_sgd_rule_in_numpy_and_as_a_kernel_give_the_same_bits(shape):
    rng = np.random.default_rng(len(shape))
    p = rng.standard_normal(shape).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    opt_numpy, opt_kernel = SGD(0.037), SGD(0.037)
    a, b = p.copy(), p.copy()
    updates = opt_numpy.apply([a], [g], return_updates=True)      # SGD._update, NumPy
    assert opt_kernel.apply([b], [g], return_updates=False) is None  # core.kernels.sgd
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, p + np.float32(-0.037) * g)
    np.testing.assert_array_equal(updates[0], np.float32(-0.037) * g)


def test_traced_and_plain_steps_train_alike():
    x, y = _data()
    a, b = _dense(SGD(0.1)), _dense(SGD(0.1))
    for _ in range(2):
        la = a.train_on_batch(x, y)
        tb = b.trace_step(x, y)
        assert la["loss"] == pytest.approx(tb.loss, rel=1e-6)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6, atol=1e-7)
