"""The one colour language of Backprop Lab (DESIGN "Visual language").

- Weights and gradients: a diverging scale, negative blue — zero light grey — positive
  orange. Blue/orange stay distinguishable under the common colour-vision deficiencies,
  unlike red/green.
- Activations and images: one sequential scale (viridis-like: dark purple → yellow), whose
  lightness rises monotonically so it also reads in greyscale and on a projector.
- The forward pass in FORWARD_COLOR, the backward pass (gradients flowing back) in
  BACKWARD_COLOR; both are kept out of the two scales above so an arrow is never mistaken
  for a value.

Colour never carries meaning alone: put a `ColorLegend` (numeric ticks) next to any
coloured visual.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (QColor, QFontMetrics, QGuiApplication, QLinearGradient, QPainter,
                           QPen)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from gui.widgets.numbers import fmt, mono_font

# Stops as (position in [0, 1], (r, g, b)). Hand-written so no matplotlib is needed.
_DIVERGING_STOPS = (
    (0.00, (33, 102, 172)),    # strong negative: deep blue
    (0.25, (103, 169, 207)),
    (0.50, (232, 232, 232)),   # zero: light grey
    (0.75, (253, 184, 99)),
    (1.00, (230, 97, 1)),      # strong positive: deep orange
)
_SEQUENTIAL_STOPS = (          # viridis sampled at 9 points
    (0.000, (68, 1, 84)),
    (0.125, (71, 45, 123)),
    (0.250, (59, 82, 139)),
    (0.375, (44, 114, 142)),
    (0.500, (33, 145, 140)),
    (0.625, (40, 174, 128)),
    (0.750, (94, 201, 98)),
    (0.875, (173, 220, 48)),
    (1.000, (253, 231, 37)),
)

NEGATIVE_COLOR = QColor(*_DIVERGING_STOPS[0][1])
ZERO_COLOR = QColor(*_DIVERGING_STOPS[2][1])
POSITIVE_COLOR = QColor(*_DIVERGING_STOPS[-1][1])
#: forward pass (inputs → outputs): a dark green, darker and less blue than viridis's greens
FORWARD_COLOR = QColor("#1b7837")
#: backward pass (gradients flowing back): a reddish purple, not on either scale
BACKWARD_COLOR = QColor("#b83d8c")
#: a value that is NaN or infinite: black, which neither scale uses
NAN_COLOR = QColor(0, 0, 0)

_DIV_POS = np.array([p for p, _ in _DIVERGING_STOPS], dtype=np.float64)
_DIV_RGB = np.array([c for _, c in _DIVERGING_STOPS], dtype=np.float64)   # (S, 3)
_SEQ_POS = np.array([p for p, _ in _SEQUENTIAL_STOPS], dtype=np.float64)
_SEQ_RGB = np.array([c for _, c in _SEQUENTIAL_STOPS], dtype=np.float64)  # (S, 3)


def _interp_rgb(t: np.ndarray, pos: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """Piecewise-linear colour at positions t in [0, 1] → (..., 3) float."""
    t = np.clip(t, 0.0, 1.0)
    return np.stack([np.interp(t, pos, rgb[:, k]) for k in range(3)], axis=-1)


def _diverging_t(values, vmax) -> tuple[np.ndarray, np.ndarray]:
    v = np.asarray(values, dtype=np.float64)
    vmax = float(vmax) if vmax is not None else 0.0
    if not math.isfinite(vmax) or vmax <= 0.0:
        # an all-zero tensor (e.g. fresh gradients) must still draw: grey, not a crash
        vmax = 1.0
    return 0.5 + 0.5 * np.clip(v / vmax, -1.0, 1.0), ~np.isfinite(v)


def _sequential_t(values, vmin, vmax) -> tuple[np.ndarray, np.ndarray]:
    v = np.asarray(values, dtype=np.float64)
    vmin, vmax = float(vmin), float(vmax)
    span = vmax - vmin
    if not math.isfinite(span) or span <= 0.0:
        return np.zeros_like(v), ~np.isfinite(v)
    return (v - vmin) / span, ~np.isfinite(v)


def _to_rgba(t, bad, pos, rgb) -> np.ndarray:
    out = np.empty(t.shape + (4,), dtype=np.uint8)                        # (..., 4)
    out[..., :3] = np.rint(_interp_rgb(np.nan_to_num(t), pos, rgb)).astype(np.uint8)
    out[..., 3] = 255
    out[bad, :3] = (NAN_COLOR.red(), NAN_COLOR.green(), NAN_COLOR.blue())
    return out


def diverging_rgba(values, vmax) -> np.ndarray:
    """Vectorised `diverging_color`: array of values → (..., 4) uint8 RGBA (for QImage)."""
    t, bad = _diverging_t(values, vmax)
    return _to_rgba(t, bad, _DIV_POS, _DIV_RGB)


def sequential_rgba(values, vmin, vmax) -> np.ndarray:
    """Vectorised `sequential_color`: array of values → (..., 4) uint8 RGBA (for QImage)."""
    t, bad = _sequential_t(values, vmin, vmax)
    return _to_rgba(t, bad, _SEQ_POS, _SEQ_RGB)


def diverging_color(value: float, vmax: float) -> QColor:
    """Colour of a weight or gradient: −vmax deep blue, 0 light grey, +vmax deep orange.

    Values beyond ±vmax saturate; NaN/inf are NAN_COLOR; vmax ≤ 0 is treated as 1.
    """
    r, g, b, _ = diverging_rgba(np.float64(value), vmax).tolist()
    return QColor(r, g, b)


def sequential_color(value: float, vmin: float, vmax: float) -> QColor:
    """Colour of an activation or pixel: vmin dark purple → vmax yellow (clipped)."""
    r, g, b, _ = sequential_rgba(np.float64(value), vmin, vmax).tolist()
    return QColor(r, g, b)


def lut(kind: str, n: int = 256) -> np.ndarray:
    """(n, 4) uint8 lookup table of a scale, for pyqtgraph's ImageItem.setLookupTable."""
    t = np.linspace(0.0, 1.0, int(n))
    if kind == "diverging":
        return _to_rgba(t, np.zeros(t.shape, bool), _DIV_POS, _DIV_RGB)
    if kind == "sequential":
        return _to_rgba(t, np.zeros(t.shape, bool), _SEQ_POS, _SEQ_RGB)
    raise ValueError(f"kind must be 'diverging' or 'sequential', got {kind!r}")


