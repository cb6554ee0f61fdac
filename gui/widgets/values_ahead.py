"""A walk-through's table of every number, kept from answering "Ask me first".

The backprop and RNN walk-throughs list every number of a training step in a table the
learner can click through, while the diagram beside it shows "?" for what has not been
reached. With View ▸ Ask me first on, the lesson asks "Will z be positive or negative?"
before the step that computes z, so the table must not show z (or any later number, or a
tooltip that gives it away) until the walk gets there.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableWidget

#: what a row ahead shows in place of its value
NOT_YET = "?"
_VALUE = Qt.ItemDataRole.UserRole + 41    # the value text the lesson wrote
_TIP = Qt.ItemDataRole.UserRole + 42      # the tooltip the lesson wrote


def hide_values_ahead(table: QTableWidget, value_column: int, current: int,
                      hide: bool) -> None:
    """While `hide`, rows after `current` show NOT_YET in `value_column` and no tooltips;
    otherwise every row shows what the lesson wrote. The lesson keeps filling the table as
    it did: what it wrote is remembered in each item the first time this function sees it,
    so call it again after every refill (the lessons do, each time they show a step)."""
    for row in range(table.rowCount()):
        ahead = hide and row > current
        for column in range(table.columnCount()):
            item = table.item(row, column)
            if item is None:
                continue
            if item.data(_TIP) is None:       # an item the lesson has just (re)written
                item.setData(_TIP, item.toolTip())
                if column == value_column:
                    item.setData(_VALUE, item.text())
            item.setToolTip("" if ahead else item.data(_TIP))
            if column == value_column:
                item.setText(NOT_YET if ahead else item.data(_VALUE))
