"""Underfitting, good fit, overfitting: three models of growing capacity trained side by side
on the same noisy points (core.teaching.fit_capacity), each curve redrawn as it learns, and
each panel named from its errors once training ends."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout,
                               QWidget)

from core.teaching import fit_capacity as fc
from core.teaching.runs import RunStore
from gui.training_worker import TrainingSession, TrainingTask
from gui.widgets.numbers import fmt, mono_font

#: gradient steps per reported epoch: the 12 points repeated, one full batch per step
STEPS_PER_EPOCH = 50
Y_RANGE = (-2.0, 2.0)
CURVE_COLOR = "#d95f02"
POINT_COLOR = "#1d232b"
NEW_COLOR = "#9aa3ad"
VERDICT_WORDS = {"underfitting": "too simple to follow the points",
                 "good fit": "follows the curve, not the noise",
                 "overfitting": "learns the noise: wrong between the points"}


class FitCapacityView(QWidget):
    """Press "Fit all three": the curves grow live, then each panel gets its verdict."""

    #: the three models finished (or were stopped)
    fitted = Signal()

    def __init__(self, start_session, parent=None):
        """`start_session`: a Lesson's start_session, so leaving the lesson stops the fit."""
        super().__init__(parent)
        self._start_session = start_session
        self.session: TrainingSession | None = None
        self.points = fc.capacity_points()
        self.grid_x = np.linspace(-1.0, 1.0, 241)
        self.weights: dict[int, list] = {}
        self.errors: dict[int, tuple[float, float]] = {}
        self.verdicts: list[str] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        self.fit_button = QPushButton("Fit all three")
        self.fit_button.setToolTip("Train the three models by gradient descent on the same "
                                   f"{len(self.points[0])} points ({fc.EPOCHS} steps each)")
        self.fit_button.setAccessibleName("Fit all three models")
        self.fit_button.clicked.connect(self.start)
        top.addWidget(self.fit_button)
        self.status = QLabel("The same 12 noisy points, three models of growing capacity: "
                             "press Fit all three and watch them learn.")
        self.status.setWordWrap(True)
        self.status.setMinimumWidth(120)
        top.addWidget(self.status, 1)
        lay.addLayout(top)
        grid = QGridLayout()
        grid.setSpacing(4)
        self.plots, self.curves, self.labels = [], [], []
        xt, yt, xn, yn = self.points
        for col, degree in enumerate(fc.DEGREES):
            plot = pg.PlotWidget(enableMenu=False)   # no menu made to be thrown away
            plot.setBackground("w")
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.setYRange(*Y_RANGE, padding=0)
            plot.setXRange(-1.05, 1.05, padding=0)
            plot.setMinimumSize(150, 150)
            plot.setTitle(f"degree {degree}", size="10pt")
            plot.setToolTip(f"A polynomial of degree {degree}: {degree + 1} weights "
                            f"(one per feature and a bias) for {len(xt)} points")
            plot.setAccessibleName(f"Polynomial of degree {degree} fitted to the points")
            plot.plot(xn[::4], yn[::4, 0], pen=None, symbol="o", symbolSize=5,
                      symbolBrush=None, symbolPen=pg.mkPen(NEW_COLOR))
            plot.plot(self.grid_x, fc.true_curve(self.grid_x),
                      pen=pg.mkPen(NEW_COLOR, width=1, style=Qt.PenStyle.DashLine))
            plot.plot(xt, yt[:, 0], pen=None, symbol="o", symbolSize=8,
                      symbolBrush=POINT_COLOR, symbolPen=pg.mkPen("w"))
            curve = plot.plot([], [], pen=pg.mkPen(CURVE_COLOR, width=2.5))
            label = QLabel("not trained")
            label.setFont(mono_font())
            label.setWordWrap(True)
            label.setMinimumWidth(120)
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setAccessibleName(f"Errors of the degree {degree} model")
            grid.addWidget(plot, 0, col)
            grid.addWidget(label, 1, col)
            self.plots.append(plot)
            self.curves.append(curve)
            self.labels.append(label)
        lay.addLayout(grid, 1)
        key = QLabel("● training points (learned) · ○ new points (never seen) · ┄ the true "
                     "curve · orange: the model. Error = mean squared error.")
        key.setObjectName("mutedText")
        key.setWordWrap(True)
        key.setMinimumWidth(120)
        lay.addWidget(key)

    def is_fitting(self) -> bool:
        return self.session is not None and self.session.is_running()

    def start(self) -> bool:
        if self.is_fitting():
            return False
        xt, yt, xn, yn = self.points
        store = RunStore()
        tasks, self._degree_of = [], {}
        for degree in fc.DEGREES:
            model = fc.build_capacity_model(degree)
            run = store.new_run({"degree": degree}, name=f"degree {degree}")
            self._degree_of[run.id] = degree
            # the points repeated: each batch of len(xt) is the whole set, one gradient step
            x = np.tile(fc.poly_features(xt, degree), (STEPS_PER_EPOCH, 1))
            y = np.tile(yt, (STEPS_PER_EPOCH, 1))
            tasks.append(TrainingTask(run, model, x, y, epochs=fc.EPOCHS // STEPS_PER_EPOCH,
                                      batch_size=len(xt), shuffle=False, seed=0,
                                      record_batches=False,
                                      snapshot=lambda task: task.model.get_weights()))
        self.weights, self.errors, self.verdicts = {}, {}, []
        for curve in self.curves:
            curve.setData([], [])
        self.session = TrainingSession(tasks, warm_up=False, parent=self)
        self.session.snapshot.connect(self._on_snapshot)
        self.session.finished.connect(self._on_finished)
        self._start_session(self.session)
        self.fit_button.setEnabled(False)
        self.status.setText("Training the three models by gradient descent, step by step…")
        return True

    def _on_snapshot(self, run, weights) -> None:
        degree = self._degree_of.get(run.id)
        if degree is None:
            return
        k = fc.DEGREES.index(degree)
        self.weights[degree] = weights
        xt, yt, xn, yn = self.points
        self.curves[k].setData(self.grid_x, fc.polynomial_curve(weights, self.grid_x))
        train = fc.mean_squared_error(fc.polynomial_curve(weights, xt), yt)
        new = fc.mean_squared_error(fc.polynomial_curve(weights, xn), yn)
        self.errors[degree] = (train, new)
        self.labels[k].setText(f"training error {fmt(train)}<br>new points error {fmt(new)}")

    def _on_finished(self) -> None:
        self.fit_button.setEnabled(True)
        if len(self.errors) == len(fc.DEGREES):
            errs = [self.errors[d] for d in fc.DEGREES]
            self.verdicts = fc.judge_fits([e[0] for e in errs], [e[1] for e in errs])
            for k, (verdict, (train, new)) in enumerate(zip(self.verdicts, errs)):
                self.labels[k].setText(f"<b>{verdict}</b>: {VERDICT_WORDS[verdict]}<br>"
                                       f"training error {fmt(train)}<br>"
                                       f"new points error {fmt(new)}")
            self.status.setText("Too little capacity misses the pattern; too much learns the "
                                "noise. Dropout keeps a big network nearer the middle.")
        else:
            self.status.setText("Stopped before the end: press Fit all three again.")
        self.fitted.emit()
