"""Work a lesson starts as it opens runs after its first paint (gui/widgets/after_paint.py)."""
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QLabel

from gui.widgets.after_paint import FALLBACK_MS, after_first_paint


class _Paints(QObject):
    def __init__(self, log):
        super().__init__()
        self.log = log

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            self.log.append("paint")
        return False


def test_the_work_runs_once_after_the_widget_is_first_painted(qtbot):
    log = []
    w = QLabel("a lesson")
    qtbot.addWidget(w)
    paints = _Paints(log)
    w.installEventFilter(paints)
    after_first_paint(w, lambda: log.append("work"))
    assert log == []                       # nothing at once: the lesson is built first
    w.show()
    qtbot.waitUntil(lambda: "work" in log, timeout=2000)
    assert log[0] == "paint"               # on screen before the work began
    w.update()
    qtbot.wait(FALLBACK_MS + 100)
    assert log.count("work") == 1          # once, not on every paint nor again at the fallback


def test_a_widget_never_shown_still_gets_its_work(qtbot):
    log = []
    w = QLabel("built, never shown")
    qtbot.addWidget(w)
    after_first_paint(w, lambda: log.append("work"))
    qtbot.waitUntil(lambda: log == ["work"], timeout=FALLBACK_MS + 2000)


def test_a_lesson_closed_before_its_first_paint_starts_no_worker(qtbot):
    """Churn, YOLO and the optimizer paths start their loading workers after their first
    paint: closed before it, they must start none (a thread left running at exit aborts)."""
    from gui.lessons.churn import ChurnLesson
    from gui.lessons.optimizer_paths import OptimizerPathsLesson
    from gui.lessons.yolo import YoloLesson

    lessons = [cls() for cls in (ChurnLesson, OptimizerPathsLesson, YoloLesson)]
    for les in lessons:
        qtbot.addWidget(les)
        les.activate()
        les.shutdown()
    qtbot.wait(FALLBACK_MS + 200)
    for les in lessons:
        assert les.running_workers() == [], type(les).__name__
