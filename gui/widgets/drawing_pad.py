"""A square drawing pad for handwritten digits (mouse, pen/tablet and touch).

Strokes are kept as lists of points in pad coordinates (0..1 on both axes), so the pad can
be redrawn at any size (resizing, HiDPI) and an undo simply drops the last stroke and
repaints. Two images are painted from the same strokes:

* the *screen* image, at the widget's size in device pixels;
* the *canvas*, a fixed CANVAS_SIZE x CANVAS_SIZE grey image: what recognition reads
  (:meth:`DrawingPad.image`).

The screen shows the pen as chosen. On the canvas the pen scales with the drawing: a digit
drawn smaller than PEN_SCALE_FROM of the pad gets a proportionally thinner stroke, because
recognition (core.digits.to_mnist) enlarges a small drawing to MNIST's 20 px box and would
enlarge the stroke with it, until a small 1 became a fat blob the networks read as 0 or 9.
So a digit's stroke, relative to its size, is the same whatever size it is drawn at.

While a stroke is drawn only its newest piece is painted on screen (a quadratic curve
through the midpoints of successive points, so fast strokes stay smooth and leave no gaps);
the screen is repainted from the stroke list after undo, clear, resize or a colour change,
and the canvas from the stroke list whenever it is read after a change (the pen's scale
depends on the whole drawing).
Left button / pen tip draw, right button / the pen's eraser end / eraser mode erase.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (QColor, QFont, QImage, QPainter, QPainterPath, QPen, QPointingDevice)
from PySide6.QtWidgets import QSizePolicy, QWidget

CANVAS_SIZE = 280  # recognition canvas, pixels (10x MNIST's 28)
PEN_WIDTHS = {"thin": 0.045, "normal": 0.075, "thick": 0.11}  # fraction of the pad's side
ERASER_FACTOR = 2.5  # the eraser is this much wider than the pen
# Drawings whose longer side is at least this fraction of the pad keep the chosen pen on the
# canvas; smaller ones get the pen times (their size / this). 0.6 of the pad is a digit
# drawn comfortably large, where the normal pen's stroke is 1/8 of the digit's height:
# about MNIST's own 2.5 px in its 20 px box.
PEN_SCALE_FROM = 0.6
MIN_CANVAS_PEN = 1.5  # canvas pixels: thinner strokes would break up when anti-aliased


@dataclass
class Stroke:
    width: float  # fraction of the pad's side
    erase: bool = False
    points: list[QPointF] = field(default_factory=list)  # pad coordinates, 0..1


def _mid(a: QPointF, b: QPointF) -> QPointF:
    return QPointF((a.x() + b.x()) / 2, (a.y() + b.y()) / 2)


def _piece(points: list[QPointF], i: int, final: bool) -> QPainterPath | None:
    """The part of a stroke's smooth curve that point i adds (or the tail, if final)."""
    path = QPainterPath()
    if final:
        if len(points) < 2:
            return None
        path.moveTo(_mid(points[-2], points[-1]) if len(points) > 2 else points[0])
        path.lineTo(points[-1])
        return path
    if i == 1:
        path.moveTo(points[0])
        path.lineTo(_mid(points[0], points[1]))
    elif i >= 2:
        path.moveTo(_mid(points[i - 2], points[i - 1]))
        path.quadTo(points[i - 1], _mid(points[i - 1], points[i]))
    else:
        return None
    return path


def _whole(points: list[QPointF]) -> QPainterPath:
    path = QPainterPath(points[0])
    if len(points) == 1:
        return path
    path.lineTo(_mid(points[0], points[1]))
    for i in range(2, len(points)):
        path.quadTo(points[i - 1], _mid(points[i - 1], points[i]))
    path.lineTo(points[-1])
    return path


