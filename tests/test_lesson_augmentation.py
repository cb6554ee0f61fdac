"""Data augmentation lesson: previews that follow the sliders, flips, CIFAR photos from a
downloaded archive (never a download), and the with/without training comparison."""
import re

import numpy as np
import pytest
from PySide6.QtCore import Qt
from scipy import ndimage

from gui.lessons.augmentation import COPIES, VALIDATION_FROM, AugmentationLesson
from gui.widgets.numbers import fmt
from test_augment_preview import _tiny_cifar


@pytest.fixture
def lesson(qtbot, tmp_path):
    w = AugmentationLesson()
    w.cifar_cache_dir = tmp_path / "cifar10"  # empty: the learner has not downloaded CIFAR-10
    qtbot.addWidget(w)
    w.resize(1040, 720)
    w.show()
    qtbot.waitUntil(lambda: w.digits is not None, timeout=20_000)  # read in a worker
    yield w
    w.shutdown()
    assert not w.running_workers()


def _copies(lesson):
    return [lesson.grid.image(i).copy() for i in range(1, lesson.grid.count())]


def test_preview_follows_sliders_and_reroll_and_zero_ranges_give_the_original(lesson, qtbot):
    assert lesson.grid.count() == 1 + COPIES
    original = lesson.grid.image(0)
    x, y = lesson.digits
    np.testing.assert_array_equal(original, x[lesson.index_spin.value()])
    assert lesson.grid.caption(0) == "a 2" and y[lesson.index_spin.value()] == 2
    before = _copies(lesson)
    assert all(not np.array_equal(c, original) for c in before)

    slider = lesson.sliders["rotation"]
    slider.setFocus()
    with qtbot.waitSignal(lesson.preview_changed, timeout=2000):
        qtbot.keyClick(slider, Qt.Key.Key_PageUp)  # ±10° → ±20°
    assert lesson.value_labels["rotation"].text() == "±20°"
    after = _copies(lesson)
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))

    seed = lesson.seed_spin.value()
    qtbot.mouseClick(lesson.reroll_button, Qt.MouseButton.LeftButton)
    assert lesson.seed_spin.value() == seed + 1
    rerolled = _copies(lesson)
    assert all(not np.array_equal(a, b) for a, b in zip(after, rerolled))

    qtbot.mouseClick(lesson.preset_buttons["none"], Qt.MouseButton.LeftButton)
    assert lesson.sliders["rotation"].value() == 0
    for i, c in enumerate(_copies(lesson), start=1):
        np.testing.assert_array_equal(c, original)
        assert lesson.grid.caption(i) == "unchanged"


def test_a_rotated_copy_is_the_original_turned_by_the_angle_it_shows(lesson, qtbot):
    qtbot.mouseClick(lesson.preset_buttons["none"], Qt.MouseButton.LeftButton)
    lesson.set_range("rotation", 30)
    original = lesson.grid.image(0)[..., 0].astype(np.float64)
    assert lesson.grid.index_at(lesson.grid.cell_rect(2).center()) == 2  # what hovering shows
    for i in range(1, 4):
        angle = float(re.search(r"rotation: (-?[\d.]+)°", lesson.grid.tooltip(i)).group(1))
        assert abs(angle) <= 30
        ref = ndimage.rotate(original, angle, reshape=False, order=1, mode="grid-constant")
        # the tooltip's angle has 4 significant digits: a few thousandths of a degree off
        np.testing.assert_allclose(lesson.grid.image(i)[..., 0], np.clip(ref, 0, 1), atol=2e-3)


def test_flipped_copies_are_mirror_images_and_digits_warn(lesson, qtbot):
    qtbot.mouseClick(lesson.preset_buttons["none"], Qt.MouseButton.LeftButton)
    assert "Flips are off" in lesson.flip_label.text()
    qtbot.mouseClick(lesson.hflip_check, Qt.MouseButton.LeftButton)
    assert lesson.hflip_check.isChecked()
    original = lesson.grid.image(0)
    flipped = 0
    for i, c in enumerate(_copies(lesson), start=1):
        if "mirrored" in lesson.grid.caption(i):
            np.testing.assert_array_equal(c, np.fliplr(original))
            flipped += 1
        else:
            np.testing.assert_array_equal(c, original)
    assert 0 < flipped < COPIES
    assert "a mirrored 2 is not a 2" in lesson.flip_label.text()
    assert "left-right flips" in lesson.with_label.text()  # the "with" run would use them


