"""Show a model: its summary text, its layers with output shapes, its parameter count,
and its network diagram (frozen layers marked), so a learner's own model opened with
File ▸ Open model… is drawn like the lessons' networks.

Reads only public model attributes (`layers`, `summary()`, `count_params()`, a layer's
`name`, `output_shape`, `count_params()`), so any model the engine can build shows here.
"""
from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QHeaderView,
                               QLabel, QPlainTextEdit, QSplitter, QStackedWidget,
                               QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout,
                               QWidget)

from gui.widgets.numbers import mono_font


def _shape_text(shape) -> str:
    if shape is None:
        return "?"
    # None: a free time axis (sequences of any length), written as Keras's summary does
    dims = ", ".join("None" if d is None else str(int(d)) for d in shape)
    return f"(batch, {dims})"


def _safe(call, default):
    try:
        return call()
    except Exception:  # noqa: BLE001 - a half-built model still shows what it can
        return default


def _summary_text(model) -> str:
    """The engine's summary text; a core.keras model's summary() prints it (as Keras's
    does) and returns None, so the engine's own method is asked for the text."""
    from core.model import Sequential

    if isinstance(model, Sequential):
        return Sequential.summary(model)
    return str(model.summary())


def layer_rows(model) -> list[tuple[str, str, str, int]]:
    """(name, type, output shape, parameters) for each layer, in order."""
    rows = []
    shape = getattr(model, "input_shape", None)
    for i, layer in enumerate(getattr(model, "layers", []) or []):
        out = getattr(layer, "output_shape", None)
        if out is None and shape is not None and hasattr(layer, "compute_output_shape"):
            out = _safe(lambda: layer.compute_output_shape(tuple(shape)), None)
        shape = out
        name = getattr(layer, "name", None) or f"layer_{i}"
        n = _safe(lambda: int(layer.count_params()), 0) if hasattr(layer, "count_params") else 0
        rows.append((str(name), type(layer).__name__, _shape_text(out), n))
    return rows


class ModelInspector(QWidget):
    """Header (file, parameter count), a layer table and the `summary()` text."""

    COLUMNS = ("Layer", "Type", "Output shape", "Parameters")
    #: the learner changed a weight or bias of the model in the diagram tab
    model_edited = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        self.header = QLabel("No model open.", self)
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.header)

        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName("Model views")
        lay.addWidget(self.tabs, 1)
        split = QSplitter(Qt.Orientation.Vertical, self)
        self.tabs.addTab(split, "Layers and summary")
        self.table = QTableWidget(0, len(self.COLUMNS), self)
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # spare width goes to the shape column, keeping parameter counts near their layer
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip("The model's layers in order: the output shape each one "
                              "produces and how many trainable numbers it holds")
        self.table.setAccessibleName("Layers")
        split.addWidget(self.table)
        self.summary = QPlainTextEdit(self)
        self.summary.setObjectName("modelSummary")
        self.summary.setReadOnly(True)
        self.summary.setFont(mono_font())
        self.summary.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.summary.setToolTip("model.summary(), as the engine prints it")
        self.summary.setAccessibleName("Model summary")
        split.addWidget(self.summary)
        self.diagram_page = DiagramPage(self)
        self.diagram_page.weight_edited.connect(self.model_edited)
        self.tabs.addTab(self.diagram_page, "Network diagram")
        self.tabs.setTabToolTip(1, "The model drawn as the lessons draw networks: columns of "
                                   "units, weights as coloured lines, frozen layers locked")
        self.model = None
        self._header = "No model open."

    def set_model(self, model, path: str | None = None) -> None:
        self.model = model
        total = _safe(lambda: int(model.count_params()), None)
        where = os.path.basename(path) if path else "model"
        total_text = f"{total:,} parameters" if total is not None else "parameters unknown"
        n_layers = len(getattr(model, "layers", []) or [])
        self._header = f"<b>{where}</b> — {n_layers} layers, {total_text}"
        self.header.setText(self._header)
        self.header.setToolTip(path or "")
        rows = layer_rows(model)
        self.table.setRowCount(len(rows))
        mono = mono_font()
        layers = getattr(model, "layers", []) or []
        for r, (name, kind, shape, n) in enumerate(rows):
            frozen = n > 0 and r < len(layers) and getattr(layers[r], "trainable", True) is False
            for c, text in enumerate((name, kind, shape, f"{n:,}" + (" (frozen)" if frozen else ""))):
                item = QTableWidgetItem(text)
                if c >= 2:
                    item.setFont(mono)
                if c == 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    item.setToolTip("weights + biases of this layer" + (
                        "; frozen (trainable = False): training never changes them"
                        if frozen else ""))
                self.table.setItem(r, c, item)
        self.summary.setPlainText(_safe(lambda: _summary_text(model), "(summary unavailable)"))
        self.diagram_page.set_model(model)


    def set_changed(self, changed: bool) -> None:
        """Say above the tabs that the model differs from its file (a weight was typed in)."""
        self.header.setText(self._header + (" — <i>changed, not saved (File ▸ Save model "
                                            "as…)</i>" if changed else ""))


class DiagramPage(QStackedWidget):
    """The model's network diagram, or one sentence saying why it cannot be drawn."""

    #: a weight or bias was typed into the diagram (layer, param, index, value)
    weight_edited = Signal(int, str, tuple, float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setAccessibleName("Why the diagram is not drawn")
        self.addWidget(self.message)
        self.diagram = None          # built on the first model: the page costs nothing before

    def set_model(self, model) -> None:
        try:
            if self.diagram is None:
                from gui.widgets.diagram.network import NetworkDiagram

                self.diagram = NetworkDiagram(self)
                self.diagram.weight_edited.connect(self.weight_edited)
                self.addWidget(self.diagram)
            self.diagram.set_model(model)
        except (ValueError, TypeError, AttributeError) as exc:
            self.message.setText(f"This model cannot be drawn as a network diagram: {exc}.")
            self.setCurrentWidget(self.message)
            return
        self.message.setText("")
        self.setCurrentWidget(self.diagram)

    def is_drawn(self) -> bool:
        return self.diagram is not None and self.currentWidget() is self.diagram


class ModelInspectorDialog(QDialog):
    """A non-modal window around ModelInspector, reused for every model opened."""

    #: the learner changed the model in the diagram tab (it now differs from its file)
    model_edited = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Model")
        self._path: str | None = None
        self.inspector = ModelInspector(self)
        self.inspector.model_edited.connect(self.model_edited)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.inspector, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setToolTip("Close this window (the model stays open)")
        close.setAccessibleName("Close")
        lay.addWidget(buttons)
        self.resize(900, 620)          # room for the network diagram tab

    def set_model(self, model, path: str | None = None) -> None:
        self.inspector.set_model(model, path)
        self._path = path
        self.set_changed(False)

    def set_changed(self, changed: bool) -> None:
        """Say in the title whether the model differs from its file, as the status bar does."""
        name = os.path.basename(self._path) if self._path else ""
        title = f"Model — {name}" if name else "Model"
        self.setWindowTitle(title + (" (changed, unsaved)" if changed else ""))
        self.inspector.set_changed(changed)
