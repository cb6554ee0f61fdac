"""What the YOLO lesson (T31-T32) shows, as numbers: one scene read by the grid detector
(responsible cells, every cell's box, the candidates NMS starts from, the detections),
IoU written out with its parts, the precision-recall curve whose area is a class's AP,
one detector pass against a sliding window's many CNN evaluations, and the anchor boxes
YOLO v2+ would choose for these scenes. Qt-free; the lesson only draws these.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from core.teaching.boxes import (NmsResult, PrecisionRecall, as_boxes, iou_matrix,
                                 mean_average_precision, nms)
from core.teaching.scenes import Scene, SceneSet, make_scenes
from core.teaching.yolo import Grid, decode, detect

__all__ = ["Responsible", "SceneReading", "read_scene", "IouWorking", "iou_working",
           "pr_steps", "sliding_windows", "PassTiming", "time_detector_vs_windows",
           "anchor_boxes", "HELD_OUT_SEED", "held_out_scenes", "HeldOutScore",
           "score_held_out", "opening_scene", "SHIPPED_DETECTOR", "load_shipped_detector"]

#: the held-out scenes' seed: the benchmark's and the shipping script's (test digits only)
HELD_OUT_SEED = 10_000
#: resources/models/<name>.npz, made by scripts/train_yolo_detector.py
SHIPPED_DETECTOR = "digits_yolo"


def held_out_scenes(n: int = 200) -> SceneSet:
    """The first n held-out scenes (digits no detector trained on)."""
    return make_scenes(n, seed=HELD_OUT_SEED, split="test")


@dataclass(frozen=True)
class HeldOutScore:
    raw: np.ndarray          # (N, S, S, 5 + C) the detector's outputs for every scene
    m_ap: float              # mAP at IoU 0.5
    curves: list             # one boxes.PrecisionRecall per class


def score_held_out(model, grid: Grid, scenes: SceneSet) -> HeldOutScore:
    """Every held-out scene through the detector, and mAP@0.5 with its curves (every
    cell scoring ≥ 1 % after per-class NMS at IoU 0.5: the curve needs unsure boxes too)."""
    raw = np.asarray(model.predict(scenes.images, batch_size=128))
    dets = detect(grid, raw, score_threshold=0.01, iou_threshold=0.5)
    m_ap, curves = mean_average_precision(dets, scenes.boxes, scenes.labels, grid.classes, 0.5)
    return HeldOutScore(raw, m_ap, curves)


def load_shipped_detector(grid: Grid):
    """The shipped detector, or None when the file is not there; a file that is there but
    does not fit the grid raises a ValueError that says so."""
    from core.io import load_model
    from resources.paths import model_path, resource

    if not resource("models", f"{SHIPPED_DETECTOR}.npz").is_file():
        return None
    with model_path(SHIPPED_DETECTOR) as path:
        model = load_model(path)
    want = (grid.cells, grid.cells, grid.channels)
    if tuple(model.output_shape) != want:
        raise ValueError(f"the shipped detector gives {tuple(model.output_shape)} per scene, "
                         f"the lesson's grid needs {want}")
    return model


@dataclass(frozen=True)
class Responsible:
    """A true digit and the grid cell that must report it (the one holding its centre)."""

    label: int
    box: tuple[float, float, float, float]
    centre: tuple[float, float]
    row: int
    col: int


@dataclass(frozen=True)
class SceneReading:
    """One scene through the detector: every cell's guess, the candidates (confidence ≥
    the threshold) in the order NMS considers them, NMS's steps and what it keeps."""

    grid: Grid
    truth: tuple[Responsible, ...]
    boxes: np.ndarray        # (S·S, 4) every cell's box, pixels
    objectness: np.ndarray   # (S·S,)
    class_prob: np.ndarray   # (S·S,) the probability of the cell's best class
    labels: np.ndarray       # (S·S,) the cell's best class
    confidence: np.ndarray   # (S·S,) objectness × class probability
    candidates: np.ndarray   # cell indices with confidence ≥ threshold, best first
    nms: NmsResult           # indices into `candidates`
    score_threshold: float

    @property
    def kept_cells(self) -> np.ndarray:
        """The cells whose boxes survive NMS: the detections, best first."""
        return self.candidates[self.nms.keep]

    def best_truth(self, cell: int) -> tuple[int, float]:
        """(index of the true box this cell's box overlaps most, that IoU); (-1, 0) if none."""
        if not self.truth:
            return -1, 0.0
        overlaps = iou_matrix(self.boxes[cell], [t.box for t in self.truth])[0]
        j = int(np.argmax(overlaps))
        return j, float(overlaps[j])


