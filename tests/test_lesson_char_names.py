"""Names, letter by letter: the shipped model generates ten names marked new or "in the list",
the temperature slider reaches 0.2 … 2.0, a typed prefix shows next-letter percentages that
add up to 100 %, a bad prefix gets a sentence, and Train from scratch trains live."""
import re

import pytest

pytest.importorskip("pytestqt")

from core.teaching import char_model as cm  # noqa: E402
from gui.lessons import COURSE, lesson_classes  # noqa: E402
from gui.lessons.char_names import GENERATED, TOP_LETTERS, CharNamesLesson  # noqa: E402

TIMEOUT = 120_000


@pytest.fixture
def lesson(qtbot):
    w = CharNamesLesson()
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    with qtbot.waitSignal(w.ready, timeout=TIMEOUT):
        w.activate()
    yield w
    w.shutdown()


def _rows(widget):
    return [widget.item(i).text() for i in range(widget.count())]


def test_registered_at_the_end_of_the_course():
    assert COURSE[-1] == ("gui.lessons.char_names", "CharNamesLesson")
    assert CharNamesLesson in lesson_classes()
    assert CharNamesLesson.course_tutorials == (33, 36)


def test_generate_shows_ten_names_each_new_or_in_the_list(lesson):
    assert lesson.model is not None, "the shipped model opens at once"
    assert lesson.generate_button.isEnabled()
    lesson.temperature.setValue(10)
    lesson.generate_button.click()
    rows = _rows(lesson.generated)
    assert len(rows) == GENERATED
    for row in rows:
        name, mark = re.fullmatch(r"(\S+)\s+(new|in the list)", row).groups()
        assert (mark == "in the list") == (name.lower() in lesson.known)
    new = sum(r.endswith("new") for r in rows)
    assert lesson.novel_label.text().startswith(f"{new} of {GENERATED} are new")
    assert lesson.novel_label.text().endswith("at T = 1.")
    assert new >= 3, "a trained model invents names, it does not only copy them"


def test_the_temperature_slider_spans_0_2_to_2(lesson):
    lesson.temperature.setValue(lesson.temperature.minimum())
    assert lesson.temperature_value() == pytest.approx(0.2)
    assert lesson.temperature_label.text() == "T = 0.2"
    lesson.temperature.setValue(lesson.temperature.maximum())
    assert lesson.temperature_value() == pytest.approx(2.0)
    assert lesson.temperature_label.text() == "T = 2"
    # cold names are mostly familiar ones, hot ones mostly new
    lesson.temperature.setValue(2)
    cold = [n for _ in range(3) for n in lesson.generate()]
    lesson.temperature.setValue(20)
    hot = [n for _ in range(3) for n in lesson.generate()]
    assert cm.novel_share(cold, lesson.known) < cm.novel_share(hot, lesson.known)


def test_a_prefix_shows_next_letters_as_percentages_adding_to_100(lesson):
    lesson.prefix.setText("jo")
    rows = lesson.next_letters.texts()
    assert len(rows) == TOP_LETTERS
    shown = [float(re.search(r"([\d.]+) %", r).group(1)) for r in rows]
    assert shown == sorted(shown, reverse=True)
    assert "e" in {r.split()[0] for r in rows[:4]}, "Jo… goes on with e (Joe, Joel, …)"
    text = lesson.next_label.text()
    assert "after “Jo”" in text and text.endswith("all 27: 100.00 %.")
    assert "e-" not in " ".join(rows) + text      # never scientific notation
    choices = cm.next_letter_probabilities(lesson.model, "jo", lesson.temperature_value())
    assert sum(c.probability for c in choices) == pytest.approx(1.0)


def test_a_prefix_with_a_digit_gets_a_sentence_and_keeps_the_names(lesson):
    lesson.generate()
    before = _rows(lesson.generated)
    lesson.prefix.setText("jo3")
    assert lesson.next_label.text() == "Names here are made of the letters a to z only; '3' " \
                                       "is not one."
    assert lesson.next_letters.rows == []
    assert _rows(lesson.generated) == before


@pytest.mark.slow
def test_training_from_scratch_shows_the_loss_falling_and_names_every_epoch(qtbot, lesson):
    with qtbot.waitSignal(lesson.trained, timeout=TIMEOUT):
        lesson.train(epochs=2, names=1500)
    losses = lesson.epoch_curve.getData()[1]
    assert len(losses) == 2 and losses[1] < losses[0]
    assert len(lesson.batch_curve.getData()[0]) > 10
    epochs = _rows(lesson.samples)
    assert [r.split(":")[0] for r in epochs] == ["epoch 1", "epoch 2"]
    assert lesson.state_label.text() == "Trained here: 2 epochs"
    assert lesson.train_button.text() == "Train from scratch"
    assert len(_rows(lesson.generated)) == GENERATED     # the new model generates at once


@pytest.mark.slow
def test_stop_keeps_what_was_learned_so_far(qtbot, lesson):
    shipped = lesson.model
    lesson.train(epochs=50, names=1500)
    assert lesson.train_button.text() == "Stop"
    qtbot.waitUntil(lambda: lesson.samples.count() >= 1, timeout=TIMEOUT)   # one epoch done
    with qtbot.waitSignal(lesson.trained, timeout=TIMEOUT):
        lesson.train_button.click()
    assert lesson.model is not shipped
    assert re.fullmatch(r"Trained here: (1 epoch|\d+ epochs)", lesson.state_label.text())
    assert lesson.train_button.text() == "Train from scratch"
    assert len(lesson.generate()) == GENERATED


def test_without_the_shipped_model_the_lesson_says_so_and_still_trains(qtbot, monkeypatch):
    import gui.lessons.char_names as mod

    monkeypatch.setattr(mod, "SHIPPED_MODEL", "no_such_model")
    w = CharNamesLesson()
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.ready, timeout=TIMEOUT):
        w.activate()
    assert w.model is None
    assert w.state_label.text() == "No ready model: press Train from scratch"
    assert not w.generate_button.isEnabled() and w.train_button.isEnabled()
    assert w.generate() == []
    w.shutdown()


def test_a_cold_temperature_writes_tiny_chances_without_scientific_notation(lesson):
    from gui.lessons.char_names import percent

    assert percent(0.2025) == "20.25 %"
    assert percent(0.07553) == "7.55 %"          # fixed decimals down the column
    assert percent(3e-17) == "below 0.01 %"
    assert percent(0.0) == "0.00 %"
    lesson.temperature.setValue(2)
    lesson.prefix.setText("q")
    for text in lesson.next_letters.texts():
        assert "×" not in text and "e-" not in text
