"""Winograd F(2x2, 3x3) convolution + ReLU + 2x2 pooling against a float64 reference."""
import numpy as np
import pytest

from core.kernels.conv import pool_fused as convpool_k
from core.kernels.conv import winograd
import reference as ref


def _reference(x, w, b, padding):
    """conv (float64) -> ReLU that keeps NaN -> 2x2 max pool, with the winners."""
    with np.errstate(invalid="ignore", over="ignore"):
        z = ref.conv2d_forward(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), 1, padding)
    a = np.where((z > 0) | np.isnan(z), z, 0.0)
    return ref.max_pool_forward(a, 2, 2, "valid")[0]


def _plans(x, w, padding):
    return convpool_k.convpool_plan(x.shape[1:], w.shape, (1, 1), padding, (2, 2), (2, 2), "valid")


def test_filter_transform_is_g_g_gt():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 3, 4, 5)).astype(np.float32)
    g = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
    u = winograd.kernel_transform(w)
    for c in range(4):
        for o in range(5):
            np.testing.assert_allclose(u[:, c, o].reshape(4, 4), g @ w[:, :, c, o] @ g.T, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("size,c_in,c_out", [(13, 32, 64), (10, 3, 7), (7, 2, 1)])
def test_pooled_outputs_match_the_reference(padding, size, c_in, c_out):
    rng = np.random.default_rng(size + c_in)
    x = rng.standard_normal((9, size, size, c_in)).astype(np.float32)
    w = (rng.standard_normal((3, 3, c_in, c_out)) / np.sqrt(9 * c_in)).astype(np.float32)
    b = rng.standard_normal(c_out).astype(np.float32) * 0.1
    y, arg = convpool_k.convpool_forward(x, w, b, _plans(x, w, padding), True, True, chunks=1)
    np.testing.assert_allclose(y, _reference(x, w, b, padding), rtol=1e-5, atol=1e-5)
    assert arg.max() <= 3


def test_small_integers_are_exact_and_ties_go_to_the_first_maximum():
    # integers and the transform's halves and quarters are exact in float32: the values
    # and the winners must equal the im2col path's bit for bit, ties included. The im2col
    # path is the one-image one (rows split in two, as the drawing pad runs it): the batch
    # one (pool_fused._forward_part) is not what the engine runs 3x3 convolutions with,
    # and forcing it would compile it on a first run for this test alone (~4 s)
    rng = np.random.default_rng(4)
    x = rng.integers(-1, 2, (6, 9, 9, 3)).astype(np.float32)
    w = rng.integers(-1, 2, (3, 3, 3, 4)).astype(np.float32)
    b = rng.integers(-1, 2, 4).astype(np.float32)
    plans = _plans(x, w, "valid")
    oh, ow = plans[0][6], plans[0][7]
    y, arg = convpool_k.convpool_forward(x, w, b, plans, True, True, chunks=1)
    one_by_one = [convpool_k.convpool_forward(x[i:i + 1], w, b, plans, True, True, chunks=2,
                                              mode="serial") for i in range(len(x))]
    y_im2col = np.concatenate([y for y, _ in one_by_one])
    arg_im2col = np.concatenate([arg for _, arg in one_by_one])
    np.testing.assert_array_equal(y, _reference(x, w, b, "valid"))
    z = ref.conv2d_forward(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), 1, "valid")
    a = np.maximum(z, 0)[:, : 2 * (oh // 2), : 2 * (ow // 2)]
    windows = a.reshape(6, oh // 2, 2, ow // 2, 2, 4).transpose(0, 1, 3, 2, 4, 5).reshape(6, oh // 2, ow // 2, 4, 4)
    np.testing.assert_array_equal(arg, windows.argmax(axis=3))  # numpy's argmax: first maximum
    np.testing.assert_array_equal(y_im2col, y)
    np.testing.assert_array_equal(arg_im2col, arg)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", ["input", "filter"])
def test_non_finite_values_land_where_the_direct_sum_puts_them(bad, where):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((8, 9, 9, 3)).astype(np.float32)
    w = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    b = np.zeros(4, np.float32)
    if where == "input":
        x[5, 4, 4, 1] = bad
    else:
        w[0, 2, 1, 3] = bad
    y, _ = convpool_k.convpool_forward(x, w, b, _plans(x, w, "valid"), True, True, chunks=1)
    want = _reference(x, w, b, "valid")
    np.testing.assert_array_equal(np.isnan(y), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(y), np.isinf(want))
    finite = np.isfinite(want)
    np.testing.assert_allclose(y[finite], want[finite], rtol=1e-5, atol=1e-5)


def _reference_grads(x, w, b, dy, padding):
    """Gradients of pool(relu(conv)) in float64, the pooled gradient at each window's first maximum."""
    x64, w64, b64, dy64 = (a.astype(np.float64) for a in (x, w, b, dy))
    z = ref.conv2d_forward(x64, w64, b64, 1, padding)
    a = ref.relu(z)
    dz = ref.relu_grad(z, ref.max_pool_backward(dy64, a, 2, 2, "valid"))
    return (ref.conv2d_grad_input(dz, w64, x.shape, 1, padding),
            ref.conv2d_grad_weight(x64, dz, (3, 3), 1, padding), dz.sum(axis=(0, 1, 2)))


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("size,c_in,c_out", [(13, 32, 64), (10, 3, 7), (9, 2, 1)])
def test_gradients_match_the_reference(padding, size, c_in, c_out):
    rng = np.random.default_rng(size * c_out)
    x = rng.standard_normal((7, size, size, c_in)).astype(np.float32)
    w = (rng.standard_normal((3, 3, c_in, c_out)) / np.sqrt(9 * c_in)).astype(np.float32)
    b = rng.standard_normal(c_out).astype(np.float32) * 0.1
    plans = _plans(x, w, padding)
    y, arg = convpool_k.convpool_forward(x, w, b, plans, True, True, chunks=1)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx, dw, db = convpool_k.convpool_backward(x, w, y, arg, dy, plans, True, True, chunks=1)
    want_dx, want_dw, want_db = _reference_grads(x, w, b, dy, padding)
    np.testing.assert_allclose(dx, want_dx, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dw, want_dw, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(db, want_db, rtol=1e-4, atol=1e-4)
    none, dw2, db2 = convpool_k.convpool_backward(x, w, y, arg, dy, plans, True, False, chunks=1)
    assert none is None
    np.testing.assert_array_equal(dw2, dw)
    np.testing.assert_array_equal(db2, db)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_non_finite_gradient_shows_where_the_direct_sum_puts_it(bad, monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 9, 9, 3)).astype(np.float32)
    w = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    b = np.zeros(4, np.float32)
    plans = _plans(x, w, "valid")
    y, arg = convpool_k.convpool_forward(x, w, b, plans, True, True, chunks=1)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dy[6, 1, 2, 3] = bad
    dx, dw, db = convpool_k.convpool_backward(x, w, y, arg, dy, plans, True, True, chunks=1)
    monkeypatch.setattr(convpool_k.winograd, "fits", lambda *a: False)
    want = convpool_k.convpool_backward(x, w, y, arg, dy, plans, True, True, chunks=1)
    for got, ref_ in zip((dx, dw, db), want):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref_))
        np.testing.assert_array_equal(np.isinf(got), np.isinf(ref_))
    assert np.isfinite(dx[:6]).all()  # the other samples stay finite