class DrawingPad(QWidget):
    """The pad. Signals:

    changed()          after every new stroke segment, undo, clear (recognise now)
    stroke_finished()  a stroke ended (pen lifted)
    """

    changed = Signal()
    stroke_finished = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("drawingPad")
        self.setAccessibleName("Drawing pad")
        self.setAccessibleDescription(
            "Draw a digit with the mouse, a pen or a finger. Right button erases.")
        self.setToolTip("Draw one digit (0–9) here. Left button draws, right button erases.")
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_StaticContents, True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 200)
        self._strokes: list[Stroke] = []
        self._current: Stroke | None = None
        self._pen_width = PEN_WIDTHS["normal"]
        self._eraser = False
        self._dark_on_light = True  # ink on paper; False = chalk on a blackboard
        self._canvas = QImage(CANVAS_SIZE, CANVAS_SIZE, QImage.Format.Format_RGB32)
        self._canvas_stale = True
        self._screen = QImage()
        self.hint = "Draw a digit here"
        self._repaint_all()

    # --- public API -------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(360, 360)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, w: int) -> int:
        return w

    def is_empty(self) -> bool:
        """No stroke at all (an erased drawing may still be blank: check the image)."""
        return not self._strokes

    def stroke_count(self) -> int:
        return len(self._strokes)

    def strokes(self) -> list[Stroke]:
        return list(self._strokes)

    def image(self) -> np.ndarray:
        """The recognition canvas as (CANVAS_SIZE, CANVAS_SIZE) uint8 grey, in the pad's
        own colours (dark ink on light paper unless chalk mode is on), the pen scaled with
        the drawing (module docstring)."""
        if self._canvas_stale:
            self._render(self._canvas, self.canvas_pen_scale())
            self._canvas_stale = False
        img = self._canvas
        ptr = img.constBits()
        arr = np.frombuffer(ptr, np.uint8, count=img.sizeInBytes()).reshape(
            img.height(), img.bytesPerLine() // 4, 4)  # (H, W, BGRA)
        return arr[:, :img.width(), 1].copy()  # grey: every channel is equal

    def canvas_pen_scale(self) -> float:
        """How much thinner than on screen the strokes are on the canvas (1.0: not at all)."""
        points = [p for stroke in self._strokes if not stroke.erase for p in stroke.points]
        if not points:
            return 1.0
        xs = [p.x() for p in points]
        ys = [p.y() for p in points]
        extent = max(max(xs) - min(xs), max(ys) - min(ys))  # fraction of the pad's side
        return min(1.0, extent / PEN_SCALE_FROM)

    def set_strokes(self, strokes) -> None:
        """Replace the drawing by whole strokes, each a list of (x, y) pad coordinates 0..1
        drawn with the current pen (scripts, tests, benchmarks: one repaint for all)."""
        self._strokes = [Stroke(self._pen_width, False,
                                [QPointF(float(x), float(y)) for x, y in points])
                         for points in strokes if len(points)]
        self._current = None
        self._repaint_all()
        self.changed.emit()

    def clear(self) -> None:
        self._strokes.clear()
        self._current = None
        self._repaint_all()
        self.changed.emit()

    def undo(self) -> bool:
        """Remove the last stroke; False if there was none."""
        if self._current is not None:
            self._current = None
        if not self._strokes:
            return False
        self._strokes.pop()
        self._repaint_all()
        self.changed.emit()
        return True

    def set_eraser(self, on: bool) -> None:
        self._eraser = bool(on)
        self.setCursor(Qt.CursorShape.PointingHandCursor if on else Qt.CursorShape.CrossCursor)

    def eraser(self) -> bool:
        return self._eraser

    def set_pen_width(self, width) -> None:
        """A name from PEN_WIDTHS or a fraction of the pad's side (for new strokes)."""
        w = PEN_WIDTHS[width] if isinstance(width, str) else float(width)
        if not 0.005 <= w <= 0.3:
            raise ValueError(f"pen width must be 0.005..0.3 of the pad, got {w}")
        self._pen_width = w

    def pen_width(self) -> float:
        return self._pen_width

    def set_dark_on_light(self, on: bool) -> None:
        self._dark_on_light = bool(on)
        self._repaint_all()
        self.changed.emit()

    def dark_on_light(self) -> bool:
        return self._dark_on_light

    def add_stroke(self, points, erase: bool = False, width: float | None = None) -> None:
        """Add a whole stroke given as (x, y) pairs in pad coordinates 0..1 (scripts, tests)."""
        pts = [QPointF(float(x), float(y)) for x, y in points]
        if not pts:
            return
        self._strokes.append(Stroke(self._pen_width if width is None else float(width),
                                    bool(erase), pts))
        self._repaint_all()
        self.changed.emit()
        self.stroke_finished.emit()

    # --- painting -----------------------------------------------------------------------
    def _colors(self) -> tuple[QColor, QColor]:
        """(paper, ink)."""
        if self._dark_on_light:
            return QColor(255, 255, 255), QColor(0, 0, 0)
        return QColor(0, 0, 0), QColor(255, 255, 255)

    def _pen(self, stroke: Stroke, scale: float = 1.0, side: float = 1.0) -> QPen:
        """The stroke's pen in pad units (painters are scaled so the pad's side is 1), times
        `scale`, never under MIN_CANVAS_PEN pixels of an image `side` pixels wide."""
        paper, ink = self._colors()
        width = stroke.width * (ERASER_FACTOR if stroke.erase else 1.0)
        # the eraser keeps its width: the canvas's thinner ink lies inside the screen's, so
        # it is erased wherever the learner saw it erased
        if scale != 1.0 and not stroke.erase:
            width = max(width * scale, MIN_CANVAS_PEN / side)
        pen = QPen(paper if stroke.erase else ink, width)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        return pen

    def _painter(self, image: QImage, stroke: Stroke, scale: float = 1.0) -> QPainter:
        p = QPainter(image)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        # QPainter works in device-independent pixels on a HiDPI image
        side = float(min(image.width(), image.height())) / max(image.devicePixelRatio(), 1e-9)
        p.scale(side, side)
        p.setPen(self._pen(stroke, scale, side))
        return p

    def _paint_path(self, image: QImage, stroke: Stroke, path: QPainterPath | None,
                    dot: bool = False) -> None:
        p = self._painter(image, stroke)
        if dot:
            self._dot(p, stroke)
        elif path is not None:
            p.drawPath(path)
        p.end()

    def _paint_live(self, stroke: Stroke, path: QPainterPath | None, dot: bool = False) -> None:
        """Add a stroke's newest piece to the screen image. A resize mid-stroke discards
        that image (paintEvent repaints it whole from the strokes); painting on the
        discarded, null image is what made QPainter print its warnings."""
        if not self._screen.isNull():
            self._paint_path(self._screen, stroke, path, dot)

    @staticmethod
    def _dot(p: QPainter, stroke: Stroke) -> None:
        """A round blob the pen's width where a stroke starts (a tap leaves a dot)."""
        pen = p.pen()
        r = pen.widthF() / 2
        p.save()
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(pen.color())
        p.drawEllipse(stroke.points[0], r, r)
        p.restore()

    def _render(self, image: QImage, scale: float = 1.0) -> None:
        paper, _ = self._colors()
        image.fill(paper)
        for stroke in self._strokes:
            p = self._painter(image, stroke, scale)
            self._dot(p, stroke)  # as when it was drawn live, so an undo repaints identically
            if len(stroke.points) > 1:
                p.drawPath(_whole(stroke.points))
            p.end()

    def _ensure_screen(self) -> None:
        dpr = self.devicePixelRatioF()
        side = max(1, min(self.width(), self.height()))
        size = QSize(int(side * dpr), int(side * dpr))
        if self._screen.size() != size:
            self._screen = QImage(size, QImage.Format.Format_RGB32)
            self._screen.setDevicePixelRatio(dpr)
            self._render(self._screen)

    def _repaint_all(self) -> None:
        self._canvas_stale = True
        if not self._screen.isNull():
            self._render(self._screen)
        self.update()

    def _pad_rect(self) -> QRectF:
        side = min(self.width(), self.height())
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def paintEvent(self, event):
        self._ensure_screen()
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window())
        rect = self._pad_rect()
        p.drawImage(rect.topLeft(), self._screen)
        paper, ink = self._colors()
        if not self._strokes and self.hint:
            hint_color = QColor(ink)
            hint_color.setAlpha(120)
            p.setPen(hint_color)
            font = QFont(self.font())
            font.setPointSizeF(font.pointSizeF() * 1.3)
            p.setFont(font)
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.hint)
        frame = QPen(self.palette().color(self.palette().ColorRole.Mid), 1)
        if self.hasFocus():
            frame = QPen(self.palette().color(self.palette().ColorRole.Highlight), 2)
        p.setPen(frame)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5))
        p.end()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._screen = QImage()
        self.update()

    def focusInEvent(self, event):
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event):
        super().focusOutEvent(event)
        self.update()

    # --- input ----------------------------------------------------------------------------
    def _to_pad(self, pos: QPointF) -> QPointF:
        rect = self._pad_rect()
        side = max(rect.width(), 1.0)
        return QPointF(min(max((pos.x() - rect.left()) / side, 0.0), 1.0),
                       min(max((pos.y() - rect.top()) / side, 0.0), 1.0))

    def _begin(self, pos: QPointF, erase: bool) -> None:
        self._ensure_screen()
        stroke = Stroke(self._pen_width, erase or self._eraser, [self._to_pad(pos)])
        self._strokes.append(stroke)
        self._current = stroke
        self._canvas_stale = True
        self._paint_live(stroke, None, dot=True)
        self.update()
        self.changed.emit()

    def _extend(self, pos: QPointF) -> None:
        stroke = self._current
        if stroke is None:
            return
        q = self._to_pad(pos)
        last = stroke.points[-1]
        # Ignore sub-pixel jitter: it adds points without adding ink.
        if abs(q.x() - last.x()) + abs(q.y() - last.y()) < 0.5 / CANVAS_SIZE:
            return
        stroke.points.append(q)
        path = _piece(stroke.points, len(stroke.points) - 1, final=False)
        self._canvas_stale = True
        self._paint_live(stroke, path)
        self.update()
        self.changed.emit()

    def _end(self, pos: QPointF | None = None) -> None:
        stroke = self._current
        if stroke is None:
            return
        if pos is not None:
            self._extend(pos)
        path = _piece(stroke.points, len(stroke.points) - 1, final=True)
        if path is not None:
            self._canvas_stale = True
            self._paint_live(stroke, path)
        self._current = None
        self.update()
        self.changed.emit()
        self.stroke_finished.emit()

    def mousePressEvent(self, event):
        button = event.button()
        if button not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return super().mousePressEvent(event)
        if self._current is not None:  # a second button during a stroke ends it first
            self._end()
        self._begin(event.position(), erase=button == Qt.MouseButton.RightButton)
        event.accept()

    def mouseMoveEvent(self, event):
        if self._current is not None:
            self._extend(event.position())
            event.accept()
        else:
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event):
        if self._current is not None:
            self._end(event.position())
            event.accept()
        else:
            super().mouseReleaseEvent(event)

    def tabletEvent(self, event):
        kind = event.type()
        pointer = event.pointingDevice().pointerType() if event.pointingDevice() else None
        erase = pointer == QPointingDevice.PointerType.Eraser
        if kind == QEvent.Type.TabletPress:
            if self._current is not None:
                self._end()
            self._begin(event.position(), erase)
        elif kind == QEvent.Type.TabletMove:
            if self._current is not None:
                self._extend(event.position())
        elif kind == QEvent.Type.TabletRelease:
            self._end(event.position())
        else:
            return super().tabletEvent(event)
        event.accept()  # accepted: Qt synthesises no mouse events for the pen

    def event(self, event):
        kind = event.type()
        if kind in (QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TouchEnd,
                    QEvent.Type.TouchCancel):
            points = event.points()
            if kind == QEvent.Type.TouchCancel:
                if self._current is not None:
                    self._end()
            elif points:
                pos = points[0].position()  # one finger draws; extra fingers are ignored
                if kind == QEvent.Type.TouchBegin:
                    self._begin(pos, False)
                elif kind == QEvent.Type.TouchUpdate:
                    if self._current is None:
                        self._begin(pos, False)
                    else:
                        self._extend(pos)
                else:
                    self._end(pos)
            event.accept()
            return True
        return super().event(event)
