"""Are digits drawn small, large, off-centre, thick, thin or dark-on-light read as well?

    .venv/bin/python benchmarks/digit_robustness.py [--mnist ../shared/data/mnist]
                                                    [--limit 10000] [--model digits_cnn]

Every real MNIST test digit is re-drawn on a 280 x 280 uint8 canvas (the pad's size and
type) under each condition, then read through the lesson's own path: core.digits.to_mnist
on the canvas, then the network (batched for speed; core.teaching.teach.read_drawing does the same
one drawing at a time). Conditions, with the digit's longer ink side H in canvas pixels:

  centred       H = 200 in the middle, light strokes on dark (as MNIST)
  small         H = 50 in the middle
  large         H = 270, filling the pad
  off-centre    H = 120 pushed into a corner (the four corners in turn)
  thick         H = 200, strokes 1.2 MNIST px wider (dilated on the canvas)
  thin          H = 200, strokes 0.8 MNIST px narrower (eroded on the canvas, but never
                below 0.6 MNIST px, so thin parts do not break: a thinner pen)
  dark-on-light H = 200, inverted: black ink on white paper (the pad's default)
  all at once   H = 80, off-centre, thick, dark-on-light

Up-scaling is bilinear, so a re-drawn digit is a smooth version of the original, as a
pen would leave it. Target (issue 4): every condition >= 98.5 % and no more than 0.5 points
below the same digits undisturbed (the 28 x 28 originals given straight to the network).

Up-scaling also widens the stroke with the digit, which a pen does not: a learner's pen has
one width whatever size they draw. The "pen" conditions therefore draw each digit's
skeleton (benchmarks/pen_strokes.py) as strokes on the drawing pad itself
(gui.widgets.drawing_pad.DrawingPad, offscreen), with the pad's thin/normal/thick pen, its
longer side the given fraction of the pad, and read the pad's recognition canvas
(DrawingPad.image()). Target (issue 15, item 13): small digits read as well as normal ones,
i.e. "pen normal, small" and "tiny" within 1 point of "pen normal, large".
`--pen-scaling off` measures the pad without its pen scaling (as it was before).
"""
import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))  # pen_strokes

import numpy as np  # noqa: E402
from scipy import ndimage  # noqa: E402

from core.augment import sample_bilinear  # noqa: E402
from core.data import load_mnist_test_idx, load_offline_digits  # noqa: E402
from core.digits import to_mnist  # noqa: E402
from core.io import load_model  # noqa: E402
from resources.paths import model_path  # noqa: E402

CANVAS = 280
CORNERS = ((0.27, 0.27), (0.27, 0.73), (0.73, 0.27), (0.73, 0.73))  # (row, col) fractions

# name: (ink size H, where (None = centre, "corner"), stroke change in MNIST px, invert)
CONDITIONS = {
    "centred": (200, None, 0.0, False),
    "small": (50, None, 0.0, False),
    "large": (270, None, 0.0, False),
    "off-centre": (120, "corner", 0.0, False),
    "thick": (200, None, +1.2, False),
    "thin": (200, None, -0.8, False),
    "dark-on-light": (200, None, 0.0, True),
    "all at once": (80, "corner", +1.2, True),
}

# name: (pen, longer side as a fraction of the pad)
PEN_CONDITIONS = {
    "pen normal, large (0.7 of the pad)": ("normal", 0.7),
    "pen normal, small (0.3)": ("normal", 0.3),
    "pen normal, tiny (0.15)": ("normal", 0.15),
    "pen thick, small (0.3)": ("thick", 0.3),
    "pen thin, large (0.7)": ("thin", 0.7),
}


def ink_boxes(x28: np.ndarray) -> np.ndarray:
    """(N, 4) row0, row1, col0, col1 (exclusive ends) of each digit's ink (> 0.05)."""
    mask = x28 > 0.05  # (N, 28, 28)
    rows, cols = mask.any(axis=2), mask.any(axis=1)
    idx = np.arange(28)
    r0 = np.where(rows, idx, 99).min(1)
    r1 = np.where(rows, idx, -1).max(1) + 1
    c0 = np.where(cols, idx, 99).min(1)
    c1 = np.where(cols, idx, -1).max(1) + 1
    return np.stack([r0, r1, c0, c1], axis=1)


