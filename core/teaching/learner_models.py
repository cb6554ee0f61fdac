"""Which lesson can use a learner's own model (File ▸ Open model…), and why not (no Qt).

Each check returns None when the model fits, else one sentence the lesson shows.
"""
from __future__ import annotations

import numpy as np

DIGIT_SHAPE = (28, 28, 1)


def feature_map_problem(model) -> str | None:
    """Why `model` cannot show feature maps of the CNN lesson's digits, or None: it needs a
    Conv2D layer (no convolution, no feature maps) and the digits' 28×28×1 input."""
    layers = list(getattr(model, "layers", None) or [])
    shape = getattr(model, "input_shape", None)
    shape = tuple(int(d) for d in shape) if shape else None
    if shape != DIGIT_SHAPE:
        shown = "×".join(str(d) for d in shape) if shape else "unknown"
        return (f"it takes inputs of shape {shown}, and the lesson's digits are 28×28×1 "
                f"images")
    if not any(type(layer).__name__ == "Conv2D" for layer in layers):
        return "it has no Conv2D layer, so it makes no feature maps to look at"
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
