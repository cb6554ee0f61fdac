"""Real Keras model files, both ways: Keras 3's `.keras` (a zip of config.json,
metadata.json and model.weights.h5) and the legacy `.h5` TensorFlow 2 wrote (what the
course's notebooks saved).

Reading never executes anything from a file: the architecture is JSON, mapped layer by layer
onto the engine's own layers (a Lambda, custom or unknown layer is refused with a ValueError
naming it); every size it declares is checked (core.io's caps) and compared with the HDF5
datasets' shapes before a weight is read. Writing produces what Keras's own
`keras.models.load_model` opens (checked against real Keras by
benchmarks/keras_files_roundtrip.py where Keras is installed).
"""
from __future__ import annotations

import io
import json
import os
import re
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

from core import activations as _act
from core import io as core_io
from core.safe_npz import short

_MAX_CONFIG_BYTES = 16 * 1024**2
_KERAS_VERSION = "3.5.0"   # what metadata.json claims: the oldest Keras 3 that reads these files

# ------------------------------------------------------------------ Keras layer → engine layer


def _pair(v, what, layer):
    if isinstance(v, int) and not isinstance(v, bool):
        return [v, v]
    if isinstance(v, (list, tuple)) and len(v) == 2 and all(isinstance(i, int) for i in v):
        return list(v)
    raise ValueError(f"layer {layer!r}: {what} {short(v)} is not a pair of whole numbers")


def _activation(value, layer):
    if isinstance(value, dict):  # Keras 3 may serialise an activation as an object
        value = value.get("config", {}).get("name", value.get("class_name"))
    if value in (None, "linear"):
        return None
    try:
        _act.get(value)
    except ValueError:
        raise ValueError(f"layer {layer!r} uses the activation {short(value)}, which "
                         f"Backprop Lab does not have ({', '.join(_act.NAMES)})") from None
    return value


def _require(cfg, layer, **expected):
    """Keras options the engine cannot honour: refuse the file, naming the option."""
    for key, want in expected.items():
        got = cfg.get(key, want)
        if isinstance(got, list):
            got = tuple(got)
        if got != want and not (key == "data_format" and got is None):
            raise ValueError(f"layer {layer!r} has {key}={short(got)}, which Backprop Lab "
                             f"does not support")


