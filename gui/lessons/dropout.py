"""Dropout (tutorial 20): a network that overfits, trained side by side with and without dropout.

Both networks start from the same weights (core.teaching.overfitting.build_overfit_model, same seed)
and learn the same few hundred digits in one TrainingSession, epoch by epoch in turn; a
TrainingPlot overlays their training (solid) and validation (dashed) curves, and a line under
it gives each run's gap between the two. The NetworkDiagram on the right draws the dropout
network: while it trains, the masks the engine recorded for its latest batch fade the
dropped neurons out; stepping (→) runs one traced training batch on a copy of it, so each
press shows a new mask from the StepTrace.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QLabel, QSpinBox, QSplitter, QTabWidget,
                               QVBoxLayout, QWidget)

from core.teaching.overfitting import (MaskRecorder, StepBatches, build_overfit_model, clone_model,
                                       dropout_layers, dropout_verdict, generalization_gap,
                                       small_digits)
from core.teaching.runs import RunStore
from core.teaching.tasks import parse_learning_rate
from gui.lessons.base import Lesson
from gui.training_worker import TrainingSession, TrainingTask, format_duration
from gui.widgets.diagram.network import NetworkDiagram
from gui.widgets.fit_capacity import FitCapacityView
from gui.widgets.lazy_tab import LazyTab
from gui.widgets.numbers import fmt, mono_font
from gui.widgets.training_plot import run_color
from gui.widgets.progress_bar import progress_bar

LEARNING_RATES = ("0.0001", "0.0003", "0.001", "0.003", "0.01")
BATCH_SIZE = 32
#: how often the diagram looks for the dropout network's newest mask while it trains
MASK_POLL_MS = 80
SEED = 0
STEP_SEED = 7
ERROR_STYLE = "color: #b00020; font-weight: 600;"


class DropoutLesson(Lesson):
    title = "Dropout"
    subtitle = ("One wide network, only a few hundred digits to learn from, trained without and "
                "with dropout: compare the gap between training and validation curves, and "
                "watch dropped neurons blink out batch by batch.")
    help_name = "dropout"
    course_tutorials = (20,)
    # the curves and the six-column diagram need the height more than the text does
    explanation_collapsed_by_default = True

    #: the diagram's dropout masks changed (a training batch or a step)
    masks_changed = Signal()
    #: a training session ended (finished, stopped or diverged)
    training_finished = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.session: TrainingSession | None = None
        self.store = RunStore()
        self.runs: dict[str, object] = {}
        self.models: dict[str, object] = {}
        self.stepper = None
        self.batches: StepBatches | None = None
        self.shown_masks: dict[int, np.ndarray] = {}
        self.batch_masks: dict[int, np.ndarray] = {}
        self.last_trace = None
        self._data_key = None
        self._data = None
        self._synced_steps = -1
        self.recorder: MaskRecorder | None = None
        self._shown_batch = 0
        self._mask_timer = QTimer(self)
        self._mask_timer.setInterval(MASK_POLL_MS)
        self._mask_timer.timeout.connect(self._show_live_masks)

        visual = QWidget()
        outer = QVBoxLayout(visual)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(4)
        self.message = self.make_message_label()
        outer.addWidget(self.message)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.setSpacing(2)
        # the chart waits for the first training (~60 ms to build and paint empty axes)
        self.plot_pane = LazyTab(self._build_plot, placeholder=(
            "The loss and accuracy of both networks appear here as they train: the gap "
            "between training and validation is what dropout should shrink."))
        lv.addWidget(self.plot_pane, 1)
        key = QLabel("●── training (solid) · □┄┄ validation (dashed) · one colour per network, "
                     "named below")
        key.setObjectName("mutedText")
        key.setWordWrap(True)
        key.setMinimumWidth(120)
        lv.addWidget(key)
        self.gap_label = QLabel()
        self.gap_label.setFont(mono_font())
        self.gap_label.setWordWrap(True)
        self.gap_label.setAccessibleName("Gap between validation and training loss")
        self.gap_label.setTextFormat(Qt.TextFormat.RichText)
        self.gap_label.setMinimumWidth(120)     # wraps instead of widening the lesson
        lv.addWidget(self.gap_label)
        self.add_pace_control(None, layout=lv)  # the controls bar is full: under the curves
        split.addWidget(left)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.setSpacing(2)
        self._diagram = NetworkDiagram()
        self._diagram.show_controls(False)
        self._diagram.set_max_units(10)
        self._diagram_model = None      # the network the diagram was last given
        self._diagram.installEventFilter(self)
        rv.addWidget(self._diagram, 1)
        self.mask_label = QLabel()
        self.mask_label.setWordWrap(True)
        self.mask_label.setFont(mono_font())
        self.mask_label.setAccessibleName("Dropped neurons")
        self.mask_label.setMinimumHeight(3 * self.mask_label.fontMetrics().lineSpacing() + 4)
        self.mask_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.mask_label.setMinimumWidth(120)
        rv.addWidget(self.mask_label)
        split.addWidget(right)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([480, 540])
        # the notes' picture first asks what overfitting is: its own tab beside the curves
        self.left_tabs = QTabWidget()
        self.left_tabs.setAccessibleName("Dropout lesson views")
        split.replaceWidget(0, self.left_tabs)
        self.left_tabs.addTab(left, "Without vs with dropout")
        # built when first shown: its three plots would slow the lesson's opening
        self.fits_tab = LazyTab(self._build_fits)
        self.left_tabs.addTab(self.fits_tab, "Under- and overfitting")
        self.left_tabs.setTabToolTip(1, "The course's picture: too simple, about right, too "
                                        "flexible, each trained on the same noisy points")
        outer.addWidget(split, 1)
        self.set_visual(visual)

        self._build_controls()
        self.new_models()

    # --- building ---------------------------------------------------------------------------
    @property
    def plot(self):
        """The training chart, built on first use."""
        return self.plot_pane.content()

    @staticmethod
    def _build_plot():
        from gui.widgets.training_plot import TrainingPlot

        # x axis: epochs, and per-epoch points: the train/validation gap is an epoch story
        plot = TrainingPlot(metrics=("loss", "accuracy"), smoothing=0.6, x_axis="epoch",
                            granularity="epoch", show_controls=False)
        # epochs only here: the plot's own key names per-batch lines this lesson never shows
        plot.style_key.hide()
        return plot

    def _build_controls(self) -> None:
        self.playback = self.add_playback(step_back=False)
        self.playback.play_button.setToolTip("Train both networks, or pause them (Space)")
        self.playback.forward_button.setToolTip(
            "One training batch of the dropout network, traced, on a copy (→): a new mask "
            "each time")
        self.playback.reset_button.setToolTip("Stop, forget the curves and start from fresh "
                                              "weights (R)")
        # training runs at the engine's pace: the animation speed control has nothing to do
        for w in (self.playback.speed_slider, self.playback.speed_label,
                  *[c for c in self.playback.findChildren(QLabel) if c.text() == "Speed"]):
            w.hide()
        self.playback.play_toggled.connect(self._on_play)
        self.playback.step_forward.connect(self.step)
        self.playback.reset.connect(self.reset)
        self.rate_spin = self.add_control(
            QDoubleSpinBox(), label="Rate:",
            tooltip="The share of hidden neurons switched off at random in each training batch "
                    "(Keras's Dropout(rate)); the kept ones are scaled by 1/(1 − rate)",
            name="Dropout rate")
        self.rate_spin.setRange(0.05, 0.9)
        self.rate_spin.setSingleStep(0.05)
        self.rate_spin.setDecimals(2)
        self.rate_spin.setValue(0.5)
        self.n_spin = self.add_control(
            QSpinBox(), label="Digits:",
            tooltip="How many digits the networks learn from: few digits and a wide network "
                    "make overfitting easy to see", name="Training digits")
        self.n_spin.setRange(50, 4000)
        self.n_spin.setSingleStep(50)
        self.n_spin.setValue(300)
        self.epochs_spin = self.add_control(QSpinBox(), label="Epochs:",
                                            tooltip="Passes over the training digits",
                                            name="Epochs")
        self.epochs_spin.setRange(1, 500)
        # measured (seeds 0-5, 300 digits, rate 0.5): at 50 epochs the plain network's
        # validation loss has climbed well above dropout's in every seed
        self.epochs_spin.setValue(50)
        self.lr_combo = self.add_control(
            QComboBox(), label="Learning rate:",
            tooltip="Adam's learning rate η (type any positive number)", name="Learning rate")
        self.lr_combo.setEditable(True)
        self.lr_combo.addItems(LEARNING_RATES)
        self.lr_combo.setCurrentText("0.001")
        self.lr_combo.lineEdit().setFont(mono_font())
        self.progress = self.add_control(progress_bar("ready: press Play"),
                                         tooltip="Weight updates done by both networks",
                                         name="Progress", stretch=1)
        self.progress.setMinimumWidth(110)
        for w in (self.rate_spin, self.n_spin):
            w.valueChanged.connect(self._settings_changed)
        self.lr_combo.currentTextChanged.connect(self._settings_changed)

    @property
    def diagram(self) -> NetworkDiagram:
        """The diagram, drawing the stepper network. It is given a new network when first
        shown or used: laid out while hidden and again when shown cost ~15 ms each."""
        if self._diagram_model is not self.stepper and self.stepper is not None:
            self._diagram_model = self.stepper
            self._diagram.set_model(self.stepper)
            self._diagram.set_input(self.data()[2][0])
        return self._diagram

    def eventFilter(self, obj, event):
        if obj is self._diagram and event.type() == QEvent.Type.Show:
            # given its network just after the lesson's paint: the ~30 ms of laying it out
            # do not hold up the lesson's opening. (A filter installed on the diagram
            # while its Show is being filtered would be handed that same Show again.)
            self.after_first_paint(lambda: self.diagram)
        return super().eventFilter(obj, event)

    def _build_fits(self) -> FitCapacityView:
        fits = FitCapacityView(self.start_session)
        fits.fitted.connect(lambda: self._update_controls())
        fits.fit_button.setEnabled(not self.is_training())
        return fits

    @property
    def fits(self) -> FitCapacityView:
        return self.fits_tab.content()

    # --- settings and models ------------------------------------------------------------------
    def rate(self) -> float:
        return round(self.rate_spin.value(), 4)

    def learning_rate(self) -> float:
        return parse_learning_rate(self.lr_combo.currentText())

    def data(self):
        key = self.n_spin.value()
        if key != self._data_key:
            self._data = small_digits(n_train=key)
            self._data_key = key
        return self._data

    def _settings_changed(self, *_):
        if not self.is_training():
            try:
                self.new_models()
            except ValueError as exc:
                self._say(str(exc), error=True)

    def new_models(self) -> None:
        """Fresh networks (the same starting weights for both) and a fresh stepper copy."""
        lr = self.learning_rate()
        xt, yt, xv, yv = self.data()
        self.models = {"plain": build_overfit_model(0.0, learning_rate=lr, seed=SEED),
                       "dropout": build_overfit_model(self.rate(), learning_rate=lr, seed=SEED)}
        self.stepper = clone_model(self.models["dropout"], seed=STEP_SEED)
        self.recorder = MaskRecorder(self.models["dropout"])
        self._shown_batch = 0
        self.batches = StepBatches(xt, yt, BATCH_SIZE, seed=STEP_SEED)
        self._synced_steps = 0
        self.last_trace = None
        self.shown_masks = {}
        self.batch_masks = {}
        if self._diagram.isVisible():
            self.diagram                # given the new network now
        n_params = self.models["plain"].count_params()
        self.mask_label.setText(
            f"Dropout after each hidden layer, rate {fmt(self.rate())}. Press → to take one "
            f"training batch and see which neurons are dropped.")
        self._say(f"{len(yt)} training digits, {len(yv)} validation digits; each network has "
                  f"{n_params:,} weights: far more than the digits can pin down.")

    # --- training ------------------------------------------------------------------------------
    def _trains_networks(self) -> bool:
        """The two networks' session runs (the fit picture's session is another one)."""
        return self.session is not None and self.session.is_running()

    def _on_play(self, playing: bool) -> None:
        if playing:
            if self.fits_tab.is_built() and self.fits.is_fitting():
                self._say("The under- and overfitting picture is still training (a few "
                          "seconds); press Play when it is done.")
                self.playback.set_playing(False)
            elif self._trains_networks():
                self.session.resume()
            elif not self.start():
                self.playback.set_playing(False)
        elif self._trains_networks():
            self.session.pause()
            self.show_trained_network()
        self._update_controls()

    def start(self) -> bool:
        """Train both networks from fresh weights; False (and a message) if settings are bad."""
        if self.is_training():
            return False
        try:
            self.new_models()
        except ValueError as exc:
            self._say(f"Cannot start: {exc}", error=True)
            return False
        xt, yt, xv, yv = self.data()
        self.plot.clear()
        self.store = RunStore()
        settings = {"train_samples": len(yt), "epochs": self.epochs_spin.value(),
                    "batch_size": BATCH_SIZE, "learning_rate": self.learning_rate()}
        self.runs = {"plain": self.store.new_run({**settings, "dropout": 0.0},
                                                 name="no dropout"),
                     "dropout": self.store.new_run({**settings, "dropout": self.rate()},
                                                   name=f"dropout {fmt(self.rate())}")}
        tasks = [TrainingTask(self.runs[k], self.models[k], xt, yt,
                              epochs=self.epochs_spin.value(), batch_size=BATCH_SIZE,
                              validation_data=(xv, yv), seed=SEED)
                 for k in ("plain", "dropout")]
        for run in self.runs.values():
            self.plot.add_run(run)
        self.session = TrainingSession(tasks, parent=self)
        self.session.updated.connect(self._on_updated)
        self.session.progress_changed.connect(self._on_progress)
        self.session.run_ended.connect(self._on_run_ended)
        self.session.finished.connect(self._on_finished)
        self.start_session(self.session)
        self._mask_timer.start()
        self.playback.set_playing(True)
        self._say(f"Training both networks on {len(yt)} digits, one epoch each in turn…")
        self._update_controls()
        return True

    def pause(self) -> None:
        self.playback.set_playing(False)

    def _on_updated(self, run_ids) -> None:
        self.plot.update_runs(run_ids)
        self._update_gap()

    def _show_live_masks(self) -> None:
        """The masks of the dropout network's newest training batch, as its recorder kept
        them (read only: the training thread owns the network)."""
        if self.recorder is None:
            return
        batch, masks = self.recorder.snapshot
        if batch == self._shown_batch or not masks:
            return
        self._shown_batch = batch
        self.batch_masks = masks
        self.shown_masks = {i: m[0].copy() for i, m in masks.items()}
        self.diagram.set_dropout_masks(self.shown_masks)
        self._describe_masks(f"Training batch {batch}")
        self.masks_changed.emit()

    def _describe_masks(self, where: str) -> None:
        n = len(next(iter(self.batch_masks.values())))
        lines = [f"{where}: example 1 of {n} shown (each example gets its own mask)"]
        tips = []
        for k, (i, m) in enumerate(sorted(self.shown_masks.items()), start=1):
            units = m.size
            dropped = units - int(m.sum())
            whole = self.batch_masks[i]
            share = 1.0 - float(whole.mean())
            lines.append(f"layer {k}: {dropped}/{units} dropped ({fmt(dropped / units)}), "
                         f"batch: {fmt(share)}")
            tips.append(f"hidden layer {k}: dropped share in the whole batch = "
                        f"{whole.size - int(whole.sum())} / {whole.size} = {fmt(share)} "
                        f"(rate {fmt(self.rate())})")
        self.mask_label.setText("\n".join(lines))
        self.mask_label.setToolTip("\n".join(tips) + "\nA dropped neuron outputs 0 for this "
                                   "example; kept ones are multiplied by 1/(1 − rate) = "
                                   f"{fmt(1 / (1 - self.rate()))}")

    def _update_gap(self) -> None:
        parts, tips = [], []
        for key, run in self.runs.items():
            ep = run.epochs
            if not len(ep):
                continue
            gap = generalization_gap(ep.get("loss"), ep.get("val_loss"))
            if gap is None:
                continue
            tr, va = ep.last("loss"), ep.last("val_loss")
            acc = ep.last("accuracy")
            vacc = ep.last("val_accuracy")
            color = run_color(run).name()
            parts.append(f"<span style='color:{color}'>■</span> {run.name}: validation − "
                         f"training loss = {fmt(gap)}"
                         + (f", val accuracy {fmt(100 * vacc)} %" if vacc is not None else ""))
            tips.append(f"{run.name} after epoch {len(ep)}: gap = validation loss − training "
                        f"loss = {fmt(va)} − {fmt(tr)} = {fmt(gap)}"
                        + (f"; accuracy train {fmt(acc)}, validation {fmt(vacc)}"
                           if acc is not None and vacc is not None else ""))
        if parts:
            self.gap_label.setText("<br>".join(parts))
            self.gap_label.setToolTip("\n".join(tips) + "\nA growing gap means the network "
                                      "memorises its training digits instead of learning "
                                      "digits in general (overfitting).")

    def gap(self, key: str) -> float | None:
        run = self.runs.get(key)
        if run is None or not len(run.epochs):
            return None
        return generalization_gap(run.epochs.get("loss"), run.epochs.get("val_loss"))

    def _on_progress(self, p) -> None:
        self.progress.setValue(int(round(1000 * p.fraction)))
        state = "paused" if self.session is not None and self.session.is_paused() else \
            f"{format_duration(p.remaining)} left"
        self.progress.setFormat(f"{p.done} of {p.total} updates · {state}")

    def _on_run_ended(self, run) -> None:
        self.plot.update_runs([run.id])
        if run.status in ("diverged", "failed"):
            self._say(f"{run.name} {run.status}: {run.stop_reason}", error=True)

    def _on_finished(self) -> None:
        self._mask_timer.stop()
        self.plot.refresh()
        self._update_gap()
        self.playback.set_playing(False)
        self._update_controls()
        runs = list(self.runs.values())
        if runs and all(r.status == "finished" for r in runs):
            self.progress.setValue(1000)
            self.progress.setFormat("finished: compare the gaps")
            g0, g1 = self.gap("plain"), self.gap("dropout")
            if g0 is not None and g1 is not None:
                ep = {k: {m: self.runs[k].epochs.get(m) for m in
                          ("loss", "val_loss", "val_accuracy")} for k in self.runs}
                self._say(f"Done. The gap between validation and training loss: "
                          f"{fmt(g0)} without dropout, {fmt(g1)} with dropout "
                          f"{fmt(self.rate())}. " + dropout_verdict(
                              ep["plain"], ep["dropout"], len(self.data()[3]), self.rate()))
        elif runs and not any(r.status in ("diverged", "failed") for r in runs):
            self.progress.setFormat("stopped")
        if runs:
            self.show_trained_network()
        self.training_finished.emit()

    def show_trained_network(self) -> None:
        """The diagram shows the dropout network as trained so far (the training thread is
        paused or gone), answering one validation digit with dropout off, as Keras does
        when a trained network predicts."""
        live, run = self.models.get("dropout"), self.runs.get("dropout")
        if live is None or run is None or not run.steps:
            return
        xv, yv = self.data()[2:]
        self.stepper.set_weights(live.get_weights())
        self._synced_steps = run.steps
        self.shown_masks, self.batch_masks, self.last_trace = {}, {}, None
        self.diagram.set_dropout_masks({})
        self.diagram.set_input(xv[0])
        probs = np.asarray(self.stepper.predict(xv[:1]))[0]
        guess = int(np.argmax(probs))
        self.mask_label.setToolTip("")
        self.mask_label.setText(
            f"The dropout network after {len(run.epochs)} epochs, on validation digit 1 "
            f"({'an' if int(yv[0]) == 8 else 'a'} {int(yv[0])}): it answers {guess} at {fmt(100 * probs[guess])} %. No neuron "
            "is dropped when a trained network answers. Press → for a training batch's mask.")

    def _update_controls(self) -> None:
        running = self.is_training()
        for w in (self.rate_spin, self.n_spin, self.epochs_spin, self.lr_combo):
            w.setEnabled(not running)
        if self.fits_tab.is_built():
            self.fits.fit_button.setEnabled(not running)

    # --- stepping ----------------------------------------------------------------------------
    def step(self) -> None:
        """One traced training batch of (a copy of) the dropout network: a fresh mask."""
        if self._trains_networks() and not self.session.is_paused():
            self.session.pause()
        live = self.models.get("dropout")
        run = self.runs.get("dropout")
        done = run.steps if run is not None else 0
        if live is not None and done != self._synced_steps:
            # carry on from what the dropout network has learned so far
            self.stepper.set_weights(live.get_weights())
            self._synced_steps = done
        index, xb, yb = self.batches.next()
        trace = self.stepper.trace_step(xb, yb)
        self.last_trace = trace
        masks = {}
        for i in dropout_layers(self.stepper):
            kept = trace.layers[i].extras.get("kept")
            if kept is not None:
                masks[i] = np.asarray(kept, bool).reshape(len(kept), -1)   # (N, units)
        self.diagram.set_dropout_masks({})
        self.diagram.set_trace(trace, sample=0)
        self.batch_masks = masks
        self.shown_masks = {i: m[0].copy() for i, m in masks.items()}
        self._describe_masks(f"Step {index} (epoch {self.batches.epoch + 1}), loss "
                             f"{fmt(trace.loss)}")
        self.masks_changed.emit()

    def reset(self) -> None:
        if self.session is not None:
            self.session.stop_and_wait(5000, why="by Reset")
        self.session = None
        self.runs = {}
        if self.plot_pane.is_built():
            self.plot.clear()
        self.gap_label.setText("")
        self.progress.setValue(0)
        self.progress.setFormat("ready: press Play")
        try:
            self.new_models()
        except ValueError as exc:
            self._say(str(exc), error=True)
        self._update_controls()

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        if error:
            self.show_status(text, 8000)

    # --- lifecycle ----------------------------------------------------------------------------
    def deactivate(self) -> None:
        self._mask_timer.stop()
        super().deactivate()          # stops the training session
        self.playback.set_playing(False)
        self._update_controls()

    def shutdown(self) -> None:
        self._mask_timer.stop()
        super().shutdown()
