"""The data-augmentation lesson's numerics: random copies of an image, and training on them.

A learner sets a range per transformation (shift ±px, rotation ±°, zoom ±%, flips, elastic
wobble, stroke width) and sees several random copies of one image. The randomness is drawn
once per seed as *unit* numbers (a rotation u in [-1, 1] becomes u · range degrees), so
moving a slider rescales the same copies smoothly instead of shuffling them, and a new seed
re-rolls them all. A range of 0 leaves the image exactly as it was.

`AugmentedModel` wraps a compiled network so that every epoch of `fit` trains on a fresh
random copy of each training image: the usual way augmentation is used (Keras's
preprocessing layers do the same inside the model), and the one thing that differs between
the lesson's "with" and "without" runs.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from core import augment as A
from core.teaching.numbers import fmt

__all__ = ["Transformations", "Draws", "draw", "apply", "augment_images", "preview",
           "copy_parameters", "describe_copy", "explain_copy", "AugmentedModel", "load_cifar_preview",
           "load_folder_preview", "summarize", "summary_formula",
           "ELASTIC_SIGMA", "LIMITS"]

#: smoothing of the elastic displacement field in pixels (Simard et al. use 4 at 28x28)
ELASTIC_SIGMA = 4.0
#: the largest range each setting accepts (the lesson's sliders stop there too)
LIMITS = {"shift": 10.0, "rotation": 180.0, "zoom": 0.5, "elastic": 60.0, "stroke": 1.0}


@dataclass(frozen=True)
class Transformations:
    """Ranges of the random transformations; each copy draws uniformly inside them."""

    shift: float = 0.0  # pixels, each axis, either way
    rotation: float = 0.0  # degrees, either way
    zoom: float = 0.0  # fraction, either way: factors 1 - zoom … 1 + zoom
    horizontal_flip: bool = False  # each copy mirrored left-right with probability 1/2
    vertical_flip: bool = False  # each copy turned upside down with probability 1/2
    elastic: float = 0.0  # alpha of the elastic distortion (pixels, before smoothing)
    stroke: float = 0.0  # stroke-width blend towards thicker (+) or thinner (−), digits only
    fill: str = "constant"  # outside the image: "constant" 0 (digits) or "nearest" edge (photos)

    def __post_init__(self):
        for name, top in LIMITS.items():
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0 or value > top:
                raise ValueError(f"{name} must lie between 0 and {top:g}, got {value!r}")
        if self.fill not in A._FILLS:
            raise ValueError(f"fill must be one of {A._FILLS}, got {self.fill!r}")

    def with_(self, **changes) -> "Transformations":
        return replace(self, **changes)

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def warps(self) -> bool:
        """Whether pixels move (so the image is resampled)."""
        return bool(self.shift or self.rotation or self.zoom or self.elastic)

    def is_identity(self) -> bool:
        return not (self.warps or self.horizontal_flip or self.vertical_flip or self.stroke)

    def describe(self) -> str:
        """One line a learner reads: "shift ±2 px · rotation ±10° · …" or "none"."""
        parts = []
        if self.shift:
            parts.append(f"shift ±{self.shift:g} px")
        if self.rotation:
            parts.append(f"rotation ±{self.rotation:g}°")
        if self.zoom:
            parts.append(f"zoom ±{100 * self.zoom:g}%")
        flips = [n for n, on in (("left-right", self.horizontal_flip),
                                 ("upside-down", self.vertical_flip)) if on]
        if flips:
            parts.append(" and ".join(flips) + " flips")
        if self.elastic:
            parts.append(f"elastic α {self.elastic:g}")
        if self.stroke:
            parts.append(f"stroke width ±{self.stroke:g}")
        return " · ".join(parts) if parts else "none"

    def keras_code(self, height: int, width: int) -> str:
        """The same ranges as the Keras preprocessing layers the course uses."""
        lines = []
        if self.horizontal_flip or self.vertical_flip:
            mode = ("horizontal_and_vertical" if self.horizontal_flip and self.vertical_flip
                    else "horizontal" if self.horizontal_flip else "vertical")
            lines.append(f'layers.RandomFlip("{mode}"),')
        if self.rotation:
            # Keras's factor is a fraction of a full turn
            lines.append(f"layers.RandomRotation({self.rotation / 360:.3g}),")
        if self.zoom:
            lines.append(f"layers.RandomZoom({self.zoom:.3g}),")
        if self.shift:
            lines.append(f"layers.RandomTranslation({self.shift / height:.3g}, "
                         f"{self.shift / width:.3g}),")
        extra = [n for n, v in (("elastic distortion", self.elastic),
                                ("stroke width", self.stroke)) if v]
        body = "\n".join("    " + line for line in lines) or "    # no augmentation"
        code = f"data_augmentation = keras.Sequential([\n{body}\n])"
        if extra:
            code += f"\n# {' and '.join(extra)}: no Keras layer; this app's own (core.augment)"
        return code


@dataclass(frozen=True)
class Draws:
    """Unit random numbers for n copies, independent of the ranges they will be scaled by."""

    rotation: np.ndarray  # (N,) in [-1, 1]
    zoom: np.ndarray  # (N,) in [-1, 1]
    shift_y: np.ndarray  # (N,) in [-1, 1]
    shift_x: np.ndarray  # (N,) in [-1, 1]
    horizontal: np.ndarray  # (N,) in [0, 1): flipped when below 1/2
    vertical: np.ndarray  # (N,) in [0, 1)
    stroke: np.ndarray  # (N,) in [-1, 1]
    field: np.ndarray  # (2, N, H, W) smoothed noise, times alpha gives the elastic field

    def __len__(self) -> int:
        return len(self.rotation)


def draw(n: int, height: int, width: int, rng: np.random.Generator) -> Draws:
    """The random numbers behind n copies (always drawn in the same order)."""
    if n < 0 or height < 2 or width < 2:
        raise ValueError(f"need n ≥ 0 copies of an image at least 2x2, got {n}, "
                         f"{height}x{width}")
    u = rng.uniform(-1.0, 1.0, (5, n))  # (5, N)
    flips = rng.random((2, n))  # (2, N)
    noise = rng.uniform(-1.0, 1.0, (2, n, height, width)).astype(np.float32)  # (2, N, H, W)
    gh = A.gaussian_smoothing_matrix(height, ELASTIC_SIGMA)
    gw = A.gaussian_smoothing_matrix(width, ELASTIC_SIGMA)
    field = gh @ noise @ gw.T  # (2, N, H, W)
    return Draws(rotation=u[0], zoom=u[1], shift_y=u[2], shift_x=u[3], stroke=u[4],
                 horizontal=flips[0], vertical=flips[1], field=field)


def copy_parameters(draws: Draws, t: Transformations) -> list[dict]:
    """What each copy got, in the learner's units: rotation (°), zoom (factor), shift (px,
    down and right), flips (bool), elastic alpha, stroke-width blend."""
    out = []
    for i in range(len(draws)):
        out.append({
            "rotation": float(draws.rotation[i] * t.rotation),
            "zoom": float(1.0 + draws.zoom[i] * t.zoom),
            "shift_y": float(draws.shift_y[i] * t.shift),
            "shift_x": float(draws.shift_x[i] * t.shift),
            "horizontal_flip": bool(t.horizontal_flip and draws.horizontal[i] < 0.5),
            "vertical_flip": bool(t.vertical_flip and draws.vertical[i] < 0.5),
            "elastic": float(t.elastic),
            "stroke": float(draws.stroke[i] * t.stroke),
        })
    return out


def _fixed(v: float, decimals: int) -> str:
    """`v` to a fixed number of decimals, never "-0.0"."""
    text = f"{float(v):.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0.0 else text


def describe_copy(p: dict) -> list[str]:
    """A copy's transformation in short parts (its caption), largest effects first; each
    kind of number with its own fixed decimals, so the captions read alike."""
    parts = []
    if p["horizontal_flip"]:
        parts.append("⇄ mirrored")
    if p["vertical_flip"]:
        parts.append("⇅ upside down")
    if p["rotation"]:
        parts.append(f"↻ {_fixed(p['rotation'], 1)}°")
    if p["zoom"] != 1.0:
        parts.append(f"×{_fixed(p['zoom'], 2)}")
    if p["shift_y"] or p["shift_x"]:
        parts.append(f"↓{_fixed(p['shift_y'], 1)} →{_fixed(p['shift_x'], 1)} px")
    if p["stroke"]:
        parts.append("thicker" if p["stroke"] > 0 else "thinner")
    return parts


def explain_copy(p: dict) -> str:
    """A copy's exact transformation, one line per setting (its tooltip)."""
    lines = [f"rotation: {fmt(p['rotation'])}° (anticlockwise if positive)",
             f"zoom: × {fmt(p['zoom'])} about the centre",
             f"shift: {fmt(p['shift_y'])} px down, {fmt(p['shift_x'])} px right",
             f"mirrored left-right: {'yes' if p['horizontal_flip'] else 'no'}",
             f"upside down: {'yes' if p['vertical_flip'] else 'no'}"]
    if p["elastic"]:
        lines.append(f"elastic distortion: α = {fmt(p['elastic'])}, "
                     f"σ = {fmt(ELASTIC_SIGMA)} px")
    if p["stroke"]:
        lines.append(f"stroke width: blend {fmt(p['stroke'])} towards "
                     f"{'thicker' if p['stroke'] > 0 else 'thinner'}")
    return "\n".join(lines)


