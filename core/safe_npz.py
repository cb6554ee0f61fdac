"""Arrays read out of an .npz archive (a zip of .npy files) without trusting its writer.

numpy's own loader allocates the array an .npy header declares before it reads a byte of
it, so a few hundred bytes claiming (20000, 20000) cost 1.6 GB. Here every header is
checked first: no object arrays (nothing is ever unpickled), real numbers only, and a
declared size the zip member actually holds, before any buffer is allocated. Every
problem is a ValueError whose message begins with `name`, the file's name.
"""
from __future__ import annotations

import math
import zipfile

import numpy as np


def array_shape(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> tuple:
    with zf.open(info) as f:
        return _npy_header(f, info, name, "a weight array")[1]


def read_array(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, what: str) -> np.ndarray:
    """One .npy member, read without numpy's loader: its header is checked (no pickles,
    real numbers, a size the member really holds) before any buffer is allocated."""
    with zf.open(info) as f:
        dtype, shape, fortran = _npy_header(f, info, name, what)
        nbytes = math.prod(shape) * dtype.itemsize
        data = f.read(nbytes)
    if len(data) != nbytes:
        raise ValueError(f"{name} is truncated: {what} is shorter than it declares")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def _npy_header(f, info: zipfile.ZipInfo, name: str, what: str):
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f"an .npy format version {version} this app does not read")
    except ValueError as exc:
        raise ValueError(f"{name}: {what} is not a readable array ({short(exc)})") from None
    if dtype.hasobject:
        raise ValueError(
            f"{name} contains pickled Python objects; model files never do, so it was "
            "refused without loading them")
    if dtype.kind not in "fiu" or dtype.itemsize > 8:
        raise ValueError(f"{name}: {what} holds {dtype} values, not real numbers")
    if math.prod(shape) * dtype.itemsize > info.file_size:
        raise ValueError(f"{name} is damaged: {what} declares shape {short(shape)}, more "
                         "than the file holds")
    return dtype, tuple(shape), fortran


def short(value, limit: int = 200) -> str:
    """str(value) cut to `limit` characters: an error message quotes a file, never all of it."""
    text = str(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"
