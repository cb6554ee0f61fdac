"""Network playground: architecture edits, live training in a worker, the heat maps."""
import math

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QEnterEvent
from PySide6.QtWidgets import QApplication, QLabel, QToolButton

from core.data import load_planar, train_validation_split
from gui.lessons.playground import N_POINTS, TEST_FRACTION, VIEW_EXTENT, PlaygroundLesson


@pytest.fixture
def lesson(qtbot):
    w = PlaygroundLesson()
    qtbot.addWidget(w)
    w.resize(1040, 680)
    w.show()
    yield w
    w.shutdown()
    assert not w.running_workers()


def _bce(model, x, y):
    """Binary cross-entropy from the model's predictions, by hand in float64."""
    p = np.clip(model.predict(x)[:, 0].astype(np.float64), 1e-7, 1 - 1e-7)
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


def _button(lesson, name):
    return next(b for b in lesson.findChildren(QToolButton) if b.accessibleName() == name)


def test_opens_with_a_heat_map_points_and_one_tile_per_hidden_neuron(lesson):
    assert lesson.title_label.text() == "Network playground"
    assert lesson.hidden == [4, 2]
    assert len(lesson.network.hidden_tiles()) == 6
    assert [lay.units for lay in lesson.model.layers] == [4, 2, 1]
    n_test = round(TEST_FRACTION * N_POINTS)
    assert lesson.plane.point_count() == (N_POINTS - n_test, n_test)
    grid = lesson.snapshot.grid
    np.testing.assert_array_equal(lesson.plane.values(), grid.probability())
    # every tile shows its own neuron's output over the plane
    tile = lesson.network.layers[1][1]
    np.testing.assert_array_equal(tile.values(), grid.hidden[1][..., 1])
    assert tile.rgba().shape == (grid.shape[0], grid.shape[1], 4)


def test_adding_and_removing_neurons_and_layers_changes_model_and_tiles(lesson, qtbot):
    qtbot.mouseClick(_button(lesson, "Add neuron to layer 1"), Qt.MouseButton.LeftButton)
    assert lesson.hidden == [5, 2]
    assert lesson.model.layers[0].units == 5
    assert lesson.model.get_weights()[0].shape == (2, 5)
    assert len(lesson.network.hidden_tiles()) == 7
    qtbot.mouseClick(_button(lesson, "Add hidden layer"), Qt.MouseButton.LeftButton)
    assert len(lesson.model.layers) == 4
    assert len(lesson.network.layers) == 3
    assert len(lesson.network.hidden_tiles()) == 7 + lesson.hidden[2]
    assert len(lesson.snapshot.grid.hidden) == 3
    qtbot.mouseClick(_button(lesson, "Remove neuron from layer 2"), Qt.MouseButton.LeftButton)
    assert lesson.hidden[1] == 1 and lesson.model.layers[1].units == 1
    # one neuron is the least a layer can have
    assert not _button(lesson, "Remove neuron from layer 2").isEnabled()
    params = sum(w.size for w in lesson.model.get_weights())
    assert lesson.params_label.text() == f"{params} parameters"


