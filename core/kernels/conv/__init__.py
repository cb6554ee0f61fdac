"""The convolution family, layered bottom-up (each file imports only from those above it):

    blocks.py      im2col / col2im, bias + ReLU, chunk sums, max-pool window rules, pool blocks
    direct.py      direct loops for tiny receptive fields (3x3 on one channel, also + 2x2 pool)
    im2col.py      conv2d forward / backward: im2col + BLAS (or direct loops), plans, checks
    winograd.py    3x3 conv + ReLU + 2x2 max pool by Winograd's F(2x2, 3x3), and its drivers
    pool_fused.py  conv + ReLU + max pool fused: picks direct, Winograd or im2col
    reference.py   the same numbers by plain NumPy loops, slow and obviously correct

The public functions are also reachable from here (loaded on first use, like core.kernels):
`from core.kernels.conv import conv2d_forward`.
"""
from __future__ import annotations

import importlib

_MODULES = {
    "im2col": ("conv_output_size", "conv2d_forward", "conv2d_grad_input", "conv2d_grad_weight",
               "conv2d_grad_bias", "conv2d_backward", "conv2d_plan", "conv2d_forward_planned",
               "conv2d_backward_planned"),
    "pool_fused": ("convpool_plan", "convpool_forward", "convpool_backward", "winograd_filters"),
}
_WHERE = {name: module for module, names in _MODULES.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
