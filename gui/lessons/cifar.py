"""CIFAR-10: download the real dataset, train a small CNN on part of it, see what it gets right.

The download runs in a worker with the engine's checked downloader (progress, cancel,
SHA-256, cache); offline, the learner can point to a cifar-10-python.tar.gz they already
have, or to any folder of images with one sub-folder per class (the teacher's own photos),
which then takes CIFAR-10's place: its folder names are the classes. Training shows live
curves; afterwards a per-class accuracy chart and a grid of test images with predicted and
true labels. A Feature maps tab (cifar_maps.py) shows what every layer of the lesson's CNN, or
of the learner's own model (File ▸ Open model…), makes of one test image.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QSpinBox, QTabWidget, QVBoxLayout, QWidget)

from core import metrics
from core.teaching.cnn_models import cifar_cnn, describe
from core.data import (CIFAR10_CLASSES, CIFAR10_SHA256, ChecksumError, DownloadCancelled,
                       DownloadError, ImageFolderCancelled, ImageFolderError, data_dir,
                       load_cifar10, load_image_folder, stratified_split)
from gui.app import current_worker
from gui.lessons.base import Lesson
from gui.lessons.cifar_maps import CifarFeatureMaps
from gui.lessons.cnn_common import LiveCurves, TrainingStatus, cnn_session
from gui.widgets.image_grid import ImageGrid
from gui.widgets.numbers import fmt, mono_font

ERROR_COLOR = "#a50026"
GRID_IMAGES = 12
NETWORKS = {
    "Small CNN (16 · 32 filters, Dense 32)": "small",
    "Course CNN (32 · 64 filters, Dense 64)": "course",
}


def load_job(cache_dir, url, sha256, archive):
    """Worker job: download (or read) CIFAR-10 and keep it as uint8 to spare memory."""
    worker = current_worker()

    def progress(done, total):
        # every chunk (64 KiB) is shown: a coalesced report could hide the last bytes that
        # arrived before the connection stalls
        if worker is not None:
            worker.report(("download", done, total), force=True)

    def cancel():
        return worker is not None and worker.is_cancelled()

    if worker is not None:
        worker.report(("start", 0, None), force=True)
    (xt, yt), (xs, ys), names = load_cifar10(
        cache_dir=cache_dir, progress=progress, cancel=cancel, url=url, archive=archive,
        sha256=sha256)
    if worker is not None:
        worker.report(("convert", 0, None), force=True)
    # 50,000 float32 images take 600 MB; as bytes, 150 MB (training converts a subset back)
    to_u8 = lambda a: np.rint(a * np.float32(255)).astype(np.uint8)  # noqa: E731
    return {"x_train": to_u8(xt), "y_train": yt, "x_test": to_u8(xs), "y_test": ys,
            "names": tuple(names)}


def folder_job(folder):
    """Worker job: a folder of class sub-folders as this lesson's data (32×32 RGB bytes),
    a fifth of each class held out as the test images."""
    worker = current_worker()

    def progress(done, total):
        if worker is not None:
            worker.report(("folder", done, total))

    folder_data = load_image_folder(
        folder, (32, 32), progress=progress,
        cancel=lambda: worker is not None and worker.is_cancelled())
    train, test = stratified_split(folder_data.labels, 0.2, seed=0)
    x, y = folder_data.images, folder_data.labels
    return {"x_train": x[train], "y_train": y[train], "x_test": x[test], "y_test": y[test],
            "names": folder_data.class_names, "folder": folder_data.folder,
            "summary": folder_data.summary()}


def images_to_float(task) -> None:
    """The training task's `prepare`: bytes → float32 in [0, 1] in the worker thread (600 MB
    for all 50,000 images, so not on the GUI thread)."""
    task.x = task.x.astype(np.float32) / np.float32(255)                       # (n, 32, 32, 3)
    x_val, y_val = task.validation_data
    task.validation_data = (x_val.astype(np.float32) / np.float32(255), y_val)


def predict_test_images(task) -> np.ndarray:
    """The training task's `finish`: the test images' class probabilities, (M, 10)."""
    return task.model.predict(task.validation_data[0])


class CifarLesson(Lesson):
    title = "CIFAR-10"
    subtitle = ("Download 60,000 small colour photos in 10 classes, train a CNN on part of them, "
                "and see which classes it gets right.")
    help_name = "cifar"
    course_tutorials = (24,)

    def __init__(self, parent=None):
        super().__init__(parent)
        #: where downloads are cached (None: the app's data folder), the URL and checksum;
        #: tests point these at a loopback server and a tiny archive
        self.cache_dir = None
        self.url = None
        self.sha256 = CIFAR10_SHA256
        self.data = None
        self.model = None
        self._loader = None
        self.session = None
        self._grid_page = 0
        self._pred = None
        self._last_error = ""

        visual = QWidget(self)
        outer = QVBoxLayout(visual)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(4)

        data_row = QHBoxLayout()
        self.download_button = QPushButton("Download CIFAR-10")
        self.download_button.setToolTip("Fetch cifar-10-python.tar.gz (163 MB) once, check its "
                                        "SHA-256 and keep it in the app's data folder; later "
                                        "it loads from there")
        self.download_button.setAccessibleName("Download CIFAR-10")
        self.download_button.clicked.connect(self.download)
        data_row.addWidget(self.download_button)
        self.open_button = QPushButton("Open archive…")
        self.open_button.setToolTip("Use a cifar-10-python.tar.gz you already downloaded "
                                    "(no network needed)")
        self.open_button.setAccessibleName("Open a downloaded CIFAR-10 archive")
        self.open_button.clicked.connect(lambda: self.open_archive())
        data_row.addWidget(self.open_button)
        self.folder_button = QPushButton("Open image folder…")
        self.folder_button.setToolTip("Train on your own photos instead: a folder with one "
                                      "sub-folder per class (cats/, dogs/, …), as Keras's "
                                      "image_dataset_from_directory reads. No network needed")
        self.folder_button.setAccessibleName("Open a folder of images, one sub-folder per class")
        self.folder_button.clicked.connect(lambda: self.open_image_folder())
        data_row.addWidget(self.folder_button)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the download; nothing half-downloaded is kept")
        self.cancel_button.setAccessibleName("Cancel download")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_download)
        data_row.addWidget(self.cancel_button)
        self.download_bar = QProgressBar()
        self.download_bar.setRange(0, 1)
        self.download_bar.setValue(0)
        self.download_bar.setFormat("%p %")
        self.download_bar.setAccessibleName("Download progress")
        self.download_bar.setToolTip("Bytes received of the archive's size")
        self.download_bar.setMaximumWidth(200)
        data_row.addWidget(self.download_bar)
        self.data_label = QLabel()
        self.data_label.setWordWrap(True)
        self.data_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.data_label.setAccessibleName("Dataset status")
        data_row.addWidget(self.data_label, 1)
        outer.addLayout(data_row)

        body = QHBoxLayout()
        body.setSpacing(10)
        left = QVBoxLayout()
        self.curves = LiveCurves(visual, lazy=True)   # the chart waits for the first training
        left.addWidget(self.curves, 1)
        self.status = TrainingStatus(visual)
        left.addWidget(self.status)
        body.addLayout(left, 3)

        self.tabs = QTabWidget(visual)
        ctab = QWidget()
        cl = QVBoxLayout(ctab)
        cl.setContentsMargins(4, 4, 4, 4)
        self.class_plot = pg.PlotWidget(enableMenu=False)   # no menu made to be thrown away
        self.class_plot.setBackground("w")
        item = self.class_plot.getPlotItem()
        item.hideButtons()
        item.setMouseEnabled(x=False, y=False)
        item.setLabel("bottom", "test images of the class classified correctly (%)",
                      color="#1d232b")
        for side in ("left", "bottom"):
            item.getAxis(side).setPen(pg.mkPen("#5b626c"))
            item.getAxis(side).setTextPen(pg.mkPen("#1d232b"))
        item.setXRange(0, 100, padding=0.02)
        item.getViewBox().invertY(True)
        self.bars = pg.BarGraphItem(x0=np.zeros(10), y=np.arange(10), height=0.7,
                                    width=np.zeros(10), brush="#5f6f84", pen=pg.mkPen("#3d4654"))
        item.addItem(self.bars)
        self.bar_labels = []
        self._set_class_rows(CIFAR10_CLASSES)
        self.class_plot.setAccessibleName("Accuracy per class")
        self.class_plot.setToolTip("For each class: the share of its test images the network "
                                   "labelled correctly (right / total)")
        cl.addWidget(self.class_plot, 1)
        self.class_caption = QLabel("Train the network to see how well it recognises each class.")
        self.class_caption.setWordWrap(True)
        cl.addWidget(self.class_caption)
        self.tabs.addTab(ctab, "Accuracy per class")
        gtab = QWidget()
        gl = QVBoxLayout(gtab)
        gl.setContentsMargins(4, 4, 4, 4)
        self.grid = ImageGrid()
        gl.addWidget(self.grid, 1)
        grow = QHBoxLayout()
        self.grid_caption = QLabel("Test images appear here with the network's guess.")
        self.grid_caption.setWordWrap(True)
        grow.addWidget(self.grid_caption, 1)
        self.more_button = QPushButton("Other images")
        self.more_button.setToolTip("Show the next test images")
        self.more_button.setAccessibleName("Show other test images")
        self.more_button.clicked.connect(self.next_images)
        self.more_button.setEnabled(False)
        grow.addWidget(self.more_button)
        gl.addLayout(grow)
        self.tabs.addTab(gtab, "Test images")
        self.maps = CifarFeatureMaps()
        self.tabs.addTab(self.maps, "Feature maps")
        self.tabs.setTabToolTip(2, "What each layer of the CNN, or of your own model, makes "
                                   "of one test image")
        body.addWidget(self.tabs, 2)
        outer.addLayout(body, 1)
        self.set_visual(visual)

        self.network_combo = self.add_control(QComboBox(), "Network", tooltip="The small CNN "
                                              "trains about 3× faster; the course's CNN learns "
                                              "more", name="Network")
        self.network_combo.addItems(list(NETWORKS))
        self.size_spin = self.add_control(QSpinBox(), "Training images", tooltip="How many of "
                                          "the 50,000 training images to use: 5,000 trains in "
                                          "seconds per epoch, all of them in minutes",
                                          name="Training images")
        self.size_spin.setRange(100, 50000)
        self.size_spin.setSingleStep(1000)
        self.size_spin.setValue(5000)
        self.epochs_spin = self.add_control(QSpinBox(), "Epochs", tooltip="Passes over the "
                                            "training images", name="Epochs")
        self.epochs_spin.setRange(1, 50)
        self.epochs_spin.setValue(3)
        self.add_controls_stretch()
        self.add_pace_control(None)  # CIFAR trains for minutes: full speed
        self.train_button = self.add_control(QPushButton("Train"), tooltip="Train the CNN "
                                             "from scratch (Adam, batch 32); the test images "
                                             "measure it after each epoch", name="Train")
        self.stop_button = self.add_control(QPushButton("Stop"), tooltip="Stop after the "
                                            "current batch", name="Stop training")
        self.train_button.clicked.connect(self.train)
        self.stop_button.clicked.connect(self.stop)
        self._update_buttons()
        self._show_data_state()

    # --- dataset ----------------------------------------------------------------------------
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.data["names"]) if self.data is not None else CIFAR10_CLASSES

    def _set_class_rows(self, names) -> None:
        """One bar and one number label per class (10 for CIFAR-10, any count for a folder)."""
        item = self.class_plot.getPlotItem()
        k = len(names)
        while len(self.bar_labels) > k:
            item.removeItem(self.bar_labels.pop())
        while len(self.bar_labels) < k:
            t = pg.TextItem("", color="#1d232b", anchor=(0, 0.5))
            t.setFont(mono_font())
            t.setPos(1, len(self.bar_labels))
            item.addItem(t)
            self.bar_labels.append(t)
        for t in self.bar_labels:
            t.setText("")
        self.bars.setOpts(x0=np.zeros(k), y=np.arange(k), width=np.zeros(k))
        item.getAxis("left").setTicks([list(enumerate(names))])
        item.setYRange(-0.6, k - 0.4, padding=0)

    def cache_folder(self):
        from pathlib import Path

        return Path(self.cache_dir) if self.cache_dir is not None else data_dir() / "cifar10"

    def _show_data_state(self) -> None:
        if self.data is not None and "folder" in self.data:
            n, m = len(self.data["x_train"]), len(self.data["x_test"])
            self._set_data_text(f"Your images from {self.data['folder']}: "
                                f"{self.data['summary']} {n:,} train, {m:,} test the network.")
            return
        if self.data is not None:
            n, m = len(self.data["x_train"]), len(self.data["x_test"])
            self._set_data_text(f"CIFAR-10 loaded: {n:,} training and {m:,} test images of "
                                f"32×32 pixels, 10 classes.")
            return
        cached = (self.cache_folder() / "cifar-10-python.tar.gz").is_file()
        if cached:
            self.download_button.setText("Load CIFAR-10")
            self._set_data_text("A downloaded copy is in the cache: press Load (its checksum "
                                "is verified first).")
        else:
            self._set_data_text(f"Not downloaded yet: 163 MB, fetched once into "
                                f"{self.cache_folder()}.")

    def _set_data_text(self, text: str, error: bool = False) -> None:
        self._last_error = text if error else ""
        self.data_label.setStyleSheet(f"color: {ERROR_COLOR};" if error else "")
        self.data_label.setText(("✗ " if error else "") + text)

    def data_message(self) -> str:
        return self.data_label.text()

    def is_loading(self) -> bool:
        return self._loader is not None

    def download(self) -> None:
        self._load(archive=None)

    def open_archive(self, path: str | None = None) -> None:
        """Read a cifar-10-python.tar.gz the learner already has (file dialog if no path)."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self, "Open cifar-10-python.tar.gz", "",
                "CIFAR-10 python archive (*.tar.gz *.tgz);;All files (*)")
            if not path:
                return
        self._load(archive=path)

    def open_image_folder(self, path: str | None = None) -> None:
        """Use a folder of the learner's own images, one sub-folder per class, in CIFAR-10's
        place (folder dialog if no path)."""
        if path is None:
            path = QFileDialog.getExistingDirectory(
                self, "Open a folder with one sub-folder of images per class")
            if not path:
                return
        self._load(folder=path)

    def _load(self, archive=None, folder=None) -> None:
        if self.is_loading() or self.is_training():
            return
        self.download_bar.setRange(0, 0)   # busy until the size is known
        if folder is not None:
            self._set_data_text(f"Reading the images in {folder}…")
            job = (folder_job, folder)
        else:
            self._set_data_text("Reading the archive…" if archive else "Connecting…")
            job = (load_job, self.cache_dir, self.url, self.sha256, archive)
        self._loader = self.start_worker(*job,
                                         on_progress=self._on_load_progress,
                                         on_finished=self._on_loaded,
                                         on_failed=self._on_load_failed,
                                         on_done=self._on_load_done)
        self._update_buttons()

    def cancel_download(self) -> None:
        if self._loader is not None:
            self._loader.cancel()
            self._set_data_text("Cancelling…")

    def _on_load_progress(self, value) -> None:
        what, done, total = value
        if what == "download":
            if total:
                # kilobytes: QProgressBar holds a 32-bit int, and files can be large
                self.download_bar.setRange(0, max(1, total // 1024))
                self.download_bar.setValue(done // 1024)
                self._set_data_text(f"Downloading: {done / 1e6:.1f} of {total / 1e6:.1f} MB")
            else:
                self.download_bar.setRange(0, 0)
                self._set_data_text(f"Downloading: {done / 1e6:.1f} MB")
        elif what == "folder":
            self.download_bar.setRange(0, max(1, total))
            self.download_bar.setValue(done)
            self._set_data_text(f"Reading images: {done:,} of {total:,}")
        elif what == "convert":
            self.download_bar.setRange(0, 0)
            self._set_data_text("Unpacking the images…")

    def _on_loaded(self, data) -> None:
        if data is None:          # cancelled before the job started
            self._show_data_state()
            return
        self.data = data
        self._pred = None
        self.download_bar.setRange(0, 1)
        self.download_bar.setValue(1)
        self.size_spin.setMinimum(min(100, len(data["x_train"])))
        self.size_spin.setMaximum(len(data["x_train"]))
        self.size_spin.setValue(len(data["x_train"]) if "folder" in data
                                else min(5000, len(data["x_train"])))
        self._set_class_rows(data["names"])
        if self.model is None:      # the maps of the network training would start from
            size = NETWORKS[self.network_combo.currentText()]
            self.maps.set_cnn(cifar_cnn(size, seed=0, classes=len(data["names"])), "untrained")
        self.maps.set_images(data["x_test"], data["names"])
        self.class_caption.setText("Train the network to see how well it recognises each class.")
        self._show_data_state()
        what = "Your images are" if "folder" in data else "CIFAR-10 is"
        self.show_status(f"{what} ready: choose how many images to train on and press Train.")

    def _on_load_failed(self, exc) -> None:
        self.download_bar.setRange(0, 1)
        self.download_bar.setValue(0)
        if isinstance(exc, ImageFolderCancelled):
            self._set_data_text("Reading the folder cancelled.")
            return
        if isinstance(exc, ImageFolderError):
            self._set_data_text(str(exc), error=True)
            self.show_status("That folder cannot be used (see the message above the curves).")
            return
        if isinstance(exc, DownloadCancelled):
            self._set_data_text("Download cancelled; nothing half-downloaded was kept.")
            self.show_status("CIFAR-10 download cancelled.", 5000)
            return
        if isinstance(exc, ChecksumError):
            text = f"The download was damaged or not CIFAR-10: {exc}"
        elif isinstance(exc, DownloadError):
            text = (f"{exc} Or press 'Open archive…' to use a cifar-10-python.tar.gz you "
                    f"already have, or 'Open image folder…' to train on your own photos.")
        elif isinstance(exc, FileNotFoundError):
            text = str(exc)
        elif isinstance(exc, (ValueError, OSError)):
            text = f"That file is not a usable CIFAR-10 archive: {exc}"
        else:
            text = f"Loading CIFAR-10 failed: {type(exc).__name__}: {exc}"
        self._set_data_text(text, error=True)
        self.show_status("CIFAR-10 could not be loaded (see the message above the curves).")

    def _on_load_done(self) -> None:
        self._loader = None
        if self.data is None and not self._last_error and "cancelled" not in self.data_message():
            self._show_data_state()
        self._update_buttons()

    # --- training ----------------------------------------------------------------------------
    def _update_buttons(self) -> None:
        loading, training = self.is_loading(), self.is_training()
        self.download_button.setEnabled(not loading and not training and self.data is None)
        self.open_button.setEnabled(not loading and not training)
        self.folder_button.setEnabled(not loading and not training)
        self.cancel_button.setEnabled(loading)
        self.train_button.setEnabled(self.data is not None and not loading and not training)
        self.stop_button.setEnabled(training)
        self.network_combo.setEnabled(not training)
        self.train_button.setToolTip("Train the CNN from scratch (Adam, batch 32)" if self.data
                                     is not None else "Download or open CIFAR-10, or open a "
                                     "folder of your own images, first")

    def train(self) -> None:
        if self.data is None or self.is_training() or self.is_loading():
            if self.data is None:
                self.show_status("Download or open CIFAR-10, or open a folder of your own "
                                 "images, first.", 5000)
            return
        size = NETWORKS[self.network_combo.currentText()]
        n = min(self.size_spin.value(), len(self.data["x_train"]))
        m = min(len(self.data["x_test"]), 2000)
        xv_u8, yv = self.data["x_test"][:m], self.data["y_test"][:m]
        self.model = cifar_cnn(size, seed=0, classes=len(self.class_names()))
        epochs = self.epochs_spin.value()
        name = f"{'small' if size == 'small' else 'course'} CNN, {n:,} images"
        run = self.curves.new_run(name, {"network": describe(self.model), "images": n,
                                         "epochs": epochs})
        self.status.reset()
        self.session = cnn_session(run, self.model, self.data["x_train"][:n],
                                   self.data["y_train"][:n], xv_u8, yv, epochs,
                                   prepare=images_to_float, finish=predict_test_images,
                                   parent=self)
        self.curves.follow(self.session)
        self.status.follow(self.session)
        self.maps.set_cnn(self.model, "training")
        self.session.finished.connect(self._on_train_done)
        self.start_session(self.session)
        self._update_buttons()
        self.show_status(f"Training on {n:,} images for {epochs} epoch(s); the "
                         f"{len(yv):,} test images are checked after each epoch.")

    def stop(self) -> None:
        if self.is_training():
            self.session.stop()

    def _on_trained(self, run, probs, yv) -> None:
        """probs (M, 10) of the M test images, yv (M,) their classes."""
        self._pred = np.argmax(probs, axis=1)
        self._probs = probs
        self._yv = yv
        self.show_class_accuracy()
        self._grid_page = 0
        self.show_images()
        acc = metrics.accuracy(yv, self._pred)
        msg = (f"Test accuracy {fmt(100 * acc)} % on {len(yv):,} test images (chance: "
               f"{fmt(100 / len(self.class_names()))} %).")
        if run.stop_reason:
            msg += " " + run.stop_reason
        self.show_status(msg)

    def _on_train_done(self) -> None:
        task = self.session.tasks[0]
        if task.run.status == "failed" or task.result is None:
            self.show_status(f"Training failed: {task.run.stop_reason}")
            self.maps.set_cnn(self.model, "partly trained")
        else:
            self._on_trained(task.run, task.result, task.validation_data[1])
            self.maps.set_cnn(self.model, "trained")
        self._update_buttons()

    # --- results -------------------------------------------------------------------------------
    def class_accuracy(self) -> np.ndarray:
        """Per class: the share of its test images predicted right (recall of the class)."""
        return np.asarray(metrics.recall(self._yv, self._pred, average=None,
                                         num_classes=len(self.class_names())))

    def show_class_accuracy(self) -> None:
        acc = self.class_accuracy()
        k = len(self.class_names())
        counts = np.bincount(self._yv, minlength=k)
        right = np.bincount(self._yv[self._pred == self._yv], minlength=k)
        self.bars.setOpts(width=100 * acc)
        names = self.data["names"]
        for i, t in enumerate(self.bar_labels):
            t.setText(f"{fmt(100 * acc[i])} % ({right[i]}/{counts[i]})")
            inside = acc[i] > 0.6          # long bars carry their number inside
            t.setAnchor((1, 0.5) if inside else (0, 0.5))
            t.setColor("#ffffff" if inside else "#1d232b")
            t.setPos(100 * acc[i] + (-1 if inside else 1), i)
        self.class_plot.getPlotItem().getAxis("left").setTicks([list(enumerate(names))])
        best, worst = int(np.argmax(acc)), int(np.argmin(acc))
        self.class_caption.setText(
            f"Best: {names[best]} ({fmt(100 * acc[best])} %), worst: {names[worst]} "
            f"({fmt(100 * acc[worst])} %). Chance would be {fmt(100 / k)} %.")

    def bar_texts(self) -> list[str]:
        return [t.toPlainText() for t in self.bar_labels]

    def show_images(self) -> None:
        if self._pred is None:
            return
        m = len(self._yv)
        start = (self._grid_page * GRID_IMAGES) % max(m, 1)
        idx = np.arange(start, min(start + GRID_IMAGES, m))
        names = self.data["names"]
        images = self.data["x_test"][idx].astype(np.float32) / np.float32(255)
        self.grid.set_items(images, [names[int(p)] for p in self._pred[idx]],
                            [names[int(t)] for t in self._yv[idx]],
                            [float(self._probs[i, self._pred[i]]) for i in idx])
        right = int((self._pred[idx] == self._yv[idx]).sum())
        self.grid_caption.setText(f"Test images {idx[0] + 1}–{idx[-1] + 1}: {right} of "
                                  f"{len(idx)} right. ✓ = right, ✗ = wrong with the true "
                                  f"class below; hover for the confidence.")
        self.more_button.setEnabled(m > GRID_IMAGES)

    def next_images(self) -> None:
        self._grid_page += 1
        self.show_images()

    # --- the learner's own model (File ▸ Open model…) -------------------------------------
    def learner_model_opened(self, model, name: str) -> None:
        """A model with a Conv2D layer that takes 32×32×3 images shows its own feature maps
        ("Of: your model"); any other model is refused in one sentence."""
        problem = self.maps.set_learner_model(model, name)
        if problem is not None:
            self.show_status(f"{name} cannot show feature maps here: {problem}.", 8000)
        else:
            self.show_status(f"{name}: its feature maps are in the Feature maps tab.", 5000)

    # --- lifecycle -------------------------------------------------------------------------------
    # Lesson.deactivate stops training when the learner leaves; a download goes on (it is a
    # file transfer) until the window closes

    def shutdown(self) -> None:
        self.cancel_download()
        super().shutdown()
