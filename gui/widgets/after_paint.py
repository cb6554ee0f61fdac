"""Run a piece of work once a widget is on screen, so that its first paint comes first.

A lesson that starts a worker as it opens (the churn lesson makes its example table in
one) has that worker competing with its own first paint: on two cores the worker's
Python takes the GIL and a core, and the lesson painted 50-100 ms later. Started from
here, the worker begins after the lesson is on screen; the learner sees the lesson at
once and its data a moment later, as they would anyway.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

#: a widget that is never painted (built but not shown) still gets its work after this
FALLBACK_MS = 250


class _AfterFirstPaint(QObject):
    def __init__(self, widget: QWidget, fn: Callable[[], object]):
        super().__init__(widget)
        self._fn = fn
        widget.installEventFilter(self)
        QTimer.singleShot(FALLBACK_MS, self, self._fire)

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and self._fn is not None:
            # queued: after this paint and the rest of the window's
            QTimer.singleShot(0, self, self._fire)
        return False

    def _fire(self) -> None:
        fn, self._fn = self._fn, None
        if fn is not None:
            self.parent().removeEventFilter(self)
            fn()


def after_first_paint(widget: QWidget, fn: Callable[[], object]) -> None:
    """Call `fn()` once, on the GUI thread, just after `widget` is first painted (or after
    FALLBACK_MS if it is not painted by then). Nothing runs if the widget is deleted first.
    Not from an event filter watching `widget` itself: Qt would hand the filter the event
    it is filtering again, and again."""
    _AfterFirstPaint(widget, fn)
