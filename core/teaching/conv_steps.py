"""Convolution, ReLU and pooling one window at a time, for the convolution explorer.

The explorer slides a small filter over one grey image and, at every position, shows the
element-wise products of the window and the filter and their sum. This module computes
those steps (Qt-free) and the sizes they produce:

* ``axis_size`` — the output length along one axis for a window, stride and padding, the
  padding Keras adds for ``"same"``, the pixels a stride leaves uncovered, and the formula
  ``out = ⌊(n + p − k)/s⌋ + 1`` with the numbers filled in; an impossible combination is
  reported as a sentence instead of raising.
* ``ConvSteps`` — one filter over one image: the padded image, each window's products and
  sum, the whole feature map (taken from ``core.kernels.conv2d_forward``, so what the
  explorer shows is exactly what a Conv2D layer computes) and its ReLU.
* ``PoolSteps`` — max or average pooling of a feature map, window by window (values from
  ``core.kernels`` pooling, Keras semantics: padding never counts).
* ``ExplorerTimeline`` — the explorer's animation as one sequence of steps: every
  convolution window, then ReLU, then every max-pooling window, then every average one.
* ``FILTER_PRESETS`` — hand-made 3×3 filters: edges, and the loop / line detectors of the
  course's "9" example.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.kernels import activations as _act
from core.kernels.conv import im2col as _conv
from core.kernels import pool as _pool

__all__ = [
    "AxisSize",
    "ConvSteps",
    "ConvWindow",
    "ExplorerTimeline",
    "FILTER_PRESETS",
    "PIXEL_SCALES",
    "PoolSteps",
    "PoolWindow",
    "axis_size",
    "scale_pixels",
]

_N9 = np.float32(1.0 / 9.0)
# name -> (3×3 filter, what it responds to). The course's detectors are ±1 patterns
# divided by 9 (an average), so a perfect match on a ±1 image scores exactly 1.
FILTER_PRESETS: dict[str, tuple[np.ndarray, str]] = {
    "Vertical edge": (
        np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], np.float32),
        "bright on the left, dark on the right: positive on a stroke's right edge, "
        "negative on its left edge, zero on flat areas"),
    "Horizontal edge": (
        np.array([[1, 1, 1], [0, 0, 0], [-1, -1, -1]], np.float32),
        "bright above, dark below: positive on a stroke's lower edge, negative on its "
        "upper edge"),
    "Loop (the 9's head)": (
        np.array([[1, 1, 1], [1, -1, 1], [1, 1, 1]], np.float32) * _N9,
        "the course's loopy-pattern detector: ink all around an empty centre (use pixels "
        "−1…1 as in the course; a perfect match scores 1)"),
    "Vertical line (the 9's stem)": (
        np.array([[-1, 1, -1], [-1, 1, -1], [-1, 1, -1]], np.float32) * _N9,
        "the course's vertical-line detector: a one-pixel stroke down the middle"),
    "Diagonal line (the 9's tail)": (
        np.array([[-1, -1, 1], [-1, 1, -1], [1, -1, -1]], np.float32) * _N9,
        "the course's diagonal-line detector: a stroke from lower left to upper right"),
    "Blur (average)": (
        np.full((3, 3), _N9, np.float32),
        "the mean of the 9 pixels: a softer copy of the image"),
    "Identity": (
        np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], np.float32),
        "copies the centre pixel: the feature map is the image itself"),
}

#: how a digit's pixels are presented to the filter
PIXEL_SCALES = {
    "0…1 (ink = 1)": (0.0, 1.0),
    "−1…1 (course)": (-1.0, 1.0),
}


def scale_pixels(image, scale: str = "0…1 (ink = 1)") -> np.ndarray:
    """An image in [0, 1] mapped linearly onto the range named by ``scale`` (float32)."""
    if scale not in PIXEL_SCALES:
        raise ValueError(f"scale must be one of {list(PIXEL_SCALES)}, got {scale!r}")
    lo, hi = PIXEL_SCALES[scale]
    img = np.asarray(image, dtype=np.float32)
    return (np.float32(lo) + img * np.float32(hi - lo)).astype(np.float32)


def _fmt_int(v: int) -> str:
    return f"−{-v}" if v < 0 else str(v)


@dataclass(frozen=True)
class AxisSize:
    """Output length along one axis of a sliding window (Keras rules).

    ``out`` is 0 and ``problem`` a sentence when the combination is impossible.
    ``skipped`` counts image pixels at the far edge that no window covers (a stride that
    does not fit evenly); ``gap`` is how many pixels lie between consecutive windows.
    """

    size: int
    window: int
    stride: int
    padding: str
    out: int
    pad_before: int
    pad_after: int
    skipped: int
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def pad_total(self) -> int:
        return self.pad_before + self.pad_after

    @property
    def gap(self) -> int:
        return max(0, self.stride - self.window)

    def padding_text(self) -> str:
        if self.pad_before == self.pad_after:
            return f"2·{self.pad_before}"
        return f"({self.pad_before} + {self.pad_after})"

    def formula(self, name: str = "out") -> str:
        """e.g. ``out = ⌊(28 + 2·0 − 3)/1⌋ + 1 = 26``; impossible ones end in a ✗."""
        n, k, s = self.size, self.window, self.stride
        if s < 1:
            return f"{name} = ⌊({n} + {self.padding_text()} − {k})/{s}⌋ + 1 ✗ impossible"
        value = (n + self.pad_total - k) // s + 1
        text = f"{name} = ⌊({n} + {self.padding_text()} − {k})/{s}⌋ + 1 = {_fmt_int(value)}"
        return text if self.ok else text + " ✗ impossible"

    def rule(self) -> str:
        """Where the padding came from, in words with numbers."""
        if self.padding == "valid":
            return "valid: no padding, the window stays inside the image"
        if self.stride < 1:
            return "same: needs a stride of at least 1"
        return (f"same: out = ⌈n/s⌉ = ⌈{self.size}/{self.stride}⌉ = {self.out}, "
                f"padding {self.pad_before} before + {self.pad_after} after")

    def warning(self) -> str | None:
        """Not impossible, but worth knowing: pixels that no window ever covers."""
        if not self.ok:
            return None
        parts = []
        if self.skipped:
            parts.append(f"the last {self.skipped} pixel{'s' if self.skipped > 1 else ''} "
                         f"at the far edge {'are' if self.skipped > 1 else 'is'} never covered "
                         f"(the stride does not fit evenly)")
        if self.gap:
            parts.append(f"{self.gap} pixel{'s' if self.gap > 1 else ''} between windows "
                         f"{'are' if self.gap > 1 else 'is'} skipped (stride {self.stride} > "
                         f"window {self.window})")
        return "; ".join(parts) or None


def axis_size(size: int, window: int, stride: int, padding: str) -> AxisSize:
    """The output length along one axis, never raising for an impossible combination.

    Valid sizes come from ``core.kernels.conv_output_size`` (the numbers a Conv2D
    layer uses); ``problem`` explains why a combination cannot work.
    """
    size, window, stride = int(size), int(window), int(stride)
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    problem = None
    if size < 1:
        problem = f"the image has no pixels along this axis (size {size})"
    elif window < 1:
        problem = f"a window must be at least 1 pixel (got {window})"
    elif stride < 1:
        problem = f"the stride must be at least 1 (got {stride}): the window would never move"
    elif padding == "valid" and size < window:
        problem = (f"the {window}-pixel window does not fit in {size} pixel"
                   f"{'s' if size != 1 else ''} without padding: use 'same' padding or a "
                   f"larger image")
    if problem is not None:
        pt = 0 if padding == "valid" or stride < 1 or window < 1 else \
            max((-(-max(size, 0) // stride) - 1) * stride + window - size, 0)
        return AxisSize(size, window, stride, padding, 0, pt // 2, pt - pt // 2, 0, problem)
    out, before = _conv.conv_output_size(size, window, stride, padding)
    pad_total = 0 if padding == "valid" else max((out - 1) * stride + window - size, 0)
    last_end = (out - 1) * stride + window - before   # one past the last covered pixel
    skipped = max(0, size - last_end)
    return AxisSize(size, window, stride, padding, out, before, pad_total - before, skipped,
                    None)


@dataclass(frozen=True)
class ConvWindow:
    """One filter position: output cell (row, col); the window's top-left pixel in image
    coordinates (negative inside the padding); the pixels under it (padding = 0), their
    products with the filter, and sum + bias = the feature-map value."""

    index: int
    row: int
    col: int
    top: int
    left: int
    patch: np.ndarray       # (KH, KW)
    kernel: np.ndarray      # (KH, KW)
    products: np.ndarray    # (KH, KW)
    bias: float
    total: float


class ConvSteps:
    """One filter over one grey image (H, W), window by window.

    The feature map is the engine's: ``core.kernels.conv2d_forward`` on the image as a
    (1, H, W, 1) batch. The per-window products are plain NumPy on the padded image.
    """

    def __init__(self, image, kernel, stride: int = 1, padding: str = "valid",
                 bias: float = 0.0):
        img = np.asarray(image, dtype=np.float32)
        k = np.asarray(kernel, dtype=np.float32)
        if img.ndim != 2:
            raise ValueError(f"image must be 2-D (H, W), got shape {img.shape}")
        if k.ndim != 2 or min(k.shape) < 1:
            raise ValueError(f"kernel must be 2-D (KH, KW), got shape {k.shape}")
        self.image = img                                               # (H, W)
        self.kernel = k                                                # (KH, KW)
        self.stride = int(stride)
        self.padding = padding
        self.bias = float(bias)
        self.rows = axis_size(img.shape[0], k.shape[0], self.stride, padding)
        self.cols = axis_size(img.shape[1], k.shape[1], self.stride, padding)
        self.padded = np.pad(img, ((self.rows.pad_before, self.rows.pad_after),
                                   (self.cols.pad_before, self.cols.pad_after)))  # (H+p, W+p)
        if self.ok:
            y = _conv.conv2d_forward(img[None, :, :, None], k[:, :, None, None],
                                     np.array([self.bias], np.float32), self.stride,
                                     padding)                          # (1, OH, OW, 1)
            self.output = np.ascontiguousarray(y[0, :, :, 0])          # (OH, OW)
        else:
            self.output = np.zeros((0, 0), np.float32)

    @property
    def ok(self) -> bool:
        return self.rows.ok and self.cols.ok

    @property
    def problem(self) -> str | None:
        for axis, name in ((self.rows, "height"), (self.cols, "width")):
            if not axis.ok:
                return f"{name}: {axis.problem}"
        return None

    @property
    def shape(self) -> tuple[int, int]:
        return self.output.shape

    @property
    def n_steps(self) -> int:
        return int(self.output.size)

    def position(self, index: int) -> tuple[int, int]:
        if not 0 <= index < self.n_steps:
            raise IndexError(f"window {index} outside 0..{self.n_steps - 1}")
        return divmod(int(index), self.output.shape[1])

    def window(self, index: int) -> ConvWindow:
        r, c = self.position(index)
        kh, kw = self.kernel.shape
        top_p, left_p = r * self.stride, c * self.stride                # in padded coordinates
        patch = self.padded[top_p:top_p + kh, left_p:left_p + kw]       # (KH, KW)
        products = patch.astype(np.float64) * self.kernel.astype(np.float64)  # (KH, KW)
        total = float(products.sum() + self.bias)
        return ConvWindow(int(index), r, c, top_p - self.rows.pad_before,
                          left_p - self.cols.pad_before, patch.copy(), self.kernel, products,
                          self.bias, total)

    def relu(self) -> np.ndarray:
        """max(feature map, 0), by the engine's ReLU kernel."""
        if not self.ok:
            return self.output.copy()
        return _act.relu_forward(self.output)                          # (OH, OW)


