"""NetworkDiagram: built from any layer list, colours and numbers checked against NumPy."""
import threading

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QPointF, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from core.layers import (Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU,  # noqa: E402
                         Softmax)
from core.model import Sequential  # noqa: E402
from core.optimizers import SGD  # noqa: E402
from core.wording import percent  # noqa: E402
from gui.widgets.colors import diverging_color  # noqa: E402
from gui.widgets.diagram.scene import UNKNOWN_PEN  # noqa: E402
from gui.widgets.diagram.network import COMPACT_HEIGHT, NetworkDiagram  # noqa: E402
from gui.widgets.numbers import fmt  # noqa: E402


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def small_model(seed=1):
    m = Sequential([Dense(3, activation="sigmoid"), Dense(1, activation="sigmoid")],
                   input_shape=(2,), seed=seed)
    m.compile(SGD(0.5), "binary_crossentropy")
    return m


@pytest.fixture
def diagram(qtbot):
    d = NetworkDiagram()
    qtbot.addWidget(d)
    d.resize(1000, 560)
    d.show()
    qtbot.waitExposed(d)
    return d


def node_count(d, col):
    return sum(1 for k in d.scene_.nodes.get(col, {}) if k != "more")


def test_small_sigmoid_net_is_drawn_fully(diagram):
    diagram.set_model(small_model())
    kinds = [c.kind for c in diagram.columns()]
    assert kinds == ["input", "dense", "dense"]
    assert [node_count(diagram, k) for k in range(3)] == [2, 3, 1]
    assert len(diagram.edge_items(1)) == 6 and len(diagram.edge_items(2)) == 3
    assert len(diagram.scene_.biases[1]) == 3 and len(diagram.scene_.biases[2]) == 1
    assert diagram.more_label(1) is None
    # every weight of the model is one edge, keyed by its (input, output) index
    assert {e.key[2:] for e in diagram.edge_items(1)} == {(i, j) for i in range(2) for j in range(3)}


def test_relu_softmax_node_values_equal_numpy_forward(diagram):
    m = Sequential([Dense(5, activation="relu"), Dense(3, activation="softmax")],
                   input_shape=(4,), seed=3)
    diagram.set_model(m)
    assert [node_count(diagram, k) for k in range(3)] == [4, 5, 3]
    assert [len(diagram.edge_items(k)) for k in (1, 2)] == [20, 15]
    x = np.array([0.3, -1.2, 0.8, 2.0], np.float32)
    diagram.set_input(x)
    w1, b1, w2, b2 = (np.asarray(w, np.float64) for w in m.get_weights())
    h = np.maximum(0.0, x @ w1 + b1)
    p = softmax(h @ w2 + b2)
    for j in range(5):
        assert diagram.node_item(1, j).text.text() == fmt(h[j])
    for j in range(3):
        assert diagram.node_item(2, j).text.text() == fmt(p[j])
        # beside the output, the probability as a percentage (issue 15 item 10)
        assert percent(p[j]) in diagram.scene_.out_labels[j].text()
    assert "predicted" in diagram.scene_.out_labels[int(np.argmax(p))].text()


@pytest.mark.parametrize("flatten", [True, False])
def test_mnist_net_image_input_k_edges_and_more_label(diagram, flatten):
    if flatten:
        m = Sequential([Flatten(), Dense(128, activation="relu"), Dense(10, activation="softmax")],
                       input_shape=(28, 28, 1), seed=0)
    else:
        m = Sequential([Dense(128, activation="relu"), Dense(10, activation="softmax")],
                       input_shape=(784,), seed=0)
    diagram.set_model(m)
    cols = diagram.columns()
    assert [c.kind for c in cols] == ["image", "dense", "dense"]
    assert cols[0].image_shape == (28, 28, 1)
    assert node_count(diagram, 1) == 16 and node_count(diagram, 2) == 10
    assert diagram.more_label(1).text() == "+112 more"
    assert len(diagram.edge_items(1)) == 150 and len(diagram.edge_items(2)) == 150  # 16·10 > K
    # the drawn edges are the strongest candidates between the drawn units
    w1 = m.layers[-2].params["kernel"]
    shown = cols[1].shown
    drawn = {e.key[2:] for e in diagram.edge_items(1)}
    weakest_drawn = min(abs(w1[i, j]) for i, j in drawn)
    undrawn = [abs(w1[i, j]) for i in range(784) for j in shown if (i, j) not in drawn]
    assert weakest_drawn >= max(undrawn)

    diagram.set_max_edges(40)
    assert len(diagram.edge_items(1)) == 40 and len(diagram.edge_items(2)) == 40
    diagram.set_max_units(8)
    assert node_count(diagram, 1) == 8 and diagram.more_label(1).text() == "+120 more"
    diagram.set_max_edges(100)
    assert len(diagram.edge_items(2)) == 80      # 8·10 ≤ K: all drawn


