"""Boxes for object detection (T30-T32): IoU, non-maximum suppression step by step, and
precision-recall / average precision at an IoU threshold (PASCAL VOC's all-points way).

A box is (x0, y0, x1, y1) in pixels, x0 < x1 and y0 < y1, edges not pixel centres: a box
covering pixels 2..5 of a row is (2, ., 6, .) and its width is x1 - x0 = 4 (no "+1").
Qt-free; the detection lessons show these numbers, the benchmark scores with them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["as_boxes", "box_area", "iou", "iou_matrix", "NmsStep", "NmsResult", "nms",
           "Detection", "PrecisionRecall", "precision_recall", "average_precision",
           "mean_average_precision"]


def as_boxes(boxes, what: str = "boxes") -> np.ndarray:
    """float64 (K, 4) boxes, or a ValueError that says what is wrong with them."""
    b = np.asarray(boxes, dtype=np.float64)
    if b.size == 0:
        return np.zeros((0, 4))
    if b.ndim == 1:
        b = b[None, :]
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"{what} must be (x0, y0, x1, y1) rows, got shape {np.shape(boxes)}")
    if not np.all(np.isfinite(b)):
        raise ValueError(f"{what} hold NaN or infinite coordinates")
    if np.any(b[:, 2] < b[:, 0]) or np.any(b[:, 3] < b[:, 1]):
        raise ValueError(f"{what} need x1 ≥ x0 and y1 ≥ y0 (corners in the order x0, y0, x1, y1)")
    return b


def box_area(boxes) -> np.ndarray:
    b = as_boxes(boxes)
    return (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])


def iou_matrix(a, b) -> np.ndarray:
    """(len(a), len(b)) intersection over union of every pair; 0 where both are empty."""
    a, b = as_boxes(a, "the first boxes"), as_boxes(b, "the second boxes")
    w = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]),
                0.0, None)
    h = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]),
                0.0, None)
    inter = w * h
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def iou(a, b) -> float:
    """IoU of two single boxes: |A ∩ B| / |A ∪ B|."""
    return float(iou_matrix(a, b)[0, 0])


@dataclass(frozen=True)
class NmsStep:
    """One round of greedy NMS: the best remaining box is kept, and every remaining box of
    its class overlapping it by more than the threshold is suppressed (with its IoU)."""

    kept: int                                       # index into the boxes given to nms()
    score: float
    label: int
    suppressed: tuple[tuple[int, float], ...]       # (index, IoU with the kept box)
    survivors: tuple[int, ...]                      # still in the running after this step


@dataclass(frozen=True)
class NmsResult:
    keep: np.ndarray                                # indices kept, best score first
    steps: tuple[NmsStep, ...]
    threshold: float


def nms(boxes, scores, labels=None, iou_threshold: float = 0.5,
        score_threshold: float = 0.0) -> NmsResult:
    """Greedy non-maximum suppression per class, with every step for a lesson to replay.

    Boxes scoring below `score_threshold` never enter. Each round takes the highest score
    left (ties: the lower index), keeps it, and removes the boxes of the same class whose
    IoU with it exceeds `iou_threshold` (boxes of other classes never suppress each other).
    """
    b = as_boxes(boxes)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    lab = np.zeros(len(b), np.int64) if labels is None else np.asarray(labels).reshape(-1)
    if len(s) != len(b) or len(lab) != len(b):
        raise ValueError(f"nms needs one score and one label per box: {len(b)} boxes, "
                         f"{len(s)} scores, {len(lab)} labels")
    if not 0.0 <= iou_threshold <= 1.0:
        raise ValueError(f"the IoU threshold must be between 0 and 1, got {iou_threshold}")
    order = [int(i) for i in np.argsort(-s, kind="stable") if s[i] >= score_threshold]
    keep, steps = [], []
    while order:
        best, rest = order[0], order[1:]
        same = [i for i in rest if lab[i] == lab[best]]
        overlaps = iou_matrix(b[best], b[same])[0] if same else np.zeros(0)
        gone = {i: float(v) for i, v in zip(same, overlaps) if v > iou_threshold}
        order = [i for i in rest if i not in gone]
        keep.append(best)
        steps.append(NmsStep(best, float(s[best]), int(lab[best]),
                             tuple(gone.items()), tuple(order)))
    return NmsResult(np.asarray(keep, np.int64), tuple(steps), float(iou_threshold))


@dataclass(frozen=True)
class Detection:
    """One predicted box in one image of a scored set."""

    image: int
    box: tuple[float, float, float, float]
    score: float
    label: int


@dataclass(frozen=True)
class PrecisionRecall:
    """The precision-recall curve of one class: detections sorted by score, each a true
    positive (matched a not yet matched ground-truth box with IoU ≥ threshold) or not."""

    label: int
    scores: np.ndarray
    true_positive: np.ndarray          # bool, in score order
    precision: np.ndarray
    recall: np.ndarray
    n_ground_truth: int
    ap: float = field(default=float("nan"))


def precision_recall(detections, truth_boxes, truth_labels, label: int,
                     iou_threshold: float = 0.5) -> PrecisionRecall:
    """VOC matching for class `label`: detections in descending score; each is matched to
    the ground-truth box of that class in its image with the highest IoU; it is a true
    positive if that IoU ≥ threshold and the box was not matched before, otherwise a false
    positive (a duplicate counts as false). truth_boxes/labels: one array per image."""
    dets = sorted((d for d in detections if int(d.label) == label), key=lambda d: -d.score)
    gts = {i: as_boxes(bx)[np.asarray(lb).reshape(-1) == label]
           for i, (bx, lb) in enumerate(zip(truth_boxes, truth_labels))}
    used = {i: np.zeros(len(g), bool) for i, g in gts.items()}
    n_gt = int(sum(len(g) for g in gts.values()))
    tp = np.zeros(len(dets), bool)
    for k, d in enumerate(dets):
        g = gts.get(int(d.image))
        if g is None or len(g) == 0:
            continue
        overlaps = iou_matrix(d.box, g)[0]
        j = int(np.argmax(overlaps))
        if overlaps[j] >= iou_threshold and not used[int(d.image)][j]:
            tp[k] = True
            used[int(d.image)][j] = True
    ctp = np.cumsum(tp)
    precision = ctp / np.arange(1, len(dets) + 1) if len(dets) else np.zeros(0)
    recall = ctp / n_gt if n_gt else np.zeros(len(dets))
    curve = PrecisionRecall(label, np.array([d.score for d in dets]), tp, precision, recall, n_gt)
    return PrecisionRecall(**{**curve.__dict__, "ap": average_precision(recall, precision)
                              if n_gt else float("nan")})


def average_precision(recall, precision) -> float:
    """VOC 2010+ all-points AP: the area under the precision-recall curve after making
    precision monotone (each point takes the best precision at any higher recall)."""
    r = np.concatenate([[0.0], np.asarray(recall, np.float64), [1.0]])
    p = np.concatenate([[0.0], np.asarray(precision, np.float64), [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]
    steps = np.nonzero(r[1:] != r[:-1])[0] + 1
    return float(np.sum((r[steps] - r[steps - 1]) * p[steps]))


def mean_average_precision(detections, truth_boxes, truth_labels, n_classes: int,
                           iou_threshold: float = 0.5) -> tuple[float, list[PrecisionRecall]]:
    """mAP: the mean of the classes' APs over the classes that occur in the ground truth
    (a class never present has no recall to measure and is left out, as VOC does)."""
    curves = [precision_recall(detections, truth_boxes, truth_labels, c, iou_threshold)
              for c in range(n_classes)]
    present = [c.ap for c in curves if c.n_ground_truth > 0]
    return (float(np.mean(present)) if present else float("nan")), curves
