"""Planar datasets: seeded, the right shapes, and the geometry each one promises."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.data import (PLANAR_DATASETS, PLANAR_EXTENT, load_insurance, load_planar,
                       make_circles, make_insurance_2d, make_spiral, make_xor)


@pytest.mark.parametrize("name", PLANAR_DATASETS)
def test_shapes_dtypes_and_two_classes(name):
    d = load_planar(name, n=301, noise=0.2, seed=4)
    assert d.x.shape == (301, 2) and d.x.dtype == np.float32
    assert d.y.shape == (301,) and d.y.dtype == np.int64
    assert set(np.unique(d.y)) == {0, 1}
    assert len(d.class_names) == 2 and len(d.feature_names) == 2
    assert np.isfinite(d.x).all()


@pytest.mark.parametrize("name", PLANAR_DATASETS)
def test_same_seed_same_data_other_seed_other_data(name):
    a = load_planar(name, n=120, noise=0.1, seed=7)
    b = load_planar(name, n=120, noise=0.1, seed=7)
    c = load_planar(name, n=120, noise=0.1, seed=8)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.x, c.x)


@pytest.mark.parametrize("name", ["xor", "circles", "spiral"])
def test_noise_free_points_stay_in_the_square(name):
    d = load_planar(name, n=400, noise=0.0, seed=1)
    assert np.abs(d.x).max() <= PLANAR_EXTENT + 1e-5


@pytest.mark.parametrize("name", PLANAR_DATASETS)
def test_noise_moves_the_same_points_further(name):
    # the same seed draws the same points; noise only scales their jitter
    clean = load_planar(name, n=200, noise=0.0, seed=3)
    small = load_planar(name, n=200, noise=0.1, seed=3)
    large = load_planar(name, n=200, noise=0.3, seed=3)
    np.testing.assert_array_equal(clean.y, large.y)
    d_small = np.linalg.norm(small.x - clean.x, axis=1)
    d_large = np.linalg.norm(large.x - clean.x, axis=1)
    np.testing.assert_allclose(d_large, 3 * d_small, rtol=1e-4, atol=1e-5)
    assert d_small.mean() > 0


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(4, 300))
def test_xor_labels_follow_the_quadrants(seed, n):
    d = make_xor(n=n, noise=0.0, seed=seed)
    same_sign = (d.x[:, 0] > 0) == (d.x[:, 1] > 0)
    np.testing.assert_array_equal(d.y, same_sign.astype(np.int64))
    # kept off the axes so every point has an unambiguous quadrant
    assert np.abs(d.x).min() > 0.05 * PLANAR_EXTENT


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(4, 300))
def test_circles_inner_disc_and_outer_ring(seed, n):
    d = make_circles(n=n, noise=0.0, seed=seed)
    r = np.hypot(d.x[:, 0].astype(np.float64), d.x[:, 1].astype(np.float64))
    assert np.all(r[d.y == 1] <= 0.5 * PLANAR_EXTENT + 1e-5)
    ring = r[d.y == 0]
    assert np.all(ring >= 0.7 * PLANAR_EXTENT - 1e-5) and np.all(ring <= PLANAR_EXTENT + 1e-5)
    assert abs(int((d.y == 1).sum()) - int((d.y == 0).sum())) <= 1


def test_spiral_arms_are_half_a_turn_apart():
    d = make_spiral(n=400, noise=0.0, seed=2)
    x = d.x.astype(np.float64)
    # rotating arm 1 by 180° lands on arm 0's curve: every rotated point has a close
    # neighbour in arm 0 (relative to the spacing between arms)
    arm0, arm1 = x[d.y == 0], -x[d.y == 1]
    dist = np.linalg.norm(arm1[:, None, :] - arm0[None, :, :], axis=2).min(axis=1)
    assert np.median(dist) < 0.05 * PLANAR_EXTENT
    # and the two arms themselves are not on top of each other
    own = np.linalg.norm(x[d.y == 1][:, None, :] - arm0[None, :, :], axis=2).min(axis=1)
    assert np.median(own) > 2 * np.median(dist)


def test_insurance_2d_is_the_insurance_table_scaled():
    table = load_insurance(n=150, seed=5)
    d = make_insurance_2d(n=150, noise=0.0, seed=5)
    np.testing.assert_array_equal(d.y, table.y)
    age = table.x[:, 0].astype(np.float64)
    np.testing.assert_allclose(d.x[:, 0], (age - 44) / 26 * 0.9 * PLANAR_EXTENT, rtol=1e-5)
    afford = table.x[:, 1] > 0.5
    # affordable people in the upper band, the others in the lower one
    assert np.all(d.x[afford, 1] > 0) and np.all(d.x[~afford, 1] < 0)


@pytest.mark.parametrize("bad", [dict(noise=-0.1), dict(noise=0.9), dict(noise="lots"),
                                 dict(n=1), dict(n=2.5)])
def test_bad_arguments_are_value_errors(bad):
    kwargs = dict(n=50, noise=0.1, seed=0) | bad
    with pytest.raises(ValueError):
        make_circles(**kwargs)


def test_unknown_name_is_a_value_error():
    with pytest.raises(ValueError, match="unknown planar dataset"):
        load_planar("moons")
