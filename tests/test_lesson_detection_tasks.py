"""The T28 lesson: one scene answered three ways by three networks the session trains
off the GUI thread, each scored on held-out scenes, what the learner sees in words."""


import pytest

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
    assert lesson.progress.text() == "ready"        # not an empty box


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
    assert lesson.progress.text() == "finished"
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


def test_opens_answering_the_first_scene_with_the_networks_trained_beforehand(qtbot):
    """The shipped networks (resources/models/scene_*.npz) answer at once, what they say is
    what those files predict, and their held-out scores are useful."""
    import numpy as np

    from core.io import load_model
    from core.teaching.scene_models import SHIPPED
    from resources.paths import model_path

    lesson = dt.DetectionTasksLesson()
    qtbot.addWidget(lesson)
    with qtbot.waitSignal(lesson.shipped_scored, timeout=240_000):
        pass
    assert set(lesson.answers) == set(dt.TASKS) and lesson.pretrained
    assert not lesson.is_training() and lesson.train_button.text() == "Train from scratch"
    with model_path(SHIPPED["classification"]) as path:
        p = load_model(path).predict(lesson.scene.image[None, ..., None])[0]
    assert lesson.answers["classification"]["label"] == int(np.argmax(p))
    cls = lesson.texts["classification"].text()
    assert f"says {int(np.argmax(p))}" in cls and "(trained beforehand)" in cls
    assert "not trained yet" not in lesson.texts["segmentation"].text()
    assert len(lesson.views["detection"].marks) == len(lesson.answers["detection"]["boxes"])
    acc, m_ap, iou = (lesson.scores[k][0] for k in dt.TASKS)
    assert acc >= 0.7 and m_ap >= 0.7 and iou >= 0.4, lesson.scores
    assert "trained beforehand" in lesson.message.text()
    lesson.shutdown()


def test_a_missing_trained_network_is_said_in_a_sentence_and_training_still_offered(
        qtbot, monkeypatch):
    real = dt.load_shipped

    def without_detector(kind, grid):
        if kind == "detection":
            return None, ("the trained detection network (resources/models/scene_detector"
                          ".npz) is not installed")
        return real(kind, grid)

    monkeypatch.setattr(dt, "load_shipped", without_detector)
    lesson = dt.DetectionTasksLesson()
    qtbot.addWidget(lesson)
    qtbot.waitUntil(lambda: "classification" in lesson.answers, timeout=120_000)
    assert lesson.message.text() == (
        "The trained detection network (resources/models/scene_detector.npz) is not "
        "installed. Press “Train from scratch” to train the networks here.")
    assert "not trained yet" in lesson.texts["detection"].text()
    assert lesson.train_button.isEnabled()
    lesson.shutdown()


def test_scoring_the_shipped_networks_can_stop_between_networks(monkeypatch):
    """Closing the window while the shipped networks are scored stops the worker at the
    next network instead of running every score to the end."""
    scored = []
    monkeypatch.setattr(dt, "make_scenes", lambda *a, **k: "held-out scenes")
    monkeypatch.setattr(dt, "score", lambda kind, m, grid, held: scored.append(kind) or 0.5)
    models = {"classification": object(), "detection": object(), "segmentation": object()}

    gen = dt._score_trained(models, grid=None)
    assert next(gen) == "classification" and scored == []
    assert next(gen) == "detection" and scored == ["classification"]
    gen.close()                                   # what the worker does on cancel
    assert scored == ["classification"]           # the other two were never scored

    gen = dt._score_trained(models, grid=None)
    with pytest.raises(StopIteration) as done:
        while True:
            next(gen)
    assert done.value.value == {k: 0.5 for k in models}
