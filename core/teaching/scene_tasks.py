"""One scene, three questions (tutorial 28): image classification (one label for the whole
image), object detection (a box and a label per digit) and semantic segmentation (a class
per pixel, core.teaching.segmentation). Each is a small network trained with the engine's
own `Sequential.fit`, so the app's one training session can train all three. Qt-free.

Classification answers the scene's *most prominent* digit: the one whose ink box has the
largest area (ties: the first placed). A classifier has one answer per image, so the
other digits are simply not its question.

Detection is the YOLO-style grid detector of core.teaching.detector (its network) with the
loss of core.teaching.yolo, wrapped as an engine loss (`GridLoss`) whose targets are the
grid's encoded targets packed into one array per scene: per cell [objectness, x, y, √w,
√h, class id (−1: none)].
"""
from __future__ import annotations

import numpy as np

from core.layers import Conv2D, Dense, Flatten, MaxPool2D
from core.losses import Loss
from core.model import Sequential
from core.optimizers import Adam
from core.teaching.boxes import as_boxes, box_area
from core.teaching.detector import build_detector
from core.teaching.yolo import Grid, Targets, detection_loss, encode

__all__ = ["most_prominent", "build_classifier", "pack_targets", "GridLoss",
           "build_grid_detector"]


def most_prominent(boxes, labels) -> int:
    """The label of the digit with the largest ink box (ties: the first)."""
    b = as_boxes(boxes)
    if len(b) == 0:
        raise ValueError("a scene without digits has no most prominent digit")
    return int(np.asarray(labels).reshape(-1)[int(np.argmax(box_area(b)))])


def build_classifier(canvas: int = 64, seed: int = 0, learning_rate: float = 3e-3
                     ) -> Sequential:
    """A small compiled CNN: the whole canvas → 10 digit probabilities. Its last pooling
    takes the maximum over the whole remaining map (global max pooling): a digit counts
    wherever it is. Measured: a Dense layer on the flattened 8 x 8 map instead learns
    each place apart and reached 19% held-out accuracy where this reaches 67% (1,000
    scenes, six epochs)."""
    if canvas % 8:
        raise ValueError(f"the classifier pools three times: the canvas must be a multiple "
                         f"of 8, got {canvas}")
    model = Sequential([
        Conv2D(16, 3, padding="same", activation="relu"), MaxPool2D(2),
        Conv2D(32, 3, padding="same", activation="relu"), MaxPool2D(2),
        Conv2D(32, 3, padding="same", activation="relu"), MaxPool2D(2),
        Conv2D(64, 3, padding="same", activation="relu"), MaxPool2D(canvas // 8),
        Flatten(), Dense(10, activation="softmax"),
    ], input_shape=(canvas, canvas, 1), name="scene_classifier", seed=seed)
    model.compile(Adam(learning_rate), "sparse_categorical_crossentropy", ["accuracy"])
    return model


def pack_targets(grid: Grid, boxes_per_scene, labels_per_scene) -> np.ndarray:
    """float32 (N, S, S, 6): yolo.encode's targets as one array (what fit takes as y)."""
    t = encode(grid, boxes_per_scene, labels_per_scene)
    return np.concatenate([t.obj[..., None], t.box, t.cls[..., None]], axis=-1
                          ).astype(np.float32)


def _unpack(y) -> Targets:
    y = np.asarray(y, np.float64)
    return Targets(y[..., 0], y[..., 1:5], np.rint(y[..., 5]).astype(np.int64))


class GridLoss(Loss):
    """core.teaching.yolo.detection_loss as an engine loss (its targets packed by
    `pack_targets`). Its per-sample value is the batch's loss for every sample (the YOLO
    loss is defined per batch); their mean, what fit reports, is that loss."""

    name = "yolo_grid_loss"
    formula = "YOLO v1: λ_coord·box + objectness + λ_noobj·no object + class"

    def __init__(self, grid: Grid):
        self.grid = grid

    def prepare_targets(self, y_true, y_pred_shape):
        y = np.asarray(y_true)
        want = tuple(y_pred_shape[:-1]) + (6,)
        if y.shape != want:
            raise ValueError(f"grid targets must have shape {want}, got {y.shape}")
        return y

    def check_labels(self, y, output_shape, what: str = "the labels (y)") -> None:
        want = tuple(output_shape[:-1]) + (6,)
        if tuple(y.shape[1:]) != want:
            raise ValueError(f"{what} must be packed grid targets of shape (N, "
                             f"{', '.join(map(str, want))}) (core.teaching.scene_tasks."
                             f"pack_targets), got {y.shape}")

    def per_sample(self, y_true, y_pred):
        with np.errstate(invalid="ignore", over="ignore"):   # a NaN is reported, not warned
            loss, grad, _ = detection_loss(y_pred, _unpack(y_true))
        return np.full(len(y_pred), loss), grad

    def get_config(self):
        return self.name


def build_grid_detector(grid: Grid = Grid(), width: int = 16, seed: int = 0,
                        learning_rate: float = 2e-3) -> Sequential:
    """core.teaching.detector's network, compiled with GridLoss (as its trainer: Adam 2e-3)."""
    model = build_detector(grid, width, seed)
    model.compile(Adam(learning_rate), GridLoss(grid))
    return model
