"""Training dashboard, part three: exporting a finished run to CSV files or TensorBoard
event files, for the course's own tools (tutorial 16 opens them in TensorBoard).

DashboardLesson inherits these methods; they read and set its widgets and state.
"""
from __future__ import annotations

from PySide6.QtWidgets import QFileDialog

from core.teaching.runs import export_csv, export_tensorboard


class DashboardExport:
    """Exporting a run from the dashboard: part of DashboardLesson."""

    def export_run(self):
        """The run an export refers to: the selected one, else the latest."""
        run = self.table.current_run()
        if run is None:
            runs = list(self.store)
            run = runs[-1] if runs else None
        return run

    def _exportable(self):
        run = self.export_run()
        if run is None:
            self._show_message("There is no run to export yet: press Start first.", error=True)
            return None
        if run.status in ("running", "paused"):
            self._show_message(f"{run.name} is still training: stop it or let it finish, "
                               "then export.", error=True)
            return None
        return run

    def export_csv_dialog(self) -> None:
        run = self._exportable()
        if run is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, f"Export {run.name} to CSV",
                                              f"{run.name}.csv", "CSV files (*.csv)")
        if path:
            self.export_csv_to(path, run)

    def export_csv_to(self, path, run=None):
        run = run or self._exportable()
        if run is None:
            return None
        try:
            paths = export_csv(run, path)
        except OSError as exc:
            self._show_message(f"Could not write the CSV: {exc}", error=True)
            return None
        self._show_message(f"{run.name} exported: {paths[0]} (per epoch) and {paths[1].name} "
                           "(per batch).")
        return paths

    def export_tensorboard_dialog(self) -> None:
        run = self._exportable()
        if run is None:
            return
        folder = QFileDialog.getExistingDirectory(self, "Folder for TensorBoard logs")
        if folder:
            self.export_tensorboard_to(folder, run)

    def export_tensorboard_to(self, folder, run=None):
        """Write the event files in a worker (a long run has many points); returns the Worker."""
        run = run or self._exportable()
        if run is None:
            return None
        self.tb_button.setEnabled(False)

        def done(path):
            self._show_message(f"{run.name} exported for TensorBoard to {path}. "
                               f"Open it with: tensorboard --logdir \"{folder}\"")

        def failed(exc):
            self._show_message(f"Could not write the TensorBoard files: {exc}", error=True)

        return self.start_worker(export_tensorboard, run, folder, on_finished=done,
                                 on_failed=failed, on_done=self._update_buttons)
