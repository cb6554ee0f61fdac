"""Classification vs detection vs segmentation (tutorial 28): one scene of several digits,
answered three ways side by side by three small networks the app trains together.

* classification: one label for the whole image, the most prominent (largest) digit
  (core.teaching.scene_tasks.build_classifier);
* detection: a box and a label per digit, the YOLO-style grid detector trained with its loss
  as an engine loss (scene_tasks.build_grid_detector, boxes after NMS);
* segmentation: a class for every pixel from a fully convolutional network
  (core.teaching.segmentation.build_fcn).

When the lesson opens, a worker loads the three networks trained beforehand (shipped in
resources/models/ by scripts/train_scene_models.py, core.teaching.scene_models) and answers
the first scene with them, then scores them on the held-out scenes: the lesson is useful at
once. "Train from scratch": a worker makes the training scenes; one TrainingSession trains
three fresh networks in turn, epoch by epoch, and after each epoch (in the worker) scores
each on held-out scenes and answers the scene on screen; the panels, the curves and the
scores follow as they learn.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QSizePolicy, QSpinBox, QWidget

from core.teaching import scene_tasks as st
from core.teaching import segmentation as sg
from core.teaching.scene_models import EPOCHS, SCENES_PER_EPOCH, held_out_score, load_shipped
from core.teaching.numbers import fmt
from core.teaching.runs import RunStore
from core.teaching.scenes import make_scenes
from core.teaching.yolo import Grid, detect
from gui.lessons.base import Lesson
from gui.training_worker import TrainingSession, TrainingTask
from gui.widgets.numbers import mono_font
from gui.widgets.scene_view import CLASS_COLORS, BoxMark, SceneView, class_rgba
from gui.widgets.progress_bar import progress_bar

TRAIN_SCENES = 1000
HELD_OUT_SCENES = 100
TRAIN_SEED, HELD_OUT_SEED = 28, 28_000
BATCH_SIZE = 32
DEFAULT_EPOCHS = 20
DETECTION_SCORE = 0.3
ERROR_STYLE = "color: #b00020; font-weight: 600;"
TRAIN_TEXT = "Train from scratch"
TASKS = ("classification", "detection", "segmentation")


def _pct(p: float) -> str:
    return f"{fmt(100 * p, 3)} %"


def _scenes():
    """Training data for the three networks and the held-out scenes (worker thread)."""
    train = make_scenes(TRAIN_SCENES, seed=TRAIN_SEED, split="train")
    held = make_scenes(HELD_OUT_SCENES, seed=HELD_OUT_SEED, split="test")
    prominent = np.array([st.most_prominent(b, lab) for b, lab in zip(train.boxes, train.labels)])
    return train, held, prominent


def answer(kind: str, model, grid: Grid, image) -> dict:
    """What one network says about one scene (worker thread)."""
    x = np.asarray(image, np.float32)[None, ..., None]
    if kind == "classification":
        p = model.predict(x)[0]
        return {"label": int(p.argmax()), "p": float(p.max())}
    if kind == "detection":
        dets = detect(grid, model.predict(x), score_threshold=DETECTION_SCORE)
        return {"boxes": [(d.box, d.label, d.score) for d in dets]}
    return {"mask": sg.predict_masks(model, x)[0]}


#: held-out score (worker thread): accuracy on the most prominent digit, mAP@0.5, or the
#: mean class-aware mask IoU
score = held_out_score


def _load_trained(grid: Grid, image):
    """The shipped networks and their answers for `image` (worker thread): ({kind: model},
    {kind: answer}, [sentences for those missing], image)."""
    models, answers, missing = {}, {}, []
    for kind in TASKS:
        model, why = load_shipped(kind, grid)
        if model is None:
            missing.append(why)
            continue
        models[kind] = model
        answers[kind] = answer(kind, model, grid, image)
    return models, answers, missing, image


def _score_trained(models: dict, grid: Grid):
    """{kind: held-out score} of the shipped networks (worker thread). A generator: each
    yield lets the worker stop between networks when the window closes (one plain call
    could outlast the window's shutdown budget)."""
    held = make_scenes(HELD_OUT_SCENES, seed=HELD_OUT_SEED, split="test")
    scores = {}
    for kind, m in models.items():
        yield kind
        scores[kind] = score(kind, m, grid, held)
    return scores


class DetectionTasksLesson(Lesson):
    title = "Classification, detection, segmentation"
    subtitle = ("One scene of digits, three questions: one label for the image, a box per "
                "digit, a class per pixel. Three small networks learn them side by side.")
    help_name = "detection_tasks"
    course_tutorials = (28,)
    explanation_collapsed_by_default = True

    #: a network's held-out score and its answer for the scene changed
    answered = Signal(str)
    training_finished = Signal()
    #: the networks trained beforehand have their held-out scores
    shipped_scored = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.grid = Grid()
        self.models: dict[str, object] = {}
        self.answers: dict[str, dict] = {}
        self.scores: dict[str, tuple[float, int | None]] = {}   # kind → (score, epochs);
        self.pretrained = False           # epochs None: the shipped network, trained before
        self.session: TrainingSession | None = None
        self.store = RunStore()
        self._preparing = False
        self._build()
        self.new_scene(self.scene_spin.value())
        self._load_shipped_networks()

    def _build(self) -> None:
        area = QWidget(self)
        grid = QGridLayout(area)
        grid.setContentsMargins(0, 0, 0, 0)
        self.views = {
            "scene": SceneView("The scene with its true boxes", area),
            "classification": SceneView("Classification: one label for the image", area),
            "detection": SceneView("Detection: boxes with labels", area),
            "segmentation": SceneView("Segmentation: a class for every pixel", area)}
        self.texts = {}
        for col, (key, view) in enumerate(self.views.items()):
            grid.addWidget(view, 0, col)
            text = QLabel(area)
            text.setWordWrap(True)
            text.setFont(mono_font())
            text.setAccessibleName(f"{key} result")
            grid.addWidget(text, 1, col)
            grid.setColumnStretch(col, 1)
            self.texts[key] = text
        legend = QLabel("Colours of the classes (the digit is also written on each box): "
                        + ", ".join(f"<span style='color:{c}'>■</span> {d}"
                                    for d, c in enumerate(CLASS_COLORS)), area)
        legend.setWordWrap(True)
        grid.addWidget(legend, 2, 0, 1, 4)
        for view in self.views.values():   # the square image sets the height, not the window
            view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        grid.setRowStretch(3, 1)
        self.set_visual(area)

        self.train_button = self.add_control(
            QPushButton(TRAIN_TEXT),
            tooltip=f"Train a fresh classifier, grid detector and segmentation network on "
                    f"{TRAIN_SCENES} scenes, epoch by epoch in turn, while you watch",
            name="Train from scratch")
        self.train_button.clicked.connect(self.toggle_training)
        self.epochs_spin = self.add_control(QSpinBox(), label="Epochs",
                                            tooltip="Passes over the training scenes, per network")
        self.epochs_spin.setRange(1, 200)
        self.epochs_spin.setValue(DEFAULT_EPOCHS)
        self.scene_spin = self.add_control(QSpinBox(), label="Scene",
                                           tooltip="Which held-out scene (its seed)")
        self.scene_spin.setRange(0, 9999)
        self.scene_spin.setValue(28)
        self.scene_spin.valueChanged.connect(self.new_scene)
        self.progress = self.add_control(progress_bar("ready"), tooltip="Training progress",
                                         name="Training progress")
        self.progress.setMaximumWidth(160)
        self.message = self.make_message_label()
        self.add_control(self.message, stretch=1)
        self._say("Loading the three trained networks…")

    # --- the networks trained beforehand ---------------------------------------------------
    def _load_shipped_networks(self) -> None:
        # bound methods, not lambdas: Qt drops them with the lesson if it goes first
        self.start_worker(_load_trained, self.grid, self.scene.image,
                          on_finished=self._shipped_loaded, on_failed=self._shipped_failed)

    def _shipped_failed(self, exc) -> None:
        self._say(f"Could not load the trained networks: {exc}. Press “{TRAIN_TEXT}” to "
                  f"train them here.", error=True)

    def _shipped_loaded(self, result) -> None:
        models, answers, missing, image = result
        if self.models or self._preparing or self.is_training():
            return                              # the learner started training meanwhile
        self.models, self.pretrained = models, True
        if image is self.scene.image:
            self.answers.update(answers)
        else:
            for kind in models:
                self._answer(kind)
        self._show()
        for kind in answers:
            self.answered.emit(kind)
        if missing:
            why = "; ".join(missing)
            self._say(f"{why[:1].upper()}{why[1:]}. Press “{TRAIN_TEXT}” to train "
                      f"the networks here.", error=True)
        else:
            self._say(f"These three networks were trained beforehand ({EPOCHS} epochs of "
                      f"{SCENES_PER_EPOCH:,} fresh scenes). Press “{TRAIN_TEXT}” to watch "
                      f"fresh ones learn.")
        if models:
            self.start_worker(_score_trained, models, self.grid,
                              on_finished=self._shipped_scored)

    def _shipped_scored(self, scores: dict | None) -> None:
        if scores is None or not self.pretrained:
            return          # stopped (window closing), or fresh networks have their own scores
        self.scores = {kind: (value, None) for kind, value in scores.items()}
        self._show()
        self.shipped_scored.emit()

    # --- training -------------------------------------------------------------------------
    def toggle_training(self) -> None:
        if self.is_training():
            self.session.stop()
        else:
            self.train()

    def train(self) -> bool:
        if self._preparing or self.is_training():
            return False
        self._preparing = True
        self.train_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self._say(f"Making {TRAIN_SCENES} training scenes…")
        self.start_worker(_scenes, on_finished=self._start_training, on_failed=self._failed)
        return True

    def _start_training(self, data) -> None:
        self._preparing = False
        train, held, prominent = data
        self.pretrained = False
        self.models = {"classification": st.build_classifier(seed=0),
                       "detection": st.build_grid_detector(self.grid, seed=0),
                       "segmentation": sg.build_fcn(seed=0)}
        targets = {"classification": prominent,
                   "detection": st.pack_targets(self.grid, train.boxes, train.labels),
                   "segmentation": train.masks}
        self.scores, self.answers = {}, {}
        tasks = []
        for kind in TASKS:
            run = self.store.new_run({"scenes": TRAIN_SCENES}, name=kind)

            def snap(task, kind=kind):
                image = self.scene.image          # the scene on screen now
                return (kind, score(kind, task.model, self.grid, held), task.epochs_done,
                        answer(kind, task.model, self.grid, image), image)

            tasks.append(TrainingTask(run, self.models[kind], train.images, targets[kind],
                                      epochs=self.epochs_spin.value(), batch_size=BATCH_SIZE,
                                      seed=0, snapshot=snap, record_batches=False))
        self.session = TrainingSession(tasks, warm_up=False, parent=self)
        self.session.snapshot.connect(self._on_snapshot)
        self.session.progress_changed.connect(
            lambda p: self.progress.setValue(int(1000 * p.fraction)))
        self.session.finished.connect(self._on_finished)
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("%p %")
        self.train_button.setText("Stop")
        self.train_button.setEnabled(True)
        self._say(f"Training on {TRAIN_SCENES} scenes; each network is scored on "
                  f"{HELD_OUT_SCENES} held-out scenes after every epoch.")
        self.start_session(self.session)

    def _on_snapshot(self, run, value) -> None:
        kind, value_score, epochs, result, image = value
        self.scores[kind] = (value_score, epochs)
        if image is self.scene.image:
            self.answers[kind] = result
        else:                                      # the learner moved on meanwhile
            self._answer(kind)
        self._show()
        self.answered.emit(kind)

    def _on_finished(self) -> None:
        self.train_button.setText(TRAIN_TEXT)
        self.train_button.setEnabled(True)
        bad = [t.run for t in self.session.tasks if t.run.status not in ("finished",)]
        self.progress.setFormat("stopped" if bad else "finished")
        if bad:
            self._say("; ".join(f"{r.name}: {r.stop_reason}" for r in bad), error=bad[0].status
                      in ("failed", "diverged"))
        else:
            self._say("Trained. Try other scenes, or train again for more epochs.")
        self.training_finished.emit()

    def _failed(self, exc) -> None:
        self._preparing = False
        self.train_button.setEnabled(True)
        self.progress.setRange(0, 1000)
        self.progress.setFormat("ready")
        self._say(f"Could not make the training scenes: {exc}", error=True)

    # --- the scene ------------------------------------------------------------------------
    def new_scene(self, seed: int) -> None:
        self.scene = make_scenes(1, seed=int(seed), split="test").scene(0)
        self.answers = {}
        for kind in self.models:
            self._answer(kind)
        self._show()

    def _answer(self, kind: str) -> None:
        image = self.scene.image

        def done(result, kind=kind, image=image):
            if image is self.scene.image:
                self.answers[kind] = result
                self._show()
                self.answered.emit(kind)

        self.start_worker(answer, kind, self.models[kind], self.grid, image, on_finished=done)

    def _show(self) -> None:
        sc = self.scene
        for view in self.views.values():
            view.set_image(sc.image)
        truth = [BoxMark(b, CLASS_COLORS[int(lab)], str(int(lab)), dashed=True)
                 for b, lab in zip(sc.boxes, sc.labels)]
        self.views["scene"].set_marks(truth)
        self.views["scene"].set_overlay(None)
        self.views["scene"].set_caption(f"Scene {self.scene_spin.value()}")
        prominent = st.most_prominent(sc.boxes, sc.labels)
        self.texts["scene"].setText(f"digits: {' '.join(str(v) for v in sc.labels)}\n"
                                    f"most prominent (largest): {prominent}")
        self.views["classification"].set_caption("Classification")
        self.views["detection"].set_caption("Detection")
        self.views["segmentation"].set_caption("Segmentation")
        for kind in TASKS:
            self.texts[kind].setText(self.result_text(kind))
        a = self.answers
        self.views["classification"].set_marks(
            [BoxMark((0, 0, sc.image.shape[1], sc.image.shape[0]),
                     CLASS_COLORS[a["classification"]["label"]],
                     f"{a['classification']['label']}  {_pct(a['classification']['p'])}",
                     width=4.0)] if "classification" in a else [])
        self.views["detection"].set_marks(
            [BoxMark(b, CLASS_COLORS[lab], f"{lab} {_pct(p)}")
             for b, lab, p in a["detection"]["boxes"]] if "detection" in a else [])
        self.views["segmentation"].set_overlay(
            class_rgba(a["segmentation"]["mask"]) if "segmentation" in a else None)

    def result_text(self, kind: str) -> str:
        a, s = self.answers.get(kind), self.scores.get(kind)
        if a is None:
            lines = ["not trained yet"]
        elif kind == "classification":
            lines = [f"says {a['label']} ({_pct(a['p'])})"]
        elif kind == "detection":
            lines = [f"{len(a['boxes'])} boxes (score ≥ {fmt(DETECTION_SCORE)} after NMS): "
                     + ", ".join(str(lab) for _, lab, _ in a["boxes"])]
        else:
            iou = sg.mask_iou(a["mask"], self.scene.mask)
            pixels = a["mask"] != sg.BACKGROUND
            counts = np.bincount(a["mask"][pixels], minlength=10)
            # the colours name the classes on the image; the counts say it in numbers
            top = [f"{d}: {counts[d]}" for d in np.argsort(-counts, kind="stable")[:4]
                   if counts[d]]
            lines = [f"{int(pixels.sum())} digit pixels; mask IoU here {fmt(iou, 3)}",
                     "pixels by digit: " + (", ".join(top) if top else "none")]
        what = {"classification": "accuracy (most prominent digit)",
                "detection": "mAP at IoU 0.5", "segmentation": "mean mask IoU"}[kind]
        if s is not None:
            value = _pct(s[0]) if kind == "classification" else fmt(s[0], 3)
            when = "trained beforehand" if s[1] is None else f"after {s[1]} epochs"
            lines.append(f"held-out {what}: {value} ({when})")
        return "\n".join(lines)

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        self.message.setText(text)


__all__ = ["DetectionTasksLesson"]
