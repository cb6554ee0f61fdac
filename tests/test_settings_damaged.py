"""A damaged or foreign settings file never stops the app from starting: each unreadable
value falls back to its default and the rest still apply (issue 13, item 3)."""
import pytest
from PySide6.QtCore import QSettings

from gui.main_window import MainWindow
from gui.settings import as_bool, read_bool, read_bytes, read_folder
from gui.widgets.collapsible import CollapsibleSection
from tests.conftest import SETTINGS_APP, SETTINGS_ORG


def _write_settings(folder, text: str) -> None:
    path = folder / SETTINGS_ORG / f"{SETTINGS_APP}.ini"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


DAMAGED = {
    "plain text geometry": "[mainWindow]\ngeometry=abc\n",
    "empty state": "[mainWindow]\nstate=\n",
    "empty splitter": "[mainWindow]\nsplitter=\n",
    "all three at once": "[mainWindow]\ngeometry=abc\nstate=\nsplitter=\n",
    "a list where bytes belong": "[mainWindow]\ngeometry=1, 2, 3\nstate=a, b\n",
    "a Qt size where bytes belong": "[mainWindow]\ngeometry=@Size(10 20)\n",
    "garbage bytes": "[mainWindow]\ngeometry=@ByteArray(\\x1\\x2garbage)\n"
                     "splitter=@ByteArray(nonsense)\n",
    "foreign types everywhere": "[mainWindow]\nnavigatorVisible=1, 2\nlastLesson=a, b\n"
                                "[files]\nlastModelDir=x, y\n",
    "not an ini file": "\x00\x01\x02 this is not [ a settings file\n=\n[[[\n",
}


@pytest.mark.parametrize("text", DAMAGED.values(), ids=DAMAGED.keys())
def test_the_window_starts_with_defaults_whatever_the_settings_file_holds(
        qtbot, isolated_settings, text):
    _write_settings(isolated_settings, text)
    win = MainWindow(lessons=[])
    qtbot.addWidget(win)
    win.show()
    assert win.size() == win._default_size()
    assert win.navigator.isVisible()
    assert win.navigator.currentRow() == 0
    total = sum(win.splitter.sizes())
    assert total > 0 and win.splitter.sizes()[0] < total / 2  # the lesson gets the room
    assert win._last_dir()                                   # a real folder, not "['x', 'y']"
    win.close()   # and it saves good values over the bad ones
    assert read_bytes("mainWindow/geometry") is not None


def test_a_good_value_still_applies_beside_a_damaged_one(qtbot, isolated_settings):
    _write_settings(isolated_settings, "[mainWindow]\ngeometry=abc\nnavigatorVisible=false\n")
    win = MainWindow(lessons=[])
    qtbot.addWidget(win)
    win.show()
    assert win.size() == win._default_size()
    assert not win.navigator.isVisible()


def test_readers_accept_only_their_own_type(isolated_settings):
    _write_settings(isolated_settings, "[k]\nyes=true\nno=0\nodd=perhaps\nlist=a, b\n"
                                       "text=abc\nempty=\n")
    s = QSettings()
    assert read_bool("k/yes", False, s) is True
    assert read_bool("k/no", True, s) is False
    assert read_bool("k/odd", True, s) is True and read_bool("k/odd", False, s) is False
    assert read_bool("k/list", True, s) is True
    assert read_bool("k/missing", False, s) is False
    for key in ("k/text", "k/empty", "k/list", "k/missing"):
        assert read_bytes(key, s) is None
    assert as_bool(None, True) is True and as_bool(1, False) is True


def test_a_remembered_folder_that_is_gone_falls_back_to_home(isolated_settings, tmp_path):
    QSettings().setValue("files/lastModelDir", str(tmp_path / "gone"))
    assert read_folder("files/lastModelDir") != str(tmp_path / "gone")
    QSettings().setValue("files/lastModelDir", str(tmp_path))
    assert read_folder("files/lastModelDir") == str(tmp_path)


def test_a_collapsible_section_ignores_a_foreign_value(qtbot, isolated_settings):
    _write_settings(isolated_settings, "[sections]\nhelp=perhaps\nother=a, b\n")
    for key in ("sections/help", "sections/other"):
        for default in (True, False):
            section = CollapsibleSection("Help", expanded=default, settings_key=key)
            qtbot.addWidget(section)
            assert section.is_expanded() is default
