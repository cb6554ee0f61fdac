"""A model's forward pass the slow, obvious way: each layer by its kernel family's readable
reference (core/kernels/*_ref.py, conv/reference.py), in plain NumPy, nothing compiled.

Two uses. A learner can read what `Sequential.predict` computes without the speed lane in
the way. And on a first-ever launch, while Numba compiles the fast kernels (~10 s before
the drawing pad's are ready on two cores), the drawing pad reads drawings with it at once:
one 28x28 image through the shipped CNN takes ~36 ms here, through the dense network ~5 ms. The numbers are
the fast path's up to float32 rounding (the references work in float64).

Layers without a reference here (recurrent, embedding, augmentation) raise
NotImplementedError naming the layer: the caller then takes the fast path.
"""
from __future__ import annotations

import numpy as np

from core.kernels import activations_ref as act_ref
from core.kernels import dense_ref
from core.kernels import pool_ref
from core.kernels.conv import reference as conv_ref
from core.layers.activation_layers import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from core.layers.conv import Conv2D
from core.layers.dense import Dense
from core.layers.dropout import Dropout
from core.layers.pooling import AvgPool2D, MaxPool2D
from core.layers.preprocessing import Rescaling
from core.layers.reshape import Flatten


def activate(activation, z: np.ndarray) -> np.ndarray:
    """An activation function object (core.activations) by its readable formula."""
    if activation is None or activation.name == "linear":
        return z
    name = activation.name
    if name == "relu":
        return act_ref.relu(z)
    if name == "sigmoid":
        return act_ref.sigmoid(z)
    if name == "tanh":
        return act_ref.tanh(z)
    if name == "softmax":
        return act_ref.softmax(z)
    if name == "leaky_relu":
        return act_ref.leaky_relu(z, activation.alpha)
    raise NotImplementedError(f"no readable form of the activation {name!r}")


def layer_forward(layer, x: np.ndarray) -> np.ndarray:
    """One layer at inference (dropout passes everything through), float64 in and out."""
    if isinstance(layer, Dense):
        # on the last axis, as Keras's Dense reads images or sequences
        flat = x.reshape(-1, x.shape[-1])
        z = dense_ref.dense_forward(flat, layer.params["kernel"], layer.params["bias"])
        return activate(layer.activation, z.reshape(x.shape[:-1] + (z.shape[-1],)))
    if isinstance(layer, Conv2D):
        z = conv_ref.conv2d_forward(x, layer.params["kernel"].astype(np.float64),
                                    layer.params["bias"].astype(np.float64), layer.strides,
                                    layer.padding)
        return activate(layer.activation, z)
    if isinstance(layer, MaxPool2D):
        return pool_ref.max_pool_forward(x, layer.pool_size, layer.strides, layer.padding)[0]
    if isinstance(layer, AvgPool2D):
        return pool_ref.avg_pool_forward(x, layer.pool_size, layer.strides, layer.padding)
    if isinstance(layer, Flatten):
        return x.reshape(x.shape[0], -1)
    if isinstance(layer, Dropout):
        return x
    if isinstance(layer, Rescaling):
        return x * layer.scale + layer.offset
    if isinstance(layer, (ReLU, Sigmoid, Tanh, Softmax, LeakyReLU)):
        return activate(layer.activation, x)
    raise NotImplementedError(f"no readable forward pass for a {type(layer).__name__} layer")


def predict(model, x) -> np.ndarray:
    """What `model.predict(x)` returns, computed by the readable references: (N, outputs)
    float32. `x` as predict takes it (a batch of the model's input shape)."""
    h = np.asarray(x, dtype=np.float64)
    for layer in model.layers:
        if not getattr(layer, "built", True):
            raise NotImplementedError(f"the {type(layer).__name__} layer is not built yet")
        h = layer_forward(layer, h)
    return h.astype(np.float32)
