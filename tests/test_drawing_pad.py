"""The drawing pad: strokes from real mouse/touch events, smooth and gap-free; undo, clear, erase."""
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from core.digits import to_mnist
from gui.widgets.drawing_pad import CANVAS_SIZE, PEN_WIDTHS, DrawingPad

SIDE = 300


@pytest.fixture
def pad(qtbot):
    p = DrawingPad()
    qtbot.addWidget(p)
    p.resize(SIDE, SIDE)
    p.show()
    qtbot.waitExposed(p)
    return p


def _pt(pad, x, y):
    """Pad coordinates 0..1 → widget pixels."""
    side = min(pad.width(), pad.height())
    return QPoint(int((pad.width() - side) / 2 + x * side), int((pad.height() - side) / 2 + y * side))


def drag(pad, points, button=Qt.MouseButton.LeftButton):
    QTest.mousePress(pad, button, Qt.KeyboardModifier.NoModifier, _pt(pad, *points[0]))
    for x, y in points[1:]:
        QTest.mouseMove(pad, _pt(pad, x, y))
    QTest.mouseRelease(pad, button, Qt.KeyboardModifier.NoModifier, _pt(pad, *points[-1]))


def ink(pad):
    """Ink 0..1 of the recognition canvas (the pad draws dark on light by default)."""
    return 1.0 - pad.image().astype(np.float64) / 255.0


