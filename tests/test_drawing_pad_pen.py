"""The drawing pad's pen on the recognition canvas, and painting while the pad is resized."""
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt, QtMsgType
from PySide6.QtTest import QTest

from core.digits import to_mnist
from core.io import load_model
from gui.widgets.drawing_pad import PEN_WIDTHS, DrawingPad
from resources.paths import model_path


@pytest.fixture
def pad(qtbot):
    p = DrawingPad()
    qtbot.addWidget(p)
    p.resize(300, 300)
    p.show()
    qtbot.waitExposed(p)
    return p


def _pt(pad, x, y):
    side = min(pad.width(), pad.height())
    return QPoint(int((pad.width() - side) / 2 + x * side),
                  int((pad.height() - side) / 2 + y * side))


def _stroke_width_28(x28: np.ndarray) -> float:
    """A vertical bar's width in MNIST pixels: its ink summed across the middle row."""
    return float(x28[14].sum())


@pytest.mark.parametrize("pen", ["thin", "normal", "thick"])
def test_a_small_digit_keeps_the_stroke_of_a_normal_sized_one(pad, pen):
    """to_mnist scales the ink's longer side to 20 px. A bar 0.6 of the pad tall drawn with
    a pen w wide has ink w + 0.6 tall (round caps), so its stroke is 20 w / (0.6 + w) MNIST
    px; a bar a quarter as tall must come out the same (its pen scaled by a quarter), not
    four times as wide (6.7 px for the normal pen at 0.15 before the pen scaled). to_mnist
    rounds a narrow crop to whole pixels, hence the tolerance of 0.75 px."""
    pad.set_pen_width(pen)
    w = PEN_WIDTHS[pen]
    expected = 20 * w / (0.6 + w)
    for height in (0.6, 0.3, 0.15):
        pad.clear()
        pad.add_stroke([(0.5, 0.5 - height / 2), (0.5, 0.5 + height / 2)])
        width = _stroke_width_28(to_mnist(pad.image()))
        assert width == pytest.approx(expected, abs=0.75), height


def test_a_small_one_is_read_as_a_one(pad):
    """A learner's small 1 (an eighth of the pad) once became a blob read as 0 or 9."""
    with model_path("digits_cnn") as path:
        cnn = load_model(path)
    for height in (0.6, 0.25, 0.12):
        pad.clear()
        pad.add_stroke([(0.52, 0.5 - height / 2), (0.5, 0.5 + height / 2)])
        p = cnn.predict(to_mnist(pad.image()).reshape(1, 28, 28, 1))[0]
        assert int(np.argmax(p)) == 1 and p[1] > 0.8, (height, p)


def test_what_the_eraser_wiped_on_screen_is_gone_from_the_small_drawing_too(pad):
    pad.add_stroke([(0.5, 0.35), (0.5, 0.65)])  # a small bar: half the pen on the canvas
    pad.add_stroke([(0.4, 0.5), (0.6, 0.5)], erase=True)  # wipes its middle on screen
    ink = 255 - pad.image().astype(int)
    n = ink.shape[0]
    half_eraser = PEN_WIDTHS["normal"] * 2.5 / 2 * n
    middle = ink[int(n / 2 - half_eraser) + 2:int(n / 2 + half_eraser) - 2]
    assert middle.max() < 10
    assert ink[int(0.37 * n), n // 2] > 200  # the bar's ends are still there


def test_the_screen_shows_the_pen_as_chosen(pad):
    pad.set_pen_width("thick")
    pad.add_stroke([(0.5, 0.45), (0.5, 0.55)])  # small: thinner only on the canvas
    screen = pad.grab().toImage()
    side = min(pad.width(), pad.height())
    y = int((pad.height() - side) / 2 + 0.5 * side)
    row = [screen.pixelColor(x, y).value() for x in range(screen.width())]
    dark = sum(1 for v in row if v < 128)
    assert dark == pytest.approx(PEN_WIDTHS["thick"] * side, abs=3)


def test_resizing_mid_stroke_prints_no_painter_warning_and_keeps_drawing(pad, qtbot, qtlog):
    button, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QTest.mousePress(pad, button, none, _pt(pad, 0.2, 0.5))
    QTest.mouseMove(pad, _pt(pad, 0.4, 0.5))
    pad.resize(260, 260)  # the layout shrinks the pad under the pen
    qtbot.waitUntil(lambda: pad.width() == 260)
    QTest.mouseMove(pad, _pt(pad, 0.6, 0.5))  # painted before the next paint event
    QTest.mouseMove(pad, _pt(pad, 0.8, 0.5))
    QTest.mouseRelease(pad, button, none, _pt(pad, 0.8, 0.5))
    pad.grab()
    warnings = [r.message for r in qtlog.records if r.type == QtMsgType.QtWarningMsg
                and "propagateSizeHints" not in r.message]
    assert warnings == []
    assert pad.stroke_count() == 1
    ink = 255 - pad.image().astype(int)
    n = ink.shape[0]
    assert ink[n // 2 - 3:n // 2 + 4, int(0.75 * n)].max() > 200  # drawn after the resize
