"""Sliding-window detection (tutorial 30): the shipped digit CNN, taught an 11th class "no
digit", looks at every window of four sizes over a scene, one network evaluation each.

Training (off the GUI thread): a worker cuts digit windows and "no digit" windows (background
and partial) from training scenes and runs them once through the CNN's frozen layers; a
TrainingSession then trains the 11-class head on those features. A worker scans the scene.
The playback then walks the scan window by window (the window, what the network reads in
it, its score on the score map), shows every box above the threshold (false positives
included), and replays non-maximum suppression step by step from core.teaching.boxes.nms;
last, the cost: windows × network evaluations and the time the scan took.
A learner's own digit model (File ▸ Open model) reads the windows instead when it fits
(core.teaching.sliding_window.base_problem).
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QHBoxLayout, QComboBox, QDoubleSpinBox, QGridLayout, QLabel,
                               QPlainTextEdit, QPushButton, QSpinBox, QWidget)

from core.teaching import sliding_window as sw
from core.teaching.numbers import fmt
from core.teaching.runs import RunStore
from core.teaching.scenes import make_scenes
from gui.app import current_worker
from gui.lessons.base import Lesson
from gui.lessons.transfer_learning import load_base
from gui.training_worker import TrainingSession, TrainingTask
from gui.widgets.colors import sequential_rgba
from gui.widgets.numbers import mono_font
from gui.widgets.playback import PlaybackClock
from gui.widgets.scene_view import CLASS_COLORS, BoxMark, SceneView
from gui.widgets.progress_bar import progress_bar

TRAIN_SCENES = 200
TRAIN_SEED = 30
EPOCHS = 12
BATCH_SIZE = 64
STEP_MS = 60
ERROR_STYLE = "color: #b00020; font-weight: 600;"
KEPT, SUPPRESSED, CANDIDATE, WINDOW = "#009E73", "#D55E00", "#E69F00", "#56B4E9"


def _pct(p: float) -> str:
    return f"{fmt(100 * p, 3)} %"


def _training_data(base, seed: int):
    """(classifier, features, labels) for the head's training (worker thread), or None
    when the learner left meanwhile: the features go in chunks so leaving stops it soon."""
    worker = current_worker()
    cancelled = worker.is_cancelled if worker is not None else (lambda: False)
    scenes = make_scenes(TRAIN_SCENES, seed=seed, split="train")
    x, y = sw.training_windows(scenes, seed=seed, no_digit_per_scene=16)
    clf = sw.WindowClassifier(base, seed=0)
    chunks = []
    for start in range(0, len(x), 512):
        if cancelled():
            return None
        chunks.append(clf.feature_vectors(x[start:start + 512]))
    return clf, np.concatenate(chunks), y


class SlidingWindowLesson(Lesson):
    title = "Sliding-window detection"
    subtitle = ("A digit classifier with a \"no digit\" class looks at every window of four "
                "sizes: the score map, the boxes it finds, non-maximum suppression, the cost.")
    help_name = "sliding_window"
    course_tutorials = (30,)
    explanation_collapsed_by_default = True

    #: the head finished training and the first scene is scanned
    scanned = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.base = None
        self.base_name = "the CNN"
        self.classifier: sw.WindowClassifier | None = None
        self.scan: sw.Scan | None = None
        self.detections: sw.Detections | None = None
        self.scene = None
        self.phase, self.index = "idle", 0        # "scan" (window index), "boxes", "nms", "done"
        self.session: TrainingSession | None = None
        self.store = RunStore()
        self._preparing = False
        self._prep = None
        self._build()
        self.new_scene(self.scene_spin.value())

    # --- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        area = QWidget(self)
        grid = QGridLayout(area)
        grid.setContentsMargins(0, 0, 0, 0)
        self.scene_view = SceneView("Scene with the current window and the boxes", area)
        self.window_view = SceneView("The window as the network sees it (28 × 28)", area)
        self.map_view = SceneView("Score map", area)
        self.window_text = QLabel(area)
        self.window_text.setFont(mono_font())
        self.window_text.setWordWrap(True)
        self.window_text.setAccessibleName("Current window")
        self.map_size = QComboBox(area)
        for s in sw.WINDOW_SIZES:
            self.map_size.addItem(f"windows of side {s}", s)
        self.map_size.setToolTip("Which window size the score map shows")
        self.map_size.setAccessibleName("Score map window size")
        self.map_size.currentIndexChanged.connect(lambda _: self._show())
        self.steps_text = QPlainTextEdit(area)
        self.steps_text.setReadOnly(True)
        self.steps_text.setFont(mono_font())
        self.steps_text.setAccessibleName("Boxes, NMS steps and cost")
        self.steps_text.setPlaceholderText("After the scan: the boxes found, each step of "
                                           "non-maximum suppression, and what the scan cost.")
        self.steps_text.setMinimumWidth(330)
        grid.addWidget(self.scene_view, 0, 0, 3, 1)
        grid.addWidget(self.window_view, 0, 1)
        grid.addWidget(self.window_text, 1, 1)
        grid.addWidget(self.map_view, 0, 2)
        legend = QLabel("Score map colours: dark 0 %, yellow 100 %", area)
        legend.setWordWrap(True)
        grid.addWidget(self.map_size, 1, 2)
        grid.addWidget(legend, 2, 2)
        grid.addWidget(self.steps_text, 0, 3, 3, 1)
        # under the pictures, not in the controls bar: its sentences would widen the window
        self.message = self.make_message_label()
        grid.addWidget(self.message, 3, 0, 1, 3)
        # the detection settings sit by the boxes and NMS steps they change
        self.settings_row = QHBoxLayout()
        grid.addLayout(self.settings_row, 3, 3)
        for col, stretch in enumerate((4, 3, 3, 4)):
            grid.setColumnStretch(col, stretch)
        grid.setRowStretch(2, 1)
        self.set_visual(area)

        self.add_playback()
        self.clock = PlaybackClock(self.playback, STEP_MS, self._tick, rewind=self._rewind)
        self.playback.step_forward.connect(self.step)
        self.playback.step_back.connect(self.step_back)
        self.playback.reset.connect(self.reset)
        self.train_button = self.add_control(
            QPushButton("Train \"no digit\""), tooltip="Cut windows from 200 training scenes "
            "and train the 11-class head on the CNN's frozen features", name="Train no digit")
        self.train_button.clicked.connect(self.train)
        self.scene_spin = self.add_control(QSpinBox(), label="Scene",
                                           tooltip="Which held-out scene (its seed)")
        self.scene_spin.setRange(0, 9999)
        self.scene_spin.setValue(3)
        self.scene_spin.valueChanged.connect(self.new_scene)
        self.threshold = self._setting(QDoubleSpinBox(), "Score ≥",
                                       "A window becomes a box when it says a digit "
                                       "with at least this probability")
        self.threshold.setRange(0.5, 0.999)
        self.threshold.setDecimals(3)
        self.threshold.setSingleStep(0.01)
        self.threshold.setValue(0.9)
        self.nms_iou = self._setting(QDoubleSpinBox(), "NMS IoU >",
                                     "A box is suppressed when it overlaps a kept, "
                                     "better box by more than this IoU")
        self.nms_iou.setRange(0.05, 0.95)
        self.nms_iou.setSingleStep(0.05)
        self.nms_iou.setValue(0.2)
        self.threshold.valueChanged.connect(self._redetect)
        self.nms_iou.valueChanged.connect(self._redetect)
        self.progress = self.add_control(progress_bar("not trained"), tooltip="Training progress",
                                         name="Training progress")
        self.progress.setMaximumWidth(140)
        self.add_controls_stretch()

    def _setting(self, box, label: str, tooltip: str):
        caption = QLabel(label)
        caption.setBuddy(box)
        box.setToolTip(tooltip)
        box.setAccessibleName(label)
        self.settings_row.addWidget(caption)
        self.settings_row.addWidget(box)
        return box

    # --- training -------------------------------------------------------------------------
    def activate(self) -> None:
        if self.classifier is None and not self._preparing and not self.is_training():
            self.train()

    def learner_model_opened(self, model, name: str) -> None:
        """The learner's own digit model reads the windows in place of the shipped CNN when
        it fits (sw.base_problem); otherwise one sentence why not."""
        problem = sw.base_problem(model)
        if problem:
            self._say(f"{name} cannot read the windows here: {problem}; the shipped CNN "
                      "stays.", error=True)
            return
        self.base, self.base_name = model, f"your model ({name})"
        if self._preparing or self.is_training():
            self._say(f"{name} takes over when you press Train \"no digit\" again.")
            return
        self.classifier, self.scan, self.detections = None, None, None
        self.phase, self.index = "idle", 0
        self._show()
        if self.isVisible():
            self.train()
        else:
            self._say(f"{name} reads the windows: press Train \"no digit\" to teach it "
                      "\"no digit\".")

    def train(self) -> bool:
        if self._preparing or self.is_training():
            return False
        if self.base is None:
            self.base = load_base()
            if self.base is None:
                self._say("The shipped digit network is missing: run "
                          "scripts/train_digit_models.py.", error=True)
                return False
        self._preparing = True
        self.train_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self._say(f"Cutting windows from {TRAIN_SCENES} training scenes and reading them "
                  f"with the frozen layers of {self.base_name}…")
        self._prep = self.start_worker(_training_data, self.base, TRAIN_SEED,
                                       on_finished=self._start_head_training,
                                       on_failed=self._failed)
        self._show_placeholders()
        return True

    def _start_head_training(self, result) -> None:
        self._preparing = False
        self.train_button.setEnabled(True)
        if result is None:
            self.progress.setRange(0, 1000)
            self._say("Training was stopped when you left the lesson; press Train to start "
                      "again.")
            self._show_placeholders()
            return
        clf, feats, labels = result
        run = self.store.new_run({"windows": len(labels)}, name="no-digit head")

        def finish(task):
            return float(np.mean(task.model.predict(feats).argmax(1) == labels))

        task = TrainingTask(run, clf.head, feats, labels, epochs=EPOCHS,
                            batch_size=BATCH_SIZE, seed=0, finish=finish)
        self._pending = (clf, task, int(np.sum(labels == sw.NO_DIGIT)), len(labels))
        self.session = TrainingSession([task], parent=self)
        self.session.progress_changed.connect(self._on_progress)
        self.session.finished.connect(self._on_trained)
        self.progress.setRange(0, 1000)
        self.progress.setFormat("training %p %")
        self._say(f"Training the 11-class head on {len(labels)} windows "
                  f"({self._pending[2]} of them \"no digit\")…")
        self.start_session(self.session)

    def _on_progress(self, p) -> None:
        self.progress.setValue(int(1000 * p.fraction))

    def _on_trained(self) -> None:
        clf, task, n_empty, n = self._pending
        self.train_button.setEnabled(True)
        if task.run.status != "finished":
            self.progress.setFormat("not trained")
            self._say(f"The head did not finish training: {task.run.stop_reason}", error=True)
            self._show_placeholders()
            return
        self.classifier = clf
        self.progress.setValue(1000)
        self.progress.setFormat("trained")
        self._show_placeholders()
        self._say(f"Head trained: {_pct(task.result or 0.0)} of its {n} training windows "
                  f"right ({n_empty} \"no digit\"). Scanning…")
        self._scan()

    def _failed(self, exc) -> None:
        self._preparing = False
        self.train_button.setEnabled(True)
        self.progress.setRange(0, 1000)
        self._say(f"Could not prepare the training windows: {exc}", error=True)
        self._show_placeholders()

    # --- the scene and its scan -----------------------------------------------------------
    def new_scene(self, seed: int) -> None:
        self.scene = make_scenes(1, seed=int(seed), split="test").scene(0)
        self.scan, self.detections = None, None
        self.phase, self.index = "idle", 0
        self._scan()
        self._show()

    def _scan(self) -> None:
        if self.classifier is None or self.scene is None:
            return
        self.playback.set_playing(False)
        image = self.scene.image
        self.start_worker(sw.scan_scene, self.classifier, image,
                          on_finished=lambda scan, image=image: self._on_scanned(scan, image),
                          on_failed=self._failed)

    def _on_scanned(self, scan, image) -> None:
        if image is not self.scene.image:
            return              # a scene the learner has already left (the spin box moved on)
        self.scan = scan
        self.phase, self.index = "scan", 0
        self._redetect()
        self._say(f"{scan.evaluations} windows scanned in {fmt(scan.seconds)} s. Press Play "
                  "to watch them one by one, → to step.")
        self.scanned.emit()

    def _redetect(self) -> None:
        if self.scan is None:
            return
        self.detections = sw.detect(self.scan, self.threshold.value(), self.nms_iou.value())
        if self.phase in ("nms", "done"):
            self.phase, self.index = "boxes", 0
        self._show()

    # --- playback -------------------------------------------------------------------------
    def _tick(self) -> None:
        if not self.step():
            self.playback.set_playing(False)

    def _rewind(self) -> None:
        if self.phase == "done":
            self.reset()

    def step(self) -> bool:
        """One window, then the boxes, then one NMS step, then the cost. False at the end."""
        if self.scan is None:
            return False
        n_steps = len(self.detections.nms.steps)
        if self.phase == "scan":
            if self.index + 1 < self.scan.evaluations:
                self.index += 1
            else:
                self.phase, self.index = "boxes", 0
        elif self.phase == "boxes":
            self.phase, self.index = ("nms", 1) if n_steps else ("done", 0)
        elif self.phase == "nms":
            if self.index < n_steps:
                self.index += 1
            else:
                self.phase = "done"
        else:
            return False
        self._show()
        return True

    def step_back(self) -> None:
        if self.scan is None:
            return
        if self.phase == "done":
            n = len(self.detections.nms.steps)
            self.phase, self.index = ("nms", n) if n else ("boxes", 0)
        elif self.phase == "nms":
            self.phase, self.index = ("nms", self.index - 1) if self.index > 1 else ("boxes", 0)
        elif self.phase == "boxes":
            self.phase, self.index = "scan", self.scan.evaluations - 1
        elif self.index > 0:
            self.index -= 1
        self._show()

    def reset(self) -> None:
        if self.scan is not None:
            self.phase, self.index = "scan", 0
        self._show()

    def finish_scan(self) -> None:
        """Jump to the end of the window-by-window walk (the boxes)."""
        if self.scan is not None:
            self.phase, self.index = "boxes", 0
            self._show()

    # --- what the learner reads -----------------------------------------------------------
    def nms_lines(self, upto: int | None = None) -> list[str]:
        """One line per NMS step shown so far: which box is kept, which are suppressed
        and with what IoU (box numbers are the candidates' order, best score first)."""
        d, s = self.detections, self.scan
        if d is None:
            return []
        number = self._box_numbers()
        lines = []
        for k, st in enumerate(d.nms.steps[:upto]):
            w = d.candidates[st.kept]
            line = (f"step {k + 1}: keep box {number[st.kept]} (says {s.labels[w]}, "
                    f"{_pct(st.score)})")
            if st.suppressed:
                line += "; suppress " + ", ".join(
                    f"box {number[i]} (IoU {fmt(v, 3)})" for i, v in st.suppressed)
            lines.append(line)
        return lines

    def _box_numbers(self) -> dict[int, int]:
        order = np.argsort(-self.scan.scores[self.detections.candidates], kind="stable")
        return {int(c): k + 1 for k, c in enumerate(order)}

    def cost_text(self) -> str:
        s = self.scan
        per = {side: sw.windows_per_size(s.canvas, side, sw.stride_for(side))
               for side in sw.WINDOW_SIZES}
        parts = " + ".join(f"{n} (side {side}, step {sw.stride_for(side)})"
                           for side, n in per.items())
        return (f"Cost: {parts} = {s.evaluations} windows\n"
                f"× 1 evaluation of the digit CNN each = {s.evaluations} network "
                f"evaluations for one {s.canvas} × {s.canvas} scene,\n"
                f"measured: {fmt(s.seconds)} s ({fmt(1000 * s.seconds / s.evaluations)} ms "
                f"per window).")

    def _show(self) -> None:
        sc = self.scene
        self.scene_view.set_image(sc.image)
        self.scene_view.set_caption(f"Scene {self.scene_spin.value()}: digits "
                                    + " ".join(str(v) for v in sc.labels))
        if self.scan is None:
            self.scene_view.set_marks([])
            self.window_text.setText("Train the \"no digit\" class to scan the scene.")
            self.steps_text.setPlainText("")
            self._show_placeholders()
            return
        s, d = self.scan, self.detections
        w = self.index if self.phase == "scan" else s.evaluations - 1
        self._show_window(w if self.phase == "scan" else None)
        self._show_map(w if self.phase == "scan" else None)
        marks, lines = [], []
        if self.phase == "scan":
            above = d.candidates[d.candidates <= w]
            marks = [BoxMark(s.boxes[k], CANDIDATE, "", width=1.0) for k in above]
            marks.append(BoxMark(s.boxes[w], WINDOW, "", width=2.5))
            lines.append(f"Window {w + 1} of {s.evaluations}.")
            lines.append(f"Boxes so far (score ≥ {fmt(self.threshold.value())}): {len(above)}")
        else:
            number = self._box_numbers()
            upto = {"boxes": 0, "nms": self.index}.get(self.phase, len(d.nms.steps))
            kept = {st.kept for st in d.nms.steps[:upto]}
            gone = {i: v for st in d.nms.steps[:upto] for i, v in st.suppressed}
            # labels only where the eye should go (kept boxes, the ones this step removes):
            # forty labels at once hide the scene
            now = {i for i, _ in d.nms.steps[upto - 1].suppressed} if upto else set()
            for i, k in enumerate(d.candidates):
                text = f"{number[i]}: {s.labels[k]}"
                if i in kept:
                    marks.append(BoxMark(s.boxes[k], KEPT, text, width=3.0))
                elif i in gone:
                    marks.append(BoxMark(s.boxes[k], SUPPRESSED, text if i in now else "",
                                         dashed=True, width=1.0))
                else:
                    marks.append(BoxMark(s.boxes[k], CANDIDATE, "" if upto else text,
                                         width=1.5))
            false_pos = self.false_positives(d.candidates)
            lines.append(f"{len(d.candidates)} boxes say a digit with score ≥ "
                         f"{fmt(self.threshold.value())}; {len(false_pos)} of them are false "
                         "positives (no digit, or the wrong one, fills the box).")
            lines.append("Boxes (best score first): " + ", ".join(
                f"{number[i]}: {s.labels[k]} {_pct(s.scores[k])}"
                for i, k in sorted(enumerate(d.candidates), key=lambda t: number[t[0]])))
            if self.phase != "boxes":
                lines.append(f"Non-maximum suppression (IoU > {fmt(d.nms.threshold)} "
                             "suppresses):")
                lines += self.nms_lines(upto)
            if self.phase == "done":
                kept_w = d.kept
                lines.append(f"Kept {len(kept_w)}: " + ", ".join(
                    str(s.labels[k]) for k in kept_w) + f"; {len(self.false_positives(kept_w))} "
                    "of them false positives.")
                lines.append(self.cost_text())
        self.scene_view.set_marks(marks)
        self.steps_text.setPlainText("\n".join(lines))

    def _show_placeholders(self) -> None:
        """Before a scan the window and score-map panels say what will appear there and
        what brings it (they were black squares)."""
        if self.scan is not None:
            return
        if self.classifier is not None:
            then = "Scanning the scene now…"
        elif self._preparing or self.is_training():
            then = "It appears once the \"no digit\" class is trained (under way now)."
        else:
            then = "Press Train \"no digit\" below to start."
        self.window_view.set_caption("The window the network sees")
        self.window_view.set_placeholder(
            "Each window of the scan, scaled to 28 × 28 as the network reads it, will "
            f"show here with its score. {then}")
        self.map_view.set_caption("Score map")
        self.map_view.set_placeholder(
            "The score map will show here: one cell per window position, bright where the "
            f"network says a digit. {then}")

    def false_positives(self, windows) -> list[int]:
        """Windows (scan indices) that hold no digit of the label they say."""
        sc, s = self.scene, self.scan
        if not len(windows) or not len(sc.boxes):
            return list(windows)
        w = np.asarray(windows)
        right = sw.correct_boxes(s.boxes[w], s.labels[w], sc.boxes, sc.labels)
        return [int(k) for k, ok in zip(windows, right.any(axis=1)) if not ok]

    def _show_window(self, w) -> None:
        s = self.scan
        if w is None:
            self.window_view.set_image(np.zeros((28, 28)))
            self.window_view.set_caption("The window the network sees")
            self.window_text.setText("All windows scanned.")
            return
        x0, y0, x1, y1 = s.boxes[w].astype(int)
        crop = sw.crop_windows(self.scene.image, s.boxes[w:w + 1])[0, ..., 0]
        self.window_view.set_image(crop)
        self.window_view.set_marks([])
        self.window_view.set_caption(f"Window {w + 1}: side {x1 - x0} → 28 × 28")
        p = s.probs[w]
        label = int(s.labels[w])
        verdict = f"\"{label}\"" if s.says_digit()[w] else "no digit"
        self.window_text.setText(
            f"at x {x0}, y {y0}: says {verdict}\n"
            f"top digit {label}: {_pct(p[label])}\nno digit: {_pct(p[sw.NO_DIGIT])}")

    def _show_map(self, w) -> None:
        s = self.scan
        side = self.map_size.currentData()
        values = s.score_map(side)
        self.map_view.set_image(np.zeros(values.shape))
        self.map_view.set_overlay(sequential_rgba(values, 0.0, 1.0))
        self.map_view.set_caption(f"Score map, side {side}")
        marks = []
        if w is not None and s.sides[w] == side:
            first = int(np.argmax(s.sides == side))
            r, c = divmod(w - first, values.shape[1])
            marks.append(BoxMark((c, r, c + 1, r + 1), "#ffffff", "", width=2.0))
        self.map_view.set_marks(marks)

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        self.message.setText(text)

    def deactivate(self) -> None:
        self.playback.set_playing(False)
        if self._prep is not None and self._prep.is_running():
            self._prep.cancel()           # its chunked feature pass ends at the next chunk
        super().deactivate()


__all__ = ["SlidingWindowLesson", "CLASS_COLORS"]
