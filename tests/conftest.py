"""Shared test set-up: Qt offscreen, QSettings isolated per test, kernels compiled up front.

QT_QPA_PLATFORM is set before anything imports Qt, so GUI tests run headless; `setdefault`
lets a developer still run them on a real display (QT_QPA_PLATFORM=xcb pytest ...).

A first run (nothing in Numba's cache) spends most of its time compiling. When a session
runs many tests (the whole suite; not a file or two), the engine's warm-up runs first,
shared between processes: under pytest-xdist (`-n 2`) each worker takes the next step no
other worker has taken (core.fast.parallel_warmup.warm_up_claiming), then goes on with its
tests; without xdist, worker processes compile it (warm_up_parallel). Every process that
compiles into the shared cache takes Numba's index lock. BACKPROP_LAB_TEST_WARMUP=0 skips
the warm-up, =1 forces it.
"""
import os
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

SETTINGS_ORG = "Backprop Lab Tests"
SETTINGS_APP = "Backprop Lab Tests"

#: a session collecting at least this many tests warms the engine up first
WARMUP_MIN_TESTS = 150


_CLAIMS_KEY = "backprop_lab_warmup_claims"
_claims: list[str] = []  # the controller's folder for its workers' claims


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """xdist's controller, once per worker: one fresh folder the workers share claims in."""
    if not _claims:
        _claims.append(tempfile.mkdtemp(prefix="backprop-lab-test-warmup-"))
    node.workerinput[_CLAIMS_KEY] = _claims[0]


def pytest_collection_finish(session):
    from core.fast.parallel_warmup import share_numba_cache, warm_up_claiming, warm_up_parallel

    share_numba_cache()  # xdist's workers compile into one cache side by side
    wanted = os.environ.get("BACKPROP_LAB_TEST_WARMUP")
    if wanted == "0" or (wanted != "1" and len(session.items) < WARMUP_MIN_TESTS):
        return
    worker = getattr(session.config, "workerinput", None)
    if worker is None:
        if not getattr(session.config.option, "numprocesses", None):  # not xdist's controller
            warm_up_parallel()
    elif worker.get(_CLAIMS_KEY):
        warm_up_claiming(worker[_CLAIMS_KEY])


def pytest_sessionfinish(session):
    for folder in _claims:  # the controller, after its workers are done
        shutil.rmtree(folder, ignore_errors=True)


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


@pytest.fixture(autouse=True)
def training_at_full_speed():
    """Lessons train at full speed in tests: a lesson's default pace (the dashboard's 100
    updates a second, for a class to watch) would make every training test wait. A test of
    the pace itself calls `pace_control.set_default_for_all(False)` or sets a pace. Each
    test also starts without the pace choices earlier tests made."""
    try:
        from gui.widgets import pace_control
    except ImportError:  # engine-only environments: no GUI to pace
        yield
        return
    pace_control._remembered.clear()
    pace_control.set_default_for_all(None)
    yield
    pace_control.set_default_for_all(False)
    pace_control._remembered.clear()


@pytest.fixture
def shown_lesson(qtbot):
    """`shown_lesson(LessonClass, **attributes)`: a lesson as a learner meets it, 1040×640
    and shown, with `attributes` set before it is sized; each one made is shut down (its
    training and workers stopped) after the test."""
    made = []

    def make(cls, **attributes):
        lesson = cls()
        qtbot.addWidget(lesson)
        for name, value in attributes.items():
            setattr(lesson, name, value)
        lesson.resize(1040, 640)
        lesson.show()
        made.append(lesson)
        return lesson

    yield make
    for lesson in made:
        lesson.shutdown()
