"""Dropout lesson: both networks train (curves for each), the diagram's masks change from
batch to batch and drop about `rate` of the units, leaving or NaN stops cleanly with the
engine's reason."""
import numpy as np
import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import Qt  # noqa: E402

from core.teaching.overfitting import (MaskRecorder, StepBatches, build_overfit_model,  # noqa: E402
                                       clone_model, dropout_layers, generalization_gap, kept_masks,
                                       small_digits)
from gui.lessons.dropout import DropoutLesson  # noqa: E402

TIMEOUT = 90_000


@pytest.fixture
def lesson(qtbot):
    w = DropoutLesson()
    qtbot.addWidget(w)
    w.show()
    w.resize(1040, 700)
    qtbot.waitExposed(w)
    w.n_spin.setValue(100)        # small and quick: the behaviour, not the result, is tested
    yield w
    w.shutdown()


def test_core_setup_is_balanced_and_masks_follow_the_rate():
    xt, yt, xv, yv = small_digits(n_train=100, n_val=50)
    assert xt.shape == (100, 784) and xv.shape == (50, 784)
    assert np.bincount(yt, minlength=10).tolist() == [10] * 10
    # no digit is in both sets (the offline digits are distinct images)
    assert not (xt[:, None, :] == xv[None, :, :]).all(axis=2).any()
    plain, drop = build_overfit_model(0.0, seed=3), build_overfit_model(0.3, seed=3)
    assert dropout_layers(plain) == [] and dropout_layers(drop) == [1, 3]
    # the same starting weights: the only difference is dropout
    for a, b in zip(plain.get_weights(), drop.get_weights()):
        np.testing.assert_array_equal(a, b)
    step = clone_model(drop, seed=1)
    batches = StepBatches(xt, yt, batch_size=50, seed=0)
    _, xb, yb = batches.next()
    trace = step.trace_step(xb, yb)
    kept = trace.layers[1].extras["kept"]                       # (50, 128)
    assert kept.shape == (50, 128)
    assert abs((1 - kept.mean()) - 0.3) < 0.03
    np.testing.assert_array_equal(kept_masks(step, sample=None)[3], trace.layers[3].extras["kept"])
    # dropout zeroes exactly the dropped units and scales the kept ones by 1/(1 - rate)
    x_in, out = trace.layers[1].input, trace.layers[1].output
    np.testing.assert_allclose(out, np.where(kept, x_in / 0.7, 0.0), rtol=1e-6)
    # the recorder keeps the last training batch's masks through the validation pass
    rec = MaskRecorder(drop)
    drop.fit(xt, yt, epochs=2, batch_size=32, validation_data=(xv, yv), seed=0)
    assert rec.batches == 2 * 4                                 # ceil(100 / 32) per epoch
    assert kept_masks(drop) == {}                               # validation dropped nothing
    batch, masks = rec.snapshot
    assert sorted(masks) == [1, 3] and masks[1].shape == (100 - 3 * 32, 128)
    # a batch is counted when its last Dropout layer has run, not once per layer
    drop.layers[1].forward(np.ones((5, 128), np.float32), training=True)
    assert rec.snapshot[0] == batch
    assert generalization_gap([1.0, 0.5, 0.2], [1.1, 0.9, 0.8]) == pytest.approx(0.6)
    assert generalization_gap([1.0, np.nan], [1.2, np.nan]) == pytest.approx(0.2)
    assert generalization_gap([], []) is None


def test_trains_both_and_shows_their_curves(qtbot, lesson):
    lesson.epochs_spin.setValue(3)
    with qtbot.waitSignal(lesson.training_finished, timeout=TIMEOUT):
        qtbot.mouseClick(lesson.playback.play_button, Qt.MouseButton.LeftButton)
        assert not lesson.rate_spin.isEnabled()          # settings locked while training
    qtbot.waitUntil(lambda: not lesson.running_workers(), timeout=TIMEOUT)
    assert set(lesson.runs) == {"plain", "dropout"}
    for run in lesson.runs.values():
        assert run.status == "finished"
        assert len(run.epochs) == 3
        for kind, col in (("train", "loss"), ("val", "val_loss")):
            xs, ys = lesson.plot.curve_item(run.id, "loss", kind).getData()
            np.testing.assert_array_equal(xs, [1, 2, 3])
            np.testing.assert_allclose(ys, run.epochs.get(col))
    assert lesson.runs["dropout"].settings["dropout"] == 0.5
    gap = lesson.gap("plain")
    ep = lesson.runs["plain"].epochs
    assert gap == pytest.approx(ep.get("val_loss")[-1] - ep.get("loss")[-1])
    assert "no dropout" in lesson.gap_label.text() and "dropout 0.5" in lesson.gap_label.text()
    assert "Done" in lesson.message.text()
    assert lesson.rate_spin.isEnabled()