def _engine_layer(spec: dict) -> dict | None:
    """One Keras layer description → the engine's {"class_name", "config"}, or None for an
    InputLayer (its shape is read separately)."""
    if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str):
        raise ValueError(f"a layer description without a class name: {short(spec)}")
    kind = spec["class_name"]
    cfg = spec.get("config") or {}
    if not isinstance(cfg, dict):
        raise ValueError(f"layer {kind} has a malformed config")
    name = cfg.get("name") if isinstance(cfg.get("name"), str) and cfg.get("name") else None
    label = name or kind
    base = {"name": name} if name else {}
    if cfg.get("trainable") is False:
        base["trainable"] = False
    common = dict(data_format="channels_last")
    if kind == "InputLayer":
        return None
    if kind == "Dense":
        _require(cfg, label, use_bias=True, kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None)
        return {"class_name": "Dense", "config": {**base, "units": cfg.get("units"),
                                                  "activation": _activation(cfg.get("activation"), label)}}
    if kind == "Conv2D":
        _require(cfg, label, use_bias=True, groups=1, dilation_rate=(1, 1), **common,
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None)
        return {"class_name": "Conv2D", "config": {
            **base, "filters": cfg.get("filters"),
            "kernel_size": _pair(cfg.get("kernel_size"), "kernel_size", label),
            "strides": _pair(cfg.get("strides", 1), "strides", label),
            "padding": cfg.get("padding", "valid"),
            "activation": _activation(cfg.get("activation"), label)}}
    if kind in ("MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D"):
        _require(cfg, label, **common)
        pool = _pair(cfg.get("pool_size", 2), "pool_size", label)
        strides = cfg.get("strides")
        return {"class_name": "MaxPool2D" if kind.startswith("Max") else "AvgPool2D",
                "config": {**base, "pool_size": pool,
                           "strides": pool if strides is None else _pair(strides, "strides", label),
                           "padding": cfg.get("padding", "valid")}}
    if kind == "Flatten":
        _require(cfg, label, **common)
        return {"class_name": "Flatten", "config": base}
    if kind == "Dropout":
        _require(cfg, label, noise_shape=None)
        return {"class_name": "Dropout", "config": {**base, "rate": cfg.get("rate"),
                                                    "seed": cfg.get("seed")}}
    if kind == "ReLU":
        _require(cfg, label, max_value=None, negative_slope=0.0, threshold=0.0)
        return {"class_name": "ReLU", "config": base}
    if kind == "LeakyReLU":
        slope = cfg.get("negative_slope", cfg.get("alpha", 0.3))
        return {"class_name": "LeakyReLU", "config": {**base, "alpha": slope}}
    if kind == "Softmax":
        _require(cfg, label, axis=-1)
        return {"class_name": "Softmax", "config": base}
    if kind == "Rescaling":
        scale, offset = cfg.get("scale", 1.0), cfg.get("offset", 0.0)
        if not all(isinstance(v, (int, float)) for v in (scale, offset)):
            raise ValueError(f"layer {label!r}: Rescaling by one number per channel is not "
                             f"supported")
        return {"class_name": "Rescaling", "config": {**base, "scale": scale, "offset": offset}}
    if kind == "RandomFlip":
        return {"class_name": "RandomFlip", "config": {
            **base, "mode": cfg.get("mode", "horizontal_and_vertical"), "seed": cfg.get("seed")}}
    if kind in ("RandomRotation", "RandomZoom"):
        _require(cfg, label, interpolation="bilinear", fill_value=0.0, **common)
        out = {**base, "fill_mode": cfg.get("fill_mode", "reflect"), "seed": cfg.get("seed")}
        if kind == "RandomRotation":
            out["factor"] = cfg.get("factor")
        else:
            out.update(height_factor=cfg.get("height_factor"),
                       width_factor=cfg.get("width_factor"))
        return {"class_name": kind, "config": out}
    if kind in ("SimpleRNN", "LSTM"):
        _require(cfg, label, use_bias=True, return_state=False, go_backwards=False,
                 stateful=False, dropout=0.0, recurrent_dropout=0.0,
                 **({"recurrent_activation": "sigmoid", "activation": "tanh"}
                    if kind == "LSTM" else {}))
        out = {**base, "units": cfg.get("units"),
               "return_sequences": bool(cfg.get("return_sequences", False))}
        if kind == "SimpleRNN":
            out["activation"] = _activation(cfg.get("activation", "tanh"), label) or "linear"
        return {"class_name": kind, "config": out}
    if kind == "Embedding":
        _require(cfg, label, mask_zero=False)
        return {"class_name": "Embedding", "config": {
            **base, "input_dim": cfg.get("input_dim"), "output_dim": cfg.get("output_dim")}}
    if kind == "Activation":
        fn = _activation(cfg.get("activation"), label)
        table = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "softmax": "Softmax"}
        if fn not in table:
            raise ValueError(f"layer {label!r}: Activation({short(fn)}) has no engine layer")
        return {"class_name": table[fn], "config": base}
    raise ValueError(f"layer {label!r} is a {short(kind)} layer, which Backprop Lab cannot "
                     f"load (it runs Dense, Conv2D, pooling, Flatten, Dropout and activation "
                     f"layers; a file's custom or Lambda layers are never executed)")


def _input_shape(layers: list, build_config) -> list:
    for spec in layers:
        cfg = spec.get("config") if isinstance(spec, dict) else None
        if not isinstance(cfg, dict):
            continue
        for key in ("batch_shape", "batch_input_shape"):
            if isinstance(cfg.get(key), list):
                return cfg[key][1:]
        if isinstance(spec.get("build_config"), dict):
            shape = spec["build_config"].get("input_shape")
            if isinstance(shape, list):
                return shape[1:]
    if isinstance(build_config, dict) and isinstance(build_config.get("input_shape"), list):
        return build_config["input_shape"][1:]
    raise ValueError("the model does not say what shape its input has")


def engine_config(keras_config: dict, name: str) -> dict:
    """A Keras Sequential's description → core.model.Sequential.from_config's."""
    if not isinstance(keras_config, dict) or keras_config.get("class_name") != "Sequential":
        kind = keras_config.get("class_name") if isinstance(keras_config, dict) else None
        raise ValueError(f"{name} holds a {short(kind)} model; Backprop Lab opens Keras "
                         f"Sequential models")
    cfg = keras_config.get("config")
    if isinstance(cfg, list):   # TensorFlow 1 / early Keras 2: the layer list itself
        cfg = {"layers": cfg}
    if not isinstance(cfg, dict) or not isinstance(cfg.get("layers"), list):
        raise ValueError(f"{name} has a Sequential model without a list of layers")
    try:
        shape = _input_shape(cfg["layers"], keras_config.get("build_config")
                             or {"input_shape": cfg.get("build_input_shape")})
        layers, kinds = [], []
        for spec in cfg["layers"]:
            engine = _engine_layer(spec)
            if engine is not None:
                layers.append(engine)
                kinds.append(spec["class_name"])
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    return {"name": cfg.get("name") if isinstance(cfg.get("name"), str) else "sequential",
            "input_shape": shape, "layers": layers, "keras_groups": weight_groups(kinds)}


