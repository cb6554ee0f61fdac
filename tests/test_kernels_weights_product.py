"""Big weight blocks against few samples (blas.weights_product: the backward pass's dx
asked of BLAS transposed, the forward product directly, whichever OpenBLAS computes
faster) give the same numbers as plain NumPy, in every split between threads."""

import numpy as np
import pytest
from numba import njit

from core.kernels import dense_backward_planned, dense_forward_planned
from core.kernels.blas import transposed_is_faster, weights_product

# The dense kernels call weights_product (and it transposed_is_faster) from compiled code
# with a literal trans_w: those are the specialisations the warm-up compiles. Called from
# Python with a plain bool they would compile others the engine never runs (~1.6 s on a
# first run), so the test calls them the engine's way: through small (uncached) wrappers
# with the flag written out, and the decision as plain Python (its own source).


@njit(nogil=True)
def _times_w(a, w, c):
    weights_product(a, w, c, False)


@njit(nogil=True)
def _times_w_transposed(a, w, c):
    weights_product(a, w, c, True)


def test_tutorial_24_dx_products_take_the_transposed_form_and_nothing_else_does():
    faster = transposed_is_faster.py_func  # its source as plain Python: see above
    # the CIFAR network's big layers at Keras's batch of 32, a half of them per thread:
    # the backward dx (times W^T) is asked transposed, the forward (times W) directly
    for n_in, n_out in ((3072, 3000), (1536, 3000), (3000, 1000), (1500, 1000)):
        assert faster(32, n_in * n_out, True)
        assert not faster(32, n_in * n_out, False)
    # the course's digit networks (speed.py's dense rows) keep the direct product
    for trans_w in (False, True):
        assert not faster(32, 784 * 128, trans_w)
        assert not faster(128, 784 * 128, trans_w)
        assert not faster(256, 3072 * 3000, trans_w)  # many rows


@pytest.mark.parametrize("trans_w", [False, True])
def test_weights_product_on_strided_blocks_equals_numpy(trans_w):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((1200, 1100)).astype(np.float32)   # 1.3 M: above BIG_WEIGHTS
    block = w[:, 40:1090] if not trans_w else w[30:1130]       # strided, as the threads get them
    a = rng.standard_normal((16, block.shape[1] if trans_w else block.shape[0])).astype(np.float32)
    out = np.full((16, 1300), np.nan, np.float32)
    c = out[:, 100:100 + (block.shape[0] if trans_w else block.shape[1])]
    (_times_w_transposed if trans_w else _times_w)(a, block, c)
    want = a.astype(np.float64) @ (block.T if trans_w else block).astype(np.float64)
    np.testing.assert_allclose(c, want, rtol=1e-5, atol=1e-4)
    assert np.isnan(out[:, :100]).all() and np.isnan(out[:, 100 + c.shape[1]:]).all()


@pytest.mark.parametrize("n,n_in,n_out", [(16, 1200, 1000),    # by features (halves of 600x1000)
                                          (16, 400, 3000)])    # by columns (halves of 400x1500)
@pytest.mark.parametrize("mode", ["threads", "serial"])
def test_big_dense_layer_forward_and_backward_equal_numpy(n, n_in, n_out, mode):
    rng = np.random.default_rng(n_in)
    x = rng.standard_normal((n, n_in)).astype(np.float32)
    w = (rng.standard_normal((n_in, n_out)) * 0.05).astype(np.float32)
    b = rng.standard_normal(n_out).astype(np.float32)
    dy = rng.standard_normal((n, n_out)).astype(np.float32)
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    z, a = dense_forward_planned(x, w, b, True, chunks=2, mode=mode)
    np.testing.assert_allclose(z, x64 @ w64 + b, rtol=1e-5, atol=1e-4)
    dx, dw, db = dense_backward_planned(x, w, dy, a, True, chunks=2, mode=mode)
    dz = dy.astype(np.float64) * (a > 0)
    np.testing.assert_allclose(dx, dz @ w64.T, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(dw, x64.T @ dz, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(db, dz.sum(0), rtol=1e-5, atol=1e-4)


def test_nan_in_a_sample_stays_in_that_sample_through_a_big_product():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 1100)).astype(np.float32)
    w = rng.standard_normal((1100, 1000)).astype(np.float32)
    x[5, 900] = np.nan
    z, _ = dense_forward_planned(x, w, np.zeros(1000, np.float32), False, chunks=2, mode="threads")
    assert np.isnan(z[5]).all()
    assert np.isfinite(np.delete(z, 5, axis=0)).all()
