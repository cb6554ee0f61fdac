"""MNIST digits turned into pen strokes, to redraw them with the drawing pad's own pen.

A digit's ink is thinned to a one-pixel skeleton (Zhang & Suen's thinning, 1984) on a 2x
finer grid; every pair of neighbouring skeleton pixels becomes a two-point stroke and a
lone pixel a dot. Drawn with a pen of the pad's width, the strokes give back the digit's
shape with the stroke a learner's pen leaves, at any size: what the pad's recognition
canvas holds when a learner draws that digit small or large.
"""
from __future__ import annotations

import numpy as np

UPSAMPLE = 2  # the skeleton's grid is this much finer than MNIST's 28 x 28


def _neighbours(b: np.ndarray):
    """P2..P9 of every pixel (clockwise from north), for a batch (N, H, W) of bool."""
    p = np.pad(b, ((0, 0), (1, 1), (1, 1)))
    h, w = b.shape[1:]
    at = lambda dr, dc: p[:, 1 + dr:1 + dr + h, 1 + dc:1 + dc + w]  # noqa: E731
    return [at(-1, 0), at(-1, 1), at(0, 1), at(1, 1), at(1, 0), at(1, -1), at(0, -1),
            at(-1, -1)]


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of a batch of binary images (N, H, W) -> skeletons (same shape)."""
    b = mask.astype(bool).copy()
    while True:
        changed = False
        for step in (0, 1):
            n = _neighbours(b)
            count = sum(x.astype(np.int8) for x in n)
            ring = n + n[:1]
            transitions = sum((~a & c).astype(np.int8) for a, c in zip(ring, ring[1:]))
            p2, p4, p6, p8 = n[0], n[2], n[4], n[6]
            if step == 0:
                gone = ~(p2 & p4 & p6) & ~(p4 & p6 & p8)
            else:
                gone = ~(p2 & p4 & p8) & ~(p2 & p6 & p8)
            remove = b & (count >= 2) & (count <= 6) & (transitions == 1) & gone
            if remove.any():
                b &= ~remove
                changed = True
        if not changed:
            return b


def skeletons(x28: np.ndarray) -> np.ndarray:
    """(N, 56, 56) bool skeletons of digits (N, 28, 28) in [0, 1]."""
    fine = np.kron(x28, np.ones((UPSAMPLE, UPSAMPLE), np.float32))  # (N, 56, 56)
    return thin(fine > 0.45)


def strokes(skeleton: np.ndarray, size: float, centre=(0.5, 0.5)) -> list:
    """Two-point strokes (pad coordinates 0..1) of one skeleton (H, W), its longer side
    `size` of the pad, its bounding box centred on `centre` (x, y)."""
    rows, cols = np.nonzero(skeleton)
    if rows.size == 0:
        return []
    r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    scale = size / max(r1 - r0, c1 - c0)
    cy, cx = (r0 + r1) / 2, (c0 + c1) / 2

    def pad_xy(r, c):
        return (centre[0] + (c + 0.5 - cx) * scale, centre[1] + (r + 0.5 - cy) * scale)

    on = set(zip(rows.tolist(), cols.tolist()))
    out = []
    for r, c in on:
        linked = False
        for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1), (0, -1), (-1, 0), (-1, -1), (-1, 1)):
            if (r + dr, c + dc) in on:
                linked = True
                if (dr, dc) in ((0, 1), (1, 0), (1, 1), (1, -1)):  # each pair once
                    out.append([pad_xy(r, c), pad_xy(r + dr, c + dc)])
        if not linked:
            out.append([pad_xy(r, c)])
    return out
