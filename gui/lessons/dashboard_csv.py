"""Training dashboard, part two: reading a CSV file off the GUI thread (a million rows take
seconds), with progress, cancel and the columns to use.

DashboardLesson inherits these methods; they read and set its widgets and state.
"""
from __future__ import annotations

from pathlib import Path

from core.data import ReadCancelled
from core.teaching.tasks import csv_header, looks_like_id, prepare_csv
from gui.widgets.load_progress import worker_progress


def _csv_cache_key(path, target: str, drop) -> str:
    """The key prepare_dataset files a prepared CSV under."""
    return f"csv:{path}:{target}:{tuple(drop)}"


class DashboardCsv:
    """Opening a CSV file in the dashboard: part of DashboardLesson."""

    # --- reading a CSV off the GUI thread (a million rows take seconds) ----------------------
    def load_csv_in_background(self, path: str, target: str | None = None):
        """Read and encode the CSV at `path` in a worker, with progress and Cancel; the
        current data stays in use until it has been read. Returns the Worker (None if a
        file is being read already)."""
        if self.is_loading_csv():
            return None
        path = str(path)

        def job():
            header = csv_header(path)
            chosen = target if target in header else header[-1]
            drop = tuple(c for c in header if looks_like_id(c) and c != chosen)
            data = prepare_csv(path, chosen, drop, progress=worker_progress())
            return header, chosen, drop, data

        def finished(result):
            header, chosen, drop, data = result
            self._data_cache[_csv_cache_key(path, chosen, drop)] = data
            self.load_csv(path, chosen)       # served from the cache: no second read
        return self._start_csv_job(job, finished, path)

    def _prepare_csv_in_background(self, target: str, drop: tuple) -> None:
        path = self._csv_path

        def job():
            return prepare_csv(path, target, drop, progress=worker_progress())

        def finished(data):
            self._data_cache[_csv_cache_key(path, target, drop)] = data
            if (path, target, drop) == (self._csv_path, self.target_combo.currentText(),
                                        self._drop_columns()):
                self._on_csv_options()
        self._start_csv_job(job, finished, path)

    def _start_csv_job(self, job, finished, path: str):
        def failed(exc):
            if isinstance(exc, ReadCancelled):
                self._show_message(f"Reading {Path(path).name} was cancelled; the data in use "
                                   "stays.")
            elif isinstance(exc, (ValueError, OSError)):
                # the learner asked for a CSV: show the CSV choice, with the file that
                # was in use before (if any) still in it
                self.dataset_combo.setCurrentIndex(self.dataset_combo.findData("csv"))
                self._show_message(f"This CSV cannot be used: {exc}", error=True)
                self.data_label.setText(str(exc))
            else:
                self._show_message(f"Reading {Path(path).name} failed: "
                                   f"{type(exc).__name__}: {exc}", error=True)

        def done():
            self._csv_loader = None
            self.csv_progress.finish()
            self._update_buttons()

        self.csv_progress.start(Path(path).name)
        self._csv_loader = self.start_worker(job, on_progress=self.csv_progress.set_fraction,
                                             on_finished=finished, on_failed=failed,
                                             on_done=done)
        self._update_buttons()
        return self._csv_loader

    def is_loading_csv(self) -> bool:
        return self._csv_loader is not None

    def cancel_csv_loading(self) -> None:
        if self._csv_loader is not None:
            self._csv_loader.cancel()
            self.csv_progress.cancelling()

    def _drop_columns(self) -> tuple:
        return tuple(c.strip() for c in self.drop_edit.text().split(",") if c.strip())

    def load_csv(self, path: str, target: str | None = None) -> bool:
        """Use the CSV at `path` (last column predicted unless `target`); False with a
        visible message if the file cannot be used, or while a large file (not read with
        these columns yet) is read in the background. Open CSV… goes through
        `load_csv_in_background`, which reads the file off the GUI thread first."""
        self.dataset_combo.setCurrentIndex(self.dataset_combo.findData("csv"))
        try:
            header = csv_header(path)
        except ValueError as exc:
            self._csv_path = None
            self._show_message(str(exc), error=True)
            self.data_label.setText(str(exc))
            return False
        self._csv_path = str(path)
        self.target_combo.blockSignals(True)
        self.target_combo.clear()
        self.target_combo.addItems(header)
        self.target_combo.setCurrentText(target if target in header else header[-1])
        self.target_combo.blockSignals(False)
        self.drop_edit.setText(", ".join(c for c in header if looks_like_id(c)
                                         and c != self.target_combo.currentText()))
        return self._on_csv_options()

    def _on_csv_options(self, *_) -> bool:
        if not self._csv_path:
            return False
        key = _csv_cache_key(self._csv_path, self.target_combo.currentText(),
                             self._drop_columns())
        if key not in self._data_cache and self._is_large(self._csv_path):
            if not self.is_loading_csv():   # a big file is read in the background
                self._prepare_csv_in_background(self.target_combo.currentText(),
                                                self._drop_columns())
            return False
        try:
            self.data()
        except ValueError as exc:
            self._show_message(f"This CSV cannot be used: {exc}", error=True)
            self.data_label.setText(str(exc))
            self._config_changed()
            return False
        self._refresh_data_label()
        self._config_changed()
        return True
