"""Downloads against a loopback HTTP server the tests control: a learner's cache must only
ever hold verified files, whatever the network does."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import os
import socket
import struct
import threading
from pathlib import Path

import numpy as np
import pytest

from core.data import (
    ChecksumError,
    DownloadCancelled,
    DownloadError,
    data_dir,
    download,
    load_mnist,
)
from core.data import mnist as mnist_module


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        server = self.server
        server.hits[self.path] = server.hits.get(self.path, 0) + 1
        route = server.routes.get(self.path)
        if route is None:
            self.send_error(404, "Not Found")
            return
        mode, body = route
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if mode == "ok":
            self.send_header("Content-Length", str(len(body)))
        elif mode == "short":
            # Promise more than is sent, then hang up: a dropped connection.
            self.send_header("Content-Length", str(len(body) + 5000))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.routes = {}
    httpd.hits = {}
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


BODY = bytes(range(256)) * 1200  # 300 KiB: several chunks


def test_good_file_is_downloaded_verified_and_cached(server, tmp_path):
    server.routes["/f.bin"] = ("ok", BODY)
    dest = tmp_path / "cache" / "f.bin"
    seen = []
    out = download(server.url + "/f.bin", dest, _sha(BODY), progress=lambda d, t: seen.append((d, t)))
    assert out == dest
    assert dest.read_bytes() == BODY
    assert _leftovers(dest.parent) == ["f.bin"]
    # progress: starts at 0, strictly increasing, ends at the full size, knows the total
    done = [d for d, _ in seen]
    assert done[0] == 0 and done[-1] == len(BODY)
    assert all(b > a for a, b in zip(done, done[1:]))
    assert len(done) > 3
    assert {t for _, t in seen} == {len(BODY)}

    # second call: the cached file is verified and the server is not asked again
    download(server.url + "/f.bin", dest, _sha(BODY))
    assert server.hits["/f.bin"] == 1


def test_stale_cached_file_is_replaced(server, tmp_path):
    server.routes["/f.bin"] = ("ok", BODY)
    dest = tmp_path / "f.bin"
    dest.write_bytes(b"half a file")
    download(server.url + "/f.bin", dest, _sha(BODY))
    assert dest.read_bytes() == BODY
    assert server.hits["/f.bin"] == 1


def test_wrong_checksum_leaves_nothing(server, tmp_path):
    server.routes["/f.bin"] = ("ok", BODY)
    dest = tmp_path / "cache" / "f.bin"
    with pytest.raises(ChecksumError) as info:
        download(server.url + "/f.bin", dest, _sha(b"another file"))
    assert isinstance(info.value, ValueError) and isinstance(info.value, DownloadError)
    assert "f.bin" in str(info.value) and _sha(BODY) in str(info.value)
    assert not dest.exists()
    assert _leftovers(dest.parent) == []


def test_dropped_connection_leaves_nothing(server, tmp_path):
    server.routes["/f.bin"] = ("short", BODY)
    dest = tmp_path / "f.bin"
    with pytest.raises(DownloadError) as info:
        download(server.url + "/f.bin", dest, _sha(BODY))
    assert not isinstance(info.value, ChecksumError)
    assert "dropped" in str(info.value) or "broke" in str(info.value)
    assert _leftovers(tmp_path) == []


def test_unknown_length_still_reports_progress(server, tmp_path):
    server.routes["/f.bin"] = ("nolength", BODY)
    seen = []
    download(server.url + "/f.bin", tmp_path / "f.bin", _sha(BODY), progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (len(BODY), None)
    assert (tmp_path / "f.bin").read_bytes() == BODY


def test_cancel_midway_leaves_nothing(server, tmp_path):
    server.routes["/f.bin"] = ("ok", BODY)
    seen = []

    def cancel():
        return len(seen) >= 3  # after some bytes have arrived

    with pytest.raises(DownloadCancelled):
        download(server.url + "/f.bin", tmp_path / "f.bin", _sha(BODY),
                 progress=lambda d, t: seen.append(d), cancel=cancel)
    assert 0 < seen[-1] < len(BODY)
    assert _leftovers(tmp_path) == []


def test_http_error_names_the_status(server, tmp_path):
    with pytest.raises(DownloadError, match="404"):
        download(server.url + "/missing.bin", tmp_path / "missing.bin", _sha(b""))
    assert _leftovers(tmp_path) == []


def test_unreachable_server_says_what_to_do(tmp_path):
    port = _free_port()
    dest = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    with pytest.raises(DownloadError) as info:
        download(f"http://127.0.0.1:{port}/train-images-idx3-ubyte.gz", dest, _sha(b"x"), timeout=5)
    msg = str(info.value)
    assert "could not reach 127.0.0.1" in msg
    assert "train-images-idx3-ubyte.gz" in msg and str(dest.parent) in msg
    assert "connection" in msg
    assert _leftovers(dest.parent) == []


def test_name_lookup_failure_is_explained(tmp_path, monkeypatch):
    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(DownloadError, match="could not reach example.org.*looked up"):
        download("http://example.org/f.bin", tmp_path / "f.bin", _sha(b"x"))


def test_bad_checksum_argument_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="64 hexadecimal"):
        download("http://127.0.0.1:9/f", tmp_path / "f", "abc")


def test_data_dir_honours_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("BACKPROP_LAB_DATA", str(tmp_path / "shared-cache"))
    assert data_dir() == tmp_path / "shared-cache"
    monkeypatch.delenv("BACKPROP_LAB_DATA")
    assert "backprop-lab" in str(data_dir())


# --- full MNIST through the loopback server --------------------------------------------


def _idx_bytes(array: np.ndarray) -> bytes:
    """Independent IDX writer: magic 0,0,0x08,ndim then big-endian dims then the bytes."""
    assert array.dtype == np.uint8
    return struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape) + array.tobytes()


def _tiny_mnist(rng, n):
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    return images, labels


def _serve_mnist(server, rng):
    train, test = _tiny_mnist(rng, 12), _tiny_mnist(rng, 5)
    files = {
        "train-images-idx3-ubyte.gz": gzip.compress(_idx_bytes(train[0]), mtime=0),
        "train-labels-idx1-ubyte.gz": gzip.compress(_idx_bytes(train[1]), mtime=0),
        "t10k-images-idx3-ubyte.gz": gzip.compress(_idx_bytes(test[0]), mtime=0),
        "t10k-labels-idx1-ubyte.gz": gzip.compress(_idx_bytes(test[1]), mtime=0),
    }
    for name, data in files.items():
        server.routes[f"/mirror/{name}"] = ("ok", data)
    return train, test, files


def test_load_mnist_end_to_end(server, tmp_path):
    rng = np.random.default_rng(1)
    train, test, files = _serve_mnist(server, rng)
    checksums = {name: _sha(data) for name, data in files.items()}
    seen = []
    (x_train, y_train), (x_test, y_test) = load_mnist(
        cache_dir=tmp_path / "mnist", progress=lambda d, t: seen.append(d),
        base_url=server.url + "/mirror", checksums=checksums,
    )
    assert x_train.shape == (12, 28, 28, 1) and x_train.dtype == np.float32
    assert y_train.dtype == np.int64 and x_test.shape == (5, 28, 28, 1)
    np.testing.assert_array_equal(x_train[..., 0] * 255, train[0].astype(np.float32))
    np.testing.assert_allclose(x_test[..., 0], test[0] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y_train, train[1])
    np.testing.assert_array_equal(y_test, test[1])
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0
    # progress counts bytes across the four files
    assert seen[-1] == sum(len(d) for d in files.values())
    assert all(b >= a for a, b in zip(seen, seen[1:]))

    hits = dict(server.hits)
    load_mnist(cache_dir=tmp_path / "mnist", base_url=server.url + "/mirror", checksums=checksums)
    assert server.hits == hits  # everything came from the cache


def test_load_mnist_wrong_file_on_mirror_keeps_cache_clean(server, tmp_path):
    rng = np.random.default_rng(2)
    _, _, files = _serve_mnist(server, rng)
    checksums = {name: _sha(data) for name, data in files.items()}
    checksums["t10k-images-idx3-ubyte.gz"] = _sha(b"what the mirror should have sent")
    with pytest.raises(ChecksumError):
        load_mnist(cache_dir=tmp_path, base_url=server.url + "/mirror", checksums=checksums)
    assert "t10k-images-idx3-ubyte.gz" not in _leftovers(tmp_path)
    assert not any(name.endswith(".part") for name in _leftovers(tmp_path))


def test_load_mnist_accepts_a_regzipped_copy_without_network(tmp_path, monkeypatch):
    """A user who put the files there themselves (from a mirror that re-gzipped them) is
    not sent to the network: the unpacked data is what is checked."""
    rng = np.random.default_rng(3)
    train, test = _tiny_mnist(rng, 4), _tiny_mnist(rng, 3)
    raw = {
        "train-images-idx3-ubyte.gz": _idx_bytes(train[0]),
        "train-labels-idx1-ubyte.gz": _idx_bytes(train[1]),
        "t10k-images-idx3-ubyte.gz": _idx_bytes(test[0]),
        "t10k-labels-idx1-ubyte.gz": _idx_bytes(test[1]),
    }
    for name, data in raw.items():
        mirror_gz = gzip.compress(data, mtime=1)
        monkeypatch.setitem(mnist_module.MNIST_FILES, name, (len(mirror_gz), _sha(mirror_gz), _sha(data)))
        (tmp_path / name).write_bytes(gzip.compress(data, compresslevel=1, mtime=12345))
    dead = f"http://127.0.0.1:{_free_port()}/"
    (x_train, y_train), (x_test, y_test) = load_mnist(cache_dir=tmp_path, base_url=dead)
    np.testing.assert_array_equal(y_train, train[1])
    assert x_test.shape == (3, 28, 28, 1)

    # A copy holding different digits is not accepted: the (dead) mirror is tried.
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(_idx_bytes((test[1] + 1) % 10)))
    with pytest.raises(DownloadError, match="could not reach"):
        load_mnist(cache_dir=tmp_path, base_url=dead)


def test_canonical_mnist_checksums_match_the_shared_test_files():
    folder = Path("/work/shared/data/mnist")
    if not folder.is_dir():
        pytest.skip("shared MNIST test files not present")
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        size, _, unpacked = mnist_module.MNIST_FILES[name]
        with gzip.open(folder / name) as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == unpacked
        assert os.path.getsize(folder / name) == size
