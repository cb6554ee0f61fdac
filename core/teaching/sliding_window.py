"""Sliding-window detection (tutorial 30): a digit classifier looks at every window of
several sizes, one network evaluation per window, and says which digit it sees or "no
digit"; windows that say a digit with a high score become boxes, and non-maximum
suppression keeps one box per digit. Qt-free.

The classifier is the shipped digit CNN with an 11th class: its feature layers (frozen, as
transfer learning uses them) and a new head whose first ten columns start as the CNN's own
classifier and whose 11th, "no digit", is learnt from background windows and windows that
cut a digit (partial windows). Only the head trains, on features computed once.

Windows: for each side `s` in `sizes` the window moves by `stride = max(1, round(s *
stride_fraction))` pixels, so along one axis it stands at (canvas − s) // stride + 1 places
and there are that number squared windows of side s. Each window is resampled to 28 x 28
by area averaging (the pad's own resampling) before the classifier sees it.

A window *holds* a digit when it covers at least 85% of the digit's ink box and the digit's
longer side is at least 55% of the window's side (a digit that fills the window, as MNIST's
digits fill theirs). A training window is "no digit" when no digit comes near that: every
digit is less than 40% inside it or smaller than a quarter of its side. Windows in between
are left out of training (neither answer would be fair).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from core.digits import _area_weights
from core.layers import Dense
from core.model import Sequential
from core.optimizers import Adam
from core.teaching.boxes import NmsResult, as_boxes, nms
from core.teaching.scenes import SceneSet
from core.teaching.transfer import _copy_layers, feature_layers
from core.teaching.transfer import base_problem as _transfer_base_problem

__all__ = ["base_problem", "NO_DIGIT", "CLASS_NAMES", "WINDOW_SIZES", "STRIDE_FRACTION", "stride_for",
           "windows_per_size", "window_count", "enumerate_windows", "crop_windows",
           "holds_digit", "correct_boxes", "training_windows", "WindowClassifier", "Scan", "scan_scene",
           "detect"]

NO_DIGIT = 10
CLASS_NAMES = tuple(str(d) for d in range(10)) + ("no digit",)
WINDOW_SIZES = (16, 24, 32, 40)
STRIDE_FRACTION = 0.25
HOLD_COVER, HOLD_FILL = 0.85, 0.55        # a window holds a digit
NEAR_COVER, NEAR_FILL = 0.40, 0.25        # below these for every digit: "no digit"
#: a found box is right when it says the digit, covers 70% of its ink box and the digit
#: fills 40% of it: looser than the training rule, as a scan's windows stand on a lattice
FOUND_COVER, FOUND_FILL = 0.70, 0.40


def stride_for(size: int, stride_fraction: float = STRIDE_FRACTION) -> int:
    return max(1, int(round(size * stride_fraction)))


def windows_per_size(canvas: int, size: int, stride: int) -> int:
    """(canvas − size) // stride + 1 places per axis, squared; 0 if the window is too big."""
    if size > canvas:
        return 0
    per_axis = (canvas - size) // stride + 1
    return per_axis * per_axis


def window_count(canvas: int, sizes=WINDOW_SIZES, stride_fraction: float = STRIDE_FRACTION
                 ) -> int:
    """How many windows (= network evaluations) one scan of a canvas costs."""
    return sum(windows_per_size(canvas, s, stride_for(s, stride_fraction)) for s in sizes)


