"""The application window: navigation, lazy lessons, model files, settings, shutdown."""
import sys

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QListWidget, QMessageBox, QSpinBox, QTreeWidget

from gui.app import current_worker, report_unexpected_errors
from gui.lessons.base import Lesson
from gui.main_window import MainWindow
from gui.welcome import WelcomePage


@pytest.fixture(autouse=True)
def quit_without_asking(monkeypatch):
    """Windows here that hold an unsaved model close without the (modal) question; the
    question itself is tested in test_window_close.py."""
    monkeypatch.setattr(MainWindow, "ask_about_unsaved", lambda self, texts: "discard")


def _make_lessons():
    """Fresh dummy lesson classes that record what the window does to them."""
    log = []

    class Recording(Lesson):
        subtitle = "A dummy lesson for the window tests."

        def __init__(self, parent=None):
            super().__init__(parent)
            log.append(("init", self.title))
            self.spin = self.add_control(QSpinBox(), label="Seed", tooltip="seed")

        def activate(self):
            log.append(("activate", self.title))

        def deactivate(self):
            log.append(("deactivate", self.title))

        def shutdown(self):
            log.append(("shutdown", self.title))
            super().shutdown()

    class Alpha(Recording):
        title = "Alpha"

    class Beta(Recording):
        title = "Beta"

    class Gamma(Recording):
        title = "Gamma"

    return [Alpha, Beta, Gamma], log


def _window(qtbot, lessons=None):
    win = MainWindow(lessons=lessons)
    qtbot.addWidget(win)
    win.show()
    return win


def _navigator(win):
    # the same rule ../shared/tools/shoot-lessons uses to find the navigator
    return next(v for v in win.findChildren(QListWidget) + win.findChildren(QTreeWidget)
                if v.isVisible())


def test_opens_on_the_welcome_page(qtbot):
    win = _window(qtbot)
    nav = _navigator(win)
    assert nav.item(0).text() == "Welcome"
    assert nav.currentRow() == 0
    assert isinstance(win.stack.currentWidget(), WelcomePage)
    text = win.welcome.text.toPlainText()
    for word in ("Space", "play / pause", "reset", "Hover over any number"):
        assert word in text
    assert win.welcome.weight_legend.tick_labels() == ["-1", "-0.5", "0", "0.5", "1"]


def test_default_size_fits_a_1280x800_screen(qtbot):
    win = _window(qtbot)
    assert win.width() <= 1280 and win.height() <= 800
    hint = win.minimumSizeHint()
    assert hint.width() <= 1280 and hint.height() <= 800


def test_navigator_lists_registered_lessons_and_builds_them_lazily(qtbot):
    lessons, log = _make_lessons()
    win = _window(qtbot, lessons)
    nav = _navigator(win)
    assert [nav.item(i).text() for i in range(nav.count())] == [
        "Welcome", "1. Alpha", "2. Beta", "3. Gamma"]
    assert log == []                                  # nothing built before it is asked for
    nav.setCurrentRow(1)
    alpha = win.stack.currentWidget()
    assert isinstance(alpha, lessons[0]) and win.current_lesson() is alpha
    alpha.spin.setValue(7)
    nav.setCurrentRow(2)
    assert isinstance(win.stack.currentWidget(), lessons[1])
    nav.setCurrentRow(1)
    assert win.stack.currentWidget() is alpha         # same object: its state survived
    assert alpha.spin.value() == 7
    assert log == [("init", "Alpha"), ("activate", "Alpha"), ("deactivate", "Alpha"),
                   ("init", "Beta"), ("activate", "Beta"), ("deactivate", "Beta"),
                   ("activate", "Alpha")]
    assert "Alpha" in win.windowTitle()
    assert win.statusBar().currentMessage() == lessons[0].subtitle
    nav.setCurrentRow(0)
    assert isinstance(win.stack.currentWidget(), WelcomePage)