def _snake_case(class_name: str) -> str:
    """Keras's own rule (keras.src.utils.naming.to_snake_case): MaxPooling2D → max_pooling2d."""
    name = re.sub(r"\W+", "", class_name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def weight_groups(keras_classes) -> list[str]:
    """Where Keras 3 keeps each layer's weights in model.weights.h5: not under the layer's
    name but its class's, counted within the model (dense, dense_1, conv2d, ...)."""
    used: dict[str, int] = {}
    out = []
    for cls in keras_classes:
        base = _snake_case(cls)
        if base in used:
            used[base] += 1
            out.append(f"{base}_{used[base]}")
        else:
            used[base] = 0
            out.append(base)
    return out


# ------------------------------------------------------------------ reading


def load(path) -> "object":
    """A .keras or legacy .h5 file → core.model.Sequential (weights loaded, not compiled
    unless the file's training set-up is one the engine has)."""
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    try:
        if path.suffix.lower() == ".keras":
            return _load_keras(path, name)
        return _load_legacy_h5(path, name)
    except ValueError:
        raise
    except RecursionError:
        raise ValueError(f"{name} has a model description nested too deeply") from None
    except PermissionError:
        raise ValueError(f"{name} cannot be opened: you do not have permission to read it") from None
    except (OSError, KeyError, TypeError, IndexError, AttributeError, zipfile.BadZipFile,
            UnicodeDecodeError, OverflowError, MemoryError) as exc:
        raise ValueError(f"{name} is not a readable Keras model file ({short(exc)})") from None


def _json(text: bytes | str, name: str) -> dict:
    if len(text) > _MAX_CONFIG_BYTES:
        raise ValueError(f"{name} has a model description too large to be a model")
    try:
        value = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"{name} has a model description that is not valid JSON") from None
    if not isinstance(value, dict):
        raise ValueError(f"{name} has a malformed model description")
    return value


def _load_keras(path: Path, name: str):
    import h5py

    with zipfile.ZipFile(path) as zf:
        members = set(zf.namelist())
        if not {"config.json", "model.weights.h5"} <= members:
            raise ValueError(f"{name} is not a Keras 3 model file (no config.json and "
                             f"model.weights.h5 inside)")
        info = zf.getinfo("model.weights.h5")
        if info.file_size > 2 * 1024**3:
            raise ValueError(f"{name} would unpack to more than 2 GB: refused")
        keras_config = _json(zf.read("config.json"), name)
        weights_bytes = zf.read("model.weights.h5")
    config = engine_config(keras_config, name)
    groups = dict(zip((spec["config"].get("name") for spec in config["layers"]),
                      config.pop("keras_groups")))
    model, planned = core_io.plan_model(config, name)
    with h5py.File(io.BytesIO(weights_bytes), "r") as h5:
        datasets = []
        for layer_name in _layers_with_weights(planned):
            where = f"layers/{groups.get(layer_name, layer_name)}"
            # a recurrent layer keeps its weights in its cell
            group = h5.get(f"{where}/vars") if f"{where}/cell" not in h5 else h5.get(f"{where}/cell/vars")
            if group is None:
                raise ValueError(f"{name} has no weights for layer {layer_name!r}")
            keys = sorted((k for k in group.keys() if k.isdigit()), key=int)
            datasets.extend(group[k] for k in keys)
        return _finish(model, planned, datasets, keras_config.get("compile_config"), name)


def _layers_with_weights(planned):
    """Names of the layers holding weights, in order (from core.io.plan_model's plan)."""
    return list(dict.fromkeys(layer for layer, _, _ in planned))


