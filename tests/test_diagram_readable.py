"""Network diagrams of the stepper, hidden-layers and dropout lessons at 1280×800 (issue 15
item 9): no label overlaps another or a neuron, text is at least 10 px on screen, layers
are named for people ("hidden layer 1 · 128 ReLU", "output · 10 softmax", never
"dense_1"), output probabilities read as percentages, and every output is connected to
the loss box."""
from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsSimpleTextItem

from core.layers import Dense, Dropout, Flatten
from core.model import Sequential
from gui.widgets.diagram.items import NodeItem

MIN_PX = 10.0


def _lesson(name):
    if name == "stepper":
        from gui.lessons.backprop_stepper import BackpropStepperLesson as cls
    elif name == "hidden":
        from gui.lessons.hidden_layers import HiddenLayersLesson as cls
    else:
        from gui.lessons.dropout import DropoutLesson as cls
    return cls


@pytest.fixture(params=["stepper", "hidden", "dropout"])
def shown(request, qtbot):
    w = _lesson(request.param)()
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    w.activate()
    qtbot.waitUntil(lambda: bool(w.diagram.scene_.columns), timeout=20_000)
    qtbot.wait(100)
    yield request.param, w
    w.deactivate()
    w.shutdown()


def _texts(diagram):
    view, scene = diagram.view, diagram.scene_
    out = []
    for item in scene.items():
        # a neuron's own value is written inside it on purpose: not a label
        if isinstance(item, QGraphicsSimpleTextItem) and item.isVisible() \
                and item.text().strip() and not isinstance(item.parentItem(), NodeItem):
            rect = view.mapFromScene(item.sceneBoundingRect()).boundingRect()
            out.append((item.text(), QRectF(rect), item))
    return out


def _circles(diagram):
    view, scene = diagram.view, diagram.scene_
    out = []
    for col in scene.nodes.values():
        for unit, node in col.items():
            if unit == "more":
                continue
            r, c = node.radius, node.center
            rect = view.mapFromScene(QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r)).boundingRect()
            out.append(QRectF(rect))
    return out


def _pixel_size(diagram, item) -> float:
    font = item.font()
    px = font.pixelSize() if font.pixelSize() > 0 else \
        font.pointSizeF() * diagram.view.logicalDpiY() / 72.0
    return px * diagram.view.transform().m11()


def test_labels_never_overlap_and_are_readable(shown):
    name, lesson = shown
    diagram = lesson.diagram
    texts = _texts(diagram)
    assert texts
    for text, rect, item in texts:
        assert _pixel_size(diagram, item) >= MIN_PX, (name, text, _pixel_size(diagram, item))
    shrunk = [(t, r.adjusted(1, 1, -1, -1)) for t, r, _ in texts]
    for i, (a, ra) in enumerate(shrunk):
        for b, rb in shrunk[i + 1:]:
            assert not ra.intersects(rb), f"{name}: {a!r} overlaps {b!r}"
        for circle in _circles(diagram):
            assert not ra.intersects(circle.adjusted(1, 1, -1, -1)), \
                f"{name}: {a!r} overlaps a neuron"


def test_layers_are_named_for_people(shown):
    name, lesson = shown
    words = [t for t, _, _ in _texts(lesson.diagram)]
    assert not any(re.fullmatch(r"(dense|dropout)_\d+|dense", w) for w in words), words
    assert "output" in words and "loss" in words
    if name == "hidden":
        assert "hidden layer" in words and "100 ReLU" in words and "10 sigmoid" in words
    if name == "dropout":
        assert {"hidden layer 1", "hidden layer 2", "dropout", "10 softmax"} <= set(words)
        # output probabilities as percentages, fixed decimals
        outs = [t.text() for t in lesson.diagram.scene_.out_labels.values()]
        assert all(re.fullmatch(r"\d  (\d+\.\d\d %|below 0\.01 %)( ◀)?✓?", o) for o in outs), outs


def test_every_output_is_connected_to_the_loss_box(shown):
    _, lesson = shown
    scene = lesson.diagram.scene_
    box = scene.loss_box.rect
    collector = scene.loss_arrow.line()
    assert abs(collector.x2() - box.left()) < 8 and box.top() <= collector.y1() <= box.bottom()
    last = scene.columns[-1]
    assert set(scene.loss_feeds) == set(scene.out_labels)
    for unit, feed in scene.loss_feeds.items():
        line = feed.line()
        assert line.x2() == pytest.approx(collector.x1())
        node = scene.nodes[last.index][unit]
        assert line.y1() == pytest.approx(node.center.y())
        label = scene.out_labels[unit]
        start = label.pos().x() + label.boundingRect().width() if label.text() else \
            node.center.x() + node.radius
        assert start <= line.x1() <= start + 16 or scene.out_step > 0


def test_people_names_come_from_one_function():
    from gui.widgets.diagram.layout import (people_caption, people_name, plan_columns,
                                            specs_from_model)

    assert people_name("dense", 100, "relu", "hidden", 1) == "hidden layer 1 · 100 ReLU"
    assert people_name("dense", 10, "sigmoid", "output") == "output · 10 sigmoid"
    assert people_caption("dropout", 128, rate=0.5) == ("dropout", "rate 0.5")
    m = Sequential([Flatten(), Dense(8, activation="relu"), Dropout(0.25),
                    Dense(6, activation="tanh"), Dense(3, activation="softmax")],
                   input_shape=(4, 4, 1), seed=0)
    cols = plan_columns(*specs_from_model(m))
    assert [(c.title, c.subtitle) for c in cols[1:]] == [
        ("hidden layer 1", "8 ReLU"), ("dropout", "rate 0.25"), ("hidden layer 2", "6 tanh"),
        ("output", "3 softmax")]
    assert [c.layer_name for c in cols[1:]] == ["dense", "dropout", "dense_1", "dense_2"]


def test_stepper_labels_stay_apart_through_every_step(qtbot):
    """Every step of the stepper (forward values, the loss, gradients under the neurons,
    the update) keeps its labels apart at 1280×800."""
    lesson = _lesson("stepper")()
    qtbot.addWidget(lesson)
    lesson.resize(1280, 800)
    lesson.show()
    lesson.activate()
    qtbot.waitUntil(lambda: bool(lesson.diagram.scene_.columns), timeout=20_000)
    try:
        for case in range(lesson.case_box.count()):
            lesson.case_box.setCurrentIndex(case)
            qtbot.wait(50)
            for index in range(lesson.table.rowCount()):
                lesson.go_to(index)
                texts = [(t, r.adjusted(1, 1, -1, -1)) for t, r, _ in _texts(lesson.diagram)]
                for i, (a, ra) in enumerate(texts):
                    for b, rb in texts[i + 1:]:
                        assert not ra.intersects(rb), \
                            f"{lesson.case_box.currentText()}, step {index + 1}: " \
                            f"{a!r} overlaps {b!r}"
    finally:
        lesson.deactivate()
        lesson.shutdown()


def test_labels_survive_a_walk_over_the_scene(shown):
    """PySide6 deleted every label whose Python wrapper had been dropped once anything
    walked scene.items() (the headers vanished mid-lesson); the scene keeps them."""
    _, lesson = shown
    first = sorted(t for t, _, _ in _texts(lesson.diagram))
    import gc

    gc.collect()
    assert sorted(t for t, _, _ in _texts(lesson.diagram)) == first
    assert "output" in first and "input" in first
