"""Precision, recall, F1 lesson: trained in a worker, figures equal scikit-learn's on the
lesson's own predictions, clicking a confusion-matrix cell lists exactly its examples, the
threshold slider re-decides the binary task."""
import numpy as np
import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import Qt  # noqa: E402
from sklearn import metrics as skm  # noqa: E402

from core.teaching import classifier_eval  # noqa: E402
from core.teaching.classifier_eval import cell_indices, per_class, predicted_classes  # noqa: E402
from gui.lessons.precision_recall import COLUMNS, PrecisionRecallLesson  # noqa: E402

TIMEOUT = 90_000


@pytest.fixture
def fast(monkeypatch):
    """Fewer epochs: the test is about the figures, not about a good classifier."""
    fast = {"digits": {"epochs": 1, "batch_size": 64, "learning_rate": 0.001},
            "breast_cancer": {"epochs": 8, "batch_size": 32, "learning_rate": 0.01}}
    monkeypatch.setattr(classifier_eval, "TRAIN_SETTINGS", fast)
    import gui.lessons.precision_recall as mod
    monkeypatch.setattr(mod, "TRAIN_SETTINGS", fast)


@pytest.fixture
def lesson(qtbot, fast):
    w = PrecisionRecallLesson()
    qtbot.addWidget(w)
    w.resize(1040, 760)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.shutdown()


def train(qtbot, lesson):
    with qtbot.waitSignal(lesson.results_changed, timeout=TIMEOUT):
        qtbot.mouseClick(lesson.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not lesson.running_workers(), timeout=TIMEOUT)


def test_core_per_class_and_cells_match_sklearn():
    rng = np.random.default_rng(3)
    t = rng.integers(0, 4, 200)
    p = np.where(rng.random(200) < 0.6, t, rng.integers(0, 4, 200))
    f = per_class(t, p, 4)
    np.testing.assert_array_equal(f.cm, skm.confusion_matrix(t, p, labels=range(4)))
    np.testing.assert_allclose(f.precision, skm.precision_score(t, p, average=None))
    np.testing.assert_allclose(f.recall, skm.recall_score(t, p, average=None))
    np.testing.assert_allclose(f.f1, skm.f1_score(t, p, average=None))
    assert f.macro["f1"] == pytest.approx(skm.f1_score(t, p, average="macro"))
    assert f.weighted["precision"] == pytest.approx(skm.precision_score(t, p, average="weighted"))
    np.testing.assert_array_equal(f.tp + f.fn, np.bincount(t, minlength=4))
    idx = cell_indices(t, p, 2, 3)
    assert list(idx) == [k for k in range(200) if t[k] == 2 and p[k] == 3]
    scores = rng.random(50).astype(np.float32)
    assert list(predicted_classes(scores, 0.3)) == [int(s >= 0.3) for s in scores]


