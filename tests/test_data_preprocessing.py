"""Preprocessing against hand-computed values and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.data import (
    class_weights,
    min_max_scale,
    one_hot,
    oversample,
    standardize,
    train_validation_split,
    undersample,
)


def test_one_hot_by_hand():
    got = one_hot(np.array([2, 0, 1, 2]), 4)
    expected = np.array([
        [0, 0, 1, 0],
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 1, 0],
    ], dtype=np.float32)
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.float32
    assert one_hot([1, 0]).shape == (2, 2)  # num_classes inferred as max + 1


@pytest.mark.parametrize("y, n, message", [
    ([0, 4], 4, "does not fit"),
    ([0, -1], 3, "negative"),
    ([[0, 1]], 2, "1-D"),
    ([0.5, 1.0], 2, "integer"),
])
def test_one_hot_rejects_bad_labels(y, n, message):
    with pytest.raises(ValueError, match=message):
        one_hot(np.array(y), n)


def test_min_max_by_hand_fit_on_train_only():
    train = np.array([[0.0, 10.0], [5.0, 20.0], [10.0, 30.0]])
    val = np.array([[20.0, 0.0]])
    train_s, val_s, params = min_max_scale(train, val)
    np.testing.assert_allclose(train_s, [[0, 0], [0.5, 0.5], [1, 1]])
    np.testing.assert_allclose(val_s, [[2.0, -0.5]])  # the validation set's own range is ignored
    np.testing.assert_allclose(params.shift, [0, 10])
    np.testing.assert_allclose(params.scale, [10, 20])
    assert train_s.dtype == np.float32 and params.kind == "min-max"
    np.testing.assert_allclose(params.invert(val_s), val, rtol=1e-6)
    assert min_max_scale(train)[1] is None


def test_constant_feature_maps_to_zero():
    train_s, _, params = min_max_scale(np.array([[3.0, 1.0], [3.0, 2.0]]))
    np.testing.assert_array_equal(train_s[:, 0], [0.0, 0.0])
    std_s, _, _ = standardize(np.array([[3.0], [3.0]]))
    np.testing.assert_array_equal(std_s, [[0.0], [0.0]])


def test_scalers_match_sklearn_on_random_data():
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    rng = np.random.default_rng(0)
    train = rng.normal(3.0, 7.0, size=(50, 6)).astype(np.float32)
    val = rng.normal(3.0, 7.0, size=(20, 6)).astype(np.float32)
    ref = MinMaxScaler().fit(train)
    got_train, got_val, _ = min_max_scale(train, val)
    np.testing.assert_allclose(got_train, ref.transform(train), atol=1e-6)
    np.testing.assert_allclose(got_val, ref.transform(val), atol=1e-5)
    assert got_train.min() == 0.0 and got_train.max() == 1.0
    ref = StandardScaler().fit(train)
    got_train, got_val, params = standardize(train, val)
    np.testing.assert_allclose(got_train, ref.transform(train), atol=1e-5)
    np.testing.assert_allclose(got_val, ref.transform(val), atol=1e-5)
    np.testing.assert_allclose(params.shift, ref.mean_, rtol=1e-5)


def test_scaling_images_is_per_pixel():
    images = np.zeros((2, 2, 2, 1), dtype=np.float32)
    images[1] = 4.0
    images[1, 0, 0, 0] = 2.0
    scaled, _, params = min_max_scale(images)
    assert params.shift.shape == (2, 2, 1)
    np.testing.assert_array_equal(scaled[1, :, :, 0], [[1.0, 1.0], [1.0, 1.0]])


def test_scaling_rejects_nan_and_mismatched_features():
    with pytest.raises(ValueError, match="NaN"):
        min_max_scale(np.array([[1.0], [np.nan]]))
    with pytest.raises(ValueError, match="feature shape"):
        min_max_scale(np.ones((3, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="empty"):
        standardize(np.zeros((0, 2)))


def test_stratified_split_by_hand():
    y = np.array([0] * 80 + [1] * 20)
    x = np.arange(100).reshape(100, 1)  # each sample remembers where it came from
    (xt, yt), (xv, yv) = train_validation_split(x, y, 0.2, stratify=True, seed=0)
    assert np.bincount(yv).tolist() == [16, 4]
    assert np.bincount(yt).tolist() == [64, 16]
    # every sample lands in exactly one split, with its own label
    assert sorted(np.concatenate([xt[:, 0], xv[:, 0]]).tolist()) == list(range(100))
    np.testing.assert_array_equal(y[xt[:, 0]], yt)
    np.testing.assert_array_equal(y[xv[:, 0]], yv)
    # shuffled, not the classes one after the other
    assert not np.all(np.diff(yt) >= 0)


def test_split_is_seeded():
    x = np.arange(50)
    y = np.arange(50) % 3
    a = train_validation_split(x, y, seed=1)
    b = train_validation_split(x, y, seed=1)
    c = train_validation_split(x, y, seed=2)
    np.testing.assert_array_equal(a[1][0], b[1][0])
    assert not np.array_equal(a[1][0], c[1][0])


@settings(max_examples=30, deadline=None)
@given(
    counts=st.lists(st.integers(1, 40), min_size=2, max_size=5),
    fraction=st.floats(0.1, 0.5),
    seed=st.integers(0, 1000),
)
def test_stratified_split_keeps_class_proportions(counts, fraction, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    n = len(y)
    n_val = round(fraction * n)
    if n_val < 1 or n_val > n - 1:
        return
    (xt, yt), (xv, yv) = train_validation_split(np.arange(n), y, fraction, seed=seed)
    assert len(yv) == n_val and len(yt) == n - n_val
    val_counts = np.bincount(yv, minlength=len(counts))
    share = np.array(counts) * n_val / n
    assert np.all(np.abs(val_counts - share) < 1.0)
    assert len(set(xt.tolist()) | set(xv.tolist())) == n


def test_unstratified_split_and_bad_arguments():
    (xt, yt), (xv, yv) = train_validation_split(np.arange(10), np.zeros(10, int), 0.3, stratify=False)
    assert len(xv) == 3 and len(xt) == 7
    with pytest.raises(ValueError, match="between 0 and 1"):
        train_validation_split(np.arange(10), np.zeros(10, int), 1.0)
    with pytest.raises(ValueError, match="empty split"):
        train_validation_split(np.arange(2), np.zeros(2, int), 0.1)
    with pytest.raises(ValueError, match="samples"):
        train_validation_split(np.arange(5), np.zeros(4, int))


def test_class_weights_match_sklearn_balanced():
    from sklearn.utils.class_weight import compute_class_weight

    y = np.array([0] * 70 + [1] * 20 + [3] * 10)
    ref = compute_class_weight("balanced", classes=np.unique(y), y=y)
    got = class_weights(y)
    assert list(got) == [0, 1, 3]
    np.testing.assert_allclose([got[c] for c in (0, 1, 3)], ref)
    # by hand: 100 / (3 * 70), 100 / (3 * 20), 100 / (3 * 10)
    np.testing.assert_allclose(got[1], 100 / 60)


def test_oversample_balances_and_keeps_every_original():
    x = np.arange(13).reshape(13, 1)
    y = np.array([0] * 10 + [1] * 3)
    xo, yo = oversample(x, y, seed=0)
    assert np.bincount(yo).tolist() == [10, 10]
    assert set(xo[:, 0].tolist()) == set(range(13))
    np.testing.assert_array_equal(y[xo[:, 0]], yo)  # rows keep their labels
    assert np.all(np.isin(xo[yo == 1, 0], [10, 11, 12]))


def test_undersample_balances_without_duplicates():
    x = np.arange(13).reshape(13, 1)
    y = np.array([0] * 10 + [1] * 3)
    xu, yu = undersample(x, y, seed=0)
    assert np.bincount(yu).tolist() == [3, 3]
    assert len(set(xu[:, 0].tolist())) == 6
    np.testing.assert_array_equal(y[xu[:, 0]], yu)
    assert set(xu[yu == 1, 0].tolist()) == {10, 11, 12}
    a, b = undersample(x, y, seed=5), undersample(x, y, seed=5)
    np.testing.assert_array_equal(a[0], b[0])