def pg_colormap(kind: str):
    """The scale as a pyqtgraph ColorMap (imported lazily: not every widget needs it)."""
    import pyqtgraph as pg

    stops = {"diverging": _DIVERGING_STOPS, "sequential": _SEQUENTIAL_STOPS}.get(kind)
    if stops is None:
        raise ValueError(f"kind must be 'diverging' or 'sequential', got {kind!r}")
    return pg.ColorMap([p for p, _ in stops], [c for _, c in stops], name=f"backprop-{kind}")


class ColorLegend(QWidget):
    """A colour bar with numeric tick labels, so colour is never the only cue.

    `ColorLegend("diverging", vmax=0.5, label="weight")` shows −0.5 … 0 … 0.5;
    `ColorLegend("sequential", vmin=0, vmax=1, label="activation")` shows 0 … 1.
    """

    BAR_HEIGHT = 12

    def __init__(self, kind: str = "diverging", vmin: float = 0.0, vmax: float = 1.0,
                 label: str = "", ticks: int = 5, parent=None):
        super().__init__(parent)
        if kind not in ("diverging", "sequential"):
            raise ValueError(f"kind must be 'diverging' or 'sequential', got {kind!r}")
        self._kind = kind
        self._label = label
        self._n_ticks = max(2, int(ticks))
        self._vmin, self._vmax = 0.0, 1.0
        self.setFont(mono_font())
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        # a legend spanning a whole lesson is hard to read; lift this to let it stretch
        self.setMaximumWidth(480)
        self.set_range(vmin, vmax)

    def kind(self) -> str:
        return self._kind

    def set_range(self, vmin: float = 0.0, vmax: float = 1.0) -> None:
        """Diverging legends use ±|vmax| (vmin ignored); sequential ones vmin … vmax."""
        if self._kind == "diverging":
            vmax = abs(float(vmax))
            self._vmin, self._vmax = -vmax, vmax
        else:
            self._vmin, self._vmax = float(vmin), float(vmax)
        text = f"{self._label} colour scale: " if self._label else "colour scale: "
        self.setAccessibleName(f"{self._label or self._kind} legend")
        self.setAccessibleDescription(text + ", ".join(self.tick_labels()))
        self.setToolTip(self._tooltip())
        self.updateGeometry()
        self.update()

    def set_label(self, label: str) -> None:
        self._label = label
        self.set_range(self._vmin, self._vmax)

    def tick_values(self) -> list[float]:
        return [float(v) for v in np.linspace(self._vmin, self._vmax, self._n_ticks)]

    def tick_labels(self) -> list[str]:
        return [fmt(v) for v in self.tick_values()]

    def _tooltip(self) -> str:
        if self._kind == "diverging":
            return (f"{self._label or 'value'}: blue is negative, light grey is zero, orange is "
                    f"positive; colours saturate beyond ±{fmt(self._vmax)}")
        return (f"{self._label or 'value'}: dark purple is {fmt(self._vmin)}, yellow is "
                f"{fmt(self._vmax)}")

    # --- painting ---------------------------------------------------------------------
    @staticmethod
    def _caption_font():
        return QGuiApplication.font()

    def _margins(self) -> tuple[int, int]:
        fm = QFontMetrics(self.font())
        labels = self.tick_labels()
        half = max(fm.horizontalAdvance(s) for s in labels) // 2 + 2
        return half, half

    def sizeHint(self) -> QSize:
        fm = QFontMetrics(self.font())
        # every tick's label fits with a space between neighbours (narrower drops some)
        widest = max(fm.horizontalAdvance(s) for s in self.tick_labels())
        left, right = self._margins()
        width = left + right + (self._n_ticks - 1) * (widest + fm.horizontalAdvance(" ")) + 2
        title_h = fm.height() + 2 if self._label else 0
        return QSize(max(width, 240), title_h + self.BAR_HEIGHT + 4 + fm.height() + 4)

    def minimumSizeHint(self) -> QSize:
        # squeezed, the legend keeps its caption, both end numbers and a short bar; the
        # ticks between drop out (see _fitting_ticks), so a tight row never widens the window
        fm = QFontMetrics(self.font())
        labels = self.tick_labels()
        left, right = self._margins()
        ends = (fm.horizontalAdvance(labels[0]) + fm.horizontalAdvance(labels[-1])) / 2
        width = left + right + int(ends) + 2 * fm.horizontalAdvance(" ") + 40
        if self._label:   # a long caption is elided when squeezed (the tooltip has it all)
            caption = QFontMetrics(self._caption_font()).horizontalAdvance(self._label) + 4
            width = max(width, min(caption, 200))
        return QSize(width, self.sizeHint().height())

    def paintEvent(self, event):
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = QFontMetrics(self.font())
        left, _ = self._margins()
        y = 0
        text_color = self.palette().color(self.foregroundRole())
        if self._label:
            # the caption is words, not numbers: the proportional face reads better
            p.setFont(self._caption_font())
            p.setPen(text_color)
            caption = QFontMetrics(p.font()).elidedText(self._label, Qt.TextElideMode.ElideRight,
                                                         self.width())
            p.drawText(QRectF(0, 0, self.width(), fm.height()),
                       Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, caption)
            p.setFont(self.font())
            y += fm.height() + 2
        bar = QRectF(left, y, self._bar_span()[1], self.BAR_HEIGHT)
        grad = QLinearGradient(bar.topLeft(), bar.topRight())
        for pos, rgb in (_DIVERGING_STOPS if self._kind == "diverging" else _SEQUENTIAL_STOPS):
            grad.setColorAt(pos, QColor(*rgb))
        p.fillRect(bar, grad)
        p.setPen(QPen(text_color, 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(bar)
        ty = bar.bottom() + 4
        labels = self.tick_labels()
        for i in self._fitting_ticks(bar.left(), bar.width()):
            x = bar.left() + bar.width() * i / (self._n_ticks - 1)
            p.drawLine(QPointF(x, bar.bottom()), QPointF(x, bar.bottom() + 3))
            w = fm.horizontalAdvance(labels[i])
            p.drawText(QRectF(x - w / 2 - 1, ty, w + 2, fm.height()),
                       Qt.AlignmentFlag.AlignCenter, labels[i])
        p.end()

    def _bar_span(self) -> tuple[float, float]:
        left, right = self._margins()
        return float(left), float(max(1, self.width() - left - right))

    def _fitting_ticks(self, bar_left: float, bar_width: float) -> list[int]:
        """Indices of the ticks whose labels fit side by side at this width.

        Both ends first, then the middle (zero on a diverging scale), then the midpoints
        between ticks already placed; a label that would touch a placed one is dropped, so a
        narrow legend shows fewer numbers instead of running them together.
        """
        n = self._n_ticks
        fm = QFontMetrics(self.font())
        gap = fm.horizontalAdvance(" ")
        labels = self.tick_labels()
        order = [0, n - 1]
        spans = [(0, n - 1)]
        while spans:
            nxt = []
            for a, b in spans:
                if b - a > 1:
                    m = (a + b) // 2
                    order.append(m)
                    nxt += [(a, m), (m, b)]
            spans = nxt
        def extent(i):
            x = bar_left + bar_width * i / (n - 1)
            half = fm.horizontalAdvance(labels[i]) / 2
            return i, x - half, x + half

        placed: list[tuple[int, float, float]] = []
        seen: set[int] = set()
        for i in order:
            if i in seen:
                continue
            # a diverging scale keeps −v and +v together, so it always reads symmetric
            group = {i, n - 1 - i} if self._kind == "diverging" else {i}
            seen |= group
            new = [extent(k) for k in sorted(group)]
            if any(lo < phi + gap and hi + gap > plo
                   for _, lo, hi in new for _, plo, phi in placed):
                if placed:
                    continue
                new = new[:1]      # too narrow even for both ends: the lower one alone
            placed += new
        return sorted(i for i, _, _ in placed)

    def visible_tick_labels(self) -> list[str]:
        """The tick labels drawn at the legend's current width."""
        labels = self.tick_labels()
        return [labels[i] for i in self._fitting_ticks(*self._bar_span())]


class AccentLegend(QWidget):
    """Two swatches naming the accents: "forward pass" and "backward pass (gradients)"."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        for color, text in ((FORWARD_COLOR, "→ forward pass"),
                            (BACKWARD_COLOR, "← backward pass (gradients)")):
            swatch = QLabel()
            swatch.setFixedSize(QSize(28, 6))
            swatch.setStyleSheet(f"background: {color.name()}; border-radius: 3px;")
            lay.addWidget(swatch)
            lbl = QLabel(text)
            lbl.setStyleSheet(f"color: {color.name()}; font-weight: 600;")
            lay.addWidget(lbl)
            lay.addSpacing(12)
        lay.addStretch(1)
        self.setAccessibleName("forward and backward pass colours")
        self.setToolTip("Arrows and highlights of the forward pass are green; those of the "
                        "backward pass (gradients) are purple, in every lesson.")
