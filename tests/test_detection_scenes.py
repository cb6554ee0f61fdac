"""Seeded detection scenes (issue 17, item 5): what lessons, tests and benchmarks share."""
import numpy as np
import pytest

from core.teaching.scenes import BACKGROUND, INK, digit_pool, make_scene, make_scenes


def test_same_seed_same_scenes_other_seed_other_scenes():
    a, b = make_scenes(6, seed=4), make_scenes(6, seed=4)
    c = make_scenes(6, seed=5)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.masks, b.masks)
    for x, y in zip(a.boxes, b.boxes):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.images, c.images)


def test_scenes_hold_one_to_four_digits_with_tight_boxes_and_mask():
    rng = np.random.default_rng(0)
    counts = set()
    for _ in range(40):
        s = make_scene(rng, canvas=64, n_digits=(1, 4), sizes=(16, 32))
        k = len(s.labels)
        counts.add(k)
        assert 1 <= k <= 4 and s.boxes.shape == (k, 4)
        assert s.image.shape == (64, 64) and s.image.dtype == np.float32
        assert 0.0 <= s.image.min() and s.image.max() <= 1.0
        for j, (x0, y0, x1, y1) in enumerate(s.boxes.astype(int)):
            assert 0 <= x0 < x1 <= 64 and 0 <= y0 < y1 <= 64
            mine = s.instances == j
            ys, xs = np.nonzero(mine)
            # the box is exactly the extent of the digit's own mask pixels, where no other
            # digit pasted over them; at least its mask lies inside the box
            assert ys.min() >= y0 and ys.max() < y1 and xs.min() >= x0 and xs.max() < x1
            assert np.all(s.mask[mine] == s.labels[j])
            assert np.all(s.image[mine] >= INK)
        # every inked pixel belongs to a digit, every background pixel has (almost) no ink
        assert np.all((s.mask == BACKGROUND) == (s.instances == -1))
        assert np.all(s.image[s.mask == BACKGROUND] < INK)
    assert counts == {1, 2, 3, 4}


def test_digits_keep_their_sizes_and_stay_apart():
    s = make_scenes(60, seed=2, sizes=(16, 32), max_overlap=0.1)
    heights = np.concatenate([b[:, 3] - b[:, 1] for b in s.boxes])
    assert heights.min() >= 8 and heights.max() <= 32 and heights.std() > 3
    from core.teaching.boxes import iou_matrix
    for b in s.boxes:
        m = iou_matrix(b, b)
        np.fill_diagonal(m, 0)
        assert m.max() <= 0.1 + 1e-12


def test_held_out_scenes_use_other_digits():
    train, _ = digit_pool("train")
    test, _ = digit_pool("test")
    assert len(train) == 4000 and len(test) == 1000
    flat_train = {d.tobytes() for d in train}
    assert not any(d.tobytes() in flat_train for d in test)


def test_bad_settings_get_a_sentence():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="split"):
        make_scene(rng, split="validation")
    with pytest.raises(ValueError, match="sizes"):
        make_scene(rng, canvas=32, sizes=(16, 40))
