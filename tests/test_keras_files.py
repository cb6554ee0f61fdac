"""Keras's own model files: the fixtures were written by real Keras 3
(tests/fixtures/keras/make_fixtures.py) with Keras's predictions beside them; the engine must
predict the same, refuse what it cannot run by name, check sizes before allocating, and
write .keras files it (and Keras: benchmarks/keras_files_roundtrip.py) reads back."""
import io
import json
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from core import keras
from core.io import load_model
from core.keras import saving

FIXTURES = Path(__file__).parent / "fixtures" / "keras"


@pytest.mark.parametrize("name", ["dense", "cnn", "activations", "recurrent"])
@pytest.mark.parametrize("ext", [".keras", ".h5"])
def test_files_written_by_real_keras_predict_what_keras_predicted(name, ext):
    model = load_model(FIXTURES / f"{name}{ext}")
    x, want = np.load(FIXTURES / f"{name}_x.npy"), np.load(FIXTURES / f"{name}_y.npy")
    np.testing.assert_allclose(model.predict(x), want, atol=1e-5)
    if name == "recurrent":   # compiled by make_fixtures.py with loss="mse", no metrics
        assert model.loss.name == "mean_squared_error" and model.metrics == []
    else:
        assert model.loss.name == "sparse_categorical_crossentropy" and model.metrics == ["accuracy"]


def test_a_lambda_layer_is_refused_by_name_and_never_run():
    with pytest.raises(ValueError, match="'lambda' is a Lambda layer"):
        load_model(FIXTURES / "lambda.keras")


def _rewrite(src, dst, config=None, weights=None):
    """A copy of a .keras file with its config and/or weights file edited."""
    with zipfile.ZipFile(src) as zf:
        cfg = json.loads(zf.read("config.json"))
        h5 = zf.read("model.weights.h5")
    if config:
        config(cfg)
    if weights:
        buf = io.BytesIO(h5)
        with h5py.File(buf, "a") as f:
            weights(f)
        h5 = buf.getvalue()
    with zipfile.ZipFile(dst, "w") as zf:
        zf.writestr("config.json", json.dumps(cfg))
        zf.writestr("metadata.json", "{}")
        zf.writestr("model.weights.h5", h5)
    return dst


def test_a_huge_declared_layer_is_refused_before_anything_is_allocated(tmp_path):
    def huge(cfg):
        layers = cfg["config"]["layers"]
        layers[0]["config"]["batch_shape"] = [None, 20000]
        layers[1:] = [layers[2]]
        layers[1]["config"]["units"] = 20000
    path = _rewrite(FIXTURES / "dense.keras", tmp_path / "huge.keras", config=huge)
    with pytest.raises(ValueError, match="parameters"):
        load_model(path)


def test_weights_of_the_wrong_shape_or_not_finite_are_refused(tmp_path):
    def wrong(f):
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = np.zeros((7, 5), np.float32)
    with pytest.raises(ValueError, match="shape"):
        load_model(_rewrite(FIXTURES / "dense.keras", tmp_path / "a.keras", weights=wrong))

    def nan(f):
        f["layers/dense_1/vars/1"][0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        load_model(_rewrite(FIXTURES / "dense.keras", tmp_path / "b.keras", weights=nan))


def test_other_model_kinds_and_options_the_engine_lacks_are_named(tmp_path):
    def functional(cfg):
        cfg["class_name"] = "Functional"
    with pytest.raises(ValueError, match="Functional"):
        load_model(_rewrite(FIXTURES / "dense.keras", tmp_path / "f.keras", config=functional))

    def no_bias(cfg):
        cfg["config"]["layers"][2]["config"]["use_bias"] = False
    with pytest.raises(ValueError, match="use_bias"):
        load_model(_rewrite(FIXTURES / "dense.keras", tmp_path / "u.keras", config=no_bias))
    (tmp_path / "junk.keras").write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="junk.keras"):
        load_model(tmp_path / "junk.keras")


def test_a_model_saved_as_keras_comes_back_the_same(tmp_path):
    rng = np.random.default_rng(0)
    model = keras.Sequential([keras.layers.Conv2D(3, 3, activation="relu", input_shape=(8, 8, 1)),
                              keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
                              keras.layers.Dense(4, trainable=False), keras.layers.LeakyReLU(0.1),
                              keras.layers.Dense(3)])
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.save(tmp_path / "m.keras")
    back = keras.models.load_model(tmp_path / "m.keras")
    x = rng.normal(size=(3, 8, 8, 1)).astype(np.float32)
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [lay.trainable for lay in back.layers] == [True, True, True, False, True, True]
    assert back.loss.from_logits and back.optimizer.momentum == pytest.approx(0.9)
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        assert set(zf.namelist()) == {"config.json", "metadata.json", "model.weights.h5"}
        with h5py.File(io.BytesIO(zf.read("model.weights.h5"))) as f:
            # where Keras 3 looks: by class, counted (dense, dense_1), not by layer name
            assert f["layers/dense_1/vars/0"].shape == (4, 3)
    assert not list(tmp_path.glob(".*tmp"))  # written whole or not at all


def test_keras_layer_weight_groups_follow_keras_naming():
    assert saving.weight_groups(["Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense",
                                 "LeakyReLU", "ReLU", "Dense"]) == [
        "conv2d", "max_pooling2d", "flatten", "dense", "dense_1", "leaky_re_lu", "re_lu",
        "dense_2"]
