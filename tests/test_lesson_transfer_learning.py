"""Transfer learning lesson: a learner's drawing joins the training set, example symbols fill
both sets, both networks train and the frozen base beats from-scratch on the drawings held
back, the frozen layers visibly never move, fine-tuning unfreezes the top two; bad input
gets a sentence and loses nothing."""
import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import Qt  # noqa: E402

from core.teaching import transfer as tl  # noqa: E402
from gui.lessons import COURSE  # noqa: E402
from gui.lessons.transfer_learning import FROZEN, TransferLearningLesson  # noqa: E402

TIMEOUT = 120_000


@pytest.fixture
def lesson(qtbot):
    w = TransferLearningLesson()
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.shutdown()


def _table(lesson):
    t = lesson.layer_table
    return {t.item(r, 0).text(): [t.item(r, c).text() for c in range(1, 4)]
            for r in range(t.rowCount())}


def test_the_lesson_is_in_the_course():
    assert ("gui.lessons.transfer_learning", "TransferLearningLesson") in COURSE


def test_a_drawing_on_the_pad_joins_the_chosen_symbols_training_set(lesson, qtbot):
    lesson.class_combo.setCurrentIndex(2)                # ×
    lesson.pad.add_stroke([(0.2, 0.2), (0.8, 0.8)])
    lesson.pad.add_stroke([(0.8, 0.2), (0.2, 0.8)])
    qtbot.mouseClick(lesson.add_train_button, Qt.MouseButton.LeftButton)
    assert lesson.counts("train") == [0, 0, 1, 0, 0]
    assert "×: 1 to learn from, 0 held back" in lesson.counts_label.text()
    assert lesson.pad.is_empty()
    qtbot.mouseClick(lesson.add_held_button, Qt.MouseButton.LeftButton)   # empty pad
    assert "empty" in lesson.message.text() and lesson.counts("held") == [0] * 5


def test_training_without_enough_drawings_says_what_is_missing(lesson, qtbot):
    qtbot.mouseClick(lesson.train_button, Qt.MouseButton.LeftButton)
    assert "Cannot train yet" in lesson.message.text() and "+" in lesson.message.text()
    assert not lesson.is_training()


def _use_examples(lesson, qtbot):
    with qtbot.waitSignal(lesson.examples_ready, timeout=30_000):
        qtbot.mouseClick(lesson.example_button, Qt.MouseButton.LeftButton)


def test_bad_symbol_names_are_refused_and_nothing_is_lost(lesson, qtbot):
    _use_examples(lesson, qtbot)
    n = len(lesson.drawings["train"])
    lesson.symbols_edit.setText("A")
    lesson._apply_symbols()
    assert "between 2 and 6" in lesson.message.text()
    assert lesson.symbols == list(tl.EXAMPLE_SYMBOLS)
    lesson.symbols_edit.setText("A B")                    # would orphan drawings of ÷ and =
    lesson._apply_symbols()
    assert "Forget" in lesson.message.text() and len(lesson.drawings["train"]) == n
    lesson.symbols_edit.setText("p m t d e")              # renaming keeps the drawings
    lesson._apply_symbols()
    assert lesson.symbols == ["p", "m", "t", "d", "e"] and len(lesson.drawings["train"]) == n


def test_transfer_beats_scratch_frozen_layers_never_move_then_fine_tuning(lesson, qtbot):
    lesson.per_symbol_spin.setValue(3)
    _use_examples(lesson, qtbot)
    assert lesson.counts("train") == [3] * 5 and lesson.counts("held") == [20] * 5
    with qtbot.waitSignal(lesson.training_finished, timeout=TIMEOUT):
        qtbot.mouseClick(lesson.train_button, Qt.MouseButton.LeftButton)
        assert lesson.is_training() and not lesson.train_button.isEnabled()
    res = lesson.results
    assert res["transfer"] >= 0.9 and res["transfer"] >= res["scratch"] + 0.08, res
    text = lesson.result_label.text()
    assert "frozen base + new head" in text and "from scratch" in text
    assert f"{round(res['transfer'] * 100)} of 100 held-back drawings right" in text
    rows = _table(lesson)
    for name in ("conv2d", "conv2d_1", "conv2d_2", "conv2d_3", "dense"):
        assert rows[name][1] == FROZEN and rows[name][2] == "0"
    assert rows[tl.HEAD_NAME][1].startswith("trains") and float(rows[tl.HEAD_NAME][2]) > 0
    assert "1,285 weights train" in lesson.param_label.text()   # 256 x 5 + 5

    assert lesson.fine_tune_button.isEnabled()
    with qtbot.waitSignal(lesson.training_finished, timeout=TIMEOUT):
        qtbot.mouseClick(lesson.fine_tune_button, Qt.MouseButton.LeftButton)
    rows = _table(lesson)
    for name in ("conv2d", "conv2d_1", "conv2d_2"):
        assert rows[name][1] == FROZEN and rows[name][2] == "0"
    for name in ("conv2d_3", "dense"):
        assert rows[name][1] == "trains" and float(rows[name][2]) > 0
    assert "fine-tuned" in lesson.result_label.text()
    assert lesson.results["fine"] >= 0.9


