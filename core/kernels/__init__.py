"""Numba kernels on plain arrays, one module (or, for convolutions, one package) per family.

    _common.py        the one fastmath flag set, finiteness checks, argument checks
    _threads.py _cache.py blas.py fast_exp.py   threads, Numba's cache folder, BLAS, exp
    fanout.py         a kernel's parts on the threads, through its address (compiled once)
    dense.py blank_features.py dense_step.py    fully connected layers, a whole dense step
    pool.py activations.py losses.py sgd.py
    recurrent.py      LSTM and SimpleRNN over every time step, forward and BPTT
    smoothing.py      training curves' moving average (a display kernel, warmed up too)
    conv/             convolutions, fused conv + pool (see conv/__init__.py)

Importing this package is cheap: a public name is loaded (with Numba) from its module on
first use, so `import core.kernels` does not pull in every compiled family.
"""

from __future__ import annotations

import importlib

from . import _cache

_cache.configure()  # before any kernel is defined: see _cache

_FAMILIES = {
    "dense": ("dense_forward", "dense_backward", "dense_forward_planned", "dense_backward_planned"),
    "conv.im2col": (
        "conv_output_size",
        "conv2d_forward",
        "conv2d_grad_input",
        "conv2d_grad_weight",
        "conv2d_grad_bias",
        "conv2d_backward",
        "conv2d_plan",
        "conv2d_forward_planned",
        "conv2d_backward_planned",
    ),
    "pool": (
        "max_pool_forward",
        "max_pool_backward",
        "avg_pool_forward",
        "avg_pool_backward",
        "max_pool_plan",
        "max_pool_forward_planned",
        "max_pool_backward_planned",
    ),
    "activations": (
        "relu_forward",
        "relu_backward",
        "sigmoid_forward",
        "sigmoid_backward",
        "tanh_forward",
        "tanh_backward",
        "leaky_relu_forward",
        "leaky_relu_backward",
        "softmax_forward",
        "softmax_backward",
    ),
    "recurrent": ("lstm_forward", "lstm_backward", "rnn_forward", "rnn_backward"),
    "_common": ("all_finite",),
    "losses": (
        "softmax_cross_entropy",
        "softmax_cross_entropy_onehot",
        "sigmoid_binary_cross_entropy",
        "mean_squared_error",
        "mean_absolute_error",
        "binary_crossentropy",
        "categorical_crossentropy",
        "sparse_categorical_crossentropy",
    ),
}
_WHERE = {name: family for family, names in _FAMILIES.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name):
    family = _WHERE.get(name)
    if family is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{family}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