def test_a_fast_mouse_stroke_is_continuous_between_the_sampled_points(pad, qtbot):
    with qtbot.waitSignal(pad.stroke_finished, timeout=1000):
        drag(pad, [(0.1, 0.1), (0.9, 0.15), (0.2, 0.85), (0.85, 0.9)])  # 3 long jumps
    assert pad.stroke_count() == 1
    img = ink(pad)
    assert img.shape == (CANVAS_SIZE, CANVAS_SIZE)
    # the smoothed curve runs through the midpoint of every pair of sampled points and
    # through both ends, however far apart the samples are
    pts = [(0.1, 0.1), (0.9, 0.15), (0.2, 0.85), (0.85, 0.9)]
    on_curve = [pts[0], pts[-1]] + [((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
                                    for a, b in zip(pts, pts[1:])]
    for x, y in on_curve:
        c, r = int(x * CANVAS_SIZE), int(y * CANVAS_SIZE)
        assert img[r - 2:r + 3, c - 2:c + 3].max() > 0.9, (x, y)
    # the smoothed curve is one connected piece of ink from start to end
    from scipy import ndimage
    labels, count = ndimage.label(img > 0.5)
    assert count == 1
    assert img[0:8].max() < 0.05 and img[:, 0:8].max() < 0.05  # margins stay paper


def test_stroke_width_is_the_pen_width(pad):
    pad.set_pen_width("thick")
    drag(pad, [(0.2, 0.5), (0.5, 0.5), (0.8, 0.5)])
    column = ink(pad)[:, CANVAS_SIZE // 2]
    width = column.sum()  # anti-aliased edges count by their coverage
    assert width == pytest.approx(PEN_WIDTHS["thick"] * CANVAS_SIZE, abs=2.0)


def test_a_digit_drawn_anywhere_becomes_a_centred_28x28_image(pad):
    drag(pad, [(0.55, 0.05), (0.6, 0.2), (0.62, 0.35)])  # a small "1" near the top right
    from scipy import ndimage
    x28 = to_mnist(pad.image())
    assert x28.shape == (28, 28) and x28.max() == pytest.approx(1.0)
    cy, cx = ndimage.center_of_mass(x28)
    assert abs(cy - 14) <= 0.5 + 1e-6 and abs(cx - 14) <= 0.5 + 1e-6
    rows = np.flatnonzero(x28.max(axis=1) > 0.05)
    assert rows[-1] - rows[0] + 1 == 20  # the longer side scaled to 20 px


def test_undo_removes_the_last_stroke_and_clear_empties_the_pad(pad, qtbot):
    drag(pad, [(0.3, 0.2), (0.3, 0.8)])
    one = pad.image()
    drag(pad, [(0.2, 0.5), (0.8, 0.5)])
    assert pad.stroke_count() == 2 and not np.array_equal(pad.image(), one)
    with qtbot.waitSignal(pad.changed, timeout=1000):
        assert pad.undo()
    assert pad.stroke_count() == 1
    # the repaint from the stroke list matches the stroke as drawn live, up to the
    # anti-aliased edge pixels where live pieces overlap
    a, b = pad.image() < 128, one < 128
    assert (a & b).sum() / (a | b).sum() > 0.97
    assert np.mean(np.abs(pad.image().astype(int) - one.astype(int))) < 0.5
    with qtbot.waitSignal(pad.changed, timeout=1000):
        pad.clear()
    assert pad.is_empty() and pad.image().min() == 255
    assert not pad.undo()


def test_right_button_and_eraser_mode_erase(pad):
    drag(pad, [(0.1, 0.5), (0.9, 0.5)])
    r, c = CANVAS_SIZE // 2, CANVAS_SIZE // 2
    assert ink(pad)[r, c] > 0.9
    drag(pad, [(0.5, 0.3), (0.5, 0.7)], button=Qt.MouseButton.RightButton)
    assert ink(pad)[r, c] < 0.05 and ink(pad)[r, CANVAS_SIZE // 5] > 0.9
    pad.set_eraser(True)
    drag(pad, [(0.2, 0.3), (0.2, 0.7)])
    assert ink(pad)[r, CANVAS_SIZE // 5] < 0.05
    assert pad.stroke_count() == 3  # erasing strokes undo like any other
    pad.undo()
    assert ink(pad)[r, CANVAS_SIZE // 5] > 0.9


def test_chalk_mode_draws_light_on_dark(pad):
    drag(pad, [(0.3, 0.3), (0.7, 0.7)])
    pad.set_dark_on_light(False)
    chalk = pad.image().astype(int)
    pad.set_dark_on_light(True)
    paper = pad.image().astype(int)
    assert np.abs((255 - paper) - chalk).max() <= 2
    assert chalk[0, 0] == 0 and chalk.max() == 255
    np.testing.assert_allclose(to_mnist(chalk.astype(np.uint8)), to_mnist(paper.astype(np.uint8)),
                               atol=0.02)


def test_resizing_keeps_the_drawing(pad, qtbot):
    drag(pad, [(0.3, 0.2), (0.6, 0.5), (0.4, 0.8)])
    before = to_mnist(pad.image())
    pad.resize(420, 380)
    qtbot.waitUntil(lambda: pad.width() == 420)
    pad.grab()
    np.testing.assert_allclose(to_mnist(pad.image()), before, atol=0.15)


def test_touch_draws_too(pad, qtbot):
    device = QTest.createTouchDevice()
    QTest.touchEvent(pad, device).press(0, _pt(pad, 0.2, 0.5))
    QTest.touchEvent(pad, device).move(0, _pt(pad, 0.5, 0.5))
    QTest.touchEvent(pad, device).move(0, _pt(pad, 0.8, 0.5))
    QTest.touchEvent(pad, device).release(0, _pt(pad, 0.8, 0.5))
    assert pad.stroke_count() == 1
    assert ink(pad)[CANVAS_SIZE // 2, CANVAS_SIZE // 2] > 0.9


def test_pen_width_validation(pad):
    with pytest.raises(ValueError):
        pad.set_pen_width(0.9)
    with pytest.raises(KeyError):
        pad.set_pen_width("enormous")


def test_a_pen_draws_and_its_eraser_end_erases(pad):
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QInputDevice, QPointingDevice, QTabletEvent
    from PySide6.QtWidgets import QApplication

    def device(kind):
        return QPointingDevice("test pen", 4242, QInputDevice.DeviceType.Stylus, kind,
                               QInputDevice.Capability.Position
                               | QInputDevice.Capability.Pressure, 1, 2)

    def stroke(dev, points):
        kinds = ([QEvent.Type.TabletPress] + [QEvent.Type.TabletMove] * (len(points) - 2)
                 + [QEvent.Type.TabletRelease])
        for kind, (x, y) in zip(kinds, points):
            pos = QPointF(_pt(pad, x, y))
            held = Qt.MouseButton.NoButton if kind == QEvent.Type.TabletRelease \
                else Qt.MouseButton.LeftButton
            ev = QTabletEvent(kind, dev, pos, pos, 0.5, 0, 0, 0, 0, 0,
                              Qt.KeyboardModifier.NoModifier, Qt.MouseButton.LeftButton, held)
            QApplication.sendEvent(pad, ev)
            assert ev.isAccepted()  # so Qt does not also synthesise mouse events

    mid = CANVAS_SIZE // 2
    stroke(device(QPointingDevice.PointerType.Pen), [(0.2, 0.5), (0.5, 0.5), (0.8, 0.5)])
    assert pad.stroke_count() == 1 and ink(pad)[mid, mid] > 0.9
    stroke(device(QPointingDevice.PointerType.Eraser), [(0.5, 0.2), (0.5, 0.5), (0.5, 0.8)])
    assert pad.stroke_count() == 2 and ink(pad)[mid, mid] < 0.05
