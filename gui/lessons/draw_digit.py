"""Draw a digit: a pad that reads your handwriting live, with two trained networks.

Recognition runs in a background worker fed through a one-slot mailbox: every new stroke
segment overwrites the pending request, so the pad never waits for the network and a stale
drawing is never recognised (the worker always takes the newest one); it only reads, so it
stays a plain worker. "Teach it" fine-tunes the selected network on the drawing
(core.teaching.teach) in a TrainingSession of the lesson, which the frame stops when the
learner leaves or closes the window.
"""
from __future__ import annotations

import os

import numpy as np
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLabel,
                               QPushButton, QToolButton, QVBoxLayout, QWidget)

from core.digits import to_mnist
from core.wording import percent
from core.io import load_model, save_model
from core.teaching.runs import Run
from core.teaching.teach import (BATCH_SIZE, MAX_STEPS, TeachResult, UntilSure, begin_teaching,
                                 learner_model_problem, teaching_batches)
from gui.digit_reader import Mailbox, recognition_loop
from gui.engine_warmup import pad_kernels
from gui.lessons.base import Lesson
from gui.model_saving import SAVE_FILTER, with_suffix
from gui.settings import read_folder
from gui.training_worker import TrainingSession, TrainingTask
from gui.widgets.digit_view import DigitView
from gui.widgets.drawing_pad import DrawingPad
from gui.widgets.numbers import fmt, mono_font
from gui.widgets.probability_panel import ProbabilityPanel
from gui.widgets.teach_box import TeachBox
from resources.paths import model_path

YOURS = "yours"  # the learner's own model, opened with File > Open
NETWORKS = {  # key: (shipped file name, label)
    "mlp": ("digits_mlp", "Dense network"),
    "cnn": ("digits_cnn", "CNN"),
}
PAD_SIDE = 380  # pixels: fits beside the 28 x 28 view and the answers at 1280 x 800
TIMING_TIP = ("Time from the pad's pixels to both networks' answers (to_mnist + forward "
              "passes), in a background thread")
REBUILD_HINT = "Rebuild the shipped models with: python scripts/train_digit_models.py"


def load_shipped(key: str):
    """(model, None) or (None, message) for a shipped network."""
    name, label = NETWORKS[key]
    try:
        with model_path(name) as path:
            return load_model(path), None
    except (ValueError, OSError) as exc:
        return None, (f"The {label} could not be loaded from resources/models/{name}.npz: "
                      f"{exc}. {REBUILD_HINT}")


def teaching_task(model, image28, label, seed) -> TrainingTask:
    """core.teaching.teach's `teach` as one fit in a training session: the same batches
    (drawn in the worker from the same seed), the same Adam steps, the same early end."""
    n = MAX_STEPS * BATCH_SIZE
    until = UntilSure(image28, label)
    seen = {}

    def accuracy(t):
        # replay is from 4,500 offline digits; the other 500 show whether it forgot anything
        return float(np.mean(np.argmax(model.predict(t.check_x), axis=1) == t.check_y))

    def prepare(t):
        from core.data import load_offline_digits

        x, y = load_offline_digits()  # (5000, 28, 28, 1), (5000,)
        t.check_x, t.check_y = x[4500:], y[4500:]
        if t.stop_wanted():
            return  # the learner left before it began: the session trains nothing
        seen["acc_before"] = accuracy(t)
        seen["before"] = begin_teaching(model, image28, label, x[:4500], y[:4500])
        t.x[:], t.y[:] = teaching_batches(image28, label, x[:4500], y[:4500], seed)

    def finish(t):
        if "before" not in seen:
            return None
        after = np.asarray(model.predict(until.x)[0], np.float32)
        stopped = not until.reached and until.steps < MAX_STEPS
        result = TeachResult(int(label), seen["before"], after, until.steps, until.losses,
                             stopped)
        # stopped by leaving or closing: the window waits, so the forgetting check is skipped
        return result, seen["acc_before"], None if t.stop_wanted() else accuracy(t)

    return TrainingTask(Run("teach"), model, np.zeros((n, 28, 28, 1), np.float32),
                        np.zeros(n, np.int64), epochs=1, batch_size=BATCH_SIZE, seed=None,
                        shuffle=False, prepare=prepare, finish=finish, callbacks=(until,),
                        diagnose=False)


