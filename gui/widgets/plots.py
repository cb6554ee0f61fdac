"""Plot helpers the theory lessons share (neuron, activations, losses, gradient descent).

A light pyqtgraph plot with labelled axes and a grid, whose legend sits in a row below the
plot so it never hides a data point.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QGuiApplication


def text_size() -> str:
    size = QGuiApplication.font().pointSizeF()
    return f"{size if size > 0 else 10:g}pt"


#: pixels above a plot, so a tick label at the very top of its range is not cut in half
TOP_ROOM = 8


def leave_room_above(plot: pg.PlotWidget) -> None:
    """Give a bare pyqtgraph PlotWidget the room above its axes that LegendPlot has."""
    plot.getPlotItem().layout.setContentsMargins(1, TOP_ROOM, 1, 1)


class LegendPlot(pg.GraphicsLayoutWidget):
    """A light plot with labelled axes and a grid, and its legend in a row *below* it,
    so the legend never hides a data point. Items added with `name=` join the legend."""

    def __init__(self, x_label: str, y_label: str, legend_columns: int = 3, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.ci.layout.setContentsMargins(2, TOP_ROOM, 2, 2)
        # no context menu: built with it and then switched off, pyqtgraph makes and throws
        # away a menu per plot (~6 ms each, on the GUI thread as a lesson opens)
        self.plot_item = self.addPlot(row=0, col=0, enableMenu=False)
        item = self.plot_item
        for side in ("left", "bottom"):
            axis = item.getAxis(side)
            axis.setPen(pg.mkPen("#5b626c"))
            axis.setTextPen(pg.mkPen("#1d232b"))
        # "log loss (x0.001)" reads as a different unit; and on the hidden top and right
        # axes the prefix re-typeset their (empty) label at every change of range
        for side in ("left", "bottom", "top", "right"):
            item.getAxis(side).enableAutoSIPrefix(False)
        item.setLabel("bottom", x_label, color="#1d232b", size=text_size())
        item.setLabel("left", y_label, color="#1d232b", size=text_size())
        item.showGrid(x=True, y=True, alpha=0.18)
        item.hideButtons()
        self.legend = None
        if legend_columns:
            self.legend = pg.LegendItem(colCount=legend_columns, labelTextColor="#1d232b",
                                        labelTextSize=text_size(), horSpacing=8, frame=False)
            self.addItem(self.legend, row=1, col=0)
            item.legend = self.legend

    def add_legend_entry(self, item, name: str) -> None:
        if self.legend is not None:
            self.legend.addItem(item, name)


def make_plot(x_label: str, y_label: str, legend_columns: int = 3) -> LegendPlot:
    return LegendPlot(x_label, y_label, legend_columns)
