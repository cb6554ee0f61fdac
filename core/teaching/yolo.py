"""A YOLO-style grid detector's numbers (T31-T32): targets, decoding and the loss.

The canvas is cut into S x S cells. The cell holding a digit's box centre is *responsible*
for it and must say so; every other cell must say "nothing here". Per cell the network
outputs 5 + C raw numbers (logits):

    o           objectness: p = σ(o), "a digit's centre is in this cell"
    tx, ty      the centre inside the cell: σ(tx), σ(ty) in 0..1 of the cell's width
    tw, th      the size: σ(tw) = sqrt(w / canvas) (YOLO v1's square root, so an error of a
                few pixels costs a small box more than a large one)
    c_0..c_C-1  class scores, softmax over the classes

Loss per scene, summed over cells, averaged over the batch (YOLO v1's weights):

    λ_coord Σ_resp [(σ(tx)-x)² + (σ(ty)-y)² + (σ(tw)-√w)² + (σ(th)-√h)²]
  + Σ_resp BCE(σ(o), 1) + λ_noobj Σ_other BCE(σ(o), 0)
  + Σ_resp cross-entropy(softmax(c), class)

Two digits centred in one cell: the larger is the cell's (a one-box-per-cell detector's
known blind spot, one reason YOLO v2+ has anchor boxes). Qt-free.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.teaching.boxes import Detection, as_boxes, nms

__all__ = ["Grid", "Targets", "encode", "decode", "detection_loss", "detect",
           "LAMBDA_COORD", "LAMBDA_NOOBJ"]

LAMBDA_COORD = 5.0
LAMBDA_NOOBJ = 0.5


@dataclass(frozen=True)
class Grid:
    canvas: int = 64        # pixels on a side
    cells: int = 8          # S
    classes: int = 10       # C

    def __post_init__(self):
        if self.cells < 1 or self.canvas % self.cells:
            raise ValueError(f"the grid's {self.cells} cells must divide the {self.canvas}-pixel "
                             "canvas evenly")

    @property
    def cell(self) -> float:
        return self.canvas / self.cells

    @property
    def channels(self) -> int:
        return 5 + self.classes

    def responsible_cell(self, box) -> tuple[int, int]:
        """(row, column) of the cell holding the box's centre."""
        x0, y0, x1, y1 = as_boxes(box)[0]
        col = min(int((x0 + x1) / 2 // self.cell), self.cells - 1)
        row = min(int((y0 + y1) / 2 // self.cell), self.cells - 1)
        return row, col


@dataclass(frozen=True)
class Targets:
    """What a batch of scenes asks of every cell."""

    obj: np.ndarray      # float64 (N, S, S): 1 in responsible cells
    box: np.ndarray      # float64 (N, S, S, 4): x, y in the cell, √(w/canvas), √(h/canvas)
    cls: np.ndarray      # int64 (N, S, S): the digit, -1 where no digit is centred


def encode(grid: Grid, boxes_per_scene, labels_per_scene) -> Targets:
    n, s = len(boxes_per_scene), grid.cells
    obj = np.zeros((n, s, s))
    box = np.zeros((n, s, s, 4))
    cls = np.full((n, s, s), -1, np.int64)
    area = np.zeros((n, s, s))
    for i, (bxs, lbs) in enumerate(zip(boxes_per_scene, labels_per_scene)):
        for (x0, y0, x1, y1), lab in zip(as_boxes(bxs), np.asarray(lbs).reshape(-1)):
            if not 0 <= lab < grid.classes:
                raise ValueError(f"a label {lab} is outside the grid's {grid.classes} classes")
            r, c = grid.responsible_cell((x0, y0, x1, y1))
            a = (x1 - x0) * (y1 - y0)
            if obj[i, r, c] and area[i, r, c] >= a:
                continue                                # the cell keeps its larger digit
            obj[i, r, c], area[i, r, c], cls[i, r, c] = 1.0, a, lab
            box[i, r, c] = ((x0 + x1) / 2 / grid.cell - c, (y0 + y1) / 2 / grid.cell - r,
                            np.sqrt((x1 - x0) / grid.canvas), np.sqrt((y1 - y0) / grid.canvas))
    return Targets(obj, box, cls)


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))      # σ without overflow for large |z|


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def detection_loss(raw, targets: Targets) -> tuple[float, np.ndarray, dict]:
    """(loss, ∂loss/∂raw with raw's shape and dtype, the loss's parts) for raw outputs
    (N, S, S, 5 + C). Computed in float64."""
    z = np.asarray(raw, np.float64)
    n = z.shape[0]
    if z.ndim != 4 or z.shape[:3] != targets.obj.shape:
        raise ValueError(f"raw outputs {z.shape} do not fit the targets' grid {targets.obj.shape}")
    resp = targets.obj                                         # (N, S, S)
    other = 1.0 - resp
    grad = np.zeros_like(z)

    # objectness: binary cross-entropy on the logit, softplus form (stable for any o)
    o = z[..., 0]
    p = _sigmoid(o)
    bce1 = np.logaddexp(0.0, -o)                               # −log σ(o)
    bce0 = np.logaddexp(0.0, o)                                # −log(1 − σ(o))
    obj_loss = np.sum(resp * bce1)
    noobj_loss = LAMBDA_NOOBJ * np.sum(other * bce0)
    grad[..., 0] = resp * (p - 1.0) + LAMBDA_NOOBJ * other * p

    # box: squared error of the sigmoids, responsible cells only
    s = _sigmoid(z[..., 1:5])
    diff = (s - targets.box) * resp[..., None]
    coord_loss = LAMBDA_COORD * np.sum(diff ** 2)
    grad[..., 1:5] = LAMBDA_COORD * 2.0 * diff * s * (1.0 - s)

    # class: softmax cross-entropy, responsible cells only
    logits = z[..., 5:]
    q = _softmax(logits)
    cls = np.where(targets.cls >= 0, targets.cls, 0)
    picked = np.take_along_axis(q, cls[..., None], axis=-1)[..., 0]
    class_loss = -np.sum(resp * np.log(np.maximum(picked, 1e-300)))
    onehot = np.zeros_like(q)
    np.put_along_axis(onehot, cls[..., None], 1.0, axis=-1)
    grad[..., 5:] = (q - onehot) * resp[..., None]

    parts = {"box": float(coord_loss / n), "objectness": float(obj_loss / n),
             "no object": float(noobj_loss / n), "class": float(class_loss / n)}
    loss = sum(parts.values())
    return float(loss), (grad / n).astype(np.asarray(raw).dtype, copy=False), parts


def decode(grid: Grid, raw) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every cell's prediction for raw outputs (N, S, S, 5 + C): boxes (N, S·S, 4) in
    pixels, clipped to the canvas; objectness (N, S·S); class probabilities (N, S·S, C);
    and the confidence objectness × best class probability (N, S·S)."""
    z = np.asarray(raw, np.float64)
    n, s = z.shape[0], grid.cells
    t = _sigmoid(z[..., 1:5])
    rows, cols = np.meshgrid(np.arange(s), np.arange(s), indexing="ij")
    cx = (cols + t[..., 0]) * grid.cell
    cy = (rows + t[..., 1]) * grid.cell
    w = t[..., 2] ** 2 * grid.canvas
    h = t[..., 3] ** 2 * grid.canvas
    boxes = np.clip(np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=-1),
                    0.0, grid.canvas)
    obj = _sigmoid(z[..., 0])
    probs = _softmax(z[..., 5:])
    conf = obj * probs.max(axis=-1)
    return (boxes.reshape(n, s * s, 4), obj.reshape(n, s * s),
            probs.reshape(n, s * s, grid.classes), conf.reshape(n, s * s))


def detect(grid: Grid, raw, score_threshold: float = 0.01,
           iou_threshold: float = 0.5) -> list[Detection]:
    """The detections after per-class NMS for every scene of a batch (Detection.image is
    the scene's index in the batch)."""
    boxes, _, probs, conf = decode(grid, raw)
    labels = probs.argmax(axis=-1)
    out = []
    for i in range(len(boxes)):
        result = nms(boxes[i], conf[i], labels[i], iou_threshold, score_threshold)
        out += [Detection(i, tuple(float(v) for v in boxes[i, k]), float(conf[i, k]),
                          int(labels[i, k])) for k in result.keep]
    return out
