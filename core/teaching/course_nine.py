"""The course's convolution example (Tutorial 23): a pixel-art 9 and three feature filters.

The notes draw a small 9 on a −1/+1 grid with one-pixel strokes and slide three 3×3
detectors over it — a loop (the 9's head), a vertical line (its stem) and a diagonal line
(its tail). Each detector is a ±1 pattern divided by 9, so on a ±1 image a window scores
exactly 1 only where it matches the pattern pixel for pixel: each map reaches 1 exactly
where its feature is. Combining the maps ("loop here + stem below = 9") then locates the
whole digit, the way the notes locate the koala's head.

Real MNIST strokes are several pixels thick, so the same filters never reach 1 there;
`stroke_thickness` measures how thick a digit's strokes are, and `thick_stroke_note`
says in words why the numbers change.

Qt-free: the explorer lesson only draws these arrays. Maps come from ConvSteps (the
engine's own convolution kernel) and its ReLU.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.teaching.conv_steps import FILTER_PRESETS, ConvSteps

__all__ = [
    "COURSE_FEATURES", "COURSE_NINE_ART", "Combination", "FeatureSpot", "combine_features",
    "course_nine", "feature_maps", "stroke_thickness", "thick_stroke_note",
]

#: '#' = ink (+1), '.' = background (−1); one-pixel strokes: a 3×3 loop, a stem down its
#: right side, a tail to the lower left
COURSE_NINE_ART = (
    "........",
    "..###...",
    "..#.#...",
    "..###...",
    "....#...",
    "....#...",
    "....#...",
    "....#...",
    "...#....",
    "..#.....",
    ".#......",
    "........",
)

#: the notes' three detectors, in the order a 9 is read from the top: head, stem, tail
COURSE_FEATURES = ("Loop (the 9's head)", "Vertical line (the 9's stem)",
                   "Diagonal line (the 9's tail)")
#: short names for sentences
FEATURE_WORDS = {COURSE_FEATURES[0]: "loop", COURSE_FEATURES[1]: "stem",
                 COURSE_FEATURES[2]: "tail"}


def course_nine() -> np.ndarray:
    """The notes' pixel-art 9 as a (12, 8) float32 array of −1 (background) and +1 (ink)."""
    return np.array([[1.0 if ch == "#" else -1.0 for ch in row] for row in COURSE_NINE_ART],
                    np.float32)


def feature_maps(image, names=COURSE_FEATURES) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{filter name: (feature map, after ReLU)} of each named preset over `image` (valid)."""
    out = {}
    for name in names:
        steps = ConvSteps(image, FILTER_PRESETS[name][0])
        if not steps.ok:
            raise ValueError(f"the image {np.shape(image)} is too small for a 3×3 filter")
        out[name] = (steps.output, steps.relu())
    return out


@dataclass(frozen=True)
class FeatureSpot:
    """Where one feature map is strongest: map cell (row, col) = the window whose top-left
    pixel is (row, col) of the image, centred on image pixel (row + 1, col + 1)."""

    name: str
    row: int
    col: int
    value: float
    cells: tuple[tuple[int, int], ...]   # every cell within 1 % of the peak

    @property
    def word(self) -> str:
        return FEATURE_WORDS.get(self.name, self.name)


@dataclass(frozen=True)
class Combination:
    """The course's combine step: each map's strongest spot and whether they sit where a
    9's parts sit (loop on top, stem below it, tail below the stem)."""

    spots: tuple[FeatureSpot, ...]
    relu_maps: dict
    is_nine: bool
    sentence: str


def _spot(name: str, relu: np.ndarray) -> FeatureSpot:
    peak = float(relu.max())
    r, c = np.unravel_index(int(np.argmax(relu)), relu.shape)
    cells = tuple((int(i), int(j)) for i, j in np.argwhere(relu >= 0.99 * peak)) if peak > 0 else ()
    return FeatureSpot(name, int(r), int(c), peak, cells)


