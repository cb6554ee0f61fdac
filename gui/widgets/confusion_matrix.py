"""A confusion matrix as a heat map, and the examples behind any of its cells.

    cm = ConfusionMatrixView()
    cm.set_data(y_true, y_pred, class_names)      # counts computed by core.metrics
    cm.cell_selected.connect(lambda i, j, idx: panel.show_cell(i, j, idx))
    panel = CellExamples()
    panel.set_images(images)       # or panel.set_table(columns, rows) for tabular data

Rows are the true class, columns the predicted class (scikit-learn's layout, and the course's
picture). Each cell is coloured on the app's sequential scale by its count and the count is
printed in it, with a numeric legend beside: colour never carries the meaning alone.
Hovering a cell says what it holds in words; clicking it (or moving to it with the arrow keys
and pressing Enter) lists the examples it holds.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QListView,
                               QListWidget, QListWidgetItem, QSizePolicy, QStackedWidget,
                               QTableWidget, QTableWidgetItem, QToolTip, QVBoxLayout, QWidget)

from core import metrics
from core.teaching.classifier_eval import cell_indices
from gui.widgets.colors import ColorLegend, sequential_color, sequential_rgba
from gui.widgets.numbers import fmt, mono_font
from gui.widgets.qimage import rgba_qimage

__all__ = ["ConfusionMatrixView", "CellExamples", "thumbnail"]

SELECT_COLOR = QColor("#d7301f")    # the selected cell's frame (it is also named in words)


def _text_on(color: QColor) -> QColor:
    """Black or white, whichever reads on `color` (relative luminance)."""
    lum = 0.2126 * color.redF() + 0.7152 * color.greenF() + 0.0722 * color.blueF()
    return QColor("#000000") if lum > 0.45 else QColor("#ffffff")


class _HeatMap(QWidget):
    """The painted grid; the owner (ConfusionMatrixView) holds the data."""

    def __init__(self, owner: "ConfusionMatrixView"):
        super().__init__(owner)
        self.owner = owner
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(220, 200)
        self.setAccessibleName("Confusion matrix")
        self.setToolTip("Rows: true class. Columns: predicted class. Click a cell to see its "
                        "examples (arrow keys and Enter work too).")

    def sizeHint(self) -> QSize:
        return QSize(380, 360)

    # --- geometry --------------------------------------------------------------------------
    def _label_width(self, fm: QFontMetrics) -> int:
        names = self.owner.class_names or ["0"]
        return max(fm.horizontalAdvance(n) for n in names) + 8

    def grid_rect(self) -> QRectF:
        fm = QFontMetrics(self.font())
        c = max(1, self.owner.num_classes)
        left = fm.height() + 6 + self._label_width(fm)      # axis title + class names
        top = fm.height() + 4 + fm.height() + 4             # axis title + class names
        side = max(10.0, min(self.width() - left - 6, self.height() - top - 6))
        cell = side / c
        return QRectF(left, top, cell * c, cell * c)

    def cell_rect(self, i: int, j: int) -> QRectF:
        g = self.grid_rect()
        c = max(1, self.owner.num_classes)
        s = g.width() / c
        return QRectF(g.left() + j * s, g.top() + i * s, s, s)

    def cell_at(self, pos) -> tuple[int, int] | None:
        g = self.grid_rect()
        c = self.owner.num_classes
        if c == 0 or not g.contains(QPointF(pos)):
            return None
        s = g.width() / c
        j = int((pos.x() - g.left()) // s)
        i = int((pos.y() - g.top()) // s)
        if 0 <= i < c and 0 <= j < c:
            return i, j
        return None

    # --- painting --------------------------------------------------------------------------
    def paintEvent(self, event):
        o = self.owner
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        text_color = self.palette().color(self.foregroundRole())
        fm = QFontMetrics(self.font())
        if o.cm is None:
            p.setPen(text_color)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, o.empty_text)
            p.end()
            return
        c = o.num_classes
        g = self.grid_rect()
        s = g.width() / c
        vmax = o.vmax()
        # axis titles
        p.setPen(text_color)
        bold = QFont(self.font())
        bold.setWeight(QFont.Weight.DemiBold)
        p.setFont(bold)
        p.drawText(QRectF(g.left(), 0, g.width(), fm.height() + 2),
                   Qt.AlignmentFlag.AlignCenter, "predicted class →")
        p.save()
        p.translate(fm.height() / 2 + 2, g.center().y())
        p.rotate(-90)
        p.drawText(QRectF(-g.height() / 2, -fm.height() / 2, g.height(), fm.height()),
                   Qt.AlignmentFlag.AlignCenter, "← true class")
        p.restore()
        p.setFont(self.font())
        for k, name in enumerate(o.class_names):
            p.drawText(QRectF(g.left() + k * s, fm.height() + 4, s, fm.height()),
                       Qt.AlignmentFlag.AlignCenter, _elide(fm, name, s))
            p.drawText(QRectF(fm.height() + 4, g.top() + k * s, self._label_width(fm) - 4, s),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, name)
        # cells: colour by count, the count always printed
        mono = mono_font()
        mfm = QFontMetrics(mono)
        widest = mfm.horizontalAdvance(str(int(o.cm.max())))
        if widest > s - 4 and mono.pointSizeF() > 0:
            mono.setPointSizeF(max(6.0, mono.pointSizeF() * (s - 4) / widest))
        p.setFont(mono)
        for i in range(c):
            for j in range(c):
                r = self.cell_rect(i, j)
                color = sequential_color(float(o.cm[i, j]), 0.0, float(vmax))
                p.fillRect(r, color)
                p.setPen(_text_on(color))
                weight = QFont.Weight.Bold if i == j else QFont.Weight.Normal
                mono.setWeight(weight)
                p.setFont(mono)
                p.drawText(r, Qt.AlignmentFlag.AlignCenter, str(int(o.cm[i, j])))
        p.setPen(QPen(QColor("#ffffff"), 1))
        for k in range(c + 1):
            p.drawLine(QPointF(g.left() + k * s, g.top()), QPointF(g.left() + k * s, g.bottom()))
            p.drawLine(QPointF(g.left(), g.top() + k * s), QPointF(g.right(), g.top() + k * s))
        if o.selected is not None:
            pen = QPen(SELECT_COLOR, 3)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(self.cell_rect(*o.selected).adjusted(1.5, 1.5, -1.5, -1.5))
        if self.hasFocus() and o.cursor is not None and o.cursor != o.selected:
            p.setPen(QPen(text_color, 1.5, Qt.PenStyle.DashLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(self.cell_rect(*o.cursor).adjusted(2, 2, -2, -2))
        p.end()

    # --- interaction -----------------------------------------------------------------------
    def mouseMoveEvent(self, event):
        cell = self.cell_at(event.position())
        if cell is None:
            QToolTip.hideText()
            return
        QToolTip.showText(event.globalPosition().toPoint(), self.owner.cell_text(*cell), self)

    def mousePressEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton:
            cell = self.cell_at(event.position())
            if cell is not None:
                self.owner.select_cell(*cell)
                return
        super().mousePressEvent(event)

    def keyPressEvent(self, event):
        o = self.owner
        if o.cm is None:
            return super().keyPressEvent(event)
        i, j = o.cursor or o.selected or (0, 0)
        moves = {Qt.Key.Key_Left: (0, -1), Qt.Key.Key_Right: (0, 1), Qt.Key.Key_Up: (-1, 0),
                 Qt.Key.Key_Down: (1, 0)}
        key = event.key()
        if key in moves:
            di, dj = moves[key]
            c = o.num_classes
            o.cursor = (min(c - 1, max(0, i + di)), min(c - 1, max(0, j + dj)))
            self.setAccessibleDescription(o.cell_text(*o.cursor))
            self.update()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            o.select_cell(i, j)
            return
        super().keyPressEvent(event)


def _elide(fm: QFontMetrics, text: str, width: float) -> str:
    return fm.elidedText(text, Qt.TextElideMode.ElideRight, int(max(8, width)))


class ConfusionMatrixView(QWidget):
    """Heat map of a confusion matrix and its legend.

    cell_selected(true_class, predicted_class, indices) — the indices (into y_true) of the
    examples in the clicked cell, ascending.
    """

    cell_selected = Signal(int, int, object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.cm: np.ndarray | None = None
        self.class_names: list[str] = []
        self.y_true: np.ndarray | None = None
        self.y_pred: np.ndarray | None = None
        self.selected: tuple[int, int] | None = None
        self.cursor: tuple[int, int] | None = None
        self.empty_text = "No predictions yet"
        self.heat = _HeatMap(self)
        self.legend = ColorLegend("sequential", 0, 1, label="examples in a cell")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        lay.addWidget(self.heat, 1)
        lay.addWidget(self.legend, 0, Qt.AlignmentFlag.AlignHCenter)

    @property
    def num_classes(self) -> int:
        return 0 if self.cm is None else int(self.cm.shape[0])

    def set_data(self, y_true, y_pred, class_names) -> None:
        """Counts of (true, predicted) pairs; the selection is kept if it still fits."""
        names = [str(n) for n in class_names]
        self.y_true = metrics.to_class_ids(y_true)
        self.y_pred = metrics.to_class_ids(y_pred)
        self.cm = metrics.confusion_matrix(self.y_true, self.y_pred, num_classes=len(names))
        self.class_names = names
        if self.selected is not None and max(self.selected) >= len(names):
            self.selected = None
        self.legend.set_range(0, self.vmax())
        total = int(self.cm.sum())
        right = int(np.trace(self.cm))
        self.heat.setAccessibleDescription(
            f"{len(names)} by {len(names)} confusion matrix of {total} examples, {right} on the "
            "diagonal (predicted right)")
        self.heat.update()

    def clear(self, text: str = "No predictions yet") -> None:
        self.cm = None
        self.y_true = self.y_pred = None
        self.selected = self.cursor = None
        self.empty_text = text
        self.heat.update()

    def vmax(self) -> int:
        """Top of the colour scale: the largest count rounded up to a multiple of 4, so the
        legend's five ticks are whole numbers."""
        top = max(1, int(self.cm.max())) if self.cm is not None else 1
        return 4 * -(-top // 4)

    def count(self, i: int, j: int) -> int:
        return int(self.cm[i, j])

    def cell_text(self, i: int, j: int) -> str:
        """The cell in words, with the count and its share of the true class."""
        n = int(self.cm[i, j])
        row = int(self.cm[i].sum())
        t, q = self.class_names[i], self.class_names[j]
        what = (f"true {t}, predicted {q}: right" if i == j
                else f"true {t}, predicted {q}: wrong")
        share = f"{n}/{row} = {fmt(n / row)} of all true {t}" if row else "no true " + t
        return f"{what}\n{n} example{'s' if n != 1 else ''} ({share})\nclick to list them"

    def cell_rect(self, i: int, j: int) -> QRectF:
        """The cell's rectangle in the heat map's coordinates (for tests and overlays)."""
        return self.heat.cell_rect(i, j)

    def examples(self, i: int, j: int) -> np.ndarray:
        return cell_indices(self.y_true, self.y_pred, i, j)

    def select_cell(self, i: int, j: int) -> None:
        if self.cm is None:
            return
        if not (0 <= i < self.num_classes and 0 <= j < self.num_classes):
            raise ValueError(f"no cell ({i}, {j}) in a {self.num_classes}×{self.num_classes} matrix")
        self.selected = self.cursor = (int(i), int(j))
        self.heat.update()
        self.cell_selected.emit(int(i), int(j), self.examples(i, j))

    def clear_selection(self) -> None:
        self.selected = None
        self.heat.update()


def thumbnail(image: np.ndarray, size: int = 56) -> QPixmap:
    """A (H, W) / (H, W, 1) image in [0, 1] on the app's sequential scale, scaled up crisply."""
    a = np.asarray(image, dtype=np.float32)
    if a.ndim == 3:
        a = a[..., 0]
    img = rgba_qimage(sequential_rgba(a, 0.0, 1.0))                  # (H, W, 4) uint8
    return QPixmap.fromImage(img).scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                                         Qt.TransformationMode.FastTransformation)


