"""Presentation mode (View ▸ Presentation mode, F5): larger text and lines for a projector.

The application font grows by SCALE, and so do the fonts widgets set for themselves (a
lesson's title, the monospace formulas) and pyqtgraph's axis text and line widths. Each
widget's and curve's own size at normal scale is remembered the first time it is seen, so
switching back and forth never compounds: a font a widget derived from the (already larger)
application font counts as scaled, a pixel width or a pen width written in the code does not.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QPen
from PySide6.QtWidgets import QApplication, QComboBox, QWidget

#: the issue asks for about 1.4×; 1.3 is the most at which every lesson fits 1280×800
SCALE = 1.3
_BASE_POINTS = "presentationBasePoints"     # a widget's own font size at scale 1
_BASE_FONT = "presentationBaseFont"         # the application's font at scale 1
_BASE_WIDTHS = "presentationBaseWidths"     # a widget's fixed or largest width at scale 1
_NO_LIMIT = 16777215                        # QWIDGETSIZE_MAX
#: characters a drop-down shows of its chosen entry in presentation mode
PRESENTATION_CHOICE_CHARS = 14


def current_scale() -> float:
    app = QApplication.instance()
    value = app.property("presentationScale") if app is not None else None
    return float(value) if isinstance(value, (int, float)) and value > 0 else 1.0


def is_on() -> bool:
    return current_scale() > 1.0


def set_presentation(on: bool, roots=()) -> float:
    """Switch the mode for the whole application; `roots` (windows) get their widgets' own
    fonts and their plots rescaled. Returns the scale now in effect."""
    app = QApplication.instance()
    old, new = current_scale(), (SCALE if on else 1.0)
    for root in roots:
        remember(root, old)          # sizes chosen at the old scale, before the font changes
    base = app.property(_BASE_FONT)
    if not isinstance(base, QFont):
        base = QFont(app.font())
        app.setProperty(_BASE_FONT, base)
    font = QFont(base)
    if base.pointSizeF() > 0:
        font.setPointSizeF(base.pointSizeF() * new)
    else:
        font.setPixelSize(max(1, round(base.pixelSize() * new)))
    app.setProperty("presentationScale", new)
    app.setFont(font)
    for root in roots:
        apply(root)
    return new


def remember(root: QWidget, scale: float | None = None) -> None:
    """Note the normal-scale size of every font `root`'s widgets set for themselves and of
    every plot line, as they are now at `scale` (default: the scale in effect)."""
    scale = current_scale() if scale is None else scale
    for w in [root, *root.findChildren(QWidget)]:
        if w.property(_BASE_POINTS) is None and w.testAttribute(Qt.WidgetAttribute.WA_SetFont):
            points = w.font().pointSizeF()
            if points > 0:
                w.setProperty(_BASE_POINTS, points / scale)
        # a side panel fixed at 300 px holds text that grows: its width grows with it. Such
        # widths are constants in the code (not scaled when built in presentation mode);
        # a box fixed in both directions (the drawing pad, a colour swatch) keeps its shape
        if (w.property(_BASE_WIDTHS) is None and w.maximumWidth() < _NO_LIMIT
                and w.minimumHeight() != w.maximumHeight()):
            fixed = w.minimumWidth() == w.maximumWidth()
            w.setProperty(_BASE_WIDTHS, [float(w.maximumWidth()), fixed])
    for item in _plot_items(root):
        if not hasattr(item, "_presentation_pen"):
            pen = _pen_of(item)
            if pen is not None:     # a width in the code, never pre-scaled
                item._presentation_pen = max(pen.widthF(), 1.0)


def apply(root: QWidget) -> None:
    """Bring `root`'s widgets and plots to the scale in effect (remembering new ones first)."""
    scale = current_scale()
    remember(root, scale)
    for w in [root, *root.findChildren(QWidget)]:
        points = w.property(_BASE_POINTS)
        if isinstance(points, float):
            font = QFont(w.font())
            if abs(font.pointSizeF() - points * scale) > 0.01:
                font.setPointSizeF(points * scale)
                w.setFont(font)
        widths = w.property(_BASE_WIDTHS)
        if isinstance(widths, list) and len(widths) == 2:
            width = round(widths[0] * scale)
            if w.maximumWidth() != width:
                if widths[1]:
                    w.setFixedWidth(width)
                else:
                    w.setMaximumWidth(width)
    for item in _plot_items(root):
        pen, width = _pen_of(item), getattr(item, "_presentation_pen", None)
        if scale <= 1.0 and not getattr(item, "_presentation_scaled", False):
            continue                # never touched: its own pen is the normal one
        if pen is not None and width is not None and abs(pen.widthF() - width * scale) > 0.01:
            pen = QPen(pen)
            pen.setWidthF(width * scale)
            pen.setCosmetic(True)
            item.setPen(pen)
            item._presentation_scaled = scale > 1.0
    _scale_axes(root, scale)
    for w in [root, *root.findChildren(QWidget)]:
        hook = getattr(w, "presentation_changed", None)   # lessons rearrange themselves
        if callable(hook):
            hook(scale)


