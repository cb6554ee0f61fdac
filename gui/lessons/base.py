"""The one frame every lesson lives in (DESIGN "Visual language").

    ┌ title ───────────────────────────────────────────────┐
    │ subtitle: what you will see (one line)                │
    │ ▾ Explanation   (collapsible, markdown from resources) │
    │ ┌ visual ──────────────────────────────────────────┐ │
    │ │ self.visual_layout / set_visual(widget)            │ │
    │ └──────────────────────────────────────────────────┘ │
    │ [⟲ Reset][◀ Back][▶ Play][▶ Step] Speed ─○─  | self.controls … │
    └───────────────────────────────────────────────────────┘

A lesson subclasses `Lesson`, sets `title`, `subtitle`, `help_name`, and fills the visual
area and the controls bar in `__init__`. The main window builds it the first time the
learner selects it and keeps it (state survives switching away); it calls `activate()`
when shown, `deactivate()` when the learner leaves and `shutdown()` once when the window
closes.

Training belongs to the frame, not to each lesson: a lesson hands its
`gui.training_worker.TrainingSession` to `start_session()`, and this class stops it (and
waits for its thread) when the learner leaves the lesson or closes the window. A lesson that
overrides `deactivate()` / `shutdown()` calls `super()` so that still happens.

Two things every training lesson gets from here, not from its own code: the pace control
(`add_pace_control()`: one call adds "Pace: 10/s ▾", which paces every session the
lesson starts), and the sentence saying why a run failed (`run.diagnosis`, set by the
session when a run ends stuck at chance, diverged or flat) in the status bar.
"""
from __future__ import annotations

import sys
import traceback

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QAbstractButton, QFrame, QGridLayout, QHBoxLayout, QLabel,
                               QSizePolicy, QVBoxLayout, QWidget)

from gui.app import Worker
from gui.widgets.after_paint import after_first_paint
from gui.presentation import narrow_choices
from core.teaching.course_map import tutorial_caption, tutorials_of
from core.teaching.predict import Question, Score
from gui.widgets.collapsible import CollapsibleSection
from gui.widgets.explanation import ExplanationBrowser
from gui.widgets.pace_control import FULL_SPEED, PaceControl
from gui.widgets.playback import PlaybackBar
from gui.widgets.prediction_panel import PredictionPanel
from resources.paths import lesson_text


#: the explanation's most lines in presentation mode (it scrolls beyond them)
PRESENTATION_EXPLANATION_LINES = 3
#: the widest controls bar that fits one row: a 1280-pixel screen less the lesson's margins
PRESENTATION_BAR_WIDTH = 1280 - 2 * 16 - 2 * 8 - 8


