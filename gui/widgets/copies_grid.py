"""An image and its random copies in a grid, each captioned with the transformation it got
(the data-augmentation lesson's preview); the captions come from core.teaching.augment_preview."""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPoint, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from core.teaching.augment_preview import describe_copy, explain_copy
from gui.widgets.colors import FORWARD_COLOR, sequential_rgba
from gui.widgets.numbers import fmt
from gui.widgets.qimage import rgba_qimage


def image_rgba(image: np.ndarray) -> np.ndarray:
    """(H, W, 1) grey on the app's sequential scale, (H, W, 3) in its own colours → RGBA."""
    if image.shape[-1] == 1:
        return sequential_rgba(image[..., 0], 0.0, 1.0)
    rgba = np.empty(image.shape[:2] + (4,), np.uint8)  # (H, W, 4)
    rgba[..., :3] = np.rint(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
    rgba[..., 3] = 255
    return rgba


def _wrap(text: str, fm: QFontMetrics, width: int, lines: int) -> list[str]:
    """`text` wrapped at spaces into at most `lines` lines of `width` px (a long class
    name such as "a very long class name here" is shown whole, not cut to "a very lo…");
    only what still does not fit is elided."""
    out: list[str] = []
    for word in text.split(" "):
        if out and fm.horizontalAdvance(out[-1] + " " + word) <= width:
            out[-1] += " " + word
        else:
            out.append(word)
    if len(out) > lines:
        out = out[:lines - 1] + [" ".join(out[lines - 1:])]
    return [fm.elidedText(line, Qt.TextElideMode.ElideRight, width) for line in out]


def _pack(parts: list[str], fm: QFontMetrics, width: int, lines: int) -> list[str]:
    """Parts joined by " · " into at most `lines` lines of `width` px; the last elided."""
    out: list[str] = []
    for part in parts:
        if out and fm.horizontalAdvance(out[-1] + " · " + part) <= width:
            out[-1] += " · " + part
        else:
            out.append(part)
    if len(out) > lines:
        out = out[:lines - 1] + [" · ".join(out[lines - 1:])]
    return [fm.elidedText(line, Qt.TextElideMode.ElideRight, width) for line in out]


class CopiesGrid(QWidget):
    """The original image and its random copies, each captioned with what it got.

    Grey digits use the app's sequential scale (legend beside the grid); photos are drawn in
    their own colours. Hovering a cell shows the copy's exact transformation and the pixel
    under the mouse.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self._arrays: list[np.ndarray] = []
        self._images: list[QImage] = []
        self._titles: list[str] = []
        self._captions: list[str] = []
        self._tips: list[str] = []
        self.setMouseTracking(True)
        self.setMinimumSize(240, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("The image and its random copies")

    def set_images(self, original: np.ndarray, copies: np.ndarray, params: list[dict],
                   name: str) -> None:
        self._arrays = [np.asarray(original)] + [np.asarray(c) for c in copies]
        self._images = [rgba_qimage(image_rgba(a)) for a in self._arrays]
        self._titles = ["original"] + [f"copy {i}" for i in range(1, len(copies) + 1)]
        self._parts = [[name]] + [describe_copy(p) or ["unchanged"] for p in params]
        self._captions = [" · ".join(parts) for parts in self._parts]
        self._tips = ["The image as it is in the data set"] + [explain_copy(p) for p in params]
        flipped = sum(p["horizontal_flip"] or p["vertical_flip"] for p in params)
        self.setAccessibleDescription(f"{name} and {len(copies)} random copies, "
                                      f"{flipped} of them flipped")
        self.update()

    # --- what a learner (and a test) reads ------------------------------------------------
    def count(self) -> int:
        return len(self._arrays)

    def image(self, i: int) -> np.ndarray:
        return self._arrays[i]

    def title(self, i: int) -> str:
        return self._titles[i]

    def caption(self, i: int) -> str:
        return self._captions[i]

    def tooltip(self, i: int) -> str:
        return self._tips[i]

    # --- layout and painting -------------------------------------------------------------
    def _layout(self):
        n = max(1, self.count())
        cols = math.ceil(math.sqrt(n))
        rows = math.ceil(n / cols)
        fm = QFontMetrics(self.font())
        text_h = 3 * fm.height() + 2
        gap = 8
        side = min((self.width() - gap * (cols - 1)) / cols,
                   (self.height() - rows * (text_h + gap)) / rows)
        side = max(side, 28.0)
        cell_w = (self.width() - gap * (cols - 1)) / cols
        return cols, side, cell_w, text_h, gap

    def cell_rect(self, i: int) -> QRectF:
        cols, side, cell_w, text_h, gap = self._layout()
        r, c = divmod(i, cols)
        x = c * (cell_w + gap) + (cell_w - side) / 2
        return QRectF(x, r * (side + text_h + gap), side, side)

    def paintEvent(self, event):
        if not self._images:
            return
        p = QPainter(self)
        fm = QFontMetrics(self.font())
        cols, side, cell_w, text_h, gap = self._layout()
        text_color = self.palette().color(self.foregroundRole())
        for i, img in enumerate(self._images):
            rect = self.cell_rect(i)
            p.drawImage(rect, img)
            pen = QPen(FORWARD_COLOR if i == 0 else QColor("#9aa1ab"), 3 if i == 0 else 1)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            p.setPen(pen)
            p.drawRect(rect)
            col = i % cols
            text_rect = QRectF(col * (cell_w + gap), rect.bottom() + 2, cell_w, fm.height())
            font = p.font()
            font.setBold(i == 0)
            p.setFont(font)
            p.setPen(text_color)
            for k, line in enumerate(self.title_lines(i, fm, int(cell_w))):
                p.drawText(text_rect.translated(0, k * fm.height()),
                           Qt.AlignmentFlag.AlignCenter, line)
            font.setBold(False)
            p.setFont(font)
            for k, line in enumerate(self.caption_lines(i, fm, int(cell_w)), start=1):
                p.drawText(text_rect.translated(0, k * fm.height()),
                           Qt.AlignmentFlag.AlignCenter, line)
        p.end()

    def title_lines(self, i: int, fm: QFontMetrics, width: int) -> list[str]:
        return [fm.elidedText(self._titles[i], Qt.TextElideMode.ElideRight, width)]

    def caption_lines(self, i: int, fm: QFontMetrics, width: int) -> list[str]:
        """The caption's (at most two) lines; the original's is its name, wrapped at
        spaces so a long class name shows whole."""
        if i == 0:
            return _wrap(self._captions[0], fm, width, 2)
        return _pack(self._parts[i], fm, width, 2)

    def shown_lines(self, i: int) -> list[str]:
        """Every line drawn under image i, as painted (tests read what the learner sees)."""
        fm, width = QFontMetrics(self.font()), int(self._layout()[2])
        return self.title_lines(i, fm, width) + self.caption_lines(i, fm, width)

    def index_at(self, pos) -> int | None:
        for i in range(self.count()):
            if self.cell_rect(i).contains(pos):
                return i
        return None

    def mouseMoveEvent(self, event):
        pos = event.position()
        i = self.index_at(pos)
        if i is None:
            QToolTip.hideText()
            return
        rect = self.cell_rect(i)
        a = self._arrays[i]
        h, w = a.shape[:2]
        r = min(h - 1, int((pos.y() - rect.top()) / rect.height() * h))
        c = min(w - 1, int((pos.x() - rect.left()) / rect.width() * w))
        px = a[r, c]
        value = (fmt(px[0]) if len(px) == 1 else
                 "(" + ", ".join(fmt(v) for v in px) + ") red, green, blue")
        QToolTip.showText(event.globalPosition().toPoint() + QPoint(12, 12),
                          f"{self._titles[i]}\n{self._tips[i]}\npixel (row {r}, column {c}) = "
                          f"{value}", self)

    def sizeHint(self) -> QSize:
        return QSize(360, 380)
