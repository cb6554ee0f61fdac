"""Hidden layers on digits: the course's comparison of a network without and with a hidden layer.

Tutorial 7: flatten each 28×28 digit to 784 numbers; first a network with no hidden layer
(784 → 10 sigmoid, Adam, sparse categorical cross-entropy), then one with a hidden layer
(784 → 100 ReLU → 10 sigmoid), and compare their accuracy. Both train in one
TrainingSession, epoch by epoch in turn, so their progress and accuracies appear side by
side. The data and both networks come from core.teaching.tasks. The selected network is
drawn in the NetworkDiagram, and one training step on one digit is animated with a
TracePlayer (the standard playback bar steps through it).
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QButtonGroup, QFrame, QGridLayout, QHBoxLayout, QLabel,
                               QPushButton, QRadioButton, QSizePolicy,
                               QSpinBox, QSplitter, QTabWidget, QVBoxLayout, QWidget)

from core.model import Sequential
from core.optimizers import SGD
from core.teaching.runs import RunStore
from core.teaching.tasks import DigitData, build_digit_model, load_digit_data
from gui.lessons.base import Lesson
from gui.training_worker import TrainingSession, TrainingTask
from gui.widgets.flatten_view import FlattenView
from gui.widgets.numbers import NumberLabel, fmt, mono_font
from gui.widgets.progress_bar import STEPS, progress_bar

try:  # written alongside this lesson; the comparison works without it
    from gui.widgets.diagram.network import NetworkDiagram
    from gui.widgets.trace_player import TracePlayer
except ImportError as exc:  # pragma: no cover - only while the diagram is missing
    NetworkDiagram = TracePlayer = None
    _DIAGRAM_ERROR = str(exc)
else:
    _DIAGRAM_ERROR = ""

#: the two networks the course compares, in the order it trains them
NETWORKS = {
    "none": {"hidden": (), "title": "No hidden layer", "arch": "784 → 10 sigmoid"},
    "hidden": {"hidden": (100,), "title": "One hidden layer",
               "arch": "784 → 100 ReLU → 10 sigmoid"},
}
DEFAULT_EPOCHS = 5
BATCH_SIZE = 32
#: learning rate of the one plain gradient-descent step the diagram animates
STEP_LEARNING_RATE = 0.1
SEED = 0
#: y range of the validation-accuracy plot (a share of the digits), with room for the ends
ACC_RANGE = (-0.03, 1.06)


def untrained_pair(data: DigitData) -> tuple[dict, dict]:
    """The two networks, untrained, and their validation accuracy (about chance)."""
    models = {k: build_digit_model(spec["hidden"]) for k, spec in NETWORKS.items()}
    return models, {k: m.evaluate(data.x_val, data.y_val)["accuracy"] for k, m in models.items()}


def digits_and_untrained_pair() -> tuple[DigitData, tuple[dict, dict]]:
    """What the lesson needs before it can show anything, made off the GUI thread: the digits
    and the two networks evaluated once (the first evaluation loads its kernels)."""
    data = load_digit_data()
    return data, untrained_pair(data)


def comparison_session(models: dict, data: DigitData, epochs: int,
                       batch_size: int = BATCH_SIZE, parent=None) -> tuple[TrainingSession, dict]:
    """Both networks in one session, epoch by epoch in turn (the course's shuffling seeds);
    each epoch's end sends a copy of that network's weights. Returns the session and
    {run id: network key}."""
    store, keys, tasks = RunStore(), {}, []
    for key, model in models.items():
        run = store.new_run({"network": NETWORKS[key]["arch"]}, NETWORKS[key]["title"])
        keys[run.id] = key
        tasks.append(TrainingTask(run, model, data.x_train, data.y_train, epochs, batch_size,
                                  validation_data=(data.x_val, data.y_val), seed=SEED,
                                  epoch_seed=lambda epoch: SEED * 1000 + epoch,
                                  snapshot=lambda task: task.model.get_weights()))
    # no warm-up: the dense kernels are the ones every lesson uses, compiled long ago
    return TrainingSession(tasks, report_interval=0.1, warm_up=False, parent=parent), keys


class NetworkCard(QFrame):
    """One network's box: select it for the diagram, its progress and accuracies."""

    def __init__(self, key: str, parent=None):
        super().__init__(parent)
        spec = NETWORKS[key]
        self.key = key
        self.setObjectName("networkCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("QFrame#networkCard { border: 1px solid #d5dae1; border-radius: 4px;"
                           " background: #fcfcfd; }")
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 4, 8, 4)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(2)
        self.radio = QRadioButton(spec["title"], self)
        font = QFont(self.radio.font())
        font.setWeight(QFont.Weight.DemiBold)
        self.radio.setFont(font)
        self.radio.setToolTip(f"Draw the {spec['title'].lower()} network in the diagram")
        self.radio.setAccessibleName(f"Show {spec['title'].lower()} network in the diagram")
        grid.addWidget(self.radio, 0, 0, 1, 2)
        self.prediction = QLabel("", self)
        self.prediction.setFont(mono_font())
        grid.addWidget(self.prediction, 0, 2, 1, 2, Qt.AlignmentFlag.AlignRight)
        self.arch = QLabel(spec["arch"], self)
        self.arch.setFont(mono_font())
        grid.addWidget(self.arch, 1, 0, 1, 2)
        self.params = QLabel("", self)
        self.params.setFont(mono_font())
        grid.addWidget(self.params, 1, 2, 1, 2, Qt.AlignmentFlag.AlignRight)
        self.progress = progress_bar("not trained")
        self.progress.setMaximumHeight(self.progress.fontMetrics().height() + 6)
        self.progress.setAccessibleName(f"{spec['title']} training progress")
        grid.addWidget(self.progress, 2, 0, 1, 4)
        self.train_acc = NumberLabel(percent=True)     # accuracies as percentages
        self.val_acc = NumberLabel(percent=True)
        for c, (text, w) in enumerate((("Training acc.", self.train_acc),
                                       ("Validation acc.", self.val_acc))):
            grid.addWidget(QLabel(text, self), 3, 2 * c)
            w.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(w, 3, 2 * c + 1)
        bold = QFont(mono_font())
        bold.setWeight(QFont.Weight.Bold)
        self.val_acc.setFont(bold)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)


