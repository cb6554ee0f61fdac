"""The data and the models lessons train: built here, without Qt, so a lesson only shows them.

Three families, one per lesson that used to build its own:

- the training dashboard: a dataset (built-in or a CSV file) split and scaled the same way for
  every run (`prepare_builtin`, `prepare_csv` → `PreparedData`) and the classifier its
  settings describe (`build_classifier`);
- the network playground: a small network on two inputs (`build_planar_model`), one epoch of
  training as Step does it (`train_one_epoch`) and what the window draws of it (`Snapshot`);
- hidden layers on digits: the flattened offline digits (`load_digit_data`) and the course's
  dense digit classifier (`build_digit_model`).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core import data as core_data
from core.data import PLANAR_EXTENT, load_offline_digits, train_validation_split
from core.layers import Dense, Flatten
from core.model import Sequential
from core.optimizers import SGD, Adam
from core.teaching.decision import DecisionGrid, decision_grid

__all__ = ["PreparedData", "prepare_builtin", "prepare_csv", "prepare_dataset", "csv_header",
           "looks_like_id", "parse_learning_rate", "build_classifier", "split_and_scale",
           "Snapshot", "Split", "build_planar_model", "take_snapshot", "train_one_epoch",
           "planar_epoch_seed", "DigitData", "load_digit_data", "build_digit_model"]

# --- the training dashboard ------------------------------------------------------------------
VALIDATION_FRACTION = 0.2
SPLIT_SEED = 0     # the same split for every run, so runs differ only in what you changed


@dataclass
class PreparedData:
    """Training and validation arrays ready for fit, and how they were made."""

    key: str
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    n_classes: int
    description: str
    keras: dict = field(default_factory=dict)   # extra arguments for keras_code

    @property
    def input_shape(self) -> tuple:
        return tuple(self.x_train.shape[1:])


def split_and_scale(x, y, scale: bool):
    (xt, yt), (xv, yv) = core_data.train_validation_split(
        x, y, VALIDATION_FRACTION, stratify=True, seed=SPLIT_SEED)
    if scale:
        xt, xv, _ = core_data.min_max_scale(xt, xv)
    return xt, yt, xv, yv


def prepare_builtin(key: str) -> PreparedData:
    """The dashboard's built-in datasets, split 80/20 and min-max scaled on the training part."""
    if key == "digits":
        x, y = core_data.load_offline_digits(seed=0, read_only=True)
        xt, yt, xv, yv = split_and_scale(x, y, scale=False)
        return PreparedData(key, "digits", xt, yt, xv, yv, 10,
                             "5,000 real handwritten digits (MNIST, offline): 28×28 pixels in "
                             "[0, 1], 10 classes. 4,000 to train, 1,000 to validate.")
    if key == "breast_cancer":
        ds = core_data.load_breast_cancer_data()
    elif key == "insurance":
        ds = core_data.load_insurance()
    else:
        raise ValueError(f"unknown dataset {key!r}")
    xt, yt, xv, yv = split_and_scale(ds.x, ds.y, scale=True)
    keras = {}
    if key == "insurance":
        keras["insurance"] = {"n": len(ds), "seed": 0, **core_data.INSURANCE_RULE}
    return PreparedData(key, key.replace("_", " "), xt, yt, xv, yv, ds.num_classes,
                        ds.description + f" {len(yt)} to train, {len(yv)} to validate "
                        "(min-max scaled on the training part).", keras)


def prepare_csv(path, target: str, drop=(), progress=None) -> PreparedData:
    """A CSV file read with core.data.read_csv_dataset; ValueError names the bad row/column.
    `progress(fraction)` is told how far reading got; returning False cancels it."""
    ds, report = core_data.read_csv_dataset(path, target, drop=drop, scaling=None,
                                            progress=progress)
    if len(ds) < 5:
        raise ValueError(f"{Path(path).name}: only {len(ds)} usable rows; at least 5 are needed")
    xt, yt, xv, yv = split_and_scale(ds.x, ds.y, scale=True)
    keras = {"csv": {"path": str(path), "target": target, "drop": list(drop),
                     "target_mapping": dict(report.target_mapping)}}
    return PreparedData("csv", Path(path).name, xt, yt, xv, yv, ds.num_classes,
                        f"{Path(path).name}: {len(ds)} rows, {ds.num_features} features after "
                        f"encoding, target '{target}' ({ds.num_classes} classes).", keras)


def prepare_dataset(key: str, cache: dict, csv_path=None, target: str = "",
                    drop=()) -> PreparedData:
    """The dashboard's dataset `key` ("csv": the file at csv_path), prepared once per choice of
    file, target and dropped columns and then served from `cache`."""
    if key == "csv":
        if not csv_path:
            raise ValueError("choose a CSV file first (Open CSV…)")
        cache_key = f"csv:{csv_path}:{target}:{tuple(drop)}"
        if cache_key not in cache:
            cache[cache_key] = prepare_csv(csv_path, target, tuple(drop))
        return cache[cache_key]
    if key not in cache:
        cache[key] = prepare_builtin(key)
    return cache[key]


def parse_learning_rate(text: str) -> float:
    """A learning rate typed by the learner ("0,1" too); ValueError says what is wrong."""
    text = text.strip().replace(",", ".")
    try:
        lr = float(text)
    except ValueError:
        raise ValueError(f"the learning rate {text!r} is not a number") from None
    if not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"the learning rate must be a positive number, got {text!r}")
    return lr