def redraw(x28: np.ndarray, start: int, size: int, where, stroke: float,
           invert: bool) -> np.ndarray:
    """uint8 (N, CANVAS, CANVAS) canvases of the digits x28 (N, 28, 28) in [0, 1]."""
    n = len(x28)
    box = ink_boxes(x28).astype(np.float64)
    ink_h, ink_w = box[:, 1] - box[:, 0], box[:, 3] - box[:, 2]
    scale = size / np.maximum(ink_h, ink_w)  # canvas px per MNIST px
    src_cy = (box[:, 0] + box[:, 1]) / 2 - 0.5  # box centre, pixel-index coordinates
    src_cx = (box[:, 2] + box[:, 3]) / 2 - 0.5
    if where == "corner":
        k = (start + np.arange(n)) % len(CORNERS)
        fr = np.array(CORNERS)[k]
        dst_cy, dst_cx = fr[:, 0] * CANVAS, fr[:, 1] * CANVAS
    else:
        dst_cy = dst_cx = np.full(n, CANVAS / 2)
    grid = np.arange(CANVAS, dtype=np.float64) + 0.5 - 0.5
    rows = (grid[None, :, None] - dst_cy[:, None, None]) / scale[:, None, None] \
        + src_cy[:, None, None]  # (N, CANVAS, 1)
    cols = (grid[None, None, :] - dst_cx[:, None, None]) / scale[:, None, None] \
        + src_cx[:, None, None]  # (N, 1, CANVAS)
    rows = np.broadcast_to(rows, (n, CANVAS, CANVAS))
    cols = np.broadcast_to(cols, (n, CANVAS, CANVAS))
    canvas = sample_bilinear(x28, rows, cols)  # (N, CANVAS, CANVAS)
    if stroke:
        for i in range(n):  # distance transforms are per image
            canvas[i] = _restroke(canvas[i], stroke * scale[i] / 2, 0.3 * scale[i])
    canvas = np.rint(255 * np.clip(canvas, 0, 1)).astype(np.uint8)
    return 255 - canvas if invert else canvas


def _restroke(g: np.ndarray, r: float, min_half_width: float) -> np.ndarray:
    """Widen (r > 0) or narrow (r < 0) strokes by |r| canvas pixels on each side, with a
    one-pixel soft edge like a pen's anti-aliasing.

    Narrowing is what a thinner pen does: the same path, less wide. Plain erosion would
    also cut through the thinnest parts of a stroke (a thin pen never leaves gaps), so the
    stroke's medial axis (ridge of the distance to the paper) keeps at least
    `min_half_width` on each side.
    """
    ink = g > 0.5
    if r > 0:
        d = ndimage.distance_transform_edt(~ink)  # distance of paper to the ink
        return np.maximum(g, np.clip(r + 0.5 - d, 0, 1)).astype(np.float32)
    d = ndimage.distance_transform_edt(ink)  # distance of ink to the paper
    eroded = np.clip(d - (-r) - 0.5, 0, 1)
    ridge = ink & (d >= ndimage.maximum_filter(d, size=3))  # the stroke's middle line
    near = ndimage.distance_transform_edt(~ridge)
    line = np.clip(min_half_width + 0.5 - near, 0, 1)
    return np.minimum(g, np.maximum(eroded, line)).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mnist", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    ap.add_argument("--limit", type=int, default=10_000, help="use the first N test digits")
    ap.add_argument("--model", default="digits_cnn", choices=["digits_cnn", "digits_mlp"])
    ap.add_argument("--model-file", default=None,
                    help="score this .npz instead of the shipped model (choosing settings)")
    ap.add_argument("--digits", default="test", choices=["test", "offline-holdout"],
                    help="offline-holdout: the 1,000 offline digits that "
                         "`train_digit_models.py --holdout 1000` keeps out of training, for "
                         "choosing training settings without looking at the test set")
    ap.add_argument("--pen-scaling", default="on", choices=["on", "off"],
                    help="off: the pad draws every stroke with the chosen pen whatever the "
                         "drawing's size (before the pen scaled with the drawing)")
    ap.add_argument("--only", default="all", choices=["all", "bitmap", "pen"],
                    help="run only the up-scaled (bitmap) or only the pen conditions")
    ap.add_argument("--save-examples", default=None,
                    help="write a PNG grid of a few canvases per condition here")
    args = ap.parse_args()
    if args.digits == "offline-holdout":
        x, y = load_offline_digits()
        x, y = x[:1000], y[:1000]
        source = "held-out offline"
    else:
        if not os.path.isdir(args.mnist):
            sys.exit(f"no MNIST test set at {args.mnist}: pass --mnist FOLDER with the t10k "
                     "IDX files")
        x, y = load_mnist_test_idx(args.mnist)
        source = "MNIST test"
    x, y = x[:args.limit, ..., 0], y[:args.limit]  # (N, 28, 28), (N,)
    if args.model_file:
        model, name = load_model(args.model_file), args.model_file
    else:
        with model_path(args.model) as path:
            model, name = load_model(path), args.model
    base = float(np.mean(np.argmax(model.predict(x[..., None]), 1) == y))
    print(f"{name} on {len(y)} {source} digits re-drawn on a {CANVAS} x {CANVAS} canvas")
    print(f"{'undisturbed (28 x 28 originals)':34s} {100 * base:6.2f} %")
    chunk = 250
    examples = []
    worst = 1.0
    bitmap = CONDITIONS if args.only in ("all", "bitmap") else {}
    for name, (size, where, stroke, invert) in bitmap.items():
        t0 = time.perf_counter()
        correct = 0
        for s in range(0, len(y), chunk):
            canv = redraw(x[s:s + chunk], s, size, where, stroke, invert)
            prepared = np.stack([to_mnist(c) for c in canv])[..., None]  # (n, 28, 28, 1)
            correct += int(np.sum(np.argmax(model.predict(prepared), 1) == y[s:s + chunk]))
            if s == 0:
                examples.append(canv[:6])
        acc = correct / len(y)
        worst = min(worst, acc)
        gap = 100 * (base - acc)
        ok = acc >= 0.985 - 1e-9 and gap <= 0.5 + 1e-9  # exact ties pass
        print(f"{name:34s} {100 * acc:6.2f} %  ({gap:+.2f} pt below undisturbed)  "
              f"{'ok' if ok else 'MISSES'}   [{time.perf_counter() - t0:.0f} s]")
    if bitmap:
        print(f"target: every condition >= 98.50 % and <= 0.50 pt below {100 * base:.2f} %")
    if args.only in ("all", "pen"):
        examples += _pen_conditions(model, x, y, chunk, args.pen_scaling == "on")
    if args.save_examples:
        _save_grid(examples, args.save_examples)


