"""IoU, NMS and average precision (issue 17, item 5) against independent computations."""

import numpy as np
import pytest

from core.teaching.boxes import (Detection, average_precision, iou, iou_matrix,
                                 mean_average_precision, nms, precision_recall)


def pixel_iou(a, b, size=40):
    """IoU by painting integer boxes on a pixel grid and counting."""
    pa = np.zeros((size, size), bool)
    pb = np.zeros((size, size), bool)
    pa[a[1]:a[3], a[0]:a[2]] = True
    pb[b[1]:b[3], b[0]:b[2]] = True
    union = (pa | pb).sum()
    return (pa & pb).sum() / union if union else 0.0


def random_boxes(rng, k, size=40):
    x = np.sort(rng.integers(0, size, (k, 2)), axis=1)
    y = np.sort(rng.integers(0, size, (k, 2)), axis=1)
    x[:, 1] += 1
    y[:, 1] += 1
    return np.stack([x[:, 0], y[:, 0], x[:, 1], y[:, 1]], axis=1)


def test_iou_matches_counted_pixels():
    rng = np.random.default_rng(3)
    a, b = random_boxes(rng, 30), random_boxes(rng, 25)
    got = iou_matrix(a, b)
    want = np.array([[pixel_iou(p, q) for q in b] for p in a])
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_iou_by_hand():
    # 4x4 and 4x4 overlapping in a 2x2 square: 4 / (16 + 16 - 4)
    assert iou((0, 0, 4, 4), (2, 2, 6, 6)) == pytest.approx(4 / 28)
    assert iou((0, 0, 4, 4), (4, 0, 8, 4)) == 0.0           # touching edges share no area
    assert iou((1, 1, 3, 3), (1, 1, 3, 3)) == 1.0


def test_bad_boxes_get_a_sentence():
    with pytest.raises(ValueError, match="x1 ≥ x0"):
        iou((4, 0, 0, 4), (0, 0, 1, 1))
    with pytest.raises(ValueError, match="x0, y0, x1, y1"):
        iou_matrix([[0, 0, 1]], [[0, 0, 1, 1]])
    with pytest.raises(ValueError, match="NaN"):
        iou((0, 0, np.nan, 1), (0, 0, 1, 1))


def brute_nms(boxes, scores, labels, thr):
    """NMS written the other way round: a box survives iff no kept box of its class that
    scores higher (earlier index on ties) overlaps it by more than thr."""
    order = sorted(range(len(boxes)), key=lambda i: (-scores[i], i))
    kept = []
    for i in order:
        if all(labels[j] != labels[i] or pixel_iou(boxes[i], boxes[j]) <= thr for j in kept):
            kept.append(i)
    return kept


def test_nms_matches_brute_force_per_class():
    rng = np.random.default_rng(7)
    for trial in range(20):
        boxes = random_boxes(rng, 15)
        scores = rng.random(15)
        labels = rng.integers(0, 3, 15)
        result = nms(boxes, scores, labels, 0.3)
        assert list(result.keep) == brute_nms(boxes, scores, labels, 0.3)


def test_nms_steps_tell_the_story():
    boxes = [(0, 0, 10, 10), (1, 1, 11, 11), (20, 20, 30, 30), (0, 0, 10, 9), (2, 0, 12, 10)]
    scores = [0.9, 0.8, 0.7, 0.6, 0.95]
    labels = [1, 1, 1, 2, 1]
    result = nms(boxes, scores, labels, 0.5)
    first = result.steps[0]
    assert first.kept == 4 and first.score == 0.95
    # box 0 overlaps box 4 by 80/120; box 1 by 81/119; the class-2 box is untouched
    assert dict(first.suppressed) == pytest.approx({0: 80 / 120, 1: 81 / 119})
    assert set(first.survivors) == {2, 3}
    assert list(result.keep) == [4, 2, 3]
    assert [s.kept for s in result.steps] == list(result.keep)


def test_ap_by_hand():
    # 5 detections of one class, 3 ground-truth boxes; TP pattern T F T F T.
    # precision 1, 1/2, 2/3, 2/4, 3/5 at recall 1/3, 1/3, 2/3, 2/3, 1
    # monotone precision: 1 up to recall 1/3, 2/3 up to 2/3, 3/5 up to 1
    # AP = 1/3·1 + 1/3·2/3 + 1/3·3/5 = 0.7555…
    tp = np.array([1, 0, 1, 0, 1], bool)
    precision = np.cumsum(tp) / np.arange(1, 6)
    recall = np.cumsum(tp) / 3
    assert average_precision(recall, precision) == pytest.approx(1 / 3 + 2 / 9 + 1 / 5)
    # recall never reaches 1: the rest of the curve counts as precision 0
    assert average_precision([0.5, 0.5], [1.0, 0.5]) == pytest.approx(0.5)


def ap_by_integration(tp, n_gt):
    """All-points AP computed another way: for each true positive, the recall step 1/n_gt
    times the best precision at that rank or any later one."""
    tp = np.asarray(tp, bool)
    prec = np.cumsum(tp) / np.arange(1, len(tp) + 1)
    return sum(prec[k:].max() / n_gt for k in range(len(tp)) if tp[k])


def test_ap_matches_integration_over_random_rankings():
    rng = np.random.default_rng(1)
    for _ in range(50):
        tp = rng.random(12) < 0.5
        n_gt = int(tp.sum()) + int(rng.integers(0, 3))
        if n_gt == 0:
            continue
        rec = np.cumsum(tp) / n_gt
        prec = np.cumsum(tp) / np.arange(1, 13)
        assert average_precision(rec, prec) == pytest.approx(ap_by_integration(tp, n_gt))


def test_precision_recall_matching_by_hand():
    truth_boxes = [np.array([[0, 0, 10, 10], [20, 20, 30, 30]]), np.array([[5, 5, 15, 15]])]
    truth_labels = [np.array([3, 3]), np.array([3])]
    dets = [Detection(0, (0, 0, 10, 10), 0.9, 3),        # TP
            Detection(0, (1, 0, 11, 10), 0.8, 3),        # duplicate of the same digit: FP
            Detection(1, (5, 5, 15, 16), 0.7, 3),        # TP (IoU 100/110)
            Detection(1, (40, 40, 50, 50), 0.6, 3),      # nothing there: FP
            Detection(0, (20, 20, 30, 30), 0.5, 7)]      # wrong class: not in class 3's curve
    curve = precision_recall(dets, truth_boxes, truth_labels, 3)
    assert list(curve.true_positive) == [True, False, True, False]
    np.testing.assert_allclose(curve.precision, [1, 1 / 2, 2 / 3, 2 / 4])
    np.testing.assert_allclose(curve.recall, [1 / 3, 1 / 3, 2 / 3, 2 / 3])
    assert curve.ap == pytest.approx(1 / 3 + 1 / 3 * 2 / 3)
    m, curves = mean_average_precision(dets, truth_boxes, truth_labels, 10)
    assert m == pytest.approx(curve.ap)        # class 3 is the only one in the ground truth
    assert curves[7].n_ground_truth == 0 and np.isnan(curves[7].ap)


def test_perfect_detections_score_map_one():
    rng = np.random.default_rng(5)
    boxes = [random_boxes(rng, 3) for _ in range(4)]
    labels = [rng.integers(0, 4, 3) for _ in range(4)]
    dets = [Detection(i, tuple(b), 0.5 + 0.1 * k, int(lab))
            for i in range(4) for k, (b, lab) in enumerate(zip(boxes[i], labels[i]))]
    m, _ = mean_average_precision(dets, boxes, labels, 4)
    assert m == pytest.approx(1.0)
