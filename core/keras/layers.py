"""`keras.layers`: Keras's layer names and arguments, building the engine's own layers.

Each name returns an engine layer (core.layers), so the engine's fast paths see exactly the
layers they know. `input_shape=` / `input_dim=` on a first layer tells the Sequential its
input; `trainable=False` freezes a layer (core.layers.Layer.trainable).
"""
from __future__ import annotations

import types

from core import layers as _L
from core.keras._unsupported import refuse

#: Keras's names of the activation layers the engine has
_ACTIVATION_LAYERS = {"relu": _L.ReLU, "sigmoid": _L.Sigmoid, "tanh": _L.Tanh,
                      "softmax": _L.Softmax}


def _finish(layer, where, input_shape, input_dim, trainable, extra):
    refuse(where, extra)
    if input_shape is not None and input_dim is not None:
        raise ValueError(f"{where}: give input_shape or input_dim, not both")
    if input_dim is not None:
        input_shape = (int(input_dim),)
    if input_shape is not None:
        shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
        # None: a free time axis (sequences of any length); Sequential checks where it is
        layer.keras_input_shape = tuple(None if d is None else int(d) for d in shape)
    layer.trainable = bool(trainable)
    return layer


def Dense(units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
          bias_initializer="zeros", *, input_shape=None, input_dim=None, name=None,
          trainable=True, **kwargs):
    refuse("Dense", {"use_bias": use_bias, "kernel_initializer": kernel_initializer,
                     "bias_initializer": bias_initializer},
           {"use_bias": True, "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros"})
    return _finish(_L.Dense(units, activation=activation, name=name), "Dense",
                   input_shape, input_dim, trainable, kwargs)


def Conv2D(filters, kernel_size, strides=(1, 1), padding="valid", activation=None,
           use_bias=True, kernel_initializer="glorot_uniform", *, input_shape=None,
           name=None, trainable=True, **kwargs):
    refuse("Conv2D", {"use_bias": use_bias, "kernel_initializer": kernel_initializer},
           {"use_bias": True, "kernel_initializer": "glorot_uniform"})
    return _finish(_L.Conv2D(filters, kernel_size, strides=strides, padding=padding,
                             activation=activation, name=name),
                   "Conv2D", input_shape, None, trainable, kwargs)


def MaxPooling2D(pool_size=(2, 2), strides=None, padding="valid", *, input_shape=None,
                 name=None, trainable=True, **kwargs):
    return _finish(_L.MaxPool2D(pool_size, strides=strides, padding=padding, name=name),
                   "MaxPooling2D", input_shape, None, trainable, kwargs)


MaxPool2D = MaxPooling2D


def AveragePooling2D(pool_size=(2, 2), strides=None, padding="valid", *, input_shape=None,
                     name=None, trainable=True, **kwargs):
    return _finish(_L.AvgPool2D(pool_size, strides=strides, padding=padding, name=name),
                   "AveragePooling2D", input_shape, None, trainable, kwargs)


AvgPool2D = AveragePooling2D


def Flatten(*, input_shape=None, name=None, trainable=True, **kwargs):
    return _finish(_L.Flatten(name=name), "Flatten", input_shape, None, trainable, kwargs)


def Dropout(rate, noise_shape=None, seed=None, *, input_shape=None, name=None,
            trainable=True, **kwargs):
    refuse("Dropout", {"noise_shape": noise_shape}, {"noise_shape": None})
    return _finish(_L.Dropout(rate, seed=seed, name=name), "Dropout", input_shape, None,
                   trainable, kwargs)


def Activation(activation, *, input_shape=None, name=None, trainable=True, **kwargs):
    key = activation.lower() if isinstance(activation, str) else activation
    if key not in _ACTIVATION_LAYERS:
        raise NotImplementedError(
            f"Activation({activation!r}): the engine has {', '.join(_ACTIVATION_LAYERS)}")
    return _finish(_ACTIVATION_LAYERS[key](name=name), "Activation", input_shape, None,
                   trainable, kwargs)


def ReLU(*, input_shape=None, name=None, trainable=True, **kwargs):
    return _finish(_L.ReLU(name=name), "ReLU", input_shape, None, trainable, kwargs)


def LeakyReLU(negative_slope=0.3, *, alpha=None, input_shape=None, name=None, trainable=True,
              **kwargs):
    # Keras 2 called the slope `alpha`, Keras 3 `negative_slope`; both default to 0.3
    slope = negative_slope if alpha is None else alpha
    return _finish(_L.LeakyReLU(slope, name=name), "LeakyReLU", input_shape, None, trainable,
                   kwargs)


