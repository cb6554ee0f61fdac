"""Numba's cache folder follows the kernels' source, so an update never runs stale code."""
import os
import subprocess
import sys
from pathlib import Path

from core.kernels import _cache

ROOT = Path(__file__).resolve().parents[1]


def test_the_folder_changes_when_any_kernel_source_changes(tmp_path):
    a, b = tmp_path / "conv.py", tmp_path / "convpool.py"
    a.write_text("def f(): return 1\n")
    b.write_text("from conv import f\n")
    before = _cache.folder_name([a, b])
    assert _cache.folder_name([a, b]) == before
    a.write_text("def f(): return 2\n")  # only the callee's file changed
    assert _cache.folder_name([a, b]) != before


def test_every_file_with_cached_kernels_is_hashed():
    files = {p.name for p in _cache.source_files()}
    for path in (ROOT / "core").rglob("*.py"):
        if "cache=True" in path.read_text(encoding="utf-8"):
            assert path.name in files, f"{path} caches kernels but is not in the hash"


def _cache_dir_in_fresh_process(env):
    code = "import core.kernels, numba; print(numba.config.CACHE_DIR)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**env, "PYTHONPATH": str(ROOT)}, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_a_fresh_process_uses_this_versions_folder_unless_the_user_chose_one(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    folder = _cache_dir_in_fresh_process(env)
    assert Path(folder).name == _cache.folder_name(_cache.source_files())
    assert Path(folder).is_dir() and str(tmp_path) in folder
    mine = str(tmp_path / "mine")
    assert _cache_dir_in_fresh_process({**env, "NUMBA_CACHE_DIR": mine}) == mine


def _engine_copy(tmp_path, writable_install: bool) -> Path:
    """A copy of core/ whose install folder can be written to or not: where Numba would
    keep a cache beside the source (every __pycache__) is a plain file, which stops even
    root from creating a folder there."""
    import shutil

    root = tmp_path / "install"
    shutil.copytree(ROOT / "core", root / "core", ignore=shutil.ignore_patterns("__pycache__"))
    if not writable_install:
        for folder in [p for p in (root / "core").rglob("*") if p.is_dir()] + [root / "core"]:
            (folder / "__pycache__").write_text("not a folder")
    return root


def _run_kernel(root, env):
    code = ("import warnings, numpy as np\n"
            "warnings.simplefilter('always')\n"
            "import core.kernels as K, numba\n"
            "from core.kernels import _cache\n"
            "print(bool(K.all_finite(np.ones(5, np.float32))),"
            " bool(K.all_finite(np.array([1, np.nan], np.float32))))\n"
            "print(_cache.caching, numba.config.CACHE_DIR)\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**env, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"},
                          cwd=root, timeout=300)


def _unwritable_user_cache(tmp_path):
    blocker = tmp_path / "no-cache-here"
    blocker.write_text("a file where the cache folder would be")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(blocker)
    env["HOME"] = str(blocker)
    return env, blocker


def test_the_engine_runs_without_a_cache_when_no_folder_can_be_written(tmp_path):
    # issue 13.11: Numba raised RuntimeError ("no locator available") on import
    root = _engine_copy(tmp_path, writable_install=False)
    env, _ = _unwritable_user_cache(tmp_path)
    out = _run_kernel(root, env)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.split("\n")
    assert lines[0] == "True False"  # the kernels compile and compute
    assert lines[1].startswith("False")
    assert "KernelCacheWarning" in out.stderr and "without a kernel cache" in out.stderr


def test_a_cache_folder_the_user_chose_but_cannot_write_is_no_crash_either(tmp_path):
    root = _engine_copy(tmp_path, writable_install=False)
    env, blocker = _unwritable_user_cache(tmp_path)
    out = _run_kernel(root, {**env, "NUMBA_CACHE_DIR": str(blocker / "numba")})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[0] == "True False"
    assert "NUMBA_CACHE_DIR" in out.stderr and "without a kernel cache" in out.stderr


def test_the_install_folder_keeps_the_cache_when_the_user_cache_cannot_be_written(tmp_path):
    root = _engine_copy(tmp_path, writable_install=True)
    env, _ = _unwritable_user_cache(tmp_path)
    out = _run_kernel(root, env)
    assert out.returncode == 0, out.stderr[-2000:]
    caching, folder = out.stdout.split("\n")[1].split(" ", 1)
    assert caching == "True" and "KernelCacheWarning" not in out.stderr
    # still one folder per version of the source, so an update never runs stale code
    assert Path(folder).parent == root / "core" / "kernels" / "__pycache__" / "numba"
    assert Path(folder).name == _cache.folder_name(_cache.source_files())
    assert any(Path(folder).rglob("*.nbi"))  # Numba's index of the kernel it compiled


def test_without_a_cache_the_warm_up_process_hands_compiling_back_at_once(tmp_path):
    # the window starts `python -m core.fast.warmup` to fill the cache, then loads from it;
    # with no cache the child's work could never reach the window, which compiles itself
    # when the child exits with an error
    root = _engine_copy(tmp_path, writable_install=False)
    env, _ = _unwritable_user_cache(tmp_path)
    out = subprocess.run([sys.executable, "-m", "core.fast.warmup"], capture_output=True,
                         text=True, env={**env, "PYTHONPATH": str(root)}, cwd=root, timeout=300)
    assert out.returncode == 2, out.stderr[-2000:]
    assert out.stdout == "" and "Traceback" not in out.stderr
    assert "without a kernel cache" in out.stderr


def test_the_cache_folder_changes_with_the_blas_library_the_kernels_call(monkeypatch):
    # compiled kernels call NumPy's gemm by name: code compiled against it must never be
    # loaded where it is missing (another NumPy build), so the folder follows the library
    from core.kernels import _blas_library

    files = _cache.source_files()
    monkeypatch.setattr(_blas_library, "cache_tag", lambda: "scipy")
    scipys = _cache.folder_name(files)
    monkeypatch.setattr(_blas_library, "cache_tag", lambda: "libscipy_openblas64_-1.so:scipy_cblas_sgemm64_")
    assert _cache.folder_name(files) != scipys


def test_blas_scipy_in_the_environment_keeps_the_kernels_on_scipys_library(monkeypatch):
    from core.kernels import _blas_library

    monkeypatch.setenv("BACKPROP_LAB_BLAS", "scipy")
    _blas_library.numpy_cblas.cache_clear()
    try:
        assert _blas_library.numpy_cblas() is None and _blas_library.cache_tag() == "scipy"
    finally:
        monkeypatch.delenv("BACKPROP_LAB_BLAS")
        _blas_library.numpy_cblas.cache_clear()
