"""Sliding-window detection (T30): the window count, the windows' pixels, the training
windows' labels, and a trained scan finding the digits of easy held-out scenes."""

import numpy as np
import pytest

from core.io import load_model
from core.teaching import sliding_window as sw
from core.teaching.boxes import nms
from core.teaching.scenes import make_scenes
from resources.paths import model_path


@pytest.mark.parametrize("canvas,sizes,fraction", [
    (64, sw.WINDOW_SIZES, sw.STRIDE_FRACTION), (64, (16,), 0.5), (50, (12, 20, 50), 0.3),
    (40, (41, 8), 0.25)])
def test_window_count_formula_matches_enumeration(canvas, sizes, fraction):
    boxes, sides = sw.enumerate_windows(canvas, sizes, fraction)
    # brute force: every top-left corner on the stride's lattice that keeps the window inside
    want = []
    for s in sizes:
        t = max(1, int(round(s * fraction)))
        want += [(x, y, x + s, y + s) for y in range(0, canvas, t) for x in range(0, canvas, t)
                 if x + s <= canvas and y + s <= canvas]
    assert sw.window_count(canvas, sizes, fraction) == len(want) == len(boxes)
    assert sorted(map(tuple, boxes.astype(int).tolist())) == sorted(want)
    assert np.all(boxes[:, 2] - boxes[:, 0] == sides)


def test_default_scan_is_252_windows():
    # 13² + 7² + 5² + 3²: sides 16, 24, 32, 40 in steps 4, 6, 8, 10 over 64 pixels
    assert sw.window_count(64) == 169 + 49 + 25 + 9 == 252


def test_crop_windows_resamples_by_area_averaging():
    img = np.random.default_rng(0).random((64, 64)).astype(np.float32)
    same = sw.crop_windows(img, [(3, 5, 31, 33)])[0, ..., 0]
    np.testing.assert_allclose(same, img[5:33, 3:31], atol=1e-6)
    big = sw.crop_windows(img, [(0, 0, 56, 56)])[0, ..., 0]
    blocks = img[:56, :56].reshape(28, 2, 28, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(big, blocks, atol=1e-6)


def test_training_windows_are_labelled_by_the_holding_rule():
    scenes = make_scenes(20, seed=4)
    x, y = sw.training_windows(scenes, seed=0)
    assert x.shape[1:] == (28, 28, 1) and x.dtype == np.float32 and len(x) == len(y)
    assert set(np.unique(y)) <= set(range(11))
    assert (y == sw.NO_DIGIT).sum() > 0 and (y < 10).sum() > 0
    # the holding rule itself: a window exactly around a digit holds it, a far one does not
    box = np.array([[10.0, 10.0, 30.0, 34.0]])
    assert sw.holds_digit([(8, 10, 32, 34)], box)[0, 0]
    assert not sw.holds_digit([(40, 40, 64, 64)], box)[0, 0]
    assert not sw.holds_digit([(10, 10, 22, 22)], box)[0, 0]       # cuts the digit


@pytest.fixture(scope="module")
def classifier():
    with model_path("digits_cnn") as path:
        base = load_model(path)
    clf = sw.WindowClassifier(base, seed=0)
    x, y = sw.training_windows(make_scenes(150, seed=30), seed=30, no_digit_per_scene=16)
    clf.head.fit(clf.feature_vectors(x), y, epochs=12, batch_size=64, seed=0)
    return clf


def test_the_scan_finds_the_digits_of_easy_scenes(classifier):
    # easy: two large held-out digits, well apart
    scenes = make_scenes(10, seed=7, n_digits=2, sizes=(24, 32), split="test", max_overlap=0.0)
    found = total = false = 0
    for i in range(len(scenes)):
        scan = sw.scan_scene(classifier, scenes.images[i])
        assert scan.evaluations == sw.window_count(64) and scan.seconds > 0
        kept = sw.detect(scan, 0.9, 0.2).kept
        right = sw.correct_boxes(scan.boxes[kept], scan.labels[kept], scenes.boxes[i],
                                 scenes.labels[i])
        found += int(right.any(axis=0).sum())
        total += len(scenes.labels[i])
        false += int((~right.any(axis=1)).sum())
    # measured (seeded, so every run): 17 of 20 digits found, 4 false positives
    assert found >= 15, (found, total)
    assert false <= 6, false


def test_detect_is_nms_of_the_windows_above_the_threshold(classifier):
    scene = make_scenes(1, seed=3, split="test").scene(0)
    scan = sw.scan_scene(classifier, scene.image)
    d = sw.detect(scan, 0.8, 0.3)
    want = [k for k in range(scan.evaluations)
            if scan.probs[k].argmax() != sw.NO_DIGIT and scan.probs[k, :10].max() >= 0.8]
    assert d.candidates.tolist() == want
    ref = nms(scan.boxes[want], scan.probs[want, :10].max(axis=1), None, 0.3)
    assert d.nms.keep.tolist() == ref.keep.tolist()
    with pytest.raises(ValueError, match="probability"):
        sw.detect(scan, 1.5)
