"""Reading preferences that may be damaged: every reader returns its default instead.

The settings file is a plain text file a learner (or another program, or a crash mid-write)
can leave in any state: `geometry=abc`, an empty `state=`, a list where a word was expected.
QSettings hands such values back as whatever type the text parses to, and Qt's restore
functions raise TypeError on the wrong type, so one bad line would stop the app from
starting on every launch. These readers accept only the type they expect.
"""
from __future__ import annotations

import os

from PySide6.QtCore import QByteArray, QSettings

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _value(key: str, settings: QSettings | None = None):
    try:
        return (settings or QSettings()).value(key)
    except Exception:  # noqa: BLE001 - a value Qt itself cannot convert counts as absent
        return None


def read_bytes(key: str, settings: QSettings | None = None) -> QByteArray | None:
    """A saved geometry/state blob, or None when missing, empty or of another type."""
    value = _value(key, settings)
    if isinstance(value, (bytes, bytearray)):
        value = QByteArray(bytes(value))
    if not isinstance(value, QByteArray) or value.isEmpty():
        return None
    return value


def read_bool(key: str, default: bool, settings: QSettings | None = None) -> bool:
    """True/False as saved; anything not clearly one of them gives `default`."""
    return as_bool(_value(key, settings), default)


def as_bool(value, default: bool) -> bool:
    # the INI backend hands booleans back as the strings "true"/"false"
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    return default


def read_text(key: str, default: str = "", settings: QSettings | None = None) -> str:
    value = _value(key, settings)
    return value if isinstance(value, str) else default


def read_folder(key: str, settings: QSettings | None = None) -> str:
    """A remembered folder if it still exists, else the home folder."""
    folder = read_text(key, "", settings)
    return folder if folder and os.path.isdir(folder) else os.path.expanduser("~")


def use_private_settings(folder: str | os.PathLike,
                         organization: str = "Backprop Lab (private)") -> None:
    """Keep this process's preferences in INI files under `folder`, under its own
    organization name: for benchmarks and tools that open the real window, whose closing
    would otherwise overwrite the learner's saved window layout and lesson."""
    from PySide6.QtCore import QCoreApplication

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, os.fspath(folder))
    QCoreApplication.setOrganizationName(organization)
