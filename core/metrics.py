"""Classification metrics in plain NumPy: accuracy, confusion matrix, precision, recall, F1,
a text report and the precision-recall curve.

Conventions (the same as scikit-learn's, which the tests use as the reference):

* Labels are class ids ``0 .. C-1``. Anything a model outputs is accepted too; see
  :func:`to_class_ids` for how probabilities become class ids.
* Confusion matrix: rows are the true class, columns the predicted class.
* A ratio whose denominator is zero (precision of a class that is never predicted, recall of a
  class that never occurs) is ``0.0`` -- scikit-learn's ``zero_division=0`` -- so a metric is
  always a number a learner can plot, never NaN.
* ``average="macro"`` is the plain mean over the classes that occur in ``y_true`` or
  ``y_pred`` (the classes scikit-learn lists by default); a class absent from both has no
  precision or recall to speak of and is left out rather than counted as 0.
  ``average="weighted"`` weights each class by its support (its count in ``y_true``).
  ``average="binary"`` reports only the class ``pos_label`` and needs at most two classes.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "to_class_ids",
    "accuracy",
    "confusion_matrix",
    "precision",
    "recall",
    "f1",
    "precision_recall_f1",
    "classification_report",
    "precision_recall_curve",
    "metrics_at_threshold",
]

_AVERAGES = (None, "macro", "weighted", "binary")


def to_class_ids(y) -> np.ndarray:
    """Turn labels or model outputs into int64 class ids of shape (N,).

    The rule, by shape and dtype:

    * ``(N,)`` integers or booleans: already class ids (must be >= 0).
    * ``(N,)`` floats with every value in [0, 1]: probabilities of class 1 (a sigmoid output),
      thresholded: ``p > 0.5`` -> 1, else 0 (Keras's binary accuracy rule; exactly 0.5 is 0).
      Float labels such as ``[0., 1., 1.]`` give the same ids, so they are safe too.
    * ``(N,)`` floats outside [0, 1] that are whole numbers (``[0., 3., 7.]``): class ids.
    * ``(N, 1)``: the same as ``(N,)`` (a one-unit sigmoid layer's output).
    * ``(N, C)`` with C >= 2: one-hot labels or per-class scores -> ``argmax`` over the last
      axis (the first class wins a tie, as ``np.argmax`` does).

    Raises ValueError for anything else (negative ids, non-whole floats outside [0, 1], NaN,
    3-D arrays).
    """
    a = np.asarray(y)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim == 2:
        if a.shape[1] < 1:
            raise ValueError(f"labels of shape {a.shape} have no classes")
        if a.dtype.kind == "f" and a.size and not np.isfinite(a).all():
            raise ValueError("scores contain NaN or infinity")
        return np.argmax(a, axis=1).astype(np.int64)
    if a.ndim != 1:
        raise ValueError(f"labels must be (N,), (N, 1) or (N, C); got shape {a.shape}")
    if a.dtype.kind == "b":
        return a.astype(np.int64)
    if a.dtype.kind in "iu":
        if a.size and a.min() < 0:
            raise ValueError("class ids must be >= 0")
        return a.astype(np.int64)
    if a.dtype.kind == "f":
        if not np.isfinite(a).all():
            raise ValueError("labels contain NaN or infinity")
        if a.size == 0:
            return np.zeros(0, dtype=np.int64)
        if a.min() >= 0.0 and a.max() <= 1.0:
            return (a > 0.5).astype(np.int64)
        if a.min() >= 0.0 and np.all(a == np.floor(a)):
            return a.astype(np.int64)
        raise ValueError(
            "float labels must be probabilities in [0, 1] or whole-number class ids >= 0"
        )
    raise ValueError(f"cannot read labels of dtype {a.dtype}")


def _width(y) -> int:
    """Number of classes an (N, C) input announces (0 when it announces none)."""
    shape = np.shape(y)
    return shape[1] if len(shape) == 2 and shape[1] >= 2 else 0


def _pair(y_true, y_pred, num_classes=None):
    """Class ids of both inputs and the number of classes C."""
    t = to_class_ids(y_true)
    p = to_class_ids(y_pred)
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.shape[0]} samples but y_pred has {p.shape[0]}")
    if t.size == 0:
        raise ValueError("no samples")
    seen = int(max(t.max(), p.max())) + 1
    if num_classes is None:
        c = max(seen, _width(y_true), _width(y_pred))
    else:
        c = int(num_classes)
        if c < 1:
            raise ValueError("num_classes must be >= 1")
        if seen > c:
            raise ValueError(f"class id {seen - 1} does not fit num_classes={c}")
    return t, p, c


def accuracy(y_true, y_pred) -> float:
    """Fraction of samples whose predicted class equals the true class.

    Either argument may be class ids, one-hot rows or probabilities (see ``to_class_ids``).
    """
    t, p, _ = _pair(y_true, y_pred)
    return float(np.mean(t == p))


def confusion_matrix(y_true, y_pred, num_classes=None) -> np.ndarray:
    """int64 (C, C) counts: entry [i, j] is how many samples of true class i were predicted j.

    C is ``num_classes`` if given, otherwise the largest class id seen + 1 (or the width of a
    one-hot / probability input, whichever is larger), so a class that never occurs still
    gets its row and column.
    """
    t, p, c = _pair(y_true, y_pred, num_classes)
    return np.bincount(t * c + p, minlength=c * c).reshape(c, c).astype(np.int64)


def _safe_div(num, den):
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(num, den).shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den != 0)
    return out


def precision_recall_f1(y_true, y_pred, average=None, pos_label=1, num_classes=None) -> dict:
    """Precision, recall and F1 together (they share one confusion matrix).

    Returns ``{"precision", "recall", "f1", "support"}``. With ``average=None`` the first
    three are float64 arrays (C,), one entry per class id; otherwise they are floats.
    ``"support"`` is always the int64 array (C,) of true-class counts.

    precision_k = TP_k / (TP_k + FP_k), recall_k = TP_k / (TP_k + FN_k),
    F1_k = 2 P_k R_k / (P_k + R_k); each is 0.0 when its denominator is 0.
    See the module docstring for the averages.
    """
    if average not in _AVERAGES:
        raise ValueError(f"average must be one of {_AVERAGES}; got {average!r}")
    cm = confusion_matrix(y_true, y_pred, num_classes)
    tp = np.diag(cm)
    support = cm.sum(axis=1)  # (C,) true counts
    predicted = cm.sum(axis=0)  # (C,) predicted counts
    prec = _safe_div(tp, predicted)
    rec = _safe_div(tp, support)
    f = _safe_div(2.0 * prec * rec, prec + rec)
    out = {"support": support}
    if average is None:
        out.update(precision=prec, recall=rec, f1=f)
        return out
    present = (support + predicted) > 0
    if average == "binary":
        classes = np.flatnonzero(present)
        if classes.size > 2:
            raise ValueError(
                f"average='binary' needs two classes but {classes.size} occur; "
                "use average=None, 'macro' or 'weighted'"
            )
        if classes.size == 2 and pos_label not in classes:
            raise ValueError(f"pos_label={pos_label} is not one of the classes {classes.tolist()}")
        if not 0 <= pos_label < cm.shape[0]:
            out.update(precision=0.0, recall=0.0, f1=0.0)
            return out
        k = int(pos_label)
        out.update(precision=float(prec[k]), recall=float(rec[k]), f1=float(f[k]))
        return out
    if average == "macro":
        w = present.astype(np.float64)
    else:  # weighted
        w = support.astype(np.float64)
    w = w / w.sum()
    out.update(
        precision=float(np.dot(w, prec)), recall=float(np.dot(w, rec)), f1=float(np.dot(w, f))
    )
    return out


def precision(y_true, y_pred, average=None, pos_label=1, num_classes=None):
    """Of the samples predicted as a class, the fraction that truly are (see precision_recall_f1)."""
    return precision_recall_f1(y_true, y_pred, average, pos_label, num_classes)["precision"]


def recall(y_true, y_pred, average=None, pos_label=1, num_classes=None):
    """Of the samples of a class, the fraction predicted as it (see precision_recall_f1)."""
    return precision_recall_f1(y_true, y_pred, average, pos_label, num_classes)["recall"]


def f1(y_true, y_pred, average=None, pos_label=1, num_classes=None):
    """Harmonic mean of precision and recall (see precision_recall_f1)."""
    return precision_recall_f1(y_true, y_pred, average, pos_label, num_classes)["f1"]


def _fmt(x: float) -> str:
    # 4 significant digits, trailing zeros kept so the columns line up: 1.000, 0.5000
    return format(float(x), "#.4g")


def classification_report(y_true, y_pred, class_names=None) -> str:
    """A text table like scikit-learn's ``classification_report``, numbers to 4 significant digits.

    One row per class that occurs in ``y_true`` or ``y_pred`` (the classes the macro average
    runs over), then accuracy, macro avg and weighted avg. ``class_names[k]`` names class id k.
    """
    n_named = len(class_names) if class_names is not None else None
    res = precision_recall_f1(y_true, y_pred, num_classes=n_named)
    cm = confusion_matrix(y_true, y_pred, num_classes=n_named)
    support = res["support"]
    present = np.flatnonzero((support + cm.sum(axis=0)) > 0)
    names = [str(class_names[k]) if class_names is not None else str(k) for k in present]
    total = int(support.sum())
    acc = float(np.trace(cm)) / total
    macro = precision_recall_f1(y_true, y_pred, average="macro", num_classes=n_named)
    weighted = precision_recall_f1(y_true, y_pred, average="weighted", num_classes=n_named)

    width = max([len("weighted avg")] + [len(n) for n in names])
    head = f"{'':>{width}} {'precision':>10} {'recall':>10} {'f1-score':>10} {'support':>10}"
    lines = [head, ""]
    for k, name in zip(present, names):
        lines.append(
            f"{name:>{width}} {_fmt(res['precision'][k]):>10} {_fmt(res['recall'][k]):>10} "
            f"{_fmt(res['f1'][k]):>10} {int(support[k]):>10}"
        )
    lines.append("")
    lines.append(f"{'accuracy':>{width}} {'':>10} {'':>10} {_fmt(acc):>10} {total:>10}")
    for label, r in (("macro avg", macro), ("weighted avg", weighted)):
        lines.append(
            f"{label:>{width}} {_fmt(r['precision']):>10} {_fmt(r['recall']):>10} "
            f"{_fmt(r['f1']):>10} {total:>10}"
        )
    return "\n".join(lines) + "\n"


def _binary_inputs(y_true, scores):
    t = np.asarray(y_true)
    s = np.asarray(scores)
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if s.ndim == 2 and s.shape[1] == 1:
        s = s[:, 0]
    if t.ndim != 1 or s.ndim != 1:
        raise ValueError("y_true and scores must be 1-D (or (N, 1))")
    if t.shape != s.shape:
        raise ValueError(f"y_true has {t.shape[0]} samples but scores has {s.shape[0]}")
    if t.size == 0:
        raise ValueError("no samples")
    if not np.isin(t, (0, 1)).all():
        raise ValueError("y_true must hold only 0 and 1 (1 = positive)")
    if s.dtype.kind not in "biuf":
        raise ValueError(f"scores must be numbers; got dtype {s.dtype}")
    if s.dtype.kind == "f" and not np.isfinite(s).all():
        raise ValueError("scores contain NaN or infinity")
    return t.astype(bool), s


def precision_recall_curve(y_true_binary, scores):
    """Precision and recall at every distinct score threshold, as scikit-learn computes them.

    A sample counts as predicted positive when ``score >= threshold``. Returns
    ``(precision, recall, thresholds)``: ``thresholds`` are the distinct scores in increasing
    order, ``precision``/``recall`` have one more entry, the last being the conventional
    end point (precision 1, recall 0). If ``y_true`` has no positives, recall is 1 everywhere
    (scikit-learn's choice, which it also warns about).
    """
    t, s = _binary_inputs(y_true_binary, scores)
    order = np.argsort(-s if s.dtype.kind == "f" else -s.astype(np.float64), kind="stable")
    s_sorted = s[order]
    t_sorted = t[order]
    # Last index of each run of equal scores: all samples up to it are predicted positive.
    idx = np.r_[np.flatnonzero(np.diff(s_sorted)), s_sorted.size - 1]
    tps = np.cumsum(t_sorted, dtype=np.float64)[idx]
    fps = 1.0 + idx - tps
    prec = _safe_div(tps, tps + fps)
    rec = tps / tps[-1] if tps[-1] > 0 else np.ones_like(tps)
    return np.r_[prec[::-1], 1.0], np.r_[rec[::-1], 0.0], s_sorted[idx][::-1]


def metrics_at_threshold(y_true, scores, threshold) -> dict:
    """Confusion counts and metrics when ``score >= threshold`` is predicted positive.

    Returns ``{"tp", "fp", "fn", "tn"}`` (ints) and ``{"precision", "recall", "f1",
    "accuracy"}`` (floats, 0.0 when a denominator is 0).
    """
    t, s = _binary_inputs(y_true, scores)
    p = s >= threshold
    tp = int(np.count_nonzero(p & t))
    fp = int(np.count_nonzero(p & ~t))
    fn = int(np.count_nonzero(~p & t))
    tn = int(t.size - tp - fp - fn)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {
        "tp": tp, "fp": fp, "fn": fn, "tn": tn,
        "precision": float(prec), "recall": float(rec), "f1": float(f),
        "accuracy": (tp + tn) / t.size,
    }
