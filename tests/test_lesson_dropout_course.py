"""Dropout lesson, issue 15 item 4: after training the diagram shows the trained network (not
the untrained copy), the notes' underfitting / good fit / overfitting picture is built by
training, and the end of a run says whether dropout helped validation, and why not if not."""
import numpy as np
import pytest

pytest.importorskip("pytestqt")

from core.teaching import fit_capacity as fc  # noqa: E402
from core.teaching.overfitting import dropout_verdict  # noqa: E402
from gui.lessons.dropout import DropoutLesson  # noqa: E402

TIMEOUT = 120_000


@pytest.fixture
def lesson(qtbot):
    w = DropoutLesson()
    qtbot.addWidget(w)
    w.show()
    w.resize(1100, 760)
    qtbot.waitExposed(w)
    yield w
    w.shutdown()


def output_values(lesson):
    """The output column's numbers as the diagram shows them."""
    snap = lesson.diagram.snapshot()
    column = lesson.diagram.column_for_layer(len(lesson.stepper.layers) - 1)
    return np.asarray(snap.values[column], dtype=np.float64)


def test_after_training_the_diagram_answers_as_the_trained_network(qtbot, lesson):
    lesson.n_spin.setValue(200)
    lesson.epochs_spin.setValue(6)
    untrained = output_values(lesson).copy()
    with qtbot.waitSignal(lesson.training_finished, timeout=TIMEOUT):
        assert lesson.start()
    xv, yv = lesson.data()[2:]
    trained = np.asarray(lesson.models["dropout"].predict(xv[:1]))[0]       # dropout off
    shown = output_values(lesson)
    np.testing.assert_allclose(shown, trained, rtol=1e-4, atol=1e-6)
    assert not np.allclose(shown, untrained, atol=1e-3)
    # the sentence under the diagram says what it shows, in the shown numbers
    guess = int(np.argmax(trained))
    text = lesson.mask_label.text()
    assert "after 6 epochs" in text and f"answers {guess} at" in text
    assert f" {int(yv[0])}): it answers" in text
    assert "e-0" not in text and "e+0" not in text


def test_fits_of_growing_capacity_are_judged_from_their_errors():
    xt, yt, xn, yn = fc.capacity_points()
    errors = []
    for degree in fc.DEGREES:
        model = fc.build_capacity_model(degree)
        model.fit(fc.poly_features(xt, degree), yt, epochs=fc.EPOCHS, batch_size=len(xt),
                  shuffle=False)
        w = model.get_weights()
        # the curve drawn from the weights is the model's own prediction
        np.testing.assert_allclose(fc.polynomial_curve(w, xn),
                                   model.predict(fc.poly_features(xn, degree))[:, 0],
                                   rtol=1e-4, atol=1e-4)
        # against NumPy's own Legendre polynomials, not ours
        coef = np.concatenate([w[1], w[0][:, 0]]).astype(np.float64)
        np.testing.assert_allclose(fc.polynomial_curve(w, xn),
                                   np.polynomial.legendre.legval(xn, coef), rtol=1e-5, atol=1e-5)
        errors.append((fc.mean_squared_error(fc.polynomial_curve(w, xt), yt),
                       fc.mean_squared_error(fc.polynomial_curve(w, xn), yn)))
    (t1, n1), (t3, n3), (t11, n11) = errors
    assert t1 > 5 * t3 and n1 > 2 * n3              # the line misses the pattern everywhere
    assert t11 < t3 and n11 > 5 * n3                # degree 11 learns the noise
    assert fc.judge_fits([e[0] for e in errors], [e[1] for e in errors]) == [
        "underfitting", "good fit", "overfitting"]


def test_the_fit_picture_is_built_live_in_the_lesson(qtbot, lesson):
    fits = lesson.fits
    assert lesson.left_tabs.tabText(1) == "Under- and overfitting"
    lesson.left_tabs.setCurrentIndex(1)
    seen = []
    with qtbot.waitSignal(fits.fitted, timeout=TIMEOUT):
        assert fits.start()
        fits.session.snapshot.connect(lambda run, w: seen.append(run.id))
    assert len(seen) >= 3 * 5                     # the curves were redrawn as they learned
    assert fits.verdicts == ["underfitting", "good fit", "overfitting"]
    for k, degree in enumerate(fc.DEGREES):
        x, y = fits.curves[k].getData()
        np.testing.assert_allclose(y, fc.polynomial_curve(fits.weights[degree], x))
        label = fits.labels[k].text()
        assert fits.verdicts[k] in label and "training error" in label
    assert lesson.fits.fit_button.isEnabled()


def test_the_verdict_says_whether_dropout_helped_and_why_not():
    plain = {"loss": [0.5, 0.01], "val_loss": [0.5, 0.6], "val_accuracy": [0.8, 0.84]}
    better = {"loss": [0.6, 0.1], "val_loss": [0.55, 0.45], "val_accuracy": [0.8, 0.86]}
    assert dropout_verdict(plain, better, 500, 0.5).startswith("Dropout helped")
    same = dict(better, val_accuracy=[0.8, 0.84])
    text = dropout_verdict(plain, same, 500, 0.5)
    assert "lower" in text and "the same" in text and "0.2 %" in text
    worse_early = {"loss": [0.6, 0.3], "val_loss": [0.6, 0.7], "val_accuracy": [0.8, 0.8]}
    still_falling = {"loss": [0.5, 0.1], "val_loss": [0.7, 0.5], "val_accuracy": [0.8, 0.85]}
    text = dropout_verdict(still_falling, worse_early, 500, 0.5)
    assert text.startswith("This time dropout did not help") and "more epochs" in text
    slow = {"loss": [0.9, 0.8], "val_loss": [0.9, 0.8], "val_accuracy": [0.7, 0.75]}
    assert "lower rate" in dropout_verdict(plain, slow, 500, 0.9)


def test_a_finished_run_ends_with_the_verdict(qtbot, lesson):
    lesson.n_spin.setValue(100)
    lesson.epochs_spin.setValue(3)
    with qtbot.waitSignal(lesson.training_finished, timeout=TIMEOUT):
        assert lesson.start()
    said = lesson.message.text()
    assert ("Dropout helped" in said or "Dropout kept the validation loss lower" in said
            or "This time dropout did not help" in said)


def test_the_default_run_shows_dropout_helping_validation(qtbot, lesson):
    """The settings a learner meets first (300 digits, 50 epochs, rate 0.5): measured over
    seeds 0-5, dropout ends with the lower validation loss in each; the lesson's own seed is
    one of them."""
    assert (lesson.n_spin.value(), lesson.epochs_spin.value(), lesson.rate()) == (300, 50, 0.5)
    with qtbot.waitSignal(lesson.training_finished, timeout=TIMEOUT):
        assert lesson.start()
    plain, drop = lesson.runs["plain"].epochs, lesson.runs["dropout"].epochs
    assert drop.last("val_loss") < plain.last("val_loss") - 0.02
    assert lesson.gap("dropout") < lesson.gap("plain")
    said = lesson.message.text()
    assert "Dropout helped" in said or "Dropout kept the validation loss lower" in said


def test_play_while_the_fits_train_says_to_wait(qtbot, lesson):
    with qtbot.waitSignal(lesson.fits.fitted, timeout=TIMEOUT):
        assert lesson.fits.start()
        lesson.playback.play_button.click()              # Play: the networks must wait
        assert "still training" in lesson.message.text()
        assert not lesson.playback.is_playing()
        lesson.step()                                    # stepping is still possible
    assert lesson.runs == {}
    assert lesson.fits.fit_button.isEnabled() and lesson.rate_spin.isEnabled()
