"""Dense products that leave out the input features blank in every sample of the batch."""

import numpy as np
import pytest

from core.kernels import blank_features as B
from core.kernels import dense_backward_planned, dense_forward_planned
from core.kernels import _threads
from core.kernels.dense import backward_auto, forward_auto, part_addresses


# blocks of this size are scanned for blank features (blank_features.worth_scanning)
assert 64 * 150 * 32 >= B.MIN_WORK


def _batch(seed, n=64, n_in=300, n_out=32, blank=(slice(0, 40), slice(120, 170), slice(290, 300))):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, n_in)).astype(np.float32)
    x[x < -0.3] = 0.0
    for s in blank:
        x[:, s] = 0.0
    w = rng.standard_normal((n_in, n_out)).astype(np.float32)
    b = rng.standard_normal(n_out).astype(np.float32)
    dy = rng.standard_normal((n, n_out)).astype(np.float32)
    return x, w, b, dy


def test_live_runs_are_the_features_non_zero_somewhere():
    x, *_ = _batch(0)
    x[5, 130] = np.nan  # NaN is not blank
    for f0, f1 in ((0, 300), (37, 250)):
        starts, lengths, count = B.live_runs(x, f0, f1)
        got = np.concatenate([np.arange(s, s + k) for s, k in zip(starts, lengths)])
        want = f0 + np.flatnonzero((x[:, f0:f1] != 0).any(axis=0))
        np.testing.assert_array_equal(got, want)
        assert count == want.size and np.all(np.diff(starts) > lengths[:-1])  # runs are maximal


@pytest.mark.parametrize("chunks", [1, 2, 3])
def test_products_without_blank_features_equal_the_full_ones(chunks):
    x, w, b, dy = _batch(chunks)
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    out = {}
    for mode in ("threads", "serial"):
        z, a = dense_forward_planned(x, w, b, True, chunks=chunks, mode=mode)
        dx, dw, db = dense_backward_planned(x, w, a, a, True, chunks=chunks, mode=mode)
        np.testing.assert_allclose(z, x64 @ w64 + b, rtol=1e-5, atol=1e-4)
        dz = np.where(a > 0, a, 0.0).astype(np.float64)  # dy = a, through ReLU's mask
        np.testing.assert_allclose(dw, x64.T @ dz, rtol=1e-5, atol=1e-4)
        assert (dw[:40] == 0).all() and (dw[120:170] == 0).all()
        np.testing.assert_allclose(dx, dz @ w64.T, rtol=1e-5, atol=1e-4)
        out[mode] = (z, dw, dx)
    for p, q in zip(out["threads"], out["serial"]):
        np.testing.assert_array_equal(p, q)


def test_a_kept_pack_gives_the_same_gradient_as_packing_again():
    # the fused step hands the forward pass's packed columns to the backward pass
    x, w, b, dy = _batch(4)
    addrs, tags = part_addresses()
    with _threads.PARALLEL_LOCK:
        z, a, pack, status = forward_auto(x, w, b, False, 2, addrs, tags)
    assert status == 0
    assert (pack[2][:, 0] >= 0).all()  # both blocks were packed
    dw_kept, dw_again = np.empty_like(w), np.empty_like(w)
    none = (pack[0][:0, :0], pack[1][:, :0], np.full((2, 2), -1, np.int64))
    with _threads.PARALLEL_LOCK:
        r1 = backward_auto(x, w, dy, dy, False, True, 2, dw_kept, pack, addrs, tags)
        r2 = backward_auto(x, w, dy, dy, False, True, 2, dw_again, none, addrs, tags)
    assert r1[3] == r2[3] == 0
    np.testing.assert_array_equal(dw_kept, dw_again)
    np.testing.assert_array_equal(r1[0], r2[0])
    np.testing.assert_allclose(dw_kept, x.astype(np.float64).T @ dy, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_non_finite_numbers_meeting_a_blank_feature_still_give_nan(bad):
    x, w, b, dy = _batch(5)
    w[10, 3] = bad  # feature 10 is blank: 0 * bad is NaN in x @ w
    z, _ = dense_forward_planned(x, w, b, False, chunks=2, mode="threads")
    assert np.isnan(z[:, 3]).all() and np.isfinite(np.delete(z, 3, axis=1)).all()
    x, w, b, dy = _batch(5)
    dy[7, 2] = bad  # 0 * bad in every blank row of dw
    _, dw, _ = dense_backward_planned(x, w, dy, None, False, chunks=2, mode="threads")
    assert np.isnan(dw[:40, 2]).all() and np.isnan(dw[120:170, 2]).all()
