"""The churn lesson's table work and its imbalanced-data experiment, without Qt.

Tutorial 18 predicts which telecom customers leave (the Telco churn file): text columns are
one-hot encoded, numbers min-max scaled, a small network is trained and judged with a
classification report. Only about a quarter of customers churn, so a network can score 75 %
accuracy by predicting "stays" for everyone: the class that matters is the *minority*, and
its recall is the figure to watch. The goal tutorial on imbalanced data offers three fixes,
all here:

* ``"class_weights"``: each training example's loss is weighted by
  ``N / (classes × count of its class)`` (Keras's ``class_weight``), so a churner's error
  counts about three times a stayer's;
* ``"oversample"``: churners are repeated at random until both classes are as large;
* ``"undersample"``: stayers are dropped at random until both classes are as small.

Balancing touches the training split only; the validation split keeps its true proportions
so the figures describe the customers a model will really meet.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core import data as core_data
from core import metrics
from core.layers import Dense
from core.model import Sequential
from core.optimizers import Adam
from core.teaching.numbers import fmt

__all__ = ["BALANCING", "TableData", "read_text_file", "csv_header", "guess_target",
           "guess_id_columns", "load_table", "raw_preview", "split_table", "balance",
           "minority_class", "minority_scores", "build_tabular_model", "DEFAULT_HIDDEN",
           "feature_tips", "cell_tip"]

BALANCING = {
    "none": "none",
    "class_weights": "class weights",
    "oversample": "oversampling",
    "undersample": "undersampling",
}
#: the course's churn network: 26 and 15 ReLU units, then one sigmoid unit
DEFAULT_HIDDEN = (26, 15)
SPLIT_SEED = 0
PREVIEW_ROWS = 8


def read_text_file(path) -> str:
    """A CSV file's text (UTF-8, a BOM allowed); ValueError with the file's name otherwise."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise ValueError(f"{path.name} is a folder, not a CSV file") from None
    except OSError as exc:
        raise ValueError(f"cannot open {path.name}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path.name}: not UTF-8 text (undecodable byte at offset {exc.start}); "
                         "save it as a UTF-8 CSV") from None


def csv_header(text: str, source: str = "the file") -> list[str]:
    """The column names: the first non-empty row, split by the file's own separator."""
    return core_data.csv_header_of_text(text, source)


def guess_target(header) -> str:
    """"Churn" (any case) if there is such a column, else the last column."""
    for name in header:
        if name.lower() == "churn":
            return name
    return header[-1]


def guess_id_columns(header) -> list[str]:
    """Columns that name rows rather than describe them: "id", "customerID", "user_id"."""
    return [h for h in header
            if re.fullmatch(r"id", h, re.IGNORECASE) or re.search(r"(ID|Id|[_\s-]id)$", h)]


@dataclass
class TableData:
    """A CSV read for a network: the encoded dataset, the reader's report, the raw text."""

    text: str
    source: str
    header: list[str]
    target: str
    drop: tuple[str, ...]
    dataset: core_data.TabularDataset
    report: core_data.PreprocessingReport
    synthetic: bool = False
    notes: list[str] = field(default_factory=list)


def load_table(text: str, source: str, target: str | None = None, drop=None,
               synthetic: bool = False, progress=None) -> TableData:
    """Encode CSV `text` to predict `target` (guessed if None), ignoring `drop` (ID-like
    columns if None). Numeric columns are min-max scaled to [0, 1] as the course does; a
    problem in the file is a ValueError naming the row and column."""
    header = csv_header(text, source)
    target = guess_target(header) if not target else target
    if drop is None:
        drop = [c for c in guess_id_columns(header) if c != target]
    drop = tuple(c for c in drop if c != target)
    dataset, report = core_data.read_csv_text(text, target, drop, source=source,
                                              scaling="min-max", progress=progress)
    if len(dataset) < 10:
        raise ValueError(f"{source}: only {len(dataset)} usable rows; at least 10 are needed")
    counts = np.bincount(dataset.y, minlength=dataset.num_classes)
    if (counts < 2).any():
        rare = dataset.class_names[int(np.argmin(counts))]
        raise ValueError(f"{source}: the class {rare!r} of '{target}' has fewer than 2 rows; "
                         "a training and a validation part cannot both have it")
    dataset.synthetic = synthetic
    return TableData(text, source, header, target, drop, dataset, report, synthetic)


def raw_preview(table: TableData, rows: int = PREVIEW_ROWS) -> tuple[list[str], list[list[str]]]:
    """The first `rows` rows the reader kept, as text cells, aligned with `dataset.x[:rows]`
    (rows it dropped, e.g. for a blank cell, are skipped here too)."""
    dropped = set(table.report.dropped_rows)
    header: list[str] | None = None
    out: list[list[str]] = []
    reader = csv.reader(io.StringIO(table.text, newline=""),
                        delimiter=table.report.delimiter)
    start = 1
    for cells in reader:
        line, start = start, reader.line_num + 1   # a row is numbered by its first line
        if not cells or all(not c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip() for c in cells]
            continue
        if line in dropped:
            continue
        out.append([c.strip() for c in cells])
        if len(out) >= rows:
            break
    return header or [], out