def test_no_hidden_layer_is_a_single_neuron_and_says_so(lesson, qtbot):
    remove = _button(lesson, "Remove hidden layer")
    qtbot.mouseClick(remove, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(lesson.status_message, timeout=1000) as sig:
        qtbot.mouseClick(remove, Qt.MouseButton.LeftButton)
    assert "logistic regression" in sig.args[0]
    assert [lay.units for lay in lesson.model.layers] == [1]
    assert lesson.network.hidden_tiles() == []
    assert not remove.isEnabled()


def test_steps_lower_the_loss_and_change_the_heat_maps(lesson, qtbot):
    s = lesson.split
    before_loss = lesson.train_loss.value()
    assert before_loss == pytest.approx(_bce(lesson.model, s.x_train, s.y_train), rel=1e-4)
    before_plane = lesson.plane.values().copy()
    before_tile = lesson.network.layers[0][0].rgba().copy()
    lesson.batch_combo.setCurrentIndex(lesson.batch_combo.findText("5"))
    for _ in range(15):
        qtbot.mouseClick(lesson.playback.forward_button, Qt.MouseButton.LeftButton)
    assert lesson.epoch_label.text() == "15"
    after = lesson.train_loss.value()
    assert after < before_loss - 0.05
    # the numbers on screen are the model's, computed independently
    assert after == pytest.approx(_bce(lesson.model, s.x_train, s.y_train), rel=1e-4)
    assert lesson.test_loss.value() == pytest.approx(_bce(lesson.model, s.x_test, s.y_test),
                                                     rel=1e-4)
    acc = np.mean((lesson.model.predict(s.x_test)[:, 0] > 0.5) == s.y_test)
    assert lesson.test_acc.value() == pytest.approx(acc)
    assert not np.array_equal(lesson.plane.values(), before_plane)
    assert not np.array_equal(lesson.network.layers[0][0].rgba(), before_tile)
    xs, ys = lesson.train_curve.getData()
    assert list(xs) == list(range(16)) and ys[-1] == pytest.approx(after)


def test_full_batch_is_one_update_per_epoch(lesson, qtbot):
    n_train = len(lesson.split.y_train)
    qtbot.mouseClick(lesson.playback.forward_button, Qt.MouseButton.LeftButton)
    assert lesson.model.optimizer.iterations == math.ceil(n_train / 10)
    lesson.batch_combo.setCurrentIndex(lesson.batch_combo.findText("full batch"))
    start = lesson.model.optimizer.iterations
    for _ in range(3):
        qtbot.mouseClick(lesson.playback.forward_button, Qt.MouseButton.LeftButton)
    assert lesson.model.optimizer.iterations == start + 3
    assert lesson.updates_label.text() == str(start + 3)


def test_full_batch_step_is_plain_gradient_descent(lesson, qtbot):
    lesson.batch_combo.setCurrentIndex(lesson.batch_combo.findText("full batch"))
    qtbot.mouseClick(_button(lesson, "Remove hidden layer"), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(_button(lesson, "Remove hidden layer"), Qt.MouseButton.LeftButton)
    w, b = [a.astype(np.float64) for a in lesson.model.get_weights()]
    x, y = lesson.split.x_train.astype(np.float64), lesson.split.y_train
    p = 1 / (1 + np.exp(-(x @ w + b)))[:, 0]
    # ∂L/∂w of the mean binary cross-entropy of one sigmoid neuron: Xᵀ(p − y)/N
    grad_w = x.T @ (p - y) / len(y)
    grad_b = np.mean(p - y)
    qtbot.mouseClick(lesson.playback.forward_button, Qt.MouseButton.LeftButton)
    w2, b2 = lesson.model.get_weights()
    np.testing.assert_allclose(w2[:, 0], w[:, 0] - 0.03 * grad_w, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(b2, b - 0.03 * grad_b, rtol=1e-4, atol=1e-6)


def test_play_trains_in_a_worker_and_pause_stops_it(lesson, qtbot):
    lesson.playback.set_speed(16)
    loss0 = lesson.train_loss.value()
    qtbot.mouseClick(lesson.playback.play_button, Qt.MouseButton.LeftButton)
    assert lesson.playback.is_playing()
    assert lesson.running_workers()
    qtbot.waitUntil(lambda: lesson.snapshot.epoch >= 5, timeout=10000)
    qtbot.mouseClick(lesson.playback.play_button, Qt.MouseButton.LeftButton)
    assert not lesson.playback.is_playing()
    assert not lesson.running_workers()
    # the last snapshot is the model's final state, and the counters agree with it
    s = lesson.split
    assert lesson.train_loss.value() == pytest.approx(_bce(lesson.model, s.x_train, s.y_train),
                                                      rel=1e-4)
    assert lesson.train_loss.value() < loss0
    assert lesson.epoch_label.text() == f"{lesson.epoch:,}"
    assert lesson.model.optimizer.iterations == lesson.epoch * math.ceil(len(s.y_train) / 10)


def test_learning_rate_reaches_a_running_model_and_deactivate_stops(lesson, qtbot):
    lesson.playback.set_speed(16)
    lesson.playback.set_playing(True)
    qtbot.waitUntil(lambda: lesson.snapshot.epoch >= 1, timeout=10000)
    lesson.lr_combo.setCurrentIndex(lesson.lr_combo.findText("0.3"))
    assert lesson.model.optimizer.learning_rate == pytest.approx(0.3)
    lesson.deactivate()
    assert not lesson.playback.is_playing()
    assert not lesson.running_workers()


def test_changing_the_network_while_playing_keeps_playing_from_epoch_zero(lesson, qtbot):
    lesson.playback.set_speed(16)
    lesson.playback.set_playing(True)
    qtbot.waitUntil(lambda: lesson.snapshot.epoch >= 2, timeout=10000)
    lesson.act_combo.setCurrentIndex(lesson.act_combo.findData("relu"))
    assert lesson.model.layers[0].output_activation() == "relu"
    assert lesson.running_workers()
    qtbot.waitUntil(lambda: lesson.snapshot.epoch >= 1, timeout=10000)
    lesson.playback.set_playing(False)
    # ReLU tiles are coloured from 0 up to the layer's largest output
    lo, hi = lesson.network.layers[0][0].value_range()
    assert lo == 0.0 and hi == pytest.approx(float(lesson.snapshot.grid.hidden[0].max()))


def test_hovering_a_neuron_shows_it_large(lesson):
    tile = lesson.network.layers[0][2]
    QApplication.sendEvent(tile, QEnterEvent(QPointF(5, 5), QPointF(5, 5), QPointF(5, 5)))
    np.testing.assert_array_equal(lesson.plane.values(), lesson.snapshot.grid.neuron(0, 2))
    assert "neuron 3" in lesson.view_title.text()
    assert "neuron 3" in lesson.value_legend.accessibleName()
    assert lesson.value_legend.tick_labels()[0] == "-1"      # tanh's range
    QApplication.sendEvent(tile, QEvent(QEvent.Type.Leave))
    prob = lesson.snapshot.grid.probability()
    np.testing.assert_array_equal(lesson.plane.values(), prob)
    assert lesson.plane.has_boundary() == bool(prob.min() < 0.5 < prob.max())


def test_plane_readout_is_the_model_at_that_point(lesson):
    x, y = 1.0, -0.5
    text = lesson.plane.readout(x, y)
    grid = lesson.snapshot.grid
    i = int(np.argmin(np.abs(grid.xs - x)))
    j = int(np.argmin(np.abs(grid.ys - y)))
    p = lesson.model.predict(np.array([[grid.xs[i], grid.ys[j]]], np.float32))[0, 0]
    assert lesson.plane.value_at(x, y) == pytest.approx(float(p), rel=1e-5)
    assert text.startswith("P(class 1)")
    assert lesson.plane.value_at(10 * VIEW_EXTENT, 0) is None


def test_choosing_a_dataset_and_noise_loads_it(lesson):
    lesson.noise_spin.setValue(0)
    lesson.dataset_combo.setCurrentIndex(lesson.dataset_combo.findData("xor"))
    data = load_planar("xor", n=N_POINTS, noise=0.0, seed=0)
    (xt, yt), _ = train_validation_split(data.x, data.y, TEST_FRACTION, seed=0)
    np.testing.assert_array_equal(lesson.split.x_train, xt)
    scatter = lesson.plane.train_points.data
    np.testing.assert_allclose(scatter["x"], xt[:, 0])
    # XOR: the triangles (class 1) are exactly the points whose coordinates share a sign
    tri = np.array([s == "t1" for s in scatter["symbol"]])
    np.testing.assert_array_equal(tri, xt[:, 0] * xt[:, 1] > 0)
    assert "same sign" in lesson.class_key.text()
    assert lesson.epoch == 0


def test_fresh_loss_plot_marks_its_one_point_then_draws_lines(lesson):
    # epoch 0 is a single point per curve: drawn as a dot, not an invisible line
    assert len(lesson.train_curve.getData()[0]) == 1
    assert lesson.train_curve.opts["symbol"] == "o" and lesson.test_curve.opts["symbol"] == "o"
    lesson.step()
    lesson.step()
    assert len(lesson.train_curve.getData()[0]) == 3
    assert lesson.train_curve.opts["symbol"] is None
    assert "loss" in " ".join(lbl.text() for lbl in lesson.findChildren(QLabel)
                              if "training" in lbl.text())
