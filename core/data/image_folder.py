"""A folder of images with one sub-folder per class, read as an image dataset.

The layout Keras's ``image_dataset_from_directory`` reads::

    my_photos/
        cats/  a.jpg b.png …
        dogs/  c.jpg …

Class names are the sub-folder names, sorted (so label 0 is the first name alphabetically,
as in Keras); images inside a class folder may sit in deeper folders. Every image becomes
an RGB uint8 array of one size, so a class without internet can train the CIFAR-10 network
on a teacher's own photos. Files Pillow cannot read are skipped and counted, never fatal.

Qt-free (Pillow reads the files); the lessons call it from a worker thread.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

__all__ = ["ImageFolder", "ImageFolderError", "ImageFolderCancelled", "MAX_IMAGES",
           "load_image_folder", "stratified_split"]

#: more images than this are not read (a class's memory and patience are finite): the
#: first ones of each class, in name order, up to a fair share each
MAX_IMAGES = 20_000


class ImageFolderError(ValueError):
    """The folder cannot be used as an image dataset; the message says why in a sentence."""


class ImageFolderCancelled(Exception):
    """The caller's `cancel` returned True: reading stopped, nothing kept."""


@dataclass
class ImageFolder:
    images: np.ndarray                 # (N, H, W, 3) uint8
    labels: np.ndarray                 # (N,) int64, index into class_names
    class_names: tuple[str, ...]
    folder: str
    #: files that were not readable images (paths relative to the folder)
    skipped: tuple[str, ...] = ()
    #: sub-folders with no readable image (left out of the classes)
    empty_classes: tuple[str, ...] = ()
    #: images left unread because the folder holds more than MAX_IMAGES
    not_read: int = 0
    counts: tuple[int, ...] = field(default=())

    def summary(self) -> str:
        """One or two sentences for the learner: what was read, what was left out."""
        n, k = len(self.labels), len(self.class_names)
        names = ", ".join(self.class_names[:6]) + (", …" if k > 6 else "")
        text = f"{n:,} images in {k} classes ({names}), resized to " \
               f"{self.images.shape[2]}×{self.images.shape[1]} pixels."
        if self.skipped:
            shown = ", ".join(Path(p).name for p in self.skipped[:3])
            more = f" and {len(self.skipped) - 3} more" if len(self.skipped) > 3 else ""
            text += (f" {len(self.skipped)} file{'s' if len(self.skipped) != 1 else ''} "
                     f"skipped (not readable images: {shown}{more}).")
        if self.empty_classes:
            text += (f" Left out, no images inside: {', '.join(self.empty_classes[:4])}"
                     f"{', …' if len(self.empty_classes) > 4 else ''}.")
        if self.not_read:
            text += f" {self.not_read:,} further images not read (limit {MAX_IMAGES:,})."
        return text


def _class_files(folder: Path) -> dict[str, list[Path]]:
    """Sub-folder name -> its files (recursively, in name order); hidden entries ignored."""
    classes = {}
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        files = []
        for root, dirs, names in os.walk(entry):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            files.extend(Path(root) / n for n in sorted(names) if not n.startswith("."))
        classes[entry.name] = files
    return classes


