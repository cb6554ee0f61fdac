"""Training the small YOLO-style grid detector on generated scenes (T31-T32).

The network is an ordinary core.layers CNN whose last layer is a 1x1 convolution with
5 + C outputs per grid cell; core.teaching.yolo supplies the loss and its gradient. A step
runs the layers forward and backward exactly as a Sequential's own steps do (core.fast's
runs: fused Conv2D + MaxPool2D where they fit), but starts the backward pass from the
detection loss's gradient instead of a built-in loss. The engine itself is untouched.

`DetectorTrainer` is Qt-free and cooperative: `train_epoch` checks `stop_training` after
every batch, so the GUI's training session can run it in its worker and stop it.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from core import step as step_mod
from core.callbacks import CallbackList, History
from core.fast.conv_pool import plan_runs
from core.layers import Conv2D, MaxPool2D
from core.model import Sequential
from core.optimizers import Adam
from core.teaching.boxes import mean_average_precision
from core.teaching.scenes import SceneSet
from core.teaching.yolo import Grid, Targets, detect, detection_loss, encode
from core.wording import number

__all__ = ["build_detector", "DetectorTrainer", "SessionDetector", "evaluate_map"]


def build_detector(grid: Grid = Grid(), width: int = 16, seed: int = 0) -> Sequential:
    """A small CNN from canvas x canvas x 1 to S x S x (5 + C): 3x3 convolutions and 2x2
    poolings down to the grid, then a 1x1 convolution giving each cell its raw outputs."""
    pools = int(round(math.log2(grid.canvas // grid.cells)))
    if 2 ** pools * grid.cells != grid.canvas:
        raise ValueError("the canvas must be the grid times a power of two")
    layers, filters = [], width
    for k in range(pools):
        filters = width * 2 ** k
        layers += [Conv2D(filters, 3, padding="same", activation="relu"), MaxPool2D(2)]
    # two more 3x3 layers at grid resolution widen the view to a whole digit (a 32-pixel
    # digit spans 4 cells); as wide as the last block, since at 8x8 they cost the most
    layers += [Conv2D(filters, 3, padding="same", activation="relu"),
               Conv2D(filters, 3, padding="same", activation="relu"),
               Conv2D(grid.channels, 1)]
    return Sequential(layers, input_shape=(grid.canvas, grid.canvas, 1), name="grid_detector",
                      seed=seed)


@dataclass
class DetectorTrainer:
    model: Sequential
    grid: Grid
    learning_rate: float = 2e-3
    batch_size: int = 32
    stop_training: bool = False
    stop_reason: str = ""
    history: list = field(default_factory=list)     # one dict per step: loss and its parts

    def __post_init__(self):
        if self.model.output_shape != (self.grid.cells, self.grid.cells, self.grid.channels):
            raise ValueError(f"the model gives {self.model.output_shape}, the grid needs "
                             f"{(self.grid.cells, self.grid.cells, self.grid.channels)}")
        self.optimizer = Adam(self.learning_rate)
        self._runs = plan_runs(self.model.layers)

    def step(self, x, targets) -> dict:
        """One forward, backward and Adam update on a batch; the weights stay as they
        were if the loss or a gradient is not finite (as the engine's own steps do)."""
        h = np.ascontiguousarray(x, np.float32)
        for run in self._runs:
            h = run.forward(h, True)
        with np.errstate(invalid="ignore", over="ignore"):   # a NaN is reported, not warned
            loss, grad, parts = detection_loss(h, targets)
        for j in range(len(self._runs) - 1, -1, -1):
            grad = self._runs[j].backward(grad, j != 0)
        params, grads, _, unchecked = step_mod.parameters(self.model.layers)
        applied = step_mod.finite(loss, unchecked)
        if applied:
            self.optimizer.apply(params, grads, return_updates=False)
        logs = {"loss": loss if applied else float("inf"), **parts}
        self.history.append(logs)
        return logs

    def train_epoch(self, scenes: SceneSet, seed: int = 0, deadline: float | None = None) -> dict:
        """One pass over the scenes in a seeded order; stops early when `stop_training` is
        set or time.perf_counter() passes `deadline`. Returns the last step's logs."""
        targets = encode(self.grid, scenes.boxes, scenes.labels)
        order = np.random.default_rng(seed).permutation(len(scenes))
        logs = {}
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            batch_targets = type(targets)(targets.obj[idx], targets.box[idx], targets.cls[idx])
            logs = self.step(scenes.images[idx], batch_targets)
            if not math.isfinite(logs["loss"]):
                self.stop_training = True
                self.stop_reason = (
                    f"the loss or a gradient was not a number (NaN or infinite) at step "
                    f"{len(self.history)}; the weights are those from before that step")
            if self.stop_training or (deadline is not None and time.perf_counter() > deadline):
                break
        return logs

    def predict_raw(self, images, batch_size: int = 128) -> np.ndarray:
        return self.model.predict(np.asarray(images, np.float32), batch_size=batch_size)


class SessionDetector:
    """The detector as the GUI's training session drives a model: `fit(x, y, epochs,
    batch_size, callbacks=..., seed=...) -> History` with the engine's callback hooks and
    its cooperative `stop_training` flag, so a lesson trains it with the same
    TrainingSession (pause, stop, live rows, snapshots) as every Sequential.

    `y` holds scene indices into `scenes`; `x` (their images) only fixes the round's size.
    A session trains "epoch by epoch" on the same x and y, so each call moves on to the
    next len(y) scenes of `scenes` (wrapping around): short rounds, for a live mAP after
    each, that still walk through the whole training set.
    """

    def __init__(self, trainer: DetectorTrainer, scenes: SceneSet):
        self.trainer, self.scenes = trainer, scenes
        self.targets = encode(trainer.grid, scenes.boxes, scenes.labels)
        self.stop_training = False
        self.stop_reason: str | None = None
        self._offset = 0

    @property
    def model(self) -> Sequential:
        return self.trainer.model

    def predict(self, x, batch_size: int = 128) -> np.ndarray:
        return self.trainer.predict_raw(x, batch_size)

    def get_weights(self) -> list:
        return self.model.get_weights()

    def set_weights(self, weights) -> None:
        self.model.set_weights(weights)

    def fit(self, x, y, epochs: int = 1, batch_size: int = 32, validation_data=None,
            callbacks=(), shuffle: bool = True, seed: int | None = None,
            class_weight=None) -> History:
        if class_weight is not None or validation_data is not None:
            raise ValueError("the detector trains on scenes: no class weights or validation "
                             "data (its held-out mAP is measured apart)")
        y = np.asarray(y).reshape(-1).astype(np.int64)
        if len(x) != len(y) or len(y) == 0:
            raise ValueError(f"need one scene index per image: {len(x)} images, {len(y)} "
                             "indices")
        n, total = len(y), len(self.scenes)
        picked = (y + self._offset) % total
        self._offset = (self._offset + n) % total
        rng = np.random.default_rng(seed)
        history = History()
        cbs = CallbackList([history, *callbacks], self)
        self.stop_training, self.stop_reason = False, None
        cbs.on_train_begin({})
        step = 0
        for epoch in range(int(epochs)):
            cbs.on_epoch_begin(epoch, {})
            order = rng.permutation(picked) if shuffle else picked
            sums, seen = {}, 0
            for b, start in enumerate(range(0, n, batch_size)):
                idx = order[start:start + batch_size]
                cbs.on_batch_begin(b, {"epoch": epoch, "batch": b, "size": len(idx)})
                t = self.targets
                logs = self.trainer.step(self.scenes.images[idx],
                                         Targets(t.obj[idx], t.box[idx], t.cls[idx]))
                step += 1
                for k, v in logs.items():
                    sums[k] = sums.get(k, 0.0) + v * len(idx)
                seen += len(idx)
                if not math.isfinite(logs["loss"]) and self.stop_reason is None:
                    self.stop_training = history.diverged = True
                    self.stop_reason = (
                        f"training stopped: the loss or a gradient was not a number (NaN or "
                        f"infinite) at round {epoch + 1}, batch {b + 1}. The weights were "
                        f"left as they were before that step. Try a smaller learning rate "
                        f"(now {number(self.trainer.optimizer.learning_rate)}).")
                cbs.on_batch_end(b, {**logs, "epoch": epoch, "batch": b, "step": step,
                                     "size": len(idx)})
                if self.stop_training:
                    break
            cbs.on_epoch_end(epoch, {k: v / seen for k, v in sums.items()})
            if self.stop_training:
                if self.stop_reason is None:
                    self.stop_reason = f"training stopped on request after {step} steps"
                break
        history.stop_reason = self.stop_reason
        cbs.on_train_end({"stop_reason": self.stop_reason})
        return history


def evaluate_map(model: Sequential, grid: Grid, scenes: SceneSet, iou_threshold: float = 0.5,
                 score_threshold: float = 0.01, nms_iou: float = 0.5):
    """(mAP at `iou_threshold`, the per-class precision-recall curves) on the scenes, the
    detections being every cell scoring ≥ score_threshold after per-class NMS at nms_iou
    (a low score threshold: the curve needs the unsure detections too)."""
    raw = model.predict(scenes.images, batch_size=128)
    dets = detect(grid, raw, score_threshold=score_threshold, iou_threshold=nms_iou)
    return mean_average_precision(dets, scenes.boxes, scenes.labels, grid.classes, iou_threshold)
