"""Products asked of BLAS in column blocks small enough for its unpacked kernels
(blas.gemm_blocks, the recurrent layers' per-step products) give the same numbers as plain
NumPy, on strided views, for every transposition, with beta 0 and 1, however many blocks.

In float32 on strided views, through _gemm_blocks itself: the specialisation the recurrent
kernels call (gemm_blocks is their inlined front for literal arguments; called from Python
it would be compiled on its own, a specialisation the engine never runs)."""

import numpy as np
import pytest

from core.kernels.blas import SMALL_MNK, _gemm_blocks, small_product_limit


@pytest.mark.parametrize("trans_a,trans_b", [(False, False), (False, True), (True, False)])
@pytest.mark.parametrize("small", [0, 64 * 128 * 16, 64 * 128 * 40, SMALL_MNK, 10 ** 9])
@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_blocked_product_equals_numpy(trans_a, trans_b, small, beta):
    dtype = np.float32  # the engine's
    rng = np.random.default_rng(3)
    m, k, n = 64, 128, 200          # 200 columns: the last block is a partial one
    big_a = rng.standard_normal((k + 7, m + 9) if trans_a else (m + 9, k + 7)).astype(dtype)
    big_b = rng.standard_normal((n + 5, k + 3) if trans_b else (k + 3, n + 5)).astype(dtype)
    a = big_a[2:2 + k, 3:3 + m] if trans_a else big_a[3:3 + m, 2:2 + k]   # strided views
    b = big_b[1:1 + n, 2:2 + k] if trans_b else big_b[2:2 + k, 1:1 + n]
    out = np.full((m, n + 30), np.nan, dtype)
    c = out[:, 10:10 + n]
    start = rng.standard_normal((m, n)).astype(dtype)
    c[:, :] = start
    _gemm_blocks(a, b, c, trans_a, trans_b, beta, small)
    op_a = (a.T if trans_a else a).astype(np.float64)
    op_b = (b.T if trans_b else b).astype(np.float64)
    want = op_a @ op_b + beta * start.astype(np.float64)
    # float32 sums of 128 products (values up to ~40): rounding ~sqrt(128)*6e-8*|terms|,
    # up to 2e-5 measured; a misplaced block is off by O(1)
    np.testing.assert_allclose(c, want, rtol=1e-4, atol=1e-4)
    # nothing outside c is touched
    assert np.isnan(out[:, :10]).all() and np.isnan(out[:, 10 + n:]).all()


def test_the_limit_follows_the_blas_kernel_family(monkeypatch):
    from core.kernels import _threads

    monkeypatch.setattr(_threads, "blas_architecture", lambda: "SkylakeX")
    assert small_product_limit() == SMALL_MNK
    for other in ("Haswell", "Zen", ""):   # splitting made these slower: one call each
        monkeypatch.setattr(_threads, "blas_architecture", lambda other=other: other)
        assert small_product_limit() == 0
