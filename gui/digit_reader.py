"""Draw a digit's reader: the drawing pad's readings run in a background worker fed through a
one-slot mailbox, so the pad never waits for a network and a stale drawing is never read."""
from __future__ import annotations

import threading
import time

from core.digits import to_mnist
from core.teaching.teach import read_drawing
from gui.app import current_worker


class Mailbox:
    """Holds only the newest request: putting a new one drops the unread one."""

    def __init__(self):
        self._cond = threading.Condition()
        self._item = None
        self._closed = False

    def put(self, item) -> None:
        with self._cond:
            self._item = item
            self._cond.notify()

    def take(self, timeout: float):
        with self._cond:
            if self._item is None and not self._closed:
                self._cond.wait(timeout)
            item, self._item = self._item, None
            return item

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._item = None
            self._cond.notify_all()


def recognise(request) -> dict:
    """request: (generation, drawing, models, selected key, saliency wanted, readable: read
    by the plain-NumPy forward pass while the fast kernels compile)."""
    generation, drawing, models, selected, want_saliency, readable = request
    t0 = time.perf_counter()
    image28 = to_mnist(drawing)  # (28, 28)
    readings, errors = {}, {}
    for key, model in models.items():
        try:
            readings[key] = read_drawing(model, drawing, want_saliency and key == selected,
                                         image28=image28, readable=readable)
        except Exception as exc:  # noqa: BLE001 - a broken network must not stop the pad
            errors[key] = f"{type(exc).__name__}: {exc}"
    return {"generation": generation, "image": image28, "readings": readings,
            "errors": errors, "ms": (time.perf_counter() - t0) * 1e3, "readable": readable}


def recognition_loop(mailbox: Mailbox) -> None:
    worker = current_worker()
    while not worker.is_cancelled():
        request = mailbox.take(0.25)
        if request is None:
            continue
        worker.report(recognise(request), force=True)
