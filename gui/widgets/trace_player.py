"""TracePlayer: one training step (a StepTrace) as an ordered list of frames to step through.

Frames: forward column by column (input → output), the loss, backward column by column
(output → first layer), then the update. Each frame has a phase, a column and a sentence
a learner can read ("Forward (layer 1 of 2): the hidden layer computes z = x·W + b …").

    player = TracePlayer(diagram)          # drives diagram.set_phase on every frame
    player.set_trace(model.trace_step(x, y))
    player.connect_playback(lesson.add_playback())   # Space / → / ← / R / speed just work
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal

from gui.widgets.diagram.data import snapshot_from_trace
from gui.widgets.diagram.formulas import phase_sentence
from gui.widgets.diagram.layout import plan_columns, specs_from_trace

#: time per frame at speed 1×: long enough to read the banner's sentence
BASE_INTERVAL_MS = 1400


@dataclass(frozen=True)
class Frame:
    index: int
    phase: str              # "forward" | "loss" | "backward" | "update"
    column: int | None      # the diagram column the animation has reached
    sentence: str

    @property
    def text(self) -> str:
        return self.sentence


def build_frames(columns, snap=None, class_names=None) -> list[Frame]:
    """The frames of one training step over the diagram's columns."""
    plan = [("forward", k) for k in range(len(columns))]
    plan.append(("loss", None))
    plan += [("backward", k) for k in range(len(columns) - 1, 0, -1)]
    plan.append(("update", None))
    return [Frame(i, phase, col, phase_sentence(phase, col, columns, snap, class_names))
            for i, (phase, col) in enumerate(plan)]


class TracePlayer(QObject):
    frame_changed = Signal(object)      # Frame
    playing_changed = Signal(bool)
    finished = Signal()                 # playback reached the update frame
    #: a step was asked for at the last frame (nothing changed): lessons say what to do
    stepped_past_end = Signal()

    def __init__(self, diagram=None, parent=None):
        super().__init__(parent if parent is not None else diagram)
        self._diagram = diagram
        self._trace = None
        self._frames: list[Frame] = []
        self._index = 0
        self._speed = 1.0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._timer.setInterval(BASE_INTERVAL_MS)

    # --- content -------------------------------------------------------------------------
    def set_diagram(self, diagram) -> None:
        self._diagram = diagram

    def set_trace(self, trace, sample: int = 0) -> None:
        """A new step to play; shows its first frame (also on the diagram, if any)."""
        self.pause()
        self._trace = trace
        if trace is None:
            self._frames = []
            self._index = 0
            if self._diagram is not None:
                self._diagram.set_trace(None)
                self._diagram.set_phase("idle")
            return
        if self._diagram is not None:
            self._diagram.set_trace(trace, sample)
            columns, snap = self._diagram.columns(), self._diagram.snapshot()
            names = getattr(self._diagram, "_output_names", None)
        else:
            input_shape, specs = specs_from_trace(trace)
            columns = plan_columns(input_shape, specs)
            snap, names = snapshot_from_trace(trace, columns, sample, specs=specs), None
        self._frames = build_frames(columns, snap, names)
        self._index = 0
        self._show()

    def trace(self):
        return self._trace

    def frames(self) -> list[Frame]:
        return list(self._frames)

    def frame(self) -> Frame | None:
        return self._frames[self._index] if self._frames else None

    def index(self) -> int:
        return self._index

    def count(self) -> int:
        return len(self._frames)

    def at_end(self) -> bool:
        return not self._frames or self._index == len(self._frames) - 1

    # --- stepping ------------------------------------------------------------------------
    def seek(self, index: int) -> None:
        if not self._frames:
            return
        index = int(index)
        if not 0 <= index < len(self._frames):
            raise ValueError(f"frame must be in 0…{len(self._frames) - 1}, got {index}")
        self._index = index
        self._show()

    def step_forward(self) -> bool:
        """Next frame; False (and nothing changes) at the last one."""
        if self.at_end():
            if self._frames:
                self.stepped_past_end.emit()
            return False
        self._index += 1
        self._show()
        return True

    def step_back(self) -> bool:
        if not self._frames or self._index == 0:
            return False
        self._index -= 1
        self._show()
        return True

    def reset(self) -> None:
        self.pause()
        if self._frames:
            self._index = 0
            self._show()

    def _show(self) -> None:
        frame = self._frames[self._index]
        if self._diagram is not None:
            self._diagram.set_phase(frame.phase, frame.column, frame.sentence)
        self.frame_changed.emit(frame)

    # --- playing ---------------------------------------------------------------------------
    def is_playing(self) -> bool:
        return self._timer.isActive()

    def set_playing(self, playing: bool) -> None:
        playing = bool(playing) and bool(self._frames)
        if playing == self.is_playing():
            return
        if playing:
            if self.at_end():          # play again from the start, as a video player does
                self._index = 0
                self._show()
            self._timer.start()
        else:
            self._timer.stop()
        self.playing_changed.emit(playing)

    def play(self) -> None:
        self.set_playing(True)

    def pause(self) -> None:
        self.set_playing(False)

    def toggle(self) -> None:
        self.set_playing(not self.is_playing())

    def set_speed(self, speed: float) -> None:
        speed = float(speed)
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self._speed = speed
        self._timer.setInterval(max(15, int(BASE_INTERVAL_MS / speed)))

    def speed(self) -> float:
        return self._speed

    def _tick(self) -> None:
        if not self.step_forward() or self.at_end():
            self.pause()
            self.finished.emit()

    # --- wiring ----------------------------------------------------------------------------
    def connect_playback(self, bar) -> None:
        """Drive this player from a PlaybackBar (buttons and Space / → / ← / R)."""
        bar.play_toggled.connect(self.set_playing)
        bar.step_forward.connect(self.step_forward)
        bar.step_back.connect(self.step_back)
        bar.reset.connect(self.reset)
        bar.speed_changed.connect(self.set_speed)
        self.playing_changed.connect(bar.set_playing)
        self.set_speed(bar.speed())
