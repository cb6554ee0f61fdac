"""Activation kernels against NumPy/SciPy formulas and finite differences.

The kernels run on float32 here: the dtype the engine runs (core/model.py casts to it), so
these tests check the machine code that ships and compile nothing the app's warm-up does
not. The references compute in float64; tolerances are float32's (eps 6e-8).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reference as ref
from core.kernels import (
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax_backward,
    softmax_forward,
    tanh_backward,
    tanh_forward,
)

F32 = np.float32
TOL = dict(rtol=2e-6, atol=1e-6)  # a few float32 roundings of values up to ~1
shapes = st.lists(st.integers(0, 5), min_size=0, max_size=4).map(tuple)


@settings(max_examples=30, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**31))
def test_elementwise_match_formulas_for_any_shape(shape, seed):
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal(shape) * 5).astype(F32)
    dy = rng.standard_normal(shape).astype(F32)
    cases = [
        (relu_forward(z), ref.relu(z)),
        (relu_backward(z, dy), ref.relu_grad(z, dy)),
        (sigmoid_forward(z), ref.sigmoid(z)),
        (tanh_forward(z), np.tanh(z.astype(np.float64))),
        (leaky_relu_forward(z, 0.2), ref.leaky_relu(z, 0.2)),
        (leaky_relu_backward(z, dy, 0.2), ref.leaky_relu_grad(z, dy, 0.2)),
    ]
    a = ref.sigmoid(z).astype(F32)
    cases.append((sigmoid_backward(a, dy), dy * a.astype(np.float64) * (1 - a)))
    a = np.tanh(z)
    cases.append((tanh_backward(a, dy), dy * (1 - a.astype(np.float64) ** 2)))
    for got, want in cases:
        assert got.shape == shape and got.dtype == F32
        np.testing.assert_allclose(got, want, **TOL)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 6), c=st.integers(1, 8), scale=st.sampled_from([1.0, 30.0, 1000.0]),
       seed=st.integers(0, 2**31))
def test_softmax_matches_scipy_and_jacobian(n, c, scale, seed):
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal((n, c)) * scale).astype(F32)
    p = softmax_forward(z)
    assert p.dtype == F32 and p.shape == (n, c)
    np.testing.assert_allclose(p, ref.softmax(z), rtol=1e-5, atol=1e-7)
    assert np.isfinite(p).all()
    dy = rng.standard_normal((n, c)).astype(F32)
    dz = softmax_backward(p, dy)
    assert dz.dtype == F32
    np.testing.assert_allclose(dz, ref.softmax_grad(p.astype(np.float64), dy), rtol=1e-5, atol=1e-6)


def test_softmax_over_last_axis_of_higher_rank():
    z = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(F32)
    np.testing.assert_allclose(softmax_forward(z), ref.softmax(z), rtol=1e-5, atol=1e-7)


def test_sigmoid_is_stable_for_large_magnitudes():
    z = np.array([-1e4, -800.0, -100.0, 0.0, 100.0, 800.0, 1e4], F32)
    with np.errstate(all="raise"):  # no overflow warnings from the kernel's inputs either
        s = sigmoid_forward(z)
    assert np.isfinite(s).all()
    np.testing.assert_allclose(s, ref.sigmoid(z), rtol=1e-6, atol=1e-37)  # float32 subnormals
    assert s[0] >= 0 and s[-1] == 1.0


def _check(grad, f, z, dy):
    # central differences of the float32 kernel: a step of 2**-10 is exact in float32 for
    # |z| < 2**13 and truncates ~eps**2/6 ~ 2e-7; the outputs' rounding (6e-8 of values up
    # to 1, a few per softmax row, times |dy| up to ~3) over 2 eps is up to ~1e-4 (1e-5..6e-5
    # measured; a gradient 1% off fails)
    dy64 = dy.astype(np.float64)
    num = ref.finite_diff(lambda v: float(np.sum(dy64 * f(v.astype(F32)))), z, eps=2.0**-10)
    np.testing.assert_allclose(grad, num, rtol=1e-3, atol=2e-4)


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(4)
    z = (rng.standard_normal((3, 4)) * 2).astype(F32)
    z[np.abs(z) < 0.05] = 0.5  # keep away from the kinks of relu and leaky relu
    dy = rng.standard_normal(z.shape).astype(F32)
    _check(relu_backward(z, dy), relu_forward, z, dy)
    _check(leaky_relu_backward(z, dy, 0.1), lambda v: leaky_relu_forward(v, 0.1), z, dy)
    _check(sigmoid_backward(sigmoid_forward(z), dy), sigmoid_forward, z, dy)
    _check(tanh_backward(tanh_forward(z), dy), tanh_forward, z, dy)
    _check(softmax_backward(softmax_forward(z), dy), softmax_forward, z, dy)


def test_gradient_at_zero_follows_tensorflow():
    z = np.zeros(3, F32)
    dy = np.ones(3, F32)
    np.testing.assert_array_equal(relu_backward(z, dy), 0.0)
    np.testing.assert_array_equal(leaky_relu_backward(z, dy, 0.3), F32(0.3))  # alpha in float32


def test_nan_propagates_forward_and_backward():
    z = np.array([[-1.0, np.nan, 2.0], [0.5, -0.5, 1.0]], F32)
    dy = np.ones_like(z)
    for f in (relu_forward, sigmoid_forward, tanh_forward, leaky_relu_forward):
        out = f(z)
        assert np.isnan(out[0, 1]) and np.isfinite(np.delete(out.ravel(), 1)).all(), f.__name__
    assert np.isnan(relu_backward(z, dy)[0, 1])
    assert np.isnan(leaky_relu_backward(z, dy)[0, 1])
    p = softmax_forward(z)
    assert np.isnan(p[0]).all() and np.isfinite(p[1]).all()
    dy_bad = np.ones_like(z)
    dy_bad[1, 1] = np.nan  # z < 0 there: a NaN gradient must not be masked to 0
    assert np.isnan(relu_backward(np.abs(z) * -1, dy_bad)[1, 1])
    assert np.isnan(sigmoid_backward(sigmoid_forward(z), dy)[0, 1])
    assert np.isnan(tanh_backward(tanh_forward(z), dy)[0, 1])
    assert np.isnan(softmax_backward(p, dy)[0]).all()
    assert relu_forward(np.array([np.inf, -np.inf], F32)).tolist() == [np.inf, 0.0]


@pytest.mark.parametrize("call, match", [
    (lambda: relu_forward(np.zeros(3, np.int64)), "float32 or float64"),
    (lambda: relu_backward(np.zeros(3), np.zeros(4)), "same shape"),
    (lambda: sigmoid_backward(np.zeros(3, np.float32), np.zeros(3)), "dtypes must match"),
    (lambda: leaky_relu_forward(np.zeros(3), alpha="big"), "alpha"),
    (lambda: leaky_relu_forward(np.zeros(3), alpha=np.ones(2)), "alpha"),
    (lambda: softmax_forward(np.float64(1.0)), "at least 1"),
    (lambda: softmax_forward(np.zeros((2, 0))), "last axis"),
    (lambda: softmax_backward(np.zeros((2, 3)), np.zeros((3, 2))), "same shape"),
])
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_strided_views_accepted():
    z = np.random.default_rng(1).standard_normal((4, 6)).astype(np.float32)
    view = z[:, ::2]
    np.testing.assert_array_equal(relu_forward(view), ref.relu(view))
    np.testing.assert_allclose(softmax_forward(z.T), ref.softmax(z.T), rtol=1e-5)
