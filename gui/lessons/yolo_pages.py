"""The YOLO lesson's tab pages (gui/lessons/yolo.py): each page is widgets plus a `show_*`
method that writes numbers from core.teaching.yolo_steps into them. No numerics here."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QLabel,
                               QPushButton, QTableWidgetItem, QVBoxLayout, QWidget)

from core.teaching.numbers import fmt
from gui.widgets.numbers import mono_label, mono_table
from gui.widgets.plots import make_plot

#: the lesson's two training settings: (name, training scenes, rounds of ROUND_SCENES)
SETTINGS = {"Quick: 800 updates": (4000, 20), "Full: 3,000 updates": (10000, 75)}
ROUND_SCENES = 1280
#: seconds each round takes at least: slow enough to watch the boxes change
PACES = {"As fast as it goes": 0.0, "One round every 2 s": 2.0, "One round every 5 s": 5.0}


def pct(p: float) -> str:
    """A probability as a percentage (the app's rule for probabilities on screen)."""
    return f"{fmt(100.0 * float(p))} %"


def box_text(box) -> str:
    return "(" + ", ".join(fmt(round(float(v), 1)) for v in box) + ")"


def _wrap(label: QLabel) -> QLabel:
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    return label


def _cell(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    return item


def _table(name: str, tip: str, headers: list[str]):
    t = mono_table(name, tip)
    t.setColumnCount(len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().setVisible(False)
    return t


class CellsPage(QWidget):
    """The true digits with their responsible cells, and the detections after NMS."""

    detection_selected = Signal(int)      # index into the reading's kept cells

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.addWidget(_wrap(QLabel(
            "Each digit belongs to the grid cell that holds its centre (orange cell, dot): "
            "that cell alone must say \"a digit is here\", where its box is and which digit.")))
        self.truth = _table("Digits and their responsible cells",
                            "The true digits: box centre and the cell responsible for it",
                            ["digit", "centre (x, y)", "cell (row, column)"])
        lay.addWidget(self.truth, 2)
        lay.addWidget(QLabel("Detections after NMS (click one for its IoU):"))
        self.found = _table(
            "Detections", "Each detection: its class, confidence = objectness × class "
            "probability, its cell and its best IoU with a true digit",
            ["digit", "confidence = objectness × class", "cell (row, column)", "best IoU"])
        self.found.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.found.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.found.itemSelectionChanged.connect(self._on_select)
        lay.addWidget(self.found, 3)

    def show_reading(self, reading) -> None:
        self.truth.setRowCount(len(reading.truth))
        for r, t in enumerate(reading.truth):
            for c, text in enumerate((str(t.label), box_text(t.centre), f"({t.row}, {t.col})")):
                self.truth.setItem(r, c, _cell(text))
        kept = reading.kept_cells
        self.found.blockSignals(True)
        self.found.setRowCount(len(kept))
        s = reading.grid.cells
        for r, cell in enumerate(kept):
            j, v = reading.best_truth(int(cell))
            texts = (str(int(reading.labels[cell])),
                     f"{pct(reading.confidence[cell])} = {pct(reading.objectness[cell])} × "
                     f"{pct(reading.class_prob[cell])}",
                     f"({int(cell) // s}, {int(cell) % s})",
                     fmt(v) if j >= 0 else "no digit")
            for c, text in enumerate(texts):
                self.found.setItem(r, c, _cell(text))
        self.found.blockSignals(False)

    def select(self, row: int) -> None:
        if 0 <= row < self.found.rowCount():
            self.found.selectRow(row)

    def _on_select(self) -> None:
        rows = self.found.selectionModel().selectedRows()
        if rows:
            self.detection_selected.emit(rows[0].row())


class IouPage(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        self.text = _wrap(mono_label(tooltip="IoU = intersection ÷ union, in pixels of the "
                                             "64 × 64 scene"))
        self.text.setAccessibleName("IoU working")
        lay.addWidget(self.text)
        lay.addStretch(1)

    def show_working(self, label: int, confidence: float, w, truth_label: int | None) -> None:
        if w is None:
            self.text.setText("No detection chosen, or no true digit to compare it with.\n"
                              "Choose a detection on the Cells & boxes page.")
            return
        inter = ("they do not overlap: intersection 0" if w.intersection_box is None else
                 f"intersection {box_text(w.intersection_box)}\n"
                 f"  = {fmt(w.inter_w)} × {fmt(w.inter_h)} = {fmt(w.intersection)} pixels")
        self.text.setText(
            f"Predicted {label} ({pct(confidence)}): box {box_text(w.a)}\n"
            f"True {truth_label}:{' ' * 16}box {box_text(w.b)}\n\n"
            f"{inter}\n"
            f"area predicted = {fmt(w.a[2] - w.a[0])} × {fmt(w.a[3] - w.a[1])} = {fmt(w.area_a)}\n"
            f"area true      = {fmt(w.b[2] - w.b[0])} × {fmt(w.b[3] - w.b[1])} = {fmt(w.area_b)}\n"
            f"union = {fmt(w.area_a)} + {fmt(w.area_b)} − {fmt(w.intersection)} = "
            f"{fmt(w.union)}\n\n"
            f"IoU = {fmt(w.intersection)} ÷ {fmt(w.union)} = {fmt(w.iou)}\n\n"
            + ("≥ 0.5: counts as finding this digit (a true positive at IoU 0.5)"
               if w.iou >= 0.5 else "< 0.5: too far off to count as finding this digit"))


class NmsPage(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.addWidget(_wrap(QLabel(
            "Many cells near a digit may claim it. Non-maximum suppression keeps the most "
            "confident box, removes every box of the same digit overlapping it by IoU > 0.5, "
            "and repeats. Press Step (→) or Play. On the scene: thick orange = kept, dotted "
            "grey = removed, thin green = still waiting.")))
        self.text = _wrap(mono_label())
        self.text.setAccessibleName("NMS steps")
        lay.addWidget(self.text, 1)

    def show_step(self, reading, step: int) -> None:
        """`step` rounds of NMS done (0: the candidates before any)."""
        cands, res = reading.candidates, reading.nms
        lines = [f"{len(cands)} cells with confidence ≥ {pct(reading.score_threshold)}, best "
                 f"first:"]
        lines += ["  " + ", ".join(f"{int(reading.labels[c])} {pct(reading.confidence[c])}"
                                   for c in cands[:12]) + (" …" if len(cands) > 12 else "")]
        lines.append("")
        for k, st in enumerate(res.steps[:step]):
            sup = ", ".join(f"{int(reading.labels[cands[i]])} {pct(reading.confidence[cands[i]])}"
                            f" (IoU {fmt(v)})" for i, v in st.suppressed)
            lines.append(f"Step {k + 1}: keep {st.label} {pct(st.score)}; "
                         + (f"remove {sup}" if sup else "nothing overlaps it by > 0.5"))
        if step >= len(res.steps):
            lines.append(f"\nDone: {len(res.keep)} box{'es' if len(res.keep) != 1 else ''} "
                         f"kept of {len(cands)}.")
        else:
            lines.append(f"\n{len(res.steps) - step} step(s) to go.")
        self.text.setText("\n".join(lines))


class TimingPage(QWidget):
    measure = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.addWidget(_wrap(QLabel(
            "YOLO: \"You Only Look Once\". One pass of the detector gives every cell's answer "
            "at once. A sliding window (T30) crops windows of several sizes at every position "
            "and runs the digit CNN on each.")))
        self.button = QPushButton("Time both on this scene")
        self.button.setToolTip("Runs the detector once and the shipped digit CNN on single "
                               "windows, each several times, and compares (median times)")
        self.button.setAccessibleName("Time detector and sliding window")
        self.button.clicked.connect(self.measure)
        row = QHBoxLayout()
        row.addWidget(self.button)
        row.addStretch(1)
        lay.addLayout(row)
        self.text = _wrap(mono_label())
        self.text.setAccessibleName("Timing result")
        lay.addWidget(self.text, 1)

    def show_timing(self, t) -> None:
        self.text.setText(
            f"One detector pass over the 64 × 64 scene:  {fmt(t.detector_ms)} ms\n"
            f"  (all {64} cells' boxes, objectness and classes at once)\n\n"
            f"Sliding window, windows of {', '.join(map(str, t.sizes))} pixels every "
            f"{t.stride} pixels:\n"
            f"  {t.windows} windows × {fmt(t.window_ms)} ms (crop, scale to 28 × 28, one CNN "
            f"evaluation)\n  = {fmt(t.sliding_ms)} ms\n\n"
            f"The sliding window takes {fmt(t.ratio, 3)} times as long.")


class TrainPage(QWidget):
    train = Signal()
    pause = Signal()
    stop = Signal()
    use_shipped = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        self.setting = QComboBox()
        self.setting.addItems(list(SETTINGS))
        self.setting.setToolTip(
            "Quick: 4,000 training scenes, 20 rounds of 1,280 scenes (800 weight updates, "
            "held-out mAP@0.5 about 80 %). Full: 10,000 scenes, 75 rounds (3,000 updates, "
            "about 90 %). On an idle 2-core machine an update takes about 36 ms: half a "
            "minute and two minutes; a busy machine takes several times as long")
        self.setting.setAccessibleName("Training setting")
        self.pace = QComboBox()
        self.pace.addItems(list(PACES))
        self.pace.setToolTip("Slow training down to watch the boxes change round by round")
        self.pace.setAccessibleName("Training pace")
        self.train_button = QPushButton("Train a new detector")
        self.train_button.setToolTip("Train a fresh detector on generated scenes, live")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Pause or resume training")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop training; the detector keeps what it learnt")
        self.shipped_button = QPushButton("Use the shipped detector")
        self.shipped_button.setToolTip("Go back to the detector that comes with the app "
                                       "(scripts/train_yolo_detector.py made it)")
        buttons = QHBoxLayout()
        for w in (self.setting, self.pace, self.train_button, self.pause_button,
                  self.stop_button, self.shipped_button):
            if not w.accessibleName():
                w.setAccessibleName(w.text())
            (row if w in (self.setting, self.pace) else buttons).addWidget(w)
        row.addStretch(1)
        buttons.addStretch(1)
        lay.addLayout(row)
        lay.addLayout(buttons)
        self.train_button.clicked.connect(self.train)
        self.pause_button.clicked.connect(self.pause)
        self.stop_button.clicked.connect(self.stop)
        self.shipped_button.clicked.connect(self.use_shipped)
        self.status = _wrap(QLabel())
        self.status.setAccessibleName("Training status")
        lay.addWidget(self.status)
        plots = QHBoxLayout()
        self.loss_plot = make_plot("weight updates", "detection loss", legend_columns=0)
        self.loss_curve = self.loss_plot.plot_item.plot(pen=pg.mkPen("#2166ac", width=1.5))
        self.map_plot = make_plot("weight updates", "held-out mAP@0.5 (%)", legend_columns=0)
        self.map_plot.plot_item.setYRange(0, 100)
        self.map_curve = self.map_plot.plot_item.plot(pen=pg.mkPen("#e66101", width=2),
                                                      symbol="o", symbolSize=6,
                                                      symbolBrush="#e66101")
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.map_plot)
        lay.addLayout(plots, 1)
        self.set_running(False)

    def set_running(self, running: bool, paused: bool = False) -> None:
        self.train_button.setEnabled(not running)
        self.setting.setEnabled(not running)
        self.shipped_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.pause_button.setText("Resume" if paused else "Pause")

    def show_curves(self, steps, losses, map_steps, maps) -> None:
        self.loss_curve.setData(np.asarray(steps, float), np.asarray(losses, float))
        self.map_curve.setData(np.asarray(map_steps, float), 100.0 * np.asarray(maps, float))


class MapPage(QWidget):
    """mAP@0.5 on held-out scenes and one class's precision-recall curve."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(QLabel("Precision-recall curve of digit"))
        self.digit = QComboBox()
        self.digit.addItems([str(d) for d in range(10)])
        self.digit.setToolTip("Whose curve to draw: each digit has its own AP")
        self.digit.setAccessibleName("Digit of the curve")
        row.addWidget(self.digit)
        row.addStretch(1)
        lay.addLayout(row)
        body = QHBoxLayout()
        self.plot = make_plot("recall", "precision", legend_columns=0)
        item = self.plot.plot_item
        item.setXRange(0, 1, padding=0.02)
        item.getAxis("bottom").setTicks([[(v / 5, fmt(v / 5)) for v in range(6)]])
        item.setYRange(0, 1.02, padding=0.0)
        self.raw_curve = item.plot(pen=None, symbol="o", symbolSize=4, symbolBrush="#9aa3ad",
                                   symbolPen=None)
        self.step_curve = item.plot(pen=pg.mkPen("#2166ac", width=2),
                                    fillLevel=0.0, brush=pg.mkBrush(33, 102, 172, 60))
        body.addWidget(self.plot, 3)
        self.text = _wrap(mono_label())
        self.text.setAccessibleName("mAP working")
        body.addWidget(self.text, 2)
        lay.addLayout(body, 1)

    def show_curve(self, curve, steps, m_ap: float, curves, n_scenes: int) -> None:
        xs, ys = steps
        self.raw_curve.setData(np.asarray(curve.recall, float), np.asarray(curve.precision, float))
        self.step_curve.setData(xs, ys)
        aps = [c.ap for c in curves if c.n_ground_truth > 0]
        lines = [f"{n_scenes} held-out scenes, IoU ≥ 0.5 to count.",
                 f"Digit {curve.label}: {curve.n_ground_truth} true boxes, "
                 f"{len(curve.scores)} detections.",
                 f"AP = shaded area = {pct(curve.ap)}", "", "AP per digit:"]
        lines += [f"  {c.label}: {pct(c.ap)}" for c in curves if c.n_ground_truth > 0]
        lines += ["", f"mAP = mean of the {len(aps)} APs", f"    = {pct(m_ap)}"]
        self.text.setText("\n".join(lines))


class AnchorsPage(QWidget):
    show_anchors = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        self.text = _wrap(QLabel())
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        lay.addWidget(self.text)
        self.check = QCheckBox("Draw the anchors on the scene (dash-dot, centred)")
        self.check.setToolTip("The three anchor shapes k-means chose from the training boxes")
        self.check.setAccessibleName("Draw anchors")
        self.check.toggled.connect(self.show_anchors)
        lay.addWidget(self.check)
        lay.addStretch(1)

    def show_anchors_text(self, anchors, mean_iou: float, n_boxes: int) -> None:
        shapes = ", ".join(f"{fmt(round(w, 1))} × {fmt(round(h, 1))}" for w, h in anchors)
        self.text.setText(
            "YOLO v2 and later (v4 too) do not guess a box from nothing: each cell starts "
            "from a few anchor boxes, typical shapes found by k-means on the training boxes "
            "(distance 1 − IoU), and predicts small corrections to them. Our small detector "
            "has no anchors (one box per cell, like YOLO v1), but k-means on "
            f"{n_boxes} training boxes picks these three anchors (width × height, pixels): "
            f"{shapes}. A training box overlaps its best anchor by IoU {fmt(mean_iou)} on "
            "average. In photos the shapes differ far more (a standing person, a car, a "
            "cup), and YOLO v4 predicts at three scales, each grid with three anchors of its "
            "own: small anchors on the fine grid, large ones on the coarse grid.")