def test_dropout_column_fades_dropped_units(diagram, qtbot):
    m = Sequential([Dense(6, activation="relu"), Dropout(0.5, seed=4), Dense(2, activation="softmax")],
                   input_shape=(3,), seed=2)
    m.compile(SGD(0.1), "sparse_categorical_crossentropy")
    diagram.set_model(m)
    assert [c.kind for c in diagram.columns()] == ["input", "dense", "dropout", "dense"]
    assert node_count(diagram, 2) == 6
    mask = np.array([1, 0, 1, 1, 0, 1], bool)
    diagram.set_dropout_masks({1: mask})
    for u in range(6):
        assert (diagram.node_item(2, u).opacity() > 0.9) == bool(mask[u])
    with pytest.raises(ValueError):
        diagram.set_dropout_masks({0: mask})
    diagram.set_dropout_masks({})
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    trace = m.trace_step(x, np.array([0, 1, 1, 0]))
    diagram.set_trace(trace, sample=2)
    kept = trace.layers[1].extras["kept"][2]
    for u in range(6):
        assert (diagram.node_item(2, u).opacity() > 0.9) == bool(kept[u])


def test_cnn_drawn_as_blocks_without_unit_edges(diagram):
    m = Sequential([Conv2D(4, 3, activation="relu"), MaxPool2D(2), Flatten(),
                    Dense(10, activation="softmax")], input_shape=(10, 10, 1), seed=0)
    diagram.set_model(m)
    cols = diagram.columns()
    assert [c.kind for c in cols] == ["image", "block", "block", "flatten", "dense"]
    assert "4 filters 3×3" in cols[1].subtitle and "8×8×4" in cols[1].subtitle
    assert "max pool 2×2" in cols[2].subtitle and "4×4×4" in cols[2].subtitle
    assert set(diagram.scene_.edge_pool) == {4}           # only the Dense has unit edges
    assert diagram.more_label(3).text() == "+48 more"     # 64 flattened values, 16 drawn
    assert len(diagram.edge_items(4)) == 150
    diagram.set_input(np.random.default_rng(1).random((10, 10, 1)).astype(np.float32))
    assert not diagram.scene_.thumbs[1][0].pixmap().isNull()


def test_separate_activation_layer_folds_into_its_dense_column(diagram):
    m = Sequential([Dense(4), ReLU(), Dense(2), Softmax()], input_shape=(3,), seed=0)
    diagram.set_model(m)
    cols = diagram.columns()
    assert [c.kind for c in cols] == ["input", "dense", "dense"]
    assert cols[1].layers == (0, 1) and cols[1].activation == "relu"
    assert "ReLU" in cols[1].subtitle and "softmax" in cols[2].subtitle
    assert diagram.column_for_layer(3) == 2


def test_edge_colours_follow_weight_sign_and_width_magnitude(diagram):
    m = small_model()
    diagram.set_model(m)
    w1, _, w2, _ = m.get_weights()
    vmax = max(np.abs(w1).max(), np.abs(w2).max())
    edges = [(e, w1[e.key[2], e.key[3]]) for e in diagram.edge_items(1)]
    edges += [(e, w2[e.key[2], e.key[3]]) for e in diagram.edge_items(2)]
    for e, w in edges:
        c = e.value_pen.color()
        assert c == diverging_color(w, vmax)
        assert (c.red() > c.blue()) == (w > 0)          # orange positive, blue negative
    by_mag = sorted(edges, key=lambda ew: abs(ew[1]))
    widths = [e.value_pen.widthF() for e, _ in by_mag]
    assert widths == sorted(widths) and widths[-1] > widths[0]
    assert diagram.edge_legend.tick_labels()[-1] == fmt(vmax)