class Lesson(QWidget):
    """Base class of every lesson. Example::

        class NeuronLesson(Lesson):
            title = "Neuron"
            subtitle = "A weighted sum of inputs plus a bias, squashed by an activation."
            help_name = "neuron"            # resources/lessons/neuron.md

            def __init__(self, parent=None):
                super().__init__(parent)
                self.plot = pg.PlotWidget()
                self.set_visual(self.plot)
                self.w = self.add_control(QSlider(Qt.Horizontal), label="Weight w",
                                          tooltip="The input's weight", name="Weight")
                self.playback = self.add_playback()
                self.playback.step_forward.connect(self.step)

            def deactivate(self):
                self.playback.set_playing(False)
                super().deactivate()        # stops the lesson's training sessions

    A lesson that trains builds a `gui.training_worker.TrainingSession` and hands it to
    `self.start_session(session)`; it never stops it on leave or close itself.
    """

    #: navigator entry and big heading
    title: str = "Untitled lesson"
    #: one line: what the learner will see
    subtitle: str = ""
    #: resources/lessons/<help_name>.md is the explanation (markdown)
    help_name: str | None = None
    #: status-bar hint when the lesson is shown (defaults to the subtitle)
    status_hint: str = ""
    #: opt-in for visual-heavy lessons: the explanation starts folded (one header line) so
    #: the visual gets the height; the learner's own choice is remembered as for any lesson
    explanation_collapsed_by_default: bool = False
    #: the course tutorials (codebasics' playlist numbers) this lesson follows, first the
    #: main one: the navigator's course map files the lesson under it; () = beyond the course
    course_tutorials: tuple[int, ...] = ()

    #: (text, timeout in ms; 0 = until replaced) for the window's status bar
    status_message = Signal(str, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName(f"lesson_{type(self).__name__}")
        # clicking an empty spot takes focus off a slider, giving ← / → back to stepping
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self._workers: list[Worker] = []
        self._shut_down = False
        self._sessions: list = []          # TrainingSessions started, until they finish
        self._trained: dict = {}           # run name → (description, model), latest last
        self.playback: PlaybackBar | None = None
        self._playback_line: QFrame | None = None
        self.pace_control: PaceControl | None = None

        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 12, 16, 10)
        outer.setSpacing(6)

        self.title_label = QLabel(self.title, self)
        self.title_label.setObjectName("lessonTitle")
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.45)
        font.setWeight(QFont.Weight.DemiBold)
        self.title_label.setFont(font)
        self.title_label.setAccessibleName(f"Lesson: {self.title}")
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tutorial_label = QLabel(tutorial_caption(tutorials_of(self)), self)
        self.tutorial_label.setObjectName("mutedText")
        self.tutorial_label.setAccessibleName("Course tutorial")
        self.tutorial_label.setToolTip("The tutorial of the course (codebasics' deep-learning "
                                       "playlist) this lesson follows")
        heading = QHBoxLayout()
        heading.setSpacing(12)
        heading.addWidget(self.title_label)
        heading.addStretch(1)
        heading.addWidget(self.tutorial_label, 0, Qt.AlignmentFlag.AlignBottom)
        outer.addLayout(heading)

        self.subtitle_label = QLabel(self.subtitle, self)
        self.subtitle_label.setObjectName("lessonSubtitle")
        self.subtitle_label.setWordWrap(True)
        self.subtitle_label.setVisible(bool(self.subtitle))
        outer.addWidget(self.subtitle_label)

        self.explanation = ExplanationBrowser(parent=self)
        key = self.help_name or type(self).__name__
        self.explanation_section = CollapsibleSection(
            "Explanation", self.explanation,
            expanded=not self.explanation_collapsed_by_default,
            settings_key=f"lessons/{key}/explanationExpanded", parent=self)
        self._load_explanation()
        outer.addWidget(self.explanation_section)

        self.visual_area = QFrame(self)
        self.visual_area.setObjectName("visualArea")
        self.visual_area.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.visual_layout = QVBoxLayout(self.visual_area)
        self.visual_layout.setContentsMargins(0, 4, 0, 4)
        self.visual_layout.setSpacing(6)
        outer.addWidget(self.visual_area, 1)

        # predict, then reveal: shown only while "Ask me first" is on, in lessons that ask
        self._ask_first = False
        self._open_question: tuple[Question, object, bool] | None = None
        self._answered: set = set()
        self.prediction_score = Score()
        self.prediction_panel = PredictionPanel(self)
        self.prediction_panel.setVisible(False)
        self.prediction_panel.answered.connect(self._on_prediction)
        outer.addWidget(self.prediction_panel)

        self.controls_bar = QFrame(self)
        self.controls_bar.setObjectName("controlsBar")
        self.controls_bar.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        bar_rows = QVBoxLayout(self.controls_bar)
        bar_rows.setContentsMargins(8, 5, 8, 5)
        bar_rows.setSpacing(5)
        # presentation mode's larger text gives the playback buttons a row of their own
        self.playback_row = QHBoxLayout()
        self.playback_row.setSpacing(8)
        bar_rows.addLayout(self.playback_row)
        self.controls = QHBoxLayout()
        self.controls.setContentsMargins(0, 0, 0, 0)
        self.controls.setSpacing(8)
        bar_rows.addLayout(self.controls)
        self.controls_bar.setVisible(False)   # shown once something is added
        outer.addWidget(self.controls_bar)

    # --- frame ------------------------------------------------------------------------
    def _load_explanation(self) -> None:
        text = lesson_text(self.help_name) if self.help_name else None
        if text is None:
            where = f"resources/lessons/{self.help_name}.md" if self.help_name else "help_name"
            print(f"{type(self).__name__}: no explanation text ({where} is missing)",
                  file=sys.stderr)
            text = "*There is no explanation for this lesson yet.*"
        self.set_explanation(text)

    def set_explanation(self, markdown: str) -> None:
        self.explanation.setMarkdown(markdown)
        self.explanation.verticalScrollBar().setValue(0)

    def set_visual(self, widget: QWidget, stretch: int = 1) -> QWidget:
        """Make `widget` the whole visual area (replacing what was there)."""
        while self.visual_layout.count():
            item = self.visual_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().setParent(None)
        self.visual_layout.addWidget(widget, stretch)
        return widget

    def add_control(self, widget: QWidget, label: str | None = None, tooltip: str | None = None,
                    name: str | None = None, stretch: int = 0) -> QWidget:
        """Append `widget` to the controls bar, optionally after a caption `label`.

        `tooltip` and `name` (accessible name) are required in spirit: every interactive
        control has both; `name` defaults to the caption.
        """
        if label:
            caption = QLabel(label, self.controls_bar)
            caption.setBuddy(widget)
            # room to spare goes to the fields, never between a caption and its control
            caption.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
            self.controls.addWidget(caption)
        if tooltip:
            widget.setToolTip(tooltip)
        if name or label:
            widget.setAccessibleName(name or label.rstrip(": "))
        if isinstance(widget, QAbstractButton) and not stretch:   # nor into buttons
            widget.setSizePolicy(QSizePolicy.Policy.Maximum, widget.sizePolicy().verticalPolicy())
        self.controls.addWidget(widget, stretch)
        self.controls_bar.setVisible(True)
        self._place_playback_line()
        return widget

    def add_controls_separator(self) -> None:
        line = QFrame(self.controls_bar)
        line.setFrameShape(QFrame.Shape.VLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        self.controls.addWidget(line)
        self._place_playback_line()

    def add_controls_stretch(self) -> None:
        """Push the controls added afterwards to the right end of the bar."""
        self.controls.addStretch(1)
        self._place_playback_line()

    def _place_playback_line(self) -> None:
        """The line after the playback buttons separates them from other controls: shown
        only when some follow in the same row."""
        line = self._playback_line
        if line is not None:
            line.setVisible(self.controls.indexOf(line) == 1 and self.controls.count() > 2)

    def add_playback(self, step_back: bool = True) -> PlaybackBar:
        """The standard playback bar, first in the controls bar (Space/→/←/R included)."""
        if self.playback is None:
            self.playback = PlaybackBar(self.controls_bar, step_back_enabled=step_back)
            self.controls.insertWidget(0, self.playback, 0, Qt.AlignmentFlag.AlignLeft)
            line = QFrame(self.controls_bar)
            line.setFrameShape(QFrame.Shape.VLine)
            line.setFrameShadow(QFrame.Shadow.Sunken)
            self.controls.insertWidget(1, line)
            self._playback_line = line
            self._place_playback_line()
            self.controls_bar.setVisible(True)
            # going back or starting over leaves the step a question was about; starting
            # over asks every question again
            self.playback.reset.connect(self.withdraw_question)
            self.playback.reset.connect(self._answered.clear)
            self.playback.step_back.connect(self.withdraw_question)
        return self.playback

    def add_pace_control(self, default: float | None = FULL_SPEED,
                         layout=None) -> PaceControl:
        """The shared training pace control ("Pace: 10/s ▾"): every session this
        lesson starts follows it, also when it changes mid-run. `default` in updates per
        second (None: full speed) until the learner chooses; their choice is remembered
        per lesson while the app runs. Added to the controls bar, or to `layout`."""
        if self.pace_control is None:
            self.pace_control = PaceControl(type(self).__name__, default, parent=self)
            if layout is None:
                self.controls.addWidget(self.pace_control)
                self.controls_bar.setVisible(True)
                self._place_playback_line()
            elif isinstance(layout, QGridLayout):   # a row of its own, not a wider column
                layout.addWidget(self.pace_control, layout.rowCount(), 0, 1, -1)
            else:
                layout.addWidget(self.pace_control)
            self.pace_control.pace_changed.connect(self._apply_pace)
        return self.pace_control

    def _apply_pace(self, pace) -> None:
        for session in self._sessions:
            session.set_updates_per_second(pace)

    def make_message_label(self) -> QLabel:
        """A wrapping, selectable label for the lesson's own messages (errors, stop reasons)."""
        label = QLabel(self)
        label.setWordWrap(True)
        label.setMinimumWidth(120)
        label.setAccessibleName("Lesson message")
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def show_status(self, text: str, timeout_ms: int = 0) -> None:
        """A message in the window's status bar."""
        self.status_message.emit(str(text), int(timeout_ms))

    def clear_status(self) -> None:
        """The lesson's state changed (reset, another network): a message about the old
        state must not stay on screen, so the status bar goes back to the lesson's hint."""
        self.status_message.emit(self.hint(), 0)

    def hint(self) -> str:
        return self.status_hint or self.subtitle

    def show_help(self) -> None:
        """F1: open the explanation and put the keyboard focus on it."""
        self.explanation_section.set_expanded(True)
        self.explanation.setFocus(Qt.FocusReason.ShortcutFocusReason)

    # --- presentation mode (gui/presentation.py calls this on every switch) ----------------
    def presentation_changed(self, scale: float) -> None:
        """Larger text for a projector, and the lesson still fits a 1280×800 screen: the
        explanation keeps fewer lines (it scrolls), long drop-downs show the start of their
        entry, and the playback buttons take a row of their own when one row would not fit."""
        presenting = scale > 1.0
        self.explanation.set_max_lines(PRESENTATION_EXPLANATION_LINES if presenting else 9)
        narrow_choices(self, presenting)
        if self.playback is None:
            return
        in_own_row = self.playback_row.indexOf(self.playback) >= 0
        one_row = self.controls.sizeHint().width() + (
            self.playback.sizeHint().width() + 2 * self.controls.spacing() + 2
            if in_own_row else 0)
        split = presenting and one_row > PRESENTATION_BAR_WIDTH
        if split and not in_own_row:
            self.controls.removeWidget(self.playback)
            self.controls.removeWidget(self._playback_line)
            self._playback_line.setVisible(False)
            self.playback_row.addWidget(self.playback)
            self.playback_row.addStretch(1)
        elif not split and in_own_row:
            self.playback_row.removeWidget(self.playback)
            while self.playback_row.count():        # the stretch
                self.playback_row.takeAt(0)
            self.controls.insertWidget(0, self.playback, 0, Qt.AlignmentFlag.AlignLeft)
            self.controls.insertWidget(1, self._playback_line)
            self._place_playback_line()

    # --- predict, then reveal ("Ask me first") ------------------------------------------------
    def next_question(self) -> Question | None:
        """The question about what the next step will reveal, with the true answer from the
        lesson's own numbers (core.teaching.predict builds it); None: nothing to predict
        there. Override in animated lessons; they call `ask_first(reveal)` before revealing."""
        return None

    @classmethod
    def asks_questions(cls) -> bool:
        return cls.next_question is not Lesson.next_question

    def ask_first_enabled(self) -> bool:
        return self._ask_first

    def set_ask_first(self, on: bool) -> None:
        """View ▸ Ask me first: pause before each reveal to ask for a prediction."""
        self._ask_first = bool(on) and self.asks_questions()
        if not self._ask_first:
            self.withdraw_question()
        self.prediction_panel.setVisible(self._ask_first)
        self.prediction_panel.set_score_text(self.prediction_score.text())

    def question_open(self) -> Question | None:
        return self._open_question[0] if self._open_question else None

    def ask_first(self, reveal) -> bool:
        """Call before revealing the next number. True: a question is on screen instead and
        `reveal()` runs once it is answered (the caller stops here); False: go ahead."""
        if not self._ask_first:
            return False
        question = self.next_question()
        key = None if question is None else self._question_key(question)
        if self._open_question is not None:
            asked, _reveal, playing = self._open_question
            if key is not None and key == self._question_key(asked):
                # the same reveal, its numbers maybe newer (training went on meanwhile)
                self._open_question = (question, _reveal, playing)
                self._pause_playback()
                return True
            # the lesson moved on while asking (a row clicked, another digit chosen): the
            # open question is stale
            self.withdraw_question()
        else:
            playing = self.playback is not None and self.playback.is_playing()
        if question is None or key in self._answered:
            return False
        self._pause_playback()
        self._open_question = (question, reveal, playing)
        self.prediction_panel.ask(question)
        return True

    def answer_question(self, choice: int) -> None:
        """As a click on answer `choice` (0-based) would."""
        self.prediction_panel.choose(choice)

    def withdraw_question(self) -> None:
        if self._open_question is not None:
            self._open_question = None
            self.prediction_panel.withdraw()

    @staticmethod
    def _question_key(question: Question):
        return question.key if question.key is not None else (question.prompt, question.truth)

    def _pause_playback(self) -> None:
        if self.playback is not None and self.playback.is_playing():
            self.playback.set_playing(False)

    def _on_prediction(self, choice: int) -> None:
        if self._open_question is None:
            return
        question, reveal, playing = self._open_question
        self._open_question = None
        self._answered.add(self._question_key(question))
        right = question.is_right(choice)
        self.prediction_score.record(right)
        self.prediction_panel.show_verdict(question.verdict(choice), right)
        self.prediction_panel.set_score_text(self.prediction_score.text())
        reveal()
        if playing and self.playback is not None:
            self.playback.set_playing(True)

    # --- background work ----------------------------------------------------------------
    def start_worker(self, fn, *args, on_progress=None, on_finished=None, on_failed=None,
                     on_done=None, **kwargs) -> Worker:
        """Run `fn(*args, **kwargs)` off the GUI thread; stopped by `shutdown()`.

        Failures without an `on_failed` handler go to the status bar, never vanish.
        """
        worker = Worker(fn, *args, **kwargs)
        if on_progress is not None:
            worker.progress.connect(on_progress)
        if on_finished is not None:
            worker.finished.connect(on_finished)
        if on_failed is not None:
            worker.failed.connect(on_failed)
        else:
            worker.failed.connect(self._report_failure)
        if on_done is not None:
            worker.done.connect(on_done)
        worker.done.connect(lambda w=worker: self._forget(w))
        self._workers.append(worker)
        return worker.start()

    def after_first_paint(self, fn) -> None:
        """Call `fn()` just after the lesson is first on screen (gui/widgets/after_paint.py),
        unless the lesson has been shut down by then: loading work a lesson starts this way
        no longer competes with its own opening, and never starts as the window closes."""
        after_first_paint(self, lambda: None if self._shut_down else fn())

    def _forget(self, worker: Worker) -> None:
        if worker in self._workers:
            self._workers.remove(worker)

    def _report_failure(self, exc) -> None:
        traceback.print_exception(exc)
        self.show_status(f"Something went wrong: {type(exc).__name__}: {exc}", 0)

    # --- training sessions ---------------------------------------------------------------
    def start_session(self, session):
        """Start a `TrainingSession` in a worker of this lesson: leaving the lesson or
        closing the window stops it, and the window never closes over its thread."""
        self._sessions.append(session)
        session.finished.connect(lambda s=session: self._remember_trained(s))
        session.finished.connect(lambda s=session: self._forget_session(s))
        session.run_ended.connect(self._say_why_it_failed)
        if self.pace_control is not None:
            session.set_updates_per_second(self.pace_control.updates_per_second())
        return session.start(self.start_worker)

    def _say_why_it_failed(self, run) -> None:
        """A run that ended stuck at chance, diverged or flat: its diagnosis (with the
        likely cause) in the status bar, until something replaces it."""
        diagnosis = getattr(run, "diagnosis", None)
        if diagnosis is not None:
            self.show_status(f"{run.name}: {diagnosis}", 0)

    def _forget_session(self, session) -> None:
        if session in self._sessions:
            self._sessions.remove(session)

    def _remember_trained(self, session) -> None:
        """Every model a session changed (one weight update or more) can be saved from
        File ▸ Save trained model…; a newer run of the same name replaces the older one."""
        for task in getattr(session, "tasks", ()):
            if task.steps <= 0 or not getattr(task.model, "built", False):
                continue
            name = task.run.name
            updates = f"{task.steps:,} weight update{'s' if task.steps != 1 else ''}"
            self._trained.pop(name, None)
            self._trained[name] = (f"{name} ({updates})", task.model)
        while len(self._trained) > 12:           # a long session of runs keeps the latest
            self._trained.pop(next(iter(self._trained)))

    def trained_models(self) -> list[tuple[str, object]]:
        """(description, model) of each model trained or taught in this lesson, latest
        first: what File ▸ Save trained model… offers. A lesson whose trained model does not
        come from its training sessions overrides this."""
        return list(reversed(self._trained.values()))

    def model_saved(self, model, path: str) -> None:
        """`model` of this lesson was saved to `path` (a lesson tracking unsaved changes
        marks it saved). Default: nothing to do."""

    def training_sessions(self) -> list:
        """The sessions of this lesson still training."""
        return [s for s in self._sessions if s.is_running()]

    def is_training(self) -> bool:
        return bool(self.training_sessions())

    def stop_sessions(self, why: str = "by you", timeout_ms: int = 5000) -> bool:
        """Stop every session of this lesson and wait for its thread; True if all ended."""
        ok = True
        for session in list(self._sessions):
            ok = session.stop_and_wait(timeout_ms, why=why) and ok
        return ok

    def running_workers(self) -> list[Worker]:
        return [w for w in self._workers if w.is_running()]

    def stop_workers(self, timeout_ms: int = 5000) -> bool:
        ok = True
        for w in list(self._workers):
            ok = w.stop_and_wait(timeout_ms) and ok
        return ok

    # --- unsaved work (override where a learner can teach or train a model to keep) -------
    def unsaved_models(self) -> list[str]:
        """A description of each model changed here and not saved yet: the window asks
        before closing over them."""
        return []

    def save_unsaved_models(self) -> bool:
        """Offer to save each unsaved model (file dialogs); True if none is left unsaved."""
        return not self.unsaved_models()

    # --- the learner's own model (File > Open) -----------------------------------------
    def learner_model_opened(self, model, name: str) -> None:
        """The learner opened a model of their own; a lesson that can use it does so
        (Draw a digit reads drawings with it). Default: nothing to do."""

    # --- lifecycle (override; keep calling super().shutdown()) ---------------------------
    def activate(self) -> None:
        """The lesson is now on screen."""

    def deactivate(self) -> None:
        """The learner left the lesson: training stops here (pause animations in an
        override, then call super().deactivate())."""
        self.stop_sessions(why="when you left the lesson")

    def shutdown(self) -> None:
        """The window is closing: stop training, then stop and wait for every worker this
        lesson started."""
        self._shut_down = True
        self.stop_sessions(why="when the window closed")
        self.stop_workers()
