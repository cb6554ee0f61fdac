"""CIFAR-10 from the canonical ``cifar-10-python.tar.gz``, read without trusting it.

The archive's batches are Python pickles, and unpickling runs whatever functions the file
names. Here a restricted unpickler resolves no real global at all: the handful of names a
genuine CIFAR batch uses (numpy's array and dtype reconstructors, and ``_codecs.encode``
that Python 3 uses for bytes) are mapped to inert local stand-ins that only record their
arguments; anything else (``os.system``, ``builtins.eval``, ...) is refused. The recorded
pieces are then checked and turned into a uint8 array by NumPy directly.

The tar archive is never extracted to disk: only the expected members are read, into
memory, with a size limit, so member names like ``../../x`` or links cannot write
anywhere.
"""

from __future__ import annotations

import io
import os
import pickle
import tarfile
import zlib
from pathlib import Path

import numpy as np

from .download import (CancelFn, DownloadCancelled, ProgressFn, data_dir, download,
                       sha256_file)

__all__ = ["CIFAR10_CLASSES", "CIFAR10_SHA256", "CIFAR10_URL", "load_cifar10", "read_cifar_batch"]

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_FILENAME = "cifar-10-python.tar.gz"
# Keras's file_hash for this archive (keras/src/datasets/cifar10.py).
CIFAR10_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
#: its exact length (TensorFlow Datasets' url_checksums/cifar10.txt): a server sending more
#: is cut off
CIFAR10_BYTES = 170_498_071
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)

_DIR = "cifar-10-batches-py"
_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
_TEST = "test_batch"
_META = "batches.meta"
# A real batch is 30.7 MB (10,000 x 3,072 bytes plus labels and file names).
MAX_MEMBER_BYTES = 64 * 1024 * 1024
_PIXELS = 32 * 32 * 3


class _NdarrayToken:
    """Stands for ``numpy.ndarray`` as an argument of ``_reconstruct``; never built."""


class _DtypeStub:
    def __init__(self, *args):
        self.args = args
        self.state = None

    def __setstate__(self, state):
        self.state = state


class _ArrayStub:
    def __init__(self, *args):
        self.args = args
        self.state = None
        self.buffer = None

    def __setstate__(self, state):
        self.state = state


def _reconstruct_stub(cls, shape, typecode):
    if cls is not _NdarrayToken:
        raise pickle.UnpicklingError("array reconstruction of something that is not an ndarray")
    return _ArrayStub()


def _frombuffer_stub(buffer, dtype, shape, order):
    stub = _ArrayStub()
    stub.buffer = bytes(buffer) if isinstance(buffer, (bytes, bytearray)) else buffer
    stub.state = (1, shape, dtype, order == "F", stub.buffer)
    return stub


def _codecs_encode_stub(text, encoding="utf-8"):
    # Python 3 writes bytes in protocol-2 pickles as _codecs.encode(str, "latin1").
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("unexpected _codecs.encode call")
    return text.encode("latin1")


_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct_stub,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct_stub,
    ("numpy", "ndarray"): _NdarrayToken,
    ("numpy", "dtype"): _DtypeStub,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer_stub,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer_stub,
    ("_codecs", "encode"): _codecs_encode_stub,
}


class _RefusingUnpickler(pickle.Unpickler):
    """Resolves no real global: only inert stand-ins for the names a CIFAR batch uses."""

    def find_class(self, module, name):
        stub = _ALLOWED.get((module, name))
        if stub is None:
            raise pickle.UnpicklingError(f"refused to load {module}.{name}")
        return stub

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("refused a persistent reference")


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("latin1")
    if isinstance(value, str):
        return value
    raise ValueError(f"expected text, found {type(value).__name__}")


