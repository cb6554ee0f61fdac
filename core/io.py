"""Saving and loading models: one `.npz` holding the architecture as JSON plus the weights.

Loading never unpickles (`allow_pickle=False`) and never builds a class outside
`core.layers.REGISTRY`, so a hostile file can fail but cannot run code. Every way a
file can be wrong becomes a ValueError that says what is wrong with it.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

FORMAT = "backprop-lab-model"
VERSION = 1
_MAX_TOTAL_BYTES = 2 * 1024**3      # a decompression bomb stops here, not in RAM
_MAX_MEMBERS = 10_000


def _as_bytes_array(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def save_model(model, path) -> Path:
    """Write `model` to `path` atomically: a temp file beside it, then a rename."""
    from core.model import Sequential

    if not isinstance(model, Sequential):
        raise ValueError(f"save_model takes a Sequential model, got {type(model).__name__}")
    if not model.built:
        raise ValueError("the model is not built yet: give it an input_shape or train it first")
    path = Path(path)
    header = {"format": FORMAT, "version": VERSION, "model": model.get_config(),
              "compile": model.compile_config()}
    arrays = {"header": _as_bytes_array(json.dumps(header))}
    for i, w in enumerate(model.get_weights()):
        arrays[f"weight_{i:04d}"] = np.ascontiguousarray(w, dtype=np.float32)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes the file private (0600); a saved model gets ordinary permissions
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def load_model(path):
    """Read a model written by save_model; ValueError for anything else."""
    from core.model import Sequential

    path = Path(path)
    name = path.name
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    if path.stat().st_size == 0:
        raise ValueError(f"{name} is empty: it is not a Backprop Lab model file")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{name} is not a Backprop Lab model file (it is not an .npz archive)")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > _MAX_MEMBERS:
                raise ValueError(f"{name} holds {len(infos)} arrays: too many for a model")
            if sum(i.file_size for i in infos) > _MAX_TOTAL_BYTES:
                raise ValueError(f"{name} would unpack to more than 2 GB: refused")
            names = {i.filename for i in infos}
            bad = zf.testzip()
            if bad is not None:
                raise ValueError(f"{name} is damaged: the array {bad!r} fails its checksum")
        if "header.npy" not in names:
            raise ValueError(
                f"{name} is an .npz file but not a Backprop Lab model (no model header)")
        with np.load(path, allow_pickle=False) as npz:
            header = _read_header(npz["header"], name)
            weights = [npz[f"weight_{i:04d}"] for i in range(_count_weights(npz.files))]
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
            raise ValueError(
                f"{name} contains pickled Python objects; model files never do, so it was "
                "refused without loading them") from None
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError) as exc:
        raise ValueError(f"{name} is truncated or damaged ({exc})") from None

    try:
        model = Sequential.from_config(header["model"])
        model.build()
        model.set_weights(weights)
    except ValueError as exc:
        raise ValueError(f"{name} describes a model that cannot be rebuilt: {exc}") from None
    compile_cfg = header.get("compile")
    if isinstance(compile_cfg, dict):
        try:
            model.compile(optimizer=compile_cfg["optimizer"], loss=compile_cfg["loss"],
                          metrics=compile_cfg.get("metrics", ()))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{name} has an unreadable training set-up: {exc}") from None
    return model


def _read_header(arr: np.ndarray, name: str) -> dict:
    if arr.dtype != np.uint8 or arr.ndim != 1:
        raise ValueError(f"{name} has a malformed model header")
    try:
        header = json.loads(arr.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError(f"{name} has a model header that is not valid JSON") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{name} is an .npz file but not a Backprop Lab model")
    if header.get("version") != VERSION:
        raise ValueError(
            f"{name} is a Backprop Lab model of format version {header.get('version')!r}; "
            f"this version of the app reads version {VERSION}")
    if not isinstance(header.get("model"), dict):
        raise ValueError(f"{name} has no model description")
    return header


def _count_weights(files) -> int:
    ids = sorted(int(f[len("weight_"):]) for f in files if f.startswith("weight_")
                 and f[len("weight_"):].isdigit())
    if ids != list(range(len(ids))):
        raise ValueError("the weight arrays are not numbered 0..n-1")
    return len(ids)