def read_scene(grid: Grid, scene: Scene, raw, score_threshold: float = 0.25,
               iou_threshold: float = 0.5) -> SceneReading:
    """`raw`: the detector's outputs (S, S, 5 + C) for this scene."""
    if not 0.0 <= score_threshold <= 1.0:
        raise ValueError(f"the confidence threshold must be between 0 and 1, got "
                         f"{score_threshold}")
    boxes, obj, probs, conf = (a[0] for a in decode(grid, np.asarray(raw)[None]))
    labels = probs.argmax(axis=-1)
    truth = []
    for box, lab in zip(as_boxes(scene.boxes), np.asarray(scene.labels).reshape(-1)):
        row, col = grid.responsible_cell(box)
        x0, y0, x1, y1 = (float(v) for v in box)
        truth.append(Responsible(int(lab), (x0, y0, x1, y1), ((x0 + x1) / 2, (y0 + y1) / 2),
                                 row, col))
    candidates = np.array([int(i) for i in np.argsort(-conf, kind="stable")
                           if conf[i] >= score_threshold], np.int64)
    result = nms(boxes[candidates], conf[candidates], labels[candidates], iou_threshold)
    return SceneReading(grid, tuple(truth), boxes, obj, probs.max(axis=-1), labels, conf,
                        candidates, result, float(score_threshold))


def opening_scene(grid: Grid, scenes: SceneSet, score: HeldOutScore,
                  score_threshold: float = 0.25, min_digits: int = 3) -> int:
    """The first held-out scene worth opening on: at least `min_digits` digits and a box
    that NMS removes, so the first look shows several digits found at once and Play has a
    duplicate to suppress. 0 when no scene qualifies (an untrained detector, say)."""
    for i in range(len(scenes.images)):
        scene = scenes.scene(i)
        if len(scene.labels) < min_digits:
            continue
        reading = read_scene(grid, scene, score.raw[i], score_threshold)
        if len(reading.nms.keep) < len(reading.candidates):
            return i
    return 0


@dataclass(frozen=True)
class IouWorking:
    """IoU with its parts, for writing it out: the intersection rectangle (None if the
    boxes do not overlap), the two areas, the union and the ratio."""

    a: tuple[float, float, float, float]
    b: tuple[float, float, float, float]
    intersection_box: tuple[float, float, float, float] | None
    inter_w: float
    inter_h: float
    intersection: float
    area_a: float
    area_b: float
    union: float
    iou: float


