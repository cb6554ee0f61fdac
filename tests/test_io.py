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