@dataclass(frozen=True)
class PoolWindow:
    """One pooling window: output cell (row, col), its top-left in feature-map coordinates,
    the in-bounds values (padding never counts), the result, and for max pooling the
    winning pixel (feature-map coordinates)."""

    index: int
    row: int
    col: int
    top: int
    left: int
    values: np.ndarray      # (h, w) in-bounds part of the window
    result: float
    winner: tuple[int, int] | None


class PoolSteps:
    """Max or average pooling of one feature map (H, W), window by window (Keras rules;
    ``stride=None`` means stride = pool size)."""

    def __init__(self, fmap, pool_size: int = 2, stride: int | None = None,
                 padding: str = "valid", mode: str = "max"):
        if mode not in ("max", "avg"):
            raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
        f = np.asarray(fmap, dtype=np.float32)
        if f.ndim != 2:
            raise ValueError(f"feature map must be 2-D (H, W), got shape {f.shape}")
        self.fmap = f                                                  # (H, W)
        self.mode = mode
        self.pool_size = int(pool_size)
        self.stride = self.pool_size if stride is None else int(stride)
        self.padding = padding
        self.rows = axis_size(f.shape[0], self.pool_size, self.stride, padding)
        self.cols = axis_size(f.shape[1], self.pool_size, self.stride, padding)
        self._arg = None
        if self.ok:
            x = f[None, :, :, None]                                    # (1, H, W, 1)
            if mode == "max":
                y, arg = _pool.max_pool_forward(x, self.pool_size, self.stride, padding)
                self._arg = arg[0, :, :, 0]                            # (OH, OW) flat h*W + w
            else:
                y = _pool.avg_pool_forward(x, self.pool_size, self.stride, padding)
            self.output = np.ascontiguousarray(y[0, :, :, 0])          # (OH, OW)
        else:
            self.output = np.zeros((0, 0), np.float32)

    @property
    def ok(self) -> bool:
        return self.rows.ok and self.cols.ok

    @property
    def problem(self) -> str | None:
        for axis, name in ((self.rows, "height"), (self.cols, "width")):
            if not axis.ok:
                return f"{name}: {axis.problem}"
        return None

    @property
    def n_steps(self) -> int:
        return int(self.output.size)

    def position(self, index: int) -> tuple[int, int]:
        if not 0 <= index < self.n_steps:
            raise IndexError(f"window {index} outside 0..{self.n_steps - 1}")
        return divmod(int(index), self.output.shape[1])

    def window(self, index: int) -> PoolWindow:
        r, c = self.position(index)
        top = r * self.stride - self.rows.pad_before
        left = c * self.stride - self.cols.pad_before
        h, w = self.fmap.shape
        values = self.fmap[max(top, 0):min(top + self.pool_size, h),
                           max(left, 0):min(left + self.pool_size, w)].copy()
        winner = None
        if self._arg is not None:
            winner = tuple(int(v) for v in divmod(int(self._arg[r, c]), w))
        return PoolWindow(int(index), r, c, top, left, values, float(self.output[r, c]), winner)


