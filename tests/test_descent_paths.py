"""The descent paths of "Optimizers on the loss surface", against independent NumPy.

Every reference here is written from the textbook formulas in float64, not from the code
under test: full-batch steps w ← w − η·(1/N)Σ(σ(x·w + b) − y)·x, the per-example and
per-mini-batch steps in the shuffled order, momentum v ← μv − ηg, w ← w + v, and Adam with
its bias-corrected moments.
"""
import math

import numpy as np
import pytest

from core.data import load_insurance_course_table
from core.teaching import descent_paths as dp
from core.teaching.surfaces import make_neuron

EPOCHS = 12


@pytest.fixture(scope="module")
def problem():
    return dp.insurance_plane()


def _course_xy():
    """The course's table as the notes write it: age / 100 and affordability, float64."""
    table = load_insurance_course_table()
    x = np.column_stack([table.x[:, 0] / 100.0, table.x[:, 1]]).astype(np.float64)  # (28, 2)
    return x, table.y.astype(np.float64)


def _grad(w, x, y, b):
    p = 1.0 / (1.0 + np.exp(-(x @ w + b)))                                   # (B,)
    return (x * (p - y)[:, None]).mean(axis=0)                                 # (2,)


def _log_loss(w, x, y, b):
    p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _best_bias(x, y):
    """The full neuron's best bias, by plain gradient descent to convergence (float64)."""
    xb = np.column_stack([x, np.ones(len(x))])
    w = np.zeros(3)
    for _ in range(200):   # Newton: the log loss is convex
        p = 1.0 / (1.0 + np.exp(-(xb @ w)))
        g = xb.T @ (p - y) / len(y)
        h = (xb * (p * (1 - p))[:, None]).T @ xb / len(y)
        w -= np.linalg.solve(h, g)
    return w


def test_the_map_is_the_insurance_neuron_with_its_best_bias(problem):
    x, y = _course_xy()
    best = _best_bias(x, y)
    assert len(problem) == 28
    assert problem.bias == pytest.approx(best[2], abs=1e-4)
    # the map's bottom is the full neuron's optimum: b held at b*, (w1, w2) free
    w1, w2, loss = problem.minimum()
    assert (w1, w2) == pytest.approx((best[0], best[1]), abs=1e-3)
    assert loss == pytest.approx(_log_loss(best[:2], x, y, best[2]), abs=1e-5)
    # the surface is the true loss of (w1, w2) at that bias
    for w in ((1.0, 1.0), (5.0, -2.0), (13.0, 2.0)):
        assert float(problem.loss(*w)) == pytest.approx(_log_loss(np.array(w), x, y, problem.bias),
                                                        rel=1e-5)


def test_the_gradient_is_the_engines_backward(problem):
    """(1/B)Σ(ŷ − y)·x is what the engine's backward pass computes for w1, w2."""
    rows = np.array([3, 7, 11, 20])
    for w in ((1.0, 1.0), (8.0, 4.0)):
        trace = make_neuron(w[0], w[1], problem.bias).trace_step(problem.x[rows], problem.y[rows])
        kernel = trace.layers[0].param_grads["kernel"][:, 0]
        np.testing.assert_allclose(problem.gradient(w, rows), kernel, rtol=1e-5, atol=1e-7)


def test_batch_path_is_full_gradient_steps(problem):
    x, y = _course_xy()
    ps = dp.batch_variants(problem, learning_rate=2.0, mini_batch=4, epochs=EPOCHS)
    batch = ps.by_key("batch")
    assert batch.updates == EPOCHS and batch.batch_size == 28
    w = np.array([1.0, 1.0])
    expected = [w.copy()]
    for _ in range(EPOCHS):
        w = w - 2.0 * _grad(w, x, y, problem.bias)
        expected.append(w.copy())
    np.testing.assert_allclose(batch.points, np.array(expected), rtol=1e-4, atol=1e-4)
    # each point's loss is the surface's value there, on all the data
    np.testing.assert_allclose(batch.losses, [_log_loss(p, x, y, problem.bias) for p in expected],
                               rtol=1e-4)
    # the path goes downhill: a smooth descent at this rate
    assert np.all(np.diff(batch.losses) < 0)


