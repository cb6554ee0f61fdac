"""core.teaching.tasks: the data and models the dashboard, the playground and the hidden-layers
lesson train, built without Qt; numbers checked against NumPy done here."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from core.data import load_planar, train_validation_split
from core.teaching import tasks as T


def test_tasks_never_import_qt():
    code = ("import sys, core.teaching.tasks; "
            "sys.exit(any(m.startswith(('PySide6', 'PyQt', 'shiboken')) for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# --- the dashboard -----------------------------------------------------------------------------
def test_builtin_insurance_is_split_and_scaled_on_its_training_part():
    d = T.prepare_builtin("insurance")
    assert d.n_classes == 2 and d.input_shape == (2,)
    assert len(d.y_train) + len(d.y_val) == 200 and len(d.y_val) == 40
    # min-max scaled with the training part's minimum and maximum
    np.testing.assert_allclose(d.x_train.min(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(d.x_train.max(axis=0), 1.0, atol=1e-6)
    assert "insurance" in d.keras            # the Keras code rebuilds the same data
    # the same split every time: runs differ only in what the learner changed
    again = T.prepare_builtin("insurance")
    np.testing.assert_array_equal(d.x_val, again.x_val)


def test_digits_keep_their_pixels_and_shape():
    d = T.prepare_builtin("digits")
    assert d.input_shape == (28, 28, 1) and d.n_classes == 10
    assert (len(d.y_train), len(d.y_val)) == (4000, 1000)
    assert 0.0 <= d.x_train.min() and d.x_train.max() <= 1.0


def test_unknown_dataset_and_missing_csv_are_named():
    with pytest.raises(ValueError, match="unknown dataset"):
        T.prepare_builtin("nope")
    with pytest.raises(ValueError, match="choose a CSV file first"):
        T.prepare_dataset("csv", {}, None)


def test_prepare_dataset_serves_each_choice_once(tmp_path):
    path = tmp_path / "t.csv"
    rows = ["id,a,b,label"] + [f"{i},{i % 7},{(3 * i) % 5},{'yes' if i % 2 else 'no'}"
                               for i in range(30)]
    path.write_text("\n".join(rows) + "\n")
    assert T.csv_header(path) == ["id", "a", "b", "label"]
    cache = {}
    d = T.prepare_dataset("csv", cache, str(path), "label", ("id",))
    assert d is T.prepare_dataset("csv", cache, str(path), "label", ("id",))
    assert d.n_classes == 2 and d.input_shape == (2,)
    assert d.keras["csv"]["drop"] == ["id"]
    other = T.prepare_dataset("csv", cache, str(path), "label", ())
    assert other is not d and other.input_shape == (3,)
    assert T.prepare_dataset("insurance", cache) is cache["insurance"]


@pytest.mark.parametrize("name, is_id", [("id", True), ("ID", True), ("customerID", True),
                                         ("user_id", True), ("RowId", True), ("age", False),
                                         ("idle", False), ("paid", False)])
def test_looks_like_id(name, is_id):
    assert T.looks_like_id(name) is is_id


def test_parse_learning_rate():
    assert T.parse_learning_rate(" 0,1 ") == pytest.approx(0.1)
    assert T.parse_learning_rate("3e-4") == pytest.approx(3e-4)
    for bad, says in (("abc", "not a number"), ("0", "positive"), ("-1", "positive"),
                      ("inf", "positive")):
        with pytest.raises(ValueError, match=says):
            T.parse_learning_rate(bad)


def test_classifier_output_follows_the_number_of_classes():
    two = T.prepare_builtin("insurance")
    m = T.build_classifier(two, [(8, "relu")], "sgd", 0.1, seed=0)
    assert [type(l).__name__ for l in m.layers] == ["Dense", "Dense"]
    assert m.layers[-1].units == 1 and m.compile_config()["loss"] == "binary_crossentropy"
    ten = T.prepare_builtin("digits")
    m = T.build_classifier(ten, [(16, "tanh")], "adam", 0.001, seed=0)
    assert type(m.layers[0]).__name__ == "Flatten"
    assert m.layers[-1].units == 10
    assert m.compile_config()["loss"] == "sparse_categorical_crossentropy"
    assert m.count_params() == 784 * 16 + 16 + 16 * 10 + 10


# --- the playground ------------------------------------------------------------------------------
def _split():
    data = load_planar("xor", n=120, noise=0.0, seed=0)
    (xt, yt), (xv, yv) = train_validation_split(data.x, data.y, 0.3, seed=0)
    return T.Split(xt, yt, xv, yv)


def test_planar_model_and_its_snapshot():
    split = _split()
    model = T.build_planar_model([3, 2], "tanh", 0.1, seed=0)
    assert [l.units for l in model.layers] == [3, 2, 1]
    snap = T.take_snapshot(model, split, generation=4, epoch=0, resolution=20)
    assert (snap.generation, snap.epoch, snap.updates) == (4, 0, 0)
    assert [k.shape for k in snap.kernels] == [(2, 3), (3, 2), (2, 1)]
    assert snap.grid.shape[:2] == (20, 20) and len(snap.grid.hidden) == 2
    # the test loss is binary cross-entropy of the model's own predictions
    p = np.clip(model.predict(split.x_test)[:, 0].astype(np.float64), 1e-7, 1 - 1e-7)
    y = split.y_test
    bce = float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))
    assert snap.test["loss"] == pytest.approx(bce, rel=1e-4)


def test_one_epoch_shuffles_as_the_epoch_seed_says():
    split = _split()
    a = T.build_planar_model([4], "relu", 0.1, seed=0)
    b = T.build_planar_model([4], "relu", 0.1, seed=0)
    assert T.train_one_epoch(a, split, 10, epoch=3, seed=2) is None
    b.fit(split.x_train, split.y_train, epochs=1, batch_size=10,
          seed=T.planar_epoch_seed(2, 3))
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert a.optimizer.iterations == int(np.ceil(len(split.y_train) / 10))
    full = T.build_planar_model([4], "relu", 0.1, seed=0)
    T.train_one_epoch(full, split, None, epoch=0, seed=0)     # full batch: one update
    assert full.optimizer.iterations == 1


# --- hidden layers on digits ------------------------------------------------------------------
def test_digit_data_and_the_courses_two_networks():
    d = T.load_digit_data()
    assert d.x_train.shape == (4000, 784) and d.x_val.shape == (1000, 784)
    assert T.build_digit_model(()).count_params() == 7850
    hidden = T.build_digit_model((100,))
    assert hidden.count_params() == 79510
    assert [layer.units for layer in hidden.layers] == [100, 10]
