"""Data augmentation for digit images: new, plausible handwriting from the digits we have.

With only 5,000 real digits a network memorises them; showing it a freshly distorted copy
of every digit in every epoch teaches it what does *not* change a digit's identity. Each
sample gets its own random

* affine warp: shift, rotation, scaling (x and y separately, so aspect ratios vary) and a
  little shear, all about the image centre;
* elastic distortion (Simard, Steinkraus & Platt 2003): a random displacement field
  smoothed by a Gaussian of width ``sigma`` and scaled by ``alpha``, which wobbles strokes
  the way a hand does;
* stroke-width change: on a twice-upsampled copy, grey dilation (thicker) or erosion
  (thinner) by whole half-pixels, blended between neighbouring steps for any fraction,
  then averaged back down. Working at double resolution keeps the stroke's bright core
  and soft edge, as a thinner or thicker pen would leave them; at 28x28 a one-pixel
  erosion would wipe out most of a 2-pixel stroke.

Everything works on whole batches with NumPy array operations (no loop over samples or
pixels). Images are float32 NHWC ``(N, H, W, 1)`` or ``(N, H, W)`` with values in [0, 1];
the output has the input's shape. All randomness comes from the ``rng`` passed in, so a
seeded generator gives the same batch every time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "AugmentConfig",
    "augment",
    "affine_coordinates",
    "elastic_displacement",
    "gaussian_smoothing_matrix",
    "sample_bilinear",
    "grey_dilate",
    "grey_erode",
    "change_stroke_width",
    "affine_grid",
    "warp_images",
    "zoom_images",
    "flip_images",
]


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges of the random distortions (each sample draws uniformly inside them)."""

    shift: float = 2.0  # pixels, each axis
    rotation: float = 12.0  # degrees, either way
    scale: tuple[float, float] = (0.9, 1.1)  # per axis
    shear: float = 0.15  # shear factor, either way
    elastic_alpha: float = 34.0  # displacement scale, pixels (Simard et al. use 34 at 28x28)
    elastic_sigma: float = 4.0  # smoothing of the displacement field, pixels
    elastic_prob: float = 0.8  # share of samples that get an elastic distortion
    thicken: float = 2.5  # widest stroke growth, half-pixels on each side
    thin: float = 1.5  # strongest stroke thinning, half-pixels on each side
    stroke_prob: float = 0.6  # share of samples whose stroke width changes


def _as_batch(images) -> tuple[np.ndarray, tuple]:
    x = np.asarray(images)
    if x.ndim == 4:
        if x.shape[3] != 1:
            raise ValueError(f"augmentation takes single-channel images, got shape {x.shape}")
        flat = x[..., 0]
    elif x.ndim == 3:
        flat = x
    else:
        raise ValueError(f"images must be (N, H, W) or (N, H, W, 1), got shape {x.shape}")
    if flat.shape[1] < 2 or flat.shape[2] < 2:
        raise ValueError(f"images must be at least 2x2, got shape {x.shape}")
    if not np.issubdtype(flat.dtype, np.number):
        raise ValueError(f"images must be numbers, got dtype {flat.dtype}")
    return np.ascontiguousarray(flat, dtype=np.float32), x.shape


