"""One catalogue per concept: every activation the engine knows is named, written and
differentiated in core.activations.CATALOGUE, and the engine, the diagram and the
playground read that one table."""
import pytest

from core import activations as A


def test_every_engine_activation_has_one_catalogue_entry():
    assert set(A.CATALOGUE) == set(A.NAMES)
    for name, info in A.CATALOGUE.items():
        assert info.name == name and info.word and info.title
        assert info.formula.startswith("a") and "/" in info.derivative


@pytest.mark.parametrize("name", [n for n in A.NAMES if n not in ("linear", "leaky_relu")])
def test_the_engine_objects_carry_the_catalogue_formula(name):
    fn = A.get(name)
    assert (fn.formula, fn.derivative) == (A.CATALOGUE[name].formula,
                                           A.CATALOGUE[name].derivative)


def test_leaky_relu_writes_its_own_alpha_into_the_catalogue_formula():
    assert A.get({"name": "leaky_relu", "alpha": 0.2}).formula == "a = z if z > 0, else 0.2·z"


def test_no_activation_reads_as_linear():
    assert A.WORDS[None] == A.WORDS["linear"] == "no activation"


def test_diagram_and_playground_read_the_catalogue():
    pytest.importorskip("PySide6")
    from gui.lessons import playground
    from gui.widgets.diagram import layout

    assert layout.ACTIVATION_WORDS is A.WORDS
    assert playground.ACTIVATION_TEXT is A.WORDS