STAGES = ("conv", "relu", "max", "avg")


class ExplorerTimeline:
    """The explorer's animation as one numbered sequence of steps.

    Steps 0 … C−1 are the convolution windows, step C applies ReLU to the whole map, then
    come the max-pooling windows and the average-pooling windows (both over the ReLU map).
    A stage that is impossible (e.g. pooling a 1×1 map) has no steps; ``problems`` says why.
    """

    def __init__(self, conv: ConvSteps, pool_size: int = 2, pool_stride: int | None = None):
        self.conv = conv
        self.relu = conv.relu()                                        # (OH, OW)
        if conv.ok:
            self.max_pool = PoolSteps(self.relu, pool_size, pool_stride, "valid", "max")
            self.avg_pool = PoolSteps(self.relu, pool_size, pool_stride, "valid", "avg")
        else:
            self.max_pool = self.avg_pool = None
        self.lengths = {
            "conv": conv.n_steps,
            "relu": 1 if conv.ok else 0,
            "max": self.max_pool.n_steps if self.max_pool is not None else 0,
            "avg": self.avg_pool.n_steps if self.avg_pool is not None else 0,
        }
        self.starts = {}
        t = 0
        for stage in STAGES:
            self.starts[stage] = t
            t += self.lengths[stage]
        self.total = t

    @property
    def problems(self) -> list[str]:
        out = []
        if not self.conv.ok:
            out.append(f"convolution impossible — {self.conv.problem}")
        elif self.max_pool is not None and not self.max_pool.ok:
            out.append(f"pooling impossible — {self.max_pool.problem}")
        return out

    def stage_at(self, step: int) -> tuple[str, int]:
        """(stage, index within the stage) of a step in 0 … total−1."""
        if not 0 <= step < self.total:
            raise IndexError(f"step {step} outside 0..{self.total - 1}")
        for stage in reversed(STAGES):
            if self.lengths[stage] and step >= self.starts[stage]:
                return stage, step - self.starts[stage]
        raise AssertionError("unreachable")

    def filled(self, stage: str, step: int) -> int:
        """How many cells of ``stage``'s output are computed once ``step`` is shown (``step``
        −1 = before the first step: none)."""
        n = self.lengths[stage]
        if step < 0:
            return 0
        return int(min(max(step - self.starts[stage] + 1, 0), n))