def test_gradient_mode_shows_the_traces_param_grads(diagram):
    m = small_model()
    diagram.set_model(m)
    x = np.array([[0.5, 1.0], [-0.3, 0.2], [1.5, -0.7]], np.float32)
    y = np.array([1, 0, 1])
    w1, b1, w2, b2 = (np.asarray(w, np.float64) for w in m.get_weights())
    trace = m.trace_step(x, y)
    diagram.set_trace(trace)
    diagram.set_edge_mode("gradient")
    diagram.set_phase("forward", 2)                      # no gradient known yet
    assert all(e.value_pen.color() == UNKNOWN_PEN.color() for e in diagram.edge_items(1))
    diagram.set_phase("backward", 1)
    g1 = trace.layers[0].param_grads["kernel"]
    g2 = trace.layers[1].param_grads["kernel"]
    # independent check of what is shown: backprop by hand for sigmoid + binary cross-entropy
    a1 = sigmoid(x @ w1 + b1)
    d2 = (sigmoid(a1 @ w2 + b2) - y[:, None]) / len(x)
    d1 = (d2 @ w2.T) * a1 * (1 - a1)
    np.testing.assert_allclose(g1, x.T @ d1, rtol=1e-4, atol=1e-7)
    vmax = max(np.abs(g1).max(), np.abs(g2).max())
    a, b = 1, 2
    e = diagram.edge_item(1, a, b)
    assert e.value_pen.color() == diverging_color(g1[a, b], vmax)
    assert diagram.edge_legend.tick_labels()[-1] == fmt(vmax)
    assert "∂L/∂w" in diagram.edge_legend.accessibleDescription()
    text = diagram.formula(e.key)
    assert f"∂L/∂w = Σ over the batch of 3 of x·∂L/∂z = {fmt(g1[a, b])}" in text


def test_update_phase_shows_new_weights(diagram):
    m = small_model()
    diagram.set_model(m)
    trace = m.trace_step(np.array([[0.5, 1.0]], np.float32), np.array([1]))
    diagram.set_trace(trace)
    diagram.set_phase("update")
    after = trace.layers[1].params_after["kernel"]
    before = trace.layers[1].params["kernel"]
    e = diagram.edge_item(2, 0, 0)
    vmax = max(np.abs(trace.layers[0].params_after["kernel"]).max(), np.abs(after).max())
    assert e.value_pen.color() == diverging_color(after[0, 0], vmax)
    text = diagram.formula(e.key)
    g = trace.layers[1].param_grads["kernel"][0, 0]
    assert f"= {fmt(before[0, 0])} − 0.5·" in text and fmt(before[0, 0] - 0.5 * g) in text


def test_node_hover_tooltip_has_the_numbers(diagram, qtbot):
    m = small_model()
    diagram.set_model(m)
    x = np.array([0.5, 1.0], np.float32)
    diagram.set_input(x)
    w1, b1, _, _ = (np.asarray(w, np.float64) for w in m.get_weights())
    z = x @ w1 + b1
    node = diagram.node_item(1, 2)
    with qtbot.waitSignal(diagram.node_hovered, timeout=2000) as sig:
        QTest.mouseMove(diagram.view.viewport(), diagram.view.mapFromScene(node.center))
    assert sig.args == [1, 2]
    tip = node.toolTip()
    assert f"{fmt(w1[0, 2]) if w1[0, 2] >= 0 else '(' + fmt(w1[0, 2]) + ')'}·0.5" in tip
    assert f"= {fmt(z[2])}" in tip
    assert f"a = σ(z) = 1 / (1 + e^({fmt(-z[2])})) = {fmt(sigmoid(z[2]))}" in tip
    assert fmt(sigmoid(z[2])) in diagram.info_text()


def click_edge(qtbot, diagram, edge):
    pos = diagram.view.mapFromScene(edge.line().pointAt(0.88))
    QTest.mouseClick(diagram.view.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, pos)
    qtbot.waitUntil(diagram.editor.is_open, timeout=2000)