def _unpickle(data: bytes, where: str) -> dict:
    try:
        obj = _RefusingUnpickler(io.BytesIO(data), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, OverflowError, MemoryError, UnicodeDecodeError) as exc:
        raise ValueError(f"{where}: not a valid CIFAR batch ({exc})") from exc
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: expected a dictionary, found {type(obj).__name__}")
    out = {}
    for key, value in obj.items():
        try:
            out[_text(key)] = value
        except ValueError as exc:
            raise ValueError(f"{where}: a key is not text") from exc
    return out


def _array_from_stub(stub, where: str) -> np.ndarray:
    if not isinstance(stub, _ArrayStub) or stub.state is None:
        raise ValueError(f"{where}: 'data' is not an array")
    state = stub.state
    if not isinstance(state, tuple) or len(state) not in (4, 5):
        raise ValueError(f"{where}: malformed array state")
    shape, dtype, fortran, raw = state[-4:]
    if not isinstance(dtype, _DtypeStub) or not dtype.args:
        raise ValueError(f"{where}: malformed array dtype")
    code = _text(dtype.args[0]) if isinstance(dtype.args[0], (bytes, str)) else None
    if code not in ("u1", "|u1", "uint8", "B"):
        raise ValueError(f"{where}: pixel data must be uint8, found dtype {dtype.args[0]!r}")
    if (
        not isinstance(shape, tuple)
        or len(shape) != 2
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape)
    ):
        raise ValueError(f"{where}: pixel data has shape {shape!r}, expected (N, 3072)")
    if shape[1] != _PIXELS:
        raise ValueError(f"{where}: rows have {shape[1]} values, expected 3072 (32x32x3)")
    if not isinstance(raw, (bytes, bytearray)):
        raise ValueError(f"{where}: pixel data is not raw bytes")
    if len(raw) != shape[0] * shape[1]:
        raise ValueError(
            f"{where}: pixel data has {len(raw):,} bytes, shape {shape} needs {shape[0] * shape[1]:,}"
        )
    return np.frombuffer(bytes(raw), dtype=np.uint8).reshape(shape, order="F" if fortran else "C")


def read_cifar_batch(data: bytes, where: str = "batch") -> tuple[np.ndarray, np.ndarray]:
    """Decode one CIFAR python batch (pickle bytes) safely: uint8 (N, 3072), int64 (N,)."""
    batch = _unpickle(data, where)
    for key in ("data", "labels"):
        if key not in batch:
            raise ValueError(f"{where}: no '{key}' entry")
    pixels = _array_from_stub(batch["data"], where)  # (N, 3072)
    labels = batch["labels"]
    if not isinstance(labels, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in labels
    ):
        raise ValueError(f"{where}: 'labels' must be a list of integers")
    y = np.asarray(labels, dtype=np.int64)  # (N,)
    if len(y) != len(pixels):
        raise ValueError(f"{where}: {len(pixels)} images but {len(y)} labels")
    if y.size and (y.min() < 0 or y.max() > 9):
        raise ValueError(f"{where}: label {int(y.max() if y.max() > 9 else y.min())} is not a class 0-9")
    return pixels, y


def _read_members(path: Path, check_cancel=lambda: None) -> dict[str, bytes]:
    wanted = {f"{_DIR}/{name}": name for name in (*_TRAIN, _TEST, _META)}
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            for member in tar:
                check_cancel()
                name = member.name[2:] if member.name.startswith("./") else member.name
                short = wanted.get(name)
                if short is None:
                    continue  # readme.html and anything unexpected: never read
                if not member.isreg():
                    raise ValueError(f"{path}: {name} is not a regular file")
                if member.size > MAX_MEMBER_BYTES:
                    raise ValueError(f"{path}: {name} is {member.size:,} bytes, too large for a CIFAR batch")
                if short in found:
                    raise ValueError(f"{path}: {name} appears twice")
                fh = tar.extractfile(member)
                data = fh.read(MAX_MEMBER_BYTES + 1) if fh is not None else b""
                if len(data) != member.size:
                    raise ValueError(f"{path}: {name} is cut short")
                found[short] = data
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"{path}: not a readable .tar.gz archive ({exc or type(exc).__name__})") from exc
    missing = [f"{_DIR}/{n}" for n in (*_TRAIN, _TEST) if n not in found]
    if missing:
        raise ValueError(f"{path}: not a CIFAR-10 python archive: missing {', '.join(missing)}")
    return found


