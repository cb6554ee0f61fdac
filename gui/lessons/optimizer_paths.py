"""Optimizers on the loss surface (tutorial 14's picture, and the optimizer arena).

Two maps of the insurance neuron's log loss over (w1, w2), the bias held at its best
value so the map is the true loss of every drawn point:

- Batch vs stochastic vs mini-batch: the three descent paths from one start with one
  learning rate — batch descent's few smooth steps, stochastic descent's many noisy ones,
  mini-batches between.
- Optimizer arena: plain SGD, SGD with momentum and Adam from the same start on the same
  gradients.

Each page replays its runs update by update (PlaybackClock), with a table counting each
run's updates, epochs and compute time. The runs come from core.teaching.descent_paths,
computed off the GUI thread (its loss kernels may need loading the first time).
"""
from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QComboBox, QSpinBox, QTabWidget

from core.teaching import descent_paths as dp
from gui.lessons.base import Lesson
from gui.lessons.optimizer_paths_page import PathsPage
from gui.widgets.numbers import fmt
from gui.widgets.playback import PlaybackClock
from gui.widgets.training_plot import RUN_COLORS

#: the same colours as the "Batch vs SGD" lesson's curves: batch, stochastic, mini-batch
VARIANT_COLORS = (RUN_COLORS[0], RUN_COLORS[1], RUN_COLORS[2])
ARENA_COLORS = (RUN_COLORS[3], RUN_COLORS[4], RUN_COLORS[5])
#: milliseconds per replay step at 1×: stochastic descent makes an update per example, so
#: its page steps faster; the arena's runs update together, a few steps a second
VARIANT_STEP_MS = 50.0
ARENA_STEP_MS = 200.0
#: a setting changed: wait this long for the next change (a spin box held down) before
#: computing the runs again
RECOMPUTE_DELAY_MS = 150
RATES = (0.2, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
ADAM_RATES = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
MOMENTA = (0.5, 0.8, 0.9, 0.95)
#: (text, examples per gradient; None = all) for the arena
GRADIENT_SOURCES = (("all 28 people", None), ("mini-batches of 4", 4), ("one person", 1))


def _combo(values, current) -> QComboBox:
    box = QComboBox()
    for v in values:
        box.addItem(fmt(v), v)
    box.setCurrentIndex(values.index(current))
    return box


class OptimizerPathsLesson(Lesson):
    title = "Optimizers on the loss surface"
    subtitle = ("Batch, stochastic and mini-batch descent, then SGD, momentum and Adam, walking "
                "down the insurance loss surface from one start, update by update.")
    help_name = "optimizer_paths"
    course_tutorials = (14,)
    explanation_collapsed_by_default = True

    def __init__(self, parent=None):
        super().__init__(parent)
        self._generation = {"variants": 0, "arena": 0}
        self._recompute = {}
        for which in ("variants", "arena"):
            timer = QTimer(self)
            timer.setSingleShot(True)
            timer.setInterval(RECOMPUTE_DELAY_MS)
            timer.timeout.connect(lambda w=which: self.compute(w))
            self._recompute[which] = timer
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Which runs to show")
        self.variants = PathsPage(VARIANT_COLORS, (3.0, 1.2, 2.0))
        self.arena = PathsPage(ARENA_COLORS, (2.5, 2.5, 2.5))
        self.tabs.addTab(self.variants, "Batch · stochastic · mini-batch")
        self.tabs.addTab(self.arena, "Optimizer arena: SGD · momentum · Adam")
        self.tabs.setTabToolTip(0, "Tutorial 14: one update per epoch, per example, or per "
                                   "mini-batch, with the same learning rate")
        self.tabs.setTabToolTip(1, "Three update rules on the same gradients from one start")
        self.set_visual(self.tabs)
        self._build_variant_settings()
        self._build_arena_settings()

        pb = self.add_playback(step_back=True)
        self.clock = PlaybackClock(pb, VARIANT_STEP_MS, self._tick, rewind=self._rewind)
        pb.step_forward.connect(lambda: self.page().step())
        pb.step_back.connect(lambda: self.page().step_back())
        pb.reset.connect(self.reset)
        self.tabs.currentChanged.connect(self._on_tab)
        for page in (self.variants, self.arena):
            page.set_busy("Computing the runs…")
        # the runs are computed in workers started once the lesson is on screen: started
        # with it, their Python delayed its first paint by 40-100 ms
        self.after_first_paint(self._compute_both)

    def _compute_both(self) -> None:
        if self._generation["variants"] == 0:   # nothing asked for since
            self.compute("variants")
        if self._generation["arena"] == 0:
            self.compute("arena")

    # --- settings -------------------------------------------------------------------------
    def _build_variant_settings(self) -> None:
        page = self.variants
        self.rate_box = page.add_setting(
            "η (all three):", _combo(RATES, 2.0),
            "Learning rate η of all three runs: w ← w − η·∂L/∂w", "Learning rate")
        self.mini_spin = page.add_setting(
            "Mini-batch size:", QSpinBox(),
            "Examples per update of the mini-batch run (batch uses all 28, stochastic 1)",
            "Mini-batch size")
        self.mini_spin.setRange(2, 27)
        self.mini_spin.setValue(4)
        self.epochs_spin = page.add_setting(
            "Epochs:", QSpinBox(), "Passes over the 28 people, the same for all three",
            "Epochs")
        self.epochs_spin.setRange(1, 100)
        self.epochs_spin.setValue(30)
        for signal in (self.rate_box.currentIndexChanged, self.mini_spin.valueChanged,
                       self.epochs_spin.valueChanged):
            signal.connect(lambda *_: self._settings_changed("variants"))

    def _build_arena_settings(self) -> None:
        page = self.arena
        s = dp.ArenaSettings()
        self.sgd_rate_box = page.add_setting(
            "η of SGD and momentum:", _combo(RATES, s.sgd_rate),
            "Learning rate of plain SGD and of SGD with momentum", "SGD learning rate")
        self.momentum_box = page.add_setting(
            "Momentum μ:", _combo(MOMENTA, s.momentum),
            "How much of its last step the momentum run keeps: v ← μ·v − η·g, w ← w + v",
            "Momentum")
        self.adam_rate_box = page.add_setting(
            "η of Adam:", _combo(ADAM_RATES, s.adam_rate),
            "Adam's learning rate: its steps are about η long in each direction, whatever "
            "the gradient's size, so its η is on another scale than SGD's", "Adam learning rate")
        self.updates_spin = page.add_setting(
            "Updates:", QSpinBox(), "Updates of each run, all 28 people per update",
            "Updates")
        self.updates_spin.setRange(5, 400)
        self.updates_spin.setValue(80)
        self.gradient_box = page.add_setting(
            "Gradient from:", QComboBox(),
            "Whose examples each update's gradient averages: all 28 people (smooth), or the "
            "same shuffled mini-batches for all three (noisy)", "Gradient from")
        for text, size in GRADIENT_SOURCES:
            self.gradient_box.addItem(text, size)
        for signal in (self.sgd_rate_box.currentIndexChanged,
                       self.momentum_box.currentIndexChanged,
                       self.adam_rate_box.currentIndexChanged, self.updates_spin.valueChanged,
                       self.gradient_box.currentIndexChanged):
            signal.connect(lambda *_: self._settings_changed("arena"))

    def arena_settings(self) -> dp.ArenaSettings:
        rate = self.sgd_rate_box.currentData()
        return dp.ArenaSettings(sgd_rate=rate, momentum_rate=rate,
                                momentum=self.momentum_box.currentData(),
                                adam_rate=self.adam_rate_box.currentData())

    # --- computing the runs (off the GUI thread) -------------------------------------------
    def _settings_changed(self, which: str) -> None:
        self._pause()
        page = self.variants if which == "variants" else self.arena
        page.set_busy("Computing the runs…")
        self._recompute[which].start()

    def compute(self, which: str) -> None:
        """Compute one page's runs again from its settings; a newer request wins."""
        self._pause()
        self._generation[which] += 1
        gen = self._generation[which]
        page = self.variants if which == "variants" else self.arena
        page.set_busy("Computing the runs…")
        if which == "variants":
            job = (dp.variants_map, self.rate_box.currentData(), self.mini_spin.value(),
                   self.epochs_spin.value())
        else:
            job = (dp.arena_map, self.arena_settings(), self.updates_spin.value(),
                   self.gradient_box.currentData())
        self.start_worker(*job, on_finished=lambda data, w=which, g=gen: self._on_data(w, g, data),
                          on_failed=lambda exc, p=page: p.set_busy(
                              f"The runs could not be computed: {exc}. Change a setting to "
                              "try again."))

    def _on_data(self, which: str, generation: int, data) -> None:
        if data is None or generation != self._generation[which]:
            return   # cancelled (window closing), or settings changed since
        page = self.variants if which == "variants" else self.arena
        page.set_data(data, self._caption(data))
        page.about_label.setText(self._about(which, data))

    @staticmethod
    def _caption(data: dp.PathMapData) -> str:
        return f"log loss over (w1, w2), b held at {fmt(data.path_set.problem.bias)}"

    @staticmethod
    def _about(which: str, data: dp.PathMapData) -> str:
        ps = data.path_set
        n = len(ps.problem)
        w1, w2 = ps.start
        common = (f"The insurance neuron ŷ = σ(w1·age/100 + w2·affordability + b) on the "
                  f"course's {n} people. Drawn: w1 and w2. Held fixed: the bias b at "
                  f"{fmt(ps.problem.bias)}, its best value, so the map is the true loss of "
                  f"every point on it and its star is the best the whole neuron can do. "
                  f"Every run starts at w1 = {fmt(w1)}, w2 = {fmt(w2)}.")
        if which == "variants":
            batch, sgd, mini = ps.paths
            per_epoch = mini.updates // max(int(round(mini.examples[-1] / n)), 1)
            return (f"{common} Same η, same shuffled order. Updates per epoch: batch 1 (all "
                    f"{n} people at once), stochastic {n} (one person each), mini-batch "
                    f"{per_epoch} ({mini.batch_size} people each).")
        size = ps.paths[0].batch_size
        whose = (f"all {n} people" if size >= n else
                 f"the same shuffled mini-batches of {size}" if size > 1 else
                 "one person at a time, in the same shuffled order")
        return (f"{common} All three follow the gradient over {whose}; SGD steps "
                f"η·g, momentum also keeps a share μ of its last step, Adam divides each "
                f"direction's step by that direction's typical gradient size.")

    # --- playback ---------------------------------------------------------------------------
    def page(self) -> PathsPage:
        return self.tabs.currentWidget()

    def _tick(self) -> None:
        if not self.page().step():
            self._pause()

    def _rewind(self) -> None:
        """Play pressed at the end starts the replay over."""
        if self.page().at_end():
            self.page().reset()

    def reset(self) -> None:
        self.page().reset()
        self.clear_status()

    def _pause(self) -> None:
        if self.playback is not None and self.playback.is_playing():
            self.playback.set_playing(False)

    def _on_tab(self, index: int) -> None:
        self._pause()
        self.clock.step_ms = VARIANT_STEP_MS if self.page() is self.variants else ARENA_STEP_MS

    # --- lifecycle ----------------------------------------------------------------------------
    def deactivate(self) -> None:
        self._pause()
        super().deactivate()

    def shutdown(self) -> None:
        self.clock.stop()
        for timer in self._recompute.values():
            timer.stop()
        super().shutdown()
