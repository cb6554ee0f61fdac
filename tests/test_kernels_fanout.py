"""core.kernels.fanout: a chunk kernel's parts on Numba's threads through its address.

What the convolution kernels rely on: every part runs once, on any thread count; the same
kernel serves arguments of other types (another dtype, a strided view) without ever being
called with types it was not compiled for; a part that raises is reported, not ignored.
"""
import numpy as np
import pytest
from numba import njit

from core.kernels import _threads, fanout

# `fan`, `fan_or_here` and a thunk are compiled (and cached) per tuple of argument types,
# whatever the kernel. The test kernels take the types dense's split by samples passes,
# (x, w, split, z): float32 C-contiguous rows, an int64: the specialisations the engine runs
# and its warm-up compiles, so this file compiles few others (~0.2 s each on a first run):
# those test_arguments_of_other_types_reach_a_kernel_compiled_for_them and
# test_the_parallel_loop_is_compiled_once_whatever_the_kernels_arguments need.


@njit(nogil=True)
def _axpy_part(t, nt, x, y, k, out):
    """out = x + k * y on part t of nt of the rows."""
    i0, i1 = fanout.part(t, nt, x.shape[0])
    for i in range(i0, i1):
        for j in range(x.shape[1]):
            out[i, j] = x[i, j] + k * y[i, j]


@njit(nogil=True)
def _fails_in_last_part(t, nt, x, y, k, out):
    if t == nt - 1:
        raise ValueError("part failed")
    out[t, 0] = 1.0


def _rows(n, dtype=np.float32):
    """x, y (n, 3) and out (n, 3) of NaN; small multiples of 1/2, so that x + k * y is exact
    however it is computed."""
    x = np.arange(3 * n, dtype=dtype).reshape(n, 3)
    y = ((np.arange(3 * n) % 7 - 3) / 2).astype(dtype).reshape(n, 3)
    return x, y, np.full((n, 3), np.nan, dtype)


def _parallel(kernel, nt, args):
    with _threads.PARALLEL_LOCK:
        fanout.run(kernel, nt, args)


@pytest.mark.parametrize("nt", [1, 2, 3, 7])
@pytest.mark.parametrize("way", ["threads", "in turn"])
def test_every_part_runs_once_on_any_thread_count(nt, way):
    x, y, out = _rows(20)
    args = (x, y, 3, out)
    if way == "threads":
        _parallel(_axpy_part, nt, args)
    else:
        fanout.in_turn(_axpy_part, nt, args)
    np.testing.assert_array_equal(out, x + 3 * y)


def test_the_parts_split_like_a_range_split_in_order():
    seen = [fanout.part(t, 3, 10) for t in range(3)]
    assert seen == [(0, 4), (4, 8), (8, 10)]
    assert fanout.part(3, 4, 3) == (3, 3)  # more parts than items: the last ones are empty


def test_arguments_of_other_types_reach_a_kernel_compiled_for_them():
    # C-contiguous rows and a strided view of rows, alternating: each call must find (or
    # compile) the kernel for its own types, never call one compiled for the previous
    # call's. Only the layout differs, the subtlest difference a tag must tell apart (tags
    # of other dtypes differ too: test_a_tag_names_the_argument_types). The view's `fan`
    # is this file's one deliberate specialisation the engine never runs.
    x, y, out = _rows(31)
    wide = np.arange(31 * 6, dtype=np.float32).reshape(31, 6)
    cases = [(x, y, 2, out), (wide[:, ::2], y, -1, out)]
    for _ in range(2):
        for x, y, k, out in cases:
            out[:] = 0
            _parallel(_axpy_part, 2, (x, y, k, out))
            np.testing.assert_array_equal(out, x + k * y)


def test_the_parallel_loop_is_compiled_once_whatever_the_kernels_arguments():
    # a first launch compiled a parallel loop per tuple of argument types (~0.6 s each, 14
    # of them); now each kernel signature costs a small thunk, and the loop is shared
    x, y, out = _rows(12)
    wide = np.arange(12 * 6, dtype=np.float32).reshape(12, 6)
    _parallel(_axpy_part, 2, (x, y, 2, out))
    _parallel(_axpy_part, 2, (wide[:, ::2], y, 2, out))
    np.testing.assert_array_equal(out, wide[:, ::2] + 2 * y)
    _parallel(_fill_first_column, 2, (x, y, 1.5, out))
    assert (out[:, 0] == 1.5).all()
    assert len(fanout._fan_erased.overloads) == 1


@njit(nogil=True)
def _fill_first_column(t, nt, x, y, k, out):
    """out[:, 0] = k: another kernel, other argument types (a float k)."""
    i0, i1 = fanout.part(t, nt, x.shape[0])
    for i in range(i0, i1):
        out[i, 0] = k


def test_a_part_that_raises_is_reported():
    x, y, out = _rows(2)
    out[:] = 0
    with pytest.raises(RuntimeError, match="_fails_in_last_part"):
        _parallel(_fails_in_last_part, 2, (x, y, 1, out))
    assert out[0, 0] == 1.0  # the other part ran


def test_a_tag_names_the_argument_types():
    from numba import types

    a = (types.int64, types.float32[::1])
    b = (types.int64, types.float64[::1])
    assert fanout.signature_tag(a) == fanout.signature_tag(tuple(a))
    assert fanout.signature_tag(a) != fanout.signature_tag(b)
    assert fanout.signature_tag(a) != fanout.signature_tag((types.int64, types.float32[:]))
    assert fanout.signature_tag(a) > 0


@njit(nogil=True)
def _compiled_caller(addr, tag, nt, x, y, k, out):
    return fanout.fan_or_here(addr, tag, nt, (x, y, k, out))


@pytest.mark.parametrize("nt", [1, 2])
def test_compiled_code_calls_parts_through_an_address_it_was_given(nt):
    from numba import types

    x, y, out = _rows(9)
    rows = types.Array(types.float32, 2, "C")
    addr, tag = fanout.address_for(_axpy_part, (rows, rows, types.int64, rows))
    with _threads.PARALLEL_LOCK:
        assert _compiled_caller(addr, tag, nt, x, y, 2, out) == fanout.RAN
    np.testing.assert_array_equal(out, x + 2 * y)


def test_an_address_for_other_types_is_never_called():
    from numba import types

    x, y, out = _rows(9)
    out[:] = 0
    wide = types.Array(types.float64, 2, "C")  # (only the uncached test kernel compiles)
    addr, tag = fanout.address_for(_axpy_part, (wide, wide, types.int64, wide))
    with _threads.PARALLEL_LOCK:
        status = _compiled_caller(addr, tag, 2, x, y, 2, out)
    assert status > 0 and status != tag  # the tag of the types it expected instead
    assert not out.any()  # nothing ran
