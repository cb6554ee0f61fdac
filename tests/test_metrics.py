"""core.metrics against scikit-learn, the independent reference."""

import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st

from core import metrics as M


def _sk_prf(t, p, average, labels=None, pos_label=1):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return skm.precision_recall_fscore_support(
            t, p, average=average, labels=labels, pos_label=pos_label, zero_division=0
        )


@st.composite
def label_pairs(draw):
    """Random true/predicted ids where some classes may never occur or never be predicted."""
    c = draw(st.integers(1, 12))
    n = draw(st.integers(1, 60))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    # Restrict each side to a random subset of the classes so that gaps are common.
    true_classes = rng.choice(c, size=rng.integers(1, c + 1), replace=False)
    pred_classes = rng.choice(c, size=rng.integers(1, c + 1), replace=False)
    t = rng.choice(true_classes, size=n)
    p = np.where(rng.random(n) < 0.4, t, rng.choice(pred_classes, size=n))
    return t.astype(np.int64), p.astype(np.int64), c


@settings(max_examples=40, deadline=None)
@given(label_pairs())
def test_all_metrics_match_sklearn_on_random_labels(pair):
    t, p, c = pair
    assert M.accuracy(t, p) == pytest.approx(skm.accuracy_score(t, p))
    cm = M.confusion_matrix(t, p, num_classes=c)
    assert cm.dtype == np.int64
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns when only one label occurs
        ref_cm = skm.confusion_matrix(t, p, labels=np.arange(c))
    np.testing.assert_array_equal(cm, ref_cm)

    per = M.precision_recall_f1(t, p, num_classes=c)
    sp, sr, sf, ss = _sk_prf(t, p, None, labels=np.arange(c))
    np.testing.assert_allclose(per["precision"], sp, atol=1e-12)
    np.testing.assert_allclose(per["recall"], sr, atol=1e-12)
    np.testing.assert_allclose(per["f1"], sf, atol=1e-12)
    np.testing.assert_array_equal(per["support"], ss)

    for average in ("macro", "weighted"):
        sp, sr, sf, _ = _sk_prf(t, p, average)  # sklearn's default label set
        assert M.precision(t, p, average=average, num_classes=c) == pytest.approx(sp, abs=1e-12)
        assert M.recall(t, p, average=average, num_classes=c) == pytest.approx(sr, abs=1e-12)
        assert M.f1(t, p, average=average) == pytest.approx(sf, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 80), st.integers(0, 2**32 - 1), st.sampled_from([0, 1]))
def test_binary_average_matches_sklearn(n, seed, pos_label):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 2, n)
    p = rng.integers(0, 2, n)
    if len(np.union1d(t, p)) == 1 and pos_label not in t:
        # sklearn's answer here hinges on its own label inference; covered separately below
        return
    sp, sr, sf, _ = _sk_prf(t, p, "binary", pos_label=pos_label)
    r = M.precision_recall_f1(t, p, average="binary", pos_label=pos_label)
    assert r["precision"] == pytest.approx(sp, abs=1e-12)
    assert r["recall"] == pytest.approx(sr, abs=1e-12)
    assert r["f1"] == pytest.approx(sf, abs=1e-12)


def test_binary_with_the_positive_class_absent_everywhere_is_zero():
    t = np.zeros(5, np.int64)
    sp, sr, sf, _ = _sk_prf(t, t, "binary")
    r = M.precision_recall_f1(t, t, average="binary")
    assert (r["precision"], r["recall"], r["f1"]) == (sp, sr, sf) == (0.0, 0.0, 0.0)


def test_binary_average_refuses_multiclass():
    with pytest.raises(ValueError, match="binary"):
        M.f1([0, 1, 2], [0, 1, 2], average="binary")


def test_perfect_and_all_wrong_predictions():
    t = np.array([0, 1, 2, 2, 1, 0, 3])
    perfect = M.precision_recall_f1(t, t)
    for key in ("precision", "recall", "f1"):
        np.testing.assert_array_equal(perfect[key], np.ones(4))
    assert M.accuracy(t, t) == 1.0
    wrong = (t + 1) % 4
    assert M.accuracy(t, wrong) == 0.0
    assert M.f1(t, wrong, average="macro") == 0.0
    assert M.precision(t, wrong, average="weighted") == 0.0
    np.testing.assert_array_equal(np.diag(M.confusion_matrix(t, wrong)), 0)


def test_model_outputs_are_read_as_class_ids():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(10), size=50).astype(np.float32)  # (N, 10) softmax
    t = rng.integers(0, 10, 50)
    onehot = np.eye(10, dtype=np.float32)[t]
    assert M.accuracy(t, probs) == pytest.approx(skm.accuracy_score(t, probs.argmax(1)))
    assert M.accuracy(onehot, probs) == M.accuracy(t, probs)
    # a one-hot input announces 10 classes even if the last ones never occur
    assert M.confusion_matrix(onehot[:3], probs[:3]).shape == (10, 10)

    sig = rng.random(40).astype(np.float32)  # sigmoid outputs
    tb = rng.integers(0, 2, 40)
    expected = skm.accuracy_score(tb, (sig > 0.5).astype(int))
    assert M.accuracy(tb, sig) == pytest.approx(expected)
    assert M.accuracy(tb[:, None], sig[:, None]) == pytest.approx(expected)
    np.testing.assert_array_equal(M.to_class_ids(np.array([0.5, 0.51, 0.0, 1.0])), [0, 1, 0, 1])
    np.testing.assert_array_equal(M.to_class_ids(np.array([0.0, 3.0, 7.0])), [0, 3, 7])
    assert M.to_class_ids(np.array([True, False])).dtype == np.int64


