"""Flattening a 28×28 digit into the 784 inputs of a dense network (tutorial 7), row by row.

`Flatten()` (NumPy's C order) lays the image's rows end to end: row 0 becomes inputs 0-27,
row 1 inputs 28-55, …, so pixel (row r, column c) is input r·28 + c. The lesson animates
it one row at a time; `laid_rows` is the input column after the first `rows` rows.
"""
from __future__ import annotations

import numpy as np

__all__ = ["SIDE", "flat_index", "pixel_of_input", "row_inputs", "laid_rows"]

SIDE = 28


def flat_index(row: int, col: int, width: int = SIDE) -> int:
    """The input number of pixel (row, col): row · width + col."""
    row, col, width = int(row), int(col), int(width)
    if not (0 <= col < width and row >= 0):
        raise ValueError(f"pixel ({row}, {col}) is outside a {width}-wide image")
    return row * width + col


def pixel_of_input(index: int, width: int = SIDE) -> tuple[int, int]:
    """(row, col) of input `index`: the inverse of `flat_index`."""
    index, width = int(index), int(width)
    if index < 0:
        raise ValueError(f"input numbers start at 0, got {index}")
    return index // width, index % width


def row_inputs(row: int, width: int = SIDE) -> range:
    """The inputs row `row` becomes: row·width … row·width + width − 1."""
    return range(int(row) * int(width), (int(row) + 1) * int(width))


def laid_rows(image, rows: int) -> np.ndarray:
    """The input column after the first `rows` rows of `image` (H, W) are laid end to end:
    float64 (H·W,), NaN where no row has arrived yet."""
    img = np.asarray(image, dtype=np.float64)
    img = img.reshape(img.shape[0], -1) if img.ndim == 2 else img.reshape(SIDE, SIDE)
    h, w = img.shape
    rows = max(0, min(int(rows), h))
    out = np.full(h * w, np.nan)
    out[: rows * w] = img[:rows].ravel()
    return out
