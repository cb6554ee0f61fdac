"""The parts of a NetworkDiagram around its view: phase banner, formula strip, legends, controls.

    ┌ FORWARD PASS  Forward (layer 1 of 2): the hidden layer computes z = x·W + b …          ┐
    │ the network (DiagramView)                                                          │
    │ formula of the hovered / selected quantity, with its numbers                       │
    └ [weight legend] [activation legend]          Edges [▾]  top K [150]  units [16]   ┘
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout,
                               QWidget)

from gui.widgets.colors import ColorLegend
from gui.widgets.numbers import mono_font

EDGE_MODES = {"weight": "weight w", "contribution": "contribution w·x (this sample)",
              "gradient": "gradient ∂L/∂w"}


def build_chrome(w) -> None:
    """Create w.banner, w.info, w.edge_legend, w.act_legend, w.controls and lay out w.

    `w` is the NetworkDiagram; its view must exist already.
    """
    w.banner = QLabel(w)
    w.banner.setObjectName("diagramBanner")
    w.banner.setWordWrap(True)
    w.banner.setTextFormat(Qt.TextFormat.RichText)
    w.banner.setAccessibleName("Phase of the training step")
    # always room for two lines, so a longer sentence never makes the diagram jump
    w.banner.setFixedHeight(2 * w.banner.fontMetrics().lineSpacing() + 16)

    w.info = QLabel(w)
    w.info.setObjectName("diagramFormula")
    w.info.setFont(mono_font())
    w.info.setWordWrap(True)
    w.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    w.info.setAccessibleName("Formula of the hovered or selected quantity")
    w.info.setFixedHeight(3 * w.info.fontMetrics().lineSpacing() + 10)
    w.info.setStyleSheet("QLabel#diagramFormula { background: #fafbfc; border: 1px solid"
                         " #d5dae1; border-radius: 4px; padding: 3px 6px; }")

    # three ticks (−v, 0, +v): five collide when a lesson leaves the row little room
    w.edge_legend = ColorLegend("diverging", vmax=1.0, label=EDGE_MODES["weight"], ticks=3)
    w.act_legend = ColorLegend("sequential", 0.0, 1.0, label="activation a (node fill)",
                               ticks=3)

    w.mode_combo = QComboBox(w)
    for key, text in (("weight", "weights"), ("contribution", "contributions w·x"),
                      ("gradient", "gradients ∂L/∂w")):
        w.mode_combo.addItem(text, key)
    w.mode_combo.setToolTip("What the colour and thickness of each edge show")
    w.mode_combo.setAccessibleName("Edges show")
    w.mode_combo.currentIndexChanged.connect(
        lambda i: w.set_edge_mode(w.mode_combo.itemData(i)))
    w.k_spin = QSpinBox(w)
    w.k_spin.setRange(1, 5000)
    w.k_spin.setValue(w._max_edges)
    w.k_spin.setToolTip("Only the strongest K weights between two layers are drawn "
                        "(small networks are always drawn fully)")
    w.k_spin.setAccessibleName("Strongest edges drawn per layer")
    w.k_spin.valueChanged.connect(w.set_max_edges)
    w.units_spin = QSpinBox(w)
    w.units_spin.setRange(2, 64)
    w.units_spin.setValue(w._max_units)
    w.units_spin.setToolTip("Layers with more units show only this many (the ones with "
                            "the strongest weights) and a '+N more' label")
    w.units_spin.setAccessibleName("Units shown per layer")
    w.units_spin.valueChanged.connect(w.set_max_units)

    w.controls = QWidget(w)
    c = QHBoxLayout(w.controls)
    c.setContentsMargins(0, 0, 0, 0)
    for text, widget in (("Edges", w.mode_combo), ("top K", w.k_spin),
                         ("units", w.units_spin)):
        lbl = QLabel(text, w.controls)
        lbl.setBuddy(widget)
        c.addWidget(lbl)
        c.addWidget(widget)

    bottom = QHBoxLayout()
    bottom.setContentsMargins(0, 0, 0, 0)
    for legend in (w.edge_legend, w.act_legend):
        bottom.addWidget(legend, 1)
        bottom.addSpacing(10)
    bottom.addStretch(1)
    bottom.addWidget(w.controls)
    lay = QVBoxLayout(w)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(4)
    lay.addWidget(w.banner)
    lay.addWidget(w.view, 1)
    lay.addWidget(w.info)
    lay.addLayout(bottom)
