"""core.teaching.surfaces against plain NumPy / scikit-learn: what the first four lessons draw."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.teaching import surfaces

DATA = surfaces.insurance_data()
# the course's table, typed out: age, affordability, bought
TABLE = np.array([
    (22, 1, 0), (25, 0, 0), (47, 1, 1), (52, 0, 0), (46, 1, 1), (56, 1, 1), (55, 0, 0),
    (60, 0, 1), (62, 1, 1), (61, 1, 1), (18, 1, 0), (28, 1, 0), (27, 0, 0), (29, 0, 0),
    (49, 1, 1), (55, 1, 1), (25, 0, 1), (58, 1, 1), (19, 0, 0), (18, 1, 0), (21, 1, 0),
    (26, 0, 0), (40, 1, 1), (45, 1, 1), (50, 1, 1), (54, 1, 1), (23, 1, 0), (46, 1, 0)],
    dtype=np.float64)
X = np.column_stack([TABLE[:, 0] / 100.0, TABLE[:, 1]])   # (28, 2) scaled as the course does
Y = TABLE[:, 2]


def np_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def np_log_loss(w1, w2, b):
    p = np_sigmoid(X @ np.array([w1, w2]) + b)
    return float(-np.mean(Y * np.log(p) + (1 - Y) * np.log(1 - p)))


def test_insurance_data_is_the_course_table_with_age_over_100():
    assert DATA.x.dtype == np.float32 and DATA.x.shape == (28, 2)
    np.testing.assert_allclose(DATA.x, X, rtol=1e-6)
    np.testing.assert_array_equal(DATA.y, Y)
    np.testing.assert_array_equal(DATA.age, TABLE[:, 0])


@settings(max_examples=30, deadline=None)
@given(st.floats(-20, 20), st.floats(-10, 10), st.floats(-15, 15))
def test_neuron_forward_is_weighted_sum_then_sigmoid(w1, w2, b):
    z, p = surfaces.neuron_forward(DATA.x, w1, w2, b)
    ref_z = X @ np.array([w1, w2]) + b
    np.testing.assert_allclose(z, ref_z, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(p, np_sigmoid(ref_z), rtol=1e-4, atol=1e-6)


def test_log_loss_at_course_start_matches_sklearn():
    from sklearn.metrics import log_loss
    p = np_sigmoid(X @ np.ones(2))
    assert surfaces.neuron_log_loss(DATA.x, DATA.y, 1, 1, 0) == pytest.approx(
        log_loss(Y, p), rel=1e-5)


def test_loss_surface_equals_brute_force_loop():
    w1s = np.linspace(-4, 16, 9)
    w2s = np.linspace(-3, 6, 7)
    surf = surfaces.loss_surface(DATA.x, DATA.y, w1s, w2s, b=-2.5)
    assert surf.shape == (7, 9)    # rows are w2, columns w1
    for i, w2 in enumerate(w2s):
        for j, w1 in enumerate(w1s):
            assert surf[i, j] == pytest.approx(np_log_loss(w1, w2, -2.5), rel=1e-4, abs=1e-5)


def test_optimum_matches_unregularised_sklearn_logistic_regression():
    from sklearn.linear_model import LogisticRegression
    ref = LogisticRegression(C=1e12, tol=1e-12, max_iter=100000).fit(X, Y)
    w1, w2, b, loss = surfaces.insurance_optimum()
    np.testing.assert_allclose([w1, w2, b], [*ref.coef_[0], ref.intercept_[0]], rtol=1e-3)
    assert loss == pytest.approx(np_log_loss(*ref.coef_[0], ref.intercept_[0]), rel=1e-4)
    # and it is a minimum: nudging any weight raises the loss
    for d in np.eye(3) * 0.05:
        assert np_log_loss(w1 + d[0], w2 + d[1], b + d[2]) > loss


# --- activations -------------------------------------------------------------------------
Z = np.linspace(-6, 6, 121)
REFERENCE = {
    "sigmoid": (np_sigmoid(Z), np_sigmoid(Z) * (1 - np_sigmoid(Z))),
    "tanh": (np.tanh(Z), 1 - np.tanh(Z) ** 2),
    "relu": (np.maximum(Z, 0), (Z > 0).astype(float)),
    "leaky_relu": (np.where(Z > 0, Z, 0.01 * Z), np.where(Z > 0, 1.0, 0.01)),
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_activation_curve_and_derivative_match_numpy(name):
    a, d = surfaces.activation_curve(name, Z)
    np.testing.assert_allclose(a, REFERENCE[name][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(d, REFERENCE[name][1], rtol=1e-5, atol=1e-6)


def test_leaky_relu_alpha_is_used():
    a, d = surfaces.activation_curve("leaky_relu", Z, alpha=0.2)
    np.testing.assert_allclose(a, np.where(Z > 0, Z, 0.2 * Z), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(d, np.where(Z > 0, 1.0, 0.2))


def test_saturated_intervals_of_sigmoid_match_closed_form():
    z = np.linspace(-8, 8, 1601)
    _, d = surfaces.activation_curve("sigmoid", z)
    spans = surfaces.saturated_intervals(z, d, fraction=0.1)
    # σ'(z) = 0.1·σ'(0) = 0.025 where σ(1−σ) = 0.025: z = ±log((1 + √0.9)/(1 − √0.9))
    edge = math.log((1 + math.sqrt(0.9)) / (1 - math.sqrt(0.9)))
    assert len(spans) == 2
    assert spans[0][0] == -8 and spans[1][1] == 8
    assert spans[0][1] == pytest.approx(-edge, abs=0.011)
    assert spans[1][0] == pytest.approx(edge, abs=0.011)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=40))
def test_saturated_intervals_cover_exactly_the_low_points(values):
    d = np.asarray(values)
    z = np.arange(len(d), dtype=float)
    spans = surfaces.saturated_intervals(z, d, fraction=0.3)
    covered = np.zeros(len(d), bool)
    for lo, hi in spans:
        covered[(z >= lo) & (z <= hi)] = True
    np.testing.assert_array_equal(covered, d < 0.3 * d.max())


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-6, 6), min_size=2, max_size=6))
def test_softmax_outputs_and_jacobian_match_numpy(logits):
    z = np.asarray(logits, np.float64)
    e = np.exp(z - z.max())
    p = e / e.sum()
    np.testing.assert_allclose(surfaces.softmax_outputs(z), p, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(surfaces.softmax_jacobian(z), np.diag(p) - np.outer(p, p),
                               atol=1e-6)


def test_softmax_curve_sweeps_one_logit_against_finite_differences():
    logits = np.array([0.5, -1.0, 2.0])
    zs = np.linspace(-4, 4, 41)
    a, d = surfaces.softmax_curve(logits, 1, zs)

    def p1(v):
        z = logits.copy()
        z[1] = v
        e = np.exp(z - z.max())
        return e[1] / e.sum()

    np.testing.assert_allclose(a, [p1(v) for v in zs], rtol=1e-5, atol=1e-7)
    h = 1e-5
    np.testing.assert_allclose(d, [(p1(v + h) - p1(v - h)) / (2 * h) for v in zs], atol=1e-5)


# --- losses -------------------------------------------------------------------------------
def _probs():
    return np_sigmoid(X @ np.array([1.0, 1.0]))     # the course's start predictions


@pytest.mark.parametrize("name", surfaces.LOSS_NAMES)
def test_per_sample_losses_match_numpy_and_sklearn(name):
    from sklearn.metrics import log_loss
    p = _probs()
    per, mean = surfaces.per_sample_losses(name, Y, p.astype(np.float32))
    if name == "mean_absolute_error":
        ref = np.abs(Y - p)
    elif name == "mean_squared_error":
        ref = (Y - p) ** 2
    else:   # every cross-entropy on two classes is the log loss of the true class
        ref = -(Y * np.log(p) + (1 - Y) * np.log(1 - p))
        assert mean == pytest.approx(log_loss(Y, p), rel=1e-5)
    np.testing.assert_allclose(per, ref, rtol=1e-5, atol=1e-6)
    assert mean == pytest.approx(ref.mean(), rel=1e-5)


def test_loss_curves_match_formulas():
    p = np.linspace(0.01, 0.99, 50)
    np.testing.assert_allclose(surfaces.loss_curve("mean_absolute_error", 0.3, p),
                               np.abs(0.3 - p), atol=1e-6)
    np.testing.assert_allclose(surfaces.loss_curve("mean_squared_error", 1, p), (1 - p) ** 2,
                               atol=1e-6)
    np.testing.assert_allclose(surfaces.loss_curve("binary_crossentropy", 0, p), -np.log(1 - p),
                               rtol=1e-5)
    for name in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        np.testing.assert_allclose(surfaces.loss_curve(name, 2, p, n_classes=3), -np.log(p),
                                   rtol=1e-5)


def test_probability_losses_are_clipped_like_keras():
    # Keras clips probabilities to [1e-7, 1 - 1e-7]: a confident wrong answer costs −log 1e-7
    v = surfaces.loss_curve("binary_crossentropy", 1, [0.0])[0]
    assert v == pytest.approx(-math.log(1e-7), rel=1e-3)


def test_class_probabilities_rows_sum_to_one():
    rows = surfaces.class_probabilities([0.0, 0.4, 1.0], 1, 4)
    np.testing.assert_allclose(rows.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(rows[:, 1], [0.0, 0.4, 1.0])
    np.testing.assert_allclose(rows[1], [0.2, 0.4, 0.2, 0.2], rtol=1e-6)


# --- gradient descent ---------------------------------------------------------------------
def np_gradient(w1, w2, b):
    p = np_sigmoid(X @ np.array([w1, w2]) + b)
    return np.array([np.mean((p - Y) * X[:, 0]), np.mean((p - Y) * X[:, 1]), np.mean(p - Y)])


def test_descent_steps_are_full_batch_gradient_steps_from_the_course_start():
    lr = 0.5
    run = surfaces.NeuronDescent(learning_rate=lr)
    assert run.weights == (1.0, 1.0, 0.0) and run.epoch == 0
    w = np.array([1.0, 1.0, 0.0])
    for k in range(5):
        step = run.step()
        g = np_gradient(*w)
        np.testing.assert_allclose(step.gradient, g, rtol=1e-4, atol=1e-6)
        w = w - lr * g
        np.testing.assert_allclose(run.weights, w, rtol=1e-5, atol=1e-6)
        assert step.loss_after == pytest.approx(np_log_loss(*w), rel=1e-5)
        # the loss fit reports before the step is the surface's loss at the old weights
        assert step.loss_before == pytest.approx(run.losses[-2], rel=1e-5)
    assert run.epoch == 5 and len(run.path) == 6


def test_next_gradient_previews_the_step_without_taking_it():
    run = surfaces.NeuronDescent(learning_rate=2.0)
    run.step()
    w = np.array(run.weights)
    g = run.next_gradient()
    np.testing.assert_allclose(g, np_gradient(*w), rtol=1e-4, atol=1e-6)
    assert run.weights == tuple(w) and run.epoch == 1
    step = run.step()
    np.testing.assert_allclose(step.gradient, g, rtol=1e-6)


def test_back_undoes_a_step_and_reset_returns_to_the_start():
    run = surfaces.NeuronDescent(learning_rate=1.0)
    run.step()
    after_one = run.weights
    run.step()
    after_two = run.weights
    assert run.back() is True
    assert run.weights == after_one and run.epoch == 1
    run.step()   # stepping again from the restored weights gives the same step
    np.testing.assert_allclose(run.weights, after_two, rtol=1e-6)
    run.reset()
    assert run.weights == (1.0, 1.0, 0.0) and run.epoch == 0
    assert run.back() is False


def test_verdicts_tell_small_good_and_large_learning_rates_apart():
    best = surfaces.insurance_optimum()[3]

    def verdict(lr, epochs):
        run = surfaces.NeuronDescent(learning_rate=lr)
        for _ in range(epochs):
            run.step()
        assert all(math.isfinite(v) for v in run.losses)
        return surfaces.descent_verdict(run.losses, lr, best)[0]

    assert verdict(0.01, 60) == "crawling"
    assert verdict(3.0, 60) == "downhill"
    assert verdict(10.0, 600) == "converged"
    assert verdict(100.0, 3) == "diverging"


def test_verdict_passes_the_engine_stop_reason_through():
    kind, text = surfaces.descent_verdict([0.7, 0.6], 1.0, 0.3, stop_reason="training stopped: NaN")
    assert kind == "stopped" and text == "training stopped: NaN"
    assert surfaces.descent_verdict([0.7, float("nan")], 1.0, 0.3)[0] == "diverging"


def test_path_extent_covers_the_path():
    base = (-4.0, 18.0, -4.0, 8.0)
    assert surfaces.path_extent([[1, 1, 0], [2, 2, 0]], base) == base
    lo1, hi1, lo2, hi2 = surfaces.path_extent([[1, 1, 0], [100, -50, 3]], base)
    assert lo1 <= -4 and hi1 >= 100 and lo2 <= -50 and hi2 >= 8