def test_masks_blink_per_batch_and_drop_about_the_rate(qtbot, lesson):
    lesson.rate_spin.setValue(0.4)
    seen = []
    for _ in range(3):
        with qtbot.waitSignal(lesson.masks_changed, timeout=5000):
            qtbot.mouseClick(lesson.playback.forward_button, Qt.MouseButton.LeftButton)
        seen.append({i: m.copy() for i, m in lesson.batch_masks.items()})
    layers = dropout_layers(lesson.stepper)
    assert sorted(seen[0]) == layers
    for i in layers:
        assert not np.array_equal(seen[0][i], seen[1][i])     # a new mask every batch
        assert not np.array_equal(seen[1][i], seen[2][i])
        for masks in seen:
            assert abs((1 - masks[i].mean()) - 0.4) < 0.05    # (32, 128): dropped ≈ rate
    # the diagram fades exactly the dropped units of the example shown
    col = lesson.diagram.column_for_layer(layers[0])
    shown = lesson.shown_masks[layers[0]]
    np.testing.assert_array_equal(shown, seen[-1][layers[0]][0])
    for u in lesson.diagram.columns()[col].shown:
        assert (lesson.diagram.node_item(col, int(u)).opacity() > 0.9) == bool(shown[u])
    assert "dropped" in lesson.mask_label.text()
    # the → key steps too
    lesson.setFocus()
    with qtbot.waitSignal(lesson.masks_changed, timeout=5000):
        qtbot.keyClick(lesson, Qt.Key.Key_Right)


def test_masks_shown_live_while_training_and_leaving_stops(qtbot, lesson):
    lesson.epochs_spin.setValue(200)
    assert lesson.start()
    with qtbot.waitSignal(lesson.masks_changed, timeout=TIMEOUT):
        pass
    first = {i: m.copy() for i, m in lesson.batch_masks.items()}
    assert sorted(first) == dropout_layers(lesson.models["dropout"])
    with qtbot.waitSignal(lesson.masks_changed, timeout=TIMEOUT):
        pass
    assert any(not np.array_equal(first[i], lesson.batch_masks[i]) for i in first)
    lesson.deactivate()
    assert not lesson.running_workers()
    assert not lesson.playback.is_playing()
    assert lesson.runs["plain"].status == "stopped"
    assert "left the lesson" in lesson.runs["plain"].stop_reason
    assert lesson.rate_spin.isEnabled()
    assert lesson.start()                            # closing the window mid-training
    lesson.shutdown()
    assert not lesson.running_workers()


def test_nan_run_shows_the_engines_reason(qtbot, lesson, monkeypatch):
    import gui.lessons.dropout as mod

    real = mod.build_overfit_model

    def broken(rate=0.0, **kw):
        model = real(rate, **kw)
        ws = model.get_weights()
        ws[0][0, 0] = np.nan        # a poisoned weight: the first batch's loss is NaN
        model.set_weights(ws)
        return model

    monkeypatch.setattr(mod, "build_overfit_model", broken)
    lesson.epochs_spin.setValue(2)
    with qtbot.waitSignal(lesson.training_finished, timeout=TIMEOUT):
        lesson.start()
    statuses = {run.status for run in lesson.runs.values()}
    assert statuses == {"diverged"}
    reason = lesson.runs["plain"].stop_reason
    assert reason and "NaN" in reason
    assert reason in lesson.message.text() or lesson.runs["dropout"].stop_reason in lesson.message.text()