def _load_legacy_h5(path: Path, name: str):
    import h5py

    with h5py.File(path, "r") as h5:
        raw = h5.attrs.get("model_config")
        if raw is None:
            raise ValueError(f"{name} holds weights only, not a model (no model_config); "
                             f"open a file saved with model.save")
        keras_config = _json(raw if isinstance(raw, (bytes, str)) else bytes(raw), name)
        config = engine_config(keras_config, name)
        config.pop("keras_groups")
        model, planned = core_io.plan_model(config, name)
        weights = h5["model_weights"] if "model_weights" in h5 else h5
        datasets = []
        for layer_name in _layers_with_weights(planned):
            if layer_name not in weights:
                raise ValueError(f"{name} has no weights for layer {layer_name!r}")
            group = weights[layer_name]
            names = [n.decode() if isinstance(n, bytes) else str(n)
                     for n in group.attrs.get("weight_names", [])]
            datasets.extend(group[n] for n in names)
        training = h5.attrs.get("training_config")
        compile_cfg = _json(training, name) if training is not None else None
        return _finish(model, planned, datasets, compile_cfg, name)


def _finish(model, planned, datasets, compile_cfg, name):
    core_io.check_stored_shapes(planned, [tuple(d.shape) for d in datasets], name)
    model.build()
    weights = []
    for (layer, key, _), d in zip(planned, datasets):
        if d.dtype.kind not in "fiu":
            raise ValueError(f"{name}: the {key} of layer {layer!r} is not numbers ({d.dtype})")
        w = np.asarray(d[()], dtype=np.float32)
        if not np.isfinite(w).all():
            raise ValueError(f"{name}: the {key} of layer {layer!r} holds NaN or infinite values")
        weights.append(w)
    model.set_weights(weights)
    _compile_from(model, compile_cfg)
    return model


def _compile_from(model, cfg) -> None:
    """The file's training set-up, when it is one the engine has (else left uncompiled:
    the model still predicts, and the learner compiles it as they wish)."""
    if not isinstance(cfg, dict):
        return
    from core import losses, optimizers

    try:
        opt = cfg.get("optimizer") or cfg.get("optimizer_config")
        kind = opt.get("class_name", "").lower() if isinstance(opt, dict) else str(opt).lower()
        settings = opt.get("config", {}) if isinstance(opt, dict) else {}
        rate = float(settings.get("learning_rate", settings.get("lr", 0.001)))
        optimizer = {"sgd": lambda: optimizers.SGD(rate, momentum=float(settings.get("momentum", 0.0))),
                     "adam": lambda: optimizers.Adam(rate),
                     "rmsprop": lambda: optimizers.RMSprop(rate)}[kind]()
        loss = cfg.get("loss")
        if isinstance(loss, dict):
            loss_cfg = loss.get("config", {})
            loss = {"name": loss_cfg.get("name") or loss.get("class_name"),
                    "from_logits": bool(loss_cfg.get("from_logits", False))}
            if not loss["from_logits"]:
                loss = loss["name"]
        metrics = [m for m in (cfg.get("metrics") or []) if isinstance(m, str)]
        model.compile(optimizer=optimizer, loss=losses.get(loss), metrics=metrics)
    except (KeyError, TypeError, ValueError, AttributeError):
        model.optimizer = model.loss = None


# ------------------------------------------------------------------ writing


