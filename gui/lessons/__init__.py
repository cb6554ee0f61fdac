"""The lesson registry: the navigator lists these classes, in course order.

Add a lesson by importing its class here and appending it to LESSONS. No placeholders:
only lessons that exist are listed. A lesson module should import heavy things
(pyqtgraph, core) at module level only if it needs them to define the class.
"""
from __future__ import annotations

from gui.lessons.base import Lesson

#: course order: Neuron · Activation functions · Loss functions · Gradient descent ·
#: Batch vs SGD vs mini-batch · Chain rule · Network & digits · Training dashboard ·
#: Precision/recall/F1 · Dropout · Convolution explorer · CNN · Draw a digit
LESSONS: list[type[Lesson]] = []


def lesson_classes() -> list[type[Lesson]]:
    return list(LESSONS)


__all__ = ["LESSONS", "Lesson", "lesson_classes"]
