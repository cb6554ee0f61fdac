"""The "Keras code" a learner copies into the course's notebooks: valid Python that builds
the same network with the same optimizer, learning rate, batch size and epochs, on the same
data."""
import ast
import sys
import types

import numpy as np
import pytest

from core.teaching.keras_code import keras_code, keras_code_for_model, layer_code
from core.layers import Conv2D, Dense, Dropout, Flatten, LeakyReLU, MaxPool2D
from core.model import Sequential
from core.optimizers import SGD, Adam


def _mlp(lr=0.05, optimizer="sgd"):
    m = Sequential([Flatten(), Dense(64, activation="relu"), Dense(32, activation="tanh"),
                    Dense(10, activation="softmax")], input_shape=(28, 28, 1), seed=0)
    opt = SGD(lr) if optimizer == "sgd" else Adam(lr)
    m.compile(opt, "sparse_categorical_crossentropy", ["accuracy"])
    return m


class _Recorder:
    """Stands in for tensorflow.keras: every call is written down, nothing is computed."""

    def __init__(self, path, log):
        self._path, self._log = path, log

    def __getattr__(self, name):
        return _Recorder(f"{self._path}.{name}", self._log)

    def __call__(self, *args, **kwargs):
        self._log.append((self._path, args, kwargs))
        result = _Recorder(f"{self._path}()", self._log)
        return result

    @property
    def history(self):
        return {}


def _run_with_fake_keras(code, monkeypatch, skip_data=True):
    log = []
    keras = _Recorder("keras", log)
    tf = types.ModuleType("tensorflow")
    tf.keras = keras
    tfk = types.ModuleType("tensorflow.keras")
    tfk.layers = _Recorder("layers", log)
    monkeypatch.setitem(sys.modules, "tensorflow", tf)
    monkeypatch.setitem(sys.modules, "tensorflow.keras", tfk)
    ns = {}
    if skip_data:
        ns.update(x_train=np.zeros((4, 28, 28, 1)), y_train=np.zeros(4), x_val=None, y_val=None)
    exec(compile(code, "<keras code>", "exec"), ns)
    return log, ns


def _calls(log, suffix):
    return [(a, k) for p, a, k in log if p.endswith(suffix)]


def test_code_is_valid_python_with_the_settings(monkeypatch):
    model = _mlp(lr=0.05)
    code = keras_code_for_model(model, epochs=7, batch_size=16, seed=3, dataset=None,
                                run_name="run 2")
    compile(code, "<keras>", "exec")
    for text in ("layers.Dense(64, activation=\"relu\")", "layers.Flatten()",
                 "keras.optimizers.SGD(learning_rate=0.05)", "epochs=7", "batch_size=16",
                 "sparse_categorical_crossentropy", "set_random_seed(3)", '"logs/run 2"'):
        assert text in code

    log, _ = _run_with_fake_keras(code, monkeypatch)
    (layers_list,), _ = _calls(log, "keras.Sequential")[0]
    # the recorded layer objects come back in the network's order
    built = [p for p, a, k in log if p.startswith("layers.") or p == "keras.Input"]
    assert built == ["keras.Input", "layers.Flatten", "layers.Dense", "layers.Dense",
                     "layers.Dense"]
    dense = _calls(log, "layers.Dense")
    assert [(a[0], k.get("activation")) for a, k in dense] == [(64, "relu"), (32, "tanh"),
                                                               (10, "softmax")]
    assert _calls(log, "keras.Input")[0][1]["shape"] == (28, 28, 1)
    assert len(layers_list) == 5
    (_, opt_kwargs), = _calls(log, "optimizers.SGD")
    assert opt_kwargs == {"learning_rate": 0.05}
    (_, comp), = _calls(log, "model.compile") or _calls(log, "Sequential().compile")
    assert comp["loss"] == "sparse_categorical_crossentropy" and comp["metrics"] == ["accuracy"]
    (fit_args, fit), = _calls(log, "Sequential().fit")
    assert fit["epochs"] == 7 and fit["batch_size"] == 16
    (_, tb), = _calls(log, "callbacks.TensorBoard")
    assert tb["log_dir"] == "logs/run 2"


def test_adam_and_other_layers(monkeypatch):
    m = Sequential([Conv2D(8, 3, padding="same", activation="relu"), MaxPool2D(2), Flatten(),
                    Dropout(0.25), Dense(16), LeakyReLU(0.2), Dense(1, activation="sigmoid")],
                   input_shape=(28, 28, 1), seed=0)
    m.compile(Adam(0.002, beta_1=0.8), "binary_crossentropy", ["accuracy"])
    code = keras_code_for_model(m, epochs=2, batch_size=64, seed=None, dataset=None)
    compile(code, "<keras>", "exec")
    assert "set_random_seed" not in code
    log, _ = _run_with_fake_keras(code, monkeypatch)
    assert _calls(log, "layers.Conv2D")[0] == ((8, 3), {"padding": "same", "activation": "relu"})
    assert _calls(log, "layers.MaxPooling2D")[0] == ((2,), {})
    assert _calls(log, "layers.Dropout")[0] == ((0.25,), {})
    assert _calls(log, "layers.LeakyReLU")[0] == ((), {"alpha": 0.2})
    assert _calls(log, "optimizers.Adam")[0][1] == {"learning_rate": 0.002, "beta_1": 0.8}
    assert _calls(log, "layers.Dense")[1] == ((1,), {"activation": "sigmoid"})


