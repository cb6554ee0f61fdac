"""CIFAR-10 lesson: download from a loopback server (tiny archive built here), train, per-class
accuracy and the labelled image grid; offline, corrupt, wrong-checksum and cancelled
downloads each end in a clear message and leave nothing behind."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PySide6.QtCore import Qt

from cifar_fixtures import (LoopbackServer, free_port_url, make_corrupt_archive,
                            make_tiny_cifar)
from gui.lessons.cifar import CifarLesson

TIMEOUT = 15000


@pytest.fixture
def lesson(qtbot, tmp_path):
    w = CifarLesson()
    qtbot.addWidget(w)
    w.cache_dir = tmp_path / "cache"
    w._show_data_state()
    yield w
    w.shutdown()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_cifar(tmp_path_factory.mktemp("cifar") / "cifar-10-python.tar.gz")


def _wait_loaded(qtbot, lesson):
    qtbot.waitUntil(lambda: not lesson.is_loading(), timeout=TIMEOUT)


def test_download_train_and_results_end_to_end(qtbot, lesson, tiny):
    assert not lesson.train_button.isEnabled()            # nothing to train on yet
    with LoopbackServer() as srv:
        srv.routes["/cifar-10-python.tar.gz"] = ("ok", tiny["bytes"])
        lesson.url = srv.url + "/cifar-10-python.tar.gz"
        lesson.sha256 = tiny["sha256"]
        qtbot.mouseClick(lesson.download_button, Qt.MouseButton.LeftButton)
        _wait_loaded(qtbot, lesson)
    assert lesson.data is not None, lesson.data_message()
    assert "100 training and 40 test images" in lesson.data_message().replace(",", "")
    # the cache holds exactly the verified archive
    cached = lesson.cache_folder() / "cifar-10-python.tar.gz"
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == tiny["sha256"]
    np.testing.assert_array_equal(lesson.data["x_train"], tiny["x_train"])

    lesson.size_spin.setValue(100)
    lesson.epochs_spin.setValue(1)
    assert lesson.train_button.isEnabled()
    qtbot.mouseClick(lesson.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not lesson.is_training(), timeout=TIMEOUT)
    assert lesson.status.progress.value() == lesson.status.progress.maximum() > 0

    # per-class accuracy = share of each class's test images predicted right (NumPy here)
    probs = lesson.model.predict(tiny["x_test"].astype(np.float32) / 255)
    pred = probs.argmax(axis=1)
    y = tiny["y_test"]
    expected = [float(np.mean(pred[y == c] == c)) for c in range(10)]
    np.testing.assert_allclose(lesson.class_accuracy(), expected)
    texts = lesson.bar_texts()
    for c in range(10):
        assert texts[c].endswith(f"({int(np.sum(pred[y == c] == c))}/{int(np.sum(y == c))})")
    # the grid: labels are words, right/wrong says so in text, not only in colour
    grid = lesson.grid
    assert grid.count() == 12
    for i in range(grid.count()):
        line1, line2 = grid.caption(i)
        p, t = lesson.data["names"][pred[i]], lesson.data["names"][y[i]]
        if p == t:
            assert line1 == f"✓ {p}"
        else:
            assert line1 == f"✗ {p}" and line2 == f"true: {t}"
    qtbot.mouseClick(lesson.more_button, Qt.MouseButton.LeftButton)
    assert "Test images 13–24" in lesson.grid_caption.text()


def test_local_archive_is_read_without_network(qtbot, lesson, tiny, tmp_path):
    path = tmp_path / "mine.tar.gz"
    path.write_bytes(tiny["bytes"])
    lesson.sha256 = tiny["sha256"]
    lesson.open_archive(str(path))
    _wait_loaded(qtbot, lesson)
    assert lesson.data is not None and lesson.train_button.isEnabled()


def test_offline_download_says_so_and_offers_the_archive(qtbot, lesson, tiny):
    lesson.url = free_port_url()
    lesson.sha256 = tiny["sha256"]
    lesson.download()
    _wait_loaded(qtbot, lesson)
    msg = lesson.data_message()
    assert lesson.data is None
    assert "could not reach 127.0.0.1" in msg and "Open archive" in msg
    assert lesson.open_button.isEnabled() and not lesson.train_button.isEnabled()
    assert not lesson.cache_folder().exists() or not any(lesson.cache_folder().iterdir())


def test_corrupt_archive_fails_clearly(qtbot, lesson, tmp_path):
    bad = tmp_path / "cifar-10-python.tar.gz"
    body = make_corrupt_archive(bad)
    # served with its own checksum, so the download succeeds and the reading must fail
    with LoopbackServer() as srv:
        srv.routes["/c.tar.gz"] = ("ok", body)
        lesson.url = srv.url + "/c.tar.gz"
        lesson.sha256 = hashlib.sha256(body).hexdigest()
        lesson.download()
        _wait_loaded(qtbot, lesson)
    msg = lesson.data_message()
    assert lesson.data is None
    assert msg.startswith("✗ That file is not a usable CIFAR-10 archive")
    assert "not a readable .tar.gz" in msg
    # the same file opened locally
    lesson.sha256 = None
    lesson.open_archive(str(bad))
    _wait_loaded(qtbot, lesson)
    assert "not a usable CIFAR-10 archive" in lesson.data_message()


def test_wrong_checksum_is_reported_and_not_cached(qtbot, lesson, tiny):
    with LoopbackServer() as srv:
        srv.routes["/c.tar.gz"] = ("ok", tiny["bytes"])
        lesson.url = srv.url + "/c.tar.gz"
        lesson.sha256 = "0" * 64
        lesson.download()
        _wait_loaded(qtbot, lesson)
    assert "damaged or not CIFAR-10" in lesson.data_message()
    assert not (lesson.cache_folder() / "cifar-10-python.tar.gz").exists()


def test_cancel_mid_download_keeps_nothing(qtbot, lesson, tiny):
    with LoopbackServer() as srv:
        srv.routes["/slow.tar.gz"] = ("gated", tiny["bytes"])
        lesson.url = srv.url + "/slow.tar.gz"
        lesson.sha256 = tiny["sha256"]
        lesson.download()
        # the first part has arrived: the bar shows it, Cancel is offered
        qtbot.waitUntil(lambda: lesson.download_bar.value() > 0, timeout=TIMEOUT)
        assert lesson.cancel_button.isEnabled()
        assert "Downloading" in lesson.data_message()
        qtbot.mouseClick(lesson.cancel_button, Qt.MouseButton.LeftButton)
        srv.gate.set()
        _wait_loaded(qtbot, lesson)
    assert lesson.data is None
    assert "cancelled" in lesson.data_message()
    folder = lesson.cache_folder()
    assert not folder.exists() or not any(folder.iterdir())
    assert lesson.download_button.isEnabled() and not lesson.cancel_button.isEnabled()


def test_cancel_takes_effect_within_a_second_while_the_server_stalls(qtbot, lesson, tiny):
    import time

    with LoopbackServer() as srv:
        srv.routes["/stalled.tar.gz"] = ("gated", tiny["bytes"])   # the gate never opens
        lesson.url = srv.url + "/stalled.tar.gz"
        lesson.sha256 = tiny["sha256"]
        lesson.download()
        qtbot.waitUntil(lambda: lesson.download_bar.value() > 0, timeout=TIMEOUT)
        clicked = time.monotonic()
        qtbot.mouseClick(lesson.cancel_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not lesson.is_loading(), timeout=TIMEOUT)
        took = time.monotonic() - clicked
    assert took < 1.0, f"the download ended {took:.1f} s after Cancel"
    assert "cancelled" in lesson.data_message()
    folder = lesson.cache_folder()
    assert not folder.exists() or not any(folder.iterdir())   # no partial file either


def _photo_folder(root, per_class=12):
    """Three classes of generated photos whose colours tell them apart."""
    from PIL import Image

    rng = np.random.default_rng(1)
    colors = {"red things": (220, 30, 30), "blue things": (30, 40, 220),
              "green things": (30, 200, 60)}
    for name, color in colors.items():
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            noise = rng.integers(-25, 26, size=(48, 64, 3))
            img = np.clip(np.array(color) + noise, 0, 255).astype(np.uint8)
            Image.fromarray(img).save(root / name / f"{i}.png")
    (root / "red things" / "readme.txt").write_text("not a photo")
    return root


def test_own_image_folder_trains_offline_with_its_folder_names(qtbot, lesson, tmp_path):
    """Issue 15 item 7: offline, a folder of class sub-folders opens in CIFAR-10's place;
    Train is enabled and the class names on screen are the folder names."""
    folder = _photo_folder(tmp_path / "my photos")
    assert lesson.folder_button.isEnabled() and not lesson.train_button.isEnabled()
    lesson.open_image_folder(str(folder))
    _wait_loaded(qtbot, lesson)
    message = lesson.data_message()
    assert lesson.data is not None, message
    assert "36 images in 3 classes (blue things, green things, red things)" in message
    assert "1 file skipped" in message and "readme.txt" in message
    assert lesson.train_button.isEnabled()
    ticks = lesson.class_plot.getPlotItem().getAxis("left")._tickLevels[0]
    assert [name for _, name in ticks] == ["blue things", "green things", "red things"]

    lesson.epochs_spin.setValue(2)
    qtbot.mouseClick(lesson.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not lesson.is_training(), timeout=TIMEOUT)
    assert lesson.model.layers[-1].units == 3
    # accuracy on screen is a percentage (issue 15 item 10), not "val. accuracy 1"
    import re
    assert re.search(r"val\. accuracy \d+(\.\d+)? %$", lesson.status.label.text())
    texts = lesson.bar_texts()
    assert len(texts) == 3 and all(t.endswith("/2)") for t in texts)   # a fifth of 12 a class
    assert "Chance would be 33.3" in lesson.class_caption.text()
    captions = [lesson.grid.caption(i)[0] for i in range(lesson.grid.count())]
    assert captions and all(c[2:] in ("blue things", "green things", "red things")
                            for c in captions)


def test_folder_that_cannot_train_says_why(qtbot, lesson, tmp_path):
    (tmp_path / "only_cats").mkdir()
    from PIL import Image

    Image.new("RGB", (8, 8), (1, 2, 3)).save(tmp_path / "only_cats" / "a.png")
    lesson.open_image_folder(str(tmp_path))
    _wait_loaded(qtbot, lesson)
    assert lesson.data is None and not lesson.train_button.isEnabled()
    assert "at least two class sub-folders" in lesson.data_message()
    assert "Traceback" not in lesson.data_message()


def test_file_menu_opens_an_image_folder_in_the_cifar_lesson(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from gui.main_window import MainWindow

    folder = _photo_folder(tmp_path / "class photos", per_class=3)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *a, **k: str(folder)))
    win = MainWindow(lessons=[CifarLesson])
    qtbot.addWidget(win)
    win.show()
    assert win.image_folder_action in win.menuBar().actions()[0].menu().actions()
    win.image_folder_action.trigger()
    lesson = win.current_lesson()
    assert isinstance(lesson, CifarLesson)
    _wait_loaded(qtbot, lesson)
    assert lesson.data is not None and lesson.data["names"] == (
        "blue things", "green things", "red things")
    assert lesson.train_button.isEnabled()
    win.close()
