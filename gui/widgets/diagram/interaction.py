"""What the learner can point at and change in a NetworkDiagram (a mixin of it).

Hovering any item shows its formula with the numbers (tooltip, and the formula line
under the diagram); clicking a weight or bias opens the inline editor, and the typed
value goes into the model (`Sequential.set_weight`, between two training steps) before the
forward pass is run again.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF

from gui.widgets.diagram import formulas as F
from gui.widgets.diagram.data import empty_snapshot, snapshot_from_input, weight_of
from gui.widgets.numbers import fmt


class DiagramInteraction:
    def formula(self, key) -> str:
        """The formula shown for an item key: ("node", column, unit), ("edge", column, i, j),
        ("bias", column, unit), ("pixel", column, unit) or ("loss",)."""
        snap, view = self._snap, self._view_state()
        if snap is None or not key:
            return ""
        if key[0] == "loss":
            return F.loss_formula(snap, self._output_names) if (
                view.phase in ("loss", "backward", "update", "idle")) else "Loss: not computed yet"
        k = key[1]
        if key[0] == "block":
            col = self._columns[k]
            return f"{col.title}: {col.subtitle}"
        if key[0] == "pixel":
            col = self._columns[k]
            h, w, c = col.image_shape
            row, cc = divmod(key[2] // c, w)
            v = "—" if snap.x is None else fmt(snap.x[key[2]])
            return f"pixel (row {row}, column {cc}) = {v}  → input unit {key[2]}"
        if key[0] == "node":
            return F.node_formula(snap, k, key[2], values=view.values_known(k),
                                  grads=view.grads_known(k), name=self._unit_name(k, key[2]))
        if key[0] == "edge":
            return F.edge_formula(snap, k, key[2], key[3], values=view.values_known(k),
                                  grads=view.grads_known(k), after=view.after,
                                  src_name=self._unit_name(k - 1, key[2]),
                                  dst_name=self._unit_name(k, key[3]))
        if key[0] == "bias":
            return F.bias_formula(snap, k, key[2], grads=view.grads_known(k), after=view.after,
                                  dst_name=self._unit_name(k, key[2]))
        return ""

    def _unit_name(self, k: int, unit: int) -> str:
        col = self._columns[k]
        if k == 0 and col.kind == "input":
            return self._input_names[unit] if unit < len(self._input_names) else f"x{unit + 1}"
        if k == 0:
            h, w, c = col.image_shape
            row, cc = divmod(unit // c, w)
            return f"pixel (row {row}, column {cc})"
        if k == len(self._columns) - 1 and col.units > 1:
            return f"output {self.scene_.output_name(unit)} of {col.title}"
        return f"unit {unit} of {col.title}"

    def _on_hover(self, key, item) -> None:
        self._hovered = key
        if key is None:
            self.node_hovered.emit(-1, -1)
        else:
            text = self.formula(key)
            item.setToolTip(text)
            if key[0] in ("node", "pixel"):
                self.node_hovered.emit(key[1], key[2])
        self._show_info(key)

    def _show_info(self, key) -> None:
        key = key or self.highlighter.key
        text = self.formula(key) if key else ""
        if not text:
            text = ("Hover a neuron, weight or bias to see its formula with the numbers; "
                    "click a weight or bias to type a new value.")
        # one flowing paragraph: three lines of the panel hold what the tooltip lists
        lines = []
        for ln in text.splitlines():
            ln = ln.strip()
            if not ln or ln == "click to type a new value":
                continue
            if ln.startswith("=") and lines:      # the continuation of a long sum
                lines[-1] += " " + ln
            else:
                lines.append(ln)
        self.info.setText("  │  ".join(lines))
        self.info.setToolTip(text)

    def _on_click(self, key, scene_pos: QPointF) -> bool:
        if not key or key[0] not in ("edge", "bias") or self._model is None:
            return False
        col = self._columns[key[1]]
        index = (key[2], key[3]) if key[0] == "edge" else (key[2],)
        param = "kernel" if key[0] == "edge" else "bias"
        self.highlighter.set_key(key)
        self._refresh()
        self.edit_param(col.param_layer, param, index, self.view.mapFromScene(scene_pos))
        return True

    def edit_param(self, layer: int, param: str, index: tuple, at=None) -> None:
        """Open the inline editor for model.layers[layer].params[param][index]."""
        value = weight_of(self._model, layer, param, index)
        name = f"{self._model.layers[layer].name}.{param}[{', '.join(map(str, index))}]"
        self.editor.open(name, (layer, param, tuple(index)), value, at)

    def _commit_edit(self, target, value: float) -> None:
        layer, param, index = target
        self.set_param(layer, param, index, value)

    def set_param(self, layer: int, param: str, index: tuple, value: float) -> None:
        """Write one weight or bias into the model, rerun the forward pass, emit weight_edited."""
        if self._model is None:
            raise ValueError("no model to edit")
        value = float(value)
        lay = self._model.layers[layer]
        index = tuple(int(i) for i in index)
        old = self._model.set_weight(layer, param, index, value)  # between two steps
        if self._x is not None:
            self._snap = snapshot_from_input(self._model, self._columns, self._x)
        else:
            self._snap = empty_snapshot(self._columns, self._model)
        self._phase, self._column = "idle", None
        self._banner_override = (
            f"You set {lay.name}.{param}[{', '.join(map(str, index))}] from {fmt(old)} to "
            f"{fmt(value)}; the forward pass ran again with the new value.")
        self._refresh(new_snapshot=True)
        self.weight_edited.emit(int(layer), param, index, value)