def apply(images, draws: Draws, t: Transformations) -> np.ndarray:
    """images (N, H, W) or (N, H, W, C) in [0, 1] transformed by their draws: flips, then
    one resampling for shift, rotation, zoom and the elastic field together, then stroke
    width. float32, the input's shape; an identity setting returns an exact copy."""
    shape = np.shape(images)
    x = A._as_channel_batch(images)  # (N, H, W, C)
    n, h, w, c = x.shape
    if len(draws) != n or draws.field.shape[2:] != (h, w):
        raise ValueError(f"draws are for {len(draws)} images of "
                         f"{draws.field.shape[2:]}, the images are {x.shape}")
    if t.stroke and c != 1:
        raise ValueError("stroke width changes single-channel (digit) images only")
    out = x.copy()
    if t.horizontal_flip or t.vertical_flip:
        out = A.flip_images(out, horizontal=t.horizontal_flip & (draws.horizontal < 0.5),
                            vertical=t.vertical_flip & (draws.vertical < 0.5))
    if t.warps:
        factor = 1.0 + draws.zoom * t.zoom  # (N,)
        rows, cols = A.affine_grid(h, w, draws.rotation * t.rotation, factor, factor, 0.0,
                                   draws.shift_y * t.shift, draws.shift_x * t.shift)
        if t.elastic:
            rows = rows + np.float32(t.elastic) * draws.field[0]  # (N, H, W)
            cols = cols + np.float32(t.elastic) * draws.field[1]
        out = A.warp_images(out, np.broadcast_to(rows, (n, h, w)),
                            np.broadcast_to(cols, (n, h, w)), fill=t.fill)
        np.clip(out, 0.0, 1.0, out=out)
    if t.stroke:
        out = A.change_stroke_width(out, (draws.stroke * t.stroke).astype(np.float32))
        np.clip(out, 0.0, 1.0, out=out)
    return np.ascontiguousarray(out, dtype=np.float32).reshape(shape)


