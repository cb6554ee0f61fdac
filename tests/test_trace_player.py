"""TracePlayer: a StepTrace as frames — forward, loss, backward (right to left), update."""
import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from core.layers import Conv2D, Dense, Dropout, Flatten, MaxPool2D  # noqa: E402
from core.model import Sequential  # noqa: E402
from core.optimizers import SGD  # noqa: E402
from gui.widgets.diagram.network import NetworkDiagram  # noqa: E402
from gui.widgets.playback import PlaybackBar  # noqa: E402
from gui.widgets.trace_player import TracePlayer  # noqa: E402


def small_trace():
    m = Sequential([Dense(3, activation="sigmoid"), Dense(1, activation="sigmoid")],
                   input_shape=(2,), seed=1)
    m.compile(SGD(0.5), "binary_crossentropy")
    return m, m.trace_step(np.array([[0.5, 1.0], [0.1, -0.4]], np.float32), np.array([1, 0]))


@pytest.fixture
def wired(qtbot):
    m, trace = small_trace()
    d = NetworkDiagram()
    qtbot.addWidget(d)
    d.resize(900, 500)
    d.set_model(m)
    player = TracePlayer(d)
    player.set_trace(trace)
    return d, player, trace


def test_frames_run_forward_loss_backward_update(wired):
    d, player, trace = wired
    assert [(f.phase, f.column) for f in player.frames()] == [
        ("forward", 0), ("forward", 1), ("forward", 2), ("loss", None),
        ("backward", 2), ("backward", 1), ("update", None)]
    banners = [d.banner_text()]
    while player.step_forward():
        banners.append(d.banner_text())
    words = [b.split(":")[0] for b in banners]
    assert words == ["Forward pass"] * 3 + ["Loss"] + ["Backward pass"] * 2 + ["Update"]
    assert "the hidden layer computes z = x·W + b" in banners[1] and "sigmoid" in banners[1]
    assert f"{trace.loss:.4g}" in banners[3]
    assert "Backward at the output layer" in banners[4]
    assert "Backward at the hidden layer" in banners[5]
    assert "w ← w − η·∂L/∂w" in banners[6] and "η = 0.5" in banners[6]
    assert not player.step_forward() and player.index() == 6      # the end stays the end
    assert player.step_back() and d.banner_text() == banners[5] and d.phase() == ("backward", 1)
    player.reset()
    assert player.index() == 0 and d.banner_text() == banners[0]
    assert not player.step_back()


def test_frame_changed_carries_phase_column_and_sentence(wired, qtbot):
    d, player, _ = wired
    with qtbot.waitSignal(player.frame_changed, timeout=1000) as sig:
        player.step_forward()
    frame = sig.args[0]
    assert (frame.phase, frame.column, frame.index) == ("forward", 1, 1)
    assert frame.text == frame.sentence and frame.sentence in d.banner_text()


def test_play_runs_to_the_update_and_stops(wired, qtbot):
    d, player, _ = wired
    player.set_speed(16)
    with qtbot.waitSignal(player.finished, timeout=5000):
        player.play()
    assert player.at_end() and not player.is_playing() and d.phase() == ("update", None)
    player.play()                        # playing again starts over
    assert player.index() == 0 and player.is_playing()
    player.pause()


def test_playback_bar_drives_the_player(wired, qtbot):
    d, player, _ = wired
    bar = PlaybackBar()
    qtbot.addWidget(bar)
    player.connect_playback(bar)
    bar.forward_button.click()
    bar.forward_button.click()
    assert player.index() == 2 and d.phase() == ("forward", 2)
    bar.back_button.click()
    assert player.index() == 1
    bar.set_speed(16)
    assert player.speed() == 16
    with qtbot.waitSignal(player.finished, timeout=5000):
        bar.play_button.click()
    assert not bar.is_playing()           # the bar shows Play again once the step is over
    bar.reset_button.click()
    assert player.index() == 0


def test_frames_from_a_trace_alone_for_cnn_and_dropout():
    m = Sequential([Conv2D(2, 3, activation="relu"), MaxPool2D(2), Flatten(),
                    Dense(5, activation="relu"), Dropout(0.3, seed=0),
                    Dense(3, activation="softmax")], input_shape=(8, 8, 1), seed=0)
    m.compile(SGD(0.1), "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((4, 8, 8, 1)).astype(np.float32)
    player = TracePlayer()
    player.set_trace(m.trace_step(x, np.array([0, 1, 2, 1])))
    plan = [(f.phase, f.column) for f in player.frames()]
    n = 6            # image, conv, pool, flatten, dense, dropout, dense → columns 0…6
    assert plan == ([("forward", k) for k in range(n + 1)] + [("loss", None)]
                    + [("backward", k) for k in range(n, 0, -1)] + [("update", None)])
    sentences = [f.sentence for f in player.frames()]
    assert "slides its filters" in sentences[1] and "shrinks each feature map" in sentences[2]
    assert "probability 0.3" in sentences[5]
    assert "kept units" in sentences[9]
    player.set_trace(None)
    assert player.count() == 0 and not player.step_forward()


def test_a_step_past_the_update_is_reported_once_per_click(wired, qtbot):
    _, player, _ = wired
    seen = []
    player.stepped_past_end.connect(lambda: seen.append(player.index()))
    while player.step_forward():
        pass
    assert seen == [6]                    # the step that found the end, nothing while moving
    player.step_forward()
    assert seen == [6, 6] and player.index() == 6
