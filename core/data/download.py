"""Checked, cancellable, atomic downloads into the user's data folder.

A download streams into a temporary file beside its destination, hashing as it goes, and
only a file whose SHA-256 matches is renamed into place. Whatever goes wrong (no network,
a dropped connection, a wrong checksum, the user pressing Cancel) the destination is left
as it was and the temporary file is deleted, so a half-written file is never mistaken for
data on the next launch. A process killed mid-download cannot delete its temporary file:
`remove_stale_partials` (run before every download, and by the app at start) removes the
ones no running download holds.

Cancelling takes effect within `POLL_SECONDS` whatever the server does. The network is
read in a helper thread that hands blocks to the caller through a queue; the caller polls
`cancel()` while it waits, so a server that stalls, or drips a byte now and then, cannot
keep it waiting: on cancel it shuts the connection's socket down (which wakes the helper)
and leaves at once. A socket timeout alone would not do: it only fires after a whole
`timeout` of silence, and a byte every half second resets it forever.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import queue
import re
import socket
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "ChecksumError",
    "DownloadCancelled",
    "DownloadError",
    "data_dir",
    "download",
    "remove_stale_partials",
    "sha256_file",
]

CHUNK_BYTES = 64 * 1024
#: how often a waiting download checks `cancel()`: the longest a cancel can go unnoticed
POLL_SECONDS = 0.1
#: without a known size, a body larger than this is refused (no dataset here is near it)
MAX_UNKNOWN_BYTES = 4 * 1024 ** 3
#: a temporary file younger than this is never treated as stale (it may be being created)
STALE_AFTER_SECONDS = 2.0
PARTIAL_SUFFIX = ".part"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_USER_AGENT = "backprop-lab/0.1 (+https://pypi.org/project/backprop-lab/)"

ProgressFn = Callable[[int, "int | None"], None]
CancelFn = Callable[[], bool]


class DownloadError(RuntimeError):
    """A download failed; the message says what happened and what the user can do."""


class ChecksumError(DownloadError, ValueError):
    """The bytes that arrived are not the file that was asked for."""


class DownloadCancelled(Exception):
    """The user cancelled; nothing was kept.

    Deliberately not a DownloadError: a cancel is a choice, not a failure to report.
    """


def data_dir() -> Path:
    """The folder where downloaded datasets are cached.

    ``BACKPROP_LAB_DATA`` overrides it (for a shared classroom cache or for tests);
    otherwise it is the platform's per-user data folder for "backprop-lab". The folder is
    not created here: only a download creates it.
    """
    override = os.environ.get("BACKPROP_LAB_DATA", "").strip()
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("backprop-lab", appauthor=False))


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in chunks so large archives need little memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_sha(sha256: str) -> str:
    if not isinstance(sha256, str) or not _HEX64.match(sha256.lower()):
        raise ValueError(f"sha256 must be 64 hexadecimal characters, got {sha256!r}")
    return sha256.lower()


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        # A temp file we cannot delete (e.g. held open by an antivirus scanner on
        # Windows) is still never valid: it carries the .part suffix.
        pass


def download(
    url: str,
    dest_path: str | os.PathLike,
    sha256: str,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    timeout: float = 30,
    size: int | None = None,
) -> Path:
    """Fetch ``url`` to ``dest_path`` unless a file with the right SHA-256 is already there.

    ``progress(done_bytes, total_bytes_or_None)`` is called after every block (and once
    at the start with 0); ``cancel()`` is polled at least every ``POLL_SECONDS`` while
    waiting for the server and before every block; when it returns True the download
    stops within that time and ``DownloadCancelled`` is raised. ``timeout`` is how long
    the server may stay silent. ``size``, when known, is the file's exact length: a
    server announcing or sending more is cut off. Returns the path.

    Raises ``DownloadError`` (network trouble, HTTP errors, a connection that dropped
    before the whole file arrived, a body longer than expected), ``ChecksumError`` (a
    DownloadError and a ValueError) when the bytes are not the expected file,
    ``DownloadCancelled`` on cancel. In every one of those cases nothing is left at
    ``dest_path`` that was not there before.
    """
    expected = _check_sha(sha256)
    if size is not None and (not isinstance(size, int) or size < 0):
        raise ValueError(f"size must be a byte count (an integer ≥ 0), got {size!r}")
    dest = Path(dest_path)
    if dest.is_file():
        if sha256_file(dest) == expected:
            return dest
        # A stale or damaged cached copy: fetch again; it is replaced only once the new
        # copy has been verified.

    host = urllib.parse.urlsplit(url).hostname or url
    fix_it = (
        f"or download {dest.name} yourself from {url} and put it in {dest.parent}"
    )

    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(
            f"cannot create the data folder {dest.parent}: {exc.strerror or exc}. "
            "Choose another folder (set BACKPROP_LAB_DATA) or fix its permissions."
        ) from exc
    remove_stale_partials(dest.parent)

    def check_cancel() -> None:
        if cancel is not None and cancel():
            raise DownloadCancelled(f"download of {dest.name} cancelled")

    check_cancel()
    limit = size if size is not None else MAX_UNKNOWN_BYTES

    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=PARTIAL_SUFFIX,
                                    dir=dest.parent)
    _hold(fd)   # marks the file as in use until it is closed (see remove_stale_partials)
    tmp = Path(tmp_name)
    renamed = False
    transfer = _Transfer(url, timeout)
    try:
        digest = hashlib.sha256()
        done = 0
        with os.fdopen(fd, "wb") as out:
            transfer.start()
            kind, value = _next(transfer, check_cancel)
            if kind == "error":
                exc = value
                if isinstance(exc, urllib.error.HTTPError):
                    raise DownloadError(
                        f"{host} answered HTTP {exc.code} ({exc.reason}) for {dest.name}: "
                        f"the file may have moved. Try again later, {fix_it}."
                    ) from exc
                reason = getattr(exc, "reason", exc)
                raise DownloadError(
                    f"could not reach {host} ({_describe(reason)}): check the internet "
                    f"connection and try again, {fix_it}."
                ) from exc
            total = value
            if total is not None and total > limit:
                raise DownloadError(
                    f"{host} announced {total:,} bytes for {dest.name}, but the file is "
                    f"{limit:,} bytes: the server is sending something else. Try again "
                    f"later, {fix_it}."
                )
            if progress is not None:
                progress(0, total)
            while True:
                kind, value = _next(transfer, check_cancel)
                if kind == "error":
                    raise DownloadError(
                        f"the connection to {host} broke after {done:,} bytes of "
                        f"{dest.name} ({_describe(value)}). Try again, {fix_it}."
                    ) from value
                if kind == "end":
                    break
                block = value
                if done + len(block) > limit:
                    raise DownloadError(
                        f"{host} sent more than the {limit:,} bytes {dest.name} has: the "
                        f"download was cut off and discarded. Try again later, {fix_it}."
                    )
                out.write(block)
                digest.update(block)
                done += len(block)
                if progress is not None:
                    progress(done, total)
            expected_total = total if total is not None else size
            if expected_total is not None and done != expected_total:
                # http.client returns b"" rather than raising when the server closes
                # early, so a short body has to be detected here.
                raise DownloadError(
                    f"the connection to {host} dropped: {dest.name} stopped after "
                    f"{done:,} of {expected_total:,} bytes. Try again, {fix_it}."
                )
            out.flush()
            os.fsync(out.fileno())

        actual = digest.hexdigest()
        if actual != expected:
            raise ChecksumError(
                f"{dest.name} from {host} is not the expected file (SHA-256 {actual}, "
                f"expected {expected}); it was discarded. The download was damaged or "
                f"the server sent something else: try again, {fix_it}."
            )
        os.replace(tmp, dest)
        renamed = True
        return dest
    finally:
        transfer.abandon()
        if not renamed:
            _remove_quietly(tmp)


def _next(transfer: "_Transfer", check_cancel: Callable[[], None]):
    """The helper thread's next message, checking for a cancel while waiting."""
    while True:
        check_cancel()
        try:
            return transfer.messages.get(timeout=POLL_SECONDS)
        except queue.Empty:
            continue


