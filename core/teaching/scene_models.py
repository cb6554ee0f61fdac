"""The T28 lesson's three trained networks as shipped files, and how each is scored on
held-out scenes. Qt-free; scripts/train_scene_models.py makes the files (seeded).

Shipped in resources/models/ (found through resources.paths, read with core.io.load_model):
    scene_classifier.npz   the scene's most prominent digit
    scene_detector.npz     the YOLO-style grid detector
    scene_fcn.npz          the segmentation FCN
"""
from __future__ import annotations

import numpy as np

from core.io import load_model
from core.teaching import scene_tasks as st
from core.teaching import segmentation as sg
from core.teaching.detector import evaluate_map
from core.teaching.yolo import Grid

__all__ = ["SHIPPED", "EPOCHS", "SCENES_PER_EPOCH", "held_out_score", "load_shipped",
           "fits_task"]

SHIPPED = {"classification": "scene_classifier", "detection": "scene_detector",
           "segmentation": "scene_fcn"}
#: how the shipped networks were trained (scripts/train_scene_models.py's defaults): every
#: epoch on fresh scenes
EPOCHS, SCENES_PER_EPOCH = 16, 1500


def held_out_score(kind: str, model, grid: Grid, held) -> float:
    """Accuracy on the most prominent digit, mAP@0.5, or the mean class-aware mask IoU."""
    if kind == "classification":
        want = np.array([st.most_prominent(b, lab) for b, lab in zip(held.boxes, held.labels)])
        return float(np.mean(model.predict(held.images).argmax(1) == want))
    if kind == "detection":
        return float(evaluate_map(model, grid, held)[0])
    return sg.mean_mask_iou(sg.predict_masks(model, held.images), held.masks)


def fits_task(kind: str, model, grid: Grid) -> bool:
    """Whether a loaded network answers this task on this grid's scenes."""
    want_in = (grid.canvas, grid.canvas, 1)
    want_out = {"classification": (10,),
                "detection": (grid.cells, grid.cells, grid.channels),
                "segmentation": (grid.canvas, grid.canvas, sg.N_CLASSES)}[kind]
    return (tuple(model.input_shape) == want_in and tuple(model.output_shape) == want_out)


def load_shipped(kind: str, grid: Grid = Grid()):
    """(model, None) for the shipped network of `kind`, or (None, a sentence why not)."""
    from resources.paths import model_path, resource

    name = SHIPPED[kind]
    if not resource("models", f"{name}.npz").is_file():
        return None, f"the trained {kind} network (resources/models/{name}.npz) is not installed"
    try:
        with model_path(name) as path:
            model = load_model(path)
    except (OSError, ValueError) as exc:
        return None, f"the trained {kind} network could not be read: {exc}"
    if not fits_task(kind, model, grid):
        return None, (f"resources/models/{name}.npz does not fit the {kind} task "
                      f"(it takes {model.input_shape} and gives {model.output_shape})")
    return model, None
