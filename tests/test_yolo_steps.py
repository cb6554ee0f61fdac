"""The YOLO lesson's numbers (issue 17 item 4) against independent computations: IoU's
parts by pixel counting, the scene reading against a cell-by-cell loop, the drawn
precision-recall line's area against the AP, windows by counting, anchors against a brute
force, and the session adapter's stop and round walking."""
import numpy as np
import pytest

from core.teaching.boxes import Detection, precision_recall
from core.teaching.detector import DetectorTrainer, SessionDetector, build_detector
from core.teaching.scenes import make_scenes
from core.teaching.yolo import Grid
from core.teaching.yolo_steps import (anchor_boxes, iou_working, pr_steps, read_scene,
                                      sliding_windows, time_detector_vs_windows)


def test_iou_parts_match_counted_pixels():
    a, b = (3, 5, 20, 17), (10, 2, 30, 12)
    canvas_a = np.zeros((40, 40), bool)
    canvas_b = np.zeros((40, 40), bool)
    canvas_a[5:17, 3:20] = True
    canvas_b[2:12, 10:30] = True
    w = iou_working(a, b)
    assert w.intersection == (canvas_a & canvas_b).sum() == 70
    assert w.intersection_box == (10, 5, 20, 12) and (w.inter_w, w.inter_h) == (10, 7)
    assert (w.area_a, w.area_b) == (canvas_a.sum(), canvas_b.sum())
    assert w.union == (canvas_a | canvas_b).sum()
    assert w.iou == pytest.approx(70 / (canvas_a | canvas_b).sum())
    apart = iou_working((0, 0, 4, 4), (10, 10, 12, 12))
    assert apart.intersection_box is None and apart.iou == 0.0 and apart.union == 20


