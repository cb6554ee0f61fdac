"""core.kernels.fanout: a chunk kernel's parts on Numba's threads through its address.

What the convolution kernels rely on: every part runs once, on any thread count; the same
kernel serves arguments of other types (another dtype, a strided view) without ever being
called with types it was not compiled for; a part that raises is reported, not ignored.
"""
import numpy as np
import pytest
from numba import njit

from core.kernels import _threads, fanout


@njit(nogil=True)
def _scale_part(t, nt, x, y, s):
    i0, i1 = fanout.part(t, nt, x.shape[0])
    for i in range(i0, i1):
        y[i] = x[i] * s


@njit(nogil=True)
def _fails_in_last_part(t, nt, y):
    if t == nt - 1:
        raise ValueError("part failed")
    y[t] = 1.0


def _parallel(kernel, nt, args):
    with _threads.PARALLEL_LOCK:
        fanout.run(kernel, nt, args)


@pytest.mark.parametrize("nt", [1, 2, 3, 7])
@pytest.mark.parametrize("way", ["threads", "in turn"])
def test_every_part_runs_once_on_any_thread_count(nt, way):
    x = np.arange(20, dtype=np.float32)
    y = np.full(20, np.nan, dtype=np.float32)
    args = (x, y, np.float32(3))
    if way == "threads":
        _parallel(_scale_part, nt, args)
    else:
        fanout.in_turn(_scale_part, nt, args)
    np.testing.assert_array_equal(y, x * np.float32(3))


def test_the_parts_split_like_a_range_split_in_order():
    seen = [fanout.part(t, 3, 10) for t in range(3)]
    assert seen == [(0, 4), (4, 8), (8, 10)]
    assert fanout.part(3, 4, 3) == (3, 3)  # more parts than items: the last ones are empty


def test_arguments_of_other_types_reach_a_kernel_compiled_for_them():
    # float32, float64 and a strided view, alternating: each call must find (or compile)
    # the kernel for its own types, never call one compiled for the previous call's
    cases = []
    for dtype in (np.float32, np.float64):
        x = np.linspace(-1, 1, 31).astype(dtype)
        cases.append((x, np.zeros_like(x), dtype(2.5)))
    base = np.linspace(0, 6, 62)
    cases.append((base[::2], np.zeros(31), np.float64(-1.5)))
    for _ in range(2):
        for x, y, s in cases:
            y[:] = 0
            _parallel(_scale_part, 2, (x, y, s))
            np.testing.assert_array_equal(y, x * s)


def test_a_part_that_raises_is_reported():
    y = np.zeros(2)
    with pytest.raises(RuntimeError, match="_fails_in_last_part"):
        _parallel(_fails_in_last_part, 2, (y,))
    assert y[0] == 1.0  # the other part ran


def test_a_tag_names_the_argument_types():
    from numba import types

    a = (types.int64, types.float32[::1])
    b = (types.int64, types.float64[::1])
    assert fanout.signature_tag(a) == fanout.signature_tag(tuple(a))
    assert fanout.signature_tag(a) != fanout.signature_tag(b)
    assert fanout.signature_tag(a) > 0


@njit(nogil=True)
def _compiled_caller(addr, tag, nt, x, y, s):
    return fanout.fan_or_here(addr, tag, nt, (x, y, s))


@pytest.mark.parametrize("nt", [1, 2])
def test_compiled_code_calls_parts_through_an_address_it_was_given(nt):
    from numba import types

    x = np.arange(9, dtype=np.float32)
    y = np.zeros_like(x)
    vec = types.Array(types.float32, 1, "C")
    addr, tag = fanout.address_for(_scale_part, (vec, vec, types.float32))
    with _threads.PARALLEL_LOCK:
        assert _compiled_caller(addr, tag, nt, x, y, np.float32(2)) == fanout.RAN
    np.testing.assert_array_equal(y, x * 2)


def test_an_address_for_other_types_is_never_called():
    from numba import types

    x = np.arange(9, dtype=np.float32)
    y = np.zeros_like(x)
    wide = types.Array(types.float64, 1, "C")
    addr, tag = fanout.address_for(_scale_part, (wide, wide, types.float64))
    with _threads.PARALLEL_LOCK:
        status = _compiled_caller(addr, tag, 2, x, y, np.float32(2))
    assert status > 0 and status != tag  # the tag of the types it expected instead
    assert not y.any()  # nothing ran
