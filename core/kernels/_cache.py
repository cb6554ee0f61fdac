"""Where Numba keeps the compiled kernels: one folder per version of their source.

Numba throws a cached function away when its own file changes, but not when a function it
calls, and has compiled into itself, changes in another file: after an update that touched
conv/blocks.py and not conv/pool_fused.py, pool_fused's cached machine code would still run
the old blocks. So, unless the user chose a folder (NUMBA_CACHE_DIR), the cache lives in a
folder named after a hash of every source file with kernels in it (sub-folders such as
conv/ included) and of the BLAS library they call, in the user's cache folder or, if that
cannot be written, beside the source; any change to any of them starts a fresh folder. Folders nobody has used for
RETENTION_DAYS are removed (another installed version may still be using a recent one).
When no folder can be written, the engine runs without a cache (with a KernelCacheWarning)
instead of failing on import as Numba would.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

RETENTION_DAYS = 30
_HERE = Path(__file__).resolve().parent


def source_files() -> list[Path]:
    """Every file whose functions Numba compiles (and caches) for the engine, sub-folders
    of kernels/ included (Numba would not notice an edit in a callee's file either)."""
    return sorted(_HERE.rglob("*.py"))


def folder_name(files) -> str:
    """A name that changes whenever any of the files' contents (or names) change, or the
    BLAS library the kernels call by name (see _blas_library)."""
    from ._blas_library import cache_tag

    h = hashlib.sha256(cache_tag().encode())
    for f in files:
        h.update(f"{Path(f).parent.name}/{Path(f).name}".encode())
        h.update(Path(f).read_bytes())
    return "kernels-" + h.hexdigest()[:16]


class KernelCacheWarning(RuntimeWarning):
    """Numba's compiled kernels cannot be kept on disk: every start compiles them again."""


#: False once configure() found no folder Numba could write its cache to
caching = True


def configure() -> str | None:
    """Point Numba's cache at this version's folder and return it: in the user's cache
    folder, else beside the kernels' source (the install folder). None: the user chose a
    folder (NUMBA_CACHE_DIR), or none can be written, and the engine runs without a cache
    (a KernelCacheWarning says so) rather than failing on import as Numba would."""
    chosen = os.environ.get("NUMBA_CACHE_DIR")
    if chosen:
        if _writable(Path(chosen)):
            return None
        _run_without_cache(f"the folder NUMBA_CACHE_DIR names ({chosen}) cannot be written")
        return None
    try:
        name = folder_name(source_files())
    except OSError:  # a source file unreadable: no name that follows the source
        name = None
    tried = []
    for base in _candidate_bases():
        if name is None:
            break
        folder = base / name
        if _writable(folder):
            _use(folder)
            _remove_unused(base, folder)
            return str(folder)
        tried.append(str(base))
    _run_without_cache("neither " + " nor ".join(tried) + " can be written" if tried
                       else "the kernels' source files cannot be read")
    return None


def _candidate_bases() -> list[Path]:
    bases = []
    try:
        import platformdirs

        bases.append(Path(platformdirs.user_cache_dir("backprop-lab", appauthor=False)) / "numba")
    except ImportError:
        pass
    bases.append(_HERE / "__pycache__" / "numba")  # beside the source, as Numba's own default
    return bases


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()  # Numba's own test of a cache folder
        os.utime(folder)  # "used now", for _remove_unused
    except OSError:
        return False
    return True


def _use(folder: Path) -> None:
    # through the environment while Numba is not loaded yet (its import stays where it was,
    # and child processes such as the warm-up get the same folder); directly otherwise
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    if "numba" in sys.modules:
        sys.modules["numba"].config.CACHE_DIR = str(folder)


def _run_without_cache(reason: str) -> None:
    """Make `cache=True` a no-op: Numba would raise RuntimeError on defining the first
    cached kernel when no folder can be written, and the engine would not import at all."""
    global caching
    from numba.core.dispatcher import Dispatcher

    def enable_caching(self):
        pass  # the dispatcher keeps the NullCache it was made with
    Dispatcher.enable_caching = enable_caching
    caching = False
    warnings.warn(f"Backprop Lab runs without a kernel cache: {reason}. The fast kernels are "
                  "compiled again at every start, so starting and the first use of each "
                  "lesson are slower.", KernelCacheWarning, stacklevel=3)


def _remove_unused(base: Path, keep: Path) -> None:
    cutoff = time.time() - RETENTION_DAYS * 86400
    try:
        for old in base.iterdir():
            if old != keep and old.name.startswith("kernels-") and old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
    except OSError:
        pass
