"""What "a lesson fits the window" means, for the walks that open every lesson: the window
kept its size, the lesson got at least its minimum size, and every visible button and
drop-down is whole (a button sized by design still holds its text), and no progress bar
is an empty box."""
from PySide6.QtWidgets import QAbstractButton, QComboBox, QProgressBar

SIZE = (1280, 800)


def clipped(lesson) -> list[str]:
    bad = []
    for w in lesson.findChildren(QAbstractButton) + lesson.findChildren(QComboBox):
        if not w.isVisible():
            continue
        name = w.accessibleName() or getattr(w, "text", lambda: "")() or type(w).__name__
        placed_by_hand = w.parentWidget() is not None and w.parentWidget().layout() is None
        fixed = w.minimumSize() == w.maximumSize() or placed_by_hand
        if fixed and isinstance(w, QAbstractButton):
            # a button sized by design (the playground's "−" and "+") must still hold its text
            need = w.fontMetrics().horizontalAdvance(w.text()) + 4
            if need > w.width():
                bad.append(f"{name}: text needs {need} px, has {w.width()}")
            continue
        need_w = w.minimumWidth() or w.minimumSizeHint().width()
        need_h = w.minimumHeight() or w.minimumSizeHint().height()
        if w.width() < need_w - 1 or w.height() < need_h - 1:
            bad.append(f"{name}: {w.width()}×{w.height()} < {need_w}×{need_h}")
    return bad


def misfit(window, lesson) -> list[str]:
    """What does not fit of the lesson open in `window` (built at SIZE); a window that grew
    is put back to SIZE, so that the next lesson is judged on its own."""
    found = []
    if (window.width(), window.height()) != SIZE:
        found.append(f"the window grew to {window.width()}×{window.height()}")
        window.resize(*SIZE)
    hint = lesson.minimumSizeHint()
    if hint.width() > lesson.width() or hint.height() > lesson.height():
        found.append(f"needs {hint.width()}×{hint.height()}, has "
                     f"{lesson.width()}×{lesson.height()}")
    return found + clipped(lesson) + blank_progress_bars(lesson)


def blank_progress_bars(lesson) -> list[str]:
    """A progress bar at rest says something ("ready", "not trained"): one whose value was
    never set shows an empty box, which reads as broken. A busy bar (range 0-0) is fine."""
    return [f"{w.accessibleName() or 'a progress bar'}: an empty box"
            for w in lesson.findChildren(QProgressBar)
            if w.isVisible() and w.isTextVisible() and w.maximum() > w.minimum()
            and not w.text()]