def _layer_spec(layer) -> dict:
    cfg = layer.get_config()
    kind = type(layer).__name__
    out = {"name": layer.name, "trainable": layer.trainable, "dtype": "float32"}
    if kind == "Dense":
        out.update(units=layer.units, activation=_act.name_of(layer.activation), use_bias=True)
    elif kind == "Conv2D":
        out.update(filters=layer.filters, kernel_size=list(layer.kernel_size),
                   strides=list(layer.strides), padding=layer.padding,
                   data_format="channels_last", dilation_rate=[1, 1], groups=1,
                   activation=_act.name_of(layer.activation), use_bias=True)
    elif kind in ("MaxPool2D", "AvgPool2D"):
        out.update(pool_size=cfg["pool_size"], strides=cfg["strides"], padding=cfg["padding"],
                   data_format="channels_last")
        kind = "MaxPooling2D" if kind == "MaxPool2D" else "AveragePooling2D"
    elif kind == "Flatten":
        out.update(data_format="channels_last")
    elif kind == "Dropout":
        out.update(rate=layer.rate, seed=layer.seed, noise_shape=None)
    elif kind == "LeakyReLU":
        out.update(negative_slope=layer.alpha)
    elif kind in ("Sigmoid", "Tanh"):
        out.update(activation=kind.lower())
        kind = "Activation"
    elif kind == "Softmax":
        out.update(axis=-1)
    elif kind == "Rescaling":
        out.update(scale=layer.scale, offset=layer.offset)
    elif kind == "RandomFlip":
        out.update(mode=layer.mode, seed=layer.seed)
    elif kind == "RandomRotation":
        out.update(factor=list(layer.factor), fill_mode=layer.fill_mode, seed=layer.seed,
                   interpolation="bilinear", fill_value=0.0, data_format="channels_last")
    elif kind == "RandomZoom":
        out.update(height_factor=list(layer.height_factor), fill_mode=layer.fill_mode,
                   width_factor=None if layer.width_factor is None else list(layer.width_factor),
                   seed=layer.seed, interpolation="bilinear", fill_value=0.0,
                   data_format="channels_last")
    elif kind in ("SimpleRNN", "LSTM"):
        out.update(units=layer.units, return_sequences=layer.return_sequences,
                   activation=_act.name_of(getattr(layer, "activation", None)) if kind == "SimpleRNN"
                   else "tanh",
                   use_bias=True, return_state=False, go_backwards=False, stateful=False,
                   unroll=False, dropout=0.0, recurrent_dropout=0.0)
        if kind == "LSTM":
            out.update(recurrent_activation="sigmoid", unit_forget_bias=True)
    elif kind == "Embedding":
        out.update(input_dim=layer.input_dim, output_dim=layer.output_dim, mask_zero=False)
    elif kind != "ReLU":
        raise ValueError(f"layer {layer.name!r} ({kind}) has no Keras equivalent to save as")
    spec = {"module": "keras.layers", "class_name": kind, "config": out, "registered_name": None}
    if layer.input_shape is not None:
        spec["build_config"] = {"input_shape": [None, *layer.input_shape]}
    return spec


def keras_config(model) -> dict:
    if not model.built:
        raise ValueError("save needs a built model (give the first layer its input_shape)")
    layers = [{"module": "keras.layers", "class_name": "InputLayer",
               "config": {"batch_shape": [None, *model.input_shape], "dtype": "float32",
                          "sparse": False, "name": "input_layer"}, "registered_name": None}]
    layers += [_layer_spec(lay) for lay in model.layers]
    config = {"module": "keras", "class_name": "Sequential", "registered_name": None,
              "config": {"name": model.name, "trainable": True, "dtype": "float32",
                         "layers": layers},
              "build_config": {"input_shape": [None, *model.input_shape]}}
    if model.loss is not None and model.optimizer is not None:
        opt = model.optimizer.get_config()
        kind = {"sgd": "SGD", "adam": "Adam", "rmsprop": "RMSprop"}[opt.pop("name")]
        loss = model.loss.get_config()
        if isinstance(loss, dict):
            loss = {"module": "keras.losses", "registered_name": None,
                    "class_name": "".join(p.capitalize() for p in loss["name"].split("_")),
                    "config": {"name": loss["name"], "from_logits": True}}
        config["compile_config"] = {
            "optimizer": {"module": "keras.optimizers", "class_name": kind, "config": opt,
                          "registered_name": None},
            "loss": loss, "metrics": list(model.metrics), "loss_weights": None,
            "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1,
            "jit_compile": False}
    return config


def save(model, path) -> Path:
    """Write a Keras 3 `.keras` file of `model` (atomically: a file is complete or absent)."""
    import h5py

    path = Path(path)
    config = keras_config(model)
    weights = io.BytesIO()
    with h5py.File(weights, "w") as h5:
        h5.create_group("vars").attrs["name"] = model.name
        kinds = [spec["class_name"] for spec in config["config"]["layers"][1:]]
        for layer, where in zip(model.layers, weight_groups(kinds)):
            if type(layer).__name__ in ("SimpleRNN", "LSTM"):
                h5.create_group(f"layers/{where}/vars").attrs["name"] = layer.name
                where = f"{where}/cell"   # Keras keeps a recurrent layer's weights in its cell
            group = h5.create_group(f"layers/{where}/vars")
            group.attrs["name"] = layer.name
            for i, w in enumerate(layer.get_weights()):
                group.create_dataset(str(i), data=np.asarray(w, np.float32))
    metadata = {"keras_version": _KERAS_VERSION,
                "date_saved": time.strftime("%Y-%m-%d@%H:%M:%S")}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w") as zf:
            zf.writestr("metadata.json", json.dumps(metadata))
            zf.writestr("config.json", json.dumps(config))
            zf.writestr("model.weights.h5", weights.getvalue())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


__all__ = ["load", "save", "engine_config", "keras_config"]
