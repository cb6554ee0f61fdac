"""save_model / load_model: round trips, and every hostile file refused without running it."""
import io
import json
import pickle
import zipfile

import numpy as np
import pytest

from core import io as core_io
from core.layers import Conv2D, Dense, Dropout, Flatten, LeakyReLU, MaxPool2D
from core.model import Sequential
from core.optimizers import Adam


def small_cnn():
    m = Sequential([Conv2D(4, 3, padding="same", activation="relu"), MaxPool2D(2), Flatten(),
                    Dropout(0.2), Dense(8), LeakyReLU(0.05), Dense(3, activation="softmax")],
                   input_shape=(6, 6, 1), seed=0)
    m.compile(Adam(0.003), "sparse_categorical_crossentropy", ["accuracy"])
    return m


def test_round_trip_keeps_architecture_weights_predictions_and_compile(tmp_path):
    m = small_cnn()
    x = np.random.default_rng(0).random((5, 6, 6, 1)).astype(np.float32)
    path = core_io.save_model(m, tmp_path / "net.npz")
    back = core_io.load_model(path)
    assert [type(a) for a in back.layers] == [type(a) for a in m.layers]
    assert [a.name for a in back.layers] == [a.name for a in m.layers]
    for a, b in zip(m.get_weights(), back.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(m.predict(x), back.predict(x))
    assert back.optimizer.learning_rate == pytest.approx(0.003)
    assert back.loss.name == "sparse_categorical_crossentropy"
    assert back.layers[5].alpha == pytest.approx(0.05)
    assert back.summary() == m.summary()
    assert list(tmp_path.iterdir()) == [tmp_path / "net.npz"]  # no temp files left
    mode = (tmp_path / "net.npz").stat().st_mode & 0o777
    assert mode == 0o666 & ~_current_umask()  # like any file the user saves, not private


def test_failed_save_leaves_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "net.npz"
    m = small_cnn()
    core_io.save_model(m, path)
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(OSError):
        core_io.save_model(m, path)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]


def _current_umask():
    import os
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def _header(model_cfg, version=1, fmt="backprop-lab-model"):
    text = json.dumps({"format": fmt, "version": version, "model": model_cfg, "compile": None})
    return np.frombuffer(text.encode(), np.uint8)


@pytest.fixture
def saved(tmp_path):
    return core_io.save_model(small_cnn(), tmp_path / "good.npz")


def test_empty_file(tmp_path):
    p = tmp_path / "empty.npz"
    p.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        core_io.load_model(p)


def test_garbage_file(tmp_path):
    p = tmp_path / "garbage.npz"
    p.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(ValueError, match="not a Backprop Lab model"):
        core_io.load_model(p)


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_truncated_file(saved, tmp_path, keep):
    data = saved.read_bytes()
    p = tmp_path / "cut.npz"
    p.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ValueError):
        core_io.load_model(p)


def test_foreign_npz(tmp_path):
    p = _write_npz(tmp_path / "foreign.npz", a=np.arange(3), b=np.ones((2, 2)))
    with pytest.raises(ValueError, match="not a Backprop Lab model"):
        core_io.load_model(p)


