"""Tiny CIFAR-10 archives and a loopback HTTP server, for tests of the CIFAR lesson.

`make_tiny_cifar` writes a cifar-10-python.tar.gz with the real layout (five training
batches, a test batch and batches.meta, each a protocol-2 pickle as Python 3 writes it) but
only a few images per batch; each class has its own colour so a network can learn it.
`LoopbackServer` serves byte strings over HTTP on 127.0.0.1; a "gated" route sends the
first part of its body and waits until the test releases it, so a cancel can be pressed
mid-download without any sleep.
"""
from __future__ import annotations

import hashlib
import http.server
import io
import pickle
import tarfile
import threading
from pathlib import Path

import numpy as np

CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
           "dog", "frog", "horse", "ship", "truck")


def class_images(labels, rng) -> np.ndarray:
    """(N, 32, 32, 3) uint8: a colour per class plus noise, so classes are learnable."""
    base = np.array([[(c * 37) % 256, (c * 91 + 60) % 256, (c * 151 + 120) % 256]
                     for c in range(10)], np.float64)                      # (10, 3)
    noise = rng.normal(0, 40, size=(len(labels), 32, 32, 3))
    return np.clip(base[np.asarray(labels)][:, None, None, :] + noise, 0, 255).astype(np.uint8)


def _rows(images: np.ndarray) -> np.ndarray:
    """CIFAR's row layout: all red values, then green, then blue, each plane row-major."""
    return np.ascontiguousarray(images.transpose(0, 3, 1, 2).reshape(len(images), 3072))


def _batch(images, labels, name: str) -> bytes:
    return pickle.dumps({"batch_label": name, "labels": [int(v) for v in labels],
                         "data": _rows(images),
                         "filenames": [f"img_{i}.png" for i in range(len(labels))]}, protocol=2)


def make_tiny_cifar(path: Path, per_batch: int = 20, n_test: int = 40, seed: int = 0) -> dict:
    """Write a tiny CIFAR-10 archive at `path`; returns its arrays and SHA-256."""
    rng = np.random.default_rng(seed)
    contents = {}
    train_x, train_y = [], []
    for i in range(1, 6):
        y = rng.integers(0, 10, per_batch)
        x = class_images(y, rng)
        contents[f"data_batch_{i}"] = _batch(x, y, f"training batch {i} of 5")
        train_x.append(x)
        train_y.append(y)
    y_test = np.arange(n_test) % 10                    # every class in the test set
    x_test = class_images(y_test, rng)
    contents["test_batch"] = _batch(x_test, y_test, "testing batch 1 of 1")
    contents["batches.meta"] = pickle.dumps({"label_names": list(CLASSES),
                                             "num_cases_per_batch": per_batch}, protocol=2)
    path = Path(path)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in contents.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    body = path.read_bytes()
    return {"x_train": np.concatenate(train_x), "y_train": np.concatenate(train_y),
            "x_test": x_test, "y_test": y_test.astype(np.int64),
            "sha256": hashlib.sha256(body).hexdigest(), "bytes": body}


def make_corrupt_archive(path: Path) -> bytes:
    """A file named like the archive that is a gzip stream cut short."""
    good = Path(str(path) + ".good")
    make_tiny_cifar(good, per_batch=4, n_test=4)
    body = good.read_bytes()[:1500]
    good.unlink()
    Path(path).write_bytes(body)
    return body


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        route = self.server.routes.get(self.path)
        self.server.hits[self.path] = self.server.hits.get(self.path, 0) + 1
        if route is None:
            self.send_error(404, "Not Found")
            return
        mode, body = route
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            if mode == "gated":
                # a first part larger than the downloader's 64 KiB read, then wait
                first = min(len(body) // 2, 200_000)
                self.wfile.write(body[:first])
                self.wfile.flush()
                self.server.gate.wait(timeout=20)
                self.wfile.write(body[first:])
            else:
                self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass    # the client hung up (a cancel): fine
        self.close_connection = True


class LoopbackServer:
    """`with LoopbackServer() as srv: srv.routes["/x"] = ("ok", data); srv.url + "/x"`."""

    def __enter__(self):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.routes = {}
        self.httpd.hits = {}
        self.httpd.gate = threading.Event()
        self.routes = self.httpd.routes
        self.hits = self.httpd.hits
        self.gate = self.httpd.gate
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()
        return False


def free_port_url() -> str:
    """A loopback URL nothing listens on (connection refused: the 'offline' case)."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/cifar-10-python.tar.gz"