def test_welcome_start_button_opens_the_first_lesson(qtbot):
    lessons, _ = _make_lessons()
    win = _window(qtbot, lessons)
    assert "Alpha" in win.welcome.start_button.text()
    qtbot.mouseClick(win.welcome.start_button, Qt.MouseButton.LeftButton)
    assert isinstance(win.current_lesson(), lessons[0])


def test_a_lesson_that_fails_to_build_does_not_take_the_app_down(qtbot, capsys):
    lessons, _ = _make_lessons()

    class Broken(Lesson):
        title = "Broken"

        def __init__(self, parent=None):
            super().__init__(parent)
            raise RuntimeError("kaput")

    win = _window(qtbot, [Broken] + lessons)
    win.navigator.setCurrentRow(1)
    assert win.current_lesson() is None
    assert "kaput" in capsys.readouterr().out
    win.navigator.setCurrentRow(2)
    assert isinstance(win.current_lesson(), lessons[0])


def test_an_unexpected_error_in_a_click_is_said_in_the_status_bar(qtbot, monkeypatch):

    printed = []
    monkeypatch.setattr("sys.excepthook", lambda *exc: printed.append(exc))
    win = _window(qtbot, _make_lessons()[0])
    report_unexpected_errors(win)
    try:
        raise ValueError("no such unit")
    except ValueError:
        sys.excepthook(*sys.exc_info())        # what Qt does with an error a slot raised
    assert printed and printed[0][0] is ValueError   # still printed, with its traceback
    message = win.statusBar().currentMessage()
    assert "Something went wrong: ValueError: no such unit" in message
    assert "terminal" in message


def test_lesson_status_messages_reach_the_status_bar(qtbot):
    lessons, _ = _make_lessons()
    win = _window(qtbot, lessons)
    win.navigator.setCurrentRow(1)
    win.current_lesson().show_status("Epoch 2 of 5")
    assert win.statusBar().currentMessage() == "Epoch 2 of 5"


def test_f1_opens_the_current_lessons_explanation(qtbot):
    lessons, _ = _make_lessons()
    win = _window(qtbot, lessons)
    win.navigator.setCurrentRow(1)
    lesson = win.current_lesson()
    lesson.explanation_section.set_expanded(False)
    win.help_action.trigger()
    assert lesson.explanation_section.is_expanded()


def test_navigator_can_be_hidden_from_the_view_menu(qtbot):
    win = _window(qtbot)
    win.toggle_nav_action.trigger()
    assert not win.navigator.isVisible()
    win.toggle_nav_action.trigger()
    assert win.navigator.isVisible()


def test_menus_and_shortcuts(qtbot):
    win = _window(qtbot)
    titles = [a.text().replace("&", "") for a in win.menuBar().actions()]
    assert titles == ["File", "View", "Help"]
    assert win.open_action.shortcut().toString() == "Ctrl+O"
    assert win.save_action.shortcut().toString() == "Ctrl+S"
    assert win.quit_action.shortcut().toString() == "Ctrl+Q"
    assert win.help_action.shortcut().toString() == "F1"
    assert not win.save_action.isEnabled()            # nothing to save yet
    box = win.show_shortcuts()
    assert "Space" in box.text() and "Ctrl+O" in box.text()
    box.close()


# --- model files -----------------------------------------------------------------------

@pytest.fixture
def warnings_shown(monkeypatch):
    shown = []

    def record(parent, title, text, *args, **kwargs):
        shown.append((title, text))
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "warning", staticmethod(record))
    return shown


def _choose_file(monkeypatch, which, path):
    monkeypatch.setattr(QFileDialog, which,
                        staticmethod(lambda *a, **k: (str(path), "Backprop Lab models (*.npz)")))


def test_opening_a_garbage_file_warns_and_the_window_keeps_working(
        qtbot, tmp_path, monkeypatch, warnings_shown):
    pytest.importorskip("core.io")
    bad = tmp_path / "not_a_model.npz"
    bad.write_bytes(b"this is not a model at all\x00\xff")
    _choose_file(monkeypatch, "getOpenFileName", bad)
    lessons, _ = _make_lessons()
    win = _window(qtbot, lessons)
    win.open_action.trigger()
    assert len(warnings_shown) == 1
    title, text = warnings_shown[0]
    assert "not_a_model.npz" in text
    assert win.model is None and not win.save_action.isEnabled()
    # still usable afterwards
    win.navigator.setCurrentRow(1)
    assert isinstance(win.current_lesson(), lessons[0])


