"""The lesson list on the left of the main window: Welcome, then the course map's tutorial
headings with their lessons numbered under them, each row as tall as its wrapped name.

It only lists and maps rows to lessons; the window builds and shows the lesson of a row.
"""
from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QApplication, QListWidget, QListWidgetItem

from core.teaching.course_map import course_map

NAVIGATOR_WIDTH = 210  # the lesson list's default width, pixels
# an item's text is inset by gui/style.py's 10 px padding a side and 3 px marker, and a
# vertical scroll bar may take 16 more
NAVIGATOR_ITEM_PADDING = 2 * 10 + 3 + 16


class LessonNavigator(QListWidget):
    """`LessonNavigator(lesson_classes)`: row 0 is Welcome; `lesson_index(row)` says which
    of `lesson_classes` a row shows (None for Welcome and headings)."""

    def __init__(self, lesson_classes, parent=None):
        super().__init__(parent)
        self._lesson_classes = list(lesson_classes)
        self.setObjectName("navigator")
        self.setAccessibleName("Lessons")
        self.setToolTip("Choose a lesson (↑ / ↓ move through the list)")
        self.setMinimumWidth(170)
        # A name too long for the default width wraps onto a second line of its row rather
        # than being cut off ("5. Batch vs stochastic vs mi…" hid which lesson it was);
        # widening the list is no cure, as wide lessons squeeze it back.
        self.setWordWrap(True)
        self._row_lesson: dict[int, int] = {}   # row → index in lesson_classes
        self._room: int | None = None           # the text width the rows were fitted to
        self.fill()

    # --- rows and lessons ------------------------------------------------------------------
    def lesson_index(self, row: int) -> int | None:
        """Index in lesson_classes of the lesson on `row`; None for Welcome or a heading."""
        return self._row_lesson.get(row)

    def first_lesson_row(self, start: int = 0) -> int:
        """The first lesson's row at or after `start` (headings are skipped); -1 if none."""
        rows = [r for r in sorted(self._row_lesson) if r >= start]
        return rows[0] if rows else -1

    def row_of(self, title_or_class) -> int:
        """The row of a lesson (by title or class); -1 if it is not listed."""
        for row, k in self._row_lesson.items():
            cls = self._lesson_classes[k]
            if cls is title_or_class or cls.title == title_or_class:
                return row
        return -1

    # --- filling -----------------------------------------------------------------------------
    def fill(self) -> None:
        """Welcome, then the course map: each tutorial's heading (not selectable) with its
        lessons under it, numbered in that order. Without any tutorial named, a plain list."""
        self.clear()
        self._row_lesson.clear()
        # the application's font, not self.font(): a font change reaches widgets by a posted
        # event, after this runs in presentation mode's switch
        nav_font = QApplication.font(self)

        def add(text, tip, heading=False):
            item = QListWidgetItem(text)
            item.setToolTip(tip)
            if heading:
                font = QFont(nav_font)
                font.setWeight(QFont.Weight.Bold)
                item.setFont(font)
                # a heading is a label: ↑ / ↓ and clicks pass over it
                item.setFlags(Qt.ItemFlag.NoItemFlags)
                item.setData(Qt.ItemDataRole.AccessibleTextRole, f"Course tutorial: {text}")
            else:
                item.setFont(nav_font)
            self.addItem(item)

        add("Welcome", "What Backprop Lab is and how to use it")
        index = {cls: k for k, cls in enumerate(self._lesson_classes)}
        chapters = course_map(self._lesson_classes)
        show_headings = any(ch.tutorial is not None for ch in chapters)
        number = 0
        for chapter in chapters:
            if show_headings:
                add(chapter.heading, "Lessons that follow this tutorial of the course"
                    if chapter.tutorial is not None else
                    "Lessons that go beyond the course's tutorials", heading=True)
            for cls in chapter.lessons:
                number += 1
                self._row_lesson[self.count()] = index[cls]
                add(f"{number}. {cls.title}", cls.subtitle or cls.title)
        self.fit_rows(force=True)

    def fill_keeping_row(self, row: int) -> None:
        """Fill again and show `row` without signalling a change (row heights follow the
        font, so presentation mode rebuilds the list)."""
        self.blockSignals(True)
        self.fill()
        self.setCurrentRow(row)
        self.blockSignals(False)

    def fit_rows(self, force: bool = False) -> None:
        """Each row as tall as its text wrapped at the list's width now: a wide lesson
        squeezes the list (down to its minimum) and names then need more lines, which a
        height fixed at the default width cut off. Explicit heights, as a stylesheet's
        vertical item padding is not reliably part of the cached item size."""
        # the scroll bar's room is always kept, so rows never refit as it comes and goes
        room = max(self.width(), self.minimumWidth()) - 2 * self.frameWidth() \
            - NAVIGATOR_ITEM_PADDING
        if room == self._room and not force:
            return
        self._room = room
        text_room = QRect(0, 0, room, 10_000)
        for row in range(self.count()):
            item = self.item(row)
            metrics = QFontMetrics(item.font())
            text_height = metrics.boundingRect(text_room, Qt.TextFlag.TextWordWrap,
                                               item.text()).height()
            item.setSizeHint(QSize(0, max(text_height, metrics.height()) + 14))

    def resizeEvent(self, event) -> None:
        # before the view lays its items out at the new width
        self.fit_rows()
        super().resizeEvent(event)