def test_reading_a_scene_matches_a_cell_by_cell_loop():
    grid = Grid(canvas=32, cells=4, classes=10)
    scene = make_scenes(1, seed=5, canvas=32, n_digits=(2, 2), sizes=(12, 16)).scene(0)
    raw = np.random.default_rng(0).normal(0, 2, (4, 4, 15))
    reading = read_scene(grid, scene, raw, score_threshold=0.1)
    sig = lambda z: 1 / (1 + np.exp(-z))       # noqa: E731
    for r in range(4):
        for c in range(4):
            cell = r * 4 + c
            z = raw[r, c]
            p = np.exp(z[5:] - z[5:].max())
            p /= p.sum()
            cx, cy = (c + sig(z[1])) * 8, (r + sig(z[2])) * 8
            w, h = sig(z[3]) ** 2 * 32, sig(z[4]) ** 2 * 32
            box = np.clip([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 0, 32)
            np.testing.assert_allclose(reading.boxes[cell], box, atol=1e-9)
            assert reading.confidence[cell] == pytest.approx(sig(z[0]) * p.max())
            assert reading.labels[cell] == p.argmax()
    conf = reading.confidence
    assert list(reading.candidates) == sorted(np.nonzero(conf >= 0.1)[0], key=lambda i: -conf[i])
    for t in reading.truth:           # the responsible cell holds the box's centre
        assert t.col * 8 <= t.centre[0] < (t.col + 1) * 8
        assert t.row * 8 <= t.centre[1] < (t.row + 1) * 8
    with pytest.raises(ValueError, match="between 0 and 1"):
        read_scene(grid, scene, raw, score_threshold=1.5)


def test_the_drawn_pr_line_encloses_exactly_the_ap():
    rng = np.random.default_rng(3)
    truth = [np.array([[0, 0, 10, 10], [20, 20, 30, 30]])] * 4
    labels = [np.array([1, 1])] * 4
    dets = [Detection(i, (0, 0, 10, 10) if rng.random() < 0.6 else (40, 40, 50, 50),
                      float(rng.random()), 1) for i in range(4) for _ in range(3)]
    curve = precision_recall(dets, truth, labels, 1)
    xs, ys = pr_steps(curve)
    area = float(np.sum(np.diff(xs) * ys[1:]))      # xs never decreases: steps' areas
    assert np.all(np.diff(xs) >= 0) and xs[0] == 0 and xs[-1] == 1
    assert area == pytest.approx(curve.ap)
    # interpolated precision never rises with recall
    assert np.all(np.diff(ys) <= 1e-12)


def test_sliding_windows_are_every_position_of_every_size():
    wins = sliding_windows(64, (16, 24, 32), 4)
    assert len(wins) == 13 ** 2 + 11 ** 2 + 9 ** 2
    assert len(set(wins)) == len(wins)
    assert all(0 <= x0 < x1 <= 64 and 0 <= y0 < y1 <= 64 and x1 - x0 == y1 - y0
               for x0, y0, x1, y1 in wins)
    with pytest.raises(ValueError, match="stride"):
        sliding_windows(64, (80,), 4)


def test_timing_counts_the_windows_and_multiplies_one_evaluation():
    class Counting:
        def __init__(self):
            self.shapes = []

        def predict(self, x):
            self.shapes.append(x.shape)
            return np.zeros((len(x), 10))

    det, cnn = Counting(), Counting()
    timing = time_detector_vs_windows(det, cnn, np.zeros((64, 64)), repeats=5)
    assert timing.windows == 371
    assert set(cnn.shapes) == {(1, 28, 28, 1)} and set(det.shapes) == {(1, 64, 64, 1)}
    assert timing.sliding_ms == pytest.approx(371 * timing.window_ms)


def test_anchors_are_the_k_means_fixed_point_under_iou():
    boxes = [np.array([[0, 0, 10, 20], [0, 0, 11, 21], [0, 0, 30, 30], [0, 0, 31, 29],
                       [0, 0, 20, 8], [0, 0, 21, 9]], float)]
    anchors, mean_iou = anchor_boxes(boxes, k=3, seed=1)
    np.testing.assert_allclose(anchors, [[20.5, 8.5], [10.5, 20.5], [30.5, 29.5]])
    # brute force: each box's best IoU with an anchor, both centred on one point
    wh = boxes[0][:, 2:]
    best = [max(min(w, a) * min(h, b) / (w * h + a * b - min(w, a) * min(h, b))
                for a, b in anchors) for w, h in wh]
    assert mean_iou == pytest.approx(np.mean(best))
    with pytest.raises(ValueError, match="at least 3 boxes"):
        anchor_boxes([boxes[0][:2]], k=3)


def test_session_adapter_walks_rounds_through_the_scenes_and_stops():
    grid = Grid(canvas=32, cells=4, classes=10)
    scenes = make_scenes(12, seed=1, canvas=32, n_digits=(1, 2), sizes=(12, 16))
    fit = SessionDetector(DetectorTrainer(build_detector(grid, width=4), grid, batch_size=4),
                          scenes)
    seen = []

    class Spy:
        def set_model(self, model):
            self.model = model

        def __getattr__(self, name):
            return lambda *a: None

        def on_batch_end(self, batch, logs):
            seen.append(logs["size"])
            if len(seen) == 5:
                self.model.stop_training = True

    first = fit.fit(scenes.images[:8], np.arange(8), epochs=1, batch_size=4, callbacks=(Spy(),))
    assert first.stop_reason is None and seen == [4, 4]
    assert fit._offset == 8                       # the next round starts at scene 8
    fit.fit(scenes.images[:8], np.arange(8), epochs=1, batch_size=4, callbacks=(Spy(),))
    assert fit._offset == 4                       # 8 + 8 wraps round 12 scenes
    h = fit.fit(scenes.images[:8], np.arange(8), epochs=3, batch_size=4, callbacks=(Spy(),))
    assert len(seen) == 5 and "on request" in h.stop_reason
    with pytest.raises(ValueError, match="one scene index per image"):
        fit.fit(scenes.images[:3], np.arange(8))
