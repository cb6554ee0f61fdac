"""CIFAR-10 archives built here in the exact format of cifar-10-python.tar.gz (Python 2
protocol-2 pickles of numpy arrays): read correctly, and hostile ones refused without
running anything."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import io
import os
import pickle
import struct
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest

from core.data import CIFAR10_CLASSES, load_cifar10
from core.data.cifar import read_cifar_batch

# --- an independent writer of Python-2-style pickles, opcode by opcode -------------------


def _s(data: bytes) -> bytes:
    """SHORT_BINSTRING (Python 2 str) or BINSTRING when long."""
    if len(data) < 256:
        return b"U" + bytes([len(data)]) + data
    return b"T" + struct.pack("<i", len(data)) + data


def _int(v: int) -> bytes:
    return b"J" + struct.pack("<i", v)


def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _ndarray_u8(array: np.ndarray, module="numpy.core.multiarray") -> bytes:
    """What Python 2's cPickle wrote for a C-ordered uint8 array."""
    shape = b"(" + b"".join(_int(d) for d in array.shape) + b"t"
    dtype = (_global("numpy", "dtype") + _s(b"u1") + _int(0) + _int(1) + b"\x87R"
             + b"(" + _int(3) + _s(b"|") + b"NNN" + _int(-1) + _int(-1) + _int(0) + b"tb")
    return (_global(module, "_reconstruct") + _global("numpy", "ndarray") + _int(0) + b"\x85"
            + _s(b"b") + b"\x87R"
            + b"(" + _int(1) + shape + dtype + b"\x89" + _s(array.tobytes()) + b"tb")


def _list(items: list[bytes]) -> bytes:
    return b"](" + b"".join(items) + b"e"


def _py2_batch(pixels: np.ndarray, labels, label_key=b"labels") -> bytes:
    body = (_s(b"batch_label") + _s(b"training batch 1 of 5")
            + _s(label_key) + _list([_int(int(v)) for v in labels])
            + _s(b"data") + _ndarray_u8(pixels)
            + _s(b"filenames") + _list([_s(f"img_{i}.png".encode()) for i in range(len(labels))]))
    return b"\x80\x02}(" + body + b"u."


def _py2_meta(names) -> bytes:
    body = (_s(b"num_cases_per_batch") + _int(10000)
            + _s(b"label_names") + _list([_s(n.encode()) for n in names])
            + _s(b"num_vis") + _int(3072))
    return b"\x80\x02}(" + body + b"u."


def _rows_from_images(images: np.ndarray) -> np.ndarray:
    """CIFAR row layout written out longhand: 1024 red, then green, then blue values,
    each plane row-major."""
    n = len(images)
    rows = np.empty((n, 3072), dtype=np.uint8)
    for i in range(n):
        k = 0
        for c in range(3):
            for h in range(32):
                for w in range(32):
                    rows[i, k] = images[i, h, w, c]
                    k += 1
    return rows


def _make_archive(path: Path, rng, per_batch=3, members=None, extra=()) -> dict:
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        images = rng.integers(0, 256, size=(per_batch, 32, 32, 3), dtype=np.uint8)
        labels = rng.integers(0, 10, size=per_batch)
        batches[name] = (images, labels)
    contents = {name: _py2_batch(_rows_from_images(im), lab) for name, (im, lab) in batches.items()}
    contents["batches.meta"] = _py2_meta(CIFAR10_CLASSES)
    contents["readme.html"] = b"<html>readme</html>"
    if members is not None:
        contents = members(contents)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in contents.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info, data in extra:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return batches


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- reading good archives ---------------------------------------------------------------