def _scaling_of(report, column: str):
    """(min, max − min) of a min-max scaled column, or None when it was not scaled."""
    if report.scaling is None or column not in report.numeric_columns:
        return None
    k = report.numeric_columns.index(column)
    return float(report.scaling.shift[k]), float(report.scaling.scale[k])


def feature_tips(report, feature_names) -> dict:
    """For each encoded feature, how it was made from the file's column (a header's tooltip)."""
    tips = {}
    for name in feature_names:
        if name in report.numeric_columns:
            sc = _scaling_of(report, name)
            tips[name] = (f"{name}: a number, min-max scaled: (x − min)/(max − min) with "
                          f"min {fmt(sc[0])}, max {fmt(sc[0] + sc[1])}" if sc else
                          f"{name}: a number, unscaled")
        elif "=" in name:
            col, value = name.split("=", 1)
            if col in report.binary_columns:
                tips[name] = f"{col} has two values: 1 if it is {value}, else 0"
            else:
                tips[name] = f"one-hot: 1 if {col} is {value}, else 0"
    return tips


def cell_tip(report, name: str, value: float, raw_row, raw_index) -> str:
    """How one encoded number came from its row's text cell, with the numbers plugged in.

    `raw_row` is the row's cells as the file has them, `raw_index` maps a column name to
    its position there (raw_preview's header)."""
    if name in report.numeric_columns:
        cell = raw_row[raw_index[name]]
        sc = _scaling_of(report, name)
        if sc is None:
            return f"{name} = {cell}"
        lo, span = sc
        return (f"({cell} − {fmt(lo)}) / ({fmt(lo + span)} − {fmt(lo)}) = {fmt(value)}"
                if cell else f"{name} was blank: filled, then scaled to {fmt(value)}")
    if "=" in name:
        col, v = name.split("=", 1)
        cell = raw_row[raw_index[col]] if col in raw_index else "?"
        return f"{col} is {cell!r}: {'1' if value else '0'} for '{v}'"
    return fmt(value)


def split_table(dataset, seed: int = SPLIT_SEED):
    """80 % to train, 20 % to validate, each class in its true proportion."""
    (xt, yt), (xv, yv) = core_data.train_validation_split(dataset.x, dataset.y, 0.2,
                                                          stratify=True, seed=seed)
    return xt, yt, xv, yv


def balance(x, y, method: str, seed: int = 0):
    """``(x, y, class_weight)`` to train with: the data resampled, or a class_weight dict for
    ``model.fit(class_weight=...)``, or both unchanged for "none"."""
    if method == "none":
        return x, y, None
    if method == "class_weights":
        return x, y, core_data.class_weights(y)
    if method == "oversample":
        xs, ys = core_data.oversample(x, y, seed=seed)
        return xs, ys, None
    if method == "undersample":
        xs, ys = core_data.undersample(x, y, seed=seed)
        return xs, ys, None
    raise ValueError(f"balancing must be one of {', '.join(BALANCING)}, got {method!r}")


def minority_class(y) -> int:
    """The class with the fewest examples (the lowest id on a tie)."""
    y = np.asarray(y, dtype=np.int64)
    counts = np.bincount(y)
    present = np.flatnonzero(counts)
    return int(present[np.argmin(counts[present])])


def minority_scores(y_true, y_pred, minority: int, num_classes: int) -> dict:
    """Recall, precision and F1 of the minority class, and overall accuracy."""
    res = metrics.precision_recall_f1(y_true, y_pred, num_classes=num_classes)
    k = int(minority)
    return {"recall": float(res["recall"][k]), "precision": float(res["precision"][k]),
            "f1": float(res["f1"][k]), "accuracy": metrics.accuracy(y_true, y_pred),
            "support": int(res["support"][k])}


def build_tabular_model(n_features: int, n_classes: int, hidden=DEFAULT_HIDDEN,
                        learning_rate: float = 0.003, seed: int = 0) -> Sequential:
    """The course's churn network: Dense(26, relu) → Dense(15, relu) → one sigmoid unit with
    binary cross-entropy (softmax and sparse categorical cross-entropy for 3+ classes), Adam."""
    layers = [Dense(int(u), activation="relu") for u in hidden]
    if n_classes == 2:
        layers.append(Dense(1, activation="sigmoid"))
        loss = "binary_crossentropy"
    else:
        layers.append(Dense(int(n_classes), activation="softmax"))
        loss = "sparse_categorical_crossentropy"
    model = Sequential(layers, input_shape=(int(n_features),), seed=int(seed))
    model.compile(Adam(float(learning_rate)), loss, ["accuracy"])
    return model
