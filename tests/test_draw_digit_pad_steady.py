"""The drawing pad in the "Draw a digit" lesson stays put while the networks answer.

A learner draws while guesses arrive: if the answer's text widened the panel beside the pad,
the pad shrank under the pen (strokes landed off target) and QPainter printed warnings.
"""
import pytest
from PySide6.QtCore import QPoint, Qt, QtMsgType
from PySide6.QtTest import QTest

from gui.main_window import MainWindow

TIMEOUT = 20_000
# a short slanted bar: an unsure answer, whose longer numbers ("p = 0.2791") once widened
# the panel beside the pad
SLANT = [(0.3, 0.3), (0.35, 0.33), (0.4, 0.37), (0.45, 0.4), (0.5, 0.43), (0.55, 0.47),
         (0.6, 0.5)]


def _pt(pad, x, y):
    side = min(pad.width(), pad.height())
    return QPoint(int((pad.width() - side) / 2 + x * side),
                  int((pad.height() - side) / 2 + y * side))


@pytest.fixture
def window(qtbot):
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    assert win.select_lesson("Draw a digit")
    yield win
    win.close()


def _settle(qtbot, les):
    qtbot.waitUntil(lambda: les._shown_generation == les._generation, timeout=TIMEOUT)


def _qt_warnings(qtlog):
    return [r.message for r in qtlog.records
            if r.type in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg)
            and "propagateSizeHints" not in r.message]  # the offscreen platform's own note


def test_the_pad_keeps_its_size_and_place_while_guesses_arrive_mid_stroke(window, qtbot,
                                                                          qtlog):
    les = window.current_lesson()
    pad = les.pad
    qtbot.wait(50)
    before = pad.geometry(), pad.mapTo(window, QPoint(0, 0))
    button, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QTest.mousePress(pad, button, none, _pt(pad, *SLANT[0]))
    for x, y in SLANT[1:4]:
        QTest.mouseMove(pad, _pt(pad, x, y))
    _settle(qtbot, les)  # the first guess is on screen, the pen still down
    qtbot.wait(50)       # and the layout has reacted to it
    for x, y in SLANT[4:]:
        QTest.mouseMove(pad, _pt(pad, x, y))
    QTest.mouseRelease(pad, button, none, _pt(pad, *SLANT[-1]))
    _settle(qtbot, les)
    qtbot.wait(50)
    assert les.panel.guess.text() != ""  # the answer really arrived
    assert (pad.geometry(), pad.mapTo(window, QPoint(0, 0))) == before
    assert _qt_warnings(qtlog) == []
    # the stroke's end is where the pointer let go (on the recognition canvas too)
    ink = 255 - pad.image().astype(int)
    n = ink.shape[0]
    x, y = SLANT[-1]
    r, c = int(y * n), int(x * n)
    assert ink[r - 3:r + 4, c - 3:c + 4].max() > 200