def test_pickle_bearing_file_is_refused_and_never_executed(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    p = tmp_path / "evil.npz"
    with zipfile.ZipFile(p, "w") as zf:
        buf = io.BytesIO()
        np.save(buf, np.array([Evil()], dtype=object), allow_pickle=True)
        zf.writestr("header.npy", buf.getvalue())
    with pytest.raises(ValueError, match="pickle"):
        core_io.load_model(p)
    assert not marker.exists()

    raw = tmp_path / "raw.pkl"
    raw.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(ValueError):
        core_io.load_model(raw)
    assert not marker.exists()


def test_unknown_layer_class_is_refused(tmp_path):
    cfg = {"name": "m", "input_shape": [2],
           "layers": [{"class_name": "os.system", "config": {"command": "echo hi"}}]}
    p = _write_npz(tmp_path / "x.npz", header=_header(cfg))
    with pytest.raises(ValueError, match="unknown layer type"):
        core_io.load_model(p)


def test_wrong_weight_shapes_and_counts(tmp_path):
    cfg = Sequential([Dense(3)], input_shape=(2,)).get_config()
    p = _write_npz(tmp_path / "s.npz", header=_header(cfg),
                   weight_0000=np.zeros((5, 3), np.float32), weight_0001=np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="shape"):
        core_io.load_model(p)
    p = _write_npz(tmp_path / "c.npz", header=_header(cfg),
                   weight_0000=np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="weight arrays"):
        core_io.load_model(p)


def test_newer_format_version_and_bad_json(tmp_path):
    cfg = Sequential([Dense(3)], input_shape=(2,)).get_config()
    p = _write_npz(tmp_path / "v.npz", header=_header(cfg, version=99))
    with pytest.raises(ValueError, match="version"):
        core_io.load_model(p)
    p = _write_npz(tmp_path / "j.npz", header=np.frombuffer(b"{not json", np.uint8))
    with pytest.raises(ValueError, match="JSON"):
        core_io.load_model(p)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        core_io.load_model(tmp_path / "nope.npz")


# --- sizes a file declares are checked before anything of that size is allocated -------


def _peak_bytes_while(fn):
    """(result or exception, peak bytes Python and NumPy allocated meanwhile)."""
    import tracemalloc

    tracemalloc.start()
    try:
        try:
            outcome = fn()
        except Exception as exc:  # noqa: BLE001 - the caller asserts what it was
            outcome = exc
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _dense_file(path, n_in, units, **weights):
    cfg = {"name": "m", "input_shape": [n_in],
           "layers": [{"class_name": "Dense", "config": {"name": "huge", "units": units}}]}
    return _write_npz(path, header=_header(cfg), **weights)


def test_a_model_declaring_more_parameters_than_the_cap_is_refused_before_allocating(tmp_path):
    # issue 13.4: a 300-byte file declaring Dense(20000) on (20000,) made load_model
    # allocate ~4.9 GB before it found that the file holds no weights
    p = _dense_file(tmp_path / "bomb.npz", 20_000, 20_000)
    assert p.stat().st_size < 1000
    outcome, peak = _peak_bytes_while(lambda: core_io.load_model(p))
    assert type(outcome) is ValueError
    assert "'huge'" in str(outcome) and f"{core_io.MAX_PARAMS:,}" in str(outcome)
    assert peak < 16 * 1024**2


def test_declared_sizes_are_compared_with_the_stored_arrays_before_allocating(tmp_path):
    # under the cap, but the file holds a 2 x 3 kernel for a 3000 x 3000 layer
    p = _dense_file(tmp_path / "liar.npz", 3000, 3000,
                    weight_0000=np.zeros((2, 3), np.float32), weight_0001=np.zeros(3, np.float32))
    outcome, peak = _peak_bytes_while(lambda: core_io.load_model(p))
    assert type(outcome) is ValueError
    assert "'huge'" in str(outcome) and "(3000, 3000)" in str(outcome)
    assert peak < 16 * 1024**2  # building the layer alone would take 100 MB


def test_an_array_header_promising_more_than_its_member_holds_is_refused(tmp_path):
    cfg = Sequential([Dense(3)], input_shape=(2,)).get_config()
    p = _write_npz(tmp_path / "short.npz", header=_header(cfg),
                   weight_0000=np.zeros((2, 3), np.float32), weight_0001=np.zeros(3, np.float32))
    with zipfile.ZipFile(p) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    # the kernel's .npy header now declares 20000 x 20000 floats over the same 24 bytes
    members["weight_0000.npy"] = _npy_claiming((20_000, 20_000), np.zeros(6, np.float32).tobytes())
    with zipfile.ZipFile(p, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    outcome, peak = _peak_bytes_while(lambda: core_io.load_model(p))
    assert type(outcome) is ValueError
    assert peak < 16 * 1024**2


def _npy_claiming(shape, data: bytes) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f4", "fortran_order": False, "shape": shape})
    assert buf.getvalue().startswith(b"\x93NUMPY")
    return buf.getvalue() + data


# --- layer count: linear naming, and a cap ---------------------------------------------


def test_naming_layers_is_linear_in_their_number():
    # issue 13.5: every unnamed layer was named by scanning all earlier ones (8,000 layers
    # took 16.6 s to load). Count how often Sequential reads a layer's name.
    from core.layers import ReLU

    reads = [0]

    class CountedReLU(ReLU):
        @property
        def name(self):
            reads[0] += 1
            return self._name

        @name.setter
        def name(self, value):
            self._name = value

    n = 3000
    m = Sequential([CountedReLU() for _ in range(n)], input_shape=(4,))
    names = [lay.name for lay in m.layers]
    assert names[:3] == ["re_lu", "re_lu_1", "re_lu_2"] and names[-1] == f"re_lu_{n - 1}"
    assert len(set(names)) == n
    assert reads[0] < 20 * n


def test_automatic_names_skip_names_already_taken():
    from core.layers import ReLU

    m = Sequential([ReLU(name="re_lu_1"), ReLU(), ReLU(), Dense(2, name="dense"), Dense(2)],
                   input_shape=(3,))
    assert [lay.name for lay in m.layers] == ["re_lu_1", "re_lu", "re_lu_2", "dense", "dense_1"]
    with pytest.raises(ValueError, match="two layers are named 're_lu'"):
        m.add(ReLU(name="re_lu"))


def _relu_stack_file(path, n):
    cfg = {"name": "deep", "input_shape": [3],
           "layers": [{"class_name": "ReLU", "config": {"name": f"r{i}"}} for i in range(n)]}
    return _write_npz(path, header=_header(cfg))


def test_a_file_with_more_layers_than_the_cap_is_refused_by_its_count(tmp_path):
    p = _relu_stack_file(tmp_path / "deep.npz", 50_000)
    with pytest.raises(ValueError, match=f"50,000 layers.*at most {core_io.MAX_LAYERS:,}"):
        core_io.load_model(p)


def test_a_file_with_as_many_layers_as_the_cap_loads(tmp_path):
    p = _relu_stack_file(tmp_path / "deep.npz", core_io.MAX_LAYERS)
    m = core_io.load_model(p)
    assert len(m.layers) == core_io.MAX_LAYERS and m.layers[-1].name == f"r{core_io.MAX_LAYERS - 1}"


# --- every malformed file is a ValueError with a readable message ---------------------


def _raw_header_file(path, text: bytes):
    return _write_npz(path, header=np.frombuffer(text, np.uint8))


_GOOD_DENSE = {"name": "m", "input_shape": [2],
               "layers": [{"class_name": "Dense", "config": {"units": 3}}]}
_MALFORMED_HEADERS = {
    "deeply nested JSON": b'{"format": "backprop-lab-model", "version": 1, "model": '
                          + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "deeply nested layer config": json.dumps(
        {"format": "backprop-lab-model", "version": 1,
         "model": {"name": "m", "input_shape": [2],
                   "layers": [{"class_name": "Dense", "config": {"units": 3, "activation": (
                       json.loads("[" * 900 + "]" * 900))}}]}}).encode(),
    "a list as the layer type": json.dumps(
        {"format": "backprop-lab-model", "version": 1,
         "model": {"name": "m", "input_shape": [2],
                   "layers": [{"class_name": ["Dense"], "config": {"units": 3}}]}}).encode(),
    "Infinity as a size": b'{"format": "backprop-lab-model", "version": 1, "model": '
                          b'{"name": "m", "input_shape": [Infinity], "layers": '
                          b'[{"class_name": "Flatten", "config": {}}]}}',
    "NaN as a kernel size": b'{"format": "backprop-lab-model", "version": 1, "model": '
                            b'{"name": "m", "input_shape": [8, 8, 1], "layers": [{"class_name": '
                            b'"Conv2D", "config": {"filters": 2, "kernel_size": NaN}}]}}',
    "an astronomically large size": json.dumps(
        {"format": "backprop-lab-model", "version": 1,
         "model": {"name": "m", "input_shape": [10**40],
                   "layers": [{"class_name": "Dense", "config": {"units": 10**40}}]}}).encode(),
    "a number of 5000 digits": b'{"format": "backprop-lab-model", "version": 1, "model": '
                               b'{"input_shape": [' + b"9" * 5000 + b'], "layers": []}}',
    "a string as the input shape": json.dumps(
        {"format": "backprop-lab-model", "version": 1,
         "model": {**_GOOD_DENSE, "input_shape": "28x28"}}).encode(),
    "a kernel size larger than the image": json.dumps(
        {"format": "backprop-lab-model", "version": 1,
         "model": {"name": "m", "input_shape": [4, 4, 1],
                   "layers": [{"class_name": "Conv2D",
                               "config": {"filters": 2, "kernel_size": 9}}]}}).encode(),
    "layers as a dict": json.dumps(
        {"format": "backprop-lab-model", "version": 1,
         "model": {"name": "m", "input_shape": [2], "layers": {"0": "Dense"}}}).encode(),
    "a list as the optimizer name": json.dumps(
        {"format": "backprop-lab-model", "version": 1, "model": _GOOD_DENSE,
         "compile": {"optimizer": {"name": ["sgd"]}, "loss": "mean_squared_error"}}).encode(),
}


@pytest.mark.parametrize("what", list(_MALFORMED_HEADERS))
def test_every_malformed_description_is_a_value_error_with_a_short_sentence(tmp_path, what):
    p = _raw_header_file(tmp_path / "bad.npz", _MALFORMED_HEADERS[what])
    with zipfile.ZipFile(p, "a") as zf:  # the weights a good Dense(3) on (2,) would have
        for i, w in enumerate((np.zeros((2, 3), np.float32), np.zeros(3, np.float32))):
            buf = io.BytesIO()
            np.save(buf, w)
            zf.writestr(f"weight_{i:04d}.npy", buf.getvalue())
    with pytest.raises(Exception) as info:
        core_io.load_model(p)
    assert info.type is ValueError, f"{what}: {info.type.__name__}: {info.value}"
    text = str(info.value)
    assert text.startswith("bad.npz") and len(text) < 400 and "\n" not in text


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_weights_that_are_not_finite_are_refused_naming_the_layer(tmp_path, bad):
    m = Sequential([Dense(3, name="hidden"), Dense(2, name="out")], input_shape=(2,), seed=0)
    weights = m.get_weights()
    weights[2][1, 0] = bad
    arrays = {f"weight_{i:04d}": w for i, w in enumerate(weights)}
    p = _write_npz(tmp_path / "nan.npz", header=_header(m.get_config()), **arrays)
    with pytest.raises(ValueError, match="kernel of layer 'out'.*NaN or infinite"):
        core_io.load_model(p)


def test_complex_or_text_weights_are_refused(tmp_path):
    cfg = Sequential([Dense(3)], input_shape=(2,)).get_config()
    for bad in (np.zeros((2, 3), np.complex64), np.full((2, 3), "x")):
        p = _write_npz(tmp_path / "odd.npz", header=_header(cfg),
                       weight_0000=bad, weight_0001=np.zeros(3, np.float32))
        with pytest.raises(ValueError, match="not real numbers"):
            core_io.load_model(p)


def test_weights_stored_as_float64_or_integers_still_load(tmp_path):
    cfg = Sequential([Dense(3)], input_shape=(2,)).get_config()
    p = _write_npz(tmp_path / "f64.npz", header=_header(cfg),
                   weight_0000=np.arange(6, dtype=np.float64).reshape(2, 3),
                   weight_0001=np.arange(3, dtype=np.int64))
    m = core_io.load_model(p)
    np.testing.assert_array_equal(m.get_weights()[0], np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(m.get_weights()[1], [0, 1, 2])


def test_a_file_without_read_permission_says_so(saved, monkeypatch):
    import builtins
    import os

    os.chmod(saved, 0)
    if os.geteuid() == 0:  # root reads any file: let the OS answer as it would anyone else
        real_open = builtins.open

        def denied(file, *args, **kwargs):
            if os.fspath(file) == os.fspath(saved):
                raise PermissionError(13, "Permission denied", os.fspath(file))
            return real_open(file, *args, **kwargs)
        monkeypatch.setattr(builtins, "open", denied)
    with pytest.raises(ValueError, match="permission") as info:
        core_io.load_model(saved)
    assert "not an .npz" not in str(info.value)


def test_the_shipped_models_still_load_and_answer():
    from resources.paths import model_path

    x = np.random.default_rng(0).random((2, 28, 28, 1)).astype(np.float32)
    for name in ("digits_mlp", "digits_cnn"):
        with model_path(name) as p:
            m = core_io.load_model(p)
        probs = m.predict(x)
        assert probs.shape == (2, 10)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


# --- saving: no temp file outlives a save, and the process umask is never touched -------


def test_saving_never_changes_the_process_umask(tmp_path, monkeypatch):
    # issue 13.12: save_model read the umask by setting it to 0 and back, and a file
    # another thread created in between got mode 0o666
    import os

    mask = _current_umask()
    calls = []
    monkeypatch.setattr(os, "umask", lambda *a: calls.append(a) or mask)
    path = core_io.save_model(small_cnn(), tmp_path / "net.npz")
    assert calls == []
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    assert core_io.load_model(path).count_params() == small_cnn().count_params()


_KILLED_SAVE = """
import os, signal, sys
import numpy as np
from core import io as core_io
from core.layers import Dense
from core.model import Sequential

def half_written(fh, **arrays):
    fh.write(b"PK\\x03\\x04" + b"\\x00" * 5000)
    fh.flush()
    os.kill(os.getpid(), signal.SIGKILL)  # the power goes out mid-save

np.savez_compressed = half_written
core_io.save_model(Sequential([Dense(3)], input_shape=(2,), seed=1), sys.argv[1])
"""


@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGKILL"), reason="needs SIGKILL")
def test_a_save_killed_mid_write_leaves_no_temp_file_after_the_next_save(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    path = tmp_path / "net.npz"
    core_io.save_model(small_cnn(), path)
    before = path.read_bytes()
    root = Path(__file__).resolve().parents[1]
    run = subprocess.run([sys.executable, "-c", _KILLED_SAVE, str(path)], cwd=root,
                         env={**__import__("os").environ, "PYTHONPATH": str(root)}, timeout=120)
    assert run.returncode != 0
    leftovers = [p for p in tmp_path.iterdir() if p != path]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".net.npz.")  # the killed save's
    assert path.read_bytes() == before  # the file itself was never touched
    core_io.save_model(small_cnn(), path)
    assert list(tmp_path.iterdir()) == [path]


def test_the_temp_file_of_a_save_still_running_is_left_alone(tmp_path):
    fcntl = pytest.importorskip("fcntl")
    path = tmp_path / "net.npz"
    running = tmp_path / ".net.npz.0a1b2c3d.tmp"
    with open(running, "wb") as fh:  # another process's save, holding its lock
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        core_io.save_model(small_cnn(), path)
        assert running.exists()
    core_io.save_model(small_cnn(), path)  # that save died without finishing
    assert sorted(tmp_path.iterdir()) == [path]
    other = tmp_path / ".other.npz.0a1b2c3d.tmp"
    other.write_bytes(b"")
    core_io.save_model(small_cnn(), path)
    assert other.exists()  # another file's temp is that file's save to clean up


@pytest.mark.parametrize("how", ["encrypted", "unknown compression"])
def test_a_zip_using_features_model_files_never_use_is_a_value_error(saved, tmp_path, how):
    data = bytearray(saved.read_bytes())
    central = data.find(b"PK\x01\x02")
    if how == "encrypted":
        data[central + 8] |= 0x01                   # general purpose flag: encrypted
    else:
        data[central + 10:central + 12] = (99).to_bytes(2, "little")  # compression method
    p = tmp_path / "odd.npz"
    p.write_bytes(bytes(data))
    with pytest.raises(Exception) as info:
        core_io.load_model(p)
    assert info.type is ValueError and "odd.npz" in str(info.value)


def test_a_model_too_large_to_load_back_is_not_saved(tmp_path, monkeypatch):
    from core.layers import ReLU

    deep = Sequential([ReLU() for _ in range(core_io.MAX_LAYERS + 1)], input_shape=(2,))
    with pytest.raises(ValueError, match="could not be opened again"):
        core_io.save_model(deep, tmp_path / "deep.npz")
    monkeypatch.setattr(core_io, "MAX_PARAMS", 10)
    with pytest.raises(ValueError, match="parameters.*could not be opened again"):
        core_io.save_model(small_cnn(), tmp_path / "big.npz")
    assert list(tmp_path.iterdir()) == []


def test_names_stay_unique_when_the_layer_list_was_changed_directly():
    from core.layers import ReLU

    m = Sequential([ReLU(), ReLU()])
    m.layers[-1] = ReLU(name="re_lu_5")   # code that edits the list without add()
    m.add(ReLU())
    m.layers.pop(0)
    m.add(ReLU())
    names = [lay.name for lay in m.layers]
    assert len(set(names)) == len(names) == 3
