"""The course map: which tutorial of the course each lesson follows, grouped for the navigator.

The course is codebasics' "Deep Learning With Tensorflow, Keras & Python" playlist (the notes
in shared/course-notes.md number its videos "Tutorial3", "Tutorial14", …). A lesson names the
tutorials it follows in `course_tutorials` (its main one first); the navigator lists the
tutorials in course order with their lessons under them, and lessons that follow none under
"Beyond the course". Qt-free: a lesson is anything with `course_tutorials` and `title`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

#: the playlist's titles, shortened; a tutorial missing here is shown as "Tutorial N"
TUTORIAL_TITLES: dict[int, str] = {
    3: "What is a neuron?",
    7: "Neural network for handwritten digits",
    8: "Activation functions",
    11: "Loss or cost functions",
    12: "Gradient descent for neural networks",
    14: "Batch, stochastic and mini-batch gradient descent",
    15: "Chain rule and backpropagation",
    16: "TensorBoard",
    18: "Customer churn prediction with an ANN",
    19: "Precision, recall and F1 score",
    20: "Dropout regularization",
    21: "Handling imbalanced data",
    23: "Convolutional neural networks",
    24: "Image classification with a CNN (CIFAR-10)",
    25: "Convolution: padding and stride",
    26: "Data augmentation",
    27: "Transfer learning",
    28: "Classification, detection, segmentation",
    30: "Sliding-window object detection",
    31: "What is YOLO?",
    32: "Object detection with YOLO",
    33: "Recurrent neural networks",
    34: "Types of RNN",
    35: "Vanishing and exploding gradients",
    36: "LSTM",
}

BEYOND = "Beyond the course"


def tutorial_heading(number: int) -> str:
    """"T7 · Neural network for handwritten digits"."""
    return f"T{int(number)} · {TUTORIAL_TITLES.get(int(number), f'Tutorial {int(number)}')}"


def tutorials_of(lesson) -> tuple[int, ...]:
    """A lesson's tutorials as ints; a missing or damaged attribute counts as none."""
    raw = getattr(lesson, "course_tutorials", ())
    if isinstance(raw, int):
        raw = (raw,)
    try:
        return tuple(int(n) for n in raw if int(n) > 0)
    except (TypeError, ValueError):
        return ()


def tutorial_caption(tutorials) -> str:
    """What a lesson's header says: "Follows tutorial 14", "Follows tutorials 18 and 21"."""
    numbers = [str(int(n)) for n in tutorials]
    if not numbers:
        return BEYOND
    if len(numbers) == 1:
        return f"Follows tutorial {numbers[0]}"
    return f"Follows tutorials {', '.join(numbers[:-1])} and {numbers[-1]}"


@dataclass
class Chapter:
    """One heading of the course map and the lessons filed under it, in course order."""

    heading: str
    tutorial: int | None               # None: beyond the course
    lessons: list = field(default_factory=list)


def course_map(lessons) -> list[Chapter]:
    """The lessons under their main tutorial, tutorials in playlist order; lessons keep their
    registry order within a tutorial; lessons with no tutorial come last, under BEYOND."""
    chapters: dict[int, Chapter] = {}
    beyond = Chapter(BEYOND, None)
    for lesson in lessons:
        tutorials = tutorials_of(lesson)
        if not tutorials:
            beyond.lessons.append(lesson)
            continue
        main = tutorials[0]
        chapters.setdefault(main, Chapter(tutorial_heading(main), main)).lessons.append(lesson)
    ordered = [chapters[n] for n in sorted(chapters)]
    return ordered + ([beyond] if beyond.lessons else [])
