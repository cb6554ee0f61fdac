"""Saving a model to a file the learner chooses: Backprop Lab's `.npz` or Keras 3's `.keras`.

One dialog and one set of messages for both File ▸ Save model as… (the opened model) and
File ▸ Save trained model… (what the current lesson trained or taught), so every model in
the app saves the same way, with the engine's own writers (core.io, core.keras.saving).
"""
from __future__ import annotations

import os
import re

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from gui.settings import read_folder

SAVE_FILTER = "Backprop Lab models (*.npz);;Keras 3 models (*.keras)"


def with_suffix(path: str, chosen_filter: str) -> str:
    """A name typed without a suffix gets the one of the chosen file type."""
    if os.path.splitext(path)[1]:
        return path
    return path + (".keras" if "keras" in (chosen_filter or "").lower() else ".npz")


def file_stem(text: str) -> str:
    """A file name proposal from a description: "CNN (course)" → "cnn_course"."""
    stem = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return stem[:60] or "model"


def write_model(parent, model, start: str) -> str | None:
    """Ask where to save `model` (starting at `start`), write it; the path, or None when
    the learner cancelled or the file could not be written (a warning says why)."""
    path, chosen = QFileDialog.getSaveFileName(parent, "Save model as", start, SAVE_FILTER)
    if not path:
        return None
    path = with_suffix(path, chosen)
    QSettings().setValue("files/lastModelDir", os.path.dirname(path))
    try:
        from core import io as core_io  # the engine is imported only when needed

        core_io.save_model(model, path)
    except (ValueError, OSError, ImportError) as exc:
        message = str(exc) if not isinstance(exc, OSError) else (
            f"{os.path.basename(path)} could not be written: {exc.strerror or exc}")
        QMessageBox.warning(parent, "Could not save model", message)
        return None
    return path


def nothing_trained(lesson) -> str:
    return (f"Nothing has been trained in “{lesson.title}” yet: train a network there first, "
            "then save it with File ▸ Save trained model….")


def still_training(lesson) -> str:
    return (f"“{lesson.title}” is still training: stop it or let it finish, then save, so "
            "the file holds one consistent set of weights.")


def save_trained_model(parent, lesson) -> str | None:
    """Save a model the lesson trained or taught: the path written, or None (a message box
    says why when there is nothing to save)."""
    if lesson is None or not hasattr(lesson, "trained_models"):
        QMessageBox.information(parent, "Nothing to save",
                                "Choose a lesson and train a network there first.")
        return None
    if lesson.is_training():
        QMessageBox.information(parent, "Still training", still_training(lesson))
        return None
    found = lesson.trained_models()
    if not found:
        QMessageBox.information(parent, "Nothing trained yet", nothing_trained(lesson))
        return None
    description, model = found[0]
    if len(found) > 1:
        names = [d for d, _ in found]
        choice, ok = QInputDialog.getItem(parent, "Save trained model",
                                          f"Which network of “{lesson.title}”?", names, 0,
                                          False)
        if not ok:
            return None
        description, model = found[names.index(choice)]
    start = os.path.join(read_folder("files/lastModelDir"),
                         f"{file_stem(lesson.title)}_{file_stem(description.rsplit(' (', 1)[0])}.npz")
    path = write_model(parent, model, start)
    if path is not None:
        lesson.model_saved(model, path)
    return path
