"""The lesson frame and the playback bar, as a learner and a lesson author use them."""
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractButton, QAbstractSlider, QLabel, QMainWindow,
                               QScrollBar, QSlider, QSpinBox, QStackedWidget)

from gui.lessons.base import Lesson
from gui.widgets.playback import SPEEDS, PlaybackBar


class TextLesson(Lesson):
    title = "Frame test"
    subtitle = "What you will see: a frame."
    help_name = "welcome"


class NoTextLesson(Lesson):
    title = "No text"
    subtitle = "A lesson whose explanation is not written yet."
    help_name = "no_such_lesson_text"


class PlayLesson(Lesson):
    title = "Playing"
    subtitle = "Has the playback bar."

    def __init__(self, parent=None):
        super().__init__(parent)
        self.add_playback()
        self.rate = self.add_control(QSlider(Qt.Orientation.Horizontal), label="Learning rate",
                                     tooltip="Step size of gradient descent")


def _shown_in_window(qtbot, widget):
    """Host `widget` in an active main window, as the app does (shortcuts need one)."""
    win = QMainWindow()
    win.setCentralWidget(widget)
    qtbot.addWidget(win)
    with qtbot.waitActive(win):
        win.show()
        win.activateWindow()
    return win


def test_frame_shows_title_subtitle_and_explanation_from_resources(qtbot):
    lesson = TextLesson()
    qtbot.addWidget(lesson)
    assert lesson.title_label.text() == "Frame test"
    assert lesson.subtitle_label.text() == "What you will see: a frame."
    assert lesson.title_label.font().pointSizeF() > lesson.subtitle_label.font().pointSizeF()
    # the markdown of resources/lessons/welcome.md is rendered, not shown raw
    text = lesson.explanation.toPlainText()
    assert "watch a neural network work" in text
    assert "**" not in text


def test_missing_explanation_says_so_instead_of_an_empty_box(qtbot):
    lesson = NoTextLesson()
    qtbot.addWidget(lesson)
    assert "no explanation" in lesson.explanation.toPlainText().lower()


def test_explanation_collapses_and_the_choice_is_remembered(qtbot):
    first = TextLesson()
    qtbot.addWidget(first)
    first.show()
    assert first.explanation_section.is_expanded()
    qtbot.mouseClick(first.explanation_section.header, Qt.MouseButton.LeftButton)
    assert not first.explanation_section.is_expanded()
    assert not first.explanation.isVisible()
    again = TextLesson()
    qtbot.addWidget(again)
    assert not again.explanation_section.is_expanded()
    # another lesson keeps its own state
    other = NoTextLesson()
    qtbot.addWidget(other)
    assert other.explanation_section.is_expanded()
    # F1 (show_help) brings the explanation back
    again.show_help()
    assert again.explanation_section.is_expanded()


def test_visual_area_and_controls_bar(qtbot):
    lesson = TextLesson()
    qtbot.addWidget(lesson)
    lesson.show()
    assert not lesson.controls_bar.isVisible()       # no empty bar for a lesson without controls
    first, second = QLabel("one"), QLabel("two")
    lesson.set_visual(first)
    lesson.set_visual(second)
    assert lesson.visual_layout.count() == 1
    assert lesson.visual_layout.itemAt(0).widget() is second
    spin = lesson.add_control(QSpinBox(), label="Seed", tooltip="Random seed of the weights")
    assert lesson.controls_bar.isVisible()
    assert spin.toolTip() == "Random seed of the weights"
    assert spin.accessibleName() == "Seed"
    captions = [w.text() for w in lesson.controls_bar.findChildren(QLabel)]
    assert "Seed" in captions


def test_playback_bar_is_first_in_controls_and_created_once(qtbot):
    lesson = PlayLesson()
    qtbot.addWidget(lesson)
    assert isinstance(lesson.playback, PlaybackBar)
    assert lesson.add_playback() is lesson.playback
    assert lesson.controls.itemAt(0).widget() is lesson.playback


class OnlyPlayLesson(Lesson):
    title = "Only playing"
    subtitle = "Nothing in the bar but the playback buttons."

    def __init__(self, parent=None):
        super().__init__(parent)
        self.add_playback()


