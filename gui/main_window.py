"""The application window: lesson navigator (left), lesson (centre), status bar.

The lesson list is gui/navigator.py; File ▸ Open / Save model and the model inspector are
gui/file_actions.py (MainWindow inherits ModelFileActions); this file builds the window,
switches lessons, holds the View and Help menus, the settings, and closing.

Lessons are built the first time they are selected and kept, so a lesson's state survives
switching away; leaving one calls its `deactivate()`. Closing the window first asks before an
unsaved taught model is lost, then saves the settings, calls every built lesson's `shutdown()`
and waits for background work, all of it sharing one short budget (`SHUTDOWN_BUDGET_S`): a
thread still inside work that cannot be interrupted (a Numba compile) is left to `main`,
which then ends the process rather than let Qt destroy a running thread.
"""
from __future__ import annotations

import os
import sys
import traceback

from PySide6.QtCore import QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (QApplication, QLabel, QMainWindow, QMessageBox, QSplitter,
                               QStackedWidget, QTextBrowser, QVBoxLayout, QWidget)

from gui import lessons as lesson_registry
from gui import presentation
from gui.app import (APP_NAME, Worker, running_workers, set_application_names, shutdown_deadline,
                     stop_all_workers)
from gui.engine_warmup import EngineWarmup
from gui.file_actions import ModelFileActions
from gui.lessons.base import Lesson
from gui.model_inspector import ModelInspectorDialog
from gui.navigator import NAVIGATOR_WIDTH, LessonNavigator
from gui.settings import read_bool, read_bytes, read_text
from gui.style import apply_style
from gui.welcome import WelcomePage
from gui.widgets.status_bar import WrappingStatusBar

SHUTDOWN_TIMEOUT_MS = 5000
#: closing waits at most this long, in total, for background threads to end (the issue's
#: bound is 3 s from the click to the process gone)
SHUTDOWN_BUDGET_S = 1.5
DEFAULT_SPLITTER_SIZES = (NAVIGATOR_WIDTH, 1200 - NAVIGATOR_WIDTH)
#: how often presentation mode looks for plot lines drawn since the last look (ms)
PRESENTATION_REFRESH_MS = 1000

SHORTCUTS = (
    ("Space", "Play / pause the animation"),
    ("→", "One step forward"),
    ("←", "One step back"),
    ("R", "Reset the animation"),
    ("F1", "Show the current lesson's explanation"),
    ("Ctrl+O", "Open a saved model"),
    ("Ctrl+S", "Save the open model as…"),
    ("Ctrl+Shift+S", "Save the model the current lesson trained or taught"),
    ("Ctrl+B", "Show or hide the lesson list"),
    ("F5 / Ctrl+Shift+P", "Presentation mode: larger text and lines for a projector"),
    ("Ctrl+Shift+A", "Ask me first: predict before each reveal"),
    ("1 – 4 (0 – 9)", "Answer the prediction question (a digit for a digit question)"),
    ("↑ / ↓", "Previous / next lesson (in the lesson list)"),
    ("Ctrl+Q", "Quit"),
)