class CellExamples(QWidget):
    """The examples of one confusion-matrix cell: image thumbnails or table rows.

    `set_images(images)` or `set_table(columns, rows)` says what an example looks like;
    `show_cell(i, j, indices, notes=None)` lists those examples (notes: one short string per
    example, e.g. the model's score).
    """

    MAX_SHOWN = 400

    def __init__(self, parent=None):
        super().__init__(parent)
        self._images = None
        self._columns: list[str] = []
        self._rows = None
        self._class_names: list[str] = []
        self._indices = np.zeros(0, np.int64)
        self.title = QLabel("Click a cell of the confusion matrix to see its examples.")
        self.title.setWordWrap(True)
        self.title.setAccessibleName("Cell examples title")
        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(56, 56))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setUniformItemSizes(True)
        self.list.setSpacing(4)
        self.list.setFont(mono_font())
        self.list.setAccessibleName("Examples in the selected cell")
        self.list.setToolTip("The held-out examples in the selected cell; hover one for its "
                             "number and score")
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.table.setAlternatingRowColors(True)
        self.table.setFont(mono_font())
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        self.table.setAccessibleName("Examples in the selected cell")
        self.table.setToolTip("The held-out examples in the selected cell, one row each")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.list)
        self.stack.addWidget(self.table)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        lay.addWidget(self.title)
        lay.addWidget(self.stack, 1)

    def set_class_names(self, names) -> None:
        self._class_names = [str(n) for n in names]

    def set_images(self, images) -> None:
        self._images, self._rows = images, None
        self.stack.setCurrentWidget(self.list)
        self.clear()

    def set_table(self, columns, rows) -> None:
        """`rows` (N, len(columns)) numbers describing each example (e.g. raw measurements)."""
        self._images = None
        self._columns = [str(c) for c in columns]
        self._rows = np.asarray(rows)
        self.stack.setCurrentWidget(self.table)
        self.clear()

    def clear(self, text: str | None = None) -> None:
        self._indices = np.zeros(0, np.int64)
        self.list.clear()
        self.table.setRowCount(0)
        self.title.setText(text or "Click a cell of the confusion matrix to see its examples.")

    def indices(self) -> list[int]:
        """The examples listed now (indices into the evaluated set)."""
        return [int(k) for k in self._indices]

    def show_cell(self, i: int, j: int, indices, notes=None) -> None:
        idx = np.asarray(indices, dtype=np.int64)
        self._indices = idx
        names = self._class_names or [str(k) for k in range(max(i, j) + 1)]
        t, q = names[i], names[j]
        verdict = "right" if i == j else "wrong"
        shown = idx[: self.MAX_SHOWN]
        more = f" (first {len(shown)} shown)" if len(shown) < len(idx) else ""
        self.title.setText(f"<b>True {t}, predicted {q}</b> ({verdict}): {len(idx)} "
                           f"example{'s' if len(idx) != 1 else ''}{more}")
        self.title.setAccessibleDescription(self.title.text())
        if self._rows is not None:
            self._fill_table(shown, t, q, notes)
        else:
            self._fill_list(shown, t, q, notes)

    def _fill_list(self, idx, t, q, notes) -> None:
        self.list.setUpdatesEnabled(False)
        self.list.clear()
        for n, k in enumerate(idx):
            item = QListWidgetItem(f"#{k}")
            if self._images is not None:
                item.setIcon(QIcon(thumbnail(self._images[k])))
            note = notes[n] if notes is not None else ""
            item.setToolTip(f"example #{k}: true {t}, predicted {q}" + (f"\n{note}" if note else ""))
            item.setData(Qt.ItemDataRole.UserRole, int(k))
            self.list.addItem(item)
        self.list.setUpdatesEnabled(True)

    def _fill_table(self, idx, t, q, notes) -> None:
        # true and predicted class are the same for every row: the title says them
        cols = ["#"] + (["score"] if notes is not None else []) + self._columns
        self.table.setColumnCount(len(cols))
        self.table.setHorizontalHeaderLabels(cols)
        self.table.setRowCount(len(idx))
        for r, k in enumerate(idx):
            cells = [str(int(k))] + ([str(notes[r])] if notes is not None else [])
            cells += [fmt(v) for v in self._rows[k]]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, int(k))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip(f"example #{k}: true {t}, predicted {q}")
                self.table.setItem(r, c, item)
