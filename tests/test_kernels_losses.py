"""Loss kernels against NumPy/SciPy formulas, finite differences and Keras's documented values.

The kernels run on float32, the dtype the engine runs: these tests check the machine code
that ships and compile nothing a first run's warm-up does not. The references (and their
finite differences) compute in float64, at the same float32 inputs.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reference as ref
from core.kernels import (
    binary_crossentropy,
    categorical_crossentropy,
    mean_absolute_error,
    mean_squared_error,
    sigmoid_binary_cross_entropy,
    softmax_cross_entropy,
    softmax_cross_entropy_onehot,
    sparse_categorical_crossentropy,
)

F32 = np.float32


# Each case: (kernel, reference per-sample loss, make(rng, n, c, dtype) -> args, index of the
# argument the gradient is taken with respect to). Inputs stay away from kinks and clip edges
# so that finite differences are valid.
def _logits(rng, n, c, dt):
    return (rng.standard_normal((n, c)) * 3).astype(dt)


def _probs(rng, n, c, dt):
    return rng.uniform(0.05, 1.0, (n, c)).astype(dt)


def _labels(rng, n, c):
    return rng.integers(0, c, n)


def _mae_pair(rng, n, c, dt):
    t = rng.standard_normal((n, c))
    gap = rng.uniform(0.01, 1.0, (n, c)) * rng.choice([-1, 1], (n, c))
    return t.astype(dt), (t + gap).astype(dt)


CASES = {
    "softmax_cross_entropy": (softmax_cross_entropy, ref.softmax_cross_entropy,
                              lambda r, n, c, dt: (_logits(r, n, c, dt), _labels(r, n, c)), 0),
    "softmax_cross_entropy_onehot": (softmax_cross_entropy_onehot, ref.softmax_cross_entropy_onehot,
                                     lambda r, n, c, dt: (_logits(r, n, c, dt), r.random((n, c)).astype(dt)), 0),
    "sigmoid_binary_cross_entropy": (sigmoid_binary_cross_entropy, ref.sigmoid_binary_cross_entropy,
                                     lambda r, n, c, dt: (_logits(r, n, c, dt), r.random((n, c)).astype(dt)), 0),
    "mean_squared_error": (mean_squared_error, ref.mean_squared_error,
                           lambda r, n, c, dt: (r.standard_normal((n, c)).astype(dt), r.standard_normal((n, c)).astype(dt)), 1),
    "mean_absolute_error": (mean_absolute_error, ref.mean_absolute_error, _mae_pair, 1),
    "binary_crossentropy": (binary_crossentropy, ref.binary_crossentropy,
                            lambda r, n, c, dt: (r.integers(0, 2, (n, c)).astype(dt), r.uniform(0.01, 0.99, (n, c)).astype(dt)), 1),
    "categorical_crossentropy": (categorical_crossentropy, ref.categorical_crossentropy,
                                 lambda r, n, c, dt: (r.dirichlet(np.ones(c), n).astype(dt), _probs(r, n, c, dt)), 1),
    "sparse_categorical_crossentropy": (sparse_categorical_crossentropy, ref.sparse_categorical_crossentropy,
                                        lambda r, n, c, dt: (_labels(r, n, c), _probs(r, n, c, dt)), 1),
}


def _mean_ref_loss(ref_fn, args, which):
    def f(v):
        a = list(args)
        a[which] = v
        return float(np.mean(ref_fn(*a)))
    return f


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 5), c=st.integers(1, 6), seed=st.integers(0, 2**31))
def test_losses_and_gradients_match_reference(n, c, seed):
    rng = np.random.default_rng(seed)
    for name, (kernel, ref_fn, make, which) in CASES.items():
        args = make(rng, n, c, F32)
        loss, grad = kernel(*args)
        assert loss.shape == (n,) and loss.dtype == F32, name
        assert grad.shape == args[which].shape and grad.dtype == F32, name
        args64 = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in args]
        np.testing.assert_allclose(loss, ref_fn(*args64), err_msg=name, rtol=1e-5, atol=1e-5)
        num = ref.finite_diff(_mean_ref_loss(ref_fn, args64, which), args64[which])
        np.testing.assert_allclose(grad, num, err_msg=name, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("shape", [(5,), (4, 1), (3, 2, 2)])
def test_elementwise_losses_accept_any_per_sample_shape(shape):
    rng = np.random.default_rng(0)
    t, p = rng.random(shape).astype(F32), rng.uniform(0.05, 0.95, shape).astype(F32)
    z = rng.standard_normal(shape).astype(F32)
    cases = [  # (kernel, reference, args, index differentiated)
        (mean_squared_error, ref.mean_squared_error, (t, p), 1),
        (mean_absolute_error, ref.mean_absolute_error, (t, p), 1),
        (binary_crossentropy, ref.binary_crossentropy, (t, p), 1),
        (sigmoid_binary_cross_entropy, ref.sigmoid_binary_cross_entropy, (z, t), 0),
    ]
    for kernel, ref_fn, args, which in cases:
        loss, grad = kernel(*args)
        assert loss.shape == (shape[0],) and grad.shape == shape
        args64 = [a.astype(np.float64) for a in args]
        # float32 losses and gradients of values ~1: a few roundings of 6e-8
        np.testing.assert_allclose(loss, ref_fn(*args64), rtol=1e-5, atol=1e-6)
        num = ref.finite_diff(_mean_ref_loss(ref_fn, args64, which), args64[which])
        np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-6)


def test_keras_documented_values():
    # the examples in Keras's own loss documentation
    y_true = np.array([[0, 1], [0, 0]], np.float32)
    y_pred = np.array([[0.6, 0.4], [0.4, 0.6]], np.float32)
    np.testing.assert_allclose(binary_crossentropy(y_true, y_pred)[0], [0.916, 0.714], atol=1e-3)
    probs = np.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]], np.float32)
    onehot = np.array([[0, 1, 0], [0, 0, 1]], np.float32)
    np.testing.assert_allclose(categorical_crossentropy(onehot, probs)[0], [0.0513, 2.303], atol=1e-3)
    np.testing.assert_allclose(sparse_categorical_crossentropy(np.array([1, 2]), probs)[0], [0.0513, 2.303], atol=1e-3)
    np.testing.assert_allclose(mean_squared_error(y_true, y_pred)[0], [0.5 * (0.36 + 0.36), 0.5 * (0.16 + 0.36)], rtol=1e-6)
    np.testing.assert_allclose(mean_absolute_error(y_true, y_pred)[0], [0.6, 0.5], rtol=1e-6)


def test_probability_losses_clip_like_keras():
    # bounds computed in the data's dtype as Keras does: in float32 1 - 1e-7 rounds to
    # 0.99999988, so a confident wrong answer costs 15.94 there (16.12 with float64 bounds)
    dtype = F32
    lo = dtype(1e-7)
    hi = dtype(1) - lo
    t = np.array([[1.0], [0.0], [1.0]], dtype)
    p = np.array([[0.0], [1.0], [1.0]], dtype)
    loss, grad = binary_crossentropy(t, p)
    want = -np.log(np.array([lo, dtype(1) - hi, hi], np.float64))
    np.testing.assert_allclose(loss, want, rtol=1e-5)
    assert loss[1] == pytest.approx(15.94, abs=0.01)
    np.testing.assert_array_equal(grad, 0.0)  # clipped: Keras's gradient is zero there
    loss, grad = categorical_crossentropy(np.array([[1.0, 0.0]], dtype), np.array([[0.0, 2.0]], dtype))
    np.testing.assert_allclose(loss, [-np.log(lo)], rtol=1e-5)
    assert np.isfinite(grad).all()
    loss, _ = sparse_categorical_crossentropy(np.array([0]), np.array([[0.0, 2.0]], dtype))
    np.testing.assert_allclose(loss, [-np.log(lo)], rtol=1e-5)


def test_categorical_crossentropy_renormalises_rows_like_keras():
    p = np.array([[0.2, 0.3, 0.5], [1.0, 1.0, 2.0]], F32)
    t = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]], F32)
    loss, _ = categorical_crossentropy(t, p)
    np.testing.assert_allclose(loss, [-np.log(0.5), -np.log(0.5)], rtol=1e-6)


def test_logit_losses_are_stable_for_huge_logits():
    dtype = F32
    z = np.array([[1e4, -1e4, 0.0], [-3e3, 3e3, 2e3]], dtype)
    labels = np.array([1, 0])
    loss, grad = softmax_cross_entropy(z, labels)
    np.testing.assert_allclose(loss, [2e4, 6e3], rtol=1e-6)
    np.testing.assert_allclose(grad, (ref.softmax(z) - np.eye(3)[labels]) / 2, atol=1e-7)
    loss, grad = softmax_cross_entropy_onehot(z, np.eye(3, dtype=dtype)[labels])
    np.testing.assert_allclose(loss, [2e4, 6e3], rtol=1e-6)
    zb = np.array([1e4, -1e4, 50.0], dtype)
    tb = np.array([0.0, 0.0, 1.0], dtype)
    loss, grad = sigmoid_binary_cross_entropy(zb, tb)
    assert np.isfinite(loss).all() and np.isfinite(grad).all()
    np.testing.assert_allclose(loss, [1e4, 0.0, np.log1p(np.exp(-50.0))], rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(grad, [1 / 3, 0.0, 0.0], atol=1e-7)


def test_soft_targets_give_exact_gradient_and_onehot_matches_sparse():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((4, 5)).astype(F32)
    labels = rng.integers(0, 5, 4)
    l1, g1 = softmax_cross_entropy(z, labels)
    l2, g2 = softmax_cross_entropy_onehot(z, np.eye(5, dtype=F32)[labels])
    # float32 values up to ~3 and probabilities / 4: a few roundings of 6e-8
    np.testing.assert_allclose(l1, l2, rtol=1e-6)
    np.testing.assert_allclose(g1, g2, atol=1e-7)
    np.testing.assert_allclose(g1, (ref.softmax(z) - np.eye(5)[labels]) / 4, atol=1e-7)


def test_empty_batch():
    loss, grad = mean_squared_error(np.zeros((0, 3), F32), np.zeros((0, 3), F32))
    assert loss.shape == (0,) and grad.shape == (0, 3)
    loss, grad = softmax_cross_entropy(np.zeros((0, 3), F32), np.zeros(0, np.int64))
    assert loss.shape == (0,) and grad.shape == (0, 3)


@pytest.mark.parametrize("name", sorted(CASES))
def test_nan_propagates_to_its_sample_only(name):
    kernel, _, make, which = CASES[name]
    rng = np.random.default_rng(2)
    args = list(make(rng, 3, 4, np.float32))
    bad = args[which].copy()
    bad[1, 2] = np.nan
    args[which] = bad
    loss, grad = kernel(*args)
    assert np.isnan(loss[1]) and np.isfinite(loss[[0, 2]]).all()
    assert np.isnan(grad[1]).any() and np.isfinite(grad[[0, 2]]).all()


@pytest.mark.parametrize("call, match", [
    (lambda: softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3])), r"\[0, 3\)"),
    (lambda: softmax_cross_entropy(np.zeros((2, 3)), np.array([0, -1])), r"\[0, 3\)"),
    (lambda: softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0])), "integer"),
    (lambda: softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2])), "shape"),
    (lambda: softmax_cross_entropy(np.zeros(3), np.array([0])), "2-D"),
    (lambda: softmax_cross_entropy_onehot(np.zeros((2, 3)), np.zeros((2, 2))), "shape"),
    (lambda: softmax_cross_entropy_onehot(np.zeros((2, 3)), np.zeros((2, 3), np.float32)), "dtypes must match"),
    (lambda: mean_squared_error(np.zeros((2, 3)), np.zeros((3, 2))), "same shape"),
    (lambda: mean_absolute_error(np.zeros(2, np.int64), np.zeros(2)), "float32 or float64"),
    (lambda: binary_crossentropy(np.float64(1.0), np.float64(0.5)), "at least 1"),
    (lambda: categorical_crossentropy(np.zeros((2, 3)), np.zeros((2, 0))), "at least one class"),
    (lambda: sparse_categorical_crossentropy(np.array([5]), np.ones((1, 3))), r"\[0, 3\)"),
    (lambda: sigmoid_binary_cross_entropy(np.zeros((2, 1)), np.zeros(2)), "same shape"),
])
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_labels_as_column_accepted():
    p = np.array([[0.2, 0.8], [0.6, 0.4]], F32)
    a = sparse_categorical_crossentropy(np.array([[1], [0]]), p)[0]
    np.testing.assert_allclose(a, -np.log([0.8, 0.6]), rtol=1e-6)
