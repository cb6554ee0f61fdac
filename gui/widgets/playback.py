"""The standard playback bar: reset, step back, play/pause, step forward, speed.

The same keys work in every lesson (DESIGN): Space play/pause, → step forward, ← step
back, R reset. The shortcuts belong to the bar with window context, and Qt ignores the
shortcuts of hidden widgets, so only the lesson on screen reacts.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractSlider, QApplication, QHBoxLayout, QLabel, QSizePolicy,
                               QSlider, QStyle, QToolButton, QWidget)

#: speed multipliers the slider steps through (a geometric ladder reads as "slower/faster")
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


def _speed_text(speed: float) -> str:
    return f"{speed:g}×"


class PlaybackBar(QWidget):
    """Buttons and keys for animations. Stepping or resetting pauses playback first."""

    play_toggled = Signal(bool)
    step_forward = Signal()
    step_back = Signal()
    reset = Signal()
    speed_changed = Signal(float)

    def __init__(self, parent=None, step_back_enabled: bool = True):
        super().__init__(parent)
        self.setObjectName("playbackBar")
        # as wide as its buttons: a bar with room to spare must not pull "Speed" away
        # from its slider
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        self._playing = False
        style = self.style()
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)

        def button(text, icon, tip, name):
            b = QToolButton(self)
            b.setText(text)
            b.setIcon(style.standardIcon(icon))
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            b.setToolTip(tip)
            b.setAccessibleName(name)
            lay.addWidget(b)
            return b

        self.reset_button = button("Reset", QStyle.StandardPixmap.SP_BrowserReload,
                                   "Back to the start (R)", "Reset")
        self.back_button = button("Back", QStyle.StandardPixmap.SP_MediaSeekBackward,
                                  "One step back (←)", "Step back")
        self.play_button = button("Play", QStyle.StandardPixmap.SP_MediaPlay,
                                  "Play or pause (Space)", "Play")
        self.play_button.setObjectName("playButton")
        self.play_button.setCheckable(True)
        # keep the bar from jumping when the label flips between Play and Pause
        self.play_button.setMinimumWidth(self.play_button.sizeHint().width()
                                         + self.fontMetrics().horizontalAdvance("se"))
        self.forward_button = button("Step", QStyle.StandardPixmap.SP_MediaSeekForward,
                                     "One step forward (→)", "Step forward")

        lay.addSpacing(10)
        speed_caption = QLabel("Speed", self)
        lay.addWidget(speed_caption)
        self.speed_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.speed_slider.setRange(0, len(SPEEDS) - 1)
        self.speed_slider.setValue(SPEEDS.index(1.0))
        self.speed_slider.setPageStep(1)
        self.speed_slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.speed_slider.setFixedWidth(110)
        # clicking the slider must not steal ← / → from stepping; Tab still reaches it
        self.speed_slider.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.speed_slider.setToolTip("Animation speed: " + ", ".join(map(_speed_text, SPEEDS)))
        self.speed_slider.setAccessibleName("Animation speed")
        speed_caption.setBuddy(self.speed_slider)
        lay.addWidget(self.speed_slider)
        self.speed_label = QLabel(_speed_text(1.0), self)
        self.speed_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("16×") + 6)
        self.speed_label.setToolTip("Current animation speed (1× is the normal pace)")
        lay.addWidget(self.speed_label)

        self.reset_button.clicked.connect(self.trigger_reset)
        self.back_button.clicked.connect(self.trigger_step_back)
        self.forward_button.clicked.connect(self.trigger_step_forward)
        self.play_button.clicked.connect(lambda checked: self.set_playing(checked))
        self.speed_slider.valueChanged.connect(self._on_speed)
        self.set_step_back_enabled(step_back_enabled)
        self._install_shortcuts()

    # --- state ---------------------------------------------------------------------
    def is_playing(self) -> bool:
        return self._playing

    def set_playing(self, playing: bool) -> None:
        """Set play state; emits play_toggled only when it changes."""
        playing = bool(playing)
        changed = playing != self._playing
        self._playing = playing
        self.play_button.setChecked(playing)
        self.play_button.setText("Pause" if playing else "Play")
        self.play_button.setAccessibleName("Pause" if playing else "Play")
        self.play_button.setIcon(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay))
        if changed:
            self.play_toggled.emit(playing)

    def speed(self) -> float:
        return SPEEDS[self.speed_slider.value()]

    def set_speed(self, speed: float) -> None:
        """Snap to the nearest available speed."""
        idx = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - float(speed)))
        self.speed_slider.setValue(idx)

    def set_step_back_enabled(self, enabled: bool) -> None:
        """Lessons that cannot undo a step hide the Back button (and ← does nothing)."""
        self._step_back_enabled = bool(enabled)
        self.back_button.setVisible(self._step_back_enabled)

    # --- actions (buttons and keys land here) -------------------------------------------
    def toggle_play(self) -> None:
        self.set_playing(not self._playing)

    def trigger_step_forward(self) -> None:
        self.set_playing(False)
        self.step_forward.emit()

    def trigger_step_back(self) -> None:
        if not self._step_back_enabled:
            return
        self.set_playing(False)
        self.step_back.emit()

    def trigger_reset(self) -> None:
        self.set_playing(False)
        self.reset.emit()

    def _on_speed(self, index: int) -> None:
        self.speed_label.setText(_speed_text(SPEEDS[index]))
        self.speed_changed.emit(SPEEDS[index])

    # --- keys ---------------------------------------------------------------------------
    def _install_shortcuts(self) -> None:
        self.shortcuts = {}
        for key, slot in ((Qt.Key.Key_Space, self.toggle_play),
                          (Qt.Key.Key_Right, self.trigger_step_forward),
                          (Qt.Key.Key_Left, self.trigger_step_back),
                          (Qt.Key.Key_R, self.trigger_reset)):
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(lambda k=key, s=slot: self._on_key(k, s))
            self.shortcuts[key] = sc

    def _on_key(self, key, slot) -> None:
        # a slider the learner focused (e.g. learning rate) keeps its arrow keys
        focus = QApplication.focusWidget()
        if (key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and isinstance(focus, QAbstractSlider)
                and focus.window() is self.window()):
            # the slider's own key handling, done here: a re-sent key event would come
            # straight back to this shortcut
            add = key == Qt.Key.Key_Right
            if focus.orientation() == Qt.Orientation.Horizontal and focus.isRightToLeft():
                add = not add
            if focus.invertedControls():
                add = not add
            focus.triggerAction(QAbstractSlider.SliderAction.SliderSingleStepAdd if add
                                else QAbstractSlider.SliderAction.SliderSingleStepSub)
            return
        slot()


class PlaybackClock(QObject):
    """The timer behind a PlaybackBar: while the bar plays, `tick` runs every step_ms / speed
    milliseconds; `rewind` runs when play is pressed, so a lesson at its last step can start
    over. One rule for every animated lesson."""

    def __init__(self, bar: PlaybackBar, step_ms: float, tick, rewind=None):
        super().__init__(bar)
        self.bar, self.step_ms, self._rewind = bar, float(step_ms), rewind
        self._timer = QTimer(self)
        self._timer.timeout.connect(tick)
        bar.play_toggled.connect(self._on_play)
        bar.speed_changed.connect(self._on_speed)

    def _interval(self, speed: float) -> int:
        return int(self.step_ms / max(speed, 1e-6))

    def _on_play(self, playing: bool) -> None:
        if not playing:
            self._timer.stop()
            return
        if self._rewind is not None:
            self._rewind()
        self._timer.start(self._interval(self.bar.speed()))

    def _on_speed(self, speed: float) -> None:
        if self._timer.isActive():
            self._timer.start(self._interval(speed))

    def is_running(self) -> bool:
        return self._timer.isActive()

    def stop(self) -> None:
        self._timer.stop()