def test_cifar_needs_a_downloaded_archive_and_never_downloads(lesson, qtbot):
    lesson.source_combo.setCurrentIndex(1)
    assert lesson.source() == "digits" and lesson.source_combo.currentIndex() == 0
    assert "not downloaded" in lesson.image_label.text()
    assert not lesson.running_workers()
    assert not lesson.cifar_cache_dir.exists()


def test_cifar_photos_preview_in_colour_and_flips_are_fine(lesson, qtbot):
    lesson.cifar_cache_dir.mkdir()
    images, labels = _tiny_cifar(lesson.cifar_cache_dir / "cifar-10-python.tar.gz", n_test=20)
    lesson.source_combo.setCurrentIndex(1)
    qtbot.waitUntil(lambda: lesson.source() == "cifar", timeout=10000)
    i = lesson.index_spin.value()
    assert labels[i] == 7  # the first horse
    np.testing.assert_allclose(lesson.grid.image(0), images[i] / 255.0, atol=1e-7)
    assert lesson.grid.caption(0) == "horse"
    assert not lesson.sliders["stroke"].isEnabled() and lesson.legend.isHidden()
    qtbot.mouseClick(lesson.preset_buttons["photos"], Qt.MouseButton.LeftButton)
    assert lesson.grid.image(1).shape == (32, 32, 3)
    assert "mirrored horse" in lesson.flip_label.text()
    qtbot.mouseClick(lesson.preset_buttons["none"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(lesson.hflip_check, Qt.MouseButton.LeftButton)
    for k, c in enumerate(_copies(lesson), start=1):
        ref = np.fliplr(lesson.grid.image(0)) if "mirrored" in lesson.grid.caption(k) \
            else lesson.grid.image(0)
        np.testing.assert_array_equal(c, ref)


def _quick_settings(lesson, epochs):
    lesson.size_combo.setCurrentIndex(0)  # 250 digits
    lesson.epochs_spin.setValue(epochs)
    lesson.network_combo.setCurrentIndex(0)  # dense


def test_training_with_and_without_fills_both_results(lesson, qtbot):
    _quick_settings(lesson, 1)
    qtbot.mouseClick(lesson.train_button, Qt.MouseButton.LeftButton)
    assert lesson.is_training() and not lesson.train_button.isEnabled()
    qtbot.waitUntil(lambda: not lesson.is_training(), timeout=60000)
    assert {r.status for r in lesson.runs.values()} == {"finished"}
    x, y = lesson.digits
    xv, yv = x[VALIDATION_FROM:], y[VALIDATION_FROM:]
    vals = {}
    for key, task in zip(("without", "with"), lesson.session.tasks):
        run = lesson.runs[key]
        assert len(run.epochs) == 1
        val = run.epochs.last("val_accuracy")
        # the number shown is the network's accuracy on the held-out digits (NumPy argmax)
        assert val == pytest.approx(np.mean(task.model.predict(xv).argmax(1) == yv), abs=1e-6)
        assert lesson.numbers[("last_val", key)].text() == fmt(val)
        assert lesson.numbers[("last_train", key)].text() == fmt(run.epochs.last("accuracy"))
        vals[key] = val
    d = vals["with"] - vals["without"]
    assert lesson.numbers[("last_val", "diff")].text() == ("+" if d > 0 else "") + fmt(d)
    assert fmt(vals["with"]) in lesson.verdict_label.text()
    assert fmt(vals["without"]) in lesson.verdict_label.text()
    assert lesson.plot.curve_data(lesson.runs["with"].id, "accuracy", "val")[1].size == 1
    assert lesson.train_button.isEnabled()
    # a second press compares afresh: the old pair of runs goes
    qtbot.mouseClick(lesson.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not lesson.is_training(), timeout=60000)
    assert len(lesson.store) == 2 and len(lesson.plot.runs()) == 2
    assert {r.status for r in lesson.runs.values()} == {"finished"}


def test_leaving_the_lesson_stops_training(lesson, qtbot):
    _quick_settings(lesson, 200)
    assert lesson.start_training()
    run = lesson.runs["with"]
    qtbot.waitUntil(lambda: len(run.batches) > 0, timeout=30000)
    lesson.deactivate()
    assert not lesson.is_training() and not lesson.running_workers()
    assert {r.status for r in lesson.runs.values()} == {"stopped"}
    assert all(len(r.epochs) < 200 for r in lesson.runs.values())
    assert lesson.train_button.isEnabled() and not lesson.stop_button.isEnabled()


def test_training_needs_some_augmentation(lesson, qtbot):
    qtbot.mouseClick(lesson.preset_buttons["none"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(lesson.train_button, Qt.MouseButton.LeftButton)
    assert not lesson.is_training()
    assert "Every range is zero" in lesson.verdict_label.text()


def test_own_image_folder_previews_with_its_folder_names(lesson, qtbot, tmp_path):
    """Issue 15 item 7: a folder with one sub-folder per class previews like CIFAR-10's
    photos, each image named by its folder."""
    from PIL import Image

    rng = np.random.default_rng(3)
    photos = {}
    for name in ("koalas", "tulips"):
        (tmp_path / "mine" / name).mkdir(parents=True)
        for i in range(3):
            img = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
            Image.fromarray(img).save(tmp_path / "mine" / name / f"{i}.png")
            photos.setdefault(name, []).append(img)
    lesson.open_image_folder(str(tmp_path / "mine"))
    qtbot.waitUntil(lambda: lesson.source() == "folder", timeout=10000)
    assert lesson.source_combo.currentData() == "folder"
    assert lesson.grid.caption(0) == "koalas"
    np.testing.assert_allclose(lesson.grid.image(0), photos["koalas"][0] / 255.0, atol=1e-6)
    lesson.index_spin.setValue(5)
    assert lesson.grid.caption(0) == "tulips"
    assert "6 images in 2 classes (koalas, tulips)" in lesson.image_label.text()
    assert not lesson.sliders["stroke"].isEnabled() and lesson.legend.isHidden()   # photos


def test_unusable_image_folder_says_why_and_keeps_the_digits(lesson, qtbot, tmp_path):
    (tmp_path / "empty").mkdir()
    lesson.open_image_folder(str(tmp_path / "empty"))
    qtbot.waitUntil(lambda: not lesson.running_workers(), timeout=10000)
    assert lesson.source() == "digits" and lesson.source_combo.currentData() == "digits"
    assert "has no sub-folders" in lesson.image_label.text()
    assert lesson.grid.count() == 1 + COPIES


def test_captions_show_long_class_names_whole_with_fixed_decimals(lesson, qtbot, tmp_path):
    """Issue 15 item 10: augmentation captions are not cut ("a very long class nam…") and
    each kind of number has its own fixed decimals."""
    from PIL import Image

    for name in ("a rather long class name here", "b"):
        (tmp_path / "f" / name).mkdir(parents=True)
        Image.new("RGB", (32, 32), (200, 100, 50)).save(tmp_path / "f" / name / "x.png")
    lesson.resize(1280, 800)
    lesson.open_image_folder(str(tmp_path / "f"))
    qtbot.waitUntil(lambda: lesson.source() == "folder", timeout=10000)
    lesson.apply_preset("photos")
    lines = lesson.grid.shown_lines(0)
    assert " ".join(lines[1:]) == "a rather long class name here"
    assert not any(line.endswith("…") for line in lines)
    for i in range(1, lesson.grid.count()):
        caption = lesson.grid.caption(i)
        assert re.search(r"↻ -?\d+\.\d°", caption), caption
        assert re.search(r"×\d\.\d\d", caption), caption
        assert re.search(r"↓-?\d+\.\d →-?\d+\.\d px", caption), caption
        assert "-0.0" not in caption