def enumerate_windows(canvas: int, sizes=WINDOW_SIZES, stride_fraction: float = STRIDE_FRACTION
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(boxes float64 (K, 4), side of each window (K,)): size by size, row by row, left to
    right: the order the lesson animates."""
    if canvas < 1 or not len(sizes):
        raise ValueError("a scan needs a canvas and at least one window size")
    boxes, sides = [], []
    for s in sizes:
        s = int(s)
        if s < 4:
            raise ValueError(f"a window is at least 4 pixels on a side, got {s}")
        st = stride_for(s, stride_fraction)
        starts = range(0, canvas - s + 1, st)
        for y in starts:
            for x in starts:
                boxes.append((x, y, x + s, y + s))
                sides.append(s)
    return np.asarray(boxes, np.float64).reshape(-1, 4), np.asarray(sides, np.int64)


def crop_windows(image: np.ndarray, boxes) -> np.ndarray:
    """float32 (K, 28, 28, 1): each square window of the (H, W) image resampled to 28 x 28
    by area averaging."""
    image = np.asarray(image, np.float32)
    b = as_boxes(boxes).astype(np.int64)
    out = np.empty((len(b), 28, 28, 1), np.float32)
    weights: dict[int, np.ndarray] = {}
    for k, (x0, y0, x1, y1) in enumerate(b):
        s = int(x1 - x0)
        if s != int(y1 - y0):
            raise ValueError("sliding windows are square")
        w = weights.get(s)
        if w is None:
            w = weights[s] = _area_weights(s, 28)             # (28, s)
        out[k, :, :, 0] = w @ image[y0:y1, x0:x1] @ w.T
    return out


def _cover_and_fill(windows: np.ndarray, digit_boxes: np.ndarray):
    """(coverage, fill), each (K windows, D digits): the share of each digit's ink box
    inside each window, and the digit's longer side over the window's side."""
    w, d = windows[:, None, :], digit_boxes[None, :, :]
    iw = np.clip(np.minimum(w[..., 2], d[..., 2]) - np.maximum(w[..., 0], d[..., 0]), 0, None)
    ih = np.clip(np.minimum(w[..., 3], d[..., 3]) - np.maximum(w[..., 1], d[..., 1]), 0, None)
    area = (d[..., 2] - d[..., 0]) * (d[..., 3] - d[..., 1])
    cover = iw * ih / np.maximum(area, 1e-9)
    longer = np.maximum(d[..., 2] - d[..., 0], d[..., 3] - d[..., 1])
    fill = longer / (w[..., 2] - w[..., 0])
    return cover, fill


def holds_digit(windows, digit_boxes) -> np.ndarray:
    """(K, D) bool: which windows hold which digit (the rule in the module's text)."""
    cover, fill = _cover_and_fill(as_boxes(windows), as_boxes(digit_boxes))
    return (cover >= HOLD_COVER) & (fill >= HOLD_FILL)


def correct_boxes(windows, window_labels, digit_boxes, digit_labels) -> np.ndarray:
    """(K, D) bool: which window found which digit (FOUND_COVER, FOUND_FILL, same label)."""
    w, d = as_boxes(windows), as_boxes(digit_boxes)
    if len(w) == 0 or len(d) == 0:
        return np.zeros((len(w), len(d)), bool)
    cover, fill = _cover_and_fill(w, d)
    same = np.asarray(window_labels)[:, None] == np.asarray(digit_labels)[None, :]
    return (cover >= FOUND_COVER) & (fill >= FOUND_FILL) & same


def _window_labels(windows, digit_boxes, digit_labels) -> np.ndarray:
    """Per window: its digit, NO_DIGIT, or -1 (left out of training)."""
    out = np.full(len(windows), -1, np.int64)
    if len(digit_boxes) == 0:
        out[:] = NO_DIGIT
        return out
    cover, fill = _cover_and_fill(windows, digit_boxes)
    holds = (cover >= HOLD_COVER) & (fill >= HOLD_FILL)
    near = (cover >= NEAR_COVER) & (fill >= NEAR_FILL)
    out[~near.any(axis=1)] = NO_DIGIT
    one = holds.sum(axis=1) == 1
    out[one] = np.asarray(digit_labels)[holds[one].argmax(axis=1)]
    return out


def training_windows(scenes: SceneSet, seed: int = 0, per_digit: int = 4,
                     no_digit_per_scene: int = 6, sizes=WINDOW_SIZES,
                     stride_fraction: float = STRIDE_FRACTION
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Windows cut from training scenes: (x float32 (M, 28, 28, 1), y (M,) in 0..10).

    Digit windows: `per_digit` squares around each digit, their side 1.0-1.6 times the
    digit's longer side, shifted a little (the way a scan's windows meet a digit).
    "No digit" windows: `no_digit_per_scene` of the scan's own windows that qualify, drawn
    at random, half of them partial windows (touching a digit's ink box) when there are any.
    """
    rng = np.random.default_rng(seed)
    canvas = scenes.images.shape[1]
    grid, _ = enumerate_windows(canvas, sizes, stride_fraction)
    xs, ys = [], []
    for i in range(len(scenes)):
        image, boxes, labels = scenes.images[i, ..., 0], scenes.boxes[i], scenes.labels[i]
        chosen = []
        for (x0, y0, x1, y1), lab in zip(boxes, labels):
            longer = max(x1 - x0, y1 - y0)
            for _ in range(per_digit):
                s = int(np.clip(round(longer * rng.uniform(1.0, 1.6)), 8, canvas))
                cx = (x0 + x1) / 2 + rng.uniform(-0.12, 0.12) * s
                cy = (y0 + y1) / 2 + rng.uniform(-0.12, 0.12) * s
                wx = int(np.clip(round(cx - s / 2), 0, canvas - s))
                wy = int(np.clip(round(cy - s / 2), 0, canvas - s))
                chosen.append((wx, wy, wx + s, wy + s))
        digit_windows = np.asarray(chosen, np.float64).reshape(-1, 4)
        lab = _window_labels(digit_windows, boxes, labels)
        keep = (lab >= 0) & (lab != NO_DIGIT)
        xs.append(crop_windows(image, digit_windows[keep]))
        ys.append(lab[keep])
        grid_lab = _window_labels(grid, boxes, labels)
        empty = np.nonzero(grid_lab == NO_DIGIT)[0]
        if len(empty):
            touching = empty[_touches(grid[empty], boxes)] if len(boxes) else empty[:0]
            half = min(len(touching), no_digit_per_scene // 2)
            pick = list(rng.choice(touching, half, replace=False)) if half else []
            rest = np.setdiff1d(empty, pick)
            pick += list(rng.choice(rest, min(len(rest), no_digit_per_scene - half),
                                    replace=False))
            xs.append(crop_windows(image, grid[np.asarray(pick, np.int64)]))
            ys.append(np.full(len(pick), NO_DIGIT, np.int64))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int64)


def _touches(windows, digit_boxes) -> np.ndarray:
    cover, _ = _cover_and_fill(windows, as_boxes(digit_boxes))
    return (cover > 0).any(axis=1)


def base_problem(base) -> str | None:
    """Why `base` cannot read the windows (a sentence starting "it"), or None: it must be
    a frozen base for 28×28 drawings (core.teaching.transfer.base_problem) whose classifier
    answers the ten digits, since the head's digit columns start as that classifier."""
    problem = _transfer_base_problem(base)
    if problem is None and tuple(base.output_shape) != (10,):
        problem = (f"it gives {int(np.prod(base.output_shape))} outputs, and the window "
                   f"classifier starts from one per digit (10)")
    return problem


class WindowClassifier:
    """The shipped CNN's feature layers (frozen) and an 11-class head: `features` (a
    Sequential of the frozen layers, ending in the base's last hidden layer) and `head`
    (Sequential of one Dense(11, softmax)), the part that trains."""

    def __init__(self, base: Sequential, seed: int = 0, learning_rate: float = 1e-3):
        source = feature_layers(base)
        layers = _copy_layers(source)
        self.features = Sequential(layers, input_shape=base.input_shape,
                                   name="frozen_digit_cnn", seed=seed)
        for copy, original in zip(layers, source):
            copy.set_weights(original.get_weights())
            copy.trainable = False
        width = self.features.output_shape[-1]
        self.head = Sequential([Dense(len(CLASS_NAMES), activation="softmax",
                                      name="digit_or_not")], input_shape=(width,),
                               name="window_head", seed=seed)
        # the ten digit columns start as the shipped CNN's own classifier: before any
        # training the detector already reads digits; it only has to learn "no digit"
        kernel, bias = base.layers[-1].get_weights()
        new_kernel, new_bias = self.head.layers[0].get_weights()
        new_kernel[:, :10], new_bias[:10] = kernel, bias
        new_kernel[:, NO_DIGIT], new_bias[NO_DIGIT] = 0.0, 0.0
        self.head.layers[0].set_weights([new_kernel, new_bias])
        self.head.compile(Adam(learning_rate), "sparse_categorical_crossentropy", ["accuracy"])

    def feature_vectors(self, windows, batch_size: int = 256) -> np.ndarray:
        windows = np.asarray(windows, np.float32)     # (K, 28, 28, 1), in the base's shape
        windows = windows.reshape((len(windows),) + tuple(self.features.input_shape))
        return self.features.predict(windows, batch_size=batch_size)

    def predict(self, windows, batch_size: int = 256) -> np.ndarray:
        """(K, 11) probabilities: one evaluation of the whole network per window."""
        return self.head.predict(self.feature_vectors(windows, batch_size), batch_size=1024)


@dataclass(frozen=True)
class Scan:
    """Every window of one scene with its answer."""

    canvas: int
    boxes: np.ndarray           # (K, 4)
    sides: np.ndarray           # (K,)
    probs: np.ndarray           # (K, 11)
    seconds: float              # wall time of the K network evaluations (and resampling)
    stride_fraction: float

    @property
    def evaluations(self) -> int:
        return len(self.boxes)

    @property
    def labels(self) -> np.ndarray:
        """The digit each window would say (its most likely digit, "no digit" aside)."""
        return self.probs[:, :NO_DIGIT].argmax(axis=1)

    @property
    def scores(self) -> np.ndarray:
        """The window's top digit probability: how sure it is of that digit."""
        return self.probs[:, :NO_DIGIT].max(axis=1)

    def says_digit(self) -> np.ndarray:
        """Windows whose most likely class is a digit, not "no digit"."""
        return self.probs.argmax(axis=1) != NO_DIGIT

    def score_map(self, side: int) -> np.ndarray:
        """(rows, cols) of the windows of one side: each one's top digit probability."""
        pick = self.sides == side
        n = int(round(np.sqrt(pick.sum())))
        if n * n != pick.sum():
            raise ValueError(f"no square grid of windows of side {side}")
        return self.scores[pick].reshape(n, n)


def scan_scene(classifier: WindowClassifier, image, sizes=WINDOW_SIZES,
               stride_fraction: float = STRIDE_FRACTION) -> Scan:
    """Every window through the classifier, timed (resampling included: it is part of
    what each window costs)."""
    image = np.asarray(image, np.float32)
    if image.ndim == 3:
        image = image[..., 0]
    boxes, sides = enumerate_windows(image.shape[0], sizes, stride_fraction)
    t0 = time.perf_counter()
    probs = classifier.predict(crop_windows(image, boxes))
    seconds = time.perf_counter() - t0
    return Scan(image.shape[0], boxes, sides, probs.astype(np.float64), seconds,
                float(stride_fraction))


@dataclass(frozen=True)
class Detections:
    candidates: np.ndarray      # indices into the scan: windows above the score threshold
    nms: NmsResult              # its indices are positions in `candidates`

    @property
    def kept(self) -> np.ndarray:
        """Indices into the scan of the boxes NMS kept, best first."""
        return self.candidates[self.nms.keep]


def detect(scan: Scan, score_threshold: float = 0.9, iou_threshold: float = 0.3,
           per_class: bool = False) -> Detections:
    """Boxes above the threshold (windows that say a digit with at least that
    probability), then greedy NMS from core.teaching.boxes. Across classes by default: two
    windows on one digit often read it differently (a 7 seen whole, a 1 seen cut), and only
    one of them can be right."""
    if not 0.0 <= score_threshold <= 1.0:
        raise ValueError(f"the score threshold is a probability, got {score_threshold}")
    cand = np.nonzero(scan.says_digit() & (scan.scores >= score_threshold))[0]
    result = nms(scan.boxes[cand], scan.scores[cand],
                 scan.labels[cand] if per_class else None, iou_threshold)
    return Detections(cand, result)
