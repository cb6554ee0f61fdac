"""The convolution explorer's numbers: every window's products and sum, the output sizes
and their formula, ReLU and pooling, against NumPy / SciPy computed independently here."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import correlate2d

from core.teaching.conv_steps import (FILTER_PRESETS, ConvSteps, ExplorerTimeline, PoolSteps,
                                      axis_size, scale_pixels)


def keras_same_pads(n: int, k: int, s: int) -> tuple[int, int]:
    """TensorFlow's documented 'same' padding: out = ceil(n/s), the extra pixel after."""
    out = math.ceil(n / s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def reference_conv(image, kernel, stride, padding, bias=0.0):
    """SciPy's cross-correlation of the (zero-padded) image, then every stride-th value."""
    kh, kw = kernel.shape
    if padding == "same":
        t, b = keras_same_pads(image.shape[0], kh, stride)
        l, r = keras_same_pads(image.shape[1], kw, stride)
        image = np.pad(image, ((t, b), (l, r)))
    full = correlate2d(image.astype(np.float64), kernel.astype(np.float64), mode="valid")
    return full[::stride, ::stride] + bias


def test_one_window_matches_a_hand_computation():
    rng = np.random.default_rng(3)
    image = rng.random((8, 8)).astype(np.float32)
    kernel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], np.float32)
    steps = ConvSteps(image, kernel, stride=1, padding="valid", bias=0.5)
    w = steps.window(2 * 6 + 3)                 # output row 2, column 3
    assert (w.row, w.col, w.top, w.left) == (2, 3, 2, 3)
    patch = image[2:5, 3:6]
    np.testing.assert_array_equal(w.patch, patch)
    np.testing.assert_allclose(w.products, patch * kernel, rtol=1e-6)
    by_hand = sum(float(patch[i, j]) * float(kernel[i, j]) for i in range(3) for j in range(3))
    assert w.total == pytest.approx(by_hand + 0.5, rel=1e-6)
    assert steps.output[2, 3] == pytest.approx(by_hand + 0.5, rel=1e-5)


def test_same_padding_window_at_the_corner_sees_zeros():
    image = np.arange(1, 26, dtype=np.float32).reshape(5, 5)
    steps = ConvSteps(image, np.ones((3, 3), np.float32), stride=1, padding="same")
    w = steps.window(0)
    assert (w.top, w.left) == (-1, -1)
    expected = np.zeros((3, 3), np.float32)
    expected[1:, 1:] = image[:2, :2]
    np.testing.assert_array_equal(w.patch, expected)
    assert w.total == pytest.approx(1 + 2 + 6 + 7)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_feature_map_matches_scipy(padding, stride):
    rng = np.random.default_rng(stride)
    image = rng.standard_normal((28, 28)).astype(np.float32)
    kernel = rng.standard_normal((3, 3)).astype(np.float32)
    steps = ConvSteps(image, kernel, stride=stride, padding=padding, bias=-0.25)
    ref = reference_conv(image, kernel, stride, padding, -0.25)
    assert steps.output.shape == ref.shape
    np.testing.assert_allclose(steps.output, ref, rtol=1e-4, atol=1e-4)
    # every window's own sum is the map's value there
    for i in range(0, steps.n_steps, 7):
        w = steps.window(i)
        assert w.total == pytest.approx(float(ref[w.row, w.col]), rel=1e-4, abs=1e-4)


@settings(max_examples=30, deadline=None)
@given(h=st.integers(1, 12), w=st.integers(1, 12), k=st.integers(1, 4), s=st.integers(1, 4),
       padding=st.sampled_from(["valid", "same"]))
def test_sizes_and_values_for_any_geometry(h, w, k, s, padding):
    rng = np.random.default_rng(h * 100 + w)
    image = rng.standard_normal((h, w)).astype(np.float32)
    kernel = rng.standard_normal((k, k)).astype(np.float32)
    steps = ConvSteps(image, kernel, stride=s, padding=padding)
    if padding == "valid" and (h < k or w < k):
        assert not steps.ok and "does not fit" in steps.problem
        assert steps.n_steps == 0
        return
    ref = reference_conv(image, kernel, s, padding)
    assert steps.output.shape == ref.shape
    np.testing.assert_allclose(steps.output, ref, rtol=1e-4, atol=1e-4)
    # the formula's number is the map's size
    assert steps.rows.out == ref.shape[0] and steps.cols.out == ref.shape[1]
    assert steps.rows.formula().endswith(f"= {ref.shape[0]}")
    last = steps.window(steps.n_steps - 1)
    assert last.total == pytest.approx(float(ref[-1, -1]), rel=1e-4, abs=1e-4)


def test_formula_shows_the_numbers():
    assert axis_size(28, 3, 1, "valid").formula() == "out = ⌊(28 + 2·0 − 3)/1⌋ + 1 = 26"
    assert axis_size(28, 3, 1, "same").formula() == "out = ⌊(28 + 2·1 − 3)/1⌋ + 1 = 28"
    # TensorFlow puts the odd padding pixel after: 0 before, 1 after
    same2 = axis_size(28, 3, 2, "same")
    assert (same2.out, same2.pad_before, same2.pad_after) == (14, 0, 1)
    assert same2.formula() == "out = ⌊(28 + (0 + 1) − 3)/2⌋ + 1 = 14"
    assert "⌈28/2⌉ = 14" in same2.rule()


