"""28×28 → 784 inputs, shown: the digit's rows laid end to end into the network's input
column (core.teaching.flatten), one row at a time, with one pixel highlighted in the image,
in its row's stretch of the column (drawn large) and in the whole 784-long column.

    image (28×28)        row r, large          the 784 inputs
    ┌────────┐          ┌──┐ input r·28        ┌┐ 0
    │  row r ├─────────▶│▒▒│ …                 ├┤ ← r·28 … r·28+27
    │        │          │▒▒│ input r·28+27     └┘ 783
    └────────┘          └──┘

Click a pixel (in the image or the column) to follow it; "Flatten" replays the rows.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from core.teaching.flatten import SIDE, flat_index, laid_rows, pixel_of_input, row_inputs
from gui.widgets.colors import FORWARD_COLOR, sequential_rgba
from gui.widgets.numbers import fmt
from gui.widgets.qimage import rgba_qimage

ROW_MS = 220
EMPTY = QColor("#e4e7eb")
HIGHLIGHT = QColor("#d95f02")
LINK = QColor(27, 120, 55, 40)


class FlattenCanvas(QWidget):
    """The three pictures and the links between them (painted, sized to the widget)."""

    pixel_clicked = Signal(int, int)

    def __init__(self, view: "FlattenView"):
        super().__init__(view)
        self.view = view
        self.setMinimumSize(420, 230)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(False)

    # geometry: (image rect, row-zoom rect, column rect), all from the widget's size
    def geometry_(self):
        fm = self.fontMetrics()
        top, bottom = fm.height() + 6, fm.height() + 6
        h = max(120.0, self.height() - top - bottom)
        cell = min(h / SIDE, (self.width() * 0.38) / SIDE)
        img = QRectF(8, top, cell * SIDE, cell * SIDE)
        zoom_cell = h / SIDE
        label_w = fm.horizontalAdvance("input 783") + 10
        zx = img.right() + max(40.0, (self.width() - img.width() - 2 * label_w - 60) * 0.45)
        zoom = QRectF(zx, top, zoom_cell * 1.4, h)
        col = QRectF(zoom.right() + label_w + 40, top, 16, h)
        return img, zoom, col

    def paintEvent(self, event):
        v = self.view
        if v.image is None:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        img, zoom, col = self.geometry_()
        fm = self.fontMetrics()
        r, c = v.highlight
        rows = v.rows_laid
        cell = img.width() / SIDE
        # the image, rows not laid yet dimmed
        p.drawImage(img, rgba_qimage(sequential_rgba(v.image, 0.0, 1.0)))
        if rows < SIDE:
            p.fillRect(QRectF(img.left(), img.top() + rows * cell, img.width(),
                              (SIDE - rows) * cell), QColor(255, 255, 255, 110))
        row_rect = QRectF(img.left(), img.top() + r * cell, img.width(), cell)
        # links: the row spreads into its 28 inputs, which sit in the long column at r·28
        band_top = col.top() + col.height() * r / SIDE
        band = QRectF(col.left(), band_top, col.width(), col.height() / SIDE)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QBrush(LINK))
        p.drawPolygon(QPolygonF([row_rect.topRight(), zoom.topLeft(), zoom.bottomLeft(),
                                 row_rect.bottomRight()]))
        p.drawPolygon(QPolygonF([QPointF(zoom.right() + 2, zoom.top()), band.topLeft(),
                                 band.bottomLeft(), QPointF(zoom.right() + 2, zoom.bottom())]))
        # the row, large: its 28 values top to bottom, the order they enter the column
        flat = v.column
        z = zoom.height() / SIDE
        colors = sequential_rgba(np.nan_to_num(flat), 0.0, 1.0)
        for k, i in enumerate(row_inputs(r)):
            rect = QRectF(zoom.left(), zoom.top() + k * z, zoom.width(), z)
            if np.isnan(flat[i]):
                p.fillRect(rect, EMPTY)
            else:
                p.fillRect(rect, QColor(*colors[i][:3]))
        # the whole column: 784 inputs in the height (rows fade in as they are laid)
        strip = np.where(np.isnan(flat), -1.0, flat).reshape(-1, 1)
        rgba = sequential_rgba(np.clip(strip, 0, 1), 0.0, 1.0)
        rgba[np.isnan(flat)] = (EMPTY.red(), EMPTY.green(), EMPTY.blue(), 255)
        p.drawImage(col, rgba_qimage(np.ascontiguousarray(rgba)))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(QColor("#6b7480"), 1))
        p.drawRect(img)
        p.drawRect(zoom)
        p.drawRect(col)
        # the highlighted pixel, in all three
        pen = QPen(HIGHLIGHT, 2.5)
        p.setPen(pen)
        p.drawRect(QRectF(img.left() + c * cell, img.top() + r * cell, cell, cell))
        p.drawRect(QRectF(zoom.left(), zoom.top() + c * z, zoom.width(), z))
        index = flat_index(r, c)
        y = col.top() + col.height() * (index + 0.5) / (SIDE * SIDE)
        p.drawLine(QPointF(col.left() - 10, y), QPointF(col.right() + 10, y))
        p.setPen(QPen(FORWARD_COLOR, 1.5))
        p.drawRect(row_rect)
        p.drawRect(band)
        # words: what each picture is and the numbers the highlight stands on
        p.setPen(QColor("#1d232b"))
        p.drawText(QPointF(img.left(), img.top() - 5), "the digit: 28 × 28 pixels")
        p.drawText(QPointF(zoom.left(), zoom.top() - 5), f"row {r}")
        first, last = row_inputs(r)[0], row_inputs(r)[-1]
        lx = zoom.right() + 6
        p.drawText(QPointF(lx, zoom.top() + fm.ascent()), f"input {first}")
        p.drawText(QPointF(lx, zoom.bottom()), f"input {last}")
        p.setPen(HIGHLIGHT)
        p.drawText(QPointF(lx, zoom.top() + (c + 0.5) * z + fm.ascent() / 2),
                   f"input {index}")
        p.setPen(QColor("#1d232b"))
        title = "784 inputs"
        p.drawText(QPointF(col.center().x() - fm.horizontalAdvance(title) / 2,
                           col.top() - 5), title)
        p.drawText(QPointF(col.right() + 14, col.top() + fm.ascent()), "0")
        p.drawText(QPointF(col.right() + 14, col.bottom()), "783")
        p.setPen(HIGHLIGHT)
        p.drawText(QPointF(col.right() + 14, y + fm.ascent() / 2 - 1), str(index))
        p.end()

    def mousePressEvent(self, event):
        img, zoom, col = self.geometry_()
        pos = event.position()
        if img.contains(pos):
            cell = img.width() / SIDE
            self.pixel_clicked.emit(int((pos.y() - img.top()) // cell),
                                    int((pos.x() - img.left()) // cell))
        elif col.adjusted(-8, 0, 8, 0).contains(pos):
            index = int((pos.y() - col.top()) / col.height() * SIDE * SIDE)
            self.pixel_clicked.emit(*pixel_of_input(min(max(index, 0), SIDE * SIDE - 1)))
        elif zoom.contains(pos):
            self.pixel_clicked.emit(self.view.highlight[0],
                                    int((pos.y() - zoom.top()) / zoom.height() * SIDE))


class FlattenView(QWidget):
    """A digit flattened before the learner's eyes; `set_image(x)` with 784 values or 28×28."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.image: np.ndarray | None = None
        self.rows_laid = SIDE
        self.highlight = (14, 14)
        self._chosen = False         # the learner clicked a pixel: keep following it
        self.column = np.full(SIDE * SIDE, np.nan)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        self.play_button = QPushButton("▶ Flatten row by row")
        self.play_button.setToolTip("Lay the digit's rows end to end into the input column, "
                                    "one row at a time")
        self.play_button.setAccessibleName("Flatten the digit row by row")
        self.play_button.clicked.connect(self.play)
        top.addWidget(self.play_button)
        self.mapping = QLabel()
        self.mapping.setWordWrap(True)
        self.mapping.setMinimumWidth(120)
        self.mapping.setAccessibleName("The highlighted pixel and its input")
        top.addWidget(self.mapping, 1)
        lay.addLayout(top)
        self.canvas = FlattenCanvas(self)
        self.canvas.pixel_clicked.connect(self.set_highlight)
        self.canvas.setToolTip("Click a pixel of the digit, of the row or of the column to "
                               "follow it: pixel (row r, column c) is input r·28 + c")
        lay.addWidget(self.canvas, 1)
        self._timer = QTimer(self)
        self._timer.setInterval(ROW_MS)
        self._timer.timeout.connect(self._next_row)

    def set_image(self, x) -> None:
        self.image = np.asarray(x, dtype=np.float64).reshape(SIDE, SIDE)
        if not self._chosen:
            # start on ink, not on the black border: the pixel's value is worth following
            self.highlight = self._ink_pixel()
        self._update()

    def _ink_pixel(self) -> tuple[int, int]:
        """The brightest pixel of the middle row (of the whole digit if that row is blank)."""
        middle = self.image[SIDE // 2]
        if middle.max() > 0:
            return SIDE // 2, int(np.argmax(middle))
        r, c = np.unravel_index(np.argmax(self.image), self.image.shape)
        return int(r), int(c)

    def play(self) -> None:
        """Start again from an empty column and lay one row per tick."""
        self.rows_laid = 0
        self._timer.start()
        self._update()

    def is_playing(self) -> bool:
        return self._timer.isActive()

    def stop(self) -> None:
        self._timer.stop()
        self.rows_laid = SIDE
        self._update()

    def _next_row(self) -> None:
        self.rows_laid += 1
        # the row just laid is the one followed, at the highlighted column
        self.highlight = (self.rows_laid - 1, self.highlight[1])
        if self.rows_laid >= SIDE:
            self._timer.stop()
        self._update()

    def set_highlight(self, row: int, col: int) -> None:
        if 0 <= row < SIDE and 0 <= col < SIDE:
            self._chosen = True
            self.highlight = (int(row), int(col))
            self._update()

    def _update(self) -> None:
        if self.image is None:
            self.mapping.setText("Loading the digits…")
            return
        self.column = laid_rows(self.image, self.rows_laid)
        r, c = self.highlight
        i = flat_index(r, c)
        value = self.image[r, c]
        laid = f"{self.rows_laid} of {SIDE} rows laid: " if self.rows_laid < SIDE else ""
        self.mapping.setText(
            f"{laid}pixel (row {r}, column {c}) = {fmt(value)} is input {r} · 28 + {c} = "
            f"<b>{i}</b> of the 784: the network sees no rows, only this one long column.")
        self.canvas.update()