def _gap(caption: QLabel, control) -> int:
    """Pixels from the end of a caption's text to its control (a caption widened by spare
    room still ends its text early: measure the text, not the label)."""
    text_end = caption.mapTo(caption.window(), caption.contentsRect().topLeft()).x() + \
        caption.fontMetrics().horizontalAdvance(caption.text())
    return control.mapTo(control.window(), control.rect().topLeft()).x() - text_end


@pytest.mark.parametrize("cls", [PlayLesson, OnlyPlayLesson])
def test_a_wide_bar_keeps_captions_beside_their_controls_and_the_buttons_left(qtbot, cls):
    # a bar with room to spare once spread it between "Speed" and its slider, centred a lone
    # playback bar and ended it with a separator that separated nothing
    lesson = cls()
    qtbot.addWidget(lesson)
    lesson.resize(1400, 700)
    lesson.show()
    qtbot.waitExposed(lesson)
    pb = lesson.playback
    speed = next(w for w in pb.findChildren(QLabel) if w.text() == "Speed")
    assert 0 <= _gap(speed, pb.speed_slider) <= 16
    assert pb.x() <= lesson.controls_bar.contentsRect().left() + 12
    line = lesson.controls.itemAt(1).widget()
    assert line.isVisible() == (cls is PlayLesson)
    if cls is PlayLesson:
        caption = next(w for w in lesson.controls_bar.findChildren(QLabel)
                       if w.text() == "Learning rate")
        assert 0 <= _gap(caption, lesson.rate) <= 16


def test_every_interactive_control_has_tooltip_and_accessible_name(qtbot):
    lesson = PlayLesson()
    qtbot.addWidget(lesson)
    controls = lesson.findChildren(QAbstractButton) + [
        s for s in lesson.findChildren(QAbstractSlider) if not isinstance(s, QScrollBar)]
    assert len(controls) >= 6
    for w in controls:
        assert w.toolTip(), f"{type(w).__name__} {w.text() if hasattr(w, 'text') else ''}"
        assert w.accessibleName(), type(w).__name__


