"""Saving and loading models: one `.npz` holding the architecture as JSON plus the weights.

Loading never unpickles (core.safe_npz refuses object arrays) and never builds a class
outside `core.layers.REGISTRY`, so a hostile file can fail but cannot run code. Every size
the file declares (layer count, parameter shapes, array headers) is checked against caps
and against the arrays it holds before anything of that size is allocated. Every way a
file can be wrong becomes a ValueError whose message, beginning with the file's name,
says what is wrong with it.
"""
from __future__ import annotations

import contextlib
import glob
import json
import math
import os
import secrets
import zipfile
import zlib
from pathlib import Path

import numpy as np

from core import safe_npz
from core.safe_npz import short

FORMAT = "backprop-lab-model"
VERSION = 1
_MAX_TOTAL_BYTES = 2 * 1024**3      # a decompression bomb stops here, not in RAM
_MAX_MEMBERS = 10_000
_MAX_HEADER_BYTES = 16 * 1024**2   # a description of MAX_LAYERS layers takes well under 1 MB
#: the largest model a file may describe; the lessons' networks have at most a few million
#: parameters, so a file declaring more is a mistake or an attack, refused before allocating
MAX_PARAMS = 50_000_000
#: layers in a model file: teaching networks have a dozen, the deepest well-known CNNs a
#: few hundred
MAX_LAYERS = 2_000
#: values one sample may have at a layer's input or output (64 MB of float32)
MAX_VALUES_PER_SAMPLE = 2**24


def _as_bytes_array(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def save_model(model, path) -> Path:
    """Write `model` to `path` atomically: a temp file beside it, then a rename."""
    from core.model import Sequential

    if not isinstance(model, Sequential):
        raise ValueError(f"save_model takes a Sequential model, got {type(model).__name__}")
    if not model.built:
        raise ValueError("the model is not built yet: give it an input_shape or train it first")
    suffix = Path(path).suffix.lower()
    if suffix == ".keras":
        from core.keras import saving  # Keras 3's own format, which real Keras opens

        return saving.save(model, path)
    if suffix in (".h5", ".hdf5"):
        raise ValueError("Backprop Lab reads Keras's legacy .h5 files but writes .keras "
                         "(Keras 3) or .npz: choose one of those")
    # a file load_model would refuse is a file that loses the model: say so before writing
    if len(model.layers) > MAX_LAYERS:
        raise ValueError(f"the model has {len(model.layers):,} layers; a model file holds at "
                         f"most {MAX_LAYERS:,}, so it could not be opened again")
    if model.count_params() > MAX_PARAMS:
        raise ValueError(f"the model has {model.count_params():,} parameters; a model file "
                         f"holds at most {MAX_PARAMS:,}, so it could not be opened again")
    path = Path(path)
    header = {"format": FORMAT, "version": VERSION, "model": model.get_config(),
              "compile": model.compile_config()}
    arrays = {"header": _as_bytes_array(json.dumps(header))}
    for i, w in enumerate(model.get_weights()):
        arrays[f"weight_{i:04d}"] = np.ascontiguousarray(w, dtype=np.float32)
    _remove_abandoned_temps(path)
    fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
            if os.name != "nt":  # renamed while open: our lock still says "a save is running"
                os.replace(tmp, path)
        if os.name == "nt":  # Windows renames no open file
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


# A save writes `.<name>.<random>.tmp` beside the file and renames it over the file when
# complete. A save killed on the way (power cut, SIGKILL) leaves its temp file behind; the
# next save of that file removes every one no running save still holds (an OS lock on
# POSIX; on Windows a file another process has open cannot be deleted anyway).

def _create_temp(path: Path) -> tuple[int, Path]:
    """A new temp file beside `path`, opened and locked. os.open applies the umask to 0o666
    itself, so the saved model gets the permissions of any file the user saves, without
    ever changing the process-wide umask (other threads may be creating files)."""
    flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
             | getattr(os, "O_CLOEXEC", 0))
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        if _lock(fd) and _still_named(fd, tmp):
            return fd, tmp
        os.close(fd)  # another save's clean-up took it between creating and locking
    raise FileExistsError(f"could not create a temporary file beside {path}")


def _remove_abandoned_temps(path: Path) -> None:
    try:
        candidates = list(path.parent.glob(f".{glob.escape(path.name)}.*.tmp"))
    except OSError:
        return
    for tmp in candidates:
        try:
            fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except OSError:
            continue
        try:
            if os.name == "nt":
                os.close(fd)
                fd = -1
                os.unlink(tmp)  # fails while the saving process has it open
            elif _lock(fd) and _still_named(fd, tmp):
                os.unlink(tmp)
        except OSError:
            pass
        finally:
            if fd >= 0:
                os.close(fd)