def augment_images(images, rng: np.random.Generator, t: Transformations) -> np.ndarray:
    """A fresh random copy of every image (what one epoch of augmented training sees)."""
    x = A._as_channel_batch(images)
    return apply(images, draw(len(x), x.shape[1], x.shape[2], rng), t)


def preview(image, count: int, seed: int, t: Transformations) -> tuple[np.ndarray, list[dict]]:
    """`count` random copies of one image (H, W) or (H, W, C) → ((count, …), parameters).

    The same seed gives the same draws whatever the ranges, so a slider rescales the copies.
    """
    im = np.asarray(image)
    if im.ndim not in (2, 3):
        raise ValueError(f"an image is (H, W) or (H, W, C), got shape {im.shape}")
    if count < 1:
        raise ValueError(f"need at least one copy, got {count}")
    d = draw(count, im.shape[0], im.shape[1], np.random.default_rng(seed))
    batch = np.repeat(im[None], count, axis=0)  # (count, H, W[, C])
    return apply(batch, d, t), copy_parameters(d, t)


class AugmentedModel:
    """A compiled network whose `fit` shows it a fresh random copy of every training image
    in every epoch; everything else (evaluate, predict, weights, stop_training, …) is the
    wrapped model's own.

    fit's `seed` seeds both the shuffling and the copies, so a run can be repeated; the
    validation data are never augmented (they stand for the real digits to come).
    """

    def __init__(self, model, transformations: Transformations):
        object.__setattr__(self, "model", model)
        object.__setattr__(self, "transformations", transformations)

    def __getattr__(self, name):
        return getattr(self.model, name)

    def __setattr__(self, name, value):
        setattr(self.model, name, value)

    def fit(self, x, y, epochs: int = 1, seed: int | None = None, callbacks=(), **kwargs):
        from core.callbacks import History

        # the copies come from their own stream, so a one-epoch call shuffles exactly as the
        # plain network's fit with the same seed: augmentation is the only difference
        rng = np.random.default_rng(None if seed is None else [int(seed), 0xA06])
        total = History()
        for epoch in range(int(epochs)):
            if seed is None or int(epochs) == 1:
                epoch_seed = seed
            else:
                epoch_seed = int(np.random.SeedSequence([int(seed), epoch]).generate_state(1)[0])
            xa = augment_images(x, rng, self.transformations)  # (N, H, W, C), fresh each epoch
            hist = self.model.fit(xa, y, epochs=1, seed=epoch_seed, callbacks=callbacks,
                                  **kwargs)
            for _ in hist.epoch:
                total.epoch.append(len(total.epoch))
            for k, v in hist.history.items():
                total.history.setdefault(k, []).extend(v)
            total.stop_reason = hist.stop_reason
            if hist.stop_reason is not None:
                break
        return total


