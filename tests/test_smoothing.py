"""Curve smoothing as a learner relies on it: TensorBoard's debiased EMA, without its
artefacts (a flat line stays flat, a short series keeps its points)."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.teaching.smoothing import Smoother, smooth

WEIGHTS = [0.0, 0.1, 0.3, 0.5, 0.6, 0.75, 0.9, 0.95, 0.97, 0.99]


def tensorboard_reference(values, weight):
    """TensorBoard's scalar smoothing (vz_line_chart resmoothDataset), written out by hand
    in plain Python: a zero-started EMA divided by 1 - w^n, non-finite values passed on."""
    last, n, out = 0.0, 0, []
    for v in values:
        if not math.isfinite(v):
            out.append(v)
            continue
        last = last * weight + (1 - weight) * v
        n += 1
        out.append(last / (1 - weight ** n))
    return np.array(out)


@pytest.mark.parametrize("weight", WEIGHTS)
@pytest.mark.parametrize("c", [0.1, 2.302585092994046, -7.25, 1e-8, 3e6, 0.0])
def test_constant_series_stays_exactly_constant(weight, c):
    values = np.full(500, c)
    assert np.array_equal(smooth(values, weight), values)
    s = Smoother(weight)
    parts = [s.extend(values[:7]), s.extend(values[7:8]), s.extend(values[8:])]
    assert np.array_equal(np.concatenate(parts), values)


@given(c=st.floats(-1e6, 1e6, allow_nan=False), n=st.integers(1, 200),
       weight=st.floats(0.0, 0.999))
@settings(max_examples=40, deadline=None)
def test_constant_series_exact_for_any_value_and_weight(c, n, weight):
    values = np.full(n, c)
    assert np.array_equal(smooth(values, weight), values)


@pytest.mark.parametrize("weight", WEIGHTS + [0.999])
def test_two_point_series_is_not_smoothed_away(weight):
    values = np.array([2.0, 1.0])
    s = smooth(values, weight)
    assert s[0] == 2.0                      # the first point is itself
    # the second point moves at least half-way towards its raw value: 1/(1+w) ≥ 1/2
    assert s[1] <= 1.5 + 1e-12
    assert s[1] == pytest.approx(2.0 + (1.0 - 2.0) / (1 + weight), rel=1e-12)
    assert s[1] < s[0]


@pytest.mark.parametrize("weight", WEIGHTS)
def test_equals_hand_computed_debiased_ema(weight):
    rng = np.random.default_rng(3)
    values = 2.3 * np.exp(-np.arange(300) / 60) + 0.2 * rng.standard_normal(300)
    np.testing.assert_allclose(smooth(values, weight), tensorboard_reference(values, weight),
                               rtol=1e-10, atol=1e-12)


def test_small_example_by_hand():
    # w = 0.5: s1 = 4; s2 = (0.25*4 + 0.5*2)/(0.75) = 8/3; s3 = (0.125*4+0.25*2+0.5*8)/0.875
    s = smooth([4.0, 2.0, 8.0], 0.5)
    np.testing.assert_allclose(s, [4.0, 8 / 3, 5.0 / 0.875], rtol=1e-14)


@given(values=st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=120),
       cut=st.integers(0, 120), weight=st.floats(0.0, 0.99))
@settings(max_examples=40, deadline=None)
def test_incremental_equals_whole_series(values, cut, weight):
    values = np.array(values)
    s = Smoother(weight)
    joined = np.concatenate([s.extend(values[:cut]), s.extend(values[cut:])])
    np.testing.assert_allclose(joined, smooth(values, weight), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(joined, tensorboard_reference(values, weight),
                               rtol=1e-9, atol=1e-9)


def test_nan_is_passed_through_and_skipped():
    values = np.array([1.0, np.nan, 3.0, np.inf])
    s = smooth(values, 0.5)
    assert np.isnan(s[1]) and s[3] == np.inf
    np.testing.assert_allclose(s[[0, 2]], tensorboard_reference([1.0, 3.0], 0.5))


def test_weight_zero_is_the_raw_series():
    values = np.array([1e8, 1e-8, -3.0])
    assert np.array_equal(smooth(values, 0.0), values)


@pytest.mark.parametrize("bad", [1.0, -0.1, 1.5, float("nan"), "a lot"])
def test_bad_weight_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="smoothing weight"):
        smooth([1.0, 2.0], bad)


# --- decimation for drawing ------------------------------------------------------------
from core.teaching.smoothing import PeakDecimator  # noqa: E402


def _reference_blocks(x, y, block, done):
    """Plain-loop reference: per finished block its finite min and max points (x order)."""
    xs, ys = [], []
    for start in range(0, done, block):
        bx, by = x[start:start + block], y[start:start + block]
        fin = [i for i in range(len(by)) if math.isfinite(by[i])]
        if not fin:
            xs += [bx[0]]
            ys += [float("nan")]
            continue
        lo = min(fin, key=lambda i: (by[i], i))
        hi = max(fin, key=lambda i: (by[i], -i))
        for i in sorted({lo, hi}):
            xs.append(bx[i])
            ys.append(by[i])
    return xs, ys


@given(n=st.integers(0, 3000), cap=st.integers(1, 300), cuts=st.lists(st.integers(0, 3000),
                                                                       max_size=4),
       seed=st.integers(0, 10))
@settings(max_examples=40, deadline=None)
def test_decimation_keeps_every_block_peak_and_the_exact_tail(n, cap, cuts, seed):
    rng = np.random.default_rng(seed)
    x = np.arange(n, dtype=float)
    y = rng.standard_normal(n).cumsum()
    d = PeakDecimator(cap)
    for c in sorted(c for c in cuts if c <= n):   # the series arrives in pieces
        d.update(x[:c], y[:c])
    dx, dy = d.update(x, y)
    b = d.block
    done = (n // b) * b
    assert n // b <= cap or b == 1               # never more than cap blocks
    rx, ry = _reference_blocks(x, y, b, done)
    np.testing.assert_array_equal(dx[:len(rx)], rx)
    np.testing.assert_array_equal(dy[:len(ry)], ry)
    np.testing.assert_array_equal(dx[len(rx):], x[done:])    # the newest points, exact
    np.testing.assert_array_equal(dy[len(ry):], y[done:])
    if n:
        assert dy.max() == y.max() and dy.min() == y.min()   # no peak is lost
        assert len(dx) <= 2 * cap + 2 * b


def test_decimation_is_bounded_for_a_million_points():
    d = PeakDecimator(2000)
    x = np.arange(1_000_000, dtype=float)
    y = np.sin(x / 1000.0)
    y[123_457] = 50.0                                       # one spike
    for stop in range(0, 1_000_001, 50_000):
        dx, dy = d.update(x[:stop], y[:stop])
    assert len(dx) <= 2 * 2000 + 2 * d.block
    assert 50.0 in dy
    assert np.all(np.diff(dx) >= 0)


def test_decimation_marks_gaps_with_nan():
    x = np.arange(64, dtype=float)
    y = np.ones(64)
    y[40:] = np.nan                                          # diverged from step 40 on
    d = PeakDecimator(4)                                    # blocks of 16
    dx, dy = d.update(x, y)
    assert d.block == 16
    assert np.isnan(dy).any() and np.all(dy[np.isfinite(dy)] == 1.0)
    assert np.isnan(dy[-1])


def test_the_warm_up_compiles_what_a_live_plot_smooths_with():
    # a plot smooths on the GUI thread: a specialisation the warm-up missed would be
    # compiled there, freezing the window on a first launch
    from core.fast import warmup
    from core.kernels.smoothing import ema

    step = {label: fn for label, _, fn in warmup.steps((warmup.BATCHES,))}["training curves"]
    step()
    compiled = set(ema.signatures)
    live = Smoother(0.6)
    live.extend([2.5])
    live.extend(np.array([1.0, np.nan, 0.5], np.float32))
    smooth([1, 2, 3], 0.9)
    assert set(ema.signatures) == compiled
