"""The diagram's QGraphicsScene: geometry built once per model, recoloured on each frame.

`build()` places columns left to right (the input, each Dense with its activation, dropout,
conv/pool blocks, the loss) and creates every item; `render(view)` only changes brushes,
pens, texts, opacities and — when the strongest K edges change — which weight a pooled
edge item stands for. Nothing is created or destroyed while a step is animated.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QGuiApplication, QImage, QPen, QPixmap, QTransform
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene

from gui.widgets import diagram_items as di
from gui.widgets.colors import (BACKWARD_COLOR, FORWARD_COLOR, diverging_rgba,
                                sequential_rgba)
from gui.widgets.diagram_layout import Column, source_units, top_edges
from gui.widgets.numbers import fmt, mono_font

HEIGHT = 380.0          # vertical extent of the node columns, in scene units
GAP_EDGES = 220.0       # room between columns joined by weights
GAP_PLAIN = 110.0
IMAGE_SIDE = 224.0
BLOCK_W, BLOCK_H = 150.0, 300.0
#: scene text is drawn this much larger than the application font, because a whole
#: network fitted into a lesson is shown at roughly 0.8× scale
TEXT_SCALE = 1.25
LABEL_EVERY_EDGE = 16   # a layer with at most this many weights gets a number on each
#: an edge whose value is not known yet at this frame (gradients before the backward pass)
UNKNOWN_PEN = QPen(QColor("#c9cdd3"), 1.0)


@dataclass
class View:
    """Everything one frame shows, decided by the widget."""
    snap: object
    phase: str = "idle"
    column: int | None = None
    mode: str = "weight"
    masks: dict = field(default_factory=dict)          # column → kept mask override
    max_edges: int = 150

    def values_known(self, k: int) -> bool:
        if not self.snap.has_values:
            return False
        return self.phase != "forward" or self.column is None or k <= self.column

    def grads_known(self, k: int) -> bool:
        if not self.snap.has_trace:
            return False
        if self.phase == "update":
            return True
        return self.phase == "backward" and (self.column is None or k >= self.column)

    @property
    def after(self) -> bool:
        return self.phase == "update"


class DiagramScene(QGraphicsScene):
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
            di.place(t, x, top + 12)
            s = di.text_item(self, col.subtitle, self.font, di.MUTED_COLOR)
            di.place(s, x, top + 36)
            if col.kind == "image":
                self._build_image(col, x)
            elif col.kind == "block":
                self._build_block(col, x)
            else:
                self._build_nodes(col, x)
        self._build_connections()
        self._build_outputs_and_loss()
        self.setSceneRect(self.itemsBoundingRect().adjusted(-14, -10, 14, 10))

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
                g = di.text_item(self, "", self.mono, BACKWARD_COLOR)
                g.setPos(c.x(), c.y() + r + 2)
                self.grad_texts[col.index][unit] = g
            if col.kind == "input" and len(col.shown) == col.units:
                name = self.input_names[unit] if unit < len(self.input_names) else f"x{unit + 1}"
                di.place(di.text_item(self, name, self.font), x - r - 8, c.y(), "right")
        if col.hidden_units:
            more = di.text_item(self, f"+{col.hidden_units} more", self.font, di.MUTED_COLOR)
            di.place(more, x, y0 + (n - 1) * spacing)
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
                t.setPos(x, node.center.y())
                self.out_labels[unit] = t
        lx = x + width + 46
        rect = QRectF(lx, -28, 150, 56)
        self.loss_box = di.BoxItem(("loss",), rect, self.mono)
        self.addItem(self.loss_box)
        self.loss_arrow = self.addLine(QLineF(lx - 34, 0, lx - 4, 0), QPen(QColor("#8a939f"), 2.0))
        top = -HEIGHT / 2 - 70
        di.place(di.text_item(self, "loss", self.bold), rect.center().x(), top + 12)
        # the widest name is laid out now, so the scene rect leaves room for any loss
        self.loss_subtitle = di.text_item(self, "sparse categorical\ncross-entropy", self.font,
                                          di.MUTED_COLOR)
        di.place(self.loss_subtitle, rect.center().x(), top + 36 + 10)

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

    # --- one frame ---------------------------------------------------------------------------
    def prepare(self, view: View) -> None:
        """Per-snapshot ranges (kept through the animation, so colours never jump)."""
        snap = view.snap
        vals = [snap.values[k][c.shown] for k, c in enumerate(self.columns)
                if c.has_nodes and snap.values[k] is not None and len(c.shown)]
        if vals:
            allv = np.concatenate(vals).astype(np.float64)
            allv = allv[np.isfinite(allv)]
            lo = min(0.0, float(allv.min())) if allv.size else 0.0
            hi = max(1.0, float(allv.max())) if allv.size else 1.0
            self.act_range = (lo, hi)
        else:
            self.act_range = (0.0, 1.0)
        gmax = 0.0
        for k, c in enumerate(self.columns):
            g = snap.grad_z.get(k, snap.grad_a.get(k))
            if g is not None and c.has_nodes and len(c.shown):
                gmax = max(gmax, float(np.nanmax(np.abs(g[c.shown]))))
        self.grad_max = gmax or 1.0
        self._image_cache = {}
        self._selected_edges = {}
        self._sig = {}

    def render(self, view: View) -> None:
        for k, lane in enumerate(self.lanes):
            lane.set_accent(FORWARD_COLOR if view.phase == "forward" and view.column == k else
                            BACKWARD_COLOR if view.phase == "backward" and view.column == k
                            else None)
        self._render_nodes(view)
        self._render_pictures(view)
        self._render_edges(view)
        self._render_outputs(view)

    def _column_opacity(self, view: View, k: int) -> float:
        if view.column is None:
            return 1.0
        if view.phase == "forward":
            return 1.0 if k == view.column else (0.75 if k < view.column else 0.12)
        if view.phase == "backward":
            return 1.0 if k == view.column else (0.6 if k > view.column else 0.3)
        return 1.0

    def mask_of(self, view: View, k: int):
        m = view.masks.get(k)
        return view.snap.masks.get(k) if m is None else m

    def _render_nodes(self, view: View) -> None:
        snap, (lo, hi) = view.snap, self.act_range
        default_pen = QPen(di.OUTLINE_COLOR, 1.2)
        for k, units in self.nodes.items():
            col = self.columns[k]
            ids = col.shown
            known, gk = view.values_known(k), view.grads_known(k)
            active = view.phase == "forward" and view.column == k
            mask = self.mask_of(view, k)
            sig = (known, gk, active, None if mask is None else mask.tobytes())
            if self._sig.get(("nodes", k)) != sig:
                self._sig[("nodes", k)] = sig
                self._paint_nodes(snap, k, units, ids, known, gk, active, mask, default_pen, lo, hi)
            self._render_biases(view, k)

    def _paint_nodes(self, snap, k, units, ids, known, gk, active, mask, default_pen, lo, hi):
        vals = snap.values[k][ids] if known else None                             # (U,)
        rgba = sequential_rgba(vals, lo, hi) if vals is not None else None
        g_all = snap.grad_z.get(k, snap.grad_a.get(k)) if gk else None
        g = None if g_all is None else g_all[ids]
        g_word = "∂L/∂z" if k in snap.grad_z else "∂L/∂a"
        for s, unit in enumerate(ids.tolist()):
            node = units[unit]
            if rgba is None:
                node.setBrush(QBrush(QColor("white")))
                node.set_value_text("", di.TEXT_COLOR)
            else:
                r, gg, b, _ = rgba[s].tolist()
                node.setBrush(QBrush(QColor(r, gg, b)))
                dark = 0.299 * r + 0.587 * gg + 0.114 * b < 140
                node.set_value_text(fmt(vals[s]), QColor("white") if dark else di.TEXT_COLOR)
            if g is not None:
                node.setPen(QPen(BACKWARD_COLOR,
                                 1.5 + 3.5 * min(1.0, abs(float(g[s])) / self.grad_max)))
            elif active:
                node.setPen(QPen(FORWARD_COLOR, 3.0))
            else:
                node.setPen(default_pen)
            dropped = mask is not None and not bool(mask[unit])
            node.setOpacity(0.18 if dropped else 1.0)
            gt = self.grad_texts[k].get(unit)
            if gt is not None:
                gt.setText("" if g is None else f"{g_word} = {fmt(g[s])}")
                gt.setPos(node.center.x() - gt.boundingRect().width() / 2, gt.pos().y())

    def _render_biases(self, view: View, k: int) -> None:
        squares = self.biases.get(k)
        if not squares:
            return
        snap, col = view.snap, self.columns[k]
        ids = np.fromiter(squares.keys(), np.int64)
        if view.mode == "gradient":
            g = snap.grads.get(col.param_layer)
            known = g is not None and view.grads_known(k)
            vals = g["bias"][ids] if known else None
        else:
            params = snap.params_after if view.after and snap.params_after else snap.params
            vals = params[col.param_layer]["bias"][ids]
        sig = (None if vals is None else vals.tobytes(), self.edge_vmax)
        if self._sig.get(("bias", k)) == sig:
            return
        self._sig[("bias", k)] = sig
        rgba = None if vals is None else diverging_rgba(vals, self.edge_vmax)
        for n, sq in enumerate(squares.values()):
            if rgba is None:
                sq.setBrush(QBrush(QColor("white")))
            else:
                r, gg, b, _ = rgba[n].tolist()
                sq.setBrush(QBrush(QColor(r, gg, b)))

    def _render_pictures(self, view: View) -> None:
        snap = view.snap
        for k, item in self.images.items():
            known = view.values_known(k)
            key = ("img", k, known)
            if self._image_cache.get(k) == key:
                continue
            self._image_cache[k] = key
            h, w, c = self.columns[k].image_shape
            if not known:
                img = np.full((h, w, 4), 236, np.uint8)                          # (H, W, 4)
            else:
                x = snap.x.reshape(h, w, c).astype(np.float64)                   # (H, W, C)
                if c == 3:
                    img = np.empty((h, w, 4), np.uint8)
                    img[..., :3] = np.clip(x * 255.0, 0, 255).astype(np.uint8)
                    img[..., 3] = 255
                else:
                    img = sequential_rgba(x[..., 0], min(0.0, x.min()), max(1.0, x.max()))
            item.setPixmap(_pixmap(img))
        for k, thumbs in self.thumbs.items():
            known = view.values_known(k) and k in snap.maps
            key = ("maps", k, known)
            if self._image_cache.get(k) == key:
                continue
            self._image_cache[k] = key
            maps = snap.maps.get(k)                                                # (H, W, C)
            for m, item in enumerate(thumbs):
                if not known:
                    h, w = self.columns[k].shape[:2]
                    item.setPixmap(_pixmap(np.full((h, w, 4), 236, np.uint8)))
                else:
                    fm = maps[..., m].astype(np.float64)                            # (H, W)
                    item.setPixmap(_pixmap(sequential_rgba(fm, min(0.0, fm.min()),
                                                           max(fm.max(), 1e-6))))

    def _render_edges(self, view: View) -> None:
        vmax = self.edge_vmax
        for k, (src, dst, vals, known) in self.edge_values.items():
            pool = self._ensure_pool(k, len(vals))
            sel = (src.tobytes(), dst.tobytes())
            if self._selected_edges.get(k) != sel:
                self._selected_edges[k] = sel
                lines = [QLineF(self._anchor(k - 1, i, "right"), self._anchor(k, j, "left"))
                         for i, j in zip(src.tolist(), dst.tolist())]
                self.edge_lines[k] = lines
                for e, i, j, ln in zip(pool, src.tolist(), dst.tolist(), lines):
                    e.key = ("edge", k, i, j)
                    e.setLine(ln)
                    e.setVisible(True)
                for e in pool[len(vals):]:
                    e.setVisible(False)
                    e.key = ()
            big = len(vals) > 40
            mask = self.mask_of(view, k - 1)
            sig = (sel, vals.tobytes(), known, vmax, None if mask is None else mask.tobytes())
            if self._sig.get(("edges", k)) != sig:
                self._sig[("edges", k)] = sig
                self.edge_layers[k].set_edges(self.edge_lines[k],
                                              self._edge_pens(pool, vals, known, vmax, big, mask))
            opacity = self._column_opacity(view, k) * (0.85 if big else 1.0)
            self.edge_layers[k].setOpacity(opacity)
            if k in self.edge_labels:
                self._render_edge_labels(view, k, pool[:len(vals)], vals, known, opacity)

    @staticmethod
    def _edge_pens(pool, vals, known, vmax, big, mask) -> list:
        """Colour by sign and size, width by magnitude; lines of dropped units nearly vanish."""
        wmax = 3.2 if big else 6.0
        rgba = diverging_rgba(vals, vmax)                                          # (E, 4)
        mag = np.minimum(1.0, np.abs(np.nan_to_num(vals)) / vmax)                 # (E,)
        pens = []
        for n, e in enumerate(pool[:len(vals)]):
            if known:
                r, g, b, _ = rgba[n].tolist()
                color = QColor(r, g, b)
                pen = QPen(color, 0.6 + (wmax - 0.6) * float(mag[n]))
                pen.setCapStyle(Qt.PenCapStyle.FlatCap)    # round caps cost 3× the time
            else:
                pen = QPen(UNKNOWN_PEN)
            if mask is not None and not bool(mask[e.key[2]]):
                c = pen.color()
                c.setAlpha(22)
                pen.setColor(c)
            e.value_pen = pen
            pens.append(pen)
        return pens

    def _render_edge_labels(self, view: View, k: int, edges, vals, known, opacity) -> None:
        labels = self.edge_labels[k]
        while len(labels) < len(edges):
            bg = di.LabelBackground()
            self.addItem(bg)
            labels.append((bg, di.text_item(self, "", self.mono, z=2.7)))
        n_dst = max(1, len(self.columns[k].shown))
        for (bg, t), e, v in zip(labels, edges, vals):
            text = fmt(v) if known else ""
            t.setText(text)
            bg.setVisible(bool(text))
            if not text:
                continue
            slot = int(np.searchsorted(self.columns[k].shown, e.key[3]))
            frac = 0.30 + 0.4 * (slot / max(1, n_dst - 1) if n_dst > 1 else 0.5)
            p = e.line().pointAt(frac)
            r = t.boundingRect()
            t.setPos(p.x() - r.width() / 2, p.y() - r.height() / 2)
            bg.setRect(QRectF(p.x() - r.width() / 2 - 3, p.y() - r.height() / 2,
                              r.width() + 6, r.height()))
            t.setOpacity(opacity)
            bg.setOpacity(opacity)

    def _render_outputs(self, view: View) -> None:
        snap, last = view.snap, self.columns[-1]
        k = last.index
        known = bool(self.out_labels) and view.values_known(k)
        loss_known = snap.loss is not None and view.phase in ("loss", "backward", "update", "idle")
        target = None
        if loss_known and snap.y_true is not None:
            y = np.asarray(snap.y_true)
            target = int(y) if y.ndim == 0 and last.units > 1 else (
                int(np.argmax(y)) if y.ndim == 1 and y.size == last.units and last.units > 1 else None)
        top = int(np.argmax(snap.values[k])) if known and last.units > 1 else None
        for unit, t in self.out_labels.items():
            if not known:
                t.setText(self.output_name(unit) if last.units > 1 else "")
            else:
                v = snap.values[k][unit]
                text = (f"{self.output_name(unit)}  {fmt(v)}" if last.units > 1
                        else f"ŷ = {fmt(v)}")
                if unit == top:
                    text += "  ◀ predicted"
                if unit == target:
                    text += "  ✓ label"
                if last.units == 1 and loss_known and snap.y_true is not None:
                    text += f"  (y = {fmt(np.ravel(snap.y_true)[0])})"
                t.setText(text)
            t.setFont(self.bold if unit in (top, target) else self.mono)
            t.setPos(t.pos().x(), self.nodes[k][unit].center.y() - t.boundingRect().height() / 2)
        box = self.loss_box
        if loss_known:
            box.set_text(f"L = {fmt(snap.sample_loss)}")
        else:
            box.set_text("L = ?", di.MUTED_COLOR)
        from gui.widgets.diagram_formulas import LOSS_WORDS
        sub = LOSS_WORDS.get(snap.loss_name, snap.loss_name or "")
        sub = sub.replace("categorical cross", "categorical\ncross")
        if sub != self.loss_subtitle.text():
            self.loss_subtitle.setText(sub)
            h = self.loss_subtitle.boundingRect().height()
            di.place(self.loss_subtitle, self.loss_box.rect.center().x(),
                     -HEIGHT / 2 - 70 + 26 + h / 2)
        box.setPen(QPen(BACKWARD_COLOR, 3.0) if view.phase == "backward" and
                   view.column == len(self.columns) - 1 else
                   QPen(di.TEXT_COLOR, 3.0) if view.phase == "loss" else QPen(di.OUTLINE_COLOR, 1.2))


def _pixmap(rgba: np.ndarray) -> QPixmap:
    rgba = np.ascontiguousarray(rgba)                                             # (H, W, 4)
    h, w = rgba.shape[:2]
    img = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888)
    return QPixmap.fromImage(img.copy())