def test_impossible_and_uneven_sizes_are_flagged():
    bad = axis_size(2, 3, 1, "valid")
    assert not bad.ok and bad.out == 0
    assert "impossible" in bad.formula() and "does not fit" in bad.problem
    assert not axis_size(28, 3, 0, "valid").ok
    uneven = axis_size(28, 3, 2, "valid")            # windows at 0, 2, …, 24 end at 27
    assert uneven.ok and uneven.out == 13 and uneven.skipped == 1
    assert "never covered" in uneven.warning()
    assert axis_size(28, 3, 1, "valid").warning() is None
    gappy = axis_size(28, 3, 5, "same")
    assert "skipped" in gappy.warning()


def pool_reference(fmap, p, mode):
    """Non-overlapping p×p pooling by reshaping (rows/columns that do not fit dropped)."""
    h, w = (fmap.shape[0] // p) * p, (fmap.shape[1] // p) * p
    blocks = fmap[:h, :w].reshape(h // p, p, w // p, p)
    return blocks.max(axis=(1, 3)) if mode == "max" else blocks.mean(axis=(1, 3))


@pytest.mark.parametrize("shape", [(26, 26), (13, 13), (7, 10)])
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pooling_matches_numpy(shape, mode):
    rng = np.random.default_rng(5)
    fmap = rng.standard_normal(shape).astype(np.float32)
    steps = PoolSteps(fmap, 2, mode=mode)
    ref = pool_reference(fmap, 2, mode)
    assert steps.output.shape == ref.shape
    np.testing.assert_allclose(steps.output, ref, rtol=1e-6, atol=1e-6)
    w = steps.window(steps.n_steps - 1)
    block = fmap[w.top:w.top + 2, w.left:w.left + 2]
    np.testing.assert_array_equal(w.values, block)
    if mode == "max":
        assert fmap[w.winner] == block.max() == pytest.approx(w.result)
    else:
        assert w.result == pytest.approx(float(block.mean()), rel=1e-6)


def test_same_pooling_ignores_padding():
    fmap = -np.ones((3, 3), np.float32)           # all negative: a padded 0 must not win
    steps = PoolSteps(fmap, 2, padding="same", mode="max")
    assert steps.output.shape == (2, 2)
    np.testing.assert_array_equal(steps.output, -1)
    avg = PoolSteps(fmap, 2, padding="same", mode="avg")
    np.testing.assert_array_equal(avg.output, -1)  # mean over in-bounds pixels only
    assert avg.window(3).values.shape == (1, 1)


def test_relu_and_timeline_order():
    rng = np.random.default_rng(9)
    image = rng.standard_normal((10, 10)).astype(np.float32)
    steps = ConvSteps(image, FILTER_PRESETS["Vertical edge"][0])
    np.testing.assert_array_equal(steps.relu(), np.maximum(steps.output, 0))
    tl = ExplorerTimeline(steps)
    assert tl.lengths == {"conv": 64, "relu": 1, "max": 16, "avg": 16}
    assert tl.total == 97
    assert tl.stage_at(0) == ("conv", 0)
    assert tl.stage_at(63) == ("conv", 63)
    assert tl.stage_at(64) == ("relu", 0)
    assert tl.stage_at(65) == ("max", 0)
    assert tl.stage_at(96) == ("avg", 15)
    np.testing.assert_allclose(tl.max_pool.output, pool_reference(np.maximum(steps.output, 0), 2, "max"))
    assert tl.filled("conv", 10) == 11 and tl.filled("max", 10) == 0 and tl.filled("conv", 500) == 64


def test_timeline_reports_impossible_stages():
    tiny = ConvSteps(np.ones((2, 2), np.float32), np.ones((3, 3), np.float32))
    tl = ExplorerTimeline(tiny)
    assert tl.total == 0 and "does not fit" in tl.problems[0]
    one = ExplorerTimeline(ConvSteps(np.ones((3, 3), np.float32), np.ones((3, 3), np.float32)))
    assert one.lengths["conv"] == 1 and one.lengths["max"] == 0
    assert "pooling impossible" in one.problems[0]


def test_course_detectors_score_one_on_a_perfect_match():
    loop = FILTER_PRESETS["Loop (the 9's head)"][0]
    pattern = np.array([[1, 1, 1], [1, -1, 1], [1, 1, 1]], np.float32)   # ±1 image, as in the course
    assert float((loop * pattern).sum()) == pytest.approx(1.0, rel=1e-6)
    for name, (k, text) in FILTER_PRESETS.items():
        assert k.shape == (3, 3) and k.dtype == np.float32 and text


def test_pixel_scales():
    img = np.array([[0.0, 0.5, 1.0]], np.float32)
    np.testing.assert_allclose(scale_pixels(img, "−1…1 (course)"), [[-1, 0, 1]])
    np.testing.assert_allclose(scale_pixels(img), img)
    with pytest.raises(ValueError):
        scale_pixels(img, "0…255")