def _plot_items(root: QWidget):
    try:
        import pyqtgraph as pg
    except ImportError:
        return []
    items = []
    for view in root.findChildren(pg.GraphicsView):
        scene = view.scene()
        if scene is None:
            continue
        items += [it for it in scene.items() if isinstance(it, pg.PlotDataItem)]
    return items


def _pen_of(item):
    try:
        import pyqtgraph as pg
        spec = item.opts.get("pen")
        if spec is None:
            return None
        pen = pg.mkPen(spec)
    except Exception:  # noqa: BLE001 - an item without a pen simply keeps its look
        return None
    return None if pen.style() == Qt.PenStyle.NoPen else pen


def _scale_axes(root: QWidget, scale: float) -> None:
    try:
        import pyqtgraph as pg
    except ImportError:
        return
    font = QFont(QApplication.font())
    font.setPointSizeF(max(font.pointSizeF() * 0.9, 6.0))
    for view in root.findChildren(pg.GraphicsView):
        scene = view.scene()
        if scene is None:
            continue
        for axis in (it for it in scene.items() if isinstance(it, pg.AxisItem)):
            if not hasattr(axis, "_presentation_label_font"):
                axis._presentation_label_font = QFont(axis.label.font())
                axis._presentation_width = axis.fixedWidth
            if scale > 1.0:
                axis.setTickFont(font)
                axis.label.setFont(font)
            elif axis.style.get("tickFont") is not None:
                axis.setTickFont(None)      # back to the plot's own text
                axis.label.setFont(axis._presentation_label_font)
            base = axis._presentation_width
            if base is not None and axis.fixedWidth != round(base * max(scale, 1.0)):
                # a width fixed for the normal text hides every tick label of the larger one
                axis.setWidth(round(base * max(scale, 1.0)))


def narrow_choices(root: QWidget, presenting: bool) -> None:
    """Drop-downs under `root` show the start of a long chosen entry while presenting."""
    # a drop-down sized to its longest entry ("1: age 22, cannot afford, did not buy")
    # would push the lesson past the screen at the larger text; it shows the start of the
    # chosen entry (the whole one in its list and tooltip) until presentation mode ends
    for box in root.findChildren(QComboBox):
        saved = box.property("normalSizeAdjust")
        if presenting and saved is None:
            box.setProperty("normalSizeAdjust", (box.sizeAdjustPolicy(),
                                                 box.minimumContentsLength()))
            if box.sizeHint().width() <= box.fontMetrics().horizontalAdvance(
                    "x" * (PRESENTATION_CHOICE_CHARS + 6)):
                continue        # short entries stay whole
            box.setMinimumContentsLength(PRESENTATION_CHOICE_CHARS)
            box.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            # the minimum Qt cached from the entries would still hold the box wide
            box.setMinimumWidth(box.sizeHint().width())
            if not box.toolTip():
                box.setToolTip(box.currentText())
        elif not presenting and saved is not None:
            policy, length = saved
            box.setSizeAdjustPolicy(policy)
            box.setMinimumContentsLength(length)
            box.setMinimumWidth(0)
            box.setProperty("normalSizeAdjust", None)
