"""Why a run failed, from its history (issue 15 item 11): constructed histories, one per
failure, and runs that learned get no sentence."""
import math

import numpy as np
import pytest

from core.teaching.diagnosis import (chance_accuracy, diagnose, diagnose_run, suggest_larger,
                                     suggest_smaller)
from core.teaching.runs import Run


def test_stuck_at_chance_with_a_large_learning_rate_names_it_and_suggests_point_one():
    d = diagnose([2.40, 2.36, 2.38, 2.37], [0.10, 0.10, 0.099, 0.10], n_classes=10,
                 learning_rate=3)
    assert d.kind == "chance"
    assert str(d) == ("Accuracy stayed at 10 %, chance for 10 classes: the learning rate 3 is "
                      "probably too large — the weights jumped past every good value; try 0.1.")


def test_stuck_near_chance_with_a_tiny_learning_rate_says_too_small():
    d = diagnose([2.369, 2.356, 2.343, 2.262], [0.075, 0.09, 0.11, 0.14], n_classes=10,
                 learning_rate=0.0001)
    assert d.kind == "chance"
    assert "14 %, near chance (10 % is chance for 10 classes)" in d.sentence
    assert "learning rate 0.0001 is probably too small" in d.sentence
    assert "try 0.001" in d.sentence


def test_chance_on_lopsided_labels_is_the_most_common_class_share():
    labels = np.array([0] * 63 + [1] * 37)
    chance = chance_accuracy(2, labels)
    assert chance == pytest.approx(0.63)
    d = diagnose([0.681] * 6, [0.648] * 6, n_classes=2, chance=chance, learning_rate=0.0001)
    assert d.kind == "chance"
    assert "what always answering the most common class scores" in d.sentence
    assert "63 %" in d.sentence and "64.8 %" in d.sentence


def test_diverged_loss_says_how_far_it_grew_and_what_to_try():
    d = diagnose([0.69, 0.9, 4.0, 31.0], [0.5, 0.5, 0.5, 0.5], n_classes=2, learning_rate=1)
    assert d.kind == "diverged"
    assert d.sentence.startswith("The loss grew from 0.69 to 31: the learning rate 1 is too "
                                 "large")
    assert d.sentence.endswith("try 0.1.")
    nan = diagnose([0.7, math.nan], None, learning_rate=0.05)
    assert nan.kind == "diverged" and "NaN" in nan.sentence and "try 0.005" in nan.sentence
    flagged = diagnose([2.3, 2.2], None, learning_rate=3, diverged=True)
    assert flagged.kind == "diverged"


def test_flat_loss_without_accuracy_names_the_candidates():
    d = diagnose([1.0, 0.999, 0.998, 0.998], None, learning_rate=0.1)
    assert d.kind == "flat"
    assert d.sentence.startswith("The loss hardly moved (1 → 0.998)")
    assert "dead ReLUs" in d.sentence and "larger learning rate" in d.sentence


def test_too_few_updates_is_the_cause_before_any_learning_rate_guess():
    d = diagnose([0.69, 0.68, 0.675], [0.61, 0.61, 0.61], n_classes=2, chance=0.61,
                 learning_rate=0.1, updates=10)
    assert d.kind == "chance" and "only 10 weight updates" in d.sentence


def test_runs_that_learned_get_no_sentence():
    assert diagnose([0.83, 0.38, 0.30, 0.12], [0.78, 0.90, 0.91, 0.97], n_classes=10,
                    learning_rate=0.1) is None
    assert diagnose([0.5, 0.3, 0.2], None, learning_rate=0.01) is None
    # noisy but learning: never called diverged because one epoch was worse than the last
    assert diagnose([0.53, 0.29, 0.18, 0.38, 0.14], [0.74, 0.89, 0.94, 0.85, 0.95],
                    n_classes=2, learning_rate=1) is None
    assert diagnose([], None) is None and diagnose([0.7], [0.5], n_classes=2) is None


def test_suggested_learning_rates():
    assert suggest_smaller(3) == 0.1 and suggest_smaller(0.1) == pytest.approx(0.01)
    assert suggest_larger(0.0001) == pytest.approx(0.001) and suggest_larger(0.05) == 0.1


def _run(status, epochs=(), batches=(), lr=None):
    run = Run("r", {"learning_rate": lr} if lr is not None else {})
    run.epochs.extend(epochs)
    run.batches.extend(batches)
    run.status = status
    return run


def test_diagnose_run_reads_a_runs_epochs_and_judges_only_ended_runs():
    epochs = [{"step": i, "epoch": i, "time": i, "loss": 2.3, "accuracy": 0.1}
              for i in range(1, 5)]
    run = _run("finished", epochs, lr=3)
    assert diagnose_run(run, n_classes=10).kind == "chance"
    assert diagnose_run(_run("running", epochs, lr=3), n_classes=10) is None
    # stopped by the learner after two epochs: it has not had its chance
    assert diagnose_run(_run("stopped", epochs[:2], lr=3), n_classes=10) is None


def test_diagnose_run_of_a_run_that_diverged_in_its_first_epoch_uses_its_updates():
    batches = [{"step": i, "epoch": i / 100, "time": i, "loss": 2.4 * 1.5 ** i,
                "accuracy": 0.1} for i in range(10)]
    d = diagnose_run(_run("diverged", batches=batches, lr=3), n_classes=10)
    assert d.kind == "diverged"
    assert "learning rate 3 is too large" in d.sentence and "try 0.1" in d.sentence
