"""core.augment against SciPy's ndimage (an independent implementation of the same operations)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from core import augment as A

CROSS = ndimage.generate_binary_structure(2, 1)  # 3x3 cross


def _images(seed, n=4, h=12, w=9):
    return np.random.default_rng(seed).random((n, h, w), dtype=np.float32)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), h=st.integers(2, 16), w=st.integers(2, 16))
def test_bilinear_sampling_matches_scipy_map_coordinates(seed, h, w):
    rng = np.random.default_rng(seed)
    img = rng.random((3, h, w), dtype=np.float32)
    rows = rng.uniform(-2.5, h + 1.5, (3, 7, 5)).astype(np.float32)
    cols = rng.uniform(-2.5, w + 1.5, (3, 7, 5)).astype(np.float32)
    got = A.sample_bilinear(img, rows, cols)
    for k in range(3):
        ref = ndimage.map_coordinates(img[k].astype(np.float64), [rows[k], cols[k]], order=1,
                                      mode="grid-constant", cval=0.0, prefilter=False)
        np.testing.assert_allclose(got[k], ref, atol=1e-5)


def test_bilinear_sampling_at_pixel_centres_is_the_image():
    img = _images(1)
    gy, gx = np.meshgrid(np.arange(12.0), np.arange(9.0), indexing="ij")
    rows = np.broadcast_to(gy, img.shape)
    cols = np.broadcast_to(gx, img.shape)
    np.testing.assert_array_equal(A.sample_bilinear(img, rows, cols), img)


def test_no_distortion_returns_the_digit_unchanged():
    still = A.AugmentConfig(shift=0, rotation=0, scale=(1, 1), shear=0, elastic_alpha=0,
                            stroke_prob=0)
    x = _images(2)[..., None]
    np.testing.assert_allclose(A.augment(x, np.random.default_rng(0), still), x, atol=1e-5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rotation_matches_scipy_rotate(seed):
    cfg = A.AugmentConfig(shift=0, rotation=40, scale=(1, 1), shear=0, elastic_alpha=0,
                          stroke_prob=0)
    x = np.zeros((1, 28, 28), np.float32)
    x[0, 6:22, 12:16] = 1.0  # a bar
    x[0, 6:9, 12:22] = 1.0  # with a flag, so a mirror image would not pass
    # affine_coordinates draws the angle first: replay it with the same seed.
    angle = np.random.default_rng(seed).uniform(-40, 40, 1)[0]
    got = A.augment(x, np.random.default_rng(seed), cfg)[0]
    ref = ndimage.rotate(x[0].astype(np.float64), angle, reshape=False, order=1,
                         mode="grid-constant", cval=0.0)
    np.testing.assert_allclose(got, ref, atol=1e-4)


def test_shift_moves_the_centre_of_mass_by_the_drawn_amount():
    cfg = A.AugmentConfig(shift=3, rotation=0, scale=(1, 1), shear=0, elastic_alpha=0, stroke_prob=0)
    x = np.zeros((50, 28, 28), np.float32)
    x[:, 10:18, 11:17] = 1.0
    rng = np.random.default_rng(5)
    draws = np.random.default_rng(5)
    draws.uniform(size=50), draws.uniform(size=50), draws.uniform(size=50), draws.uniform(size=50)
    ty, tx = draws.uniform(-3, 3, 50), draws.uniform(-3, 3, 50)
    out = A.augment(x, rng, cfg)
    before = ndimage.center_of_mass(x[0])
    for k in range(50):
        cy, cx = ndimage.center_of_mass(out[k])
        assert cy - before[0] == pytest.approx(ty[k], abs=1e-3)
        assert cx - before[1] == pytest.approx(tx[k], abs=1e-3)


def test_smoothing_matrix_is_a_gaussian_filter_away_from_the_edges():
    v = np.random.default_rng(3).random(80)
    got = A.gaussian_smoothing_matrix(80, 3.0) @ v
    ref = ndimage.gaussian_filter1d(v, 3.0, mode="constant", truncate=20.0)
    np.testing.assert_allclose(got[15:-15], ref[15:-15], atol=1e-5)
    # renormalised at the edges: a constant field stays constant (no darkening at borders)
    np.testing.assert_allclose(A.gaussian_smoothing_matrix(80, 3.0) @ np.ones(80), 1.0,
                               atol=1e-5)


def test_elastic_field_is_smooth_and_scaled_by_alpha():
    dy1, dx1 = A.elastic_displacement(20, 28, 28, np.random.default_rng(0), 10.0, 4.0)
    dy2, dx2 = A.elastic_displacement(20, 28, 28, np.random.default_rng(0), 20.0, 4.0)
    np.testing.assert_allclose(dy2, 2 * dy1, rtol=1e-5, atol=1e-6)
    # neighbours move together: mean neighbour difference far below the field's spread
    assert np.abs(np.diff(dx1, axis=2)).mean() < 0.25 * dx1.std()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_dilation_and_erosion_match_scipy(seed):
    img = _images(seed, n=2)
    dil = A.grey_dilate(img)
    ero = A.grey_erode(img[..., None])[..., 0]
    for k in range(2):
        np.testing.assert_array_equal(
            dil[k], ndimage.grey_dilation(img[k], footprint=CROSS, mode="constant", cval=0.0))
        np.testing.assert_array_equal(
            ero[k], ndimage.grey_erosion(img[k], footprint=CROSS, mode="constant", cval=0.0))


def test_stroke_width_blends_between_erosion_original_and_dilation():
    img = _images(4, n=4)
    amount = np.array([-1.0, -0.5, 0.0, 0.75], np.float32)
    out = A.change_stroke_width(img, amount)
    dil = ndimage.grey_dilation(img[3], footprint=CROSS, mode="constant", cval=0.0)
    ero = [ndimage.grey_erosion(img[k], footprint=CROSS, mode="constant", cval=0.0)
           for k in range(2)]
    np.testing.assert_allclose(out[0], ero[0], atol=1e-6)
    np.testing.assert_allclose(out[1], 0.5 * img[1] + 0.5 * ero[1], atol=1e-6)
    np.testing.assert_allclose(out[2], img[2], atol=1e-6)
    np.testing.assert_allclose(out[3], 0.25 * img[3] + 0.75 * dil, atol=1e-6)
    with pytest.raises(ValueError):
        A.change_stroke_width(img, 1.5)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), amount=st.floats(-2.0, 3.0))
def test_restroke_is_morphology_at_double_resolution(seed, amount):
    img = _images(seed, n=1, h=10, w=8)[0]
    up = np.kron(img, np.ones((2, 2), np.float32))  # pixel repetition
    steps = {}
    for k in (int(np.floor(amount)), int(np.floor(amount)) + 1):
        u = up.copy()
        op = ndimage.grey_dilation if k > 0 else ndimage.grey_erosion
        for _ in range(abs(k)):
            u = op(u, footprint=CROSS, mode="constant", cval=0.0)
        steps[k] = u.reshape(10, 2, 8, 2).mean(axis=(1, 3))
    lo = int(np.floor(amount))
    ref = steps[lo] + (amount - lo) * (steps[lo + 1] - steps[lo])
    got = A.restroke(img[None], amount)[0]
    np.testing.assert_allclose(got, ref, atol=1e-5)


def test_restroke_keeps_a_bright_core_and_moves_the_edges():
    x = np.zeros((1, 28, 28), np.float32)
    x[0, 4:24, 13:15] = 1.0  # a 2-pixel-wide vertical stroke
    np.testing.assert_array_equal(A.restroke(x, 0.0), x)
    thick = A.restroke(x, 2.0)[0]  # one pixel more on each side
    thin = A.restroke(x, -1.0)[0]  # half a pixel less on each side
    assert thick[14, 12:16].tolist() == [1, 1, 1, 1]
    assert thick[14].sum() == pytest.approx(4.0)
    assert thin[14].sum() == pytest.approx(1.0) and thin[14].max() == pytest.approx(0.5)


def test_augment_is_seeded_fresh_and_keeps_shape_range_and_ink():
    rng_img = np.random.default_rng(9)
    x = np.zeros((64, 28, 28, 1), np.float32)
    x[:, 8:20, 10:18, 0] = rng_img.random((64, 12, 8))
    a = A.augment(x, np.random.default_rng(1))
    b = A.augment(x, np.random.default_rng(1))
    c = A.augment(x, np.random.default_rng(2))
    assert a.shape == x.shape and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert a.min() >= 0.0 and a.max() <= 1.0
    # a digit stays a digit: its ink neither vanishes nor floods the field
    ratio = a.sum(axis=(1, 2, 3)) / x.sum(axis=(1, 2, 3))
    assert np.all((ratio > 0.4) & (ratio < 2.5))


@pytest.mark.parametrize("bad", [np.zeros((3, 28)), np.zeros((2, 28, 28, 3)),
                                 np.zeros((2, 1, 28))])
def test_bad_shapes_are_refused(bad):
    with pytest.raises(ValueError):
        A.augment(bad, np.random.default_rng(0))
