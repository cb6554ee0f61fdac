"""Full MNIST (60,000 + 10,000 digits): downloaded once, SHA-256 checked, cached."""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .download import CancelFn, ProgressFn, data_dir, download, sha256_file
from .idx import mnist_arrays, read_idx

__all__ = ["MNIST_BASE_URL", "MNIST_FILES", "load_mnist"]

# The mirror TensorFlow and Keras read from (yann.lecun.com no longer serves the files
# reliably).
MNIST_BASE_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"

# name -> (bytes, SHA-256 of the .gz as served by the mirror, SHA-256 of the unpacked IDX).
# The .gz sums and sizes are TensorFlow Datasets' url_checksums/mnist.txt. The unpacked
# sums identify the same digits when a copy was re-gzipped (other mirrors rewrite the gzip
# header, which changes the .gz hash but not the data); the two t10k ones were computed
# here from a local copy whose unpacked bytes match the widely published values.
MNIST_FILES: dict[str, tuple[int, str, str]] = {
    "train-images-idx3-ubyte.gz": (
        9912422,
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    "train-labels-idx1-ubyte.gz": (
        28881,
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    "t10k-images-idx3-ubyte.gz": (
        1648877,
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    "t10k-labels-idx1-ubyte.gz": (
        4542,
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
}


def _unpacked_sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1024 * 1024), b""):
                digest.update(block)
    except (OSError, EOFError, zlib.error):
        return None
    return digest.hexdigest()


def _cached_ok(path: Path, gz_sha: str, unpacked_sha: str | None) -> bool:
    if not path.is_file():
        return False
    if sha256_file(path) == gz_sha:
        return True
    return unpacked_sha is not None and _unpacked_sha256(path) == unpacked_sha


def load_mnist(
    cache_dir: str | os.PathLike | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    base_url: str | None = None,
    checksums: Mapping[str, str] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Full MNIST as ``((x_train, y_train), (x_test, y_test))``, x float32
    (N, 28, 28, 1) in [0, 1], y int64.

    The four canonical files are fetched into ``cache_dir`` (default
    ``data_dir() / "mnist"``) unless already there with the right checksum; a copy you
    placed there yourself is accepted if it is the same data, even re-gzipped.
    ``progress(done, total)`` counts bytes across all four files (total is None when
    ``checksums`` replaces the canonical ones, since sizes are then unknown);
    ``cancel()`` stops with ``DownloadCancelled``. ``base_url`` points at another mirror
    of the same files; ``checksums`` (file name -> SHA-256 of the .gz) replaces the
    canonical sums, for a mirror serving other files (tests use it).
    """
    folder = Path(cache_dir) if cache_dir is not None else data_dir() / "mnist"
    base = base_url if base_url is not None else MNIST_BASE_URL
    if not base.endswith("/"):
        base += "/"

    plan: list[tuple[str, str, str | None, int | None]] = []
    for name, (size, gz_sha, unpacked_sha) in MNIST_FILES.items():
        if checksums is None:
            plan.append((name, gz_sha, unpacked_sha, size))
        else:
            if name not in checksums:
                raise ValueError(f"checksums has no entry for {name}")
            plan.append((name, checksums[name].lower(), None, None))

    sizes = [size for *_, size in plan]
    grand_total = sum(sizes) if all(s is not None for s in sizes) else None
    finished = 0
    for name, gz_sha, unpacked_sha, size in plan:
        path = folder / name
        if _cached_ok(path, gz_sha, unpacked_sha):
            finished += path.stat().st_size
            continue

        def file_progress(done: int, total: int | None, _offset: int = finished) -> None:
            if progress is not None:
                progress(_offset + done, grand_total)

        download(base + name, path, gz_sha, progress=file_progress, cancel=cancel, size=size)
        finished += path.stat().st_size
    if progress is not None:
        progress(finished, grand_total if grand_total is not None else finished)

    train = mnist_arrays(
        read_idx(folder / "train-images-idx3-ubyte.gz"),
        read_idx(folder / "train-labels-idx1-ubyte.gz"),
        f"{folder} (train files)",
    )
    test = mnist_arrays(
        read_idx(folder / "t10k-images-idx3-ubyte.gz"),
        read_idx(folder / "t10k-labels-idx1-ubyte.gz"),
        f"{folder} (t10k files)",
    )
    return train, test