def _to_images(pixels: list[np.ndarray]) -> np.ndarray:
    n = sum(len(p) for p in pixels)
    x = np.empty((n, 32, 32, 3), dtype=np.float32)  # (N, H, W, C)
    start = 0
    for p in pixels:
        # Stored as 1024 red, 1024 green, 1024 blue values per image, each row-major.
        chw = p.reshape(-1, 3, 32, 32)  # (n, C, H, W)
        x[start:start + len(p)] = chw.transpose(0, 2, 3, 1)
        start += len(p)
    x *= np.float32(1.0 / 255.0)
    return x


def load_cifar10(
    cache_dir: str | os.PathLike | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    url: str | None = None,
    archive: str | os.PathLike | None = None,
    sha256: str | None = CIFAR10_SHA256,
):
    """CIFAR-10 as ``((x_train, y_train), (x_test, y_test), class_names)``: x float32
    NHWC (N, 32, 32, 3) in [0, 1] (50,000 training images take 600 MB), y int64.

    Without ``archive`` the canonical archive is downloaded into ``cache_dir`` (default
    ``data_dir() / "cifar10"``) unless already there; ``url`` points at another copy.
    ``archive`` reads a file you downloaded yourself. Either way the archive must have
    ``sha256`` (the canonical sum by default); ``sha256=None`` skips that check for a
    local ``archive`` (it is still parsed safely). A damaged or foreign archive raises
    ``ValueError`` naming the problem.
    """
    if archive is not None:
        path = Path(archive)
        if not path.is_file():
            raise FileNotFoundError(f"no CIFAR-10 archive at {path}")
        if sha256 is not None:
            actual = sha256_file(path)
            if actual != sha256.lower():
                raise ValueError(
                    f"{path} is not the expected cifar-10-python.tar.gz (SHA-256 {actual}, "
                    f"expected {sha256.lower()}): the file may be incomplete; download it again"
                )
    else:
        if sha256 is None:
            raise ValueError("a download needs a checksum: sha256=None only works with archive=")
        folder = Path(cache_dir) if cache_dir is not None else data_dir() / "cifar10"
        canonical = sha256.lower() == CIFAR10_SHA256
        path = download(url or CIFAR10_URL, folder / CIFAR10_FILENAME, sha256,
                        progress=progress, cancel=cancel,
                        size=CIFAR10_BYTES if canonical else None)

    def check_cancel() -> None:
        # reading the archive takes seconds: a cancel (or the window closing) stops it too
        if cancel is not None and cancel():
            raise DownloadCancelled(f"reading {path.name} cancelled")

    check_cancel()
    members = _read_members(path, check_cancel)
    train = []
    for n in _TRAIN:
        check_cancel()
        train.append(read_cifar_batch(members[n], f"{path}: {_DIR}/{n}"))
    test_pixels, y_test = read_cifar_batch(members[_TEST], f"{path}: {_DIR}/{_TEST}")

    class_names = CIFAR10_CLASSES
    if _META in members:
        meta = _unpickle(members[_META], f"{path}: {_DIR}/{_META}")
        names = meta.get("label_names")
        if not isinstance(names, list) or len(names) != 10:
            raise ValueError(f"{path}: {_DIR}/{_META} should list 10 label names")
        try:
            class_names = tuple(_text(n) for n in names)
        except ValueError as exc:
            raise ValueError(f"{path}: {_DIR}/{_META} has a label name that is not text") from exc

    x_train = _to_images([p for p, _ in train])  # (50000, 32, 32, 3)
    y_train = np.concatenate([y for _, y in train])  # (50000,)
    x_test = _to_images([test_pixels])  # (10000, 32, 32, 3)
    return (x_train, y_train), (x_test, y_test), class_names
