"""The sliding-window lesson: trains its "no digit" head off the GUI thread, scans a scene,
walks the windows, and replays NMS with the numbers of core.teaching.boxes.nms."""

import time

import numpy as np
import pytest

from core.teaching import sliding_window as sw
from core.teaching.boxes import nms
from gui.lessons import COURSE
from gui.lessons.sliding_window import SlidingWindowLesson


@pytest.fixture(scope="module")
def trained(qapp):
    lesson = SlidingWindowLesson()
    lesson.resize(1280, 800)
    lesson.show()
    lesson.activate()
    deadline = time.monotonic() + 240
    while lesson.scan is None and time.monotonic() < deadline:
        qapp.processEvents()
        time.sleep(0.01)
    assert lesson.scan is not None, lesson.message.text()
    yield lesson
    lesson.shutdown()
    lesson.close()


def test_registered_after_transfer_learning_and_follows_tutorial_30():
    names = [m for m, _ in COURSE]
    assert names.index("gui.lessons.sliding_window") > names.index("gui.lessons.transfer_learning")
    assert SlidingWindowLesson.course_tutorials == (30,)


def test_walks_window_by_window_with_the_score(trained):
    lesson = trained
    assert lesson.progress.text() == "trained"      # says what the full bar means
    lesson.reset()
    assert lesson.phase == "scan" and lesson.index == 0
    lesson.step()
    lesson.step()
    s = lesson.scan
    assert lesson.index == 2
    text = lesson.window_text.text()
    top = int(s.labels[2])
    assert f"top digit {top}" in text and "no digit" in text
    assert "Window 3 of 252" in lesson.steps_text.toPlainText()
    lesson.step_back()
    assert lesson.index == 1


def test_nms_steps_on_screen_match_boxes_nms(trained):
    lesson = trained
    lesson.threshold.setValue(0.8)
    lesson.nms_iou.setValue(0.3)
    lesson.finish_scan()
    s = lesson.scan
    cand = np.nonzero(s.says_digit() & (s.scores >= 0.8))[0]
    ref = nms(s.boxes[cand], s.scores[cand], None, 0.3)
    assert len(ref.steps) >= 1
    while lesson.phase != "done":
        assert lesson.step()
    shown = lesson.steps_text.toPlainText()
    numbers = {int(c): k + 1 for k, c in enumerate(np.argsort(-s.scores[cand], kind="stable"))}
    for k, st in enumerate(ref.steps):
        line = f"step {k + 1}: keep box {numbers[st.kept]}"
        assert line in shown
        for i, v in st.suppressed:
            assert f"box {numbers[i]} (IoU {v:.3g}" in shown or f"box {numbers[i]} (IoU " in shown
    assert len(lesson.nms_lines()) == len(ref.steps)
    # the cost: windows × evaluations and the measured time
    assert "= 252 windows" in shown and "252 network evaluations" in shown
    assert f"{s.seconds:.2g}"[:3] in shown or " s (" in shown
    assert "e-0" not in shown and "e+0" not in shown


def test_score_map_is_the_windows_top_scores(trained):
    lesson = trained
    lesson.map_size.setCurrentIndex(1)          # side 24: 7 × 7 windows
    m = lesson.scan.score_map(24)
    assert m.shape == (7, 7)
    pick = lesson.scan.sides == 24
    np.testing.assert_allclose(m.ravel(), lesson.scan.probs[pick, :10].max(axis=1))


def test_a_new_scene_is_scanned_again(trained, qtbot):
    lesson = trained
    with qtbot.waitSignal(lesson.scanned, timeout=60_000):
        lesson.scene_spin.setValue(lesson.scene_spin.value() + 1)
    assert lesson.phase == "scan" and lesson.scan.evaluations == sw.window_count(64)


def test_leaving_while_it_prepares_stops_the_preparation(qtbot):
    lesson = SlidingWindowLesson()
    qtbot.addWidget(lesson)
    lesson.activate()
    assert lesson._preparing and not lesson.train()        # one preparation at a time
    lesson.deactivate()
    qtbot.waitUntil(lambda: not lesson._preparing, timeout=60_000)
    assert lesson.classifier is None and not lesson.is_training()
    assert "stopped when you left" in lesson.message.text()
    assert lesson.train_button.isEnabled()
    lesson.shutdown()


