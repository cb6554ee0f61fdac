"""The slow, obviously correct references the kernel tests compare against, in one namespace.

Each kernel family keeps its readable reference beside it (core/kernels/dense_ref.py,
conv/reference.py, pool_ref.py, activations_ref.py, losses_ref.py): plain NumPy, never
calling a fast kernel (test_kernel_references checks that). This module gathers them for
the tests and adds the finite-difference gradient they are checked with too.
"""

from __future__ import annotations

import numpy as np

from core.kernels.activations_ref import (leaky_relu, leaky_relu_grad, relu, relu_grad, sigmoid,  # noqa: F401
                                          sigmoid_grad, softmax, softmax_grad, tanh, tanh_grad)
from core.kernels.conv.reference import (conv2d_forward, conv2d_grad_bias, conv2d_grad_input,  # noqa: F401
                                         conv2d_grad_weight, out_size, pair)
from core.kernels.dense_ref import dense_backward, dense_forward  # noqa: F401
from core.kernels.losses_ref import (EPS, binary_crossentropy, categorical_crossentropy,  # noqa: F401
                                     mean_absolute_error, mean_squared_error,
                                     sigmoid_binary_cross_entropy, softmax_cross_entropy,
                                     softmax_cross_entropy_onehot, sparse_categorical_crossentropy)
from core.kernels.pool_ref import (avg_pool_backward, avg_pool_forward, max_pool_backward,  # noqa: F401
                                   max_pool_forward)


def finite_diff(f, x, eps=1e-6):
    """Centred finite-difference gradient of the scalar function f at x (float64)."""
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        hi = f(x)
        flat[i] = old - eps
        lo = f(x)
        flat[i] = old
        gflat[i] = (hi - lo) / (2 * eps)
    return g