def test_py2_pickle_writer_matches_numpy():
    """The hand-written pickle is what numpy itself reads as the same array (trusted
    input, standard unpickler): the writer used by the other tests is faithful."""
    pixels = np.arange(2 * 3072, dtype=np.int64).astype(np.uint8).reshape(2, 3072)
    data = _py2_batch(pixels, [3, 7])
    ref = pickle.loads(data, encoding="bytes")
    np.testing.assert_array_equal(ref[b"data"], pixels)
    assert ref[b"labels"] == [3, 7]
    got_pixels, got_labels = read_cifar_batch(data)
    np.testing.assert_array_equal(got_pixels, pixels)
    np.testing.assert_array_equal(got_labels, [3, 7])


def test_archive_is_read_into_nhwc_float32(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "cifar-10-python.tar.gz"
    batches = _make_archive(path, rng)
    (x_train, y_train), (x_test, y_test), names = load_cifar10(archive=path, sha256=_sha(path))
    assert names == CIFAR10_CLASSES
    assert x_train.shape == (15, 32, 32, 3) and x_train.dtype == np.float32
    assert y_train.dtype == np.int64 and y_train.shape == (15,)
    expected = np.concatenate([batches[f"data_batch_{i}"][0] for i in range(1, 6)])
    np.testing.assert_allclose(x_train, expected / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(
        y_train, np.concatenate([batches[f"data_batch_{i}"][1] for i in range(1, 6)]))
    np.testing.assert_allclose(x_test, batches["test_batch"][0] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y_test, batches["test_batch"][1])


def test_python3_repickled_batches_are_read_too(tmp_path):
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, size=(2, 3072), dtype=np.uint8)
    for protocol in (2, 5):
        data = pickle.dumps({b"data": pixels, b"labels": [1, 9]}, protocol=protocol)
        got, labels = read_cifar_batch(data)
        np.testing.assert_array_equal(got, pixels)
        np.testing.assert_array_equal(labels, [1, 9])


def test_download_through_loopback_then_cached(tmp_path):
    rng = np.random.default_rng(2)
    served = tmp_path / "served"
    served.mkdir()
    archive = served / "cifar-10-python.tar.gz"
    batches = _make_archive(archive, rng, per_batch=2)
    hits = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            hits.append(self.path)
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/cifar-10-python.tar.gz"
        seen = []
        cache = tmp_path / "cache"
        (x_train, y_train), _, _ = load_cifar10(
            cache_dir=cache, url=url, sha256=_sha(archive), progress=lambda d, t: seen.append((d, t)))
        assert seen[-1] == (archive.stat().st_size, archive.stat().st_size)
        np.testing.assert_array_equal(y_train[:2], batches["data_batch_1"][1])
        assert (cache / "cifar-10-python.tar.gz").read_bytes() == archive.read_bytes()
        load_cifar10(cache_dir=cache, url=url, sha256=_sha(archive))
        assert len(hits) == 1
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


# --- damaged and hostile archives --------------------------------------------------------


def test_checksum_mismatch_is_reported(tmp_path):
    path = tmp_path / "cifar-10-python.tar.gz"
    _make_archive(path, np.random.default_rng(3))
    with pytest.raises(ValueError, match="not the expected cifar-10-python.tar.gz"):
        load_cifar10(archive=path)  # the canonical checksum by default


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "plain-gzip"])
def test_corrupt_archive_is_a_value_error(tmp_path, damage):
    path = tmp_path / "cifar-10-python.tar.gz"
    _make_archive(path, np.random.default_rng(4))
    data = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(os.urandom(4096))
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.write_bytes(gzip.compress(b"not a tar archive at all" * 100))
    with pytest.raises(ValueError, match=str(path.name)):
        load_cifar10(archive=path, sha256=None)


def test_missing_member_is_named(tmp_path):
    path = tmp_path / "c.tar.gz"
    _make_archive(path, np.random.default_rng(5),
                  members=lambda c: {k: v for k, v in c.items() if k != "data_batch_3"})
    with pytest.raises(ValueError, match="missing cifar-10-batches-py/data_batch_3"):
        load_cifar10(archive=path, sha256=None)