def _read_image(path: Path, size: tuple[int, int]) -> np.ndarray:
    """One file as (H, W, 3) uint8: centre-cropped to the target's shape, then resized."""
    from PIL import Image

    height, width = size
    with Image.open(path) as img:
        # JPEG decoders can shrink while decoding: much faster for camera photos
        img.draft("RGB", (width * 2, height * 2))
        if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
            # transparent pixels become white (as an image viewer shows them), not black
            rgba = img.convert("RGBA")
            img = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            img.alpha_composite(rgba)
        img = img.convert("RGB")
        # a centre crop keeps shapes undistorted (Keras's crop_to_aspect_ratio=True); a
        # squashed cat is a different picture
        w, h = img.size
        target = width / height
        if w / h > target:
            cw = max(1, round(h * target))
            box = ((w - cw) // 2, 0, (w - cw) // 2 + cw, h)
        else:
            ch = max(1, round(w / target))
            box = (0, (h - ch) // 2, w, (h - ch) // 2 + ch)
        img = img.crop(box)
        # shrinking: each pixel the average of the area it covers; enlarging: bilinear
        shrinking = img.size[0] >= width and img.size[1] >= height
        resample = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
        img = img.resize((width, height), resample)
        return np.asarray(img, dtype=np.uint8).copy()


def load_image_folder(folder, size: tuple[int, int] = (32, 32), *,
                      progress: Callable[[int, int], None] | None = None,
                      cancel: Callable[[], bool] | None = None,
                      max_images: int = MAX_IMAGES) -> ImageFolder:
    """Read every class sub-folder of `folder` into an ImageFolder of (H, W) = `size` RGB
    images. Raises ImageFolderError (a sentence for the learner) if the folder is missing,
    has no class sub-folders, or fewer than two classes hold a readable image."""
    path = Path(folder)
    if not path.is_dir():
        raise ImageFolderError(f"There is no folder at {path}.")
    try:
        classes = _class_files(path)
    except OSError as exc:
        raise ImageFolderError(f"The folder {path} cannot be read: {exc.strerror or exc}.")
    if not classes:
        raise ImageFolderError(
            f"{path.name or path} has no sub-folders. Put each class's images in a sub-folder "
            f"named after the class (for example cats/ and dogs/) and open the folder above "
            f"them.")
    total = sum(len(f) for f in classes.values())
    # a fair share per class when the folder is larger than the limit
    share = max(1, max_images // len(classes))
    images, labels, skipped, kept_names, counts = [], [], [], [], []
    not_read = 0
    done = 0
    for name, files in classes.items():
        if len(files) > share and total > max_images:
            not_read += len(files) - share
            done += len(files) - share
            files = files[:share]
        label = len(kept_names)
        n_before = len(images)
        for file in files:
            if cancel is not None and cancel():
                raise ImageFolderCancelled()
            try:
                images.append(_read_image(file, size))
                labels.append(label)
            except Exception:   # Pillow raises many kinds for a file that is not an image
                skipped.append(str(file.relative_to(path)))
            done += 1
            if progress is not None:
                progress(done, total)
        if len(images) > n_before:
            kept_names.append(name)
            counts.append(len(images) - n_before)
    empty = tuple(n for n in classes if n not in kept_names)
    if len(kept_names) < 2:
        found = (f"only {kept_names[0]!r} holds readable images" if kept_names
                 else "none of its sub-folders holds a readable image")
        raise ImageFolderError(
            f"{path.name or path} needs at least two class sub-folders with images to train "
            f"a classifier; {found}"
            + (f" ({len(skipped)} file{'s' if len(skipped) != 1 else ''} could not be read "
               f"as images)." if skipped else "."))
    return ImageFolder(images=np.stack(images), labels=np.asarray(labels, dtype=np.int64),
                       class_names=tuple(kept_names), folder=str(path), skipped=tuple(skipped),
                       empty_classes=empty, not_read=not_read, counts=tuple(counts))


def stratified_split(labels: np.ndarray, validation_fraction: float = 0.2,
                     seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, validation indices), shuffled: each class with two or more images
    gives about `validation_fraction` of them (at least one) to validation, so every class
    is measured; a class with one image only trains."""
    rng = np.random.default_rng(seed)
    train, val = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        k = 0 if len(idx) < 2 else max(1, int(round(validation_fraction * len(idx))))
        k = min(k, len(idx) - 1)
        val.extend(idx[:k])
        train.extend(idx[k:])
    return rng.permutation(np.asarray(train, dtype=np.int64)), \
        rng.permutation(np.asarray(val, dtype=np.int64))