class _LessonError(QWidget):
    """Stands in for a lesson whose construction failed, so the app keeps working."""

    def __init__(self, title: str, error: str, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        head = QLabel(f"<b>{title}</b> could not be started.", self)
        lay.addWidget(head)
        text = QTextBrowser(self)
        text.setPlainText(error)
        text.setAccessibleName("Error details")
        lay.addWidget(text, 1)


class MainWindow(ModelFileActions, QMainWindow):
    """`MainWindow(lessons=None, warm_up_engine=False)`: `lessons` overrides the registry
    (tests use this); `warm_up_engine` compiles the kernels in the background (the app does)."""

    #: a model was opened from a file (lessons may listen)
    model_opened = Signal(object)

    def __init__(self, lessons=None, parent=None, warm_up_engine: bool = False):
        super().__init__(parent)
        if not QApplication.organizationName():
            # opened by a tool or test that built its own QApplication: settings still need
            # our names (a test that isolates settings sets its own first)
            set_application_names()
        apply_style()
        self.setWindowTitle(APP_NAME)
        self._lesson_classes: list[type[Lesson]] = list(
            lesson_registry.lesson_classes() if lessons is None else lessons)
        self._pages: dict[int, QWidget] = {}
        self._current_row = -1
        self.model = None
        self.model_path: str | None = None
        self.model_changed = False     # edited since it was opened or saved
        self._inspector: ModelInspectorDialog | None = None
        self._shut_down = False
        self._left_running: list = []
        self._asking = False           # a question about unsaved models is open
        self._navigator_before_presenting = True
        # while presenting, lines a lesson draws later (a new run's curve) get thicker too
        self._presentation_refresh = QTimer(self)
        self._presentation_refresh.setInterval(PRESENTATION_REFRESH_MS)
        self._presentation_refresh.timeout.connect(
            lambda: self._call(lambda: presentation.apply(self.current_page())))
        self._discard_unsaved = False  # Ctrl+C twice: quit without saving

        self.navigator = LessonNavigator(self._lesson_classes, self)

        self.stack = QStackedWidget(self)
        self.welcome = WelcomePage(
            self._lesson_classes[0].title if self._lesson_classes else None, self)
        self.welcome.start_requested.connect(
            lambda: self.navigator.setCurrentRow(self.navigator.first_lesson_row()))
        self.stack.addWidget(self.welcome)
        self._pages[0] = self.welcome

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.navigator)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)
        self.splitter.setSizes(list(DEFAULT_SPLITTER_SIZES))
        self.setCentralWidget(self.splitter)

        # long messages wrap or end in "…" with the whole text in a tooltip, never cut
        self.setStatusBar(WrappingStatusBar(self))
        self.model_label = QLabel("", self)
        self.model_label.setToolTip("The model opened from a file (File ▸ Open model…)")
        self.statusBar().addPermanentWidget(self.model_label)
        self.engine_warmup: EngineWarmup | None = None
        if warm_up_engine:
            self.engine_warmup = EngineWarmup(self)
            self.statusBar().addPermanentWidget(self.engine_warmup)
            # after the first paint, so the window is on screen before anything else runs
            QTimer.singleShot(200, self.engine_warmup.start)

        # the offline digits are parsed once per process (~0.1-0.5 s): read them ahead, off
        # the GUI thread, so that no lesson's opening waits for them
        QTimer.singleShot(0, self._read_digits_ahead)

        self._create_actions()
        self._create_menus()
        self.navigator.currentRowChanged.connect(self._on_row_changed)
        # quitting the application without closing the window still stops every lesson
        QApplication.instance().aboutToQuit.connect(self.shutdown_lessons)
        self._restore_settings()

    def _read_digits_ahead(self) -> None:
        if not self._shut_down:
            from core.data import offline

            self._digits_reader = Worker(offline.read_ahead).start()

    # --- actions and menus --------------------------------------------------------------
    def _action(self, text, slot, shortcut=None, tip="", checkable=False) -> QAction:
        act = QAction(text, self)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
        act.setStatusTip(tip)
        act.setToolTip(tip)
        act.setCheckable(checkable)
        act.triggered.connect(slot)
        self.addAction(act)
        return act

    def _create_actions(self) -> None:
        self._create_file_actions()
        self.quit_action = self._action("&Quit", self.close, "Ctrl+Q", "Quit Backprop Lab")
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.toggle_nav_action = self._action("Show &lesson list", self._set_navigator_visible,
                                              "Ctrl+B", "Show or hide the list of lessons",
                                              checkable=True)
        self.toggle_nav_action.setChecked(True)
        self.ask_first_action = self._action(
            "&Ask me first", self._set_ask_first, "Ctrl+Shift+A",
            "Animated lessons stop before each new number and ask you to predict it first",
            checkable=True)
        self.presentation_action = self._action(
            "&Presentation mode", self._set_presentation, "F5",
            "Larger text and lines for a projector (F5 or Ctrl+Shift+P)", checkable=True)
        self.presentation_action.setShortcuts([QKeySequence("F5"),
                                               QKeySequence("Ctrl+Shift+P")])
        self.help_action = self._action("&Lesson help", self.show_lesson_help, "F1",
                                        "Show the current lesson's explanation")
        self.shortcuts_action = self._action("&Keyboard shortcuts", self.show_shortcuts, None,
                                             "List the keyboard shortcuts")
        self.about_action = self._action("&About Backprop Lab", self.show_about, None,
                                         "What Backprop Lab is")
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)

    def _create_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.open_action)
        file_menu.addAction(self.save_action)
        file_menu.addAction(self.save_trained_action)
        file_menu.addAction(self.inspect_action)
        file_menu.addAction(self.image_folder_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.toggle_nav_action)
        view_menu.addSeparator()
        view_menu.addAction(self.ask_first_action)
        view_menu.addAction(self.presentation_action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.help_action)
        help_menu.addAction(self.shortcuts_action)
        help_menu.addSeparator()
        help_menu.addAction(self.about_action)
        for menu in (file_menu, view_menu, help_menu):
            menu.setToolTipsVisible(True)

    # --- lessons ------------------------------------------------------------------------
    def lesson_classes(self) -> list[type[Lesson]]:
        return list(self._lesson_classes)

    def constructed_lessons(self) -> list[Lesson]:
        return [p for p in self._pages.values() if isinstance(p, Lesson)]

    def current_page(self) -> QWidget:
        return self.stack.currentWidget()

    def current_lesson(self) -> Lesson | None:
        page = self.current_page()
        return page if isinstance(page, Lesson) else None

    def _page_for_row(self, row: int) -> QWidget:
        page = self._pages.get(row)
        if page is None:
            cls = self._lesson_classes[self.navigator.lesson_index(row)]
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                page = cls()
            except Exception:  # noqa: BLE001 - one broken lesson must not take the app down
                details = traceback.format_exc()
                print(details)
                page = _LessonError(cls.title, details)
            finally:
                QApplication.restoreOverrideCursor()
            if isinstance(page, Lesson):
                page.status_message.connect(self._show_status)
                page.set_ask_first(self.ask_first_action.isChecked())
                if self.model is not None:
                    self._offer_model(page)
            self.stack.addWidget(page)
            self._pages[row] = page
        return page

    def _on_row_changed(self, row: int) -> None:
        if row < 0 or row == self._current_row:
            return
        if row != 0 and self.navigator.lesson_index(row) is None:
            # a heading (setCurrentRow from code): its first lesson stands for it
            target = self.navigator.first_lesson_row(row)
            self.navigator.setCurrentRow(target if target >= 0 else self._current_row)
            return
        previous = self._pages.get(self._current_row)
        if isinstance(previous, Lesson):
            self._call(previous.deactivate)
        self._current_row = row
        page = self._page_for_row(row)
        self.stack.setCurrentWidget(page)
        # a lesson built (or a plot line added) since the last switch takes the current scale
        self._call(lambda: presentation.apply(page))
        if isinstance(page, Lesson):
            self.setWindowTitle(f"{page.title} — {APP_NAME}")
            self.statusBar().showMessage(page.hint())
            self._call(page.activate)
        else:
            self.setWindowTitle(APP_NAME)
            self.statusBar().showMessage(
                "Pick a lesson on the left. Hover any number for its formula." if row == 0 else "")

    def row_of(self, title_or_class) -> int:
        """The navigator row of a lesson (by title or class); -1 if it is not registered."""
        return self.navigator.row_of(title_or_class)

    def select_lesson(self, title_or_class) -> bool:
        """Show a lesson by title or class; False if it is not registered."""
        row = self.row_of(title_or_class)
        if row >= 0:
            self.navigator.setCurrentRow(row)
        return row >= 0

    @staticmethod
    def _call(fn) -> None:
        try:
            fn()
        except Exception:  # noqa: BLE001 - a lesson's bug must not break navigation
            traceback.print_exc()

    def _show_status(self, text: str, timeout_ms: int = 0) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    # --- view and help ------------------------------------------------------------------
    def _set_navigator_visible(self, visible: bool) -> None:
        self.navigator.setVisible(bool(visible))
        self.toggle_nav_action.setChecked(bool(visible))

    def _set_ask_first(self, on: bool) -> None:
        on = bool(on)
        self.ask_first_action.setChecked(on)
        for lesson in self.constructed_lessons():
            self._call(lambda ls=lesson: ls.set_ask_first(on))
        QSettings().setValue("view/askMeFirst", on)
        lesson = self.current_lesson()
        if on and lesson is not None and not lesson.asks_questions():
            asking = [cls.title for cls in self._lesson_classes if cls.asks_questions()]
            self.statusBar().showMessage("Ask me first asks in: " + ", ".join(asking) + ".",
                                         8000)

    def _set_presentation(self, on: bool) -> None:
        on = bool(on)
        was = presentation.is_on()
        self.presentation_action.setChecked(on)
        if on and not was:
            # the lesson gets the whole width on a projector; Ctrl+B still shows the list
            self._navigator_before_presenting = self.toggle_nav_action.isChecked()
            self._set_navigator_visible(False)
        presentation.set_presentation(on, [self])
        # once every widget has its new font, the lessons' sizes are final: measure again
        QTimer.singleShot(0, lambda: self._call(lambda: presentation.apply(self)))
        if was and not on:
            self._set_navigator_visible(self._navigator_before_presenting)
        if on:
            self._presentation_refresh.start()
        else:
            self._presentation_refresh.stop()
        self.navigator.fill_keeping_row(self._current_row)
        QSettings().setValue("view/presentationMode", on)

    def show_lesson_help(self) -> None:
        page = self.current_page()
        if hasattr(page, "show_help"):
            page.show_help()

    def _info_box(self, title: str, html: str) -> QMessageBox:
        # non-modal open(): the lesson behind keeps animating and tests never block
        box = QMessageBox(QMessageBox.Icon.Information, title, html,
                          QMessageBox.StandardButton.Close, self)
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    def show_shortcuts(self) -> QMessageBox:
        rows = "".join(f"<tr><td style='padding-right:16px'><b>{k}</b></td><td>{d}</td></tr>"
                       for k, d in SHORTCUTS)
        return self._info_box("Keyboard shortcuts", f"<table>{rows}</table>")

    def show_about(self) -> QMessageBox:
        return self._info_box(
            f"About {APP_NAME}",
            f"<h3>{APP_NAME}</h3><p>Learn how neural networks work by watching them: every "
            "idea of an introductory deep-learning course as a lesson you can poke, on "
            "networks trained live by our own NumPy + Numba engine.</p>")

    # --- settings and shutdown ----------------------------------------------------------
    def _default_size(self) -> QSize:
        screen = self.screen() or QApplication.primaryScreen()
        avail = screen.availableGeometry() if screen else None
        w, h = 1200, 740
        if avail is not None:
            w, h = min(w, int(avail.width() * 0.95)), min(h, int(avail.height() * 0.92))
        return QSize(w, h)

    def _restore_settings(self) -> None:
        # each value on its own: a damaged one falls back to its default, the rest still apply
        s = QSettings()
        geometry = read_bytes("mainWindow/geometry", s)
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(self._default_size())
        state = read_bytes("mainWindow/state", s)
        if state is not None:
            self.restoreState(state)
        sizes = read_bytes("mainWindow/splitter", s)
        if sizes is None or not self.splitter.restoreState(sizes):
            self.splitter.setSizes(list(DEFAULT_SPLITTER_SIZES))
        self._set_navigator_visible(read_bool("mainWindow/navigatorVisible", True, s))
        if read_bool("view/presentationMode", False, s):
            self._set_presentation(True)
        self._set_ask_first(read_bool("view/askMeFirst", False, s))
        last = read_text("mainWindow/lastLesson", "", s)
        if not (last and self.select_lesson(last)):
            self.navigator.setCurrentRow(0)

    def save_settings(self) -> None:
        s = QSettings()
        s.setValue("mainWindow/geometry", self.saveGeometry())
        s.setValue("mainWindow/state", self.saveState())
        s.setValue("mainWindow/splitter", self.splitter.saveState())
        if presentation.is_on():    # the list was hidden for the projector, not by choice
            s.setValue("mainWindow/navigatorVisible", self._navigator_before_presenting)
        else:
            s.setValue("mainWindow/navigatorVisible", self.navigator.isVisible()
                       if self.isVisible() else self.toggle_nav_action.isChecked())
        lesson = self.current_lesson()
        s.setValue("mainWindow/lastLesson", lesson.title if lesson is not None else "")
        s.sync()

    def shutdown_lessons(self) -> None:
        """Deactivate the current lesson, shut every built lesson down, wait for workers,
        all within `SHUTDOWN_BUDGET_S` together."""
        if self._shut_down:
            return
        self._shut_down = True
        with shutdown_deadline(SHUTDOWN_BUDGET_S):
            # ask everything to stop first, so the threads wind down side by side
            for lesson in self.constructed_lessons():
                for session in lesson.training_sessions():
                    self._call(lambda s=session: s.stop(why="when the window closed"))
            for worker in running_workers():
                worker.cancel()
            if self.engine_warmup is not None:
                self._call(self.engine_warmup.stop)
            current = self.current_lesson()
            if current is not None:
                self._call(current.deactivate)
            for lesson in self.constructed_lessons():
                self._call(lesson.shutdown)
            stop_all_workers(SHUTDOWN_TIMEOUT_MS)
        self._left_running = running_workers()

    def threads_left_running(self) -> list:
        """Workers still running after the window shut down (inside uninterruptible work)."""
        return [w for w in self._left_running if w.is_running()]

    # --- unsaved work -------------------------------------------------------------------
    def unsaved_models(self) -> list[tuple[object, str]]:
        """(owner, description) of every model taught or trained and not saved; the owner
        is a lesson, or this window for a model it holds without a file."""
        found = []
        if self.model is not None and self.model_path is None:
            found.append((self, "the open model (never saved to a file)"))
        elif self.model is not None and self.model_changed:
            found.append((self, f"the open model {os.path.basename(self.model_path)} "
                                "(changed in the model window, not saved)"))
        for lesson in self.constructed_lessons():
            try:
                found += [(lesson, text) for text in lesson.unsaved_models()]
            except Exception:  # noqa: BLE001 - a lesson's bug must not block quitting
                traceback.print_exc()
        return found

    def ask_about_unsaved(self, descriptions: list[str]) -> str:
        """"save", "discard" or "cancel": what to do with unsaved models before closing."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved models",
                          "Quit without saving what you taught or trained?", parent=self)
        box.setInformativeText("Not saved yet:\n• " + "\n• ".join(descriptions))
        save = box.addButton("Save…", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("Quit without saving", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(save)
        box.exec()
        clicked = box.clickedButton()
        if self._discard_unsaved or clicked is discard:
            return "discard"
        return "save" if clicked is save else "cancel"

    def _may_close(self) -> bool:
        """Ask before unsaved models are lost; True when the window may close."""
        if self._asking:
            return False        # already asking (a second close while a dialog is open)
        unsaved = self.unsaved_models()
        if not unsaved or self._discard_unsaved:
            return True
        self._asking = True
        try:
            answer = self.ask_about_unsaved([text for _, text in unsaved])
            if answer != "save":
                return answer == "discard"
            for owner in dict.fromkeys(owner for owner, _ in unsaved):
                saved = (self.save_model_as() if owner is self
                         else owner.save_unsaved_models())
                if self._discard_unsaved:
                    return True     # Ctrl+C again during a save dialog
                if not saved:       # the learner cancelled a save dialog: stay open
                    return False
            return True
        finally:
            self._asking = False

    def interrupt(self) -> None:
        """Ctrl+C in the launching terminal: close as the window's close button would; a
        second Ctrl+C while the window asks about unsaved models quits without saving."""
        if self._asking:
            self._discard_unsaved = True
            print("Backprop Lab: quitting without saving.", file=sys.stderr, flush=True)
            dialog = QApplication.activeModalWidget()
            if dialog is not None:
                dialog.reject()       # closeEvent goes on once the dialog has returned
            return
        print("Backprop Lab: closing (Ctrl+C).", file=sys.stderr, flush=True)
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._shut_down and not self._may_close():
            event.ignore()
            return
        self.save_settings()
        self.shutdown_lessons()
        if self._inspector is not None:
            self._inspector.close()
        event.accept()
