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
