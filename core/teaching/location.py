"""Where the notes' CNN tutorial starts (T23): a dense network is sensitive to location.

A dense network gives every one of the 784 pixels its own weights, so the same digit moved a
few pixels lands on other weights and its answer can change; a CNN's filters slide, so a
moved digit gives moved feature maps and (after pooling) mostly the same answer. This
module shifts a digit and asks both models, so the lesson can show it happen.

Qt-free; the models are any engine models taking (N, 28, 28, 1) and returning class
probabilities (the lesson passes the shipped digits_mlp and digits_cnn).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ShiftAnswer", "accuracy_under_shift", "answers_over_shifts", "pick_telling_digit",
           "shift_digit"]


def shift_digit(image, dx: int, dy: int = 0) -> np.ndarray:
    """`image` (28, 28) or (28, 28, 1) moved dx pixels right and dy down; what moves out is
    lost and the empty side is background (0), as if the digit were written elsewhere."""
    img = np.asarray(image, np.float32)
    out = np.zeros_like(img)
    h, w = img.shape[:2]
    dx, dy = int(dx), int(dy)
    if abs(dx) >= w or abs(dy) >= h:
        return out
    src_r = slice(max(0, -dy), h - max(0, dy))
    dst_r = slice(max(0, dy), h - max(0, -dy))
    src_c = slice(max(0, -dx), w - max(0, dx))
    dst_c = slice(max(0, dx), w - max(0, -dx))
    out[dst_r, dst_c] = img[src_r, src_c]
    return out


@dataclass(frozen=True)
class ShiftAnswer:
    """Both models' answers for the digit moved by `shift` pixels to the right."""

    shift: int
    dense_class: int
    dense_prob: float
    cnn_class: int
    cnn_prob: float


def _batch(image, shifts) -> np.ndarray:
    img = np.asarray(image, np.float32).reshape(28, 28)
    return np.stack([shift_digit(img, s) for s in shifts])[..., None]    # (S, 28, 28, 1)


def answers_over_shifts(dense, cnn, image, shifts) -> list[ShiftAnswer]:
    """What each model answers, and how sure it is, for every horizontal shift."""
    shifts = [int(s) for s in shifts]
    batch = _batch(image, shifts)
    pd = np.asarray(dense.predict(batch), np.float64)                    # (S, 10)
    pc = np.asarray(cnn.predict(batch), np.float64)                      # (S, 10)
    return [ShiftAnswer(s, int(pd[i].argmax()), float(pd[i].max()),
                        int(pc[i].argmax()), float(pc[i].max()))
            for i, s in enumerate(shifts)]


def pick_telling_digit(dense, cnn, x, y, shifts, start: int = 0, limit: int = 300) -> int | None:
    """The first digit from `start` (within `limit`) that both models read right unmoved,
    whose dense answer changes under some shift while the CNN stays right at every shift:
    the notes' point, on a real digit. None if no such digit is found."""
    n = len(x)
    for k in range(min(limit, n)):
        i = (start + k) % n
        answers = answers_over_shifts(dense, cnn, x[i], shifts)
        label = int(y[i])
        if (all(a.cnn_class == label for a in answers)
                and any(a.dense_class != label for a in answers)
                and any(a.shift == 0 and a.dense_class == label for a in answers)):
            return i
    return None


def accuracy_under_shift(dense, cnn, x, y, shift: int) -> tuple[float, float]:
    """(dense accuracy, CNN accuracy) on digits x (N, 28, 28[, 1]) all moved `shift` px."""
    batch = np.stack([shift_digit(np.asarray(img).reshape(28, 28), shift) for img in x])[..., None]
    labels = np.asarray(y).astype(np.int64)
    dense_acc = float(np.mean(np.asarray(dense.predict(batch)).argmax(1) == labels))
    cnn_acc = float(np.mean(np.asarray(cnn.predict(batch)).argmax(1) == labels))
    return dense_acc, cnn_acc