def test_fine_tuning_after_adding_a_symbol_asks_to_train_again(lesson, qtbot):
    _use_examples(lesson, qtbot)
    lesson.epochs_spin.setValue(2)
    with qtbot.waitSignal(lesson.training_finished, timeout=TIMEOUT):
        lesson.train_both()
    lesson.symbols_edit.setText("+ − × ÷ = A")
    lesson._apply_symbols()
    lesson.class_combo.setCurrentIndex(5)
    lesson.pad.add_stroke([(0.2, 0.9), (0.5, 0.1), (0.8, 0.9)])
    lesson.add_drawing("train")
    assert lesson.fine_tune() is False and "Train both" in lesson.message.text()
    assert not lesson.is_training()


def _saved_keras_model(tmp_path, layers, name):
    """A small model saved by our own engine as a Keras 3 file and opened as File ▸ Open
    model opens it (core.io.load_model)."""
    from core import keras
    from core.io import load_model

    model = keras.Sequential(layers)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    path = tmp_path / name
    model.save(str(path))
    return load_model(path)


def test_the_learners_own_model_becomes_the_frozen_base(lesson, qtbot, tmp_path):
    from core import keras

    mine = _saved_keras_model(tmp_path, [
        keras.layers.Conv2D(4, 3, activation="relu", input_shape=(28, 28, 1), name="my_conv"),
        keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
        keras.layers.Dense(12, activation="relu", name="my_features"),
        keras.layers.Dense(10, activation="softmax", name="my_digits")], "mine.keras")
    lesson.learner_model_opened(mine, "mine.keras")
    assert lesson.base_combo.currentText() == "your model (mine.keras)"
    assert "mine.keras is now the frozen base" in lesson.message.text()
    assert "the layers of your model (mine.keras) up to" in lesson.base_label.text()
    lesson.epochs_spin.setValue(3)
    _use_examples(lesson, qtbot)
    with qtbot.waitSignal(lesson.training_finished, timeout=TIMEOUT):
        qtbot.mouseClick(lesson.train_button, Qt.MouseButton.LeftButton)
    rows = _table(lesson)
    # cut at its classifier: its own feature layers, frozen and unmoved, then the new head
    assert list(rows)[0] == "my_conv" and list(rows)[-2:] == ["my_features", tl.HEAD_NAME]
    assert rows["my_conv"][1] == FROZEN and rows["my_conv"][2] == "0"
    assert rows["my_features"][1] == FROZEN and rows["my_features"][2] == "0"
    assert "65 weights train" in lesson.param_label.text()        # 12 x 5 + 5
    transfer = lesson.models["transfer"]
    for a, b in zip(transfer.layers[0].get_weights(), mine.layers[0].get_weights()):
        assert (a == b).all()
    # back to the shipped CNN: its layers, not the learner's
    lesson.base_combo.setCurrentIndex(0)
    assert "shipped digit CNN" in lesson.base_label.text()


def test_a_model_that_does_not_take_drawings_is_refused_in_one_sentence(lesson, tmp_path):
    from core import keras

    cifar = _saved_keras_model(tmp_path, [
        keras.layers.Flatten(input_shape=(32, 32, 3)), keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(10, activation="softmax")], "cifar.keras")
    lesson.learner_model_opened(cifar, "cifar.keras")
    text = lesson.message.text()
    assert text == ("cifar.keras cannot be the frozen base here: it takes inputs of shape "
                    "(32, 32, 3), and a drawing is 28×28×1.")
    assert lesson.base_combo.count() == 1 and lesson.base_combo.currentText() == "the shipped digit CNN"