def csv_header(path) -> list[str]:
    """The column names in a CSV file's first non-empty row, split by the file's own
    separator (ValueError if unreadable)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 20)
    except OSError as exc:
        raise ValueError(f"{Path(path).name}: cannot read it ({exc.strerror or exc})") from None
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:   # not just a character cut at the 1 MiB boundary
            raise ValueError(f"{Path(path).name}: cannot read it as CSV: not UTF-8 text "
                             f"(undecodable byte at offset {exc.start})") from None
        text = head[:exc.start].decode("utf-8-sig")
    return core_data.csv_header_of_text(text, Path(path).name)


def looks_like_id(name: str) -> bool:
    """"id", "ID", "customerID", "user_id", "RowId": a column that names rows, not a feature."""
    return bool(re.fullmatch(r"id", name, re.IGNORECASE) or re.search(r"(ID|Id|[_\s-]id)$", name))


def build_classifier(data: PreparedData, hidden, optimizer: str, learning_rate: float,
                seed: int) -> Sequential:
    """Flatten (for images), the hidden Dense layers, and the output the task needs: one
    sigmoid unit with binary cross-entropy for two classes (as the course does), softmax with
    sparse categorical cross-entropy otherwise."""
    layers = [Flatten()] if len(data.input_shape) > 1 else []
    layers += [Dense(int(units), activation=act) for units, act in hidden]
    if data.n_classes == 2:
        layers.append(Dense(1, activation="sigmoid"))
        loss = "binary_crossentropy"
    else:
        layers.append(Dense(data.n_classes, activation="softmax"))
        loss = "sparse_categorical_crossentropy"
    model = Sequential(layers, input_shape=data.input_shape, seed=int(seed))
    opt = SGD(learning_rate) if optimizer == "sgd" else Adam(learning_rate)
    model.compile(opt, loss, ["accuracy"])
    return model


# --- the network playground ------------------------------------------------------------------
#: half-width of the heat maps: a margin around the data's square so noisy points show
VIEW_EXTENT = 1.3 * PLANAR_EXTENT
#: grid points per side of the decision heat maps
RESOLUTION = 80


@dataclass
class Snapshot:
    """What the playground draws, made (in the training thread) from the model at one moment."""

    generation: int
    epoch: int
    updates: int
    train: dict
    test: dict
    grid: DecisionGrid
    kernels: list
    biases: list
    stop_reason: str | None = None


@dataclass
class Split:
    """The playground's points: 70 % to train on, 30 % held out to test."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def build_planar_model(hidden, activation: str, learning_rate: float, seed: int) -> Sequential:
    """Dense layers of `hidden` units, then one sigmoid unit: P(class 1)."""
    layers = [Dense(int(h), activation=activation) for h in hidden]
    layers.append(Dense(1, activation="sigmoid"))
    model = Sequential(layers, input_shape=(2,), seed=seed)
    model.compile(SGD(learning_rate), "binary_crossentropy", ["accuracy"])
    return model


def take_snapshot(model: Sequential, split: Split, generation: int, epoch: int,
                  stop_reason: str | None = None, view_extent: float = VIEW_EXTENT,
                  resolution: int = RESOLUTION) -> Snapshot:
    """Losses and accuracies on both parts, the decision grid over ±view_extent, the weights;
    `generation` tells snapshots of an older network apart."""
    weights = model.get_weights()
    extent = (-view_extent, view_extent)
    return Snapshot(
        generation=generation, epoch=epoch, updates=model.optimizer.iterations,
        train=model.evaluate(split.x_train, split.y_train),
        test=model.evaluate(split.x_test, split.y_test),
        grid=decision_grid(model, extent, resolution=resolution),
        kernels=weights[0::2], biases=weights[1::2], stop_reason=stop_reason)


def planar_epoch_seed(seed: int, epoch: int) -> int:
    """The shuffling seed of one playground epoch: Step and Play shuffle alike."""
    return int(seed) * 100_003 + int(epoch)


def train_one_epoch(model: Sequential, split: Split, batch_size, epoch: int, seed: int):
    """One pass over the training points; returns fit's stop reason (None if all went well)."""
    n = len(split.y_train)
    history = model.fit(split.x_train, split.y_train, epochs=1,
                        batch_size=n if batch_size is None else int(batch_size),
                        seed=planar_epoch_seed(seed, epoch))
    return history.stop_reason


# --- hidden layers on digits -----------------------------------------------------------------
DIGITS_VALIDATION_FRACTION = 0.2


def build_digit_model(hidden, seed: int = 0, optimizer=None) -> Sequential:
    """The course's dense digit classifier: flattened pixels → [ReLU hidden] → 10 sigmoid."""
    layers = [Dense(int(h), activation="relu") for h in hidden]
    layers.append(Dense(10, activation="sigmoid"))
    model = Sequential(layers, input_shape=(784,), seed=seed)
    model.compile(optimizer if optimizer is not None else Adam(),
                  "sparse_categorical_crossentropy", ["accuracy"])
    return model


@dataclass
class DigitData:
    """Flattened digits for a dense network, split into training and validation."""

    x_train: np.ndarray   # (N, 784)
    y_train: np.ndarray
    x_val: np.ndarray     # (M, 784)
    y_val: np.ndarray


def load_digit_data(seed: int = 0) -> DigitData:
    """The 5,000 offline MNIST digits flattened to 784 values, 80 % train / 20 % validation."""
    x, y = load_offline_digits(seed=seed)
    x = x.reshape(len(x), -1)                                                 # (N, 784)
    (xt, yt), (xv, yv) = train_validation_split(x, y, DIGITS_VALIDATION_FRACTION, seed=seed)
    return DigitData(xt, yt, xv, yv)
