"""Seeded 2-D classification datasets for the network playground.

Every set lives in the same square of the plane, ``[-EXTENT, EXTENT]²``, so one heat map
can show any of them and one set of network defaults trains on all of them. Two classes,
labels 0 and 1 (int64), coordinates float32 ``(N, 2)``.

- ``insurance``: the course's insurance buyers (``load_insurance``) with age on the
  horizontal axis and affordability (0 or 1) on the vertical one, both scaled into the
  square. Labels are whether the person bought insurance.
- ``xor``: points in the four quadrants; class 1 where x₁ and x₂ have the same sign.
- ``circles``: class 1 inside a disc of radius 0.5·EXTENT, class 0 in a ring from 0.7 to
  1.0·EXTENT around it.
- ``spiral``: two interleaved arms, one per class.

``noise`` (0 … 0.5) moves each point by Gaussian jitter of standard deviation
``noise · EXTENT``; a point keeps the class it was generated with, so noisy classes
overlap and no boundary separates them perfectly. Same arguments, same data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .synthetic import load_insurance

__all__ = [
    "PLANAR_DATASETS",
    "PLANAR_EXTENT",
    "PlanarDataset",
    "load_planar",
    "make_circles",
    "make_insurance_2d",
    "make_spiral",
    "make_xor",
]

#: half-width of the square every planar dataset lives in
PLANAR_EXTENT = 3.0
#: dataset names, in the order a menu lists them
PLANAR_DATASETS = ("circles", "xor", "spiral", "insurance")
MAX_NOISE = 0.5

# inner disc and outer ring of `circles`, as fractions of the extent
CIRCLE_INNER = 0.5
CIRCLE_RING = (0.7, 1.0)
# `xor` keeps points this far (fraction of the extent) from the axes before jitter, so the
# noise-free quadrants are cleanly separated
XOR_GAP = 0.06
SPIRAL_TURNS = 1.75


@dataclass
class PlanarDataset:
    """x float32 (N, 2), y int64 (N,) in {0, 1}, and how to label the plane."""

    name: str
    x: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, str]
    class_names: tuple[str, str]
    description: str
    noise: float
    seed: int
    extent: float = PLANAR_EXTENT

    def __post_init__(self):
        self.x = np.ascontiguousarray(self.x, dtype=np.float32)
        self.y = np.ascontiguousarray(self.y, dtype=np.int64)
        if self.x.ndim != 2 or self.x.shape[1] != 2 or self.y.shape != (len(self.x),):
            raise ValueError(f"x must be (N, 2) and y (N,), got {self.x.shape} and {self.y.shape}")

    def __len__(self) -> int:
        return len(self.y)


def _check(n: int, noise: float, minimum: int = 2) -> tuple[int, float]:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise ValueError(f"n must be an integer ≥ {minimum}, got {n!r}")
    try:
        noise = float(noise)
    except (TypeError, ValueError):
        raise ValueError(f"noise must be a number, got {noise!r}") from None
    if not 0.0 <= noise <= MAX_NOISE:
        raise ValueError(f"noise must be between 0 and {MAX_NOISE}, got {noise}")
    return int(n), noise


def _jitter(rng: np.random.Generator, x: np.ndarray, noise: float) -> np.ndarray:
    # drawn even at noise 0 so the points themselves do not depend on the noise level:
    # sliding the noise up moves the same points further, it does not reshuffle them
    step = rng.normal(0.0, 1.0, size=x.shape)                               # (N, 2)
    return x + noise * PLANAR_EXTENT * step


def make_xor(n: int = 300, noise: float = 0.0, seed: int = 0) -> PlanarDataset:
    """Uniform points in the four quadrants; y = 1 where x₁·x₂ > 0 (same sign)."""
    n, noise = _check(n, noise)
    rng = np.random.default_rng(seed)
    gap = XOR_GAP * PLANAR_EXTENT
    mag = rng.uniform(gap, PLANAR_EXTENT, size=(n, 2))                      # (N, 2)
    sign = np.where(rng.random((n, 2)) < 0.5, -1.0, 1.0)                    # (N, 2)
    clean = mag * sign
    y = (sign[:, 0] == sign[:, 1]).astype(np.int64)
    return PlanarDataset(
        "xor", _jitter(rng, clean, noise), y, ("x₁", "x₂"), ("opposite signs", "same sign"),
        "XOR: class 1 where x₁ and x₂ have the same sign. No single straight line separates "
        "it; one hidden layer of two or more neurons can.", noise, seed)


def make_circles(n: int = 300, noise: float = 0.0, seed: int = 0) -> PlanarDataset:
    """Half the points in a disc (y = 1), half in a ring around it (y = 0)."""
    n, noise = _check(n, noise)
    rng = np.random.default_rng(seed)
    n_in = n // 2
    n_out = n - n_in
    # radius ∝ sqrt(uniform) spreads points evenly over the area
    r_in = CIRCLE_INNER * PLANAR_EXTENT * np.sqrt(rng.random(n_in))
    lo, hi = CIRCLE_RING[0] ** 2, CIRCLE_RING[1] ** 2
    r_out = PLANAR_EXTENT * np.sqrt(rng.uniform(lo, hi, size=n_out))
    r = np.concatenate([r_in, r_out])                                        # (N,)
    angle = rng.uniform(0.0, 2.0 * np.pi, size=n)                            # (N,)
    clean = np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)         # (N, 2)
    y = np.concatenate([np.ones(n_in, np.int64), np.zeros(n_out, np.int64)])
    order = rng.permutation(n)
    return PlanarDataset(
        "circles", _jitter(rng, clean[order], noise), y[order], ("x₁", "x₂"),
        ("outer ring", "inner disc"),
        "Circles: class 1 in a disc, class 0 in a ring around it. A closed boundary is "
        "needed: at least three hidden neurons.", noise, seed)


def make_spiral(n: int = 300, noise: float = 0.0, seed: int = 0) -> PlanarDataset:
    """Two spiral arms of SPIRAL_TURNS turns, half a turn apart; arm 1 is class 1."""
    n, noise = _check(n, noise)
    rng = np.random.default_rng(seed)
    n1 = n // 2
    n0 = n - n1
    parts = []
    for count, phase, label in ((n0, 0.0, 0), (n1, np.pi, 1)):
        s = rng.random(count)                                                # (k,) along the arm
        r = 0.05 * PLANAR_EXTENT + 0.95 * PLANAR_EXTENT * s
        t = SPIRAL_TURNS * 2.0 * np.pi * s + phase
        pts = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)               # (k, 2)
        parts.append((pts, np.full(count, label, np.int64)))
    clean = np.concatenate([p for p, _ in parts])
    y = np.concatenate([lab for _, lab in parts])
    order = rng.permutation(n)
    return PlanarDataset(
        "spiral", _jitter(rng, clean[order], noise), y[order], ("x₁", "x₂"),
        ("arm 0", "arm 1"),
        "Spiral: two interleaved arms. The hardest set here: it needs several layers of "
        "neurons and many epochs.", noise, seed)


#: fraction of the extent the affordability bands are spread over, so that people of the
#: same age and affordability do not hide one another
INSURANCE_BAND = 0.15


def make_insurance_2d(n: int = 300, noise: float = 0.0, seed: int = 0) -> PlanarDataset:
    """The insurance buyers (``load_insurance(n, seed)``) placed in the square.

    x₁ = age scaled from 18…70 onto −0.9…0.9·EXTENT; x₂ = affordability 0/1 at
    ∓0.5·EXTENT, spread ±INSURANCE_BAND·EXTENT. y = bought insurance.
    """
    n, noise = _check(n, noise, minimum=2)
    table = load_insurance(n=n, seed=seed)
    rng = np.random.default_rng(seed + 1_000_003)
    age = table.x[:, 0].astype(np.float64)
    afford = table.x[:, 1].astype(np.float64)
    x1 = (age - 44.0) / 26.0 * 0.9 * PLANAR_EXTENT
    band = rng.uniform(-INSURANCE_BAND, INSURANCE_BAND, size=n) * PLANAR_EXTENT
    x2 = (afford - 0.5) * PLANAR_EXTENT + band
    clean = np.stack([x1, x2], axis=1)                                       # (N, 2)
    return PlanarDataset(
        "insurance", _jitter(rng, clean, noise), table.y,
        ("age (scaled)", "affordability (scaled)"), table.class_names,
        "Insurance (synthetic, from the course's first neuron): older people and those who "
        "can afford it buy more often. One neuron already draws a good straight boundary.",
        noise, seed)


_MAKERS = {"xor": make_xor, "circles": make_circles, "spiral": make_spiral,
           "insurance": make_insurance_2d}


def load_planar(name: str, n: int = 300, noise: float = 0.0, seed: int = 0) -> PlanarDataset:
    """One of PLANAR_DATASETS by name."""
    maker = _MAKERS.get(str(name).lower())
    if maker is None:
        raise ValueError(f"unknown planar dataset {name!r}; "
                         f"choose one of {', '.join(PLANAR_DATASETS)}")
    return maker(n=n, noise=noise, seed=seed)