# --- sample photos: CIFAR-10's test images, if the learner has the archive -----------------------
CIFAR_TEST_MEMBER = "cifar-10-batches-py/test_batch"
_MAX_BATCH_BYTES = 64 * 1024 * 1024  # a real batch is 30.7 MB


def load_folder_preview(folder, count: int = 1000) -> tuple[np.ndarray, np.ndarray, tuple, str]:
    """Up to `count` photos of a folder with one sub-folder per class (a fair share of each
    class, in name order) as CIFAR-sized previews: (x float32 (N, 32, 32, 3) in [0, 1],
    y int64, class names, one-sentence summary). An unusable folder raises
    core.data.ImageFolderError with a sentence for the learner."""
    from core.data.image_folder import load_image_folder

    data = load_image_folder(folder, (32, 32), max_images=count)
    return (data.images.astype(np.float32) / np.float32(255), data.labels, data.class_names,
            data.summary())


def load_cifar_preview(archive, count: int = 200) -> tuple[np.ndarray, np.ndarray, tuple]:
    """The first `count` CIFAR-10 test images from an already downloaded
    cifar-10-python.tar.gz: (x float32 (count, 32, 32, 3) in [0, 1], y int64, class names).

    Reads only the test batch (never downloads, never extracts to disk) and decodes it with
    the data module's safe reader; a damaged or foreign file raises ValueError.
    """
    import tarfile
    import zlib
    from pathlib import Path

    from core.data.cifar import CIFAR10_CLASSES, read_cifar_batch

    path = Path(archive)
    if not path.is_file():
        raise FileNotFoundError(f"no CIFAR-10 archive at {path}")
    data = None
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            for member in tar:
                name = member.name[2:] if member.name.startswith("./") else member.name
                if name != CIFAR_TEST_MEMBER:
                    continue
                if not member.isreg() or member.size > _MAX_BATCH_BYTES:
                    raise ValueError(f"{path}: {name} is not a CIFAR batch")
                fh = tar.extractfile(member)
                data = fh.read(_MAX_BATCH_BYTES + 1) if fh is not None else b""
                if len(data) != member.size:
                    raise ValueError(f"{path}: {name} is cut short")
                break
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise ValueError(f"{path}: not a readable .tar.gz archive ({exc or type(exc).__name__})"
                         ) from exc
    if data is None:
        raise ValueError(f"{path}: not a CIFAR-10 python archive (no {CIFAR_TEST_MEMBER})")
    pixels, labels = read_cifar_batch(data, f"{path}: {CIFAR_TEST_MEMBER}")
    pixels, labels = pixels[:count], labels[:count]
    # stored as 1024 red, 1024 green, 1024 blue values per image, each row-major
    x = pixels.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype(np.float32)  # (N, 32, 32, 3)
    x *= np.float32(1.0 / 255.0)
    return np.ascontiguousarray(x), labels, CIFAR10_CLASSES


# --- comparing the two runs ---------------------------------------------------------------------
def summarize(train_accuracy, val_accuracy) -> dict:
    """The numbers that tell overfitting from one run's per-epoch accuracies.

    last_val / last_train: the final epoch's validation and training accuracy; best_val and
    best_epoch (1-based): the highest validation accuracy and when; gap = last_train −
    last_val (a network that memorises its training digits has a large gap). Values are
    None before the first epoch.
    """
    tr = np.asarray(train_accuracy, dtype=np.float64)
    va = np.asarray(val_accuracy, dtype=np.float64)
    if len(tr) != len(va):
        raise ValueError(f"{len(tr)} training but {len(va)} validation accuracies")
    if len(va) == 0 or np.all(np.isnan(va)):
        return {"epochs": len(va), "last_val": None, "best_val": None, "best_epoch": None,
                "last_train": None, "gap": None}
    best = int(np.nanargmax(va))
    return {"epochs": len(va), "last_val": float(va[-1]), "best_val": float(va[best]),
            "best_epoch": best + 1, "last_train": float(tr[-1]),
            "gap": float(tr[-1] - va[-1])}


def summary_formula(key: str, s: dict, augmented: bool, held_out: int, train_samples: int) -> str:
    """How one of `summarize`'s numbers was reached, in words and numbers (its tooltip)."""
    if key == "last_val":
        right = round(s["last_val"] * held_out)
        return (f"validation accuracy after epoch {s['epochs']} = {right} right / "
                f"{held_out:,} held-out digits")
    if key == "best_val":
        return f"highest validation accuracy, reached in epoch {s['best_epoch']}"
    if key == "last_train":
        what = "that epoch's random copies" if augmented else "the training digits"
        return (f"mean accuracy over epoch {s['epochs']}'s batches, on {what} "
                f"({train_samples:,})")
    return f"gap = {fmt(s['last_train'])} − {fmt(s['last_val'])}"
