"""Reader for the IDX format that MNIST is distributed in (gzipped or raw).

Layout: two zero bytes, a type code, the number of dimensions, then one big-endian
uint32 per dimension, then the values in C order, big-endian.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

__all__ = ["read_idx", "load_mnist_test_idx", "mnist_arrays"]

_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"
# MNIST's training images are 47 MB unpacked; this bounds what a hostile .gz can inflate to.
MAX_IDX_BYTES = 512 * 1024 * 1024


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        with open(path, "rb") as fh:
            head = fh.read(2)
            fh.seek(0)
            if head == _GZIP_MAGIC:
                with gzip.GzipFile(fileobj=fh) as gz:
                    data = gz.read(max_bytes + 1)
            else:
                data = fh.read(max_bytes + 1)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise ValueError(f"{path}: damaged gzip data ({exc or 'ends early'})") from exc
    if len(data) > max_bytes:
        raise ValueError(f"{path}: larger than {max_bytes:,} bytes once unpacked; refusing")
    return data


def read_idx(path: str | os.PathLike, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw) into a native-endian array.

    Raises ``FileNotFoundError`` if missing and ``ValueError`` naming the file and the
    problem (bad magic, unknown type, truncated or over-long data) if it is not a whole
    IDX file.
    """
    path = Path(path)
    data = _read_bytes(path, max_bytes)
    if len(data) < 4:
        raise ValueError(f"{path}: too short to be an IDX file ({len(data)} bytes)")
    zero, type_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0:
        raise ValueError(
            f"{path}: not an IDX file (magic number {data[:4].hex()}, expected 0000xxyy)"
        )
    if type_code not in _TYPES:
        raise ValueError(f"{path}: unknown IDX data type 0x{type_code:02x}")
    if ndim == 0:
        raise ValueError(f"{path}: IDX header declares zero dimensions")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise ValueError(f"{path}: truncated inside the header ({len(data)} bytes)")
    dims = struct.unpack(f">{ndim}I", data[4:header_len])
    dtype = _TYPES[type_code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header_len
    if found < expected:
        raise ValueError(
            f"{path}: truncated: header promises {dims} values ({expected:,} bytes) "
            f"but only {found:,} bytes follow"
        )
    if found > expected:
        raise ValueError(
            f"{path}: {found - expected:,} unexpected bytes after the {dims} values"
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def mnist_arrays(images: np.ndarray, labels: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Check raw MNIST arrays and convert to the engine's form: NHWC float32 in [0, 1]."""
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ValueError(
            f"{where}: images should be uint8 (N, 28, 28), found {images.dtype} {images.shape}"
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise ValueError(f"{where}: labels should be uint8 (N,), found {labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"{where}: {len(images)} images but {len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise ValueError(f"{where}: label {int(labels.max())} is not a digit 0-9")
    x = (images.astype(np.float32) / np.float32(255.0))[..., None]  # (N, 28, 28, 1)
    y = labels.astype(np.int64)  # (N,)
    return x, y


def load_mnist_test_idx(folder: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 MNIST test digits from ``t10k-images-idx3-ubyte.gz`` and
    ``t10k-labels-idx1-ubyte.gz`` in ``folder``: x float32 (N, 28, 28, 1) in [0, 1],
    y int64. For evaluation only; never train or tune on it.
    """
    folder = Path(folder)
    images = read_idx(folder / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(folder / "t10k-labels-idx1-ubyte.gz")
    return mnist_arrays(images, labels, str(folder))