def test_editing_an_edge_changes_the_model_and_reruns_forward(diagram, qtbot):
    m = small_model()
    diagram.set_model(m)
    x = np.array([0.5, 1.0], np.float32)
    diagram.set_input(x)
    click_edge(qtbot, diagram, diagram.edge_item(2, 1, 0))
    diagram.editor.lineEdit().selectAll()
    with qtbot.waitSignal(diagram.weight_edited, timeout=2000) as sig:
        QTest.keyClicks(diagram.editor, "1.25")
        QTest.keyClick(diagram.editor, Qt.Key.Key_Return)
    assert sig.args == [1, "kernel", (1, 0), 1.25]
    assert m.layers[1].params["kernel"][1, 0] == np.float32(1.25)
    w1, b1, w2, b2 = (np.asarray(w, np.float64) for w in m.get_weights())
    y = sigmoid(sigmoid(x @ w1 + b1) @ w2 + b2)
    assert diagram.node_item(2, 0).text.text() == fmt(y[0])
    assert "from" in diagram.banner_text() and "1.25" in diagram.banner_text()

    # Esc leaves the bias as it was
    b_item = diagram.bias_item(2, 0)
    QTest.mouseClick(diagram.view.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier,
                     diagram.view.mapFromScene(b_item.rect().center()))
    qtbot.waitUntil(diagram.editor.is_open, timeout=2000)
    QTest.keyClicks(diagram.editor, "9")
    QTest.keyClick(diagram.editor, Qt.Key.Key_Escape)
    assert not diagram.editor.is_open() and m.layers[1].params["bias"][0] == np.float32(b2[0])


def test_highlight_points_at_one_quantity(diagram):
    m = small_model()
    diagram.set_model(m)
    diagram.set_trace(m.trace_step(np.array([[0.5, 1.0]], np.float32), np.array([1])))
    diagram.set_phase("backward", 1)
    diagram.highlight("edge", 0, 1, 2)
    items = diagram.highlighter._items
    assert items["halo"].isVisible() and "∂L/∂w" in items["text"].text()
    assert "kernel[1, 2]" in diagram.info_text()
    diagram.highlight("node", -1, 0)
    assert items["ring"].isVisible() and not items["halo"].isVisible()
    diagram.highlight("bias", 1, 0)
    assert items["box"].isVisible()
    diagram.clear_highlight()
    assert not any(i.isVisible() for i in items.values())
    with pytest.raises(ValueError):
        diagram.highlight("edge", 0, 5, 0)
    with pytest.raises(ValueError):
        diagram.highlight("wire", 0, 0)


def test_bad_arguments_are_clear_errors(diagram):
    diagram.set_model(small_model())
    for call in (lambda: diagram.set_phase("sideways"), lambda: diagram.set_edge_mode("size"),
                 lambda: diagram.set_max_edges(0), lambda: diagram.set_phase("forward", 9),
                 lambda: diagram.set_input(np.zeros(5, np.float32))):
        with pytest.raises(ValueError):
            call()


def test_forward_frames_show_values_only_up_to_the_reached_column(diagram):
    m = small_model()
    diagram.set_model(m)
    trace = m.trace_step(np.array([[0.5, 1.0]], np.float32), np.array([1]))
    diagram.set_trace(trace)
    diagram.set_phase("forward", 1)
    assert diagram.node_item(1, 0).text.text() == fmt(trace.layers[0].output[0, 0])
    assert diagram.node_item(2, 0).text.text() == ""          # not computed yet
    assert "not computed yet" in diagram.formula(("node", 2, 0))
    diagram.set_phase("loss")
    assert diagram.node_item(2, 0).text.text() == fmt(trace.y_pred[0, 0])
    assert fmt(trace.per_sample_loss[0]) in diagram.scene_.loss_box.label.text()


def test_hovering_the_input_image_names_the_pixel(diagram, qtbot):
    m = Sequential([Flatten(), Dense(8, activation="relu"), Dense(10, activation="softmax")],
                   input_shape=(28, 28, 1), seed=0)
    diagram.set_model(m)
    x = np.zeros((28, 28, 1), np.float32)
    x[14, 9, 0] = 0.75
    diagram.set_input(x)
    image = diagram.scene_.images[0]
    centre = image.pixel_center(14 * 28 + 9)
    with qtbot.waitSignal(diagram.node_hovered, timeout=2000) as sig:
        QTest.mouseMove(diagram.view.viewport(), diagram.view.mapFromScene(centre))
    assert sig.args == [0, 14 * 28 + 9]
    assert "pixel (row 14, column 9) = 0.75" in image.toolTip()