def sample_bilinear(images: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """out[n, i, j] = images[n] read at (rows[n, i, j], cols[n, i, j]) with bilinear
    interpolation; points outside the image read as 0 (background).

    images (N, H, W) float32; rows, cols (N, H', W') in pixel-index coordinates.
    """
    images = np.ascontiguousarray(images, dtype=np.float32)
    n, h, w = images.shape
    rows = np.asarray(rows, dtype=np.float32)
    cols = np.asarray(cols, dtype=np.float32)
    if rows.shape != cols.shape or rows.ndim != 3 or rows.shape[0] != n:
        raise ValueError(f"rows and cols must both be (N, H', W') with N={n}; "
                         f"got {rows.shape} and {cols.shape}")
    # Pad one pixel of background all round so every neighbour index is valid.
    padded = np.zeros((n, h + 2, w + 2), np.float32)  # (N, H+2, W+2)
    padded[:, 1:-1, 1:-1] = images
    r = np.clip(rows + np.float32(1), np.float32(0), np.float32(h + 1))
    c = np.clip(cols + np.float32(1), np.float32(0), np.float32(w + 1))
    r0f = np.minimum(np.floor(r), np.float32(h))  # (N, H', W')
    c0f = np.minimum(np.floor(c), np.float32(w))
    fr = r - r0f
    fc = c - c0f
    r0 = r0f.astype(np.int32)
    c0 = c0f.astype(np.int32)
    flat = padded.ravel()  # (N·(H+2)·(W+2),)
    stride = w + 2
    # One flat index per point into the whole batch: np.take on 1-D is the fastest gather.
    base = (np.arange(n, dtype=np.intp) * ((h + 2) * stride))[:, None, None] \
        + (r0 * stride + c0)  # (N, H', W')
    v00 = np.take(flat, base)
    v01 = np.take(flat, base + 1)
    v10 = np.take(flat, base + stride)
    v11 = np.take(flat, base + (stride + 1))
    top = v00 + fc * (v01 - v00)
    bottom = v10 + fc * (v11 - v10)
    return top + fr * (bottom - top)


def affine_coordinates(n: int, h: int, w: int, rng: np.random.Generator,
                       config: AugmentConfig = AugmentConfig()) -> tuple[np.ndarray, np.ndarray]:
    """Source coordinates (rows, cols), each (N, H, W), of a random affine warp per sample.

    The output pixel p reads the input at A⁻¹(p − c − t) + c, c the image centre: the digit
    is rotated by θ, scaled by (sy, sx), sheared and shifted by t in the output.
    """
    angle = rng.uniform(-config.rotation, config.rotation, n)
    lo, hi = config.scale
    sy = rng.uniform(lo, hi, n)
    sx = rng.uniform(lo, hi, n)
    shear = rng.uniform(-config.shear, config.shear, n)
    ty = rng.uniform(-config.shift, config.shift, n)
    tx = rng.uniform(-config.shift, config.shift, n)
    return affine_grid(h, w, angle, sy, sx, shear, ty, tx)


def affine_grid(h: int, w: int, rotation, scale_y, scale_x, shear, shift_y,
                shift_x) -> tuple[np.ndarray, np.ndarray]:
    """Source coordinates (rows, cols), each (N, H, W), of one given affine warp per sample.

    rotation in degrees (anticlockwise on screen), scale_y / scale_x > 1 enlarge (a zoom is
    scale_y = scale_x), shear factor, shift in pixels (down, right); each is a scalar or
    (N,). The same warp `affine_coordinates` draws at random: the output pixel p reads the
    input at A⁻¹(p − c − t) + c, c the image centre, A = R(θ) · Shear · diag(sy, sx).
    """
    params = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, np.float64)) for v in
                                   (rotation, scale_y, scale_x, shear, shift_y, shift_x)))
    if params[0].ndim != 1:
        raise ValueError("warp parameters must be scalars or (N,) arrays")
    if not all(np.all(np.isfinite(p)) for p in params):
        raise ValueError("warp parameters must be finite numbers")
    angle, sy, sx, shear, ty, tx = params
    if np.any(sy <= 0) or np.any(sx <= 0):
        raise ValueError("scale factors must be positive")
    n = len(angle)
    theta = np.deg2rad(angle)
    cos, sin = np.cos(theta), np.sin(theta)
    # Forward map A = R(θ) · Shear · diag(sy, sx) in (row, col) coordinates.
    a = np.empty((n, 2, 2))
    a[:, 0, 0] = cos * sy
    a[:, 0, 1] = (-sin + cos * shear) * sx
    a[:, 1, 0] = sin * sy
    a[:, 1, 1] = (cos + sin * shear) * sx
    inv = np.linalg.inv(a)  # (N, 2, 2)
    inv = inv.astype(np.float32)
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    gy = (np.arange(h, dtype=np.float32) - np.float32(cy))[None, :, None]  # (1, H, 1)
    gx = (np.arange(w, dtype=np.float32) - np.float32(cx))[None, None, :]  # (1, 1, W)
    dy = gy - ty.astype(np.float32)[:, None, None]  # (N, H, 1)
    dx = gx - tx.astype(np.float32)[:, None, None]  # (N, 1, W)
    rows = inv[:, 0, 0, None, None] * dy + inv[:, 0, 1, None, None] * dx + np.float32(cy)
    cols = inv[:, 1, 0, None, None] * dy + inv[:, 1, 1, None, None] * dx + np.float32(cx)
    return rows, cols  # (N, H, W) each