@pytest.mark.parametrize("header", [
    b'{"format": "backprop-lab-model", "version": 1, "model": ' + b"[" * 100_000
    + b"]" * 100_000 + b"}",
    b'{"format": "backprop-lab-model", "version": 1, "model": {"input_shape": [2], '
    b'"layers": [{"class_name": ["Dense"], "config": {"units": 3}}]}}',
], ids=["deeply nested", "a list as the layer type"])
def test_a_malformed_model_file_is_explained_in_the_engines_own_sentence(
        qtbot, tmp_path, monkeypatch, warnings_shown, header):
    core_io = pytest.importorskip("core.io")
    bad = tmp_path / "odd.npz"
    np.savez(bad, header=np.frombuffer(header, np.uint8))
    with pytest.raises(ValueError) as expected:
        core_io.load_model(bad)
    _choose_file(monkeypatch, "getOpenFileName", bad)
    win = _window(qtbot, _make_lessons()[0])
    win.open_action.trigger()
    assert len(warnings_shown) == 1
    text = warnings_shown[0][1]
    assert text == str(expected.value) and text.startswith("odd.npz")
    assert "Error" not in text and "Traceback" not in text
    assert win.model is None


def test_cancelling_the_file_dialog_does_nothing(qtbot, monkeypatch, warnings_shown):
    _choose_file(monkeypatch, "getOpenFileName", "")
    win = _window(qtbot)
    assert win.open_model() is False
    assert warnings_shown == [] and win.model is None


def _small_model():
    layers = pytest.importorskip("core.layers")
    model_mod = pytest.importorskip("core.model")
    return model_mod.Sequential([layers.Dense(4, activation="relu"),
                                 layers.Dense(3, activation="softmax")],
                                input_shape=(5,), seed=0)


def test_opening_a_saved_model_shows_its_summary_and_layers(
        qtbot, tmp_path, monkeypatch, warnings_shown):
    core_io = pytest.importorskip("core.io")
    model = _small_model()
    path = tmp_path / "tiny.npz"
    core_io.save_model(model, path)
    _choose_file(monkeypatch, "getOpenFileName", path)
    win = _window(qtbot)
    with qtbot.waitSignal(win.model_opened):
        win.open_action.trigger()
    assert warnings_shown == []
    dialog = win.inspector()
    assert dialog is not None and dialog.isVisible()
    inspector = dialog.inspector
    assert inspector.summary.toPlainText() == win.model.summary()
    table = inspector.table
    rows = [[table.item(r, c).text() for c in range(table.columnCount())]
            for r in range(table.rowCount())]
    # Dense(5→4): 5·4 + 4 = 24 parameters; Dense(4→3): 4·3 + 3 = 15
    assert [r[2:] for r in rows] == [["(batch, 4)", "24"], ["(batch, 3)", "15"]]
    assert "39 parameters" in inspector.header.text()
    assert win.save_action.isEnabled()
    assert "tiny.npz" in win.model_label.text()


def test_save_model_as_writes_a_file_that_loads_back(qtbot, tmp_path, monkeypatch, warnings_shown):
    core_io = pytest.importorskip("core.io")
    model = _small_model()
    win = _window(qtbot)
    win.set_model(model, None)
    target = tmp_path / "saved"                         # no suffix: .npz is added
    _choose_file(monkeypatch, "getSaveFileName", target)
    assert win.save_model_as()
    assert warnings_shown == []
    back = core_io.load_model(tmp_path / "saved.npz")
    for a, b in zip(model.get_weights(), back.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["cnn.keras", "cnn.h5"])