class HiddenLayersLesson(Lesson):
    title = "Hidden layers on digits"
    subtitle = ("The same digits, a network without and with a hidden layer: train both and "
                "compare their accuracy; step through one training step of either.")
    help_name = "hidden_layers"
    course_tutorials = (7,)
    #: the MNIST network needs ~330 px to read; the subtitle says what to do, F1 the rest
    explanation_collapsed_by_default = True
    #: train both networks by itself the first time the digits are loaded and shown
    auto_train = True

    def __init__(self, parent=None):
        super().__init__(parent)
        self.data: DigitData | None = None
        self.models: dict[str, Sequential] = {}
        self.weights: dict[str, list] = {}
        self.epochs_done = {k: 0 for k in NETWORKS}
        self.history = {k: {"epoch": [], "val_accuracy": []} for k in NETWORKS}
        self.selected = "hidden"
        self.sample = 0
        self.trace_model: Sequential | None = None
        self.trace = None
        self.session: TrainingSession | None = None
        self._run_keys: dict[int, str] = {}
        self._load_worker = None
        self._auto_trained = False
        self._run_epochs = DEFAULT_EPOCHS
        self._train_when_loaded = False
        self._build()

    # --- construction -------------------------------------------------------------------
    def _build(self) -> None:
        # comparison above, diagram below, with a handle between them: the learner decides
        # how much height the network gets
        root = QSplitter(Qt.Orientation.Vertical, self)
        root.setChildrenCollapsible(False)
        root.setHandleWidth(7)
        root.setAccessibleName("Comparison and diagram (drag the handle between them)")
        top_part = QWidget(root)
        top_part.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        v = QVBoxLayout(top_part)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(4)
        top = QHBoxLayout()
        top.setSpacing(8)
        self.cards = {key: NetworkCard(key, top_part) for key in NETWORKS}
        self.select_group = QButtonGroup(self)
        for key, card in self.cards.items():
            self.select_group.addButton(card.radio)
            card.radio.toggled.connect(lambda on, k=key: on and self.select(k))
            card.setMinimumWidth(250)
            top.addWidget(card, 4)
        side = QVBoxLayout()
        side.setSpacing(2)
        self.acc_plot = pg.PlotWidget(top_part, enableMenu=False)  # no menu made to be thrown away
        self.acc_plot.setMouseEnabled(x=False, y=False)
        self.acc_plot.hideButtons()
        self.acc_plot.setLabel("bottom", "epoch")
        self.acc_plot.setLabel("left", "val. acc.")
        # accuracy is a share: 0 … 1 from the start, never an auto-range around no data
        self.acc_plot.getPlotItem().getViewBox().setLimits(xMin=0, minXRange=2)
        self.acc_plot.setYRange(ACC_RANGE[0], ACC_RANGE[1], padding=0)
        self.acc_plot.setXRange(0, DEFAULT_EPOCHS, padding=0.04)
        self.acc_plot.enableAutoRange(x=False, y=False)
        self.acc_plot.getAxis("left").setTicks([[(v, fmt(v)) for v in (0.0, 0.5, 1.0)],
                                                [(v, "") for v in (0.25, 0.75)]])
        self.acc_plot.setMinimumSize(220, 96)
        self.acc_plot.setMaximumHeight(130)
        self.acc_plot.setAccessibleName("Validation accuracy per epoch")
        self.acc_plot.setToolTip("Validation accuracy after each epoch: solid = one hidden "
                                 "layer, dashed = no hidden layer")
        self.curves = {
            "none": self.acc_plot.plot([], [], pen=pg.mkPen("#6b7480", width=2,
                                                            style=Qt.PenStyle.DashLine),
                                       symbol="o", symbolSize=5, symbolBrush="#6b7480"),
            "hidden": self.acc_plot.plot([], [], pen=pg.mkPen("#1d232b", width=2),
                                         symbol="o", symbolSize=5, symbolBrush="#1d232b"),
        }
        side.addWidget(self.acc_plot, 1)
        key = QLabel("— one hidden layer   ‒ ‒ no hidden layer", top_part)
        key.setObjectName("mutedText")
        side.addWidget(key)
        top.addLayout(side, 3)
        v.addLayout(top)
        self.verdict = QLabel("", top_part)
        self.verdict.setWordWrap(True)
        v.addWidget(self.verdict)

        self.diagram_caption = QLabel("", top_part)
        self.diagram_caption.setObjectName("mutedText")
        v.addWidget(self.diagram_caption)
        root.addWidget(top_part)
        # the network and, beside it, how its 784 inputs come from the 28×28 digit
        self.views = QTabWidget(root)
        self.views.setAccessibleName("Network diagram and flattening")
        self.flatten_view = FlattenView()
        if NetworkDiagram is not None:
            self.diagram = NetworkDiagram()
            self.diagram.setMinimumHeight(260)
            self.player = TracePlayer(self.diagram)
            self.views.addTab(self.diagram, "Network")
            self.views.addTab(self.flatten_view, "28×28 → 784 inputs")
            self.views.setTabToolTip(1, "Flattening, shown: the digit's rows laid end to end "
                                        "into the 784 inputs")
            root.addWidget(self.views)
        else:
            self.diagram = self.player = None
            missing = QLabel("The network diagram is not available in this build "
                             f"({_DIAGRAM_ERROR}); the comparison above still works.", root)
            missing.setWordWrap(True)
            missing.setObjectName("mutedText")
            root.addWidget(missing)
        root.setStretchFactor(0, 0)
        root.setStretchFactor(1, 1)
        self.splitter = root
        self.set_visual(root)

        self.add_playback()
        self.playback.forward_button.setToolTip("Next frame of the training step (→)")
        self.playback.back_button.setToolTip("Previous frame of the training step (←)")
        self.playback.reset_button.setToolTip("Back to the first frame of the step (R)")
        if self.player is not None:
            self.player.connect_playback(self.playback)
            self.player.stepped_past_end.connect(lambda: self.show_status(
                "That was the update, the last frame of the step: press R (Reset) or Play to "
                "watch it again, or pick another digit.", 6000))
        self.train_button = QPushButton("Train both")
        self.add_control(self.train_button, None,
                         "Train both networks from new weights on the 4,000 training digits "
                         "(Adam, batch 32), epoch by epoch in turn", "Train both networks")
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 30)
        self.epochs_spin.setValue(DEFAULT_EPOCHS)
        self.add_control(self.epochs_spin, "Epochs",
                         "Passes over the training digits for each network", "Epochs")
        self.add_pace_control(None)  # two networks over many epochs: full speed
        self.digit_spin = QSpinBox()
        self.digit_spin.setRange(0, 999)
        self.add_control(self.digit_spin, "Digit #",
                         "Which validation digit the animated training step uses",
                         "Validation digit number")
        self.train_button.clicked.connect(self._on_train_clicked)
        self.digit_spin.valueChanged.connect(self.set_sample)
        self.cards[self.selected].radio.setChecked(True)
        for card in self.cards.values():
            card.prediction.setText("—")
        self.verdict.setText("Loading the 5,000 offline MNIST digits…")

    # --- data -----------------------------------------------------------------------------
    def activate(self) -> None:
        if self.data is None and self._load_worker is None:
            self._load_worker = self.start_worker(digits_and_untrained_pair,
                                                  on_finished=self._on_loaded,
                                                  on_failed=self._on_load_failed)
        elif self.data is not None and not self._auto_trained:
            self._auto_train()

    def _on_loaded(self, loaded) -> None:
        self._load_worker = None
        if loaded is None:   # cancelled
            return
        self.data, pair = loaded
        self.digit_spin.setMaximum(len(self.data.y_val) - 1)
        self._new_models(pair)
        self.verdict.setText("Both networks are untrained: about 10 % (chance) on 10 classes. "
                             "Press Train both.")
        if self._train_when_loaded:     # Train both was pressed while the digits loaded
            self._train_when_loaded = False
            self._auto_trained = True
            self.start_training()
        elif self.isVisible():
            self._auto_train()

    def _on_load_failed(self, exc) -> None:
        self._load_worker = None
        self.verdict.setText(f"The offline digits could not be loaded: {exc}")
        self._report_failure(exc)

    def _auto_train(self) -> None:
        # the lesson is about the comparison: show it without a click, once
        self._auto_trained = True
        if self.auto_train and not self.is_training() and not any(self.epochs_done.values()):
            self.start_training()

    def _new_models(self, pair: tuple[dict, dict] | None = None) -> None:
        self.models, accuracies = pair if pair is not None else untrained_pair(self.data)
        self.weights = {k: m.get_weights() for k, m in self.models.items()}
        self.epochs_done = {k: 0 for k in NETWORKS}
        self.history = {k: {"epoch": [0], "val_accuracy": []} for k in NETWORKS}
        for key, model in self.models.items():
            card = self.cards[key]
            card.params.setText(f"{model.count_params():,} params")
            card.params.setToolTip(" + ".join(
                f"{lay.input_shape[0]}·{lay.units} + {lay.units}" for lay in model.layers)
                + f" = {model.count_params():,} weights and biases")
            acc = accuracies[key]
            self.history[key]["val_accuracy"].append(acc)
            self._set_accuracy(card.val_acc, acc, len(self.data.y_val), "validation")
            card.train_acc.set_value(None, "")
            card.progress.setValue(0)
            card.progress.setFormat("not trained")
            self.curves[key].setData(self.history[key]["epoch"], self.history[key]["val_accuracy"])
        self._retrace()

    # --- training ------------------------------------------------------------------------
    def _on_train_clicked(self) -> None:
        if self.is_training():
            self.stop_training()
        else:
            self.start_training()

    def start_training(self) -> None:
        if self.data is None:
            self.show_status("The digits are still loading; training starts once they are "
                             "here.", 5000)
            self._train_when_loaded = True
            return
        if self.is_training():
            return
        if not self.models or any(self.epochs_done.values()):
            # fresh networks for a new run; the untrained pair the digits came with is
            # already fresh (making it again evaluated both on the GUI thread)
            self._new_models()
        # the run's length is fixed when it starts: changing the spin box meanwhile must not
        # relabel the progress bars ("epoch 3 of 10" in a 5-epoch run)
        epochs = self._run_epochs = self.epochs_spin.value()
        self.acc_plot.setXRange(0, epochs, padding=0.04)
        for card in self.cards.values():
            card.progress.setFormat(f"epoch 1 of {epochs}")
        self.train_button.setText("Stop")
        self.train_button.setToolTip("Stop training; both networks keep what they learned")
        self.verdict.setText("Training… each network takes its turn, one epoch at a time.")
        self.session, self._run_keys = comparison_session(self.models, self.data, epochs,
                                                          parent=self)
        self.session.updated.connect(self._on_batches)
        self.session.snapshot.connect(self._on_epoch_done)
        self.session.run_ended.connect(self._on_run_ended)
        self.session.finished.connect(self._train_finished)
        self.start_session(self.session)

    def stop_training(self) -> None:
        if self.session is not None:
            self.session.stop_and_wait(10000)      # finished → _train_finished

    def _on_batches(self, run_ids) -> None:
        epochs = self._run_epochs
        for task in self.session.tasks:
            x = task.run.batches.last("epoch")       # fractional epoch of the latest batch
            if task.run.id in run_ids and x is not None:
                card = self.cards[self._run_keys[task.run.id]]
                card.progress.setValue(int(STEPS * x / epochs))
                card.progress.setFormat(f"epoch {max(1, math.ceil(x))} of {epochs}")

    def _on_epoch_done(self, run, weights) -> None:
        key, epoch = self._run_keys[run.id], len(run.epochs)
        if epoch == self.epochs_done[key]:
            return        # the weights of a stopped, unfinished epoch: the last epoch counts
        epochs = self._run_epochs
        logs = run.epochs.row(epoch - 1)
        self.epochs_done[key] = epoch
        self.weights[key] = weights
        card = self.cards[key]
        card.progress.setValue(int(STEPS * epoch / epochs))
        card.progress.setFormat(f"{epoch} of {epochs} epochs done")
        n_train, n_val = len(self.data.y_train), len(self.data.y_val)
        card.train_acc.set_value(
            logs["accuracy"],
            f"training accuracy in epoch {epoch}: the share of the {n_train} training "
            "digits classified right, averaged over the epoch's batches (as Keras reports it)")
        self._set_accuracy(card.val_acc, logs["val_accuracy"], n_val, "validation")
        hist = self.history[key]
        hist["epoch"].append(epoch)
        hist["val_accuracy"].append(logs["val_accuracy"])
        self.curves[key].setData(hist["epoch"], hist["val_accuracy"])
        self._update_predictions()
        self._update_verdict()

    def _on_run_ended(self, run) -> None:
        if run.status == "failed":
            self.show_status(f"Something went wrong: {run.stop_reason}", 0)

    def _set_accuracy(self, label: NumberLabel, acc: float, n: int, what: str) -> None:
        right = int(round(acc * n))
        label.set_value(acc, f"{what} accuracy = digits classified right / all {what} digits "
                             f"= {right} / {n}")

    def _train_finished(self) -> None:
        self.train_button.setText("Train both")
        self.train_button.setToolTip("Train both networks again from new weights")
        epochs = self._run_epochs
        for key, card in self.cards.items():
            if self.epochs_done[key] < epochs and self.epochs_done[key] > 0:
                card.progress.setFormat(f"stopped after {self.epochs_done[key]} of {epochs}")
        self._update_verdict(final=True)
        self._retrace()

    def _update_verdict(self, final: bool = False) -> None:
        a = self.history["none"]["val_accuracy"][-1] if self.epochs_done["none"] else None
        b = self.history["hidden"]["val_accuracy"][-1] if self.epochs_done["hidden"] else None
        if a is None or b is None:
            return
        diff = 100 * (b - a)
        done = "" if not self.is_training() or final else " so far"
        if diff > 0:
            text = (f"The hidden layer helps{done}: {fmt(100 * b)} % against {fmt(100 * a)} % "
                    f"of the validation digits, {fmt(diff)} points more.")
        else:
            text = (f"No gain from the hidden layer{done}: {fmt(100 * b)} % against "
                    f"{fmt(100 * a)} %.")
        self.verdict.setText(text)
        self.verdict.setToolTip(
            "Without a hidden layer each digit's score is one weighted sum of the pixels; "
            "100 ReLU neurons first build features that the outputs then combine.\n"
            f"difference = {fmt(100 * b)} % − {fmt(100 * a)} % = {fmt(diff)} points")

    # --- the diagram -----------------------------------------------------------------------
    def select(self, key: str) -> None:
        if key not in NETWORKS:
            raise ValueError(f"unknown network {key!r}")
        self.selected = key
        if not self.cards[key].radio.isChecked():
            self.cards[key].radio.setChecked(True)
        self._retrace()

    def set_sample(self, index: int) -> None:
        self.sample = int(index)
        if self.digit_spin.value() != self.sample:
            self.digit_spin.setValue(self.sample)
        self._retrace()
        self._update_predictions()

    def _retrace(self) -> None:
        """A copy of the selected network (its latest weights) takes one SGD step on the digit."""
        if self.data is None:
            return
        key = self.selected
        self.trace_model = build_digit_model(NETWORKS[key]["hidden"],
                                             optimizer=SGD(STEP_LEARNING_RATE))
        self.trace_model.set_weights(self.weights[key])
        x = self.data.x_val[self.sample:self.sample + 1]                       # (1, 784)
        y = self.data.y_val[self.sample:self.sample + 1]
        label = int(y[0])
        self.flatten_view.set_image(x[0])
        epochs = self.epochs_done[key]
        state = "untrained" if epochs == 0 else f"after {epochs} epoch{'s' if epochs != 1 else ''}"
        self.diagram_caption.setText(
            f"Diagram: {NETWORKS[key]['title'].lower()} ({state}), one gradient-descent step "
            f"(η = {fmt(STEP_LEARNING_RATE)}) on validation digit #{self.sample}, a {label}")
        self.diagram_caption.setToolTip(
            "The step runs on a copy of the network, so the trained network is not changed. "
            "Play, step (→ / ←) or reset (R) to walk through it.")
        if self.diagram is None:
            return
        self.player.pause()
        self.diagram.set_model(self.trace_model)
        self.diagram.set_output_names([str(d) for d in range(10)])
        self.trace = self.trace_model.trace_step(x, y)
        self.player.set_trace(self.trace)

    def _update_predictions(self) -> None:
        if self.data is None:
            return
        x = self.data.x_val[self.sample:self.sample + 1]
        label = int(self.data.y_val[self.sample])
        for key, card in self.cards.items():
            model = build_digit_model(NETWORKS[key]["hidden"])
            model.set_weights(self.weights[key])
            out = model.predict(x)[0]                                             # (10,)
            guess = int(np.argmax(out))
            mark = "✓" if guess == label else "✗"
            card.prediction.setText(f"this digit → {guess} {mark}")
            card.prediction.setToolTip(
                f"Output scores (sigmoid) for digit #{self.sample}: "
                + ", ".join(f"{d}: {fmt(v)}" for d, v in enumerate(out))
                + f"\nthe prediction is the highest score, {guess}")

    # --- lifecycle ---------------------------------------------------------------------------
    def deactivate(self) -> None:
        if self.player is not None:
            self.player.pause()
        self.flatten_view.stop()
        super().deactivate()           # stops training; both networks keep what they learned

    def shutdown(self) -> None:
        if self.player is not None:
            self.player.pause()
        super().shutdown()
