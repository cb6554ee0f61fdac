"""Guard against a PySide6 6.12.0 bug on CPython < 3.12: Qt calls drop refs to None/True/False.

On that combination every Qt method returning void (setPen, setText, setInterval, …)
decrements None's reference count without having incremented it, and a bool passed
through a signal does the same to True/False; after a few thousand calls CPython aborts
with "none_dealloc: deallocating None" (or bool_dealloc). From 3.12 on these objects are
immortal and the bug is harmless. An animated diagram makes hundreds of such calls per
frame, so it would crash within one training step.

`keep_none_alive()` restores a large margin when a count runs low. It only acts when a
probe at import shows this build is affected. None is never freed legitimately, so a
too-high count costs nothing. The real fix is a PySide6 release without the bug or
Python ≥ 3.12; this belongs in the application factory once the lead moves it there.
"""
from __future__ import annotations

import ctypes
import sys

_FLOOR = 1 << 20        # top up when fewer references than this remain
_MARGIN = 1 << 30       # about a billion void calls


def _probe() -> bool:
    if sys.version_info >= (3, 12):
        return False
    from PySide6.QtCore import QObject

    obj = QObject()
    before = sys.getrefcount(None)
    for _ in range(16):
        obj.setObjectName("none-guard-probe")
    return sys.getrefcount(None) <= before - 8


AFFECTED = _probe()


def keep_none_alive() -> None:
    if not AFFECTED:
        return
    for singleton in (None, True, False):
        if sys.getrefcount(singleton) < _FLOOR:
            # ob_refcnt is the first field of every CPython object (Py_ssize_t)
            ctypes.c_ssize_t.from_address(id(singleton)).value += _MARGIN


keep_none_alive()