class DrawDigitLesson(Lesson):
    title = "Draw a digit"
    subtitle = ("Draw on the pad: two networks read your digit live, show what they see and "
                "why, and learn from your corrections.")
    help_name = "draw_digit"
    course_tutorials = (7, 23)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.models: dict[str, object | None] = {}
        self.labels = {key: label for key, (_, label) in NETWORKS.items()}
        self.load_errors: dict[str, str] = {}
        self.modified: dict[str, bool] = {}
        self.last_readings: dict = {}
        self.last_image = np.zeros((28, 28), np.float32)
        self._generation = 0
        self._shown_generation = -1
        self._mailbox = Mailbox()
        self._recognizer = None
        self._teacher: TrainingSession | None = None
        self._teach_seed = 0

        self._build_visual()
        self._build_controls()
        for key in NETWORKS:
            self._load(key)
        self._refresh_network_items()
        self._update_buttons()
        self._show_blank()
        # on a first-ever launch the pad reads with plain NumPy until its fast kernels are
        # compiled, then reads the drawing again the fast way (and with its saliency map)
        self._pad_kernels = pad_kernels()
        self._pad_kernels.ready.connect(self._on_fast_kernels_ready)

    # --- layout -----------------------------------------------------------------------
    def _build_visual(self) -> None:
        root = QWidget(self)
        row = QHBoxLayout(root)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(14)

        self.pad = DrawingPad(root)
        self.pad.changed.connect(self.request_recognition)
        self.pad.stroke_finished.connect(self._on_stroke_finished)
        # A fixed size: the answers' text beside it must never resize the pad under the pen
        # (it did, by ~30 px, when a guess's longer numbers widened the panel mid-stroke).
        self.pad.setFixedSize(PAD_SIDE, PAD_SIDE)
        row.addWidget(self.pad, 0, Qt.AlignmentFlag.AlignTop)

        seen = QVBoxLayout()
        seen.setSpacing(4)
        head = QLabel("What the network sees (28 × 28)")
        head.setStyleSheet("font-weight: 600;")
        seen.addWidget(head)
        self.digit_view = DigitView(root)
        seen.addWidget(self.digit_view, 1)
        self.steps_label = QLabel(
            "Like MNIST: ① crop to the ink, ② shrink so the longer side is 20 px "
            "(dashed box), ③ move the centre of mass (cross) to the middle of 28 × 28. "
            "A small drawing is read with a thinner pen, so its strokes stay as thin as "
            "MNIST's.")
        self.steps_label.setObjectName("mutedText")
        self.steps_label.setWordWrap(True)
        seen.addWidget(self.steps_label)
        box = QWidget(root)
        box.setLayout(seen)
        box.setMaximumWidth(250)
        row.addWidget(box, 3)

        right = QVBoxLayout()
        right.setSpacing(6)
        self.panel = ProbabilityPanel(root)
        right.addWidget(self.panel, 1)
        self.compare = QLabel("")
        self.compare.setFont(mono_font())
        self.compare.setTextFormat(Qt.TextFormat.RichText)
        self.compare.setAccessibleName("Both networks' guesses")
        self.compare.setWordWrap(True)  # long answers wrap instead of widening the panel
        right.addWidget(self.compare)
        self.error_label = QLabel("")
        self.error_label.setObjectName("modelError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(
            "color: #7a2500; background: #fff1e6; border: 1px solid #f0b48a; "
            "border-radius: 4px; padding: 4px;")
        self.error_label.setVisible(False)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        right.addWidget(self.error_label)
        teach = self.teach_box = TeachBox(root)
        self.label_combo, self.teach_label = teach.label_combo, teach.teach_label
        self.teach_button, self.save_button = teach.teach_button, teach.save_button
        self.reset_button = teach.reset_button
        self.teach_button.clicked.connect(self.teach_current)
        self.save_button.clicked.connect(self.save_network)
        self.reset_button.clicked.connect(self.reset_network)
        right.addWidget(teach)
        self.add_pace_control(10, layout=teach.layout())  # watch p(right digit) rise
        panel = QWidget(root)
        panel.setLayout(right)
        panel.setMaximumWidth(430)
        row.addWidget(panel, 5)
        self.set_visual(root)

    def _build_controls(self) -> None:
        clear = QPushButton("Clear")
        clear.clicked.connect(self.pad.clear)
        self.add_control(clear, tooltip="Wipe the pad (Delete or Ctrl+L)", name="Clear pad")
        undo = QPushButton("Undo")
        undo.clicked.connect(self.pad.undo)
        self.add_control(undo, tooltip="Remove the last stroke (Ctrl+Z)", name="Undo stroke")
        self.eraser_button = QToolButton()
        self.eraser_button.setText("Eraser")
        self.eraser_button.setCheckable(True)
        self.eraser_button.toggled.connect(self.pad.set_eraser)
        self.add_control(self.eraser_button,
                         tooltip="Erase with the left button (E). The right button always erases.",
                         name="Eraser")
        self.pen_combo = QComboBox()
        self.pen_combo.addItems(["thin", "normal", "thick"])
        self.pen_combo.setCurrentText("normal")
        self.pen_combo.currentTextChanged.connect(self.pad.set_pen_width)
        self.add_control(self.pen_combo, label="Pen:",
                         tooltip="Stroke width for new strokes: the network should read all three",
                         name="Pen width")
        self.colors_combo = QComboBox()
        self.colors_combo.addItems(["ink on paper", "chalk on board"])
        self.colors_combo.currentIndexChanged.connect(
            lambda i: self.pad.set_dark_on_light(i == 0))
        self.add_control(self.colors_combo, tooltip=(
            "Dark strokes on light paper, or light strokes on a dark board. MNIST is white on "
            "black; the preparation step turns either into that."), name="Pad colours")
        self.add_controls_separator()
        self.network_combo = QComboBox()
        self.network_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.network_combo.currentIndexChanged.connect(self._on_network_changed)
        self.add_control(self.network_combo, label="Network:", tooltip=(
            "Which network's probabilities, saliency and teaching you see; both always "
            "read the drawing"), name="Network")
        self.saliency_box = QCheckBox("Saliency")
        self.saliency_box.toggled.connect(self._on_saliency)
        self.add_control(self.saliency_box, tooltip=(
            "Colour each input pixel by |∂p/∂pixel|: how strongly the top guess's probability "
            "reacts to ink there (S)"), name="Show saliency")
        self.add_controls_stretch()
        self.timing = QLabel("")
        self.timing.setFont(mono_font())
        self.timing.setObjectName("mutedText")
        self.add_control(self.timing)
        self.timing.setToolTip(TIMING_TIP)

        def shortcut(keys, slot):
            for key in keys:
                sc = QShortcut(QKeySequence(key), self)
                sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                sc.activated.connect(slot)

        shortcut(["Delete", "Ctrl+L"], self.pad.clear)
        shortcut(["Ctrl+Z"], self.pad.undo)
        shortcut(["E"], self.eraser_button.toggle)
        shortcut(["S"], self.saliency_box.toggle)

    # --- models -------------------------------------------------------------------------
    def _load(self, key: str) -> bool:
        model, error = load_shipped(key)
        self.models[key] = model
        self.modified[key] = False
        if error:
            self.load_errors[key] = error
            self.show_status(error)
        else:
            self.load_errors.pop(key, None)
        self._show_errors()
        return model is not None

    def _show_errors(self) -> None:
        text = "\n".join(self.load_errors.values())
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def _network_text(self, key: str) -> str:
        label = self.labels[key]
        model = self.models.get(key)
        if model is None:
            return f"{label} (not available)"
        return f"{label} (taught, unsaved)" if self.modified.get(key) else label

    def _refresh_network_items(self) -> None:
        current = self.selected() if self.network_combo.count() else "cnn"
        self.network_combo.blockSignals(True)
        self.network_combo.clear()
        for i, key in enumerate(self.models):
            self.network_combo.addItem(self._network_text(key), key)
            model = self.models.get(key)
            tip = (self.load_errors.get(key, "") if model is None else
                   f"{model.count_params():,} weights:\n{model.summary()}")
            self.network_combo.setItemData(i, tip, Qt.ItemDataRole.ToolTipRole)
        self.network_combo.setCurrentIndex(list(self.models).index(current))
        self.network_combo.blockSignals(False)

    def selected(self) -> str:
        return self.network_combo.currentData() or "cnn"

    def select_network(self, key: str) -> None:
        self.network_combo.setCurrentIndex(list(self.models).index(key))

    def _on_network_changed(self, _index: int) -> None:
        self.panel.set_before(None)
        self._update_buttons()
        self.request_recognition()

    def _on_saliency(self, _on: bool) -> None:
        self.request_recognition()

    # --- recognition --------------------------------------------------------------------
    def request_recognition(self) -> None:
        """Ask for the current drawing to be read; a newer request replaces an unread one."""
        self._generation += 1
        models = {k: m for k, m in self.models.items() if m is not None}
        w = self._recognizer
        if w is None or w.is_cancelled() or not w.is_running():
            self._mailbox = Mailbox()  # the old loop (if any) keeps its closed mailbox
            self._recognizer = self.start_worker(recognition_loop, self._mailbox,
                                                 on_progress=self._on_reading)
        self._mailbox.put((self._generation, self.pad.image(), models, self.selected(),
                           self.saliency_box.isChecked(), self._pad_kernels.pending))

    def _on_fast_kernels_ready(self) -> None:
        if self.last_image.any():
            self.request_recognition()

    def _on_stroke_finished(self) -> None:
        self.panel.set_before(None)

    def _on_reading(self, result: dict) -> None:
        if result["generation"] <= self._shown_generation:
            return
        self._shown_generation = result["generation"]
        # A new drawing proposes its top guess as the right digit; a reading caused by
        # anything else (saliency, network switch) must not undo the learner's choice.
        drawing_changed = not np.array_equal(result["image"], self.last_image)
        self.last_image = result["image"]
        self.last_readings = result["readings"]
        self.digit_view.set_image(result["image"])
        key = self.selected()
        reading = result["readings"].get(key)
        self.digit_view.set_saliency(None if reading is None else reading.saliency)
        if result["readable"]:
            self.timing.setText(f"read in {fmt(result['ms'])} ms with plain NumPy")
            self.timing.setToolTip(
                "The engine's fast kernels are still being compiled (the first launch does "
                "this once), so both networks read the drawing by their plain NumPy forward "
                "pass (core/readable.py): the same probabilities, a little slower. Saliency "
                "appears once the fast kernels are ready.")
        else:
            self.timing.setText(f"read in {fmt(result['ms'])} ms")
            self.timing.setToolTip(TIMING_TIP)
        errors = result.get("errors") or {}
        if errors:
            self.show_status("; ".join(f"{self.labels[k]}: {e}" for k, e in errors.items()))
        blank = not result["image"].any()
        if blank:
            self._show_blank()
        elif reading is None:
            self.panel.show_hint(self.load_errors.get(key) or
                                 f"The {self.labels[key]} is not available.")
            self.compare.setText(self._compare_html(result["readings"]))
        else:
            self.panel.show_probabilities(reading.probabilities, self.labels[key])
            self.compare.setText(self._compare_html(result["readings"]))
            if drawing_changed and not self.is_training():
                self.label_combo.setCurrentIndex(reading.top)
        self._update_buttons()

    def _compare_html(self, readings: dict) -> str:
        parts = []
        tips = []
        for key in self.models:
            label = self.labels[key]
            r = readings.get(key)
            if r is None or r.blank:
                text = f"{label}: –"
            else:
                p = float(r.probabilities[r.top])
                text = f"{label}: <b>{r.top}</b> ({percent(p)})"   # not "p = 1"
                tips.append(f"{label}: top guess {r.top}, p({r.top}) = softmax(z)_{r.top} = {p!r}")
            if key == self.selected():
                text = f"<u>{text}</u>"
            parts.append(text)
        self.compare.setToolTip("Both networks read every drawing; the underlined one is "
                                "shown above.\n" + "\n".join(tips))
        return " &nbsp;·&nbsp; ".join(parts)

    def _show_blank(self) -> None:
        if not any(self.models.values()):
            self.panel.show_hint("No network could be loaded, but you can still draw and see "
                                 "how your digit is prepared.")
        else:
            self.panel.show_hint("Draw a digit on the pad: the guess appears while you draw.")
        self.compare.setText(self._compare_html({}))
        self.digit_view.set_saliency(None)

    # --- teaching -----------------------------------------------------------------------
    def _update_buttons(self) -> None:
        key = self.selected()
        has_model = self.models.get(key) is not None
        busy = self.is_training()
        has_ink = bool(self.last_image.any())
        shipped = key in NETWORKS  # the learner's own model is read, not taught here
        self.teach_button.setEnabled(has_model and has_ink and not busy and shipped)
        self.save_button.setEnabled(has_model and not busy and shipped)
        self.reset_button.setEnabled(not busy)

    def teach_current(self) -> None:
        key = self.selected()
        model = self.models.get(key)
        if model is None:
            self.teach_label.setText(self.load_errors.get(key, "No network to teach."))
            return
        image28 = to_mnist(self.pad.image())
        if not image28.any():
            self.teach_label.setText("Draw a digit first: there is nothing to learn from.")
            return
        label = self.label_combo.currentIndex()
        self._teach_seed += 1
        self.teach_label.setText(f"Teaching the {self.labels[key]} that this is a {label}…")
        self._teach_key = key
        if self._teacher is not None:
            self._teacher.deleteLater()  # the finished session can go
        session = TrainingSession([teaching_task(model, image28, label, self._teach_seed)],
                                  warm_up=False, parent=self)
        session.updated.connect(self._on_teach_progress)
        session.finished.connect(self._on_taught)
        self._teacher = self.start_session(session)
        self._update_buttons()

    def _on_teach_progress(self, _ids) -> None:
        rows = self._teacher.tasks[0].run.batches
        if len(rows) and rows.has("p_label"):
            row = rows.row(len(rows) - 1)
            self.teach_label.setText(f"step {int(row['step'])}: loss {fmt(row['loss'])}, "
                                     f"p(right digit) = {fmt(row['p_label'])}")

    def _on_taught(self) -> None:
        task = self._teacher.tasks[0]
        self._update_buttons()
        if task.status == "stopped" and task.result is None:
            self.teach_label.setText("Teaching stopped before its first step: the network is "
                                     "unchanged.")
            return
        if task.result is None or task.status == "failed":
            reason = task.run.stop_reason or task.stop_reason or "it did not finish"
            self._on_teach_failed(reason.removeprefix("training failed: "))
            return
        result, acc_before, acc_after = task.result
        key = self._teach_key
        self.modified[key] = True
        self._refresh_network_items()
        k = result.label
        b_top, a_top = int(np.argmax(result.before)), int(np.argmax(result.after))
        how = "stopped early" if result.stopped else f"{result.steps} steps"
        self.teach_label.setText(
            f"Before: {b_top} with p({k}) = {fmt(result.before[k])} → after {how}: {a_top} with "
            f"p({k}) = {fmt(result.after[k])}. Did it forget? Accuracy on 500 known digits: "
            f"{fmt(100 * acc_before)}% → "
            + ("not checked (stopped)." if acc_after is None else f"{fmt(100 * acc_after)}%."))
        self.teach_label.setToolTip(
            "Each step trained on 8 distorted copies of your drawing and 24 replayed offline "
            "digits (Adam, learning rate 0.001) until p(right digit) ≥ 0.9. The 500 check "
            "digits are offline digits the shipped network was trained on; they are not "
            "replayed while teaching, so a drop shows forgetting.")
        if key == self.selected():
            self.panel.set_before(result.before)
        self.show_status(f"The {self.labels[key]} learned your {k}. Save it or reset it.", 6000)
        self.request_recognition()

    def _on_teach_failed(self, exc) -> None:
        self.teach_label.setText(f"Teaching failed: {exc}")

    def save_network(self) -> str | None:
        key = self.selected()
        model = self.models.get(key)
        if model is None:
            return None
        start = os.path.join(read_folder("files/lastModelDir"),
                             f"{NETWORKS[key][0]}_taught.npz")
        path, chosen = QFileDialog.getSaveFileName(self, "Save the taught network", start,
                                                   SAVE_FILTER)
        if not path:
            return None
        path = with_suffix(path, chosen)
        try:
            save_model(model, path)
        except (ValueError, OSError) as exc:
            self.teach_label.setText(f"Could not save to {path}: {exc}")
            return None
        QSettings().setValue("files/lastModelDir", os.path.dirname(path))
        self.modified[key] = False
        self._refresh_network_items()
        self.teach_label.setText(f"Saved the {self.labels[key]} to {path}.")
        self.show_status(f"Saved {os.path.basename(path)}", 5000)
        return path

    def model_saved(self, model, path: str) -> None:
        """Saved from File ▸ Save trained model…: that network is no longer unsaved."""
        for key, mine in self.models.items():
            if mine is model and self.modified.get(key):
                self.modified[key] = False
                self._refresh_network_items()

    def unsaved_models(self) -> list[str]:
        texts = [f"the {self.labels[key]} in “{self.title}” (taught)"
                 for key, changed in self.modified.items() if changed]
        if self.is_training():     # being taught: its weights already differ from the file
            key = getattr(self, "_teach_key", None)
            if key is not None and not self.modified.get(key):
                texts.append(f"the {self.labels[key]} in “{self.title}” (being taught)")
        return texts

    def save_unsaved_models(self) -> bool:
        # a teaching still running would change the weights while they are written; once
        # stopped, `modified` says which network it changed
        self.stop_sessions(why="to save the network", timeout_ms=2000)
        before = self.selected()
        try:
            for key, changed in list(self.modified.items()):
                if changed:
                    self.select_network(key)
                    if self.save_network() is None:
                        return False
        finally:
            self.select_network(before)
        return not self.unsaved_models()

    def reset_network(self) -> None:
        key = self.selected()
        if key not in NETWORKS:
            return
        ok = self._load(key)
        self._refresh_network_items()
        self.panel.set_before(None)
        self.teach_label.setText(
            f"The {self.labels[key]} is the shipped one again." if ok else self.load_errors[key])
        self._update_buttons()
        self.request_recognition()

    def learner_model_opened(self, model, name: str) -> None:
        """The learner's own model (File > Open) reads every drawing beside the shipped
        networks, when it takes 28×28 digits and answers one of 10."""
        problem = learner_model_problem(model)
        self.models.pop(YOURS, None)
        if problem is None:
            self.models[YOURS], self.modified[YOURS] = model, False
            self.labels[YOURS] = f"Your model ({name})"
        else:
            self.show_status(f"{name} cannot read drawings here: {problem}", 8000)
        self._refresh_network_items()
        self.request_recognition()

    # --- lifecycle ------------------------------------------------------------------------
    def activate(self) -> None:
        self.pad.setFocus(Qt.FocusReason.OtherFocusReason)
        self.request_recognition()

    def deactivate(self) -> None:
        # first the teaching (the frame stops it and waits): its end asks for a new reading
        super().deactivate()
        self._stop_recognizer(wait=False)

    def _stop_recognizer(self, wait: bool) -> None:
        if self._recognizer is not None:
            self._recognizer.cancel()
        self._mailbox.close()  # wakes the loop so it sees the cancel at once
        if self._recognizer is not None:
            if wait:
                self._recognizer.stop_and_wait(2000)

    def shutdown(self) -> None:
        # the teaching first: its end asks for a reading, which the recognizer's stop ends
        self.stop_sessions(why="when the window closed")
        self._stop_recognizer(wait=True)
        if not self._shut_down:     # the application-wide PadKernels outlives this lesson
            self._pad_kernels.ready.disconnect(self._on_fast_kernels_ready)
        super().shutdown()
