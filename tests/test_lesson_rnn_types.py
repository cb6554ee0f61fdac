"""Types of RNN: each example shows its shape unrolled (inputs and answers where the shape
has them), trains through the lesson's session and shows its result on new data."""
import numpy as np
import pytest

pytest.importorskip("pytestqt")

from core.teaching import rnn_types as rt  # noqa: E402
from gui.lessons import COURSE, lesson_classes  # noqa: E402
from gui.lessons.rnn_types import DRAWN_STEPS, TypesOfRnnLesson  # noqa: E402

TIMEOUT = 120_000


@pytest.fixture
def lesson(qtbot):
    w = TypesOfRnnLesson()
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.shutdown()


def test_registered_between_what_is_an_rnn_and_vanishing_gradients():
    names = [m for m, _ in COURSE]
    assert names.index("gui.lessons.rnn") + 1 == names.index("gui.lessons.rnn_types")
    assert names.index("gui.lessons.rnn_types") < names.index("gui.lessons.vanishing_gradients")
    assert TypesOfRnnLesson in lesson_classes()
    assert TypesOfRnnLesson.course_tutorials == (34,)


def test_each_example_draws_its_own_shape(lesson):
    assert lesson.examples.count() == len(rt.EXAMPLES)
    for row, example in enumerate(rt.EXAMPLES):
        lesson.examples.setCurrentRow(row)
        shape = lesson.picture.shape
        assert shape.name == example.shape
        steps = 1 if example.shape == "one-to-one" else DRAWN_STEPS
        assert shape.steps == steps
        ins, outs = sum(shape.inputs), sum(shape.outputs)
        want = {"one-to-one": (1, 1), "one-to-many": (1, steps), "many-to-one": (steps, 1),
                "many-to-many": (steps, steps)}[example.shape]
        assert (ins, outs) == want
        text = lesson.task_label.text()
        assert example.shape in text and example.title in text
        assert "SimpleRNN" in text
        if example.steps > 1:
            assert f"unrolls over {example.steps} steps" in text
        assert lesson.picture.describe().startswith(example.shape)


def _train(qtbot, lesson, key, epochs, samples):
    row = [e.key for e in rt.EXAMPLES].index(key)
    lesson.examples.setCurrentRow(row)
    with qtbot.waitSignal(lesson.trained, timeout=TIMEOUT) as blocker:
        lesson.train(epochs=epochs, samples=samples)
    assert blocker.args == [key]
    return rt.EXAMPLES[row]


def test_the_empty_loss_plot_spans_the_epochs_the_example_trains_for(lesson):
    for row, example in enumerate(rt.EXAMPLES):
        lesson.examples.setCurrentRow(row)
        lo, hi = lesson.loss_plot.plot_item.viewRange()[0]
        assert lo <= 0 and example.epochs <= hi <= 1.05 * example.epochs


def test_tagging_trains_live_and_shows_true_and_predicted_tags(qtbot, lesson):
    example = _train(qtbot, lesson, "tagging", epochs=3, samples=256)
    x, y = lesson.loss_curve.getData()
    assert len(x) == 3 and np.all(np.isfinite(y))
    assert "tagged correctly" in lesson.result_label.text()
    tx, ty = lesson.true_curve.getData()
    px, py = lesson.pred_curve.getData()
    assert len(tx) == len(px) == example.steps
    yt = example.test_data()[1][:20, :, 0]
    np.testing.assert_array_equal(ty, yt[int(np.argmax(yt.std(axis=1)))])   # tags that vary
    assert lesson.curve_plot.isVisible()
    assert lesson.train_button.text() == "Train this example"
    assert "e-" not in lesson.result_label.text()


def test_a_digit_read_row_by_row_reports_its_accuracy(qtbot, lesson):
    _train(qtbot, lesson, "many_to_one", epochs=1, samples=300)
    text = lesson.result_label.text()
    assert "new digits read correctly" in text and "%" in text
    assert not lesson.curve_plot.isVisible()        # a single answer: no curve to draw
    # the score stays with its example
    lesson.examples.setCurrentRow(0)
    assert "Press" in lesson.result_label.text()
    lesson.examples.setCurrentRow(1)
    assert "new digits read correctly" in lesson.result_label.text()


def test_leaving_the_lesson_stops_its_training(qtbot, lesson):
    lesson.examples.setCurrentRow(4)
    lesson.train(epochs=200)
    qtbot.waitUntil(lambda: lesson.is_training(), timeout=TIMEOUT)
    lesson.deactivate()
    assert not lesson.is_training()


def test_data_that_arrives_after_leaving_starts_no_training(qtbot, lesson):
    lesson.examples.setCurrentRow(3)
    lesson.train(epochs=200)
    lesson.deactivate()                       # while the data is still being prepared
    qtbot.waitUntil(lambda: lesson.train_button.isEnabled(), timeout=TIMEOUT)
    assert not lesson.is_training() and lesson.session is None
    lesson.activate()
    with qtbot.waitSignal(lesson.trained, timeout=TIMEOUT):
        lesson.train(epochs=1, samples=64)
