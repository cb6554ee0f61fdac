"""How many extra copies of the engine's functions Numba compiles for literal arguments.

    .venv/bin/python benchmarks/literal_specialisations.py

Numba compiles a function called from compiled code once per combination of argument
types, and a constant a caller writes (`True`, `0`, `3`) is a type of its own: a
literal. This runs the whole warm-up in an empty temporary cache and lists every function
that has more specialisations than distinct non-literal signatures (those extras are the
literal copies). Run of 2026-12-07: 22 extras before blas/blocks took their flags and sizes
as plain values, 8 after (Winograd's transform helpers, on purpose, and pooling's).
"""
import gc
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main():
    cache = tempfile.mkdtemp(prefix="backprop-lab-literals-")
    os.environ["NUMBA_CACHE_DIR"] = cache  # empty: every callee is compiled, so it is seen
    sys.path.insert(0, str(ROOT))
    try:
        from numba.core import types

        from core.fast.warmup import warm_up

        warm_up()
        extra = 0
        for obj in gc.get_objects():
            if type(obj).__name__ != "CPUDispatcher" or not obj.__module__.startswith("core"):
                continue
            sigs = obj.signatures
            distinct = {tuple(types.unliteral(a) for a in s) for s in sigs}
            if len(distinct) < len(sigs):
                extra += len(sigs) - len(distinct)
                print(f"{len(sigs):3d} -> {len(distinct)}  {obj.__module__}.{obj.__name__}")
        print(f"extra specialisations from literal arguments: {extra}")
    finally:
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