def test_digits_figures_equal_sklearn_and_cell_click_lists_its_examples(qtbot, lesson):
    train(qtbot, lesson)
    y = lesson.task.y_val
    pred = np.argmax(lesson.scores, axis=1)
    names = lesson.task.class_names
    assert lesson.table.rowCount() == 12
    sk_p = skm.precision_score(y, pred, average=None, labels=range(10), zero_division=0)
    sk_r = skm.recall_score(y, pred, average=None, labels=range(10), zero_division=0)
    sk_f = skm.f1_score(y, pred, average=None, labels=range(10), zero_division=0)
    cm = skm.confusion_matrix(y, pred, labels=range(10))
    for k in range(10):
        assert lesson.table.item(k, 0).text() == names[k]
        assert lesson.shown_value(k, "precision") == pytest.approx(sk_p[k], abs=1e-12)
        assert lesson.shown_value(k, "recall") == pytest.approx(sk_r[k], abs=1e-12)
        assert lesson.shown_value(k, "F1") == pytest.approx(sk_f[k], abs=1e-12)
        assert lesson.table.item(k, COLUMNS.index("precision")).text() == format(sk_p[k], ".4g")
        assert lesson.shown_value(k, "TP") == cm[k, k]
        assert lesson.shown_value(k, "FP") == cm[:, k].sum() - cm[k, k]
        assert lesson.shown_value(k, "FN") == cm[k].sum() - cm[k, k]
    for row, avg in ((10, "macro"), (11, "weighted")):
        assert lesson.shown_value(row, "precision") == pytest.approx(
            skm.precision_score(y, pred, average=avg, zero_division=0))
        assert lesson.shown_value(row, "recall") == pytest.approx(
            skm.recall_score(y, pred, average=avg, zero_division=0))
        assert lesson.shown_value(row, "F1") == pytest.approx(
            skm.f1_score(y, pred, average=avg, zero_division=0))
    np.testing.assert_array_equal(lesson.matrix.cm, cm)

    # the formula for a class, with its numbers plugged in
    lesson.table.selectRow(7)
    tp, fp = cm[7, 7], cm[:, 7].sum() - cm[7, 7]
    assert f"precision(7) = TP/(TP+FP) = {tp}/({tp}+{fp}) = {sk_p[7]:.4g}" in lesson.formula.text()

    # click the most populated wrong cell: exactly its examples are listed
    off = cm.copy()
    np.fill_diagonal(off, -1)
    i, j = np.unravel_index(np.argmax(off), off.shape)
    rect = lesson.matrix.cell_rect(i, j)
    qtbot.mouseClick(lesson.matrix.heat, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    expected = [k for k in range(len(y)) if y[k] == i and pred[k] == j]
    assert lesson.examples.indices() == expected
    assert lesson.examples.list.count() == len(expected) == cm[i, j]
    assert lesson.tabs.currentWidget() is lesson.examples
    assert f"True {i}, predicted {j}" in lesson.examples.title.text()
    # keyboard: move right and press Enter selects the neighbouring cell
    lesson.matrix.heat.setFocus()
    jj = min(9, j + 1)
    qtbot.keyClick(lesson.matrix.heat, Qt.Key.Key_Right)
    qtbot.keyClick(lesson.matrix.heat, Qt.Key.Key_Return)
    assert lesson.matrix.selected == (i, jj)
    assert lesson.examples.indices() == [k for k in range(len(y)) if y[k] == i and pred[k] == jj]


def test_threshold_slider_gives_sklearns_figures_and_moves_the_curve_point(qtbot, lesson):
    with qtbot.waitSignal(lesson.results_changed, timeout=TIMEOUT):
        lesson.set_task("breast_cancer")        # choosing a task trains it
    assert lesson.binary_box.isVisible()
    y, s = lesson.task.y_val, lesson.scores
    p_sk, r_sk, _ = skm.precision_recall_curve(y, s)
    xs, ys = lesson.pr_curve.getData()
    np.testing.assert_allclose(xs, r_sk)
    np.testing.assert_allclose(ys, p_sk)
    seen = set()
    for t in (0.2, 0.5, 0.8):
        with qtbot.waitSignal(lesson.results_changed, timeout=2000):
            lesson.threshold_slider.setValue(int(t * 1000))
        pred = (s >= t).astype(int)
        prec = skm.precision_score(y, pred, zero_division=0)
        rec = skm.recall_score(y, pred, zero_division=0)
        assert lesson.shown_value(1, "precision") == pytest.approx(prec)
        assert lesson.shown_value(1, "recall") == pytest.approx(rec)
        assert lesson.shown_value(1, "F1") == pytest.approx(skm.f1_score(y, pred, zero_division=0))
        np.testing.assert_array_equal(lesson.matrix.cm, skm.confusion_matrix(y, pred, labels=[0, 1]))
        assert lesson.point() == pytest.approx((rec, prec))
        assert lesson.threshold_label.text() == f"t = {t:.3f}"
        seen.add((round(prec, 6), round(rec, 6)))
    assert len(seen) > 1, "moving the threshold changed nothing"
    # keyboard on the slider works too
    lesson.threshold_slider.setFocus()
    before = lesson.threshold()
    qtbot.keyClick(lesson.threshold_slider, Qt.Key.Key_PageDown)
    assert lesson.threshold() < before
    # a table row of examples for a clicked cell
    lesson.matrix.select_cell(1, 0)
    assert lesson.examples.table.rowCount() == int(np.sum((y == 1) & (s < lesson.threshold())))


def test_leaving_mid_training_stops_cleanly(qtbot, lesson, monkeypatch):
    slow = {"digits": {"epochs": 50, "batch_size": 8, "learning_rate": 0.001},
            "breast_cancer": {"epochs": 50, "batch_size": 8, "learning_rate": 0.01}}
    import gui.lessons.precision_recall as mod
    monkeypatch.setattr(mod, "TRAIN_SETTINGS", slow)
    monkeypatch.setattr(classifier_eval, "TRAIN_SETTINGS", slow)
    assert lesson.train()
    qtbot.waitUntil(lambda: lesson.progress.value() > 0, timeout=TIMEOUT)
    lesson.deactivate()
    assert not lesson.running_workers()
    assert not lesson.is_training()
    assert lesson.train_button.isEnabled()
    # what it learned so far is still judged: the figures are there
    assert lesson.figures is not None
    assert lesson.train()
    lesson.shutdown()
    assert not lesson.running_workers()
