"""Random wrong clicks on every lesson: does anything raise?

    .venv/bin/python scripts/wrong_clicks.py [--seed 0] [--actions 40] [Lesson class names...]

Opens the main window offscreen and, lesson by lesson, does `--actions` random things a
hurried learner might: clicks any enabled button (Play, Stop, Train, Reset, ...), picks any
entry of a drop-down, sets a spin box to its minimum, maximum or anything between, moves a
slider, types nonsense into a text field and presses Enter, switches tabs, or uses the mouse
on a picture (a plot, the network diagram, the drawing pad: click, double-click, drag,
hover or wheel at a random point); with pauses of
10-200 ms between, so training and animations run while it goes on; and now and then it
leaves for another lesson and comes back, toggles presentation mode or "Ask me first",
resizes the window or presses a lesson key (Space, arrows, R, 0-4). File dialogs answer
"cancel", message boxes "No", and downloads are never started (no network here).

Every error a handler raises is recorded with the action that caused it; the exit code
is the number of errors (0: nothing raised). A run takes about 4 minutes at 80 actions a
lesson on a 2-core machine: a tool for before a release, not part of the test suite.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

#: nonsense a learner might type into a field
TEXTS = ["", "abc", "1e309", "-5", "0", "1, 2, 3", "nan", "   ", "9" * 40, "0.5,-0.3,,", "é∑"]
#: buttons that would reach the network
NEVER = ("download",)


def _answer_dialogs_with_no() -> None:
    from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog, QMessageBox

    QFileDialog.getOpenFileName = staticmethod(lambda *a, **k: ("", ""))
    QFileDialog.getSaveFileName = staticmethod(lambda *a, **k: ("", ""))
    QFileDialog.getExistingDirectory = staticmethod(lambda *a, **k: "")
    for name in ("warning", "critical", "information", "question"):
        setattr(QMessageBox, name, staticmethod(lambda *a, **k: QMessageBox.StandardButton.No))
    QInputDialog.getText = staticmethod(lambda *a, **k: ("", False))
    QDialog.exec = lambda self: (self.reject(), 0)[1]


def _controls(lesson) -> list:
    from PySide6.QtWidgets import (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit,
                                   QSlider, QTabWidget)

    found = []
    for kind in (QAbstractButton, QComboBox, QAbstractSpinBox, QSlider, QLineEdit, QTabWidget):
        found += lesson.findChildren(kind)
    return [w for w in found if w.isVisible() and w.isEnabled()
            and not (isinstance(w, QAbstractButton) and any(n in w.text().lower() for n in NEVER))
            # the line edit inside a spin box or an editable drop-down is theirs
            and not (isinstance(w, QLineEdit) and isinstance(w.parent(), (QAbstractSpinBox,
                                                                           QComboBox)))]


def _pictures(lesson) -> list:
    """What takes the mouse directly: graphics views (plots, diagrams; their viewport gets
    the events) and our own widgets that handle mouse events (the drawing pad, grids)."""
    from PySide6.QtWidgets import QGraphicsView, QWidget

    def ours(w):
        return any(c.__module__.startswith("gui.") and any(
            m in c.__dict__ for m in ("mousePressEvent", "mouseMoveEvent", "wheelEvent"))
            for c in type(w).__mro__)

    views = [v.viewport() for v in lesson.findChildren(QGraphicsView) if v.isVisible()]
    return views + [w for w in lesson.findChildren(QWidget)
                    if w.isVisible() and not isinstance(w, QGraphicsView) and ours(w)]


def _mouse(w, rng) -> str:
    """One random mouse gesture at random points of `w`."""
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QMouseEvent, QWheelEvent
    from PySide6.QtWidgets import QApplication, QGraphicsView

    view = w.parent()
    items = view.items() if isinstance(view, QGraphicsView) and view.viewport() is w else []

    def point():
        if items and rng.random() < 0.5:       # aim at a node, an edge, a label: small targets
            centre = items[rng.randrange(len(items))].sceneBoundingRect().center()
            return QPointF(view.mapFromScene(centre))
        return QPointF(rng.uniform(0, max(w.width() - 1, 0)), rng.uniform(0, max(w.height() - 1, 0)))

    def send(kind, at, button, buttons):
        QApplication.sendEvent(w, QMouseEvent(kind, at, w.mapToGlobal(at), button, buttons,
                                              Qt.KeyboardModifier.NoModifier))

    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    E = QMouseEvent.Type
    gesture = rng.choice(["click", "double-click", "drag", "hover", "wheel"])
    a = point()
    if gesture == "hover":
        for _ in range(5):
            send(E.MouseMove, point(), none, none)
    elif gesture == "wheel":
        delta = QPoint(0, rng.choice([-360, -120, 120, 360]))
        QApplication.sendEvent(w, QWheelEvent(a, w.mapToGlobal(a), QPoint(), delta, none,
                                              Qt.KeyboardModifier.NoModifier,
                                              Qt.ScrollPhase.NoScrollPhase, False))
    else:
        send(E.MouseButtonPress, a, left, left)
        if gesture == "drag":
            for _ in range(6):
                a = point()
                send(E.MouseMove, a, none, left)
        send(E.MouseButtonRelease, a, left, none)
        if gesture == "double-click":
            send(E.MouseButtonDblClick, a, left, left)
            send(E.MouseButtonRelease, a, left, none)
    shown = view if items or isinstance(view, QGraphicsView) and view.viewport() is w else w
    return f"{gesture} on {type(shown).__name__}"


def _act(w, rng) -> str:
    """Do one random thing to `w`; returns what, for the report."""
    from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QSlider, QSpinBox

    name = f"{type(w).__name__}({w.accessibleName() or getattr(w, 'text', lambda: '')()})"
    if isinstance(w, QAbstractButton):
        w.click()
        return f"click {name}"
    if isinstance(w, QComboBox):
        i = rng.randrange(w.count()) if w.count() else 0
        w.setCurrentIndex(i)
        return f"{name} -> {w.itemText(i)!r}"
    if isinstance(w, QSlider):
        v = rng.randint(w.minimum(), w.maximum())
        w.setValue(v)
        return f"{name} = {v}"
    if isinstance(w, QLineEdit):
        text = rng.choice(TEXTS)
        w.setText(text)
        w.returnPressed.emit()
        w.editingFinished.emit()
        return f"{name} <- {text!r}"
    if hasattr(w, "setValue"):                 # spin boxes: the ends are where bugs live
        lo, hi = w.minimum(), w.maximum()
        v = rng.choice([lo, hi, lo + (hi - lo) * rng.random() ** 3])
        w.setValue(int(v) if isinstance(w, QSpinBox) else v)
        return f"{name} = {v}"
    i = rng.randrange(w.count())               # a tab widget
    w.setCurrentIndex(i)
    return f"tab {i} of {name}"


def _window_act(window, cls, classes, rng) -> str:
    """Now and then, what a learner does to the window rather than to a lesson: leave for
    another lesson and come back (whatever runs here is stopped), toggle presentation mode
    or "Ask me first", resize, press a lesson key."""
    choice = rng.randrange(5)
    if choice == 3:
        window.ask_first_action.trigger()
        return f"ask me first {'on' if window.ask_first_action.isChecked() else 'off'}"
    if choice == 4:                            # the lesson keys (and 1-4 answer a question)
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        key = rng.choice([Qt.Key.Key_Space, Qt.Key.Key_Right, Qt.Key.Key_Left, Qt.Key.Key_R,
                          Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_4, Qt.Key.Key_0])
        target = window.focusWidget() or window
        QTest.keyClick(target, key)
        return f"key {key.name} on {type(target).__name__}"
    if choice == 0:
        other = rng.choice(classes)
        window.select_lesson(other)
        window.select_lesson(cls)
        return f"to {other.__name__} and back"
    if choice == 1:
        window.presentation_action.trigger()
        return f"presentation mode {'on' if window.presentation_action.isChecked() else 'off'}"
    size = rng.choice([(1280, 800), (1024, 700), (1600, 1000)])
    window.resize(*size)
    return f"window {size[0]}x{size[1]}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--actions", type=int, default=40, help="per lesson")
    ap.add_argument("--gc-thread", action="store_true",
                    help="collect garbage from a background thread every 50 ms, as a training "
                         "thread's allocations may at any moment: a widget Python lets go of "
                         "must survive being collected off the GUI thread")
    ap.add_argument("lessons", nargs="*", help="lesson class names (default: all)")
    args = ap.parse_args()

    from gui.app import create_application

    app = create_application([])
    _answer_dialogs_with_no()
    from gui.lessons import lesson_classes
    from gui.main_window import MainWindow

    where = {"lesson": "", "action": "opening"}
    errors = []

    def record(kind, value, tb):
        errors.append((where["lesson"], where["action"],
                       "".join(traceback.format_exception(kind, value, tb))))
        print(f"!! {where['lesson']}, after {where['action']}: {kind.__name__}: {value}",
              flush=True)

    sys.excepthook = record

    def pump(seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.005)

    rng = random.Random(args.seed)
    import threading

    collecting = threading.Event()
    if args.gc_thread:
        import gc

        def collect():
            while collecting.is_set():
                gc.collect()
                time.sleep(0.05)

        collecting.set()
        collector = threading.Thread(target=collect, daemon=True, name="gc")
        collector.start()
    gestures: dict[str, int] = {}
    window = MainWindow(warm_up_engine=False)
    window.resize(1280, 800)
    window.show()
    classes = lesson_classes()
    for cls in classes:
        if args.lessons and cls.__name__ not in args.lessons:
            continue
        where.update(lesson=cls.__name__, action="opening")
        window.select_lesson(cls)
        pump(0.4)
        lesson = window.current_lesson()
        for _ in range(args.actions):
            controls = _controls(lesson)
            if not controls:
                break
            try:
                roll, pictures = rng.random(), _pictures(lesson)
                if roll < 0.1:
                    where["action"] = _window_act(window, cls, classes, rng)
                elif roll < 0.3 and pictures:
                    where["action"] = _mouse(rng.choice(pictures), rng)
                    gestures[where["action"]] = gestures.get(where["action"], 0) + 1
                else:
                    where["action"] = _act(rng.choice(controls), rng)
            except Exception:  # noqa: BLE001 - raised by the action itself: the same report
                record(*sys.exc_info())
            pump(rng.choice([0.01, 0.05, 0.2]))
        pump(0.3)
        print(f"{cls.__name__}: {args.actions} actions", flush=True)
    if collecting.is_set():                    # the app's own threads end before it exits
        collecting.clear()
        collector.join()
    where.update(lesson="(closing the window)", action="close")
    window.close()
    pump(0.5)
    for lesson, action, text in errors:
        print("=" * 70, f"\n{lesson}, after {action}\n{text}")
    print("mouse gestures:", ", ".join(f"{k} ×{n}" for k, n in sorted(gestures.items())))
    print(f"{len(errors)} error(s)")
    return len(errors)


if __name__ == "__main__":
    sys.exit(main())
