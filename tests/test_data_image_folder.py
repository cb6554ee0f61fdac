"""A folder of images with one sub-folder per class opens as an image dataset (issue 15
item 7): class names from the folder names, sorted; pixels checked against plain NumPy;
unreadable files skipped and counted; clear sentences for folders that cannot be used."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.data.image_folder import (ImageFolderError, load_image_folder, stratified_split)


def solid(path, color, size=(40, 40), mode="RGB"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path)


def make_folder(root, per_class=5):
    colors = {"zebra": (250, 250, 250), "apple": (200, 20, 30), "mango": (240, 180, 20)}
    for name, color in colors.items():
        for i in range(per_class):
            solid(root / name / f"img_{i}.png", color)
    return colors


def test_class_names_sorted_labels_and_colours(tmp_path):
    colors = make_folder(tmp_path)
    data = load_image_folder(tmp_path, (32, 32))
    assert data.class_names == ("apple", "mango", "zebra")
    assert data.images.shape == (15, 32, 32, 3) and data.images.dtype == np.uint8
    assert np.bincount(data.labels).tolist() == [5, 5, 5]
    for label, name in enumerate(data.class_names):
        pixels = data.images[data.labels == label]
        assert (pixels == np.array(colors[name], np.uint8)).all()


def test_shrinking_averages_each_area_like_numpy(tmp_path):
    rng = np.random.default_rng(0)
    big = rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    (tmp_path / "a").mkdir()
    Image.fromarray(big).save(tmp_path / "a" / "x.png")
    solid(tmp_path / "b" / "y.png", (0, 0, 0))
    data = load_image_folder(tmp_path, (32, 32))
    reference = big.reshape(32, 2, 32, 2, 3).astype(np.float64).mean(axis=(1, 3))
    got = data.images[data.labels == 0][0].astype(np.float64)
    assert np.abs(got - reference).max() <= 1.0


def test_wide_photo_is_centre_cropped_grey_and_alpha_become_rgb(tmp_path):
    # a wide image: red left third, green middle, blue right third; the crop keeps the middle
    wide = np.zeros((30, 90, 3), np.uint8)
    wide[:, :30] = (255, 0, 0)
    wide[:, 30:60] = (0, 255, 0)
    wide[:, 60:] = (0, 0, 255)
    (tmp_path / "wide").mkdir()
    Image.fromarray(wide).save(tmp_path / "wide" / "w.png")
    solid(tmp_path / "grey" / "g.png", 128, mode="L")
    solid(tmp_path / "grey" / "t.png", (0, 0, 0, 0), mode="RGBA")   # fully transparent
    data = load_image_folder(tmp_path, (32, 32))
    assert data.class_names == ("grey", "wide")
    assert (data.images[data.labels == 1][0] == (0, 255, 0)).all()
    greys = data.images[data.labels == 0]
    assert (greys[0] == 128).all() and (greys[1] == 255).all()


def test_unreadable_files_are_skipped_and_counted(tmp_path):
    make_folder(tmp_path, per_class=3)
    (tmp_path / "apple" / "notes.txt").write_text("not an image")
    (tmp_path / "apple" / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    (tmp_path / "mango" / ".DS_Store").write_bytes(b"hidden")       # hidden: not counted
    data = load_image_folder(tmp_path, (32, 32))
    assert len(data.labels) == 9
    assert sorted(data.skipped) == ["apple/broken.jpg", "apple/notes.txt"]
    assert "2 files skipped" in data.summary() and "9 images in 3 classes" in data.summary()


def test_nested_folders_count_for_their_class(tmp_path):
    make_folder(tmp_path, per_class=2)
    solid(tmp_path / "apple" / "2024" / "trip" / "z.png", (200, 20, 30))
    data = load_image_folder(tmp_path, (32, 32))
    assert np.bincount(data.labels).tolist() == [3, 2, 2]


@pytest.mark.parametrize("build, words", [
    (lambda p: None, "has no sub-folders"),
    (lambda p: solid(p / "loose.png", (1, 2, 3)), "has no sub-folders"),
    (lambda p: solid(p / "cats" / "a.png", (1, 2, 3)), "at least two class sub-folders"),
    (lambda p: ((p / "cats").mkdir(), (p / "dogs").mkdir()), "none of its sub-folders"),
])
def test_unusable_folders_get_a_sentence(tmp_path, build, words):
    build(tmp_path)
    with pytest.raises(ImageFolderError, match=words) as info:
        load_image_folder(tmp_path)
    assert str(info.value).endswith(".")


def test_missing_folder(tmp_path):
    with pytest.raises(ImageFolderError, match="There is no folder"):
        load_image_folder(tmp_path / "nope")


def test_empty_class_left_out_and_named(tmp_path):
    make_folder(tmp_path, per_class=2)
    (tmp_path / "empty").mkdir()
    data = load_image_folder(tmp_path)
    assert data.class_names == ("apple", "mango", "zebra")
    assert data.empty_classes == ("empty",)
    assert "empty" in data.summary()


def test_limit_reads_a_fair_share_of_each_class(tmp_path):
    make_folder(tmp_path, per_class=4)
    data = load_image_folder(tmp_path, (8, 8), max_images=6)
    assert np.bincount(data.labels).tolist() == [2, 2, 2]
    assert data.not_read == 6


def test_stratified_split_measures_every_class():
    labels = np.repeat(np.arange(3), [10, 5, 2])
    train, val = stratified_split(labels, 0.2, seed=0)
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(17))
    assert np.bincount(labels[val], minlength=3).tolist() == [2, 1, 1]
