"""Recolouring the diagram for one frame (a mixin of DiagramScene).

Each part of the scene remembers a signature of what it last showed (values known,
gradients known, mask, colour range …) and is repainted only when that changes, so a
frame touches only what the animation moved.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPen, QPixmap

from gui.widgets.diagram import items as di
from gui.widgets.colors import (BACKWARD_COLOR, FORWARD_COLOR, diverging_rgba,
                                sequential_rgba)
from gui.widgets.diagram.formulas import LOSS_WORDS
from core.wording import percent
from gui.widgets.numbers import fmt

#: an edge whose value is not known yet at this frame (gradients before the backward pass)
UNKNOWN_PEN = QPen(QColor("#c9cdd3"), 1.0)
#: with two columns of output labels, the lines to the loss start this far before it
COLLECTOR_STUB = 12.0


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


class FrameRenderer:
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
            ring = gk and view.phase == "backward"   # the accent marks the pass, not the numbers
            sig = (known, gk, ring, active, None if mask is None else mask.tobytes())
            if self._sig.get(("nodes", k)) != sig:
                self._sig[("nodes", k)] = sig
                self._paint_nodes(snap, k, units, ids, known, gk, ring, active, mask,
                                  default_pen, lo, hi)
            self._render_biases(view, k)

    def _paint_nodes(self, snap, k, units, ids, known, gk, ring, active, mask, default_pen,
                     lo, hi):
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
            if g is not None and ring:
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
        placed: list[QRectF] = []
        for (bg, t), e, v in zip(labels, edges, vals):
            text = fmt(v) if known else ""
            t.setText(text)
            bg.setVisible(bool(text))
            if not text:
                continue
            slot = int(np.searchsorted(self.columns[k].shown, e.key[3]))
            frac = 0.30 + 0.4 * (slot / max(1, n_dst - 1) if n_dst > 1 else 0.5)
            r = t.boundingRect()
            plate = self._free_label_plate(e.line(), frac, r.width() + 6, r.height(), placed)
            placed.append(plate)
            t.setPos(plate.left() + 3, plate.top())
            bg.setRect(plate)
            t.setOpacity(opacity)
            bg.setOpacity(opacity)

    @staticmethod
    def _free_label_plate(line: QLineF, frac: float, w: float, h: float,
                          placed: list) -> QRectF:
        """Where along `line` a w×h label plate touches none already placed.

        Crossing edges (i→j beside j→i) put their preferred spots at the same height, so
        the numbers ran into each other: slide along the edge to the first free spot,
        keeping the preferred one when nothing is free.
        """
        def plate_at(f):
            p = line.pointAt(f)
            return QRectF(p.x() - w / 2, p.y() - h / 2, w, h)

        candidates = [frac] + [min(0.82, max(0.18, frac + d))
                               for d in (-0.12, 0.12, -0.22, 0.22, -0.32, 0.32)]
        for f in candidates:
            rect = plate_at(f)
            if not any(rect.intersects(other) for other in placed):
                return rect
        return plate_at(frac)

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
                value = percent(v) if self.out_percent else fmt(v)
                text = (f"{self.output_name(unit)}  {value}" if last.units > 1
                        else f"ŷ = {fmt(v)}")
                short = self.out_step > 0 or self.short_out
                if unit == top:
                    text += " ◀" if short else "  ◀ predicted"
                if unit == target:
                    text += "✓" if short else "  ✓ label"
                if last.units == 1 and loss_known and snap.y_true is not None:
                    text += f"  (y = {fmt(np.ravel(snap.y_true)[0])})"
                t.setText(text)
            t.setFont(self.bold if unit in (top, target) else self.mono)
            t.setPos(t.pos().x(), self.nodes[k][unit].center.y() - t.boundingRect().height() / 2)
            feed = self.loss_feeds.get(unit)
            if feed is not None:    # the line to the loss starts where the label ends
                ln = feed.line()
                start = t.pos().x() + t.boundingRect().width() + 4 if t.text() else \
                    self.nodes[k][unit].center.x() + self.nodes[k][unit].radius
                if self.out_step > 0:   # two columns of labels: start past both
                    start = ln.p2().x() - COLLECTOR_STUB
                feed.setLine(QLineF(start, ln.y1(), ln.x2(), ln.y2()))
        box = self.loss_box
        if loss_known:
            box.set_text(f"L = {fmt(snap.sample_loss)}")
        else:
            box.set_text("L = ?", di.MUTED_COLOR)
        sub = LOSS_WORDS.get(snap.loss_name, snap.loss_name or "")
        sub = sub.replace("categorical cross", "categorical\ncross")
        if self.short_out:      # a narrow diagram: the loss's name on three short lines
            sub = sub.replace("sparse categorical", "sparse\ncategorical")
        if sub != self.loss_subtitle.text():
            self.loss_subtitle.setText(sub)
            h = self.loss_subtitle.boundingRect().height()
            di.place(self.loss_subtitle, self.loss_box.rect.center().x(),
                     self.loss_subtitle_top + h / 2)
        box.setPen(QPen(BACKWARD_COLOR, 3.0) if view.phase == "backward" and
                   view.column == len(self.columns) - 1 else
                   QPen(di.TEXT_COLOR, 3.0) if view.phase == "loss" else QPen(di.OUTLINE_COLOR, 1.2))


def _pixmap(rgba: np.ndarray) -> QPixmap:
    rgba = np.ascontiguousarray(rgba)                                             # (H, W, 4)
    h, w = rgba.shape[:2]
    img = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888)
    return QPixmap.fromImage(img.copy())
