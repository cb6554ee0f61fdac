"""YOLO (course tutorials 31-32): a small grid detector finds digits in a scene in one pass.

The scene (left) shows a held-out scene with the 8 × 8 grid, the cell responsible for
each digit, the true boxes and the detector's boxes. The pages (right) write out what the
detector did: responsible cells and detections, IoU with its numbers, NMS step by step
(the playback bar), one pass timed against a sliding window's many, mAP@0.5 with its
precision-recall curve, live training, and YOLO v2+/v4's anchors.

The shipped detector (resources/models/digits_yolo.npz) answers at once; training a new one
is optional and runs in the lesson's TrainingSession, off the GUI thread. Every prediction,
timing and mAP is computed in a worker thread too (the detector's kernels may still need
compiling there on a first launch).
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QSpinBox, QTabWidget,
                               QVBoxLayout, QWidget)

from core.teaching import yolo_steps as ys
from core.teaching.numbers import fmt
from core.teaching.detector import DetectorTrainer, SessionDetector, build_detector
from core.teaching.runs import RunStore
from core.teaching.scenes import make_scenes
from core.teaching.yolo import Grid
from gui.lessons.base import Lesson
from gui.lessons.yolo_pages import (PACES, ROUND_SCENES, SETTINGS, AnchorsPage, CellsPage,
                                    IouPage, MapPage, NmsPage, TimingPage, TrainPage, pct)
from gui.training_worker import TrainingSession, TrainingTask
from gui.widgets.detection_scene import DrawnBox, SceneView
from gui.widgets.playback import PlaybackClock

#: held-out scenes the lesson scores and shows (the benchmark's first 200)
HELD_OUT = 200
#: held-out scenes scored after each training round (fewer: it runs between rounds)
LIVE_HELD_OUT = 100
THRESHOLDS = {"25 %": 0.25, "10 %": 0.10, "50 %": 0.50}
NMS_STEP_MS = 900


def _load_detector(grid: Grid, threshold: float):
    """Worker thread: the shipped detector (or an untrained one), the held-out scenes, its
    score on them and the scene to open on (ys.opening_scene at this confidence threshold)."""
    note = ""
    try:
        model = ys.load_shipped_detector(grid)
    except ValueError as exc:
        model, note = None, f"The shipped detector could not be used: {exc}. "
    if model is None:
        model = build_detector(grid, seed=0)
        note = note or "There is no shipped detector file (resources/models/digits_yolo.npz). "
        note += "This detector is untrained: train one on the Train page."
        source = "an untrained detector"
    else:
        source = "the shipped detector"
    scenes = ys.held_out_scenes(HELD_OUT)
    score = ys.score_held_out(model, grid, scenes)
    return model, source, note, scenes, score, ys.opening_scene(grid, scenes, score, threshold)


def _anchors():
    train = make_scenes(500, seed=0)
    anchors, mean_iou = ys.anchor_boxes(train.boxes, k=3, seed=0)
    return anchors, mean_iou, int(sum(len(b) for b in train.boxes))


class YoloLesson(Lesson):
    title = "YOLO: one look finds every digit"
    subtitle = ("A grid detector reads the whole scene in one pass: each cell says whether a "
                "digit's centre is in it, where its box is and which digit.")
    help_name = "yolo"
    course_tutorials = (31, 32)
    explanation_collapsed_by_default = True

    def __init__(self, parent=None):
        super().__init__(parent)
        self.grid = Grid()
        self.model = None
        self.source = ""
        self.scenes = None
        self.score = None
        self.reading = None
        self.selected = 0
        self.nms_step = 0
        self.anchors = None
        self.show_anchor_boxes = False
        self.session: TrainingSession | None = None
        self.store = RunStore("yolo")
        self._loading = False
        self._opened = False         # the first detector loaded chooses the scene shown
        self._live = {"steps": [], "maps": []}
        #: (scene index, raw outputs) of the detector in training, for the scene on screen
        self._live_raw = None
        self._shown_scene = 0        # read by the training thread's snapshot

        body = QWidget(self)
        outer = QVBoxLayout(body)
        outer.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        left = QVBoxLayout()
        self.view = SceneView(body)
        self.view.setMinimumSize(400, 400)
        self.view.placeholder = "Loading the detector and the held-out scenes…"
        left.addWidget(self.view, 1)
        self.legend = QLabel("Orange cell and dot: the responsible cell and the digit's "
                             "centre. Dashed: true box. Solid: detection (digit, confidence).",
                             body)
        self.legend.setWordWrap(True)
        self.legend.setMaximumWidth(440)
        left.addWidget(self.legend)
        row.addLayout(left, 0)

        self.tabs = QTabWidget(body)
        self.tabs.setAccessibleName("YOLO pages")
        self.cells_page, self.iou_page, self.nms_page = CellsPage(), IouPage(), NmsPage()
        self.timing_page, self.train_page, self.map_page = TimingPage(), TrainPage(), MapPage()
        self.anchors_page = AnchorsPage()
        for page, name in ((self.cells_page, "Cells && boxes"), (self.iou_page, "IoU"),
                           (self.nms_page, "NMS"), (self.timing_page, "One pass"),
                           (self.map_page, "mAP"), (self.train_page, "Train"),
                           (self.anchors_page, "Anchors (v2+)")):
            self.tabs.addTab(page, name)
        row.addWidget(self.tabs, 1)
        outer.addLayout(row, 1)
        self.message = self.make_message_label()
        outer.addWidget(self.message)
        self.set_visual(body)

        self.add_playback()
        self.clock = PlaybackClock(self.playback, NMS_STEP_MS, self._tick, self._rewind)
        self.playback.step_forward.connect(self.nms_forward)
        self.playback.step_back.connect(self.nms_back)
        self.playback.reset.connect(lambda: self.set_nms_step(0))
        self.playback.play_toggled.connect(
            lambda on: on and self.tabs.setCurrentWidget(self.nms_page))
        self.scene_spin = self.add_control(QSpinBox(self), label="Held-out scene",
                                           tooltip="Which held-out scene to look at (digits "
                                                   "the detector never trained on)")
        self.scene_spin.setRange(1, HELD_OUT)
        self.threshold = self.add_control(QComboBox(self), label="Confidence ≥",
                                          tooltip="Cells below this confidence are not boxes "
                                                  "at all (before NMS)",
                                          name="Confidence threshold")
        self.threshold.addItems(list(THRESHOLDS))
        self.add_controls_stretch()
        self.scene_spin.valueChanged.connect(self.refresh_scene)
        self.threshold.currentIndexChanged.connect(self.refresh_scene)
        self.cells_page.detection_selected.connect(self.select_detection)
        self.timing_page.measure.connect(self.measure_timing)
        self.train_page.train.connect(self.start_training)
        self.train_page.pause.connect(self.toggle_pause)
        self.train_page.stop.connect(lambda: self.session and self.session.stop())
        self.train_page.use_shipped.connect(self.use_shipped)
        self.map_page.digit.currentIndexChanged.connect(self.refresh_map)
        self.anchors_page.show_anchors.connect(self._toggle_anchors)
        self.tabs.currentChanged.connect(lambda _i: self.refresh_overlays())

    # --- loading (worker) ---------------------------------------------------------------
    def activate(self) -> None:
        # its workers (scoring 200 scenes, fitting anchors) start once the lesson is on
        # screen: started with it, they delayed its first paint by 50-300 ms
        self.after_first_paint(self._load_if_needed)

    def _load_if_needed(self) -> None:
        if self.model is None and not self._loading:
            self.load_shipped()

    def load_shipped(self) -> None:
        self._loading = True
        self.message.setText("Loading the detector and scoring it on 200 held-out scenes "
                             "(the first time, its kernels compile: this can take a while)…")
        self.start_worker(_load_detector, self.grid, THRESHOLDS[self.threshold.currentText()],
                          on_finished=self._on_loaded,
                          on_failed=self._on_load_failed)
        if self.anchors is None:
            self.start_worker(_anchors, on_finished=self._on_anchors)

    def _on_loaded(self, result) -> None:
        self._loading = False
        self._live_raw = None
        self.model, self.source, note, self.scenes, self.score, opening = result
        self.message.setText((note + " " if note else "") + self._score_sentence())
        if not self._opened and self.scene_spin.value() == 1:   # not one the learner chose
            with QSignalBlocker(self.scene_spin):
                self.scene_spin.setValue(1 + opening)
        self._opened = True
        self.refresh_scene()
        self.refresh_map()

    def _on_load_failed(self, exc) -> None:
        self._loading = False
        self.message.setText(f"The detector could not be loaded: {exc}")

    def _on_anchors(self, result) -> None:
        self.anchors = result
        self.anchors_page.show_anchors_text(*result)
        self.refresh_overlays()

    def _score_sentence(self) -> str:
        return (f"Showing {self.source}: mAP@0.5 on {len(self.scenes)} held-out scenes "
                f"{pct(self.score.m_ap)}.")

    def use_shipped(self) -> None:
        if not self.is_training() and not self._loading:
            self.load_shipped()

    # --- the scene ------------------------------------------------------------------------
    def refresh_scene(self) -> None:
        if self.score is None:
            return
        i = self._shown_scene = self.scene_spin.value() - 1
        scene = self.scenes.scene(i)
        live = self._live_raw is not None and self._live_raw[0] == i
        raw = self._live_raw[1] if live else self.score.raw[i]
        self.reading = ys.read_scene(self.grid, scene, raw,
                                     THRESHOLDS[self.threshold.currentText()])
        self.view.set_image(scene.image, self.grid.cells)
        self.cells_page.show_reading(self.reading)
        self.selected = 0
        self.cells_page.select(0)
        self.set_nms_step(len(self.reading.nms.steps))
        self.select_detection(0)

    def select_detection(self, row: int) -> None:
        self.selected = row
        r = self.reading
        if r is None:
            return
        kept = r.kept_cells
        working, truth_label = None, None
        if 0 <= row < len(kept):
            j, _ = r.best_truth(int(kept[row]))
            if j >= 0:
                working = ys.iou_working(r.boxes[kept[row]], r.truth[j].box)
                truth_label = r.truth[j].label
        cell = int(kept[row]) if 0 <= row < len(kept) else None
        self.iou_page.show_working(int(r.labels[cell]) if cell is not None else -1,
                                   float(r.confidence[cell]) if cell is not None else 0.0,
                                   working, truth_label)
        self._working = working
        self.refresh_overlays()

    def refresh_overlays(self) -> None:
        r = self.reading
        if r is None:
            return
        cands = r.candidates
        boxes = []

        def caption(cell):
            return f"{int(r.labels[cell])} {pct(r.confidence[cell])}"

        on_nms = self.tabs.currentWidget() is self.nms_page
        if on_nms:
            steps = r.nms.steps[:self.nms_step]
            kept = {st.kept for st in steps}
            gone = {i for st in steps for i, _ in st.suppressed}
            for i, cell in enumerate(cands):
                style = ("selected" if i in kept else "suppressed" if i in gone
                         else "candidate")
                # waiting boxes go uncaptioned: stacked captions would hide the decided ones
                boxes.append(DrawnBox(tuple(r.boxes[cell]),
                                      caption(cell) if style != "candidate" else "", style))
        else:
            for k, cell in enumerate(r.kept_cells):
                boxes.append(DrawnBox(tuple(r.boxes[cell]), caption(cell),
                                      "selected" if k == self.selected else "prediction"))
        on_iou = self.tabs.currentWidget() is self.iou_page
        w = getattr(self, "_working", None)
        anchors = (self.anchors[0] if self.anchors is not None and self.show_anchor_boxes
                   else None)
        self.view.set_overlays(r.truth, boxes, w.intersection_box if on_iou and w else None,
                               anchors)

    def _toggle_anchors(self, on: bool) -> None:
        self.show_anchor_boxes = on
        self.refresh_overlays()

    # --- NMS step by step -----------------------------------------------------------------
    def set_nms_step(self, step: int) -> None:
        if self.reading is None:
            return
        self.nms_step = max(0, min(step, len(self.reading.nms.steps)))
        self.nms_page.show_step(self.reading, self.nms_step)
        self.refresh_overlays()

    def nms_forward(self) -> None:
        self.tabs.setCurrentWidget(self.nms_page)
        self.set_nms_step(self.nms_step + 1)

    def nms_back(self) -> None:
        self.tabs.setCurrentWidget(self.nms_page)
        self.set_nms_step(self.nms_step - 1)

    def _tick(self) -> None:
        if self.reading is None or self.nms_step >= len(self.reading.nms.steps):
            self.playback.set_playing(False)
            return
        self.set_nms_step(self.nms_step + 1)

    def _rewind(self) -> None:
        if self.reading is not None and self.nms_step >= len(self.reading.nms.steps):
            self.set_nms_step(0)

    # --- timing ---------------------------------------------------------------------------
    def measure_timing(self) -> None:
        if self.model is None:
            return
        from core.io import load_model
        from resources.paths import model_path, resource

        if not resource("models", "digits_cnn.npz").is_file():
            self.timing_page.text.setText("The shipped digit CNN is missing, so there is no "
                                          "sliding window to time.")
            return
        image = self.scenes.images[self.scene_spin.value() - 1, ..., 0]
        self.timing_page.button.setEnabled(False)
        self.timing_page.text.setText("Timing…")

        def job(model=self.model):
            with model_path("digits_cnn") as path:
                cnn = load_model(path)
            return ys.time_detector_vs_windows(model, cnn, image)

        def done(timing):
            self.timing_page.button.setEnabled(True)
            self.timing_page.show_timing(timing)

        def failed(exc):
            self.timing_page.button.setEnabled(True)
            self.timing_page.text.setText(f"Timing failed: {exc}")

        self.start_worker(job, on_finished=done, on_failed=failed)

    # --- mAP and its curve ------------------------------------------------------------------
    def refresh_map(self) -> None:
        if self.score is None:
            return
        curve = self.score.curves[self.map_page.digit.currentIndex()]
        self.map_page.show_curve(curve, ys.pr_steps(curve), self.score.m_ap, self.score.curves,
                                 len(self.scenes))

    # --- live training ------------------------------------------------------------------------
    def start_training(self) -> None:
        if self.is_training() or self.scenes is None:
            return
        n_scenes, rounds = SETTINGS[self.train_page.setting.currentText()]
        seed = len(self.store)
        trainer = DetectorTrainer(build_detector(self.grid, seed=seed), self.grid)
        grid, live = self.grid, {}

        def prepare(t):
            live["scenes"] = ys.held_out_scenes(LIVE_HELD_OUT)
            scenes = make_scenes(n_scenes, seed=seed)
            t.model = SessionDetector(trainer, scenes)
            t.x, t.y = scenes.images[:ROUND_SCENES], np.arange(ROUND_SCENES)

        def snapshot(t):
            # the scene on screen through the detector as it is now: its boxes change
            # round by round while the learner watches
            i = self._shown_scene
            raw = trainer.model.predict(self.scenes.images[i:i + 1])[0]
            m_ap = ys.score_held_out(trainer.model, grid, live["scenes"]).m_ap
            return (i, raw), t.steps, m_ap

        run = self.store.new_run({"scenes": n_scenes, "rounds": rounds})
        task = TrainingTask(run, trainer.model, np.zeros((ROUND_SCENES, 1), np.float32),
                            np.arange(ROUND_SCENES), epochs=rounds, batch_size=32, seed=seed,
                            prepare=prepare, snapshot=snapshot, snapshot_every=0.0,
                            pace=lambda: PACES[self.train_page.pace.currentText()])
        self.session = TrainingSession([task], warm_up=False, parent=self)
        self._live = {"steps": [], "maps": []}
        self._run = run
        self._trainer = trainer
        self.session.updated.connect(self._on_training_rows)
        self.session.snapshot.connect(self._on_training_snapshot)
        self.session.finished.connect(self._on_training_done)
        self.session.state_changed.connect(self._on_state)
        self.train_page.status.setText(f"Making {n_scenes} training scenes, then {rounds} "
                                       f"rounds of {ROUND_SCENES} scenes…")
        self.train_page.show_curves([], [], [], [])
        self.start_session(self.session)

    def toggle_pause(self) -> None:
        if self.session is None or not self.session.is_running():
            return
        if self.session.is_paused():
            self.session.resume()
        else:
            self.session.pause()

    def _on_state(self, state: str) -> None:
        self.train_page.set_running(state in ("running", "paused", "stopping"),
                                    paused=state == "paused")

    def _on_training_rows(self, _ids) -> None:
        b = self._run.batches
        if len(b):
            self.train_page.show_curves(b.column("step"), b.column("loss"),
                                        self._live["steps"], self._live["maps"])
            self.train_page.status.setText(
                f"Round {int(self._run.epochs.last('epoch') or 0)} of "
                f"{self._run.settings['rounds']}, {int(b.last('step'))} weight updates, "
                f"loss {fmt(b.last('loss'))}"
                + (f", held-out mAP@0.5 {pct(self._live['maps'][-1])}"
                   if self._live["maps"] else ""))

    def _on_training_snapshot(self, _run, value) -> None:
        self._live_raw, steps, m_ap = value
        self.message.setText(f"Training: the scene shows the new detector after "
                             f"{steps} weight updates.")
        self.refresh_scene()
        self._live["steps"].append(steps)
        self._live["maps"].append(m_ap)
        self._on_training_rows([])

    def _on_training_done(self) -> None:
        run = self._run
        self.train_page.set_running(False)
        reason = run.stop_reason or "finished"
        self.train_page.status.setText(self.train_page.status.text() + f". Training {reason}.")
        if not self._run.batches or self.session is None:
            return
        # the session's last snapshot holds the final weights; the lesson now shows them
        model = build_detector(self.grid, seed=0)
        model.set_weights(self._trainer.model.get_weights())
        self.model, self.source = model, "the detector trained here"
        self._loading = True

        def job():
            return ys.score_held_out(model, self.grid, self.scenes)

        def done(score):
            self._loading = False
            self._live_raw = None
            self.score = score
            self.message.setText(self._score_sentence())
            self.refresh_scene()
            self.refresh_map()

        self.start_worker(job, on_finished=done, on_failed=self._on_load_failed)

    def deactivate(self) -> None:
        if self.playback is not None:
            self.playback.set_playing(False)
        super().deactivate()
