"""The course notes' names for the neuron's chain, beside the app's (tutorial 15).

The notes write the chain rule as ∂L/∂e · ∂e/∂y · ∂y/∂w1: their *y* is the weighted sum
(the app's z) and their *e* the sigmoid's output (the app's ŷ). The app keeps z and ŷ
because its y is already the answer (bought insurance or not), so a learner reading both
needs the translation on screen, not only in their head.
"""
from __future__ import annotations

__all__ = ["NOTES_NAMES", "derivative_chain", "in_notes_names"]

#: (notes' name, app's name, what it is)
NOTES_NAMES = (
    ("y", "z", "the weighted sum w1·x1 + w2·x2 + b"),
    ("e", "ŷ", "the sigmoid's output σ(z): the prediction"),
)
#: the hat as one precomposed character and as y + combining circumflex
_HATS = ("ŷ", "y\u0302")


def in_notes_names(name: str) -> str:
    """One node name of the app's chain in the notes' names: z → y, ŷ → e, others kept."""
    if name in _HATS:
        return "e"
    return "y" if name == "z" else name


def derivative_chain(path, notes: bool = False) -> str:
    """The chain-rule product along `path` (the loss first), e.g. ('L', 'ŷ', 'z', 'w1') →
    '∂L/∂ŷ · ∂ŷ/∂z · ∂z/∂w1', or with ``notes=True`` '∂L/∂e · ∂e/∂y · ∂y/∂w1'."""
    names = [in_notes_names(p) if notes else p for p in path]
    if len(names) < 2:
        return f"∂{names[0]}/∂{names[0]}" if names else ""
    return " · ".join(f"∂{a}/∂{b}" for a, b in zip(names, names[1:]))
