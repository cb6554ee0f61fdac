"""Conv2D kernels against loop references, SciPy and finite differences.

The kernels run on float32, the dtype the engine runs: these tests check the machine code
that ships and compile nothing a first run's warm-up does not. The references (loops in
float64, SciPy on float64 copies) are exact to float32's rounding.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

import reference as ref
from core.kernels import (
    conv2d_forward,
    conv2d_grad_bias,
    conv2d_grad_input,
    conv2d_grad_weight,
    conv_output_size,
)

F32 = np.float32
STRIDES = [1, 2, 3, (1, 2), (2, 1)]
# sums of up to a few hundred products of standard normals, rounded in float32 (6e-8):
# errors of ~1e-6..1e-5, where a wrong index or formula is off by O(1)
TOL = dict(rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------- output size

@pytest.mark.parametrize("size, k, stride, padding, expected", [
    (28, 3, 1, "valid", (26, 0)),
    (28, 3, 1, "same", (28, 1)),
    (28, 2, 2, "valid", (14, 0)),
    (28, 2, 2, "same", (14, 0)),
    (5, 2, 2, "same", (3, 0)),   # odd padding total: the extra pixel goes after
    (5, 3, 2, "same", (3, 1)),
    (4, 3, 2, "same", (2, 0)),
    (7, 4, 3, "valid", (2, 0)),
    (1, 5, 1, "same", (1, 2)),
    (3, 3, 1, "VALID", (1, 0)),
])
def test_conv_output_size_matches_keras_examples(size, k, stride, padding, expected):
    assert conv_output_size(size, k, stride, padding) == expected


@given(size=st.integers(1, 40), k=st.integers(1, 7), stride=st.integers(1, 5))
@settings(max_examples=40, deadline=None)
def test_conv_output_size_covers_the_input(size, k, stride):
    out, pad = conv_output_size(size, k, stride, "same")
    assert out == -(-size // stride)
    assert pad == ref.out_size(size, k, stride, "same")[1]
    if size >= k:
        assert conv_output_size(size, k, stride, "valid") == (len(range(0, size - k + 1, stride)), 0)
    else:
        with pytest.raises(ValueError):
            conv_output_size(size, k, stride, "valid")


@pytest.mark.parametrize("args", [(5, 3, 0, "same"), (5, 0, 1, "same"), (5, 3, 1, "full"), (-1, 3, 1, "same"),
                                  (5.0, 3, 1, "same"), (5, 3, True, "same")])
def test_conv_output_size_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        conv_output_size(*args)


# ---------------------------------------------------------------- against the reference

@st.composite
def conv_case(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    padding = draw(st.sampled_from(["valid", "same"]))
    lo_h, lo_w = (kh, kw) if padding == "valid" else (1, 1)
    return dict(
        n=draw(st.integers(1, 3)), h=draw(st.integers(lo_h, 9)), w=draw(st.integers(lo_w, 9)),
        c_in=draw(st.integers(1, 3)), c_out=draw(st.integers(1, 4)), kh=kh, kw=kw,
        stride=draw(st.sampled_from(STRIDES)), padding=padding,
        seed=draw(st.integers(0, 2**31)),
    )


def _arrays(case):
    rng = np.random.default_rng(case["seed"])
    dt = F32
    x = rng.standard_normal((case["n"], case["h"], case["w"], case["c_in"])).astype(dt)
    w = rng.standard_normal((case["kh"], case["kw"], case["c_in"], case["c_out"])).astype(dt)
    b = rng.standard_normal(case["c_out"]).astype(dt)
    return rng, x, w, b


@settings(max_examples=40, deadline=None)
@given(case=conv_case())
def test_forward_and_gradients_match_reference(case):
    rng, x, w, b = _arrays(case)
    stride, padding = case["stride"], case["padding"]
    y = conv2d_forward(x, w, b, stride, padding)
    want = ref.conv2d_forward(x, w, b, stride, padding)
    assert y.dtype == F32 and y.shape == want.shape
    np.testing.assert_allclose(y, want, **TOL)

    dy = rng.standard_normal(y.shape).astype(F32)
    dx = conv2d_grad_input(dy, w, x.shape, stride, padding)
    assert dx.dtype == F32
    np.testing.assert_allclose(dx, ref.conv2d_grad_input(dy, w, x.shape, stride, padding), **TOL)
    dw = conv2d_grad_weight(x, dy, w.shape[:2], stride, padding)
    assert dw.dtype == F32
    np.testing.assert_allclose(dw, ref.conv2d_grad_weight(x, dy, w.shape[:2], stride, padding), **TOL)
    db = conv2d_grad_bias(dy)
    assert db.dtype == F32
    np.testing.assert_allclose(db, dy.astype(np.float64).sum(axis=(0, 1, 2)), **TOL)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 2), h=st.integers(3, 10), w=st.integers(3, 10), c_in=st.integers(1, 3),
       c_out=st.integers(1, 3), kh=st.integers(1, 3), kw=st.integers(1, 3), seed=st.integers(0, 2**31))
def test_stride_one_valid_matches_scipy_correlate(n, h, w, c_in, c_out, kh, kw, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, h, w, c_in)).astype(F32)
    k = rng.standard_normal((kh, kw, c_in, c_out)).astype(F32)
    b = rng.standard_normal(c_out).astype(F32)
    y = conv2d_forward(x, k, b, 1, "valid")
    x, k, b = (a.astype(np.float64) for a in (x, k, b))
    for i in range(n):
        for o in range(c_out):
            want = sum(signal.correlate(x[i, :, :, c], k[:, :, c, o], mode="valid") for c in range(c_in)) + b[o]
            # sums of at most 27 products of standard normals, rounded in float32
            np.testing.assert_allclose(y[i, :, :, o], want, rtol=1e-5, atol=1e-5)


def test_large_batch_split_into_chunks_matches_scipy():
    # 45 samples of 28x28 with a 3x3x16 kernel need several im2col chunks (the last one
    # partial): every sample must come out as if computed alone.
    rng = np.random.default_rng(7)
    x = rng.standard_normal((45, 28, 28, 16)).astype(np.float32)
    k = rng.standard_normal((3, 3, 16, 4)).astype(np.float32)
    b = np.zeros(4, np.float32)
    y = conv2d_forward(x, k, b, 1, "valid")
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx = conv2d_grad_input(dy, k, x.shape, 1, "valid")
    dw = conv2d_grad_weight(x, dy, (3, 3), 1, "valid")
    x64, k64, dy64 = x.astype(np.float64), k.astype(np.float64), dy.astype(np.float64)
    want_dw = np.zeros(k.shape)
    for n in range(45):
        for o in range(4):
            want_y = sum(signal.correlate(x64[n, :, :, c], k64[:, :, c, o], mode="valid") for c in range(16))
            np.testing.assert_allclose(y[n, :, :, o], want_y, rtol=1e-4, atol=1e-3)
        for c in range(16):
            want_dx = sum(signal.convolve(dy64[n, :, :, o], k64[:, :, c, o], mode="full") for o in range(4))
            np.testing.assert_allclose(dx[n, :, :, c], want_dx, rtol=1e-4, atol=1e-3)
            for o in range(4):
                want_dw[:, :, c, o] += signal.correlate(x64[n, :, :, c], dy64[n, :, :, o], mode="valid")
    np.testing.assert_allclose(dw, want_dw, rtol=1e-4, atol=1e-2)


# ---------------------------------------------------------------- finite differences

@pytest.mark.parametrize("stride", STRIDES)
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_gradients_match_finite_differences(stride, padding):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 6, 5, 2)).astype(F32)
    w = rng.standard_normal((3, 2, 2, 3)).astype(F32)
    b = rng.standard_normal(3).astype(F32)
    y = conv2d_forward(x, w, b, stride, padding)
    r = rng.standard_normal(y.shape).astype(F32)  # loss = sum(r * y), so dL/dy = r
    r64 = r.astype(np.float64)

    def loss(x_, w_, b_):
        y_ = conv2d_forward(x_.astype(F32), w_.astype(F32), b_.astype(F32), stride, padding)
        return float(np.sum(r64 * y_))

    # float32 central differences: the loss is linear in each argument, so a big step
    # truncates nothing, and the float32 rounding of the outputs (~3e-7 each, times |r|,
    # over the dozens a weight reaches) over 2 * 0.25 stays under ~1e-5 (5e-6 measured; a
    # gradient 0.1% off fails)
    eps = 0.25
    tol = dict(rtol=1e-5, atol=2e-5)
    np.testing.assert_allclose(conv2d_grad_input(r, w, x.shape, stride, padding),
                               ref.finite_diff(lambda v: loss(v, w, b), x, eps), **tol)
    np.testing.assert_allclose(conv2d_grad_weight(x, r, (3, 2), stride, padding),
                               ref.finite_diff(lambda v: loss(x, v, b), w, eps), **tol)
    np.testing.assert_allclose(conv2d_grad_bias(r), ref.finite_diff(lambda v: loss(x, w, v), b, eps), **tol)


# ---------------------------------------------------------------- NaN, layout, errors

def test_nan_propagates_to_every_output_that_sees_it():
    dtype = F32
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 5, 5, 2)).astype(dtype)
    w = rng.standard_normal((3, 3, 2, 2)).astype(dtype)
    b = np.zeros(2, dtype)
    x[1, 0, 0, 1] = np.nan
    y = conv2d_forward(x, w, b, 1, "same")
    assert np.isnan(y[1, :2, :2]).all()  # receptive fields containing pixel (0, 0)
    assert np.isfinite(y[0]).all() and np.isfinite(y[1, 2:]).all()
    dy = np.ones_like(y)
    dy[0, 4, 4, 0] = np.nan
    assert np.isnan(conv2d_grad_input(dy, w, x.shape, 1, "same")[0, 3:, 3:]).all()
    assert np.isnan(conv2d_grad_weight(x, np.ones_like(y), (3, 3), 1, "same")).any()
    assert np.isnan(conv2d_grad_bias(dy)[0]) and np.isfinite(conv2d_grad_bias(dy)[1])


def test_non_contiguous_inputs_accepted():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 6, 3)).astype(np.float32)
    w = rng.standard_normal((2, 2, 3, 2)).astype(np.float32)
    b = np.ones(2, np.float32)
    x_view = np.transpose(np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2))), (0, 2, 3, 1))
    assert not x_view.flags.c_contiguous
    np.testing.assert_array_equal(conv2d_forward(x_view, w, b, 2, "same"), conv2d_forward(x, w, b, 2, "same"))


def _ok():
    return (np.zeros((1, 5, 5, 2), np.float32), np.zeros((3, 3, 2, 4), np.float32), np.zeros(4, np.float32))


@pytest.mark.parametrize("call, match", [
    (lambda x, w, b: conv2d_forward(x[0], w, b, 1, "valid"), "4-D"),
    (lambda x, w, b: conv2d_forward(x, w[..., :1, :], b, 1, "valid"), "channels"),
    (lambda x, w, b: conv2d_forward(x, w, b[:2], 1, "valid"), "b must have shape"),
    (lambda x, w, b: conv2d_forward(x.astype(np.float64), w, b, 1, "valid"), "dtypes must match"),
    (lambda x, w, b: conv2d_forward(x, w, b, 1, "full"), "padding"),
    (lambda x, w, b: conv2d_forward(x, w, b, 0, "valid"), "stride"),
    (lambda x, w, b: conv2d_forward(x, w, b, (1, 2, 3), "valid"), "stride"),
    (lambda x, w, b: conv2d_forward(x, w, b, 1.5, "valid"), "stride"),
    (lambda x, w, b: conv2d_forward(x[:, :2], w, b, 1, "valid"), "smaller than the window"),
    (lambda x, w, b: conv2d_forward(x.astype(np.int32), w, b, 1, "valid"), "float32 or float64"),
    (lambda x, w, b: conv2d_grad_input(np.zeros((1, 2, 2, 4), np.float32), w, x.shape, 1, "valid"), "dy must have shape"),
    (lambda x, w, b: conv2d_grad_input(np.zeros((1, 3, 3, 4), np.float32), w, (1, 5, 5), 1, "valid"), "input_shape"),
    (lambda x, w, b: conv2d_grad_weight(x, np.zeros((1, 2, 3, 4), np.float32), (3, 3), 1, "valid"), "dy must have shape"),
    (lambda x, w, b: conv2d_grad_weight(x, np.zeros((1, 3, 3, 4), np.float32), (3, 0), 1, "valid"), "kernel_size"),
    (lambda x, w, b: conv2d_grad_bias(b), "4-D"),
])
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call(*_ok())
