"""The course map (issue 15 item 16): the navigator groups lessons under the course's
tutorials, each lesson's header names the tutorial it follows, presentation mode enlarges
text without clipping controls."""
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from core.teaching.course_map import BEYOND, course_map, tutorial_caption
from gui import presentation
from gui.lessons import COURSE, lesson_classes
from gui.lessons.base import Lesson
from gui.main_window import MainWindow


def _lessons():
    class Late(Lesson):
        title = "Late"
        course_tutorials = (14,)

    class Early(Lesson):
        title = "Early"
        course_tutorials = (3,)

    class Both(Lesson):
        title = "Both"
        course_tutorials = (18, 21)

    class Extra(Lesson):
        title = "Extra"            # no tutorial: beyond the course

    return [Late, Extra, Both, Early]


def test_course_map_orders_tutorials_and_puts_the_rest_beyond():
    chapters = course_map(_lessons())
    assert [(c.heading, [cls.title for cls in c.lessons]) for c in chapters] == [
        ("T3 · What is a neuron?", ["Early"]),
        ("T14 · Batch, stochastic and mini-batch gradient descent", ["Late"]),
        ("T18 · Customer churn prediction with an ANN", ["Both"]),
        (BEYOND, ["Extra"])]
    assert tutorial_caption((14,)) == "Follows tutorial 14"
    assert tutorial_caption((18, 21)) == "Follows tutorials 18 and 21"


def test_the_navigator_shows_headings_and_skips_them(qtbot):
    win = MainWindow(lessons=_lessons())
    qtbot.addWidget(win)
    win.show()
    nav = win.navigator
    assert [nav.item(i).text() for i in range(nav.count())] == [
        "Welcome", "T3 · What is a neuron?", "1. Early",
        "T14 · Batch, stochastic and mini-batch gradient descent", "2. Late",
        "T18 · Customer churn prediction with an ANN", "3. Both", BEYOND, "4. Extra"]
    heading = nav.item(1)
    assert not heading.flags() & Qt.ItemFlag.ItemIsSelectable
    nav.setCurrentRow(1)                       # a heading stands for its first lesson
    assert win.current_lesson().title == "Early"
    assert nav.currentRow() == 2
    nav.setFocus()
    qtbot.keyClick(nav, Qt.Key.Key_Down)       # ↓ passes over the next heading
    assert win.current_lesson().title == "Late"
    assert win.current_lesson().tutorial_label.text() == "Follows tutorial 14"
    assert win.select_lesson("Extra")
    assert win.current_lesson().tutorial_label.text() == BEYOND
    win.close()


def test_every_course_lesson_names_its_tutorial():
    classes = lesson_classes()
    assert len(classes) == len(COURSE)
    for cls in classes:
        assert "course_tutorials" in vars(cls), f"{cls.__name__} names no tutorial"
    follows = {cls.title: cls.course_tutorials for cls in classes}
    assert follows["Neuron"] == (3,)
    assert follows["Batch vs stochastic vs mini-batch"] == (14,)
    assert follows["Chain rule"] == (15,)
    assert follows["CIFAR-10"] == (24,)


@pytest.fixture
def presenting(qtbot):
    yield
    presentation.set_presentation(False, QApplication.topLevelWidgets())


def test_presentation_mode_scales_text_and_is_remembered(qtbot, presenting):
    win = MainWindow(lessons=_lessons())
    qtbot.addWidget(win)
    win.show()
    win.select_lesson("Early")
    lesson = win.current_lesson()
    normal_app = QApplication.font().pointSizeF()
    normal_title = lesson.title_label.font().pointSizeF()
    assert [k.toString() for k in win.presentation_action.shortcuts()] == ["F5",
                                                                           "Ctrl+Shift+P"]
    win.presentation_action.trigger()
    assert QApplication.font().pointSizeF() == pytest.approx(normal_app * presentation.SCALE)
    assert lesson.title_label.font().pointSizeF() == pytest.approx(
        normal_title * presentation.SCALE)
    win.close()
    again = MainWindow(lessons=_lessons())
    qtbot.addWidget(again)
    assert again.presentation_action.isChecked()
    again.presentation_action.trigger()          # and back: nothing compounds
    assert QApplication.font().pointSizeF() == pytest.approx(normal_app)
    again.close()


def test_presentation_mode_thickens_plot_lines_drawn_later(qtbot, presenting):
    import pyqtgraph as pg

    class Plotting(Lesson):
        title = "Plotting"
        course_tutorials = (12,)

        def __init__(self, parent=None):
            super().__init__(parent)
            self.plot = self.set_visual(pg.PlotWidget())

    win = MainWindow(lessons=[Plotting])
    qtbot.addWidget(win)
    win.show()
    win.select_lesson("Plotting")
    win.presentation_action.trigger()
    curve = win.current_lesson().plot.plot([0, 1, 2], [1, 0, 1], pen=pg.mkPen("k", width=2))
    qtbot.waitUntil(lambda: curve.opts["pen"].widthF() == pytest.approx(
        2 * presentation.SCALE), timeout=3000)
    win.presentation_action.trigger()
    assert curve.opts["pen"].widthF() == pytest.approx(2)
    win.close()


def test_presentation_mode_widens_an_axis_fixed_for_the_normal_text(qtbot, presenting):
    # the playground's loss plot fixes its tick column at 34 px: at the larger text
    # pyqtgraph hid every tick label, leaving an axis without numbers
    import pyqtgraph as pg

    class Plotting(Lesson):
        title = "Fixed axis"
        course_tutorials = (12,)

        def __init__(self, parent=None):
            super().__init__(parent)
            self.plot = self.set_visual(pg.PlotWidget())
            self.plot.getPlotItem().getAxis("left").setWidth(34)
            self.plot.plot([0, 1], [0.76, 0.84])

    win = MainWindow(lessons=[Plotting])
    qtbot.addWidget(win)
    win.show()
    win.select_lesson("Fixed axis")
    axis = win.current_lesson().plot.getPlotItem().getAxis("left")
    win.presentation_action.trigger()
    assert axis.fixedWidth == round(34 * presentation.SCALE)
    win.presentation_action.trigger()            # and back to the width it was given
    assert axis.fixedWidth == 34
    win.close()