class _Connections:
    """The sockets a transfer opened, so another thread can shut them down."""

    def __init__(self):
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._closed = False

    def add(self, sock) -> None:
        with self._lock:
            self._socks.append(sock)
            closed = self._closed
        if closed:
            _shutdown(sock)

    def close_all(self) -> None:
        with self._lock:
            self._closed = True
            socks = list(self._socks)
        for sock in socks:
            _shutdown(sock)


def _shutdown(sock) -> None:
    # socket.socket's own shutdown, also for an SSL socket: it wakes a thread blocked in
    # recv() on any platform, where close() alone may not
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except (OSError, TypeError, ValueError):
        pass


def _opener(connections: _Connections):
    """urllib's usual opener (proxies, redirects, HTTPS), recording every socket it opens."""

    def tracked(http_class):
        class Tracked(http_class):
            def connect(self):
                super().connect()
                connections.add(self.sock)

        return Tracked

    class HTTPHandler(urllib.request.HTTPHandler):
        def do_open(self, http_class, req, **kwargs):
            return super().do_open(tracked(http_class), req, **kwargs)

    class HTTPSHandler(urllib.request.HTTPSHandler):
        def do_open(self, http_class, req, **kwargs):
            return super().do_open(tracked(http_class), req, **kwargs)

    # subclasses of the default handlers replace them
    return urllib.request.build_opener(HTTPHandler, HTTPSHandler)


