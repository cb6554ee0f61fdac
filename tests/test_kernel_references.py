"""The readable references beside each kernel family stay plain NumPy: they never call the
fast kernels they are there to check (nor Numba), so a bug in one cannot hide in both."""
import ast
from pathlib import Path

import numpy as np

from core.kernels import activations_ref, dense_ref, losses_ref, pool_ref, recurrent_ref
from core.kernels.conv import reference as conv_ref

KERNELS = Path(__file__).resolve().parents[1] / "core" / "kernels"
REFERENCES = [KERNELS / "dense_ref.py", KERNELS / "conv" / "reference.py", KERNELS / "pool_ref.py",
              KERNELS / "recurrent_ref.py",
              KERNELS / "activations_ref.py", KERNELS / "losses_ref.py"]


def test_references_import_only_numpy_and_each_other():
    for path in REFERENCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [("." * node.level) + (node.module or "")]
            else:
                continue
            for name in names:
                assert name in ("numpy", "math", "__future__", ".conv.reference"), f"{path.name} imports {name}"


def test_every_reference_function_says_its_formula():
    for mod in (activations_ref, dense_ref, losses_ref, pool_ref, recurrent_ref, conv_ref):
        for name, fn in vars(mod).items():
            if callable(fn) and not name.startswith("_") and getattr(fn, "__module__", "") == mod.__name__:
                assert fn.__doc__, f"{mod.__name__}.{name} has no docstring"


def test_dense_backward_is_the_transposed_products():
    # the formulas in dense_ref's docstring, as matrix products: dx = dy·Wᵀ, dW = xᵀ·dy
    rng = np.random.default_rng(0)
    x, w, dy = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal((4, 2))
    dx, dw, db = dense_ref.dense_backward(x, w, dy)
    np.testing.assert_allclose(dx, dy @ w.T)
    np.testing.assert_allclose(dw, x.T @ dy)
    np.testing.assert_allclose(db, dy.sum(axis=0))
