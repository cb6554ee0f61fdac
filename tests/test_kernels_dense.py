"""Dense kernels against a loop reference and finite differences.

The kernels run on float32, the dtype the engine runs: these tests check the machine code
that ships and compile nothing a first run's warm-up does not. The reference computes in
float64 (on float64 copies of the same inputs).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reference as ref
from core.kernels import dense_backward, dense_forward

F32 = np.float32
# sums of at most 9 products of standard normals, rounded in float32 (6e-8): ~1e-6, where
# a wrong index or formula is off by O(1)
TOL = dict(rtol=1e-4, atol=1e-4)


def _f64(*arrays):
    return [a.astype(np.float64) for a in arrays]


def _data(seed, n, i, o, dtype=F32):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, i)).astype(dtype), rng.standard_normal((i, o)).astype(dtype),
            rng.standard_normal(o).astype(dtype), rng.standard_normal((n, o)).astype(dtype))


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 6), i=st.integers(1, 9), o=st.integers(1, 9), seed=st.integers(0, 2**31))
def test_forward_and_backward_match_reference(n, i, o, seed):
    x, w, b, dy = _data(seed, n, i, o)
    y = dense_forward(x, w, b)
    assert y.dtype == F32 and y.shape == (n, o)
    np.testing.assert_allclose(y, ref.dense_forward(*_f64(x, w, b)), **TOL)
    dx, dw, db = dense_backward(x, w, dy)
    assert (dx.dtype, dw.dtype, db.dtype) == (F32, F32, F32)
    for got, want in zip((dx, dw, db), ref.dense_backward(*_f64(x, w, dy))):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, **TOL)


def test_gradients_match_finite_differences():
    x, w, b, r = _data(3, 4, 5, 3)
    r64 = r.astype(np.float64)

    def loss(x_, w_, b_):
        return float(np.sum(r64 * dense_forward(x_.astype(F32), w_.astype(F32), b_.astype(F32))))

    # float32 central differences: the loss is linear in each argument, so a big step
    # truncates nothing, and the outputs' float32 rounding (~3e-7 each, times |r|) over
    # 2 * 0.25 stays near 1e-6
    eps, tol = 0.25, dict(rtol=1e-5, atol=1e-5)
    dx, dw, db = dense_backward(x, w, r)
    np.testing.assert_allclose(dx, ref.finite_diff(lambda v: loss(v, w, b), x, eps), **tol)
    np.testing.assert_allclose(dw, ref.finite_diff(lambda v: loss(x, v, b), w, eps), **tol)
    np.testing.assert_allclose(db, ref.finite_diff(lambda v: loss(x, w, v), b, eps), **tol)


def test_non_contiguous_inputs_give_same_result_and_inputs_untouched():
    x, w, b, dy = _data(4, 5, 4, 3)
    xf, wf = np.asfortranarray(x), w.T.copy().T  # same values, Fortran order
    x_strided = np.repeat(x, 2, axis=1)[:, ::2]
    before = x.copy()
    np.testing.assert_array_equal(dense_forward(xf, wf, b), dense_forward(x, w, b))
    np.testing.assert_array_equal(dense_forward(x_strided, w, b), dense_forward(x, w, b))
    for got, want in zip(dense_backward(xf, wf, dy[::1]), dense_backward(x, w, dy)):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(x, before)


def test_nan_and_inf_propagate():
    x, w, b, dy = _data(5, 3, 4, 2)
    x[1, 2] = np.nan
    y = dense_forward(x, w, b)
    assert np.isnan(y[1]).all() and np.isfinite(y[[0, 2]]).all()
    x[1, 2] = 1.0
    w[0, 1] = np.inf
    assert np.isinf(dense_forward(x, w, b)[:, 1]).all()
    w[0, 1] = 1.0
    dy[2, 0] = np.nan
    dx, dw, db = dense_backward(x, w, dy)
    assert np.isnan(dx[2]).all() and np.isnan(dw[:, 0]).all() and np.isnan(db[0])
    assert np.isfinite(dx[:2]).all() and np.isfinite(db[1])


@pytest.mark.parametrize("call, match", [
    (lambda x, w, b: dense_forward(x[0], w, b), "2-D"),
    (lambda x, w, b: dense_forward(x, w.T, b), "features"),
    (lambda x, w, b: dense_forward(x, w, b[:-1]), "b must have shape"),
    (lambda x, w, b: dense_forward(x, w.astype(np.float64), b), "dtypes must match"),
    (lambda x, w, b: dense_forward(x.astype(np.int64), w, b), "float32 or float64"),
    (lambda x, w, b: dense_forward(x.astype(np.float16), w, b), "float32 or float64"),
    (lambda x, w, b: dense_backward(x, w, np.zeros((3, 2), np.float32)), "dy must have shape"),
    (lambda x, w, b: dense_backward(x, w, np.zeros((4, 3), np.float64)), "dtypes must match"),
])
def test_bad_input_raises_value_error(call, match):
    x, w, b, _ = _data(6, 4, 5, 3)
    with pytest.raises(ValueError, match=match):
        call(x, w, b)


def test_a_one_row_input_with_any_stride_gives_the_product():
    # x[None] has a row stride of 0, which BLAS would reject as a leading dimension
    from core.kernels import dense_forward_planned, dense_backward_planned

    rng = np.random.default_rng(2)
    x = rng.standard_normal(6).astype(np.float32)[None]
    w = rng.standard_normal((6, 9)).astype(np.float32)
    b = rng.standard_normal(9).astype(np.float32)
    assert x.strides[0] in (0, 24)
    z, _ = dense_forward_planned(x, w, b)
    np.testing.assert_allclose(z, x @ w + b, rtol=1e-5, atol=1e-5)
    dy = rng.standard_normal((1, 9)).astype(np.float32)[0][None]
    dx, dw, db = dense_backward_planned(x, w, dy)
    np.testing.assert_allclose(dx, dy @ w.T, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dw, x.T @ dy, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True)])
def test_strided_products_equal_numpy_through_every_blas_entry(ta, tb, monkeypatch):
    # blas.gemm calls NumPy's own OpenBLAS where NumPy ships one, else SciPy's through
    # Numba's internal BLAS entry; a Numba without that gets copies. Called as blas._gemm,
    # the specialisation the engine's kernels call (gemm is its inlined front for literal
    # arguments, compiled on its own only if called from Python); the other entries are
    # compiled here from the overload, as the kernels would compile them
    from numba import njit, types

    from core.kernels import blas

    rng = np.random.default_rng(4)
    a_big = rng.standard_normal((10, 12)).astype(np.float32)
    b_big = rng.standard_normal((10, 12)).astype(np.float32)
    # op(a) is (5, 7), op(b) is (7, 4); each stored as a strided block of a wider array
    src_a = a_big[1:8, 2:7] if ta else a_big[1:6, 2:9]
    src_b = b_big[2:6, 1:8] if tb else b_big[1:8, 3:7]
    opa = src_a.T if ta else src_a
    opb = src_b.T if tb else src_b
    want = opa @ opb
    c = np.full((want.shape[0], want.shape[1] + 3), 7.0, np.float32)
    blas._gemm(src_a, src_b, c[:, 1:1 + want.shape[1]], ta, tb, 0.0)
    np.testing.assert_allclose(c[:, 1:1 + want.shape[1]], want, rtol=1e-5, atol=1e-5)
    assert (c[:, 0] == 7.0).all() and (c[:, 1 + want.shape[1]:] == 7.0).all()  # nothing outside

    c32 = types.Array(types.float32, 2, "A")
    m, n, k = want.shape[0], want.shape[1], opa.shape[1]
    entries = {"SciPy's": (None, True), "copies": (None, False)}
    if blas._NUMPY_CBLAS is not None:
        entries["NumPy's"] = (blas._NUMPY_CBLAS, True)
    for name, (numpys, xxgemm) in entries.items():
        monkeypatch.setattr(blas, "_NUMPY_CBLAS", numpys)
        monkeypatch.setattr(blas, "HAVE_XXGEMM", xxgemm)
        entry = njit(blas._xxgemm_typed(c32, None, None, None, None, None, None, None, None))
        out = np.full((m, n + 2), 7.0, np.float32)
        # beta 0.5: half of what c held is added to the product
        entry(out[:, 1:1 + n], blas._T if tb else blas._N, blas._T if ta else blas._N, n, m, k,
              src_b, src_a, 0.5)
        np.testing.assert_allclose(out[:, 1:1 + n], want + 3.5, rtol=1e-5, atol=1e-5, err_msg=name)
        assert (out[:, 0] == 7.0).all() and (out[:, -1] == 7.0).all(), name


@pytest.mark.parametrize("n,i,o", [(8, 40, 6),     # features longest: partial products added
                                   (3, 5, 70),     # outputs longest, few samples: by columns
                                   (50, 7, 9)])    # samples longest: by samples
@pytest.mark.parametrize("chunks", [2, 3])
def test_every_split_between_threads_gives_the_product_and_the_same_bits_either_way(n, i, o, chunks):
    from core.kernels import dense_forward_planned

    rng = np.random.default_rng(n * 100 + i)
    x = rng.standard_normal((n, i)).astype(np.float32)
    x[x < -0.5] = 0.0
    w = rng.standard_normal((i, o)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    want = x.astype(np.float64) @ w.astype(np.float64) + b
    got = {}
    for mode in ("threads", "serial"):
        z, a = dense_forward_planned(x, w, b, True, chunks=chunks, mode=mode)
        np.testing.assert_allclose(z, want, rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(a, np.maximum(z, 0))
        got[mode] = z
    np.testing.assert_array_equal(got["threads"], got["serial"])


def test_split_by_features_keeps_nan_and_inf():
    from core.kernels import dense_forward_planned

    x = np.ones((4, 40), np.float32)
    w = np.ones((40, 3), np.float32)
    b = np.zeros(3, np.float32)
    x[1, 35] = np.nan          # in the second thread's block of features
    w[2, 1] = np.inf           # in the first's
    z, a = dense_forward_planned(x, w, b, True, chunks=2, mode="threads")
    assert np.isnan(z[1]).all() and np.isnan(a[1]).all()
    assert np.isposinf(z[[0, 2, 3], 1]).all() and np.isfinite(z[[0, 2, 3]][:, [0, 2]]).all()


@pytest.mark.parametrize("chunks", [1, 2])
def test_backward_reports_whether_the_weight_gradient_is_finite(chunks):
    from core.kernels import dense_backward_planned

    rng = np.random.default_rng(7)
    x = rng.standard_normal((6, 40)).astype(np.float32)
    w = rng.standard_normal((40, 5)).astype(np.float32)
    dy = rng.standard_normal((6, 5)).astype(np.float32)
    *_, finite = dense_backward_planned(x, w, dy, None, False, chunks=chunks, report_finite=True)
    assert finite is True
    for bad in (np.nan, np.inf, -np.inf):
        for col in (2, 37):  # in the first thread's features and in the last one's
            xb = x.copy()
            xb[3, col] = bad
            _, dw, _, finite = dense_backward_planned(xb, w, dy, None, False, chunks=chunks,
                                                      report_finite=True)
            assert finite is False and not np.isfinite(dw).all()
    big = np.full((6, 40), 3e38, np.float32)  # finite inputs whose products overflow
    *_, finite = dense_backward_planned(big, w, np.full((6, 5), 3e38, np.float32), None, False,
                                        chunks=chunks, report_finite=True)
    assert finite is False