def _pen_conditions(model, x, y, chunk, scaling: bool) -> list:
    """Score PEN_CONDITIONS (module docstring); returns a few canvases of each."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from gui.widgets.drawing_pad import DrawingPad
    from pen_strokes import skeletons, strokes

    app = QApplication.instance() or QApplication([])  # noqa: F841 - the pad needs one
    pad = DrawingPad()
    if not scaling:
        pad.canvas_pen_scale = lambda: 1.0
    print(f"drawn with the pad's pen (pen scaling {'on' if scaling else 'off'}):")
    examples, accs = [], {}
    for name, (pen, size) in PEN_CONDITIONS.items():
        pad.set_pen_width(pen)
        t0 = time.perf_counter()
        correct = 0
        for s in range(0, len(y), chunk):
            canv = []
            for sk in skeletons(x[s:s + chunk]):
                pad.set_strokes(strokes(sk, size))
                canv.append(pad.image())
            prepared = np.stack([to_mnist(c) for c in canv])[..., None]  # (n, 28, 28, 1)
            correct += int(np.sum(np.argmax(model.predict(prepared), 1) == y[s:s + chunk]))
            if s == 0:
                examples.append(255 - np.stack(canv[:6]))
        accs[name] = correct / len(y)
        print(f"{name:34s} {100 * accs[name]:6.2f} %   [{time.perf_counter() - t0:.0f} s]")
    large = accs["pen normal, large (0.7 of the pad)"]
    worst = min(accs["pen normal, small (0.3)"], accs["pen normal, tiny (0.15)"])
    print(f"target: small and tiny within 1.00 pt of large ({100 * large:.2f} %): "
          f"{'ok' if large - worst <= 0.01 + 1e-9 else 'MISSES'} "
          f"({100 * (large - worst):+.2f} pt)")
    return examples


def _save_grid(examples, path):
    from PySide6.QtGui import QImage

    rows = [np.concatenate(list(e), axis=1) for e in examples]
    grid = np.ascontiguousarray(np.concatenate(rows, axis=0)[::2, ::2])
    QImage(grid.data, grid.shape[1], grid.shape[0], grid.shape[1],
           QImage.Format.Format_Grayscale8).copy().save(path)
    print(f"examples: {path}")


if __name__ == "__main__":
    main()