def test_layout_follows_the_view_size_at_real_text_size(diagram, qtbot):
    diagram.set_model(small_model())
    diagram.resize(800, 500)
    qtbot.waitUntil(lambda: diagram._built_size == (diagram.view.viewport().width(),
                                                    diagram.view.viewport().height()))
    narrow = diagram.node_item(2, 0).center.x() - diagram.node_item(0, 0).center.x()
    diagram.resize(1300, 700)
    qtbot.waitUntil(lambda: diagram._built_size == (diagram.view.viewport().width(),
                                                    diagram.view.viewport().height()))
    wide = diagram.node_item(2, 0).center.x() - diagram.node_item(0, 0).center.x()
    assert wide > narrow                              # the layers spread over the room
    assert diagram.view.transform().m11() == 1.0      # text drawn at its own size


def test_whole_network_stays_in_view_when_resized(diagram, qtbot):
    diagram.set_model(Sequential([Dense(128, activation="relu"), Dense(10)],
                                 input_shape=(784,), seed=0))
    for size in ((700, 420), (1300, 800)):
        diagram.resize(*size)
        qtbot.waitUntil(lambda: diagram.view.viewport().width() > 0)
        diagram.view.fit()
        seen = diagram.view.mapToScene(diagram.view.viewport().rect()).boundingRect()
        rect = diagram.scene_.sceneRect()
        assert seen.adjusted(-1, -1, 1, 1).contains(rect)


def test_edge_numbers_of_crossing_edges_do_not_run_into_each_other(qtbot):
    d = NetworkDiagram()
    qtbot.addWidget(d)
    d.resize(620, 300)               # the backprop stepper's narrow diagram
    d.show()
    qtbot.waitExposed(d)
    m = Sequential([Dense(2, activation="sigmoid"), Dense(1, activation="sigmoid")],
                   input_shape=(2,), seed=3)
    m.compile(SGD(0.5), "binary_crossentropy")
    d.set_model(m)
    d.set_trace(m.trace_step(np.array([[0.22, 1.0]], np.float32), np.array([0])))
    d.set_phase("forward", 1)
    plates = [bg.rect() for bg, t in d.scene_.edge_labels[1] if bg.isVisible()]
    assert len(plates) == 4                           # every weight has its number
    for i, a in enumerate(plates):
        for b in plates[i + 1:]:
            assert not a.intersects(b)


def test_the_editor_shows_a_weight_as_it_stands_between_two_training_steps(diagram, qtbot):
    m = small_model()
    diagram.set_model(m)
    in_step, finish = threading.Event(), threading.Event()

    def training_step():
        # a worker's update, caught half-way: the model's lock is held until it is whole
        with m._lock:
            m.layers[1].params["kernel"][1, 0] = np.float32(123.0)
            in_step.set()
            finish.wait(10)
            m.layers[1].params["kernel"][1, 0] = np.float32(0.75)

    worker = threading.Thread(target=training_step)
    worker.start()
    try:
        assert in_step.wait(10)
        threading.Timer(0.2, finish.set).start()
        diagram.edit_param(1, "kernel", (1, 0))
    finally:
        finish.set()
        worker.join(10)
    assert diagram.editor.is_open()
    assert diagram.editor.value() == pytest.approx(0.75)


def test_a_short_diagram_gives_the_formula_strips_height_to_the_network_at_once(diagram):
    diagram.set_model(small_model())
    layout = diagram.layout()
    legends_row = layout.itemAt(layout.count() - 1)

    def gap_under_the_view():
        return legends_row.geometry().top() - diagram.view.geometry().bottom() - 1

    assert diagram.info.isVisible() and gap_under_the_view() > diagram.info.height()
    tall_view = diagram.view.height()
    diagram.resize(diagram.width(), COMPACT_HEIGHT - 40)   # no event loop in between
    assert not diagram.info.isVisible()
    assert gap_under_the_view() == layout.spacing()          # the view reaches the legends
    diagram.resize(diagram.width(), 560)
    assert diagram.info.isVisible() and diagram.view.height() == tall_view
