"""The T28 lesson: one scene answered three ways by three networks the session trains
off the GUI thread, each scored on held-out scenes, what the learner sees in words."""


import gui.lessons.detection_tasks as dt
from core.teaching import scene_tasks as st
from core.teaching.scenes import BACKGROUND
from gui.lessons import COURSE


def test_registered_before_the_sliding_window_after_transfer_learning():
    names = [m for m, _ in COURSE]
    at = names.index("gui.lessons.detection_tasks")
    assert names.index("gui.lessons.transfer_learning") < at < names.index(
        "gui.lessons.sliding_window")
    assert dt.DetectionTasksLesson.course_tutorials == (28,)


def test_before_training_the_scene_and_its_most_prominent_digit_are_shown(qtbot):
    lesson = dt.DetectionTasksLesson()
    qtbot.addWidget(lesson)
    sc = lesson.scene
    text = lesson.texts["scene"].text()
    assert f"most prominent (largest): {st.most_prominent(sc.boxes, sc.labels)}" in text
    assert [m.text for m in lesson.views["scene"].marks] == [str(v) for v in sc.labels]
    assert "not trained yet" in lesson.texts["segmentation"].text()


def test_trains_three_networks_and_answers_three_ways(qtbot, monkeypatch):
    monkeypatch.setattr(dt, "TRAIN_SCENES", 64)
    monkeypatch.setattr(dt, "HELD_OUT_SCENES", 8)
    lesson = dt.DetectionTasksLesson()
    qtbot.addWidget(lesson)
    lesson.resize(1280, 800)
    lesson.show()
    lesson.epochs_spin.setValue(1)
    with qtbot.waitSignal(lesson.training_finished, timeout=500_000):
        assert lesson.train()
    qtbot.waitUntil(lambda: set(lesson.answers) == set(dt.TASKS), timeout=30_000)
    assert set(lesson.scores) == set(dt.TASKS)
    assert all(epochs == 1 for _, epochs in lesson.scores.values())
    a = lesson.answers
    assert 0 <= a["classification"]["label"] <= 9
    assert a["segmentation"]["mask"].shape == lesson.scene.mask.shape
    # what the learner reads is what the networks said, with its held-out score
    cls = lesson.texts["classification"].text()
    assert f"says {a['classification']['label']}" in cls and "after 1 epochs" in cls
    seg = lesson.texts["segmentation"].text()
    assert f"{int((a['segmentation']['mask'] != BACKGROUND).sum())} digit pixels" in seg
    assert "held-out mAP at IoU 0.5" in lesson.texts["detection"].text()
    assert len(lesson.views["detection"].marks) == len(a["detection"]["boxes"])
    for t in lesson.texts.values():
        assert "e-0" not in t.text() and "e+0" not in t.text()
    # another scene is answered again by the trained networks
    before = lesson.scene.image
    with qtbot.waitSignals([lesson.answered] * 3, timeout=30_000):
        lesson.scene_spin.setValue(lesson.scene_spin.value() + 1)
    assert lesson.scene.image is not before and set(lesson.answers) == set(dt.TASKS)
    lesson.shutdown()
