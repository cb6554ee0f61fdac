"""Pooling kernels against loop references and finite differences.

In float32, the dtype the engine runs: these tests check the machine code that ships and
compile nothing a first run's warm-up does not. The references compute in float64.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reference as ref
from core.kernels import avg_pool_backward, avg_pool_forward, max_pool_backward, max_pool_forward

F32 = np.float32
STRIDES = [1, 2, 3, (1, 2), (2, 1)]
TOL = dict(rtol=1e-5, atol=1e-6)  # a sum of at most 9 values ~1, rounded in float32


@st.composite
def pool_case(draw):
    pool = draw(st.sampled_from([1, 2, 3, (2, 3), (3, 1)]))
    kh, kw = ref.pair(pool)
    padding = draw(st.sampled_from(["valid", "same"]))
    lo_h, lo_w = (kh, kw) if padding == "valid" else (1, 1)
    return dict(
        n=draw(st.integers(1, 3)), h=draw(st.integers(lo_h, 8)), w=draw(st.integers(lo_w, 8)),
        c=draw(st.integers(1, 3)), pool=pool, stride=draw(st.sampled_from(STRIDES)), padding=padding,
        ties=draw(st.booleans()), seed=draw(st.integers(0, 2**31)),
    )


def _x(case, rng):
    shape = (case["n"], case["h"], case["w"], case["c"])
    if case["ties"]:  # few distinct values: windows with tied maxima are common
        return rng.integers(0, 3, shape).astype(F32)
    return rng.standard_normal(shape).astype(F32)


@settings(max_examples=40, deadline=None)
@given(case=pool_case())
def test_max_pool_matches_reference(case):
    rng = np.random.default_rng(case["seed"])
    x = _x(case, rng)
    args = (case["pool"], case["stride"], case["padding"])
    y, arg = max_pool_forward(x, *args)
    want_y, want_arg = ref.max_pool_forward(x, *args)
    assert y.dtype == F32 and arg.dtype == np.int64 and y.shape == want_y.shape
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(arg, want_arg)  # ties: first pixel in row-major order
    dy = rng.standard_normal(y.shape).astype(F32)
    dx = max_pool_backward(dy, arg, x.shape)
    assert dx.dtype == F32
    np.testing.assert_allclose(dx, ref.max_pool_backward(dy, x, *args), **TOL)


@settings(max_examples=40, deadline=None)
@given(case=pool_case())
def test_avg_pool_matches_reference(case):
    rng = np.random.default_rng(case["seed"])
    x = _x(case, rng)
    args = (case["pool"], case["stride"], case["padding"])
    y = avg_pool_forward(x, *args)
    want = ref.avg_pool_forward(x, *args)
    assert y.dtype == F32 and y.shape == want.shape
    np.testing.assert_allclose(y, want, **TOL)
    dy = rng.standard_normal(y.shape).astype(F32)
    dx = avg_pool_backward(dy, x.shape, *args)
    assert dx.dtype == F32
    np.testing.assert_allclose(dx, ref.avg_pool_backward(dy, x.shape, *args), **TOL)


def test_same_padding_never_counts_padding():
    # Keras: a 'same' average over an all-ones image is 1 everywhere, edges included, and
    # a 'same' max over an all-negative image is never the padding's 0.
    x = np.ones((1, 5, 5, 1), np.float32)
    np.testing.assert_array_equal(avg_pool_forward(x, 3, 2, "same"), np.ones((1, 3, 3, 1)))
    y, _ = max_pool_forward(-x, 3, 2, "same")
    np.testing.assert_array_equal(y, -np.ones((1, 3, 3, 1)))


def test_strides_default_to_pool_size():
    x = np.arange(36, dtype=np.float32).reshape(1, 6, 6, 1)
    y, _ = max_pool_forward(x, 2)
    np.testing.assert_array_equal(y[0, :, :, 0], [[7, 9, 11], [19, 21, 23], [31, 33, 35]])
    np.testing.assert_array_equal(avg_pool_forward(x, (2, 3))[0, :, :, 0], [[4, 7], [16, 19], [28, 31]])


@pytest.mark.parametrize("stride", STRIDES)
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("pool", [2, (3, 2)])
def test_gradients_match_finite_differences(pool, stride, padding):
    rng = np.random.default_rng(5)
    shape = (2, 5, 6, 2)
    # distinct values at least 0.01 apart: no ties, so max pooling is differentiable here
    x = (rng.permutation(np.prod(shape)).reshape(shape) * 0.01).astype(F32)
    # float32 central differences: a step of 2**-8 is exact in float32 here (|x| < 2**15)
    # and under half the gaps between values; a maximum is an input copied, so its
    # difference is exact (the kernel's sums of overlapping windows' r round to ~3e-7), an
    # average is rounded (6e-8 of ~1, up to 6 windows, |r| ~2, over 2 steps: up to ~1e-4;
    # 2e-5 measured, a gradient 5% off fails)
    eps = 2.0**-8

    def diff(f, r):
        r = r.astype(np.float64)
        return ref.finite_diff(lambda v: float(np.sum(r * f(v.astype(F32)))), x, eps=eps)

    y, arg = max_pool_forward(x, pool, stride, padding)
    r = rng.standard_normal(y.shape).astype(F32)
    num = diff(lambda v: max_pool_forward(v, pool, stride, padding)[0], r)
    np.testing.assert_allclose(max_pool_backward(r, arg, x.shape), num, rtol=1e-6, atol=1e-8)

    r = rng.standard_normal(avg_pool_forward(x, pool, stride, padding).shape).astype(F32)
    num = diff(lambda v: avg_pool_forward(v, pool, stride, padding), r)
    np.testing.assert_allclose(avg_pool_backward(r, x.shape, pool, stride, padding), num, rtol=1e-4, atol=2e-4)


def test_nan_propagates():
    x = np.zeros((1, 4, 4, 2), F32)
    x[0, 0, 0, 0] = 100.0  # larger value first in the window, NaN after it
    x[0, 1, 1, 0] = np.nan
    x[0, 3, 3, 1] = np.nan
    y, arg = max_pool_forward(x, 2, 2, "valid")
    assert np.isnan(y[0, 0, 0, 0]) and arg[0, 0, 0, 0] == 1 * 4 + 1
    assert np.isnan(y[0, 1, 1, 1])
    assert np.isfinite(y[0, :, :, 0]).sum() == 3 and np.isfinite(y[0, :, :, 1]).sum() == 3
    a = avg_pool_forward(x, 2, 2, "valid")
    assert np.isnan(a[0, 0, 0, 0]) and np.isnan(a[0, 1, 1, 1]) and np.isfinite(a).sum() == 6
    dy = np.ones_like(y)
    dy[0, 1, 0, 1] = np.nan
    assert np.isnan(max_pool_backward(dy, arg, x.shape)).sum() == 1
    assert np.isnan(avg_pool_backward(dy, x.shape, 2, 2, "valid")).sum() == 4


def _x_ok():
    return np.zeros((1, 4, 4, 2), np.float32)


@pytest.mark.parametrize("call, match", [
    (lambda x: max_pool_forward(x[0], 2, 2, "valid"), "4-D"),
    (lambda x: avg_pool_forward(x.astype(np.int64), 2, 2, "valid"), "float32 or float64"),
    (lambda x: max_pool_forward(x, 0, 2, "valid"), "pool_size"),
    (lambda x: max_pool_forward(x, 2, (2, 0), "valid"), "strides"),
    (lambda x: avg_pool_forward(x, 2, 2, "causal"), "padding"),
    (lambda x: avg_pool_forward(x, 5, 1, "valid"), "smaller than the window"),
    (lambda x: max_pool_backward(np.zeros((1, 2, 2, 2), np.float32), np.zeros((1, 2, 2, 2), np.int32), x.shape), "int64"),
    (lambda x: max_pool_backward(np.zeros((1, 2, 2, 2), np.float32), np.zeros((1, 2, 2, 1), np.int64), x.shape), "argmax shape"),
    (lambda x: max_pool_backward(np.zeros((1, 2, 2, 2), np.float32), np.full((1, 2, 2, 2), 16), x.shape), "outside"),
    (lambda x: max_pool_backward(np.zeros((1, 2, 2, 2), np.float32), np.zeros((1, 2, 2, 2), np.int64), (1, 4, 4)), "input_shape"),
    (lambda x: avg_pool_backward(np.zeros((1, 3, 3, 2), np.float32), x.shape, 2, 2, "valid"), "dy must have shape"),
])
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call(_x_ok())
