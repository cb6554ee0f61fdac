"""Checked, cancellable, atomic downloads into the user's data folder.

A download streams into a temporary file beside its destination, hashing as it goes, and
only a file whose SHA-256 matches is renamed into place. Whatever goes wrong (no network,
a dropped connection, a wrong checksum, the user pressing Cancel) the destination is left
as it was and the temporary file is deleted, so a half-written file is never mistaken for
data on the next launch.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import socket
import tempfile
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
    "sha256_file",
]

CHUNK_BYTES = 64 * 1024
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
) -> Path:
    """Fetch ``url`` to ``dest_path`` unless a file with the right SHA-256 is already there.

    ``progress(done_bytes, total_bytes_or_None)`` is called after every chunk (and once
    at the start with 0); ``cancel()`` is polled before every chunk and, when it returns
    True, the download stops and ``DownloadCancelled`` is raised. Returns the path.

    Raises ``DownloadError`` (network trouble, HTTP errors, a connection that dropped
    before the whole file arrived), ``ChecksumError`` (a DownloadError and a ValueError)
    when the bytes are not the expected file, ``DownloadCancelled`` on cancel. In every
    one of those cases nothing is left at ``dest_path`` that was not there before.
    """
    expected = _check_sha(sha256)
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

    if cancel is not None and cancel():
        raise DownloadCancelled(f"download of {dest.name} cancelled")

    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    renamed = False
    try:
        digest = hashlib.sha256()
        done = 0
        with os.fdopen(fd, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
            try:
                response = urllib.request.urlopen(request, timeout=timeout)
            except urllib.error.HTTPError as exc:
                raise DownloadError(
                    f"{host} answered HTTP {exc.code} ({exc.reason}) for {dest.name}: "
                    f"the file may have moved. Try again later, {fix_it}."
                ) from exc
            except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
                reason = getattr(exc, "reason", exc)
                raise DownloadError(
                    f"could not reach {host} ({_describe(reason)}): check the internet "
                    f"connection and try again, {fix_it}."
                ) from exc
            with response:
                total = _content_length(response)
                if progress is not None:
                    progress(0, total)
                while True:
                    if cancel is not None and cancel():
                        raise DownloadCancelled(f"download of {dest.name} cancelled")
                    try:
                        block = response.read(CHUNK_BYTES)
                    except (OSError, http.client.HTTPException) as exc:
                        raise DownloadError(
                            f"the connection to {host} broke after {done:,} bytes of "
                            f"{dest.name} ({_describe(exc)}). Try again, {fix_it}."
                        ) from exc
                    if not block:
                        break
                    out.write(block)
                    digest.update(block)
                    done += len(block)
                    if progress is not None:
                        progress(done, total)
            if total is not None and done != total:
                # http.client returns b"" rather than raising when the server closes
                # early, so a short body has to be detected here.
                raise DownloadError(
                    f"the connection to {host} dropped: {dest.name} stopped after "
                    f"{done:,} of {total:,} bytes. Try again, {fix_it}."
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
        if not renamed:
            _remove_quietly(tmp)


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
