"""What the precision/recall lesson shows, without Qt: a task, a classifier, and its figures.

Two tasks the learner picks between:

* ``"digits"``: the 5,000 offline MNIST digits, 10 classes (4,000 to train, 1,000 held out);
  the confusion matrix is 10×10 and every class has its own precision, recall and F1.
* ``"breast_cancer"``: scikit-learn's 569 real tumours, a binary task. The positive class is
  *malignant* (relabelled to 1), because "positive" in a diagnosis means "has the disease";
  the network's sigmoid output is the score, and a threshold decides: ``score >= t`` is
  predicted malignant (the rule of ``core.metrics.metrics_at_threshold``).

The figures themselves come from ``core.metrics`` (tested against scikit-learn); this module
adds the bookkeeping a lesson needs around them: which examples sit in a confusion-matrix
cell, the per-class counts TP/FP/FN behind each ratio, and the predicted classes at a
threshold.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core import data as core_data
from core import metrics
from core.layers import Dense, Flatten
from core.model import Sequential
from core.optimizers import Adam

__all__ = ["TASKS", "ClassifierTask", "prepare_task", "build_classifier", "predicted_classes",
           "cell_indices", "PerClass", "per_class", "TRAIN_SETTINGS"]

TASKS = {
    "digits": "Digits: 10 classes (offline MNIST)",
    "breast_cancer": "Breast cancer: binary (malignant or benign)",
}
#: epochs, batch size and learning rate per task: a few seconds of training, a decent but
#: imperfect classifier (a perfect one would leave the off-diagonal cells empty)
TRAIN_SETTINGS = {
    "digits": {"epochs": 4, "batch_size": 32, "learning_rate": 0.001},
    "breast_cancer": {"epochs": 20, "batch_size": 16, "learning_rate": 0.003},
}
SPLIT_SEED = 0
#: breast-cancer columns shown beside each example (the full 30 would not fit)
SHOWN_FEATURES = ("mean radius", "mean texture", "mean perimeter", "mean area",
                  "mean smoothness", "worst concave points")


@dataclass
class ClassifierTask:
    """Training and held-out arrays; `x_show` is what the learner sees of a held-out example:
    (N, 28, 28, 1) images for digits, the raw (unscaled) measurements for tabular data."""

    key: str
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    class_names: tuple[str, ...]
    binary: bool
    x_show: np.ndarray
    show_columns: tuple[str, ...] = ()
    description: str = ""

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def prepare_task(key: str) -> ClassifierTask:
    """The task `key` ("digits" or "breast_cancer"), split 80/20 (stratified, seed 0)."""
    if key == "digits":
        x, y = core_data.load_offline_digits(seed=0, read_only=True)
        (xt, yt), (xv, yv) = core_data.train_validation_split(x, y, 0.2, stratify=True,
                                                              seed=SPLIT_SEED)
        return ClassifierTask(
            key, "digits", xt, yt, xv, yv, tuple(str(k) for k in range(10)), False, xv,
            description=(f"Offline MNIST digits: {len(yt)} to train, {len(yv)} held out; "
                         "the figures are on the held-out digits."))
    if key == "breast_cancer":
        ds = core_data.load_breast_cancer_data()
        y = (1 - ds.y).astype(np.int64)          # 1 = malignant: the positive diagnosis
        (xt, yt), (xv, yv) = core_data.train_validation_split(ds.x, y, 0.2, stratify=True,
                                                              seed=SPLIT_SEED)
        cols = [ds.feature_names.index(name) for name in SHOWN_FEATURES]
        raw_val = xv[:, cols]                    # (N, 6) unscaled, as measured
        xt, xv, _ = core_data.min_max_scale(xt, xv)
        return ClassifierTask(
            key, "breast cancer", xt, yt, xv, yv, ("benign", "malignant"), True, raw_val,
            SHOWN_FEATURES,
            description=(f"Breast cancer (real, 569 tumours): {len(yt)} to train, {len(yv)} "
                         "held out; positive = malignant. Min-max scaled on the training "
                         "part."))
    raise ValueError(f"unknown task {key!r}; choose one of {', '.join(TASKS)}")


def build_classifier(task: ClassifierTask, seed: int = 0) -> Sequential:
    """A small dense network: 64 ReLU units then softmax (digits), or 16 ReLU units then
    one sigmoid unit with binary cross-entropy (the course's binary setup)."""
    lr = TRAIN_SETTINGS[task.key]["learning_rate"]
    if task.binary:
        model = Sequential([Dense(16, activation="relu"), Dense(1, activation="sigmoid")],
                           input_shape=task.x_train.shape[1:], seed=int(seed))
        model.compile(Adam(lr), "binary_crossentropy", ["accuracy"])
    else:
        model = Sequential([Flatten(), Dense(64, activation="relu"),
                            Dense(task.num_classes, activation="softmax")],
                           input_shape=task.x_train.shape[1:], seed=int(seed))
        model.compile(Adam(lr), "sparse_categorical_crossentropy", ["accuracy"])
    return model


def predicted_classes(scores: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Class ids from a model's output: argmax of (N, C) scores, or ``score >= threshold``
    for a one-unit sigmoid output (N,) / (N, 1)."""
    s = np.asarray(scores)
    if s.ndim == 2 and s.shape[1] > 1:
        return metrics.to_class_ids(s)
    s = s.reshape(-1)
    if s.dtype.kind == "f" and not np.isfinite(s).all():
        raise ValueError("scores contain NaN or infinity")
    return (s >= float(threshold)).astype(np.int64)


def cell_indices(y_true, y_pred, true_class: int, pred_class: int) -> np.ndarray:
    """Indices of the examples in confusion-matrix cell [true_class, pred_class], ascending."""
    t = metrics.to_class_ids(y_true)
    p = metrics.to_class_ids(y_pred)
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} samples but y_pred has {p.size}")
    return np.flatnonzero((t == int(true_class)) & (p == int(pred_class)))


@dataclass
class PerClass:
    """Counts and ratios of every class, and the two averages.

    For class k: TP = cm[k, k], FP = column k minus TP (predicted k, truly another class),
    FN = row k minus TP (truly k, predicted another), support = row k's total.
    """

    cm: np.ndarray          # (C, C) rows true, columns predicted
    tp: np.ndarray          # (C,)
    fp: np.ndarray
    fn: np.ndarray
    support: np.ndarray
    precision: np.ndarray   # (C,) float64
    recall: np.ndarray
    f1: np.ndarray
    macro: dict             # precision, recall, f1 (floats)
    weighted: dict
    accuracy: float
    present: np.ndarray     # (C,) bool: the class occurs in y_true or y_pred (macro's classes)


def per_class(y_true, y_pred, num_classes: int) -> PerClass:
    cm = metrics.confusion_matrix(y_true, y_pred, num_classes=num_classes)
    res = metrics.precision_recall_f1(y_true, y_pred, num_classes=num_classes)
    macro = metrics.precision_recall_f1(y_true, y_pred, average="macro",
                                        num_classes=num_classes)
    weighted = metrics.precision_recall_f1(y_true, y_pred, average="weighted",
                                           num_classes=num_classes)
    tp = np.diag(cm)
    return PerClass(
        cm=cm, tp=tp, fp=cm.sum(axis=0) - tp, fn=cm.sum(axis=1) - tp, support=res["support"],
        precision=res["precision"], recall=res["recall"], f1=res["f1"],
        macro={k: macro[k] for k in ("precision", "recall", "f1")},
        weighted={k: weighted[k] for k in ("precision", "recall", "f1")},
        accuracy=metrics.accuracy(y_true, y_pred),
        present=(cm.sum(axis=0) + cm.sum(axis=1)) > 0)