def iou_working(a, b) -> IouWorking:
    (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = as_boxes(a)[0], as_boxes(b)[0]
    x0, y0, x1, y1 = max(ax0, bx0), max(ay0, by0), min(ax1, bx1), min(ay1, by1)
    w, h = max(0.0, x1 - x0), max(0.0, y1 - y0)
    inter = w * h
    area_a, area_b = (ax1 - ax0) * (ay1 - ay0), (bx1 - bx0) * (by1 - by0)
    union = area_a + area_b - inter
    return IouWorking((ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1),
                      (x0, y0, x1, y1) if w > 0 and h > 0 else None, w, h, inter,
                      area_a, area_b, union, inter / union if union > 0 else 0.0)


def pr_steps(curve: PrecisionRecall) -> tuple[np.ndarray, np.ndarray]:
    """(recall, precision) of the curve AP integrates, as a step line to draw: precision
    made monotone (the best precision at this or any higher recall), from recall 0 to 1.
    The area under this line is exactly the class's AP (boxes.average_precision)."""
    r = np.concatenate([[0.0], np.asarray(curve.recall, np.float64), [1.0]])
    p = np.concatenate([[0.0], np.asarray(curve.precision, np.float64), [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]
    xs, ys = [0.0], [p[1] if len(p) > 1 else 0.0]
    for k in range(1, len(r)):
        if r[k] != r[k - 1]:
            xs += [r[k - 1], r[k]]
            ys += [p[k], p[k]]
    return np.asarray(xs), np.asarray(ys)


def sliding_windows(canvas: int = 64, sizes=(16, 24, 32), stride: int = 4) -> list:
    """Every window a sliding-window detector looks at: squares of each size, every
    `stride` pixels, inside the canvas. (x0, y0, x1, y1) tuples."""
    if stride < 1 or not sizes or min(sizes) < 1 or max(sizes) > canvas:
        raise ValueError(f"windows need sizes between 1 and the canvas ({canvas}) and a "
                         f"stride of at least 1, got sizes={sizes}, stride={stride}")
    return [(x, y, x + s, y + s) for s in sizes for y in range(0, canvas - s + 1, stride)
            for x in range(0, canvas - s + 1, stride)]


@dataclass(frozen=True)
class PassTiming:
    """One detector pass over the whole scene against a sliding window's count × the cost
    of one window (crop, scale to 28×28, one CNN evaluation), both medians of repeats."""

    detector_ms: float
    window_ms: float
    windows: int
    sizes: tuple[int, ...]
    stride: int

    @property
    def sliding_ms(self) -> float:
        return self.windows * self.window_ms

    @property
    def ratio(self) -> float:
        return self.sliding_ms / self.detector_ms if self.detector_ms > 0 else float("inf")


def _median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return float(np.median(times))


def time_detector_vs_windows(detector, cnn, image, sizes=(16, 24, 32), stride: int = 4,
                             repeats: int = 15) -> PassTiming:
    """Time `detector` on the (H, W) scene once per repeat, and `cnn` (a 28×28×1 digit
    classifier) on windows of the scene one at a time, as a sliding window runs it."""
    image = np.asarray(image, np.float32)
    canvas = image.shape[0]
    windows = sliding_windows(canvas, sizes, stride)
    x = image[None, :, :, None]
    detector.predict(x)                                     # load the kernels first
    detector_ms = _median_ms(lambda: detector.predict(x), repeats)
    sample = [windows[k] for k in np.linspace(0, len(windows) - 1, repeats).astype(int)]
    cursor = iter(sample * 2)

    def one_window():
        x0, y0, x1, y1 = next(cursor)
        crop = _resized_to_28(image[y0:y1, x0:x1])
        cnn.predict(crop[None, :, :, None])

    one_window()
    cursor = iter(sample)
    window_ms = _median_ms(one_window, repeats)
    return PassTiming(detector_ms, window_ms, len(windows), tuple(sizes), stride)


def _resized_to_28(crop: np.ndarray) -> np.ndarray:
    """A square window scaled to the CNN's 28×28 input (area averaging)."""
    from core.digits import _area_weights

    n = crop.shape[0]
    if n == 28:
        return crop.astype(np.float32)
    return (_area_weights(n, 28) @ crop @ _area_weights(n, 28).T).astype(np.float32)


def anchor_boxes(boxes_per_scene, k: int = 3, seed: int = 0, iterations: int = 50):
    """The k anchor shapes (width, height) YOLO v2 would choose for these boxes: k-means
    on the boxes' widths and heights with 1 − IoU as the distance (boxes compared as if
    centred on one point), so a large box's pixels do not outweigh a small one's.
    Returns (anchors (k, 2) sorted by area, the mean best IoU of a box with an anchor)."""
    wh = np.concatenate([as_boxes(b)[:, 2:] - as_boxes(b)[:, :2] for b in boxes_per_scene])
    if len(wh) < k:
        raise ValueError(f"need at least {k} boxes to choose {k} anchors, got {len(wh)}")
    rng = np.random.default_rng(seed)
    anchors = wh[rng.choice(len(wh), k, replace=False)].copy()
    for _ in range(iterations):
        near = _shape_iou(wh, anchors).argmax(axis=1)
        moved = np.array([np.median(wh[near == j], axis=0) if np.any(near == j) else anchors[j]
                          for j in range(k)])
        if np.allclose(moved, anchors):
            break
        anchors = moved
    anchors = anchors[np.argsort(anchors.prod(axis=1))]
    return anchors, float(_shape_iou(wh, anchors).max(axis=1).mean())


def _shape_iou(wh: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    inter = (np.minimum(wh[:, None, 0], anchors[None, :, 0])
             * np.minimum(wh[:, None, 1], anchors[None, :, 1]))
    union = wh.prod(axis=1)[:, None] + anchors.prod(axis=1)[None, :] - inter
    return inter / union
