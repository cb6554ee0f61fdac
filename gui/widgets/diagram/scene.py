"""The diagram's QGraphicsScene: geometry built once per model, recoloured on each frame.

`build()` places columns left to right (the input, each Dense with its activation, dropout,
conv/pool blocks, the loss) and creates every item; `select_edges` picks the K strongest
weights per layer; `render(view)` (diagram_render.FrameRenderer) only changes brushes,
pens, texts and opacities. Nothing is created or destroyed while a step is animated.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QGuiApplication, QPen, QTransform
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene

from gui.widgets.diagram import items as di
from gui.widgets.colors import BACKWARD_COLOR
from gui.widgets.diagram.layout import Column, source_units, top_edges
from gui.widgets.diagram.render import UNKNOWN_PEN, FrameRenderer, View  # noqa: F401 (re-exported)
from gui.widgets.numbers import mono_font

MAX_SPACING = 112.0     # node centres never further apart than this (pixels)
IMAGE_SIDE = 224.0      # the input image at most this big
IMAGE_MIN = 60.0        # … and, in a narrow view, at least this big
BLOCK_W, BLOCK_H = 136.0, 300.0
GAP_MIN = {"dense": 40.0, "plain": 24.0}        # room between columns, at least …
GAP_MAX = {"dense": 330.0, "plain": 150.0}      # … and at most (a wide window stays tidy)
LOSS_W = 130.0          # the loss box at most this wide (narrower when its words fit)
HEADER_GAP = 10.0       # room between two columns' headers
COLLECTOR = 24.0        # the line gathering the outputs, this far left of the loss box
COMPACT_VIEW = 300.0    # views shorter than this get one-line column headers
LABEL_EVERY_EDGE = 16   # a layer with at most this many weights gets a number on each


class DiagramScene(FrameRenderer, QGraphicsScene):
    """Laid out in pixels for the view's size, so text is always drawn at its real size.

    The widget rebuilds the scene when the view is resized (a few ms); only when even the
    tightest layout does not fit does the view shrink it.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.columns: list[Column] = []
        self.on_hover = None        # callable(key or None)
        self.on_click = None        # callable(key, QPointF) -> bool
        self.font = QFont(QGuiApplication.font())
        self.bold = QFont(self.font)
        self.bold.setBold(True)
        self.mono = mono_font()
        self.line = QFontMetrics(self.font).lineSpacing()
        self.edge_vmax = 1.0
        self.act_range = (0.0, 1.0)
        self.edge_values: dict[int, tuple] = {}     # column → (src ids, dst ids, values)

    # --- item callbacks -----------------------------------------------------------------
    def item_hovered(self, key, item) -> None:
        if self.on_hover is not None:
            self.on_hover(key, item)

    def item_clicked(self, key, pos) -> bool:
        return bool(self.on_click and self.on_click(key, pos))

    # --- building ---------------------------------------------------------------------------
    def build(self, columns: list[Column], input_names=None, output_names=None,
              size: QSizeF | None = None) -> None:
        """Create every item, laid out to fill `size` (the view's viewport) if it can."""
        self.clear()
        self.text_items: list = []      # every label of this layout (see items.text_item)
        self.columns = columns
        self.nodes: dict[int, dict] = {}
        self.biases: dict[int, dict[int, di.BiasItem]] = {}
        self.lanes: list[di.LaneItem] = []
        self.edge_pool: dict[int, list[di.EdgeItem]] = {}
        self.edge_layers: dict[int, di.EdgeLayerItem] = {}
        self.edge_lines: dict[int, list] = {}
        self._sig: dict = {}
        self.edge_labels: dict[int, list] = {}
        self.grad_texts: dict[int, dict[int, object]] = {}
        self.out_labels: dict[int, object] = {}
        self.images: dict[int, di.PixelImageItem] = {}
        self.blocks: dict[int, di.BoxItem] = {}
        self.thumbs: dict[int, list] = {}
        self.connectors: dict[int, list] = {}
        self._selected_edges: dict[int, tuple] = {}
        self.input_names = list(input_names or [])
        self.output_names = list(output_names or [])
        size = size if size is not None and size.width() > 50 else QSizeF(1000, 460)
        line = self.line
        # a short view keeps only the titles (subtitles become their tooltips)
        self.compact = size.height() < COMPACT_VIEW
        self.header_h = (line + 8) if self.compact else (3 * line + 10)
        self.footer_h = line + 10               # "+N more"
        self.avail = max(120.0, size.height() - self.header_h - self.footer_h - 30)
        self.head_w = [self._header_width(c) for c in columns]
        # output labels say "◀ predicted  ✓ label" in full where there is room, else
        # "◀✓": shorter labels keep the text full size instead of shrinking the whole view
        self._measure_sides(short=False)
        if self._min_width(columns) > size.width():
            self._measure_sides(short=True)
        xs, widths = self._column_x(columns, size.width())
        self.col_x, self.col_w = xs, widths
        self.top = top = -self.avail / 2 - self.header_h
        grad_w = QFontMetrics(self.mono).horizontalAdvance("∂L/∂z = -0.0001234") + 8
        for col, x, w in zip(columns, xs, widths):
            if col.has_nodes and self._radius(col)[1] >= 19:
                w = max(w, grad_w - 24)        # the band holds the gradients under the nodes
            lane = di.LaneItem(QRectF(x - w / 2 - 12, top - 4, w + 24,
                                      self.header_h + self.avail + self.footer_h + 8))
            self.addItem(lane)
            self.lanes.append(lane)
            sub = (col.subtitle.replace(" → ", "\n→ ") if col.kind == "block"
                   else col.subtitle.replace(" · ", "\n"))
            self._header(col.title, sub, x)
            if col.kind == "image":
                self._build_image(col, x)
            elif col.kind == "block":
                self._build_block(col, x)
            else:
                self._build_nodes(col, x)
        self._build_connections()
        self._build_outputs_and_loss()
        self.setSceneRect(self.itemsBoundingRect().adjusted(-8, -6, 8, 6))

    def _header_width(self, col: Column) -> float:
        sub = (col.subtitle.replace(" → ", "\n→ ") if col.kind == "block"
               else col.subtitle.replace(" · ", "\n"))
        fm = QFontMetrics(self.font)
        return max([QFontMetrics(self.bold).horizontalAdvance(col.title)]
                   + [fm.horizontalAdvance(line) for line in sub.split("\n")])

    def _min_gaps(self, columns, widths) -> list[float]:
        """Room between neighbouring columns: at least GAP_MIN, and enough that their
        headers (wider than the nodes) never touch."""
        gaps = []
        for k in range(1, len(columns)):
            kind = "dense" if columns[k].kind == "dense" else "plain"
            a = max(self.head_w[k - 1], widths[k - 1])
            b = max(self.head_w[k], widths[k])
            need = (a + b) / 2 + HEADER_GAP - (widths[k - 1] + widths[k]) / 2
            gaps.append(max(GAP_MIN[kind], need))
        return gaps

    def _min_width(self, columns) -> float:
        """The narrowest this network lays out at full size (pictures at their smallest)."""
        widths = [IMAGE_MIN if c.kind == "image" else 96.0 if c.kind == "block"
                  else 2 * self._radius(c)[1] + 16 for c in columns]
        return 40 + self.left_w + self.right_w + sum(widths) + sum(self._min_gaps(columns,
                                                                              widths))

    def _header(self, title: str, subtitle: str, x: float):
        t = di.text_item(self, title, self.bold)
        di.place(t, x, self.top + self.line / 2 + 2)
        t.setToolTip(f"{title}: {subtitle}".replace("\n", " "))
        s = di.text_item(self, subtitle, self.font, di.MUTED_COLOR)
        di.place(s, x, self.top + self.line + 4 + s.boundingRect().height() / 2)
        s.setVisible(not self.compact)
        return t, s

    def _measure_sides(self, short: bool = False) -> None:
        """Room for the input names on the left and the output labels + loss on the right."""
        fm, bold = QFontMetrics(self.font), QFontMetrics(self.bold)
        first, last = self.columns[0], self.columns[-1]
        names = [self.input_names[u] if u < len(self.input_names) else f"x{u + 1}"
                 for u in range(first.units)] if first.kind == "input" else []
        self.left_w = (max(fm.horizontalAdvance(n) for n in names) + 10) if names else 0.0
        longest = max([len(n) for n in self.output_names] + [2])
        #: several outputs of softmax / sigmoid are probabilities: written as percentages
        self.out_percent = last.units > 1 and last.activation in ("softmax", "sigmoid")
        self.short_out = short
        value = "  100.00 %" if self.out_percent else "  -0.0001234"
        marks = " ◀✓" if short else "  ◀ predicted  ✓ label"
        sample = ("W" * longest + value + marks if last.units > 1
                  # targets of one-output networks are 0/1 labels or short numbers: a
                  # worst-case target here starved the gaps where the edge numbers sit
                  else "ŷ = -0.0001234  (y = -0.5)")
        self.out_w = bold.horizontalAdvance(sample) if last.has_nodes else 0.0
        # rows closer than a line of text: labels alternate between two columns, short marks
        self.out_step = 0.0
        if last.has_nodes and last.units > 1:
            slots = len(last.shown) + (1 if last.hidden_units else 0)
            if min(MAX_SPACING, self.avail / max(slots, 1)) < self.line + 1:
                self.out_step = QFontMetrics(self.mono).horizontalAdvance(
                    "W" * longest + "  0.000123") + 12
                self.out_w = 2 * self.out_step
        self.loss_w = min(LOSS_W, max(
            QFontMetrics(self.mono).horizontalAdvance("L = 0.01234") + 16,
            fm.horizontalAdvance("cross-entropy" if short else "sparse categorical") + 12))
        self.right_w = self.out_w + COLLECTOR + 16 + self.loss_w

    def _radius(self, col: Column) -> tuple[float, float]:
        """(spacing between node centres, node radius) of a column of nodes."""
        slots = len(col.shown) + (1 if col.hidden_units else 0)
        spacing = min(MAX_SPACING, self.avail / max(slots, 1))
        return spacing, float(np.clip(spacing * 0.34, 5.0, 30.0))

    def _image_side(self) -> float:
        return self.image_side

    def _block_size(self) -> tuple[float, float]:
        return self.block_w, max(120.0, min(BLOCK_H, self.avail))

    def _column_x(self, columns, width: float):
        kinds = ["dense" if c.kind == "dense" else "plain" for c in columns[1:]]
        min_w = [IMAGE_MIN if c.kind == "image" else 96.0 if c.kind == "block"
                 else 2 * self._radius(c)[1] + 16 for c in columns]
        gap_min = self._min_gaps(columns, min_w)
        nodes_w = sum(2 * self._radius(c)[1] + 16 for c in columns if c.has_nodes)
        n_img = sum(c.kind == "image" for c in columns)
        n_blk = sum(c.kind == "block" for c in columns)
        self.image_side = max(56.0, min(IMAGE_SIDE, self.avail))
        self.block_w = BLOCK_W
        # a long network (conv, pool, flatten, …) narrows its pictures before anything shrinks
        fixed = 24 + self.left_w + self.right_w + nodes_w + sum(gap_min)
        over = fixed + n_img * self.image_side + n_blk * self.block_w - width
        if over > 0 and (n_img or n_blk):
            img_room = n_img * (self.image_side - IMAGE_MIN)
            blk_room = n_blk * (self.block_w - 96.0)
            share = min(1.0, over / max(img_room + blk_room, 1e-9))
            self.image_side -= share * (self.image_side - IMAGE_MIN)
            self.block_w -= share * (self.block_w - 96.0)
        widths = []
        for col in columns:
            if col.kind == "image":
                widths.append(self.image_side)
            elif col.kind == "block":
                widths.append(self.block_w)
            else:
                widths.append(2 * self._radius(col)[1] + 16)
        spare = width - 40 - self.left_w - self.right_w - sum(widths)
        weight = sum(2.0 if k == "dense" else 1.0 for k in kinds) or 1.0
        gaps = [float(np.clip(spare * (2.0 if k == "dense" else 1.0) / weight,
                              lo, max(lo, GAP_MAX[k]))) for k, lo in zip(kinds, gap_min)]
        xs, x = [], self.left_w + widths[0] / 2
        for k, w in enumerate(widths):
            if k:
                x += widths[k - 1] / 2 + gaps[k - 1] + w / 2
            xs.append(x)
        return xs, widths

    def _build_nodes(self, col: Column, x: float) -> None:
        spacing, r = self._radius(col)
        n = len(col.shown) + (1 if col.hidden_units else 0)
        y0 = -(n - 1) * spacing / 2
        show_text = r >= 19
        # the gradient goes under its node only where the next node leaves a line of room
        show_grad = show_text and spacing - 2 * r >= self.line + 2
        self.nodes[col.index], self.biases[col.index] = {}, {}
        self.grad_texts[col.index] = {}
        for slot, unit in enumerate(col.shown.tolist()):
            c = QPointF(x, y0 + slot * spacing)
            node = di.NodeItem(("node", col.index, unit), c, r, self.mono, show_text)
            self.addItem(node)
            self.nodes[col.index][unit] = node
            if col.kind == "dense":
                b = di.BiasItem(("bias", col.index, unit), c, r)
                self.addItem(b)
                self.biases[col.index][unit] = b
            if show_grad:
                g = di.text_item(self, "", self.mono, BACKWARD_COLOR)
                g.setPos(c.x(), c.y() + r + 2)
                self.grad_texts[col.index][unit] = g
            if col.kind == "input" and len(col.shown) == col.units:
                name = self.input_names[unit] if unit < len(self.input_names) else f"x{unit + 1}"
                di.place(di.text_item(self, name, self.font), x - r - 6, c.y(), "right")
        if col.hidden_units:
            more = di.text_item(self, f"+{col.hidden_units} more", self.font, di.MUTED_COLOR)
            di.place(more, x, y0 + (n - 1) * spacing)
            more.setToolTip(f"{col.units} units in all; the {len(col.shown)} with the "
                            "strongest weights are drawn (change it with 'units shown')")
            self.nodes[col.index]["more"] = more

    def _build_image(self, col: Column, x: float) -> None:
        h, w, _ = col.image_shape
        side = self._image_side()
        rw, rh = (side, side * h / w) if w >= h else (side * w / h, side)
        rect = QRectF(x - rw / 2, -rh / 2, rw, rh)
        item = di.PixelImageItem(col.index, col.image_shape, rect)
        item.setTransform(QTransform.fromScale(rw / w, rh / h))
        self.addItem(item)
        frame = self.addRect(rect, QPen(di.OUTLINE_COLOR, 1.0))
        frame.setZValue(2.2)
        self.images[col.index] = item

    def _build_block(self, col: Column, x: float) -> None:
        bw, bh = self._block_size()
        rect = QRectF(x - bw / 2, -bh / 2, bw, bh)
        box = di.BoxItem(("block", col.index), rect, self.font)
        self.addItem(box)
        self.blocks[col.index] = box
        h, w, c = (tuple(col.shape) + (1, 1, 1))[:3]
        box.set_text(f"{c} map{'s' if c != 1 else ''} {h}×{w}", top=True)
        head = self.line + 14
        room = bh - head - self.line - 8
        rows = max(1, min(-(-c // 2), int(room // 34)))        # as many maps as fit
        side = max(8.0, min(54.0, room / rows - 10, (bw - 36) / 2))
        thumbs, n = [], min(c, 2 * rows)
        for m in range(n):
            item = QGraphicsPixmapItem(box)
            item.setTransformationMode(Qt.TransformationMode.FastTransformation)
            item.setPos(rect.center().x() - side - 5 + (m % 2) * (side + 10),
                        rect.top() + head + (m // 2) * (side + 10))
            item.setTransform(QTransform.fromScale(side / max(w, 1), side / max(h, 1)))
            thumbs.append(item)
        if c > n:
            more = di.text_item(self, f"+{c - n} more", self.font, di.MUTED_COLOR)
            di.place(more, x, rect.bottom() - self.line / 2 - 4)
        self.thumbs[col.index] = thumbs

    def _anchor(self, k: int, unit: int, side: str) -> QPointF:
        col = self.columns[k]
        if col.kind == "image":
            return self.images[k].pixel_center(unit)
        node = self.nodes[k][unit]
        dx = node.radius if side == "right" else -node.radius
        return QPointF(node.center.x() + dx, node.center.y())

    def _build_connections(self) -> None:
        for k in range(1, len(self.columns)):
            col, prev = self.columns[k], self.columns[k - 1]
            if col.kind == "dense":
                self.edge_pool[k] = []
                self.edge_layers[k] = di.EdgeLayerItem()
                self.addItem(self.edge_layers[k])
                n_cand = len(source_units(self.columns, k)) * len(col.shown)
                if n_cand <= LABEL_EVERY_EDGE:
                    self.edge_labels[k] = []
                continue
            lines = []
            if col.has_nodes and prev.has_nodes and col.units == prev.units:
                for u in col.shown.tolist():
                    lines.append(self.addLine(QLineF(self._anchor(k - 1, u, "right"),
                                                     self._anchor(k, u, "left")),
                                              QPen(QColor("#aab0b8"), 1.2)))
            else:   # blocks and reshapes: one arrow says "the whole thing goes on"
                x0 = self.col_x[k - 1] + self.col_w[k - 1] / 2 + 8
                x1 = self.col_x[k] - self.col_w[k] / 2 - 8
                pen = QPen(QColor("#8a939f"), 2.0)
                lines.append(self.addLine(QLineF(x0, 0, x1, 0), pen))
                lines.append(self.addLine(QLineF(x1 - 10, -6, x1, 0), pen))
                lines.append(self.addLine(QLineF(x1 - 10, 6, x1, 0), pen))
            for ln in lines:
                ln.setZValue(0)
            self.connectors[k] = lines

    def _build_outputs_and_loss(self) -> None:
        last = self.columns[-1]
        x = self.col_x[-1] + self.col_w[-1] / 2 + 2
        if last.has_nodes:
            units = [u for u in self.nodes[last.index] if u != "more"]
            for slot, unit in enumerate(units):
                t = di.text_item(self, "", self.mono)
                t.setPos(x + (slot % 2) * self.out_step, self.nodes[last.index][unit].center.y())
                self.out_labels[unit] = t
        lx = x + self.out_w + COLLECTOR + 16
        h = 2 * self.line + 8
        rect = QRectF(lx, -h / 2, self.loss_w, h)
        self.loss_box = di.BoxItem(("loss",), rect, self.mono)
        self.addItem(self.loss_box)
        pen = QPen(QColor("#8a939f"), 2.0)
        self.loss_arrow = self.addLine(QLineF(lx - COLLECTOR, 0, lx - 4, 0), pen)
        # every output feeds the loss: a line from each output (after its label) to a
        # collector, and from there the arrow into the box
        self.loss_feeds: dict[int, object] = {}
        cx = lx - COLLECTOR
        if last.has_nodes:
            ys = [self.nodes[last.index][u].center.y() for u in self.out_labels] + [0.0]
            self.addLine(QLineF(cx, min(ys), cx, max(ys)), QPen(QColor("#8a939f"), 1.2))
            for unit in self.out_labels:
                node = self.nodes[last.index][unit]
                y = node.center.y()
                feed = self.addLine(QLineF(node.center.x() + node.radius, y, cx, y),
                                    QPen(QColor("#b8bec6"), 1.0))
                feed.setZValue(0)
                self.loss_feeds[unit] = feed
        # the widest name is laid out now, so the scene rect leaves room for any loss
        widest = ("sparse\ncategorical\ncross-entropy" if self.short_out
                  else "sparse categorical\ncross-entropy")
        _, self.loss_subtitle = self._header("loss", widest,
                                             rect.center().x())
        self.loss_subtitle_top = self.top + self.line + 4

    # --- edges -------------------------------------------------------------------------------
    def output_name(self, unit: int) -> str:
        if unit < len(self.output_names):
            return str(self.output_names[unit])
        return "ŷ" if self.columns[-1].units == 1 else str(unit)

    def edge_matrix(self, view: View, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        """(source ids, target ids, values over src×dst, known) for what column k's edges encode."""
        col, snap = self.columns[k], view.snap
        src, dst = source_units(self.columns, k), col.shown
        params = snap.params_after if view.after and snap.params_after else snap.params
        w = params[col.param_layer]["kernel"][np.ix_(src, dst)]                     # (S, D)
        if view.mode == "gradient":
            g = snap.grads.get(col.param_layer)
            if g is None:
                return src, dst, np.zeros_like(w), False
            return src, dst, g["kernel"][np.ix_(src, dst)], view.grads_known(k)
        if view.mode == "contribution" and snap.has_values:
            x = snap.values[k - 1][src].astype(np.float32)
            return src, dst, x[:, None] * w, view.values_known(k)
        return src, dst, w, True

    def select_edges(self, view: View) -> None:
        """The strongest K edges of every dense column, and one colour range for them all."""
        vmax = 0.0
        self.edge_values = {}
        for k in self.edge_pool:
            src, dst, m, known = self.edge_matrix(view, k)
            rows, cols = top_edges(m, view.max_edges)
            vals = m[rows, cols]
            self.edge_values[k] = (src[rows], dst[cols], vals, known)
            if vals.size:
                vmax = max(vmax, float(np.nanmax(np.abs(vals))))
        self.edge_vmax = vmax if vmax > 0 else 1.0

    def _ensure_pool(self, k: int, n: int) -> list[di.EdgeItem]:
        pool = self.edge_pool[k]
        while len(pool) < n:
            e = di.EdgeItem()
            self.addItem(e)
            pool.append(e)
        return pool
