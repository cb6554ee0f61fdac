"""Presentation mode (issue 15 item 16): every lesson, built at 1280×800 with the larger text
and Ask me first on, fits the window and shows every button and drop-down whole. (The same
at normal text with the lesson list shown is checked as test_lessons_open_without_freezing
opens every lesson.)"""
import pytest
from PySide6.QtWidgets import QApplication

from gui import presentation
from gui.main_window import MainWindow
from lesson_fit import SIZE, misfit


@pytest.fixture
def window(qtbot):
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(*SIZE)
    win.show()
    qtbot.waitExposed(win)
    win.ask_first_action.trigger()
    win.presentation_action.trigger()
    yield win
    win.presentation_action.trigger()
    win.ask_first_action.trigger()
    win.close()
    assert not presentation.is_on()


def test_every_lesson_fits_1280x800_in_presentation_mode(qtbot, window):
    assert QApplication.font().pointSizeF() > 0
    problems = {}
    for cls in window.lesson_classes():
        assert window.select_lesson(cls)
        qtbot.wait(60)
        lesson = window.current_lesson()
        assert lesson is not None, f"{cls.title} did not build"
        found = misfit(window, lesson)
        if found:
            problems[cls.title] = found
    assert problems == {}