def _lock(fd: int) -> bool:
    """An exclusive OS lock on fd without waiting (True where there is no such lock)."""
    try:
        import fcntl
    except ImportError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _still_named(fd: int, tmp: Path) -> bool:
    try:
        a, b = os.fstat(fd), os.stat(tmp)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def load_model(path):
    """Read a model written by save_model, or a Keras `.keras` / legacy `.h5` file (core.keras.saving).

    FileNotFoundError if there is no file at `path`; ValueError, with a sentence saying
    what is wrong, for anything else that is not a readable Backprop Lab model. Sizes the
    file declares are checked against the arrays it holds and against MAX_PARAMS before
    anything of that size is allocated.
    """
    path = Path(path)
    name = path.name
    if path.suffix.lower() in (".keras", ".h5", ".hdf5"):
        from core.keras import saving  # Keras's own files, read with the same checks

        return saving.load(path)
    with _open_model_file(path) as fh:
        try:
            model = _read_model(fh, name)
        except ValueError:
            raise
        except RecursionError:
            raise ValueError(
                f"{name} has a model description nested too deeply to be a model") from None
        except MemoryError:
            raise ValueError(
                f"{name} describes a model too large for this computer's memory") from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise ValueError(f"{name} is truncated or damaged ({short(exc)})") from None
        except (NotImplementedError, RuntimeError) as exc:  # zipfile: a method it lacks, a password
            raise ValueError(f"{name} is a zip archive this app cannot read ({short(exc)}); "
                             "model files are plain .npz archives") from None
        except (TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
            raise ValueError(
                f"{name} has a malformed model description ({short(exc)})") from None
    return model


def _open_model_file(path: Path):
    name = path.name
    try:
        if not path.is_file():
            raise FileNotFoundError(f"no model file at {path}")
        fh = open(path, "rb")
    except PermissionError:
        raise ValueError(f"{name} cannot be opened: you do not have permission to read it "
                         "(check the file's permissions)") from None
    except FileNotFoundError:
        raise FileNotFoundError(f"no model file at {path}") from None
    except OSError as exc:
        raise ValueError(f"{name} cannot be read ({exc.strerror or exc})") from None
    if os.fstat(fh.fileno()).st_size == 0:
        fh.close()
        raise ValueError(f"{name} is empty: it is not a Backprop Lab model file")
    return fh


def _read_model(fh, name: str):
    if not zipfile.is_zipfile(fh):
        raise ValueError(f"{name} is not a Backprop Lab model file (it is not an .npz archive)")
    fh.seek(0)
    with zipfile.ZipFile(fh) as zf:
        infos = zf.infolist()
        if len(infos) > _MAX_MEMBERS:
            raise ValueError(f"{name} holds {len(infos)} arrays: too many for a model")
        if sum(i.file_size for i in infos) > _MAX_TOTAL_BYTES:
            raise ValueError(f"{name} would unpack to more than 2 GB: refused")
        bad = zf.testzip()
        if bad is not None:
            raise ValueError(f"{name} is damaged: the array {bad!r} fails its checksum")
        members = {i.filename: i for i in infos}
        if "header.npy" not in members:
            raise ValueError(
                f"{name} is an .npz file but not a Backprop Lab model (no model header)")
        header = _read_header(
            safe_npz.read_array(zf, members["header.npy"], name, "the header"), name)
        model, planned = _plan_model(header["model"], name)
        stored = [members[f"weight_{i:04d}.npy"] for i in range(_count_weights(members, name))]
        _check_stored_shapes(
            planned, [safe_npz.array_shape(zf, info, name) for info in stored], name)
        model.build()  # every size is now known to be sane and to match the file
        weights = []
        for (layer, key, _), info in zip(planned, stored):
            w = safe_npz.read_array(zf, info, name, f"the {key} of layer {layer!r}")
            if not np.isfinite(w).all():
                raise ValueError(f"{name}: the {key} of layer {layer!r} holds NaN or infinite "
                                 "values; a usable model's weights are finite numbers")
            weights.append(w)
    try:
        model.set_weights(weights)
    except ValueError as exc:
        raise ValueError(
            f"{name} describes a model that cannot be rebuilt: {short(exc)}") from None
    compile_cfg = header.get("compile")
    if isinstance(compile_cfg, dict):
        try:
            model.compile(optimizer=compile_cfg["optimizer"], loss=compile_cfg["loss"],
                          metrics=compile_cfg.get("metrics", ()))
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise ValueError(f"{name} has an unreadable training set-up: {short(exc)}") from None
    return model


def _plan_model(config: dict, name: str):
    """The model `config` describes, not built yet, and [(layer name, key, shape)] of every
    parameter building it would create, in get_weights order. Nothing large is allocated:
    the sizes are computed from the layers' shape rules and refused when beyond the caps."""
    from core.model import Sequential

    layers = config.get("layers")
    if not isinstance(layers, list):
        raise ValueError(f"{name} has a model description without a list of layers")
    if len(layers) > MAX_LAYERS:
        raise ValueError(f"{name} describes {len(layers):,} layers; a model may have at "
                         f"most {MAX_LAYERS:,}")
    input_shape = config.get("input_shape")
    if (not isinstance(input_shape, list) or not input_shape or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in input_shape
            if d is not None) or None in input_shape[1:]):
        # None (JSON null) first: a free time axis, sequences of any length
        raise ValueError(f"{name} describes a model without a valid input shape "
                         f"(got {short(input_shape)})")
    try:
        model = Sequential.from_config({**config, "input_shape": None})
        planned = []
        total = 0
        shape = _sane_values(tuple(input_shape), "the input", name)
        for layer in model.layers:
            layer.check_input_shape(shape)
            out = _sane_values(tuple(layer.compute_output_shape(shape)),
                               f"layer {layer.name!r}", name)
            for key, pshape in layer.param_shapes(shape).items():
                total += math.prod(pshape)
                if total > MAX_PARAMS:
                    raise ValueError(
                        f"layer {layer.name!r} declares a {key} of shape {pshape} "
                        f"({math.prod(pshape):,} parameters), which takes the model past "
                        f"{MAX_PARAMS:,} parameters, more than a model file may hold")
                planned.append((layer.name, key, pshape))
            shape = out
        model.input_shape = tuple(input_shape)
    except ValueError as exc:
        if str(exc).startswith(name):
            raise
        raise ValueError(
            f"{name} describes a model that cannot be rebuilt: {short(exc)}") from None
    return model, planned


