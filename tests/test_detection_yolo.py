"""The YOLO-style grid detector's targets, decoding and loss (issue 17, item 5)."""
import numpy as np
import pytest

from core.teaching.boxes import iou_matrix
from core.teaching.scenes import make_scenes
from core.teaching.yolo import (LAMBDA_COORD, LAMBDA_NOOBJ, Grid, Targets, decode, detect,
                                detection_loss, encode)

GRID = Grid(canvas=64, cells=8, classes=10)


def logit(p):
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def perfect_raw(grid, targets):
    """Raw outputs a perfect network would give: confident objectness, exact boxes, the
    right class far ahead of the others."""
    raw = np.zeros(targets.obj.shape + (grid.channels,))
    raw[..., 0] = np.where(targets.obj > 0, 12.0, -12.0)
    raw[..., 1:5] = logit(targets.box)
    rows = np.nonzero(targets.cls >= 0)
    raw[rows + (5 + targets.cls[rows],)] = 12.0
    return raw


def test_encode_puts_each_digit_in_the_cell_of_its_centre():
    boxes = [np.array([[10.0, 2.0, 30.0, 30.0], [40.0, 40.0, 64.0, 60.0]])]
    t = encode(GRID, boxes, [np.array([3, 8])])
    # centre (20, 16): column 20 // 8 = 2, row 16 // 8 = 2, offsets 0.5 and 0.0
    assert t.obj[0].sum() == 2 and t.obj[0, 2, 2] == 1 and t.cls[0, 2, 2] == 3
    np.testing.assert_allclose(t.box[0, 2, 2], [0.5, 0.0, np.sqrt(20 / 64), np.sqrt(28 / 64)])
    # centre (52, 50): column 6, row 6
    assert t.cls[0, 6, 6] == 8 and GRID.responsible_cell(boxes[0][1]) == (6, 6)
    assert (t.cls[0] >= 0).sum() == 2


def test_two_centres_in_one_cell_keep_the_larger_digit():
    boxes = [np.array([[0.0, 0.0, 8.0, 8.0], [0.0, 0.0, 9.0, 9.0]])]
    t = encode(GRID, boxes, [np.array([1, 2])])
    assert t.obj[0].sum() == 1 and t.cls[0, 0, 0] == 2


def test_decode_of_perfect_outputs_gives_the_boxes_back():
    scenes = make_scenes(12, seed=3)
    t = encode(GRID, scenes.boxes, scenes.labels)
    raw = perfect_raw(GRID, t)
    dets = detect(GRID, raw, score_threshold=0.5)
    for i, (bx, lb) in enumerate(zip(scenes.boxes, scenes.labels)):
        mine = [d for d in dets if d.image == i]
        kept = encode(GRID, [bx], [lb]).obj.sum()        # a shared cell hides one digit
        assert len(mine) == kept
        for d in mine:
            j = int(np.argmax(iou_matrix(d.box, bx)[0]))
            np.testing.assert_allclose(d.box, bx[j], atol=1e-6)
            assert d.label == lb[j] and d.score > 0.99
    boxes, obj, probs, conf = decode(GRID, raw)
    assert boxes.shape == (12, 64, 4) and conf.shape == (12, 64) and probs.shape == (12, 64, 10)


def loop_loss(raw, t):
    """The loss cell by cell, straight from its definition."""
    sig = lambda z: 1 / (1 + np.exp(-z))                             # noqa: E731
    total = 0.0
    n, s = t.obj.shape[:2]
    for i in range(n):
        for r in range(s):
            for c in range(s):
                z = raw[i, r, c]
                p = sig(z[0])
                if t.obj[i, r, c]:
                    total += -np.log(p)
                    total += LAMBDA_COORD * np.sum((sig(z[1:5]) - t.box[i, r, c]) ** 2)
                    q = np.exp(z[5:]) / np.exp(z[5:]).sum()
                    total += -np.log(q[t.cls[i, r, c]])
                else:
                    total += LAMBDA_NOOBJ * -np.log(1 - p)
    return total / n


def random_case(seed, n=3):
    rng = np.random.default_rng(seed)
    scenes = make_scenes(n, seed=seed)
    t = encode(GRID, scenes.boxes, scenes.labels)
    return rng.normal(0, 1.5, t.obj.shape + (GRID.channels,)), t


def test_loss_matches_its_definition_cell_by_cell():
    raw, t = random_case(0)
    loss, _, parts = detection_loss(raw, t)
    assert loss == pytest.approx(loop_loss(raw, t), rel=1e-12)
    assert sum(parts.values()) == pytest.approx(loss)


def test_loss_gradient_matches_finite_differences():
    raw, t = random_case(1, n=2)
    _, grad, _ = detection_loss(raw, t)
    # every channel of responsible cells and of some empty cells
    resp = list(zip(*np.nonzero(t.obj)))
    empty = list(zip(*np.nonzero(t.obj == 0)))[:6]
    h = 1e-6
    for cell in resp + empty:
        for ch in range(GRID.channels):
            idx = tuple(cell) + (ch,)
            plus, minus = raw.copy(), raw.copy()
            plus[idx] += h
            minus[idx] -= h
            fd = (detection_loss(plus, t)[0] - detection_loss(minus, t)[0]) / (2 * h)
            assert grad[idx] == pytest.approx(fd, rel=1e-5, abs=1e-8), idx


def test_loss_is_finite_for_extreme_outputs_and_zero_gradient_when_perfect():
    scenes = make_scenes(4, seed=6)
    t = encode(GRID, scenes.boxes, scenes.labels)
    raw = perfect_raw(GRID, t)
    loss, grad, _ = detection_loss(raw * 1e3, t)       # logits of ±12,000: no overflow
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    sure = perfect_raw(GRID, t)
    sure[..., 0] *= 3                                   # objectness and class logits ±36
    sure[..., 5:] *= 3
    loss, grad, _ = detection_loss(sure, t)
    assert loss < 1e-6 and np.abs(grad).max() < 1e-6


def test_mismatched_shapes_and_grids_get_a_sentence():
    raw, t = random_case(0)
    with pytest.raises(ValueError, match="do not fit"):
        detection_loss(raw[:, :4], t)
    with pytest.raises(ValueError, match="divide"):
        Grid(canvas=64, cells=7)
    with pytest.raises(ValueError, match="classes"):
        encode(GRID, [np.array([[0, 0, 4, 4]])], [np.array([12])])
    assert isinstance(t, Targets)