@pytest.mark.parametrize(
    "bad", [np.array([0, -1]), np.array([0.2, 2.5]), np.array([np.nan, 0.1]), np.zeros((2, 2, 2))]
)
def test_unreadable_labels_raise(bad):
    with pytest.raises(ValueError):
        M.to_class_ids(bad)


def test_mismatched_or_empty_inputs_raise():
    with pytest.raises(ValueError):
        M.accuracy([0, 1], [0, 1, 1])
    with pytest.raises(ValueError):
        M.accuracy([], [])
    with pytest.raises(ValueError):
        M.confusion_matrix([0, 5], [0, 1], num_classes=3)
    with pytest.raises(ValueError):
        M.precision([0, 1], [0, 1], average="micro")


def _report_rows(text):
    rows = {}
    for line in text.splitlines():
        if not line.strip() or "precision" in line:
            continue
        parts = line.rsplit(None, 4) if "avg" in line else line.split()
        if line.strip().startswith("accuracy"):
            rows["accuracy"] = [float(parts[1]), int(parts[2])]
        elif "avg" in line:
            label = line.strip().rsplit(None, 4)[0]
            rows[label] = [float(x) for x in parts[1:4]] + [int(parts[4])]
        else:
            rows[parts[0]] = [float(x) for x in parts[1:4]] + [int(parts[4])]
    return rows


def test_classification_report_matches_sklearn_numbers():
    rng = np.random.default_rng(3)
    t = rng.integers(0, 5, 200)
    p = np.where(rng.random(200) < 0.6, t, rng.integers(0, 4, 200))  # class 4 never predicted
    names = ["zero", "one", "two", "three", "four"]
    ours = _report_rows(M.classification_report(t, p, class_names=names))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = skm.classification_report(t, p, target_names=names, output_dict=True, zero_division=0)
    for name in names + ["macro avg", "weighted avg"]:
        r = ref[name]
        expected = [r["precision"], r["recall"], r["f1-score"]]
        np.testing.assert_allclose(ours[name][:3], expected, rtol=6e-4, atol=1e-4)
        assert ours[name][3] == r["support"]
    assert ours["accuracy"][0] == pytest.approx(ref["accuracy"], rel=6e-4)
    assert ours["accuracy"][1] == 200


def test_classification_report_shows_four_significant_digits():
    text = M.classification_report([0, 1, 1], [0, 1, 0])
    assert "1.000" in text and "0.5000" in text and "0.6667" in text
    assert "macro avg" in text and "weighted avg" in text and "accuracy" in text
    # without names, rows are the class ids that occur
    assert [line.split()[0] for line in text.splitlines()[2:4]] == ["0", "1"]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), st.integers(0, 2**32 - 1), st.sampled_from(["float", "ties", "int"]))
def test_precision_recall_curve_matches_sklearn(n, seed, kind):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 2, n)
    if kind == "float":
        s = rng.random(n)
    elif kind == "ties":
        s = rng.integers(0, 4, n) / 4.0
    else:
        s = rng.integers(-3, 4, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns when y_true has no positive
        ref = skm.precision_recall_curve(t, s)
    ours = M.precision_recall_curve(t, s)
    for a, b in zip(ours, ref):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 60), st.integers(0, 2**32 - 1), st.floats(-0.1, 1.1))
def test_metrics_at_threshold_match_sklearn(n, seed, thr):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 2, n)
    s = np.round(rng.random(n), 2)
    r = M.metrics_at_threshold(t, s, thr)
    pred = (s >= thr).astype(int)
    tn, fp, fn, tp = skm.confusion_matrix(t, pred, labels=[0, 1]).ravel()
    assert (r["tp"], r["fp"], r["fn"], r["tn"]) == (tp, fp, fn, tn)
    sp, sr, sf, _ = _sk_prf(t, pred, "binary", labels=[0, 1])
    assert r["precision"] == pytest.approx(sp, abs=1e-12)
    assert r["recall"] == pytest.approx(sr, abs=1e-12)
    assert r["f1"] == pytest.approx(sf, abs=1e-12)
    assert r["accuracy"] == pytest.approx(skm.accuracy_score(t, pred))


def test_curve_points_agree_with_metrics_at_threshold():
    rng = np.random.default_rng(7)
    t = rng.integers(0, 2, 30)
    s = rng.random(30)
    prec, rec, thr = M.precision_recall_curve(t, s)
    for k in (0, len(thr) // 2, len(thr) - 1):
        r = M.metrics_at_threshold(t, s, thr[k])
        assert (r["precision"], r["recall"]) == pytest.approx((prec[k], rec[k]))


def test_curve_rejects_non_binary_truth():
    with pytest.raises(ValueError):
        M.precision_recall_curve([0, 2, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError):
        M.metrics_at_threshold([0, 1], [0.1, np.nan], 0.5)
