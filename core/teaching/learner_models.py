"""Which lesson can use a learner's own model (File ▸ Open model…), and why not (no Qt).

Each check returns None when the model fits, else one sentence the lesson shows.
"""
from __future__ import annotations

import numpy as np

DIGIT_SHAPE = (28, 28, 1)
CIFAR_SHAPE = (32, 32, 3)


def _shape_text(shape) -> str:
    return "×".join(str(d) for d in shape)


def input_shape_problem(model, shape: tuple = DIGIT_SHAPE,
                        images: str = "the lesson's digits") -> str | None:
    """Why `model` cannot take the lesson's `images` of `shape`, or None."""
    have = getattr(model, "input_shape", None)
    have = tuple(int(d) for d in have) if have else None
    if have != tuple(shape):
        shown = _shape_text(have) if have else "unknown"
        return (f"it takes inputs of shape {shown}, and {images} are {_shape_text(shape)} "
                f"images")
    return None


def feature_map_problem(model, shape: tuple = DIGIT_SHAPE,
                        images: str = "the lesson's digits") -> str | None:
    """Why `model` cannot show feature maps of the lesson's `images` (28×28×1 digits unless
    told), or None: it needs a Conv2D layer (no convolution, no feature maps) and the
    images' input shape."""
    problem = input_shape_problem(model, shape, images)
    if problem is not None:
        return problem
    layers = list(getattr(model, "layers", None) or [])
    if not any(type(layer).__name__ == "Conv2D" for layer in layers):
        return "it has no Conv2D layer, so it makes no feature maps to look at"
    return None


def first_conv_problem(model) -> str | None:
    """Why the first Conv2D layer of `model` cannot be the convolution explorer's filters,
    or None: the model must take 28×28×1 digits and that layer must have 3×3 kernels."""
    problem = feature_map_problem(model)
    if problem is not None:
        return problem
    conv = next(layer for layer in model.layers if type(layer).__name__ == "Conv2D")
    size = tuple(int(k) for k in conv.kernel_size)
    if size != (3, 3):
        return (f"its first Conv2D layer has {_shape_text(size)} filters, and the explorer "
                f"slides 3×3 ones")
    return None


def top_outputs(model, out, k: int = 3) -> list[tuple[int, float, bool]]:
    """The k largest outputs as (index, value, is_probability): a 10-way output read as
    probabilities the way Draw a digit reads it, anything else as the raw numbers."""
    out = np.asarray(out, np.float64).ravel()
    probability = out.size == 10
    if probability:
        from core.teaching.teach import as_probabilities

        out = np.asarray(as_probabilities(model, out), np.float64)
    order = np.argsort(out)[::-1][:k]
    return [(int(i), float(out[i]), probability) for i in order]
