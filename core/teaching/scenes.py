"""Seeded scenes for the detection lessons (T28, T30-T32): a square canvas holding 1-4 real
offline MNIST digits at different places and sizes, with each digit's box and label and a
per-pixel mask. Lessons, tests and benchmarks all draw their scenes from here, so a seed
means the same scene everywhere.

Digits come from core.data.load_offline_digits (5,000 real MNIST digits, fixed order).
The first 4,000 feed "train" scenes and the last 1,000 "test" scenes, so held-out scenes
hold digits no detector has seen. Digits are pasted with a maximum (ink never erases ink)
and kept apart: two boxes overlap by at most `max_overlap` IoU.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from core.digits import _area_weights
from core.teaching.boxes import iou_matrix

__all__ = ["BACKGROUND", "INK", "Scene", "SceneSet", "make_scene", "make_scenes", "digit_pool"]

#: the mask's value for pixels that belong to no digit (digits are 0-9)
BACKGROUND = 10
#: a pixel is part of a digit (its box, its mask) when its ink is at least this
INK = 0.25
_SPLIT = 4000


@dataclass(frozen=True)
class Scene:
    image: np.ndarray       # float32 (H, W) in [0, 1], white ink on black
    boxes: np.ndarray       # float64 (K, 4): x0, y0, x1, y1 of each digit's ink
    labels: np.ndarray      # int64 (K,)
    mask: np.ndarray        # int64 (H, W): the digit class of each pixel, BACKGROUND if none
    instances: np.ndarray   # int64 (H, W): which digit (0..K-1) each pixel belongs to, -1 none


@dataclass(frozen=True)
class SceneSet:
    """Many scenes as arrays a network takes, and the per-scene truth a scorer takes."""

    images: np.ndarray      # float32 (N, H, W, 1)
    boxes: list             # N arrays (K_i, 4)
    labels: list            # N arrays (K_i,)
    masks: np.ndarray       # int64 (N, H, W)
    instances: np.ndarray   # int64 (N, H, W)

    def __len__(self):
        return len(self.images)

    def scene(self, i: int) -> Scene:
        return Scene(self.images[i, ..., 0], self.boxes[i], self.labels[i], self.masks[i],
                     self.instances[i])


@lru_cache(maxsize=2)
def digit_pool(split: str) -> tuple[np.ndarray, np.ndarray]:
    """(digits (M, 28, 28) float32, labels (M,)) for "train" or "test" scenes."""
    from core.data import load_offline_digits

    if split not in ("train", "test"):
        raise ValueError(f'a scene split is "train" or "test", got {split!r}')
    x, y = load_offline_digits(shuffle=True, seed=0, read_only=True)
    part = slice(0, _SPLIT) if split == "train" else slice(_SPLIT, None)
    digits, labels = x[part, ..., 0].copy(), y[part].copy()
    digits.setflags(write=False)
    labels.setflags(write=False)
    return digits, labels


def _resized(digit: np.ndarray, size: int) -> np.ndarray:
    """The 28x28 digit scaled to size x size by area averaging (the pad's own resampling)."""
    return np.clip(_area_weights(28, size) @ digit @ _area_weights(28, size).T, 0.0, 1.0)


def _ink_box(patch: np.ndarray) -> tuple[int, int, int, int] | None:
    rows = np.nonzero((patch >= INK).any(axis=1))[0]
    cols = np.nonzero((patch >= INK).any(axis=0))[0]
    if len(rows) == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def make_scene(rng: np.random.Generator, canvas: int = 64, n_digits=(1, 4),
               sizes=(16, 32), split: str = "train", max_overlap: float = 0.1) -> Scene:
    """One scene: 1-4 digits (n_digits, inclusive range or an int), each scaled to a side
    drawn from `sizes` (inclusive, pixels of the 28x28 MNIST frame), placed at random."""
    if canvas < 16:
        raise ValueError(f"a scene canvas must be at least 16 pixels, got {canvas}")
    lo, hi = (n_digits, n_digits) if np.isscalar(n_digits) else n_digits
    smin, smax = sizes
    if not (1 <= lo <= hi) or not (8 <= smin <= smax <= canvas):
        raise ValueError(f"need 1 ≤ digits and 8 ≤ sizes ≤ canvas ({canvas}), got "
                         f"n_digits={n_digits}, sizes={sizes}")
    digits, labels = digit_pool(split)
    image = np.zeros((canvas, canvas), np.float32)
    mask = np.full((canvas, canvas), BACKGROUND, np.int64)
    inst = np.full((canvas, canvas), -1, np.int64)
    boxes, labs = [], []
    want = int(rng.integers(lo, hi + 1))
    for _ in range(want * 30):          # a few tries per digit; a crowded canvas holds fewer
        if len(boxes) == want:
            break
        k = int(rng.integers(len(digits)))
        size = int(rng.integers(smin, smax + 1))
        patch = _resized(digits[k], size)
        ink = _ink_box(patch)
        if ink is None:
            continue
        x0 = int(rng.integers(-ink[0], canvas - ink[2] + 1))   # the ink stays on the canvas
        y0 = int(rng.integers(-ink[1], canvas - ink[3] + 1))
        box = (x0 + ink[0], y0 + ink[1], x0 + ink[2], y0 + ink[3])
        if boxes and iou_matrix(box, boxes).max() > max_overlap:
            continue
        # paste the part of the patch that lies on the canvas
        py0, px0 = max(0, -y0), max(0, -x0)
        py1, px1 = min(size, canvas - y0), min(size, canvas - x0)
        piece = patch[py0:py1, px0:px1]
        region = (slice(y0 + py0, y0 + py1), slice(x0 + px0, x0 + px1))
        image[region] = np.maximum(image[region], piece)
        mask[region][piece >= INK] = labels[k]
        inst[region][piece >= INK] = len(boxes)
        boxes.append(box)
        labs.append(int(labels[k]))
    return Scene(image, np.asarray(boxes, np.float64).reshape(-1, 4),
                 np.asarray(labs, np.int64), mask, inst)


def make_scenes(n: int, seed: int = 0, canvas: int = 64, n_digits=(1, 4), sizes=(16, 32),
                split: str = "train", max_overlap: float = 0.1) -> SceneSet:
    """n seeded scenes (same seed and settings: the same scenes, on any machine)."""
    rng = np.random.default_rng(seed)
    if n < 1:
        raise ValueError(f"ask for at least one scene, got {n}")
    scenes = [make_scene(rng, canvas, n_digits, sizes, split, max_overlap) for _ in range(n)]
    return SceneSet(np.stack([s.image for s in scenes])[..., None],
                    [s.boxes for s in scenes], [s.labels for s in scenes],
                    np.stack([s.mask for s in scenes]), np.stack([s.instances for s in scenes]))
