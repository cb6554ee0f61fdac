"""A run whose loss explodes (or grows while stuck at chance) stops with a sentence naming
the learning rate; a healthy run, however noisy, is never stopped. Issue 13 item 6."""
import numpy as np
import pytest

from core.callbacks import Divergence
from core.teaching.tasks import build_classifier, prepare_builtin


@pytest.fixture(scope="module")
def digits():
    return prepare_builtin("digits")


@pytest.fixture(scope="module")
def cancer():
    return prepare_builtin("breast_cancer")


def fit(data, optimizer, lr, batch, epochs, hidden=((64, "relu"),)):
    model = build_classifier(data, hidden, optimizer, lr, 0)
    hist = model.fit(data.x_train, data.y_train, epochs=epochs, batch_size=batch,
                     validation_data=(data.x_val, data.y_val), seed=0)
    return model, hist


def test_sgd_at_1e6_on_the_dashboards_network_stops_in_the_first_epoch(digits):
    # today: loss 3.3e31 at 10 % accuracy, ten epochs, "finished" with no reason
    _, hist = fit(digits, "sgd", 1e6, 32, epochs=10)
    assert hist.diverged and len(hist.epoch) == 1
    assert hist.stop_reason.startswith("training stopped at epoch 1, batch ")
    assert "the loss is diverging" in hist.stop_reason
    assert "The learning rate 1000000 is too large" in hist.stop_reason
    assert "e+" not in hist.stop_reason   # a learner reads plain numbers


def test_a_loss_growing_at_chance_stops_naming_chance_and_the_learning_rate(cancer):
    # Adam at η = 1: the loss grows tens of times (never 1000×) and the network answers
    # "benign" for everyone (63 %): it has stopped learning
    _, hist = fit(cancer, "adam", 1.0, 32, epochs=20)
    assert hist.diverged and len(hist.epoch) == 1
    assert "while the accuracy stayed at chance" in hist.stop_reason
    assert "63 %" in hist.stop_reason
    assert "The learning rate 1 is too large" in hist.stop_reason


@pytest.mark.parametrize("optimizer,lr,batch,epochs", [
    ("sgd", 0.1, 1, 3),       # stochastic: one real tumour per update
    ("sgd", 1.0, 32, 20),     # a large but workable step
    ("adam", 0.01, 1, 2),
    ("adam", 0.1, 32, 20),
])
def test_healthy_runs_on_real_data_are_never_stopped(cancer, optimizer, lr, batch, epochs):
    model, hist = fit(cancer, optimizer, lr, batch, epochs)
    assert hist.stop_reason is None and not hist.diverged
    assert len(hist.epoch) == epochs
    assert model.evaluate(cancer.x_val, cancer.y_val)["accuracy"] > 0.9


def test_stochastic_gradient_descent_on_real_digits_is_never_stopped(digits):
    model, hist = fit(digits, "sgd", 0.05, 1, 1)
    assert hist.stop_reason is None
    assert model.evaluate(digits.x_val, digits.y_val)["accuracy"] > 0.8


def test_a_lesson_training_one_epoch_per_fit_keeps_where_training_started(digits):
    """A session that calls fit(epochs=1) per epoch measures every epoch against the
    loss where the model's training began, not against an epoch already diverging."""
    model = build_classifier(digits, ((64, "relu"),), "sgd", 0.05, 0)
    model.fit(digits.x_train, digits.y_train, epochs=1, seed=0)
    start = model._start_loss
    assert start == pytest.approx(np.log(10), rel=0.2)      # untrained: about ln 10
    model.fit(digits.x_train, digits.y_train, epochs=1, seed=1)
    assert model._start_loss == start                      # not the trained loss
    model.compile(model.optimizer, model.loss, model.metrics)
    assert model._start_loss is None                       # a new compile starts afresh


def test_single_noisy_batches_do_not_stop_a_run():
    rng = np.random.default_rng(0)
    watch = Divergence(baseline=0.7, chance=0.6, batch_size=1, batches_per_epoch=500,
                       learning_rate=0.1)
    for i in range(500):
        loss = rng.exponential(0.4)
        if i % 50 == 7:
            loss = 60.0        # one confidently wrong example: 85 × the start, alone
        acc = float(rng.random() < 0.8)
        assert watch.observe(loss, acc, 1) is None


def test_the_window_decides_not_one_batch_at_chance():
    watch = Divergence(baseline=0.7, chance=0.6, batch_size=32, batches_per_epoch=20,
                       learning_rate=3.0)
    reasons = [watch.observe(5.0, 0.6, 32, f"epoch 1, batch {b + 1}") for b in range(8)]
    assert reasons[:7] == [None] * 7                    # the window (256 samples) fills first
    assert reasons[7].startswith("training stopped at epoch 1, batch 8")
    assert "learning rate 3 is too large" in reasons[7]