def gaussian_smoothing_matrix(size: int, sigma: float) -> np.ndarray:
    """(size, size) matrix G with G @ v = v convolved with a Gaussian of width sigma, the
    kernel renormalised at the edges (so a constant field stays constant)."""
    if sigma <= 0:
        return np.eye(size, dtype=np.float32)
    i = np.arange(size, dtype=np.float64)
    g = np.exp(-0.5 * ((i[:, None] - i[None, :]) / sigma) ** 2)
    g /= g.sum(axis=1, keepdims=True)
    return g.astype(np.float32)


def elastic_displacement(n: int, h: int, w: int, rng: np.random.Generator, alpha: float,
                         sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Random smooth displacement fields (dy, dx), each (N, H, W), in pixels.

    Simard et al.'s recipe: uniform noise in [-1, 1] per pixel, smoothed by a normalised
    Gaussian of width sigma (separable: G_h · F · G_wᵀ), times alpha. At sigma 4 the
    smoothing leaves about 4% of the noise, so alpha 34 moves pixels by ~1.4 px RMS.
    """
    gh = gaussian_smoothing_matrix(h, sigma)
    gw = gaussian_smoothing_matrix(w, sigma)
    noise = rng.uniform(-1.0, 1.0, (2, n, h, w)).astype(np.float32)  # (2, N, H, W)
    smooth = gh @ noise @ gw.T  # (2, N, H, W)
    smooth *= np.float32(alpha)
    return smooth[0], smooth[1]


def _neighbourhood(x: np.ndarray, reduce) -> np.ndarray:
    """Reduce (max or min) over each pixel's 3x3 cross (itself and its 4 neighbours)."""
    out = x.copy()
    reduce(out[:, 1:, :], x[:, :-1, :], out=out[:, 1:, :])
    reduce(out[:, :-1, :], x[:, 1:, :], out=out[:, :-1, :])
    reduce(out[:, :, 1:], x[:, :, :-1], out=out[:, :, 1:])
    reduce(out[:, :, :-1], x[:, :, 1:], out=out[:, :, :-1])
    return out


def grey_dilate(images: np.ndarray) -> np.ndarray:
    """Grey dilation with a 3x3 cross: every pixel takes the brightest of its cross.
    Outside the image counts as background (0), as for scipy.ndimage.grey_dilation with
    mode='constant', cval=0."""
    x, shape = _as_batch(images)
    return _neighbourhood(x, np.maximum).reshape(shape)


def grey_erode(images: np.ndarray) -> np.ndarray:
    """Grey erosion with a 3x3 cross; outside the image counts as background (0)."""
    x, shape = _as_batch(images)
    padded = np.zeros((x.shape[0], x.shape[1] + 2, x.shape[2] + 2), np.float32)
    padded[:, 1:-1, 1:-1] = x
    return _neighbourhood(padded, np.minimum)[:, 1:-1, 1:-1].reshape(shape)


def change_stroke_width(images: np.ndarray, amount) -> np.ndarray:
    """Thicken (amount > 0) or thin (amount < 0) strokes: a blend of each image with its
    grey dilation or erosion, weight |amount| in [0, 1]. amount is a scalar or (N,)."""
    x, shape = _as_batch(images)
    amount = np.broadcast_to(np.asarray(amount, np.float32), (x.shape[0],))
    if np.any(np.abs(amount) > 1) or not np.all(np.isfinite(amount)):
        raise ValueError("stroke-width amounts must lie in [-1, 1]")
    t = amount[:, None, None]  # (N, 1, 1)
    thick = _neighbourhood(x, np.maximum)
    padded = np.zeros((x.shape[0], x.shape[1] + 2, x.shape[2] + 2), np.float32)
    padded[:, 1:-1, 1:-1] = x
    thin = _neighbourhood(padded, np.minimum)[:, 1:-1, 1:-1]
    target = np.where(t > 0, thick, thin)  # (N, H, W)
    out = x + np.abs(t) * (target - x)
    return out.reshape(shape)


def _erode_zero_border(x: np.ndarray) -> np.ndarray:
    padded = np.zeros((x.shape[0], x.shape[1] + 2, x.shape[2] + 2), np.float32)
    padded[:, 1:-1, 1:-1] = x
    return _neighbourhood(padded, np.minimum)[:, 1:-1, 1:-1]


def restroke(images, amount) -> np.ndarray:
    """Change stroke width by `amount` half-pixels on each side (scalar or (N,); > 0
    thicker, < 0 thinner, fractions blend the two nearest whole steps).

    Each image is upsampled 2x by pixel repetition, dilated or eroded (3x3 cross, outside
    = background) once per half-pixel step, and averaged back down by 2x2 blocks, so
    amount 0 returns the image unchanged.
    """
    x, shape = _as_batch(images)
    n, h, w = x.shape
    a = np.broadcast_to(np.asarray(amount, np.float64), (n,))
    if not np.all(np.isfinite(a)):
        raise ValueError("stroke amounts must be finite")
    lo = np.floor(a).astype(np.intp)  # (N,)
    frac = (a - lo).astype(np.float32)[:, None, None]  # (N, 1, 1)
    top, bottom = int(max(lo.max() + 1, 0)), int(min(lo.min(), 0))
    up = x.repeat(2, axis=1).repeat(2, axis=2)  # (N, 2H, 2W)
    levels = np.empty((top - bottom + 1, n, h, w), np.float32)  # (L, N, H, W)
    levels[-bottom] = x
    cur = up
    for step in range(1, top + 1):
        cur = _neighbourhood(cur, np.maximum)
        levels[step - bottom] = cur.reshape(n, h, 2, w, 2).mean(axis=(2, 4))
    cur = up
    for step in range(-1, bottom - 1, -1):
        cur = _erode_zero_border(cur)
        levels[step - bottom] = cur.reshape(n, h, 2, w, 2).mean(axis=(2, 4))
    idx = np.arange(n)
    lower = levels[lo - bottom, idx]  # (N, H, W)
    upper = levels[np.minimum(lo + 1 - bottom, top - bottom), idx]
    out = lower + frac * (upper - lower)
    return out.reshape(shape)


def augment(images, rng: np.random.Generator,
            config: AugmentConfig = AugmentConfig()) -> np.ndarray:
    """A freshly distorted float32 copy of every image (same shape), values in [0, 1].

    One sampling pass applies the affine warp and the elastic field together (so the
    digit is interpolated once), then the stroke width changes.
    """
    x, shape = _as_batch(images)
    n, h, w = x.shape
    if n == 0:
        return x.reshape(shape).copy()
    rows, cols = affine_coordinates(n, h, w, rng, config)
    if config.elastic_alpha > 0 and config.elastic_prob > 0:
        dy, dx = elastic_displacement(n, h, w, rng, config.elastic_alpha, config.elastic_sigma)
        on = (rng.random(n) < config.elastic_prob).astype(np.float32)[:, None, None]
        rows += dy * on
        cols += dx * on
    out = sample_bilinear(x, rows, cols)  # (N, H, W)
    if (config.thicken > 0 or config.thin > 0) and config.stroke_prob > 0:
        amount = rng.uniform(-config.thin, config.thicken, n)
        chosen = np.flatnonzero(rng.random(n) < config.stroke_prob)
        if chosen.size:  # only the chosen samples pay for the double-resolution work
            out[chosen] = restroke(out[chosen], amount[chosen])
    np.clip(out, 0.0, 1.0, out=out)
    return out.reshape(shape)


# --- any number of channels (RGB photos as well as digits) ------------------------------------
_FILLS = ("constant", "nearest")


def _as_channel_batch(images) -> np.ndarray:
    """images (N, H, W) or (N, H, W, C) of numbers → float32 (N, H, W, C), C ≥ 1."""
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[3] < 1:
        raise ValueError(f"images must be (N, H, W) or (N, H, W, C), got shape {x.shape}")
    if x.shape[1] < 2 or x.shape[2] < 2:
        raise ValueError(f"images must be at least 2x2, got shape {x.shape}")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise ValueError(f"images must be numbers, got dtype {x.dtype}")
    return np.asarray(x, dtype=np.float32)


def warp_images(images, rows: np.ndarray, cols: np.ndarray, fill: str = "constant") -> np.ndarray:
    """Every channel of image n read at (rows[n], cols[n]) with bilinear interpolation.

    images (N, H, W) or (N, H, W, C); rows, cols (N, H, W) source coordinates (from
    `affine_grid`, plus an elastic field if wanted). fill says what lies outside the image:
    "constant" reads 0 (a digit's black background), "nearest" repeats the edge pixel
    (Keras's default fill_mode, which hides the black corners a rotated photo would get).
    The output has the input's shape, float32.
    """
    if fill not in _FILLS:
        raise ValueError(f"fill must be one of {_FILLS}, got {fill!r}")
    shape = np.shape(images)
    x = _as_channel_batch(images)
    n, h, w, c = x.shape
    rows = np.asarray(rows, dtype=np.float32)
    cols = np.asarray(cols, dtype=np.float32)
    if rows.shape != (n, h, w) or cols.shape != (n, h, w):
        raise ValueError(f"rows and cols must both be {(n, h, w)}, got {rows.shape} and "
                         f"{cols.shape}")
    if fill == "nearest":
        # clamped coordinates read the edge pixel, and bilinear weights between two copies
        # of it give it back: the same as extending the image by its edge
        rows = np.clip(rows, np.float32(0), np.float32(h - 1))
        cols = np.clip(cols, np.float32(0), np.float32(w - 1))
    planes = np.ascontiguousarray(x.transpose(0, 3, 1, 2)).reshape(n * c, h, w)  # (N·C, H, W)
    out = sample_bilinear(planes, np.repeat(rows, c, axis=0), np.repeat(cols, c, axis=0))
    out = out.reshape(n, c, h, w).transpose(0, 2, 3, 1)  # (N, H, W, C)
    return np.ascontiguousarray(out).reshape(shape)


def zoom_images(images, factor, fill: str = "constant") -> np.ndarray:
    """Enlarge (factor > 1) or shrink (factor < 1) each image about its centre, keeping its
    size; factor is a scalar or (N,). Any number of channels; fill as in `warp_images`."""
    x = _as_channel_batch(images)
    n, h, w, _ = x.shape
    f = np.broadcast_to(np.asarray(factor, np.float64), (n,))
    rows, cols = affine_grid(h, w, 0.0, f, f, 0.0, 0.0, 0.0)
    return warp_images(images, np.broadcast_to(rows, (n, h, w)),
                       np.broadcast_to(cols, (n, h, w)), fill)


def flip_images(images, horizontal=False, vertical=False) -> np.ndarray:
    """Mirror images left-right (horizontal) and/or upside down (vertical), exactly.

    images (N, H, W) or (N, H, W, C); horizontal and vertical are one bool for every image
    or (N,) bools, one per image. Returns a float32 copy with the input's shape.
    """
    shape = np.shape(images)
    x = _as_channel_batch(images)
    n = x.shape[0]
    masks = []
    for name, flag in (("horizontal", horizontal), ("vertical", vertical)):
        m = np.asarray(flag)
        if m.dtype != bool:
            raise ValueError(f"{name} must be a bool or (N,) bools, got dtype {m.dtype}")
        masks.append(np.broadcast_to(m, (n,))[:, None, None, None])  # (N, 1, 1, 1)
    out = np.where(masks[0], x[:, :, ::-1], x)  # (N, H, W, C)
    out = np.where(masks[1], out[:, ::-1], out)
    return np.ascontiguousarray(out, dtype=np.float32).reshape(shape)
