"""Layers, Keras-shaped: `Dense(128, activation="relu")`, `Conv2D(32, 3)`, ..."""
from core.layers.activation_layers import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from core.layers.base import Layer
from core.layers.conv import Conv2D
from core.layers.dense import Dense
from core.layers.dropout import Dropout
from core.layers.pooling import AveragePooling2D, AvgPool2D, MaxPool2D, MaxPooling2D
from core.layers.preprocessing import RandomFlip, RandomRotation, RandomZoom, Rescaling
from core.layers.recurrent import LSTM, Embedding, SimpleRNN
from core.layers.reshape import Flatten
from core.layers.upsampling import UpSampling2D

#: every class a saved model may name; load_model builds nothing outside this table
REGISTRY = {cls.__name__: cls for cls in (
    Dense, Conv2D, MaxPool2D, AvgPool2D, Flatten, Dropout,
    ReLU, Sigmoid, Tanh, LeakyReLU, Softmax, Rescaling, RandomFlip, RandomRotation, RandomZoom,
    SimpleRNN, LSTM, Embedding, UpSampling2D)}


def from_config(spec: dict) -> Layer:
    """{"class_name": "Dense", "config": {...}} → a layer; unknown names are a ValueError."""
    if not isinstance(spec, dict) or "class_name" not in spec:
        raise ValueError(f"a layer description needs a 'class_name', got {_short(spec)}")
    class_name = spec["class_name"]
    cls = REGISTRY.get(class_name) if isinstance(class_name, str) else None
    if cls is None:
        raise ValueError(f"unknown layer type {_short(class_name)}")
    config = spec.get("config", {})
    if not isinstance(config, dict):
        raise ValueError(f"layer {spec['class_name']} has a malformed config")
    try:
        return cls.from_config(config)
    except TypeError as exc:
        raise ValueError(f"layer {spec['class_name']} config is not valid: {exc}") from None


def _short(value, limit: int = 80) -> str:
    """repr(value) cut to `limit` characters: a file may describe anything, and a message
    quoting a megabyte of it (or a list nested a million deep) helps nobody."""
    try:
        text = repr(value)
    except RecursionError:
        text = f"<a {type(value).__name__} nested too deeply to show>"
    return text if len(text) <= limit else text[:limit - 1] + "…"


__all__ = ["Layer", "Dense", "Conv2D", "MaxPool2D", "MaxPooling2D", "AvgPool2D",
           "AveragePooling2D", "Flatten", "Dropout", "ReLU", "Sigmoid", "Tanh",
           "LeakyReLU", "Softmax", "UpSampling2D", "REGISTRY", "from_config"]
