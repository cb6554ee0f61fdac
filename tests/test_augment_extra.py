"""core.augment's flips, zoom and multi-channel warps against plain NumPy and scipy.ndimage."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from core import augment as A


def _rgb(seed, n=3, h=10, w=7, c=3):
    return np.random.default_rng(seed).random((n, h, w, c), dtype=np.float32)


@pytest.mark.parametrize("shape", [(4, 6, 5), (4, 6, 5, 1), (4, 6, 5, 3)])
def test_flips_per_image_match_numpy(shape):
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    hmask = np.array([True, False, True, False])
    vmask = np.array([False, False, True, True])
    got = A.flip_images(x, horizontal=hmask, vertical=vmask)
    assert got.shape == x.shape and got.dtype == np.float32
    for k in range(4):
        ref = x[k]
        if hmask[k]:
            ref = np.fliplr(ref)
        if vmask[k]:
            ref = np.flipud(ref)
        np.testing.assert_array_equal(got[k], ref)
    # one bool flips all; flipping twice gives the images back exactly
    np.testing.assert_array_equal(A.flip_images(x, horizontal=True)[2], np.fliplr(x[2]))
    np.testing.assert_array_equal(A.flip_images(A.flip_images(x, True, True), True, True), x)
    np.testing.assert_array_equal(A.flip_images(x), x)


def test_flip_refuses_non_bool_masks():
    with pytest.raises(ValueError):
        A.flip_images(np.zeros((2, 4, 4)), horizontal=np.array([1, 0]))
    with pytest.raises(ValueError):
        A.flip_images(np.zeros((2, 4, 4)), horizontal=np.array([True, False, True]))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), c=st.integers(1, 4), fill=st.sampled_from(A._FILLS))
def test_warp_reads_every_channel_like_scipy_map_coordinates(seed, c, fill):
    rng = np.random.default_rng(seed)
    x = rng.random((2, 9, 6, c), dtype=np.float32)
    rows = rng.uniform(-3, 11, (2, 9, 6)).astype(np.float32)
    cols = rng.uniform(-3, 8, (2, 9, 6)).astype(np.float32)
    got = A.warp_images(x, rows, cols, fill=fill)
    mode = {"constant": "grid-constant", "nearest": "nearest"}[fill]
    for k in range(2):
        for ch in range(c):
            ref = ndimage.map_coordinates(x[k, :, :, ch].astype(np.float64),
                                          [rows[k], cols[k]], order=1, mode=mode, cval=0.0,
                                          prefilter=False)
            np.testing.assert_allclose(got[k, :, :, ch], ref, atol=1e-5)


@pytest.mark.parametrize("angle", [-35.0, 12.5, 90.0])
def test_rotating_an_rgb_image_matches_scipy_rotate(angle):
    x = _rgb(1, n=1, h=16, w=16)
    rows, cols = A.affine_grid(16, 16, angle, 1.0, 1.0, 0.0, 0.0, 0.0)
    got = A.warp_images(x, rows, cols)[0]
    ref = ndimage.rotate(x[0].astype(np.float64), angle, axes=(1, 0), reshape=False, order=1,
                         mode="grid-constant", cval=0.0)
    np.testing.assert_allclose(got, ref, atol=1e-4)


def test_shift_matches_scipy_shift():
    x = _rgb(2, n=1, h=12, w=11)
    rows, cols = A.affine_grid(12, 11, 0.0, 1.0, 1.0, 0.0, 2.5, -1.25)
    got = A.warp_images(x, rows, cols)[0]
    ref = ndimage.shift(x[0].astype(np.float64), (2.5, -1.25, 0), order=1, mode="grid-constant",
                        cval=0.0)
    np.testing.assert_allclose(got, ref, atol=1e-5)


@pytest.mark.parametrize("factor", [0.7, 1.0, 1.3])
@pytest.mark.parametrize("fill", A._FILLS)
def test_zoom_about_the_centre_matches_scipy_affine_transform(factor, fill):
    x = _rgb(3, n=2, h=14, w=10)
    got = A.zoom_images(x, factor, fill=fill)
    centre = np.array([(14 - 1) / 2, (10 - 1) / 2])
    mode = {"constant": "grid-constant", "nearest": "nearest"}[fill]
    for k in range(2):
        for ch in range(3):
            # output pixel p reads the input at (p - c) / f + c
            ref = ndimage.affine_transform(x[k, :, :, ch].astype(np.float64),
                                           np.eye(2) / factor, offset=centre - centre / factor,
                                           order=1, mode=mode, cval=0.0, prefilter=False)
            np.testing.assert_allclose(got[k, :, :, ch], ref, atol=1e-5)


def test_zoom_factor_one_and_identity_warp_give_the_images_back_exactly():
    x = _rgb(4)
    np.testing.assert_array_equal(A.zoom_images(x, 1.0), x)
    rows, cols = A.affine_grid(10, 7, np.zeros(3), 1.0, 1.0, 0.0, 0.0, 0.0)
    np.testing.assert_array_equal(A.warp_images(x, rows, cols), x)


def test_zoom_per_image_factors():
    x = _rgb(5, n=3)
    f = np.array([0.8, 1.0, 1.25])
    got = A.zoom_images(x, f)
    for k in range(3):
        np.testing.assert_array_equal(got[k], A.zoom_images(x[k:k + 1], f[k])[0])


def test_grey_images_keep_their_shape():
    x = np.random.default_rng(6).random((2, 8, 8), dtype=np.float32)
    assert A.zoom_images(x, 1.2).shape == (2, 8, 8)
    assert A.zoom_images(x[..., None], 1.2).shape == (2, 8, 8, 1)
    np.testing.assert_allclose(A.zoom_images(x, 1.2), A.zoom_images(x[..., None], 1.2)[..., 0])


def test_bad_arguments_are_refused():
    x = _rgb(7)
    rows, cols = A.affine_grid(10, 7, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0)
    rows = np.broadcast_to(rows, (3, 10, 7))
    cols = np.broadcast_to(cols, (3, 10, 7))
    with pytest.raises(ValueError):
        A.warp_images(x, rows, cols, fill="wrap")
    with pytest.raises(ValueError):
        A.warp_images(x, rows[:2], cols[:2])
    with pytest.raises(ValueError):
        A.zoom_images(x, 0.0)
    with pytest.raises(ValueError):
        A.zoom_images(np.zeros((3, 5)), 1.1)
    with pytest.raises(ValueError):
        A.affine_grid(5, 5, np.nan, 1.0, 1.0, 0.0, 0.0, 0.0)
