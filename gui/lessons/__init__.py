"""The lesson registry: the navigator lists these lessons, in course order.

COURSE names each lesson by module and class, so the order of the course lives in one
place. A lesson whose module is not in the package is simply not listed (no
placeholder pages); a module that exists but fails to import is a real error and is
shown as one.
"""
from __future__ import annotations

import importlib
import importlib.util

from gui.lessons.base import Lesson

COURSE: list[tuple[str, str]] = [
    ("gui.lessons.neuron", "NeuronLesson"),
    ("gui.lessons.activations", "ActivationsLesson"),
    ("gui.lessons.losses", "LossesLesson"),
    ("gui.lessons.gradient_descent", "GradientDescentLesson"),
    ("gui.lessons.descent_variants", "DescentVariantsLesson"),
    ("gui.lessons.optimizer_paths", "OptimizerPathsLesson"),
    ("gui.lessons.chain_rule", "ChainRuleLesson"),
    ("gui.lessons.backprop_stepper", "BackpropStepperLesson"),
    ("gui.lessons.playground", "PlaygroundLesson"),
    ("gui.lessons.hidden_layers", "HiddenLayersLesson"),
    ("gui.lessons.dashboard", "DashboardLesson"),
    ("gui.lessons.precision_recall", "PrecisionRecallLesson"),
    ("gui.lessons.dropout", "DropoutLesson"),
    ("gui.lessons.churn", "ChurnLesson"),
    ("gui.lessons.conv_explorer", "ConvExplorerLesson"),
    ("gui.lessons.cnn_digits", "CnnDigitsLesson"),
    ("gui.lessons.cifar", "CifarLesson"),
    ("gui.lessons.augmentation", "AugmentationLesson"),
    ("gui.lessons.draw_digit", "DrawDigitLesson"),
    ("gui.lessons.transfer_learning", "TransferLearningLesson"),
    ("gui.lessons.detection_tasks", "DetectionTasksLesson"),
    ("gui.lessons.sliding_window", "SlidingWindowLesson"),
    ("gui.lessons.yolo", "YoloLesson"),
    ("gui.lessons.rnn", "RnnLesson"),
    ("gui.lessons.rnn_types", "TypesOfRnnLesson"),
    ("gui.lessons.vanishing_gradients", "VanishingGradientsLesson"),
    ("gui.lessons.lstm", "LstmLesson"),
    ("gui.lessons.char_names", "CharNamesLesson"),
]

#: extra lesson classes appended after the course (tests register throwaway ones here)
LESSONS: list[type[Lesson]] = []


def lesson_classes() -> list[type[Lesson]]:
    classes = []
    for module_name, class_name in COURSE:
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        classes.append(getattr(module, class_name))
    return classes + list(LESSONS)


__all__ = ["COURSE", "LESSONS", "Lesson", "lesson_classes"]
