"""The vectorised exp the softmax losses use, against float64 exp."""

import numpy as np

from core.kernels.fast_exp import exp_nonpositive


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
    x = -np.linspace(0, 700, 1001)
    np.testing.assert_allclose(exp_nonpositive(x), np.exp(x), rtol=3e-16, atol=0)
