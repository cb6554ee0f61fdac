"""The diagram's QGraphicsScene: geometry built once per model, recoloured on each frame.

`build()` places columns left to right (the input, each Dense with its activation, dropout,
conv/pool blocks, the loss) and creates every item; `select_edges` picks the K strongest
weights per layer; `render(view)` (diagram_render.FrameRenderer) only changes brushes,
pens, texts and opacities. Nothing is created or destroyed while a step is animated.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QGuiApplication, QPen, QTransform
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene

from gui.widgets import diagram_items as di
from gui.widgets.colors import BACKWARD_COLOR
from gui.widgets.diagram_layout import Column, source_units, top_edges
from gui.widgets.diagram_render import UNKNOWN_PEN, FrameRenderer, View  # noqa: F401 (re-exported)
from gui.widgets.numbers import mono_font

HEIGHT = 380.0          # vertical extent of the node columns, in scene units
GAP_EDGES = 220.0       # room between columns joined by weights
GAP_PLAIN = 110.0
IMAGE_SIDE = 224.0
BLOCK_W, BLOCK_H = 150.0, 300.0
#: scene text is drawn this much larger than the application font, because a whole
#: network fitted into a lesson is shown at roughly 0.8× scale
TEXT_SCALE = 1.25
#: labels of a shrunken scene are enlarged at most this much (more would make them collide)
MAX_TEXT_ZOOM = 1.4
LABEL_EVERY_EDGE = 16   # a layer with at most this many weights gets a number on each


class DiagramScene(FrameRenderer, QGraphicsScene):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.columns: list[Column] = []
        self.on_hover = None        # callable(key or None)
        self.on_click = None        # callable(key, QPointF) -> bool
        base = QFont(QGuiApplication.font())
        base.setPointSizeF(base.pointSizeF() * TEXT_SCALE)
        self.font = QFont(base)
        self.bold = QFont(base)
        self.bold.setBold(True)
        self.mono = mono_font(base.pointSizeF())
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
    def build(self, columns: list[Column], input_names=None, output_names=None) -> None:
        self.clear()
        self.columns = columns
        self.nodes: dict[int, dict[int, di.NodeItem]] = {}
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
        self.labels: list = []          # texts kept readable when the view shrinks the scene
        self.text_zoom = 1.0
        self.input_names = list(input_names or [])
        self.output_names = list(output_names or [])
        xs, widths = self._column_x(columns)
        self.col_x, self.col_w = xs, widths
        top = -HEIGHT / 2 - 70
        for col, x, w in zip(columns, xs, widths):
            lane = di.LaneItem(QRectF(x - w / 2 - 16, top - 8, w + 32, HEIGHT + 112))
            self.addItem(lane)
            self.lanes.append(lane)
            t = di.text_item(self, col.title, self.bold)
            di.place(t, x, top + 6)
            sub = col.subtitle.replace(" → ", "\n→ ") if col.kind == "block" else col.subtitle
            s = di.text_item(self, sub, self.font, di.MUTED_COLOR)
            di.place(s, x, top + 24 + s.boundingRect().height() / 2)
            self.labels += [t, s]
            if col.kind == "image":
                self._build_image(col, x)
            elif col.kind == "block":
                self._build_block(col, x)
            else:
                self._build_nodes(col, x)
        self._build_connections()
        self._build_outputs_and_loss()
        # the rect leaves room for labels enlarged to their largest, so none is ever cut off
        self.text_zoom = 0.0
        self.set_text_zoom(MAX_TEXT_ZOOM)
        self.setSceneRect(self.itemsBoundingRect().adjusted(-14, -10, 14, 10))
        self.set_text_zoom(1.0)

    def _radius(self, col: Column) -> tuple[float, float]:
        slots = len(col.shown) + (1 if col.hidden_units else 0)
        spacing = min(112.0, HEIGHT / max(slots, 1))
        return spacing, float(np.clip(spacing * 0.34, 7.0, 32.0))

    def _column_x(self, columns):
        widths = []
        for col in columns:
            if col.kind == "image":
                widths.append(IMAGE_SIDE)
            elif col.kind == "block":
                widths.append(BLOCK_W)
            else:
                widths.append(2 * self._radius(col)[1] + 20)
        if columns and columns[0].kind == "input" and self.input_names:
            widths[0] += 0.0
        xs, x = [], 0.0
        for k, w in enumerate(widths):
            if k:
                gap = GAP_EDGES if columns[k].kind == "dense" else GAP_PLAIN
                x += widths[k - 1] / 2 + gap + w / 2
            xs.append(x)
        return xs, widths

    def _build_nodes(self, col: Column, x: float) -> None:
        spacing, r = self._radius(col)
        n = len(col.shown) + (1 if col.hidden_units else 0)
        y0 = -(n - 1) * spacing / 2
        show_text = r >= 22
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
            if show_text:
                g = di.text_item(self, "∂L/∂z = -0.0001234", self.mono, BACKWARD_COLOR)
                di.place(g, c.x(), c.y() + r + 4 + g.boundingRect().height() / 2)
                self.grad_texts[col.index][unit] = g
                self.labels.append(g)
            if col.kind == "input" and len(col.shown) == col.units:
                name = self.input_names[unit] if unit < len(self.input_names) else f"x{unit + 1}"
                label = di.text_item(self, name, self.font)
                di.place(label, x - r - 8, c.y(), "right")
                self.labels.append(label)
        if col.hidden_units:
            more = di.text_item(self, f"+{col.hidden_units} more", self.font, di.MUTED_COLOR)
            di.place(more, x, y0 + (n - 1) * spacing)
            self.labels.append(more)
            more.setToolTip(f"{col.units} units in all; the {len(col.shown)} with the "
                            "strongest weights are drawn (change it with 'units shown')")
            col_more = self.nodes[col.index]
            col_more["more"] = more

    def _build_image(self, col: Column, x: float) -> None:
        h, w, _ = col.image_shape
        side = IMAGE_SIDE
        rw, rh = (side, side * h / w) if w >= h else (side * w / h, side)
        rect = QRectF(x - rw / 2, -rh / 2, rw, rh)
        item = di.PixelImageItem(col.index, col.image_shape, rect)
        item.setTransform(QTransform.fromScale(rw / w, rh / h))
        self.addItem(item)
        frame = self.addRect(rect, QPen(di.OUTLINE_COLOR, 1.0))
        frame.setZValue(2.2)
        self.images[col.index] = item

    def _build_block(self, col: Column, x: float) -> None:
        rect = QRectF(x - BLOCK_W / 2, -BLOCK_H / 2, BLOCK_W, BLOCK_H)
        box = di.BoxItem(("block", col.index), rect, self.font)
        self.addItem(box)
        self.blocks[col.index] = box
        h, w, c = (tuple(col.shape) + (1, 1, 1))[:3]
        box.set_text(f"{c} map{'s' if c != 1 else ''}\n{h}×{w}", top=True)
        thumbs, side, n = [], 56.0, min(c, 6)
        for m in range(n):
            item = QGraphicsPixmapItem(box)
            item.setTransformationMode(Qt.TransformationMode.FastTransformation)
            item.setPos(rect.left() + 12 + (m % 2) * (side + 14),
                        rect.top() + 60 + (m // 2) * (side + 14))
            item.setTransform(QTransform.fromScale(side / max(w, 1), side / max(h, 1)))
            thumbs.append(item)
        if c > n:
            more = di.text_item(self, f"+{c - n} more", self.font, di.MUTED_COLOR)
            di.place(more, x, rect.bottom() - 14)
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
        x = self.col_x[-1] + self.col_w[-1] / 2 + 4
        width = 0.0
        if last.has_nodes:
            fm = QFontMetrics(self.bold)
            longest = max([len(n) for n in self.output_names] + [2])
            sample = ("W" * longest + "  -0.0001234  ◀ predicted  ✓ label" if last.units > 1
                      else "ŷ = -0.0001234  (y = -0.0001234)")
            width = fm.horizontalAdvance(sample)
            for unit, node in ((u, n) for u, n in self.nodes[last.index].items() if u != "more"):
                t = di.text_item(self, "", self.mono)
                di.place(t, x, node.center.y(), "left")
                self.out_labels[unit] = t
                self.labels.append(t)
        lx = x + width + 46
        rect = QRectF(lx, -28, 150, 56)
        self.loss_box = di.BoxItem(("loss",), rect, self.mono)
        self.addItem(self.loss_box)
        self.loss_arrow = self.addLine(QLineF(lx - 34, 0, lx - 4, 0), QPen(QColor("#8a939f"), 2.0))
        top = -HEIGHT / 2 - 70
        loss_title = di.text_item(self, "loss", self.bold)
        di.place(loss_title, rect.center().x(), top + 6)
        # the widest name is laid out now, so the scene rect leaves room for any loss
        self.loss_subtitle = di.text_item(self, "sparse categorical\ncross-entropy", self.font,
                                          di.MUTED_COLOR)
        self.loss_subtitle_top = top + 24
        di.place(self.loss_subtitle, rect.center().x(),
                 top + 24 + self.loss_subtitle.boundingRect().height() / 2)
        self.labels += [loss_title, self.loss_subtitle]

    def set_text_zoom(self, factor: float) -> None:
        """Enlarge labels by `factor` about their anchors (the view shrank the scene)."""
        if abs(factor - self.text_zoom) < 1e-3:
            return
        self.text_zoom = factor
        for item in self.labels:
            di.zoom_text(item, factor)

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
