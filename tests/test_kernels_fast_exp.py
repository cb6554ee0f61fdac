"""The vectorised exp the softmax losses use, against float64 exp."""

import numpy as np
from numba import types

# exp_nonpositive is the SIMD exp's entry point for tests: the engine's kernels inline the
# exp itself, so its float32 specialisation is this file's one compile beyond the warm-up
from core.kernels.fast_exp import _exp_prefix_impl, exp_nonpositive


def test_within_one_unit_in_the_last_place_on_the_whole_range():
    rng = np.random.default_rng(0)
    x = np.concatenate([-np.logspace(-9, np.log10(87.3), 100_000), rng.uniform(-87.3, 0, 100_000),
                        [0.0, -1e-30, -0.5, -np.log(2), -1.0]]).astype(np.float32)
    got = exp_nonpositive(x).astype(np.float64)
    want = np.exp(x.astype(np.float64))
    ulp = np.spacing(want.astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(got - want) / ulp) <= 1.0
    assert exp_nonpositive(np.float32([0.0]))[0] == 1.0


def test_limits_and_nan():
    x = np.float32([-np.inf, -88.0, -1000.0, np.nan, -0.0])
    got = exp_nonpositive(x)
    assert got[0] == 0.0 and got[2] == 0.0 and np.isnan(got[3]) and got[4] == 1.0
    assert 0.0 <= got[1] < 1e-37


def test_float64_keeps_the_c_librarys_exp():
    # checked where the choice is made (the overload, at typing) and the chosen loop run as
    # plain Python: compiled, it would be a float64 specialisation the engine (float32
    # throughout) never runs, ~0.7 s of a first run
    bits, n = types.Array(types.int32, 1, "C"), types.uint64
    pick = {dt: _exp_prefix_impl(types.Array(dt, 1, "C"), bits, n) for dt in (types.float32, types.float64)}
    assert pick[types.float32].__name__ == "simd" and pick[types.float64].__name__ == "plain"
    x = -np.linspace(0, 700, 1001)
    got = x.copy()
    pick[types.float64](got, np.empty(x.size, np.int32), x.size)
    np.testing.assert_allclose(got, np.exp(x), rtol=3e-16, atol=0)