class _Transfer:
    """Reads one URL in a daemon thread; messages: ("total", int|None) or ("error", exc)
    first, then ("block", bytes)… and ("end", None) or ("error", exc)."""

    def __init__(self, url: str, timeout: float):
        self.url, self.timeout = url, timeout
        # bounded: a slow disk makes the reader wait instead of filling memory
        self.messages: queue.Queue = queue.Queue(maxsize=64)
        self._stop = threading.Event()
        self._connections = _Connections()
        self._thread = threading.Thread(target=self._run, name="download", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def abandon(self) -> None:
        """Stop reading and close the connection; returns at once (the thread is a daemon
        that ends as soon as its socket call returns)."""
        self._stop.set()
        self._connections.close_all()

    def _put(self, message) -> bool:
        while not self._stop.is_set():
            try:
                self.messages.put(message, timeout=POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        request = urllib.request.Request(self.url, headers={"User-Agent": _USER_AGENT})
        try:
            response = _opener(self._connections).open(request, timeout=self.timeout)
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
            self._put(("error", exc))
            return
        with response:
            if not self._put(("total", _content_length(response))):
                return
            while not self._stop.is_set():
                try:
                    # read1: whatever has arrived, at most one chunk (read() would wait
                    # for a whole chunk, byte by byte from a dripping server)
                    block = response.read1(CHUNK_BYTES)
                except (OSError, http.client.HTTPException, ValueError) as exc:
                    if not self._stop.is_set():
                        self._put(("error", exc))
                    return
                if not block:
                    self._put(("end", None))
                    return
                if not self._put(("block", block)):
                    return


def _hold(fd: int) -> None:
    """Take an exclusive advisory lock on an open partial file (POSIX). While it is held no
    `remove_stale_partials` deletes the file; the lock goes with the process, so a crashed
    download's file is free to go. (Windows refuses to delete an open file by itself.)"""
    if sys.platform == "win32":
        return
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (ImportError, OSError):
        pass


def _held_elsewhere(path: Path) -> bool:
    if sys.platform == "win32":
        return False    # deleting it fails while it is open, which is the same answer
    try:
        import fcntl
    except ImportError:
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return True     # cannot even look at it: leave it alone
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)    # closing drops the test lock too
    return False


def remove_stale_partials(folder: str | os.PathLike | None = None,
                          recursive: bool = False) -> list[Path]:
    """Delete temporary download files in ``folder`` (default: ``data_dir()``) that no
    running download holds: what a download killed mid-way (a crash, a power cut) left.
    ``recursive`` also looks one folder deep (each dataset has its own). Never raises;
    returns what it removed."""
    try:
        root = Path(folder) if folder is not None else data_dir()
        folders = [root]
        if recursive:
            folders += [p for p in root.iterdir() if p.is_dir()] if root.is_dir() else []
        removed = []
        now = time.time()
        for where in folders:
            if not where.is_dir():
                continue
            for path in where.glob(f".*{PARTIAL_SUFFIX}"):
                try:
                    if not path.is_file() or now - path.stat().st_mtime < STALE_AFTER_SECONDS:
                        continue
                except OSError:
                    continue
                if _held_elsewhere(path):
                    continue
                try:
                    path.unlink()
                except OSError:
                    continue    # in use (Windows) or not ours to delete
                removed.append(path)
        return removed
    except Exception:  # noqa: BLE001 - tidying up must never stop the app or a download
        return []


def _content_length(response) -> int | None:
    value = response.headers.get("Content-Length")
    try:
        length = int(value) if value is not None else None
    except ValueError:
        return None
    return length if length is not None and length >= 0 else None


def _describe(reason: object) -> str:
    if isinstance(reason, socket.gaierror):
        return "the name could not be looked up"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "timed out"
    if isinstance(reason, ConnectionResetError):
        return "connection reset"
    text = str(reason).strip()
    return text or type(reason).__name__
