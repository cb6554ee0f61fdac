"""File ▸ the models: open a learner's model (Backprop Lab's .npz, Keras's .keras / .h5),
show it in the model inspector, offer it to the lessons, save it; save what a lesson trained;
open a folder of images for the CIFAR-10 lesson.

`ModelFileActions` is part of MainWindow (gui/main_window.py), which inherits it: it uses the
window's `_action`, `statusBar`, `constructed_lessons`, `current_lesson`, `select_lesson`,
`_call` and its `model_opened` signal, and keeps the open model in `model` / `model_path`.
"""
from __future__ import annotations

import os

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from gui import model_saving
from gui.lessons.base import Lesson
from gui.model_inspector import ModelInspectorDialog
from gui.settings import read_folder

#: what File > Open reads: the app's own .npz and Keras's .keras / legacy .h5 files
MODEL_FILTER = ("Models (*.npz *.keras *.h5);;Backprop Lab models (*.npz);;"
                "Keras models (*.keras *.h5);;All files (*)")
#: what File > Save writes (Keras's legacy .h5 is read, not written)
SAVE_FILTER = model_saving.SAVE_FILTER


class ModelFileActions:
    """The File menu's model actions and the open model, for MainWindow."""

    def _create_file_actions(self) -> None:
        self.open_action = self._action("&Open model…", self.open_model, "Ctrl+O",
                                        "Open a model: Backprop Lab's .npz, or Keras's .keras "
                                        "and .h5 files")
        self.save_action = self._action("&Save model as…", self.save_model_as, "Ctrl+S",
                                        "Save the open model to a file")
        self.save_action.setEnabled(False)
        self.save_trained_action = self._action(
            "Save &trained model…", self.save_trained_model, "Ctrl+Shift+S",
            "Save the network the current lesson trained or taught, as .npz or .keras")
        self.inspect_action = self._action("Show &model", self.show_inspector, "Ctrl+I",
                                           "Show the open model's layers and summary")
        self.inspect_action.setEnabled(False)
        self.image_folder_action = self._action(
            "Open image &folder…", self.open_image_folder, None,
            "Train the CIFAR-10 network on your own photos: a folder with one sub-folder "
            "per class")

    def _last_dir(self) -> str:
        return read_folder("files/lastModelDir")

    def open_model(self) -> bool:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", self._last_dir(), MODEL_FILTER)
        if not path:
            return False
        return self.load_model_file(path)

    def load_model_file(self, path: str) -> bool:
        """Load `path` with core.io.load_model; on failure warn and keep what was open."""
        QSettings().setValue("files/lastModelDir", os.path.dirname(path))
        try:
            from core import io as core_io  # the engine is imported only when needed

            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                model = core_io.load_model(path)
            finally:
                QApplication.restoreOverrideCursor()
        except ValueError as exc:
            message = str(exc)
        except OSError as exc:
            message = f"{os.path.basename(path)} could not be read: {exc.strerror or exc}"
        except ImportError as exc:
            message = f"The engine cannot load models here ({exc})."
        except Exception as exc:  # noqa: BLE001 - a bad file must never crash the app
            message = (f"{os.path.basename(path)} is not a model Backprop Lab can open "
                       f"({type(exc).__name__}: {exc}).")
        else:
            self.set_model(model, path)
            self.statusBar().showMessage(f"Opened {os.path.basename(path)}", 5000)
            return True
        QMessageBox.warning(self, "Could not open model", message)
        self.statusBar().showMessage("The model was not opened.", 5000)
        return False

    def set_model(self, model, path: str | None = None) -> None:
        self.model, self.model_path = model, path
        self.model_changed = False
        self.save_action.setEnabled(True)
        self.inspect_action.setEnabled(True)
        self._show_model_label()
        self.show_inspector()
        for lesson in self.constructed_lessons():
            self._offer_model(lesson)
        self.model_opened.emit(model)

    def _show_model_label(self) -> None:
        try:
            n = f"{int(self.model.count_params()):,} parameters"
        except Exception:  # noqa: BLE001
            n = "model"
        name = os.path.basename(self.model_path) if self.model_path else "unsaved model"
        changed = ", changed, unsaved" if self.model_changed else ""
        self.model_label.setText(f"Model: {name} ({n}{changed})")

    def mark_model_changed(self) -> None:
        """The open model was edited (a weight typed into the inspector's diagram): it no
        longer matches its file, so the status bar and the inspector say so, and closing
        the window asks before the change is lost."""
        if self.model is None or self.model_changed:
            return
        self.model_changed = True
        self._show_model_label()
        if self._inspector is not None:
            self._inspector.set_changed(True)

    def _offer_model(self, lesson: Lesson) -> None:
        name = os.path.basename(self.model_path) if self.model_path else "your model"
        self._call(lambda: lesson.learner_model_opened(self.model, name))

    def inspector(self) -> ModelInspectorDialog | None:
        return self._inspector

    def show_inspector(self) -> None:
        if self.model is None:
            return
        if self._inspector is None:
            self._inspector = ModelInspectorDialog(self)
            self._inspector.model_edited.connect(self.mark_model_changed)
        self._inspector.set_model(self.model, self.model_path)
        self._inspector.set_changed(self.model_changed)
        self._inspector.show()
        self._inspector.raise_()

    def save_model_as(self) -> bool:
        if self.model is None:
            return False
        start = self.model_path or os.path.join(self._last_dir(), "model.npz")
        path = model_saving.write_model(self, self.model, start)
        if path is None:
            return False
        self.model_path = path
        self.set_model(self.model, path)
        self.statusBar().showMessage(f"Saved {os.path.basename(path)}", 5000)
        return True

    def save_trained_model(self) -> bool:
        """File ▸ Save trained model…: what the current lesson trained or taught."""
        path = model_saving.save_trained_model(self, self.current_lesson())
        if path is None:
            return False
        self.statusBar().showMessage(f"Saved {os.path.basename(path)}", 5000)
        return True

    def open_image_folder(self) -> None:
        """File ▸ Open image folder…: the CIFAR-10 lesson, asking for the folder there."""
        from gui.lessons.cifar import CifarLesson

        if self.select_lesson(CifarLesson):
            self.current_lesson().open_image_folder()
