"""Where Numba keeps the compiled kernels: one folder per version of their source.

Numba throws a cached function away when its own file changes, but not when a function it
calls, and has compiled into itself, changes in another file: after an update that touched
conv/blocks.py and not conv/pool_fused.py, pool_fused's cached machine code would still run
the old blocks. So, unless the user chose a folder (NUMBA_CACHE_DIR), the cache lives in a
folder named after a hash of every source file with kernels in it (sub-folders such as
conv/ included); any change to any of them starts a fresh folder. Folders nobody has used
for RETENTION_DAYS are removed (another installed version may still be using a recent one).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

RETENTION_DAYS = 30
_HERE = Path(__file__).resolve().parent


def source_files() -> list[Path]:
    """Every file whose functions Numba compiles (and caches) for the engine, sub-folders
    of kernels/ included (Numba would not notice an edit in a callee's file either)."""
    return sorted(_HERE.rglob("*.py")) + [_HERE.parent / "teaching" / "smoothing.py"]


def folder_name(files) -> str:
    """A name that changes whenever any of the files' contents (or names) change."""
    h = hashlib.sha256()
    for f in files:
        h.update(f"{Path(f).parent.name}/{Path(f).name}".encode())
        h.update(Path(f).read_bytes())
    return "kernels-" + h.hexdigest()[:16]


def configure() -> str | None:
    """Point Numba's cache at this version's folder; returns it (None: the user's choice)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    try:
        import platformdirs

        base = Path(platformdirs.user_cache_dir("backprop-lab", appauthor=False)) / "numba"
        folder = base / folder_name(source_files())
        folder.mkdir(parents=True, exist_ok=True)
        os.utime(folder)  # "used now", for the clean-up below
    except OSError:
        return None  # no writable cache folder: Numba's default (next to the sources)
    # through the environment while Numba is not loaded yet (its import stays where it was,
    # and child processes such as the warm-up get the same folder); directly otherwise
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    import sys

    if "numba" in sys.modules:
        sys.modules["numba"].config.CACHE_DIR = str(folder)
    _remove_unused(base, folder)
    return str(folder)


def _remove_unused(base: Path, keep: Path) -> None:
    cutoff = time.time() - RETENTION_DAYS * 86400
    try:
        for old in base.iterdir():
            if old != keep and old.name.startswith("kernels-") and old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
    except OSError:
        pass