def test_links_and_escaping_paths_are_never_followed_or_written(tmp_path):
    outside = tmp_path / "escaped.txt"
    evil = tarfile.TarInfo("../escaped.txt")
    evil.size = 4
    absolute = tarfile.TarInfo(str(tmp_path / "absolute.txt"))
    absolute.size = 4
    path = tmp_path / "work" / "c.tar.gz"
    path.parent.mkdir()
    _make_archive(path, np.random.default_rng(6), extra=[(evil, b"evil"), (absolute, b"evil")])
    load_cifar10(archive=path, sha256=None)  # unexpected members are ignored ...
    assert not outside.exists() and not (tmp_path / "absolute.txt").exists()  # ... never written
    assert sorted(p.name for p in path.parent.iterdir()) == ["c.tar.gz"]

    link = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    path2 = tmp_path / "c2.tar.gz"
    _make_archive(path2, np.random.default_rng(6),
                  members=lambda c: {k: v for k, v in c.items() if k != "data_batch_1"},
                  extra=[(link, None)])
    with pytest.raises(ValueError, match="data_batch_1 is not a regular file"):
        load_cifar10(archive=path2, sha256=None)


class _Payload:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def _hostile_pickles(marker: Path) -> dict[str, bytes]:
    cmd = f"touch {marker}".encode()
    return {
        "os.system via GLOBAL": b"\x80\x02" + _global("os", "system") + _s(cmd) + b"\x85R.",
        "posix.system": b"\x80\x02" + _global("posix", "system") + _s(cmd) + b"\x85R.",
        "builtins.eval": b"\x80\x02" + _global("builtins", "eval")
        + _s(b"__import__('os').system('" + cmd + b"')") + b"\x85R.",
        "STACK_GLOBAL": b"\x80\x04\x8c\x02os\x8c\x06system\x93" + _s(cmd) + b"\x85R.",
        "INST": b"(" + _s(cmd) + b"ios\nsystem\n.",
        "inside the batch": b"\x80\x02}(" + _s(b"labels") + _global("os", "system") + _s(cmd)
        + b"\x85R" + b"u.",
        "pickle.dumps of a payload": pickle.dumps({b"data": _Payload(cmd.decode())}, protocol=2),
        "ndarray swapped for os.system": b"\x80\x02" + _global("numpy.core.multiarray", "_reconstruct")
        + _global("os", "system") + _int(0) + b"\x85" + _s(b"b") + b"\x87R.",
    }


@pytest.mark.parametrize("kind", list(_hostile_pickles(Path("/x"))))
def test_hostile_pickle_is_refused_and_nothing_runs(tmp_path, kind):
    marker = tmp_path / "pwned"
    payload = _hostile_pickles(marker)[kind]
    with pytest.raises(ValueError, match="not a valid CIFAR batch"):
        read_cifar_batch(payload)
    assert not marker.exists()

    # and the same payload as a batch inside an archive
    path = tmp_path / "c.tar.gz"
    _make_archive(path, np.random.default_rng(7),
                  members=lambda c: {**c, "data_batch_2": payload})
    with pytest.raises(ValueError, match="data_batch_2"):
        load_cifar10(archive=path, sha256=None)
    assert not marker.exists()


@pytest.mark.parametrize("problem, make", [
    ("wrong row length", lambda: _py2_batch(np.zeros((2, 100), np.uint8), [0, 1])),
    ("label count", lambda: _py2_batch(np.zeros((2, 3072), np.uint8), [0])),
    ("label out of range", lambda: _py2_batch(np.zeros((1, 3072), np.uint8), [10])),
    ("no labels", lambda: _py2_batch(np.zeros((1, 3072), np.uint8), [0], label_key=b"fine")),
    ("not a dict", lambda: b"\x80\x02]."),
    ("float pixels", lambda: pickle.dumps({b"data": np.zeros((1, 3072), np.float32), b"labels": [0]}, protocol=2)),
])
def test_malformed_batches_are_value_errors(problem, make):
    with pytest.raises(ValueError):
        read_cifar_batch(make(), "data_batch_1")