def test_a_leaky_relu_activation_string_becomes_its_own_layer():
    spec = Sequential([Dense(4, activation="leaky_relu")], input_shape=(3,)).get_config()
    assert layer_code(spec["layers"][0]) == ["layers.Dense(4)", "layers.LeakyReLU(alpha=0.01)"]
    assert layer_code({"class_name": "Sigmoid", "config": {}}) == ['layers.Activation("sigmoid")']
    assert layer_code({"class_name": "ReLU", "config": {}}) == ["layers.ReLU()"]
    assert layer_code({"class_name": "Mystery", "config": {}}) == [
        "# layer Mystery: no Keras equivalent known; put the Keras code that does the same here"]


def test_what_keras_cannot_express_becomes_a_comment_line_not_an_error(monkeypatch):
    """A layer or optimizer without a Keras counterpart must not stop training (the dashboard
    writes the code before it starts a run): the script says so in a comment and still runs."""
    model_config = {"input_shape": [3], "layers": [
        {"class_name": "Dense", "config": {"units": 4, "activation": "relu"}},
        {"class_name": "Mystery", "config": {"units": 4}},
        {"class_name": "Dense", "config": {"units": 1, "activation": "sigmoid"}}]}
    compile_config = {"optimizer": {"name": "rmsprop_plus", "learning_rate": 0.01},
                      "loss": "binary_crossentropy", "metrics": ["accuracy"]}
    code = keras_code(model_config, compile_config, epochs=1, batch_size=2, dataset=None)
    lines = code.splitlines()
    assert "    # layer Mystery: no Keras equivalent known; put the Keras code that does the " \
           "same here" in lines
    assert any(ln.startswith("    # optimizer 'rmsprop_plus': no Keras equivalent") for ln in lines)
    assert not any(ln.strip().startswith("optimizer=") for ln in lines)
    log, _ = _run_with_fake_keras(code, monkeypatch)
    assert [c[1] for c in log if c[0] == "layers.Dense"] == [(4,), (1,)]
    assert _calls(log, ".compile")[0][1] == {"loss": "binary_crossentropy",
                                             "metrics": ["accuracy"]}


def _data_section(code):
    """The script up to the model: just the data loading, runnable without TensorFlow."""
    head = code.split("model = keras.Sequential")[0]
    return "\n".join(line for line in head.splitlines()
                     if "tensorflow" not in line and "keras." not in line)


def test_insurance_data_code_regenerates_the_same_table():
    from core.data import INSURANCE_RULE, load_insurance

    model = Sequential([Dense(1, activation="sigmoid")], input_shape=(2,), seed=0)
    model.compile(SGD(0.5), "binary_crossentropy", ["accuracy"])
    code = keras_code_for_model(model, epochs=3, batch_size=1, dataset="insurance", seed=0,
                                insurance={"n": 150, "seed": 4, **INSURANCE_RULE})
    ns = {}
    exec(compile(_data_section(code), "<data>", "exec"), ns)
    data = load_insurance(n=150, seed=4)
    np.testing.assert_array_equal(ns["x"], data.x)
    np.testing.assert_array_equal(ns["y"], data.y)
    assert len(ns["x_train"]) == 120 and len(ns["x_val"]) == 30
    # scaled to [0, 1] on the training part, like the dashboard
    assert ns["x_train"].min() == 0.0 and ns["x_train"].max() == pytest.approx(1.0)


def test_digits_data_code_loads_the_offline_digits_in_the_model_shape():
    from core.data import load_offline_digits

    model = Sequential([Dense(10, activation="softmax")], input_shape=(784,), seed=0)
    model.compile(SGD(0.1), "sparse_categorical_crossentropy", ["accuracy"])
    code = keras_code_for_model(model, epochs=1, batch_size=32, dataset="digits", seed=0)
    ns = {}
    exec(compile(_data_section(code), "<data>", "exec"), ns)
    x, y = load_offline_digits(shuffle=False)
    assert ns["x"].shape == (5000, 784) and ns["x"].dtype == np.float32
    np.testing.assert_allclose(ns["x"], x.reshape(5000, 784), atol=1e-7)
    np.testing.assert_array_equal(ns["y"], y)


def test_csv_data_code_names_the_file_target_and_mapping():
    model = Sequential([Dense(1, activation="sigmoid")], input_shape=(5,), seed=0)
    model.compile(SGD(0.1), "binary_crossentropy", ["accuracy"])
    code = keras_code_for_model(model, epochs=1, batch_size=8, dataset="csv",
                                csv={"path": "/data/churn.csv", "target": "Churn",
                                     "drop": ["customerID"],
                                     "target_mapping": {"No": 0, "Yes": 1}})
    compile(code, "<keras>", "exec")
    tree = ast.parse(code)
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    assert {"/data/churn.csv", "Churn", "customerID"} <= strings
    assert "{'No': 0, 'Yes': 1}" in code


def test_uncompiled_model_and_bad_settings_are_clear_errors():
    m = Sequential([Dense(2)], input_shape=(3,))
    with pytest.raises(ValueError, match="compiled"):
        keras_code_for_model(m, epochs=1, batch_size=1)
    with pytest.raises(ValueError, match="epochs"):
        keras_code_for_model(_mlp(), epochs=0, batch_size=1)
    with pytest.raises(ValueError, match="unknown dataset"):
        keras_code_for_model(_mlp(), epochs=1, batch_size=1, dataset="imagenet")