def combine_features(image, names=COURSE_FEATURES) -> Combination:
    """Locate the digit from its parts: loop here + stem below it (+ tail below that) = 9.

    Each part is the strongest cell of its ReLU map; the stem counts as "below" the loop
    when its row is greater and its column within the loop's 3-pixel width (± 1 for the
    stem on the loop's side). With one feature missing (its map all 0) there is no 9.
    """
    maps = feature_maps(image, names)
    relu_maps = {name: relu for name, (_raw, relu) in maps.items()}
    spots = tuple(_spot(name, relu_maps[name]) for name in names)
    loop, stem, *rest = spots
    tail = rest[0] if rest else None

    def at(s: FeatureSpot) -> str:
        return f"{s.word} = {s.value:.3g} at image row {s.row + 1}, column {s.col + 1}"

    missing = [s.word for s in spots if s.value <= 0]
    if missing:
        return Combination(spots, relu_maps, False,
                           f"No {' or '.join(missing)} anywhere (its map is 0 after ReLU): "
                           f"these maps do not locate a 9.")
    stem_below = stem.row > loop.row and abs(stem.col - loop.col) <= 2
    tail_below = tail is None or tail.row > stem.row
    if stem_below and tail_below:
        parts = f"{at(loop)} + {at(stem)} below it"
        if tail is not None:
            parts += f" + {at(tail)} further down"
        return Combination(spots, relu_maps, True,
                           f"{parts[0].upper()}{parts[1:]}: a 9's parts in a 9's places "
                           f"→ a 9 is here.")
    why = (f"the strongest {stem.word} (row {stem.row + 1}, column {stem.col + 1}) is not "
           f"below the {loop.word} (row {loop.row + 1}, column {loop.col + 1})"
           if not stem_below else
           f"the {tail.word} (row {tail.row + 1}) is not below the stem (row {stem.row + 1})")
    return Combination(spots, relu_maps, False,
                       f"{at(loop)}, but {why}: these maps do not locate a 9 here.")


def stroke_thickness(image01, ink: float = 0.5) -> float:
    """Median stroke width in pixels of a digit with ink in [0, 1] (ink where > `ink`).

    For each ink pixel, the shorter of its horizontal and vertical ink runs: across a
    stroke, whichever way the stroke runs. 0 for an empty image.
    """
    img = np.asarray(image01, np.float64) > ink                             # (H, W) bool
    if not img.any():
        return 0.0

    def runs(mask: np.ndarray) -> np.ndarray:
        # length of the run of True each pixel belongs to, along axis 1
        out = np.zeros(mask.shape, np.int64)
        for i, row in enumerate(mask):
            j = 0
            while j < len(row):
                if row[j]:
                    k = j
                    while k < len(row) and row[k]:
                        k += 1
                    out[i, j:k] = k - j
                    j = k
                else:
                    j += 1
        return out

    across = np.minimum(runs(img), runs(img.T).T)                          # (H, W)
    return float(np.median(across[img]))


def thick_stroke_note(image01, filter_name: str, peak: float, scale: str) -> str | None:
    """Why a course detector scores below 1 on a real digit, in words with its numbers;
    None for filters that are not the course's detectors."""
    if filter_name not in COURSE_FEATURES:
        return None
    t = stroke_thickness(image01)
    kernel = FILTER_PRESETS[filter_name][0]
    n_neg = int((kernel < 0).sum())
    n_pos = int((kernel > 0).sum())
    text = (f"Why not 1 here? This digit's strokes are about {t:.0f} px thick, the course's "
            f"9 has one-pixel strokes: the filter wants −1 right beside its +1 pattern, a "
            f"thick stroke puts ink there, so the best score is {peak:.3g}.")
    if scale.startswith("−1"):
        background = (n_neg - n_pos) / 9.0
        text += (f" With pixels −1…1 an empty background scores ({n_neg} − {n_pos})/9 = "
                 f"{background:.3g}: {n_neg} weights of −1/9 on −1 pixels, {n_pos} of +1/9.")
    return text
