"""Shared test set-up: Qt offscreen, and QSettings isolated per test.

QT_QPA_PLATFORM is set before anything imports Qt, so GUI tests run headless; `setdefault`
lets a developer still run them on a real display (QT_QPA_PLATFORM=xcb pytest ...).
"""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

SETTINGS_ORG = "Backprop Lab Tests"
SETTINGS_APP = "Backprop Lab Tests"


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory):
    """Every test gets its own empty QSettings store (INI files in a temp folder).

    No test reads or writes the learner's real preferences, and no test sees another's
    saved window geometry or lesson state. Yields the folder (None without Qt).
    """
    try:
        from PySide6.QtCore import QCoreApplication, QSettings
    except ImportError:  # engine-only environments: nothing to isolate
        yield None
        return
    folder = tmp_path_factory.mktemp("qsettings")
    old = (QCoreApplication.organizationName(), QCoreApplication.applicationName())
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(folder))
    QCoreApplication.setOrganizationName(SETTINGS_ORG)
    QCoreApplication.setApplicationName(SETTINGS_APP)
    yield folder
    QCoreApplication.setOrganizationName(old[0])
    QCoreApplication.setApplicationName(old[1])
