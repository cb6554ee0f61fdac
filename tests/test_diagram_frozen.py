"""Frozen layers (trainable = False) are drawn visibly frozen in the network diagram, and the
model inspector draws a learner's opened model as a diagram."""
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from core import keras  # noqa: E402
from gui.model_inspector import ModelInspector  # noqa: E402
from gui.widgets.diagram.frozen import FROZEN_WORDS, LockItem  # noqa: E402
from gui.widgets.diagram.network import NetworkDiagram  # noqa: E402


def _model(first_trainable=False):
    return keras.Sequential([
        keras.layers.Dense(4, activation="relu", input_shape=(3,), name="base",
                           trainable=first_trainable),
        keras.layers.Dense(2, activation="softmax", name="head")], seed=0)


def _locks(diagram):
    return [i for i in diagram.scene_.items() if isinstance(i, LockItem)]


@pytest.fixture
def diagram(qtbot):
    d = NetworkDiagram()
    qtbot.addWidget(d)
    d.resize(900, 520)
    d.show()
    qtbot.waitExposed(d)
    return d


def test_a_frozen_layer_carries_a_lock_and_the_legend_says_what_it_means(diagram):
    model = _model()
    diagram.set_model(model)
    base = diagram.column_for_layer(0)
    assert diagram.frozen_columns() == {base}
    (lock,) = _locks(diagram)
    lane = diagram.scene_.lanes[base].path().boundingRect()
    assert lane.contains(lock.sceneBoundingRect().center())     # beside the frozen column
    assert "training never changes these weights" in lock.toolTip()
    assert diagram.frozen_legend.isVisible()
    assert diagram.frozen_legend.text.text() == FROZEN_WORDS == \
        "frozen: training never changes these weights"


def test_unfreezing_and_redrawing_removes_the_mark(diagram):
    model = _model()
    diagram.set_model(model)
    model.layers[0].trainable = True
    diagram.set_model(model)
    assert diagram.frozen_columns() == set() and _locks(diagram) == []
    assert not diagram.frozen_legend.isVisible()


def test_the_mark_survives_a_relayout_on_resize(diagram, qtbot):
    diagram.set_model(_model())
    qtbot.waitUntil(lambda: diagram._built_size is not None, timeout=3000)
    before = diagram._built_size
    diagram.resize(640, 460)
    qtbot.waitUntil(lambda: diagram._built_size != before, timeout=3000)   # laid out anew
    assert len(_locks(diagram)) == 1


def test_the_inspector_draws_the_opened_model_with_its_frozen_layer(qtbot):
    inspector = ModelInspector()
    qtbot.addWidget(inspector)
    inspector.resize(900, 620)
    inspector.show()
    inspector.set_model(_model(), "/somewhere/mine.keras")
    page = inspector.diagram_page
    assert page.is_drawn()
    titles = [c.title for c in page.diagram.columns()]
    assert titles == ["input", "hidden layer", "output"]     # named for people
    assert page.diagram.frozen_columns() == {1}
    assert inspector.tabs.tabText(1) == "Network diagram"


def test_a_model_that_cannot_be_drawn_says_why_in_a_sentence(qtbot):
    inspector = ModelInspector()
    qtbot.addWidget(inspector)
    unbuilt = keras.Sequential([keras.layers.Dense(2)])      # no input shape: not built
    inspector.set_model(unbuilt)
    page = inspector.diagram_page
    assert not page.is_drawn()
    text = page.message.text()
    assert text.startswith("This model cannot be drawn as a network diagram: ")
    assert text.endswith(".") and "Traceback" not in text
