"""NetworkDiagram: neurons as circles, weights as coloured lines, one training step animated.

    d = NetworkDiagram()
    d.set_model(model)                 # columns from model.layers, any architecture
    d.set_input(x[0])                  # nodes filled by their activations
    d.set_trace(model.trace_step(x, y))            # a StepTrace to animate
    d.set_phase("backward", column=2)  # what the animation has reached; the banner says it
    d.highlight("edge", layer=0, i=1, j=2)         # the stepper points at one quantity
    d.set_edge_mode("gradient")        # edges show ∂L/∂w; the numeric legend follows

A TracePlayer (gui.widgets.trace_player) turns a StepTrace into frames and drives
`set_phase`. Hovering shows each formula with its numbers (tooltip and the formula line
under the diagram); clicking a weight or bias opens a small editor: the new value goes
into the model and the forward pass runs again at once.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSizeF, Qt, QTimer, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsView, QSizePolicy, QWidget

from gui.widgets.diagram import formulas as F
from gui.widgets.colors import BACKWARD_COLOR, FORWARD_COLOR
from gui.widgets.diagram.chrome import EDGE_MODES, build_chrome
from gui.widgets.diagram.data import (empty_snapshot, snapshot_from_input,
                                      snapshot_from_trace)
from gui.widgets.diagram.frozen import FrozenLegend, frozen_columns, mark_frozen
from gui.widgets.diagram.highlight import Highlighter, InlineEditor
from gui.widgets.diagram.interaction import DiagramInteraction
from gui.widgets.diagram.layout import (choose_shown, column_of_layer, plan_columns,
                                        specs_from_model, specs_from_trace)
from gui.widgets.diagram.scene import DiagramScene, View

PHASE_ACCENTS = {"idle": "#8a939f", "forward": FORWARD_COLOR.name(), "loss": "#1d232b",
                 "backward": BACKWARD_COLOR.name(), "update": "#2166ac"}
#: below this height the formula strip is left out (the tooltip still shows each formula)
COMPACT_HEIGHT = 430


class DiagramView(QGraphicsView):
    """Antialiased view that keeps the whole network in sight at any size.

    The scene is laid out for the viewport's size (see DiagramScene); `resized` asks the
    diagram to lay it out again. Only a scene that cannot fit even so is shrunk.
    """

    resized = Signal()

    def __init__(self, scene, parent=None):
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing
                            | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Network diagram")

    def fit(self) -> None:
        rect = self.sceneRect()
        if rect.isEmpty():
            return
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.transform().m11() > 1.0:       # never magnified: text stays at its size
            self.resetTransform()
            self.centerOn(rect.center())

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self.fit()
        self.resized.emit()


class NetworkDiagram(DiagramInteraction, QWidget):
    weight_edited = Signal(int, str, tuple, float)
    node_hovered = Signal(int, int)
    #: (phase, column or None) after every set_phase
    phase_changed = Signal(str, object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._model = None
        self._columns = []
        self._snap = None
        self._phase, self._column = "idle", None
        self._mode = "weight"
        self._max_edges, self._max_units = 150, 16
        self._masks: dict[int, np.ndarray] = {}
        self._input_names, self._output_names = [], []
        self._x = None
        self._edge_key = None
        self._hovered = None
        self._banner_override = None
        self._legend_state = None
        self._info_auto_hidden = False
        self._banner_accent = None

        self.scene_ = DiagramScene(self)
        self.scene_.on_hover = self._on_hover
        self.scene_.on_click = self._on_click
        self.view = DiagramView(self.scene_, self)
        self._built_size = None
        self._relayout_timer = QTimer(self)
        self._relayout_timer.setSingleShot(True)
        self._relayout_timer.setInterval(40)     # once the learner stops dragging the edge
        self._relayout_timer.timeout.connect(self._relayout)
        self.view.resized.connect(self._relayout_timer.start)
        self.highlighter = Highlighter(self.scene_)
        self.editor = InlineEditor(self.view.viewport())
        self.editor.committed.connect(self._commit_edit)

        build_chrome(self)
        self.frozen_legend = FrozenLegend(self)
        # a line of its own just above the colour legends (beside them it would widen the
        # diagram's minimum width); hidden, it takes no room
        self.layout().insertWidget(self.layout().count() - 1, self.frozen_legend)
        self._frozen: set[int] = set()
        self._show_info(None)
        self._update_banner()

    def showEvent(self, event):
        super().showEvent(event)
        self._relayout()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        # a short diagram gives the formula strip's height to the network; tooltips remain
        short = self.height() < COMPACT_HEIGHT
        if short and not self.info.isHidden():
            self.info.hide()
            self._info_auto_hidden = True
        elif not short and self._info_auto_hidden:
            self.info.show()
            self._info_auto_hidden = False
        else:
            return
        # the layout placed the view for the old strip during this very resize: place it
        # again now, so the view never shows (nor lays the network out for) a stale height
        self.layout().activate()

    # --- building ------------------------------------------------------------------------
    def set_model(self, model) -> None:
        """Build the columns from the model's layers and shapes; clears input and trace."""
        input_shape, specs = specs_from_model(model)
        self._model = model
        self._columns = plan_columns(input_shape, specs)
        self._x = None
        self._masks = {}
        self._rebuild(empty_snapshot(self._columns, model))

    def _kernels(self) -> dict:
        src = self._snap.params if self._snap is not None else {}
        if self._model is not None and not src:
            src = empty_snapshot(self._columns, self._model).params
        return {i: p["kernel"] for i, p in src.items()
                if "kernel" in p and np.ndim(p["kernel"]) == 2}

    def _rebuild(self, snap) -> None:
        self._snap = snap
        choose_shown(self._columns, self._max_units, self._kernels())
        self._layout()

    def _layout(self) -> None:
        """Build the scene for the viewport's present size and show the current frame."""
        self.highlighter.detach()
        self.editor.cancel()
        vp = self.view.viewport().size()
        # a hidden widget's viewport has no real size yet: lay out for a typical lesson
        visible = self.view.isVisible()
        self._built_size = (vp.width(), vp.height()) if visible else None
        size = QSizeF(vp.width(), vp.height()) if visible else None
        self.scene_.build(self._columns, self._input_names, self._output_names, size)
        self._frozen = frozen_columns(self._columns, self._model)
        mark_frozen(self.scene_, self._frozen)
        self.frozen_legend.setVisible(bool(self._frozen))
        self.highlighter.attach()
        self._edge_key = None
        self._hovered = None        # its item went with the old scene, without a hover-leave
        self._refresh(new_snapshot=True)
        self.view.fit()

    def _relayout(self) -> None:
        vp = self.view.viewport().size()
        if self._columns and (vp.width(), vp.height()) != self._built_size:
            self._layout()

    def set_input(self, x_one) -> None:
        """Show one sample (no batch axis): each node filled by its activation."""
        if self._model is None:
            raise ValueError("set_model(model) first: the diagram runs the model on the input")
        self._snap = snapshot_from_input(self._model, self._columns, x_one)
        self._x = self._snap.x.copy()
        self._refresh(new_snapshot=True)

    def set_trace(self, trace, sample: int = 0) -> None:
        """Animate a StepTrace: node values of one sample, the batch's weight gradients."""
        if trace is None:
            self._snap = empty_snapshot(self._columns, self._model)
            self._refresh(new_snapshot=True)
            return
        if self._model is not None and len(trace.layers) != len(self._model.layers):
            self._model = None          # a trace of another network: draw it from the trace
        if self._model is None:
            input_shape, specs = specs_from_trace(trace)
            self._columns = plan_columns(input_shape, specs)
            snap = snapshot_from_trace(trace, self._columns, sample, self._model, specs)
            self._x = snap.x.copy()
            self._rebuild(snap)
            return
        self._snap = snapshot_from_trace(trace, self._columns, sample, self._model)
        self._x = self._snap.x.copy()
        self._refresh(new_snapshot=True)

    def set_input_names(self, names) -> None:
        """Names of the input features ("age", "affordability") instead of x1, x2."""
        self._input_names = [str(n) for n in names]
        if self._columns:
            self._rebuild(self._snap)

    def set_output_names(self, names) -> None:
        """Names of the outputs (class names); class ids are used otherwise."""
        self._output_names = [str(n) for n in names]
        if self._columns:
            self._rebuild(self._snap)

    # --- what is shown --------------------------------------------------------------------
    def set_phase(self, phase: str, column: int | None = None, text: str | None = None) -> None:
        if phase not in F.PHASES:
            raise ValueError(f"phase must be one of {', '.join(F.PHASES)}, got {phase!r}")
        if column is not None and not (0 <= int(column) < max(1, len(self._columns))):
            raise ValueError(f"column must be in 0…{len(self._columns) - 1}, got {column}")
        self._phase, self._column = phase, None if column is None else int(column)
        self._banner_override = text
        self._refresh()
        self.phase_changed.emit(self._phase, self._column)

    def phase(self) -> tuple[str, int | None]:
        return self._phase, self._column

    def set_edge_mode(self, mode: str) -> None:
        if mode not in EDGE_MODES:
            raise ValueError(f"edge mode must be one of {', '.join(EDGE_MODES)}, got {mode!r}")
        self._mode = mode
        i = self.mode_combo.findData(mode)
        if i != self.mode_combo.currentIndex():
            self.mode_combo.blockSignals(True)
            self.mode_combo.setCurrentIndex(i)
            self.mode_combo.blockSignals(False)
        self._refresh()

    def edge_mode(self) -> str:
        return self._mode

    def set_max_edges(self, k: int) -> None:
        k = int(k)
        if k < 1:
            raise ValueError(f"at least one edge per layer, got {k}")
        self._max_edges = k
        if self.k_spin.value() != k:
            self.k_spin.blockSignals(True)
            self.k_spin.setValue(k)
            self.k_spin.blockSignals(False)
        self._refresh()

    def set_max_units(self, n: int) -> None:
        n = int(n)
        if n < 1:
            raise ValueError(f"at least one unit per layer, got {n}")
        self._max_units = n
        if self.units_spin.value() != n:
            self.units_spin.blockSignals(True)
            self.units_spin.setValue(n)
            self.units_spin.blockSignals(False)
        if self._columns:
            self._rebuild(self._snap)

    def set_dropout_masks(self, masks: dict) -> None:
        """{index of a Dropout layer: kept mask (units,)}; dropped units fade out."""
        out = {}
        for layer, mask in (masks or {}).items():
            col = column_of_layer(self._columns, int(layer))
            m = np.asarray(mask).ravel().astype(bool)
            if col.kind != "dropout" or m.size != col.units:
                raise ValueError(f"layer {layer} is not a Dropout of {m.size} units")
            out[col.index] = m
        self._masks = out
        self._refresh()

    def show_controls(self, visible: bool) -> None:
        """Hide the built-in edge-mode / K / units controls when a lesson has its own."""
        self.controls.setVisible(bool(visible))

    # --- highlight ------------------------------------------------------------------------
    def highlight(self, kind: str, layer: int, i: int, j: int | None = None) -> None:
        if kind not in ("node", "edge", "bias"):
            raise ValueError(f"kind must be 'node', 'edge' or 'bias', got {kind!r}")
        col = column_of_layer(self._columns, int(layer))
        if kind in ("edge", "bias") and col.kind != "dense":
            raise ValueError(f"layer {layer} has no weights drawn as edges")
        if kind == "edge" and j is None:
            raise ValueError("an edge needs i (input unit) and j (output unit)")
        key = ("edge", col.index, int(i), int(j)) if kind == "edge" else (kind, col.index, int(i))
        self._check_key(key)
        self.highlighter.set_key(key)
        self._refresh()

    def clear_highlight(self) -> None:
        self.highlighter.set_key(None)
        self._refresh()

    def _check_key(self, key) -> None:
        col = self._columns[key[1]]
        src_units = self._columns[key[1] - 1].units if key[1] else 0
        if key[0] == "edge" and not (0 <= key[2] < src_units and 0 <= key[3] < col.units):
            raise ValueError(f"no weight ({key[2]}, {key[3]}) in {col.title}")
        if key[0] in ("node", "bias") and not 0 <= key[2] < col.units:
            raise ValueError(f"{col.title} has {col.units} units, got unit {key[2]}")

    # --- refresh ---------------------------------------------------------------------------
    def _view_state(self) -> View:
        return View(self._snap, self._phase, self._column, self._mode, self._masks,
                    self._max_edges)

    def _refresh(self, new_snapshot: bool = False) -> None:
        if not self._columns or self._snap is None:
            self._update_banner()
            return
        view = self._view_state()
        if new_snapshot:
            self.scene_.prepare(view)
        key = (id(self._snap), self._mode, view.after, self._max_edges,
               view.grads_known(len(self._columns) - 1), tuple(view.values_known(k) for k in
                                                               range(len(self._columns))))
        if new_snapshot or key != self._edge_key:
            self._edge_key = key
            self.scene_.select_edges(view)
        self.scene_.render(view)
        self.highlighter.render(view, self)
        label = EDGE_MODES[self._mode]
        if self._mode == "gradient" and not self._snap.has_trace:
            label += " (no training step traced yet)"
        elif self._mode == "contribution" and not self._snap.has_values:
            label = "weight w (contributions need an input)"
        legends = (label, self.scene_.edge_vmax, self.scene_.act_range)
        if legends != self._legend_state:
            self._legend_state = legends
            self.edge_legend.set_label(label)
            self.edge_legend.set_range(-self.scene_.edge_vmax, self.scene_.edge_vmax)
            self.act_legend.set_range(*self.scene_.act_range)
        self._update_banner()
        self._show_info(self._hovered)

    def _update_banner(self) -> None:
        phase = self._phase
        text = self._banner_override or F.phase_sentence(
            phase, self._column, self._columns, self._snap, self._output_names) if \
            self._columns else "No network yet."
        accent = PHASE_ACCENTS[phase]
        self.banner.setText(f"<span style='color:{accent}; font-weight:700'>"
                            f"{F.PHASE_WORDS[phase].upper()}</span>&nbsp;&nbsp;{_html(text)}")
        if accent != self._banner_accent:     # a new style sheet re-polishes: only on change
            self._banner_accent = accent
            self.banner.setStyleSheet(
                f"QLabel#diagramBanner {{ border-left: 6px solid {accent}; background: #f6f7f9;"
                f" padding: 6px 10px; border-radius: 3px; }}")
        self.banner.setAccessibleDescription(f"{F.PHASE_WORDS[phase]}: {text}")

    def banner_text(self) -> str:
        """The banner as plain text ("FORWARD PASS  Forward (layer 1 of 2): …")."""
        return self.banner.accessibleDescription()

    # --- for lessons and tests ---------------------------------------------------------------
    def columns(self):
        return list(self._columns)

    def frozen_columns(self) -> set[int]:
        """Columns drawn frozen (their layer has trainable = False)."""
        return set(self._frozen)

    def column_for_layer(self, layer: int) -> int:
        return column_of_layer(self._columns, int(layer)).index

    def snapshot(self):
        return self._snap

    def node_item(self, column: int, unit: int):
        return self.scene_.nodes.get(column, {}).get(unit)

    def bias_item(self, column: int, unit: int):
        return self.scene_.biases.get(column, {}).get(unit)

    def edge_items(self, column: int) -> list:
        """The edge items drawn into a column (visible ones only)."""
        return [e for e in self.scene_.edge_pool.get(column, []) if e.isVisible() and e.key]

    def edge_item(self, column: int, i: int, j: int):
        return next((e for e in self.edge_items(column) if e.key[2:] == (i, j)), None)

    def more_label(self, column: int):
        return self.scene_.nodes.get(column, {}).get("more")

    def info_text(self) -> str:
        return self.info.text()


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