def test_playback_buttons_emit_their_signals(qtbot):
    bar = PlaybackBar()
    qtbot.addWidget(bar)
    with qtbot.waitSignal(bar.play_toggled) as blocker:
        qtbot.mouseClick(bar.play_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [True]
    assert bar.is_playing() and bar.play_button.text() == "Pause"
    # stepping while playing pauses first: a step is a manual move
    with qtbot.waitSignals([bar.play_toggled, bar.step_forward], order="strict"):
        qtbot.mouseClick(bar.forward_button, Qt.MouseButton.LeftButton)
    assert not bar.is_playing() and bar.play_button.text() == "Play"
    with qtbot.waitSignal(bar.step_back):
        qtbot.mouseClick(bar.back_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(bar.reset):
        qtbot.mouseClick(bar.reset_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(bar.speed_changed) as blocker:
        bar.speed_slider.setValue(SPEEDS.index(2.0))
    assert blocker.args == [2.0]
    assert bar.speed_label.text() == "2×"


def test_playback_without_step_back_hides_back(qtbot):
    bar = PlaybackBar(step_back_enabled=False)
    qtbot.addWidget(bar)
    bar.show()
    assert not bar.back_button.isVisible()
    with qtbot.assertNotEmitted(bar.step_back):
        bar.trigger_step_back()


@pytest.mark.parametrize("key, signal, args", [
    (Qt.Key.Key_Space, "play_toggled", [True]),
    (Qt.Key.Key_Right, "step_forward", []),
    (Qt.Key.Key_Left, "step_back", []),
    (Qt.Key.Key_R, "reset", []),
])
def test_playback_keys_work_while_the_lesson_is_shown(qtbot, key, signal, args):
    lesson = PlayLesson()
    win = _shown_in_window(qtbot, lesson)  # noqa: F841 - keeps the window alive
    with qtbot.waitSignal(getattr(lesson.playback, signal)) as blocker:
        qtbot.keyClick(lesson, key)
    assert blocker.args == args


def test_playback_keys_only_reach_the_lesson_on_screen(qtbot):
    stack = QStackedWidget()
    shown, hidden = PlayLesson(), PlayLesson()
    stack.addWidget(shown)
    stack.addWidget(hidden)
    win = _shown_in_window(qtbot, stack)  # noqa: F841 - keeps the window alive
    assert stack.currentWidget() is shown
    with qtbot.assertNotEmitted(hidden.playback.step_forward):
        with qtbot.waitSignal(shown.playback.step_forward):
            qtbot.keyClick(shown, Qt.Key.Key_Right)


def test_a_focused_slider_keeps_its_arrow_keys(qtbot):
    lesson = PlayLesson()
    win = _shown_in_window(qtbot, lesson)  # noqa: F841 - keeps the window alive
    lesson.rate.setRange(0, 10)
    lesson.rate.setValue(5)
    lesson.rate.setFocus()
    qtbot.waitUntil(lesson.rate.hasFocus)
    with qtbot.assertNotEmitted(lesson.playback.step_forward):
        qtbot.keyClick(lesson.rate, Qt.Key.Key_Right)
    assert lesson.rate.value() == 6
    # Space still plays: the slider has no use for it
    with qtbot.waitSignal(lesson.playback.play_toggled):
        qtbot.keyClick(lesson.rate, Qt.Key.Key_Space)


def test_default_lifecycle_hooks_are_harmless(qtbot):
    lesson = TextLesson()
    qtbot.addWidget(lesson)
    lesson.activate()
    lesson.deactivate()
    lesson.shutdown()
    assert lesson.running_workers() == []


def test_status_message_signal(qtbot):
    lesson = TextLesson()
    qtbot.addWidget(lesson)
    with qtbot.waitSignal(lesson.status_message) as blocker:
        lesson.show_status("Epoch 3: loss 0.1235", 2000)
    assert blocker.args == ["Epoch 3: loss 0.1235", 2000]
    assert lesson.hint() == TextLesson.subtitle


def test_lesson_worker_is_stopped_by_shutdown(qtbot):
    from gui.app import current_worker

    lesson = TextLesson()
    qtbot.addWidget(lesson)
    seen = []

    def job():
        w = current_worker()
        w.report("started", force=True)
        w.wait_for_cancel()
        return "stopped cleanly"

    worker = lesson.start_worker(job, on_progress=seen.append, on_finished=seen.append)
    qtbot.waitUntil(lambda: seen == ["started"])
    assert lesson.running_workers() == [worker]
    lesson.shutdown()
    assert not worker.is_running()
    assert seen == ["started", "stopped cleanly"]
    assert lesson.running_workers() == []


class FoldedLesson(Lesson):
    title = "Folded"
    subtitle = "A visual-heavy lesson."
    help_name = "welcome"
    explanation_collapsed_by_default = True


def test_a_visual_heavy_lesson_can_start_with_its_explanation_folded(qtbot):
    lesson = FoldedLesson()
    qtbot.addWidget(lesson)
    lesson.show()
    assert not lesson.explanation_section.is_expanded()
    assert not lesson.explanation.isVisible()
    # the learner opens it; that choice wins the next time
    qtbot.mouseClick(lesson.explanation_section.header, Qt.MouseButton.LeftButton)
    again = FoldedLesson()
    qtbot.addWidget(again)
    assert again.explanation_section.is_expanded()
    # lessons that do not opt in still start open
    plain = PlayLesson()
    qtbot.addWidget(plain)
    assert plain.explanation_section.is_expanded()


@pytest.mark.parametrize("styled", [False, True])
def test_explanation_box_ends_with_the_text_not_blank_lines(qtbot, styled):
    lesson = TextLesson()
    if styled:   # the app's style sheet pads the box
        lesson.explanation.setStyleSheet("QTextBrowser { border: 1px solid #ccc; "
                                         "padding: 4px 8px; }")
    qtbot.addWidget(lesson)
    lesson.resize(1040, 700)
    lesson.show()
    qtbot.waitExposed(lesson)
    box = lesson.explanation
    line = box.fontMetrics().lineSpacing()
    lesson.set_explanation(" ".join(["A **neuron** adds its weighted inputs."] * 15))
    doc_h = box.document().size().height()
    assert 3 * line < doc_h < 9 * line   # several lines, no scrolling needed
    assert 0 <= box.viewport().height() - doc_h < line / 2
    assert box.verticalScrollBar().maximum() == 0
    # a long text scrolls instead of pushing the visual away
    lesson.set_explanation("\n\n".join(["A paragraph."] * 30))
    assert box.height() < 12 * line
    assert box.verticalScrollBar().maximum() > 0
