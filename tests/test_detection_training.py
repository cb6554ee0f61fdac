"""The grid detector trains on the detection loss through the engine's layers (issue 17,
item 5). Small canvases keep it fast; benchmarks/detection.py measures the real thing."""
import numpy as np
import pytest

from core.teaching.detector import DetectorTrainer, build_detector, evaluate_map
from core.teaching.scenes import make_scenes
from core.teaching.yolo import Grid, detection_loss, encode

GRID = Grid(canvas=32, cells=4, classes=10)


def small_scenes(n, seed):
    return make_scenes(n, seed=seed, canvas=32, n_digits=(1, 2), sizes=(12, 16))


def test_detector_output_is_the_grid():
    model = build_detector(GRID, width=4, seed=0)
    assert model.output_shape == (4, 4, 15)
    with pytest.raises(ValueError, match="grid needs"):
        DetectorTrainer(model, Grid(canvas=32, cells=8))


def test_training_lowers_the_detection_loss_and_keeps_its_gradient():
    scenes = small_scenes(16, seed=1)
    targets = encode(GRID, scenes.boxes, scenes.labels)
    trainer = DetectorTrainer(build_detector(GRID, width=4, seed=0), GRID,
                              learning_rate=3e-3, batch_size=16)
    first, _, _ = detection_loss(trainer.predict_raw(scenes.images), targets)
    for _ in range(60):
        trainer.step(scenes.images, targets)
    last, _, _ = detection_loss(trainer.predict_raw(scenes.images), targets)
    assert last < 0.5 * first
    # the step's loss is the loss of the model's own predictions before that step
    before = detection_loss(trainer.predict_raw(scenes.images), targets)[0]
    assert trainer.step(scenes.images, targets)["loss"] == pytest.approx(before, rel=1e-4)


def test_a_non_finite_batch_changes_no_weight_and_stops_an_epoch():
    scenes = small_scenes(8, seed=2)
    trainer = DetectorTrainer(build_detector(GRID, width=4, seed=0), GRID, batch_size=4)
    weights = trainer.model.get_weights()
    bad = scenes.images.copy()
    bad[:, 0, 0, 0] = np.nan                            # every batch of the epoch is bad
    from core.teaching.scenes import SceneSet
    logs = trainer.train_epoch(SceneSet(bad, scenes.boxes, scenes.labels, scenes.masks,
                                        scenes.instances))
    assert logs["loss"] == float("inf") and trainer.stop_training
    assert len(trainer.history) == 1
    assert "not a number" in trainer.stop_reason and "step 1" in trainer.stop_reason
    for a, b in zip(weights, trainer.model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_stop_training_ends_an_epoch_after_the_current_batch():
    scenes = small_scenes(12, seed=3)
    trainer = DetectorTrainer(build_detector(GRID, width=4, seed=0), GRID, batch_size=4)
    trainer.stop_training = True
    trainer.train_epoch(scenes)
    assert len(trainer.history) == 1


def test_evaluate_map_scores_a_trained_detector_on_its_scenes():
    scenes = small_scenes(24, seed=4)
    trainer = DetectorTrainer(build_detector(GRID, width=8, seed=0), GRID,
                              learning_rate=3e-3, batch_size=8)
    m0, _ = evaluate_map(trainer.model, GRID, scenes)
    for epoch in range(40):
        trainer.train_epoch(scenes, seed=epoch)
    m1, curves = evaluate_map(trainer.model, GRID, scenes)
    assert 0.0 <= m0 < 0.3 and m1 > 0.6        # it learned to find its own training digits
    assert len(curves) == 10