def _sane_values(shape: tuple, what: str, name: str) -> tuple:
    sizes = [d for d in shape if d is not None]   # a free length is the data's, not the file's
    if not shape or (sizes and min(sizes) < 1) or math.prod(sizes) > MAX_VALUES_PER_SAMPLE:
        raise ValueError(f"{name}: {what} would have shape {short(shape)} per sample; a "
                         f"model may have at most {MAX_VALUES_PER_SAMPLE:,} values per layer")
    return shape


def _check_stored_shapes(planned, stored, name: str) -> None:
    if len(stored) != len(planned):
        raise ValueError(f"{name} describes a model that cannot be rebuilt: the model has "
                         f"{len(planned)} weight arrays, got {len(stored)}")
    for (layer, key, want), got in zip(planned, stored):
        if tuple(got) != tuple(want):
            raise ValueError(f"{name} describes a model that cannot be rebuilt: layer "
                             f"{layer!r}: {key} must have shape {want}, the file holds {got}")


def _read_header(arr: np.ndarray, name: str) -> dict:
    if arr.dtype != np.uint8 or arr.ndim != 1 or arr.size > _MAX_HEADER_BYTES:
        raise ValueError(f"{name} has a malformed model header")
    try:
        header = json.loads(arr.tobytes().decode("utf-8"), parse_constant=_no_constants)
    except RecursionError:
        raise ValueError(f"{name} has a model header nested too deeply to be a model") from None
    except _NotANumber:
        raise ValueError(f"{name} has a model header with NaN or Infinity in it; a model "
                         "description holds only finite numbers") from None
    except ValueError:  # not JSON, not UTF-8, or an integer of thousands of digits
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


class _NotANumber(Exception):
    pass


def _no_constants(token: str):
    raise _NotANumber(token)


def _count_weights(members, name: str) -> int:
    stems = (m[:-len(".npy")] for m in members if m.endswith(".npy"))
    ids = sorted(int(s[len("weight_"):]) for s in stems
                 if s.startswith("weight_") and s[len("weight_"):].isdigit())
    if ids != list(range(len(ids))):
        raise ValueError(f"{name}: the weight arrays are not numbered 0..n-1")
    return len(ids)


# for core.keras.saving, which reads Keras's files with the same checks
plan_model = _plan_model
check_stored_shapes = _check_stored_shapes