@pytest.mark.parametrize("key,size", [("sgd", 1), ("mini", 4)])
def test_stochastic_and_mini_batch_paths_step_per_batch_in_the_shuffled_order(problem, key, size):
    x, y = _course_xy()
    ps = dp.batch_variants(problem, learning_rate=2.0, mini_batch=4, epochs=3, seed=5)
    path = ps.by_key(key)
    per_epoch = math.ceil(28 / size)
    assert path.updates == 3 * per_epoch
    rng = np.random.default_rng(5)
    w = np.array([1.0, 1.0])
    expected, seen = [w.copy()], [0]
    for _ in range(3):
        order = rng.permutation(28)
        for lo in range(0, 28, size):
            rows = order[lo:lo + size]
            w = w - 2.0 * _grad(w, x[rows], y[rows], problem.bias)
            expected.append(w.copy())
            seen.append(seen[-1] + len(rows))
    np.testing.assert_allclose(path.points, np.array(expected), rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(path.examples, seen)
    assert path.epoch_at(path.updates) == 3


def test_three_variants_share_start_and_differ_in_noise(problem):
    ps = dp.batch_variants(problem, learning_rate=2.0, mini_batch=4, epochs=30)
    batch, sgd, mini = (ps.by_key(k) for k in ("batch", "sgd", "mini"))
    for p in (batch, sgd, mini):
        assert tuple(p.points[0]) == (1.0, 1.0)
        assert p.examples[-1] == 30 * 28     # all three saw the same examples
    assert (batch.updates, sgd.updates, mini.updates) == (30, 840, 210)

    def wiggle(p):  # how often the loss went up from one update to the next
        return float(np.mean(np.diff(p.losses) > 0))
    assert wiggle(batch) == 0 and wiggle(sgd) > wiggle(mini) > 0
    # times: updates × one update's time, never decreasing
    for p in (batch, sgd, mini):
        assert p.seconds[0] == 0 and np.all(np.diff(p.seconds) >= 0)


def test_replay_clock_events_are_every_update(problem):
    ps = dp.batch_variants(problem, learning_rate=2.0, mini_batch=4, epochs=2)
    events = ps.events()
    np.testing.assert_array_equal(events, np.arange(1, 57))   # stochastic: each example
    sgd, batch, mini = ps.by_key("sgd"), ps.by_key("batch"), ps.by_key("mini")
    assert [batch.updates_done(e) for e in (0, 27, 28, 55, 56)] == [0, 0, 1, 1, 2]
    assert [mini.updates_done(e) for e in (3, 4, 8)] == [0, 1, 2]
    assert sgd.updates_done(17) == 17


def test_arena_sgd_and_momentum_follow_the_textbook(problem):
    x, y = _course_xy()
    s = dp.ArenaSettings(sgd_rate=5.0, momentum_rate=3.0, momentum=0.8)
    ps = dp.optimizer_arena(problem, s, updates=25)
    w, w_m, v = np.array([1.0, 1.0]), np.array([1.0, 1.0]), np.zeros(2)
    plain, mom = [w.copy()], [w_m.copy()]
    for _ in range(25):
        w = w - 5.0 * _grad(w, x, y, problem.bias)
        v = 0.8 * v - 3.0 * _grad(w_m, x, y, problem.bias)
        w_m = w_m + v
        plain.append(w.copy())
        mom.append(w_m.copy())
    np.testing.assert_allclose(ps.by_key("sgd").points, plain, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ps.by_key("momentum").points, mom, rtol=1e-4, atol=1e-4)
    assert all(p.updates == 25 for p in ps.paths)


def test_arena_adam_matches_the_textbook_formula(problem):
    """Kingma & Ba's Adam: m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ), w ← w − η·m̂/(√v̂ + ε)."""
    x, y = _course_xy()
    lr, b1, b2, eps = 0.5, 0.9, 0.999, 1e-7
    ps = dp.optimizer_arena(problem, dp.ArenaSettings(adam_rate=lr), updates=60)
    w, m, v = np.array([1.0, 1.0]), np.zeros(2), np.zeros(2)
    expected = [w.copy()]
    for t in range(1, 61):
        g = _grad(w, x, y, problem.bias)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        expected.append(w.copy())
    np.testing.assert_allclose(ps.by_key("adam").points, expected, rtol=1e-4, atol=2e-4)
    # Adam's first step is η in each direction (m̂/√v̂ = sign(g)): the textbook's hallmark
    first = ps.by_key("adam").points[1] - ps.by_key("adam").points[0]
    np.testing.assert_allclose(np.abs(first), [lr, lr], rtol=1e-4)


def test_arena_with_mini_batches_uses_the_same_batches_for_all(problem):
    ps = dp.optimizer_arena(problem, updates=10, batch_size=7)
    for p in ps.paths:
        assert p.updates == 10 and p.batch_size == 7
        np.testing.assert_array_equal(p.examples, np.arange(11) * 7)


def test_a_diverging_run_stops_with_a_sentence(problem):
    path = dp.run_path(problem, dp.SGD(1e7), 28, 5, label="batch")
    assert path.stop_reason and "diverged" in path.stop_reason and "smaller learning rate" \
        in path.stop_reason
    assert np.all(np.isfinite(path.points))


def test_map_data_covers_every_point(problem):
    data = dp.arena_map(updates=40)
    pts = np.vstack([p.points for p in data.path_set.paths])
    assert data.w1_values[0] <= pts[:, 0].min() and pts[:, 0].max() <= data.w1_values[-1]
    assert data.w2_values[0] <= pts[:, 1].min() and pts[:, 1].max() <= data.w2_values[-1]
    assert data.surface.shape == (len(data.w2_values), len(data.w1_values))
    i, j = 17, 90
    assert data.surface[i, j] == pytest.approx(
        float(problem.loss(data.w1_values[j], data.w2_values[i])), rel=1e-6)
