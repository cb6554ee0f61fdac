"""Status text is never cut (issue 15 item 12): at 1280×800 a long message wraps onto a
second line, a longer one ends in "…" at a word with the whole text in the tooltip."""
from __future__ import annotations

from PySide6.QtCore import QRect, Qt

from gui.lessons.base import Lesson
from gui.main_window import MainWindow


class Talker(Lesson):
    title = "Talker"
    subtitle = "Says long things in the status bar."


def _window(qtbot):
    win = MainWindow(lessons=[Talker])
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    win.navigator.setCurrentRow(1)
    qtbot.waitExposed(win)
    return win


def _fits(bar) -> bool:
    label = bar.message_label
    # the label lies wholly inside the bar, and the bar inside the window
    if label.geometry().bottom() >= bar.height() or \
            bar.geometry().bottom() >= bar.window().height():
        return False
    need = label.fontMetrics().boundingRect(
        QRect(0, 0, label.contentsRect().width(), 100_000), int(Qt.TextFlag.TextWordWrap),
        label.text())
    return need.height() <= label.contentsRect().height() and \
        need.width() <= label.contentsRect().width()


def test_a_long_message_wraps_whole(qtbot):
    win = _window(qtbot)
    bar = win.statusBar()
    one_line = bar.message_label.contentsRect().width() // bar.message_label.fontMetrics() \
        .horizontalAdvance("x")
    text = " ".join(["Training on 5,000 images for 3 epochs;"] * (one_line // 40 + 2))
    win.current_lesson().show_status(text)
    qtbot.wait(10)
    assert bar.currentMessage() == text
    assert bar.shown_text() == text and _fits(bar)
    assert bar.message_label.height() > bar.message_label.fontMetrics().lineSpacing() + 2


def test_a_very_long_message_is_shortened_with_the_whole_text_in_a_tooltip(qtbot):
    win = _window(qtbot)
    bar = win.statusBar()
    text = " ".join(f"word{i}" for i in range(600)) + " END"
    win.current_lesson().show_status(text)
    qtbot.wait(10)
    shown = bar.shown_text()
    assert shown.endswith(" …") and text.startswith(shown[:-2])
    assert bar.message_label.toolTip() == text and _fits(bar)
    # a short one afterwards is shown whole, on one line, without a tooltip
    win.current_lesson().show_status("Ready.")
    assert bar.shown_text() == "Ready." and bar.message_label.toolTip() == ""


def test_a_narrower_window_refits_the_message(qtbot):
    win = _window(qtbot)
    bar = win.statusBar()
    text = " ".join(f"word{i}" for i in range(60))
    win.current_lesson().show_status(text)
    win.resize(700, 800)
    qtbot.wait(20)
    assert _fits(bar)
    assert bar.shown_text() == text or bar.message_label.toolTip() == text


def test_a_timed_message_goes_away(qtbot):
    win = _window(qtbot)
    win.current_lesson().show_status("Saved.", 50)
    assert win.statusBar().currentMessage() == "Saved."
    qtbot.waitUntil(lambda: win.statusBar().currentMessage() == "", timeout=2000)
    assert win.statusBar().shown_text() == ""
