"""Locate package data with importlib.resources (no Qt, no core imports).

`importlib.resources.files` resolves the installed location of the `resources` package, so
it works for a checkout, an editable install and a regular (even zipped) install alike.
"""
from __future__ import annotations

import contextlib
import re
from importlib import resources as _importlib_resources
from importlib.resources.abc import Traversable
from pathlib import Path

_PACKAGE = "resources"
# lesson names end up in file paths: keep them to plain identifiers
_NAME_RE = re.compile(r"^[A-Za-z0-9_\-]+$")


def resource(*parts: str) -> Traversable:
    """The package-data entry `resources/<parts...>` (may not exist; check `.is_file()`)."""
    node = _importlib_resources.files(_PACKAGE)
    for part in parts:
        node = node.joinpath(part)
    return node


def read_text(*parts: str, encoding: str = "utf-8") -> str:
    """Text of a package-data file; FileNotFoundError if it is not shipped."""
    node = resource(*parts)
    if not node.is_file():
        raise FileNotFoundError(f"package data resources/{'/'.join(parts)} is missing")
    return node.read_text(encoding=encoding)


@contextlib.contextmanager
def as_path(*parts: str):
    """A real filesystem path for APIs that need one (e.g. numpy.load); temporary if zipped."""
    with _importlib_resources.as_file(resource(*parts)) as path:
        yield Path(path)


def lesson_text(name: str) -> str | None:
    """Markdown of `resources/lessons/<name>.md`, or None when the lesson has no text yet."""
    if not name or not _NAME_RE.match(name):
        raise ValueError(f"a lesson text name is a plain identifier, got {name!r}")
    try:
        return read_text("lessons", f"{name}.md")
    except FileNotFoundError:
        return None


def model_path(name: str):
    """Context manager yielding the path of a shipped model `resources/models/<name>.npz`."""
    if not name or not _NAME_RE.match(name):
        raise ValueError(f"a model name is a plain identifier, got {name!r}")
    return as_path("models", f"{name}.npz")
