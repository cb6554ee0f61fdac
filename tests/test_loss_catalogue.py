"""One loss catalogue (core.losses.CATALOGUE): the engine's losses, the losses lesson's menu,
formulas and texts, and the network diagram's words all come from it."""
from core import losses


def test_every_engine_loss_has_one_entry_with_word_title_formula_and_use():
    assert set(losses.CATALOGUE) == set(losses.NAMES)
    for name, info in losses.CATALOGUE.items():
        assert info.name == name and losses.get(name).name == name
        assert info.word and info.title and info.formula.startswith("L = ") and info.use
        assert losses.WORDS[name] == info.word


def test_the_losses_lesson_and_the_diagram_read_the_catalogue():
    from gui.lessons.losses import LOSSES
    from gui.widgets.diagram import formulas, render

    assert LOSSES is losses.CATALOGUE
    assert formulas.LOSS_WORDS is losses.WORDS and render.LOSS_WORDS is losses.WORDS
    assert losses.WORDS["binary_crossentropy"] == "binary cross-entropy"