def Softmax(axis=-1, *, input_shape=None, name=None, trainable=True, **kwargs):
    refuse("Softmax", {"axis": axis}, {"axis": -1})
    return _finish(_L.Softmax(name=name), "Softmax", input_shape, None, trainable, kwargs)


def Rescaling(scale, offset=0.0, *, input_shape=None, name=None, trainable=True, **kwargs):
    return _finish(_L.Rescaling(scale, offset, name=name), "Rescaling", input_shape, None,
                   trainable, kwargs)


def RandomFlip(mode="horizontal_and_vertical", seed=None, *, input_shape=None, name=None,
               trainable=True, **kwargs):
    return _finish(_L.RandomFlip(mode, seed=seed, name=name), "RandomFlip", input_shape, None,
                   trainable, kwargs)


def RandomRotation(factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                   fill_value=0.0, *, input_shape=None, name=None, trainable=True, **kwargs):
    refuse("RandomRotation", {"interpolation": interpolation, "fill_value": fill_value},
           {"interpolation": "bilinear", "fill_value": 0.0})
    return _finish(_L.RandomRotation(factor, fill_mode=fill_mode, seed=seed, name=name),
                   "RandomRotation", input_shape, None, trainable, kwargs)


def RandomZoom(height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear",
               seed=None, fill_value=0.0, *, input_shape=None, name=None, trainable=True,
               **kwargs):
    refuse("RandomZoom", {"interpolation": interpolation, "fill_value": fill_value},
           {"interpolation": "bilinear", "fill_value": 0.0})
    return _finish(_L.RandomZoom(height_factor, width_factor, fill_mode=fill_mode, seed=seed,
                                 name=name), "RandomZoom", input_shape, None, trainable, kwargs)


def SimpleRNN(units, activation="tanh", use_bias=True, return_sequences=False,
              return_state=False, dropout=0.0, recurrent_dropout=0.0, *, input_shape=None,
              name=None, trainable=True, **kwargs):
    refuse("SimpleRNN", {"use_bias": use_bias, "return_state": return_state, "dropout": dropout,
                         "recurrent_dropout": recurrent_dropout},
           {"use_bias": True, "return_state": False, "dropout": 0.0, "recurrent_dropout": 0.0})
    return _finish(_L.SimpleRNN(units, activation=activation, return_sequences=return_sequences,
                                name=name),
                   "SimpleRNN", input_shape, None, trainable, kwargs)


def LSTM(units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
         return_sequences=False, return_state=False, dropout=0.0, recurrent_dropout=0.0, *,
         input_shape=None, name=None, trainable=True, **kwargs):
    refuse("LSTM", {"activation": activation, "recurrent_activation": recurrent_activation,
                    "use_bias": use_bias, "return_state": return_state, "dropout": dropout,
                    "recurrent_dropout": recurrent_dropout},
           {"activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": True,
            "return_state": False, "dropout": 0.0, "recurrent_dropout": 0.0})
    return _finish(_L.LSTM(units, return_sequences=return_sequences, name=name), "LSTM",
                   input_shape, None, trainable, kwargs)


def Embedding(input_dim, output_dim, mask_zero=False, *, input_length=None, input_shape=None,
              name=None, trainable=True, **kwargs):
    refuse("Embedding", {"mask_zero": mask_zero}, {"mask_zero": False})
    if input_length is not None and input_shape is None:   # Keras 2's spelling
        input_shape = (int(input_length),)
    return _finish(_L.Embedding(input_dim, output_dim, name=name), "Embedding", input_shape,
                   None, trainable, kwargs)


# TensorFlow 2.3-2.8 kept them under layers.experimental.preprocessing (the course's notebooks)
experimental = types.SimpleNamespace(preprocessing=types.SimpleNamespace(
    Rescaling=Rescaling, RandomFlip=RandomFlip, RandomRotation=RandomRotation,
    RandomZoom=RandomZoom))

__all__ = ["Dense", "Conv2D", "MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D",
           "Flatten", "Dropout", "Activation", "ReLU", "LeakyReLU", "Softmax", "RandomFlip",
           "RandomRotation", "RandomZoom", "Rescaling", "experimental", "SimpleRNN", "LSTM",
           "Embedding"]