def test_file_open_reads_keras_files_and_lists_their_layers(qtbot, monkeypatch, warnings_shown,
                                                            name):
    """Files saved by real Keras (tests/fixtures/keras) open like the app's own."""
    from pathlib import Path

    path = Path(__file__).parent / "fixtures" / "keras" / name
    _choose_file(monkeypatch, "getOpenFileName", path)
    win = _window(qtbot)
    with qtbot.waitSignal(win.model_opened):
        win.open_action.trigger()
    assert warnings_shown == []
    table = win.inspector().inspector.table
    names = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert len(names) == 6 and any("conv2d" in n for n in names)
    assert name in win.model_label.text()


def test_save_as_with_the_keras_filter_writes_a_keras_file(qtbot, tmp_path, monkeypatch,
                                                          warnings_shown):
    core_io = pytest.importorskip("core.io")
    model = _small_model()
    win = _window(qtbot)
    win.set_model(model, None)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(
        lambda *a, **k: (str(tmp_path / "mine"), "Keras 3 models (*.keras)")))
    assert win.save_model_as()
    assert warnings_shown == []
    back = core_io.load_model(tmp_path / "mine.keras")
    for a, b in zip(model.get_weights(), back.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_save_errors_are_shown_not_raised(qtbot, tmp_path, monkeypatch, warnings_shown):
    pytest.importorskip("core.io")
    win = _window(qtbot)
    win.set_model(_small_model(), None)
    _choose_file(monkeypatch, "getSaveFileName", tmp_path / "no_such_dir" / "m.npz")
    assert win.save_model_as() is False
    assert len(warnings_shown) == 1


# --- settings and shutdown -------------------------------------------------------------

def test_geometry_lesson_and_navigator_are_restored_after_reopening(qtbot):
    lessons, _ = _make_lessons()
    first = _window(qtbot, lessons)
    # the offscreen screen is 800×600, and restoreGeometry keeps windows on screen
    first.resize(750, 530)
    saved = first.size()
    assert saved != first._default_size()
    default_sizes = first.splitter.sizes()
    first.splitter.setSizes([180, 570])
    saved_sizes = first.splitter.sizes()
    assert saved_sizes != default_sizes
    first.navigator.setCurrentRow(2)
    first.close()

    second = _window(qtbot, lessons)
    assert second.size() == saved
    assert isinstance(second.current_lesson(), lessons[1])
    assert second.splitter.sizes() == saved_sizes

    second.toggle_nav_action.trigger()
    second.close()
    third = _window(qtbot, lessons)
    assert not third.navigator.isVisible()


def test_closing_shuts_down_every_built_lesson_and_waits_for_workers(qtbot):
    lessons, log = _make_lessons()
    win = _window(qtbot, lessons)
    win.navigator.setCurrentRow(1)
    win.navigator.setCurrentRow(2)
    beta = win.current_lesson()
    progress = []

    def train_forever():
        w = current_worker()
        w.report("running", force=True)
        w.wait_for_cancel()
        return "stopped"

    worker = beta.start_worker(train_forever, on_progress=progress.append)
    qtbot.waitUntil(lambda: progress == ["running"])
    win.close()
    assert not worker.is_running()
    shut = [entry for entry in log if entry[0] in ("shutdown", "deactivate")][-3:]
    assert shut == [("deactivate", "Beta"), ("shutdown", "Alpha"), ("shutdown", "Beta")]
    assert ("init", "Gamma") not in log               # never built, never shut down


def test_main_entry_point_opens_the_window(qtbot, monkeypatch):
    from PySide6.QtWidgets import QApplication

    import main

    import signal

    monkeypatch.setattr(QApplication, "exec", lambda *args: 0)   # return instead of looping
    sigint = signal.getsignal(signal.SIGINT)
    monkeypatch.setattr(signal, "signal", lambda *args: sigint)  # pytest keeps its Ctrl+C
    before = set(QApplication.topLevelWidgets())
    assert main.main([]) == 0
    opened = [w for w in QApplication.topLevelWidgets()
              if isinstance(w, MainWindow) and w not in before]
    assert len(opened) == 1 and opened[0].isVisible()
    assert QApplication.applicationName() == "Backprop Lab"
    opened[0].close()


def test_an_opened_digit_model_reaches_draw_a_digit(qtbot, tmp_path, monkeypatch, warnings_shown):
    from core import keras
    from gui.lessons.draw_digit import YOURS, DrawDigitLesson

    mine = keras.Sequential([keras.layers.Flatten(input_shape=(28, 28, 1)),
                             keras.layers.Dense(10, activation="softmax")], seed=0)
    mine.save(tmp_path / "mine.keras")
    _choose_file(monkeypatch, "getOpenFileName", tmp_path / "mine.keras")
    win = _window(qtbot)
    with qtbot.waitSignal(win.model_opened):
        win.open_action.trigger()
    page = win._page_for_row(win.row_of(DrawDigitLesson))  # built after the model was opened
    assert YOURS in page.models and "mine.keras" in page.labels[YOURS]
    assert warnings_shown == []


def test_the_inspector_marks_frozen_layers(qtbot):
    from core import keras
    from gui.model_inspector import ModelInspector

    model = keras.Sequential([keras.layers.Dense(4, input_shape=(3,), trainable=False),
                              keras.layers.Dense(2)])
    inspector = ModelInspector()
    qtbot.addWidget(inspector)
    inspector.set_model(model)
    assert inspector.table.item(0, 3).text() == "16 (frozen)"
    assert inspector.table.item(1, 3).text() == "10"
    assert "Non-trainable params: 16" in inspector.summary.toPlainText()


def test_a_weight_typed_into_the_inspectors_diagram_marks_the_model_unsaved(
        qtbot, tmp_path, monkeypatch, warnings_shown):
    from PySide6.QtTest import QTest

    core_io = pytest.importorskip("core.io")
    path = tmp_path / "tiny.npz"
    core_io.save_model(_small_model(), path)
    win = _window(qtbot)
    assert win.load_model_file(str(path))
    dialog = win.inspector()
    assert "changed" not in win.model_label.text() and win.unsaved_models() == []
    dialog.inspector.tabs.setCurrentIndex(1)
    diagram = dialog.inspector.diagram_page.diagram
    assert dialog.inspector.diagram_page.is_drawn()

    diagram.edit_param(0, "kernel", (2, 1))           # as a click on that weight does
    qtbot.waitUntil(diagram.editor.is_open, timeout=2000)
    diagram.editor.lineEdit().selectAll()
    QTest.keyClicks(diagram.editor, "0.75")
    QTest.keyClick(diagram.editor, Qt.Key.Key_Return)
    assert win.model.get_weights()[0][2, 1] == np.float32(0.75)
    assert win.model_label.text().endswith("(39 parameters, changed, unsaved)")
    assert dialog.windowTitle() == "Model — tiny.npz (changed, unsaved)"
    assert "changed, not saved" in dialog.inspector.header.text()
    assert win.unsaved_models() == [
        (win, "the open model tiny.npz (changed in the model window, not saved)")]
    win.show_inspector()                              # Ctrl+I again: still says so
    assert dialog.windowTitle().endswith("(changed, unsaved)")

    # closing asks about it, as about any unsaved model
    asked = []
    monkeypatch.setattr(MainWindow, "ask_about_unsaved",
                        lambda self, texts: asked.append(texts) or "cancel")
    assert not win.close()
    assert asked == [["the open model tiny.npz (changed in the model window, not saved)"]]

    # saving it clears the mark, and the file holds the typed weight
    _choose_file(monkeypatch, "getSaveFileName", tmp_path / "edited.npz")
    assert win.save_model_as()
    assert "changed" not in win.model_label.text() and win.unsaved_models() == []
    assert dialog.windowTitle() == "Model — edited.npz"
    assert "changed" not in dialog.inspector.header.text()
    assert core_io.load_model(tmp_path / "edited.npz").get_weights()[0][2, 1] == np.float32(0.75)