def _light_pixels(view) -> int:
    """Pixels drawn light inside the view's black square (the placeholder's words)."""
    img = view.grab().toImage()
    sq = view._square()
    n = 0
    for y in range(int(sq.top()) + 2, int(sq.bottom()) - 2, 2):
        for x in range(int(sq.left()) + 2, int(sq.right()) - 2, 2):
            n += img.pixelColor(x, y).lightness() > 128
    return n


def test_before_a_scan_the_empty_panels_say_what_will_appear_and_what_to_press(qtbot):
    lesson = SlidingWindowLesson()
    qtbot.addWidget(lesson)
    lesson.resize(1280, 800)
    lesson.show()
    for view, what in ((lesson.window_view, "Each window of the scan"),
                       (lesson.map_view, "The score map will show here")):
        assert view.placeholder.startswith(what)
        assert view.placeholder.endswith("Press Train \"no digit\" below to start.")
        assert _light_pixels(view) > 20             # words on the square, not a black panel
    assert lesson.progress.text() == "not trained"
    lesson.activate()                                 # opening the lesson starts training
    assert lesson.window_view.placeholder.endswith("trained (under way now).")
    assert lesson.map_view.placeholder.endswith("trained (under way now).")
    lesson.deactivate()
    qtbot.waitUntil(lambda: not lesson._preparing, timeout=60_000)
    assert lesson.map_view.placeholder.endswith("Press Train \"no digit\" below to start.")
    lesson.shutdown()


def test_after_the_scan_the_panels_show_pictures_not_words(trained):
    lesson = trained
    lesson.reset()
    assert lesson.window_view.placeholder == "" and lesson.map_view.placeholder == ""
    assert lesson.map_view._overlay is not None


def test_a_scan_of_a_scene_already_left_is_not_shown(trained, qtbot):
    lesson = trained
    lesson.scene_spin.setValue(10)
    with qtbot.waitSignal(lesson.scanned, timeout=60_000):
        lesson.scene_spin.setValue(11)          # quickly on: scene 10's scan is stale
    qtbot.wait(300)
    want = sw.scan_scene(lesson.classifier, lesson.scene.image)
    np.testing.assert_allclose(lesson.scan.probs, want.probs, rtol=1e-4, atol=1e-5)


def _opened_keras_model(tmp_path, layers, name):
    """A small model saved by our own engine as a Keras 3 file, opened as File ▸ Open model
    opens it."""
    from core import keras
    from core.io import load_model

    model = keras.Sequential(layers)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.save(str(tmp_path / name))
    return load_model(tmp_path / name)


def test_the_learners_own_digit_model_reads_the_windows(qtbot, tmp_path):
    from core import keras

    mine = _opened_keras_model(tmp_path, [
        keras.layers.Conv2D(4, 3, activation="relu", input_shape=(28, 28, 1)),
        keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
        keras.layers.Dense(12, activation="relu"), keras.layers.Dense(10, activation="softmax")],
        "mine.keras")
    lesson = SlidingWindowLesson()
    qtbot.addWidget(lesson)
    lesson.learner_model_opened(mine, "mine.keras")
    assert "mine.keras reads the windows" in lesson.message.text()
    assert lesson.train()
    assert "with the frozen layers of your model (mine.keras)…" in lesson.message.text()
    with qtbot.waitSignal(lesson.scanned, timeout=240_000):
        pass
    features = lesson.classifier.features
    assert features.output_shape == (12,)              # cut before its classifier
    for a, b in zip(features.layers[0].get_weights(), mine.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)
    lesson.shutdown()


def test_a_model_that_does_not_answer_digits_is_refused_in_one_sentence(qtbot, tmp_path):
    from core import keras

    five = _opened_keras_model(tmp_path, [
        keras.layers.Flatten(input_shape=(28, 28)), keras.layers.Dense(8, activation="relu"),
        keras.layers.Dense(5, activation="softmax")], "five.keras")
    lesson = SlidingWindowLesson()
    qtbot.addWidget(lesson)
    lesson.learner_model_opened(five, "five.keras")
    assert lesson.message.text() == (
        "five.keras cannot read the windows here: it gives 5 outputs, and the window "
        "classifier starts from one per digit (10); the shipped CNN stays.")
    assert lesson.base is None
    lesson.shutdown()
