"""The fast paths: fused bias+ReLU, one-pass backward, both convolution methods, batch chunks.

Every way a kernel can compute a result (direct loops or im2col+BLAS, serial or split
into chunks for threads, uneven chunks included) must give the reference's numbers, the
same bits on every run, and NaN where NaN belongs.

The kernels run on float32, the dtype the engine runs: these tests check the machine code
that ships and compile nothing the app would not. The references compute in float64.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reference as ref
from core.kernels import _threads
from core.kernels import dense as dense_k
from core.kernels import pool as pool_k
from core.kernels.conv import im2col as conv_k
from core.kernels.conv import pool_fused as convpool_k
from core.kernels import (
    conv2d_backward,
    conv2d_forward,
    dense_backward,
    dense_forward,
    max_pool_backward,
    max_pool_forward,
)

# the fixtures below only choose a code path; they hold no state a generated input could leak
FIXTURE_OK = [HealthCheck.function_scoped_fixture]
F32 = np.float32
# sums of at most ~100 products of standard normals, rounded in float32 (6e-8): ~1e-5 at
# most, where a wrong index, mask or chunk boundary is off by O(1)
TOL = dict(rtol=2e-4, atol=2e-4)


@pytest.fixture(params=["one chunk", "3 chunks on threads", "3 chunks in turn"])
def split(request, monkeypatch):
    """One chunk, or every batch split into 3 (uneven for most batch sizes) run on Numba's
    threads or one after the other on the calling thread."""
    _threads.configure()
    if request.param == "one chunk":
        monkeypatch.setitem(_threads._state, "chunks", 1)
    else:
        monkeypatch.setitem(_threads._state, "chunks", 3)
        for mod in (conv_k, convpool_k, dense_k, pool_k):
            monkeypatch.setattr(mod, "PARALLEL_MIN_WORK", 0)
        monkeypatch.setattr(_threads, "FORCE_MODE", "threads" if "threads" in request.param else "serial")
    return request.param


@pytest.fixture(params=["direct", "im2col"])
def method(request, monkeypatch):
    monkeypatch.setattr(conv_k, "DIRECT_MAX_K", 10**9 if request.param == "direct" else 0)
    return request.param


def _relu_conv_reference(x, w, b, dy, stride, padding):
    z = ref.conv2d_forward(x, w, b, stride, padding)
    dz = ref.relu_grad(z, dy)
    return (ref.relu(z), ref.conv2d_grad_input(dz, w, x.shape, stride, padding),
            ref.conv2d_grad_weight(x, dz, w.shape[:2], stride, padding),
            dz.sum(axis=(0, 1, 2)))


# ---------------------------------------------------------------- convolution

@settings(max_examples=25, deadline=None, suppress_health_check=FIXTURE_OK)
@given(n=st.integers(1, 5), h=st.integers(3, 9), w=st.integers(3, 9), c_in=st.integers(1, 4),
       c_out=st.integers(1, 5), k=st.sampled_from([(1, 1), (2, 3), (3, 3)]),
       stride=st.sampled_from([1, 2, (2, 1)]), padding=st.sampled_from(["valid", "same"]),
       seed=st.integers(0, 2**31))
def test_conv_relu_forward_and_backward_match_reference(split, method, n, h, w, c_in, c_out, k,
                                                        stride, padding, seed):
    rng = np.random.default_rng(seed)
    dtype = F32
    x = rng.standard_normal((n, h, w, c_in)).astype(dtype)
    kern = rng.standard_normal((*k, c_in, c_out)).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype)
    a = conv2d_forward(x, kern, b, stride, padding, activation="relu")
    dy = rng.standard_normal(a.shape).astype(dtype)
    want_a, want_dx, want_dw, want_db = _relu_conv_reference(x, kern, b, dy, stride, padding)
    np.testing.assert_allclose(a, want_a, **TOL)
    dx, dw, db = conv2d_backward(x, kern, dy, stride, padding, relu_output=a)
    assert (dx.dtype, dw.dtype, db.dtype) == (dtype, dtype, dtype)
    np.testing.assert_allclose(dx, want_dx, **TOL)
    np.testing.assert_allclose(dw, want_dw, **TOL)
    np.testing.assert_allclose(db, want_db, **TOL)
    # without the input gradient: same parameter gradients, no dx
    none, dw2, db2 = conv2d_backward(x, kern, dy, stride, padding, relu_output=a, need_input_grad=False)
    assert none is None
    np.testing.assert_array_equal(dw2, dw)
    np.testing.assert_array_equal(db2, db)
    # the plain (no activation) forward agrees with the reference too
    np.testing.assert_allclose(conv2d_forward(x, kern, b, stride, padding),
                               ref.conv2d_forward(x, kern, b, stride, padding), **TOL)


def test_conv_relu_gradients_match_finite_differences(method):
    # the float32 kernels' gradients against the float64 reference's, and those against
    # centred finite differences of the reference's forward pass in float64 (a step of
    # 1e-6; in float32 a step of ~1e-3 rounds to ~1e-3 and crosses ReLU's kink wherever a
    # pre-activation is within a step of 0 - here the nearest is 0.008 away)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 6, 5, 2)).astype(F32)
    w = rng.standard_normal((3, 3, 2, 3)).astype(F32)
    b = rng.standard_normal(3).astype(F32)
    a = conv2d_forward(x, w, b, 1, "same", activation="relu")
    r = rng.standard_normal(a.shape).astype(F32)
    x64, w64, b64, r64 = (v.astype(np.float64) for v in (x, w, b, r))

    def loss(x_, w_, b_):
        return float(np.sum(r64 * ref.relu(ref.conv2d_forward(x_, w_, b_, 1, "same"))))

    _, *want = _relu_conv_reference(x64, w64, b64, r64, 1, "same")
    for got, exp in zip(conv2d_backward(x, w, r, 1, "same", relu_output=a), want):
        np.testing.assert_allclose(got, exp, **TOL)
    want_dx, want_dw, want_db = want
    tol = dict(rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(want_dx, ref.finite_diff(lambda v: loss(v, w64, b64), x64), **tol)
    np.testing.assert_allclose(want_dw, ref.finite_diff(lambda v: loss(x64, v, b64), w64), **tol)
    np.testing.assert_allclose(want_db, ref.finite_diff(lambda v: loss(x64, w64, v), b64), **tol)


def test_course_cnn_shapes_are_reproducible_and_match_reference(split):
    # the course CNN's two convolutions at a batch that is split across threads
    rng = np.random.default_rng(9)
    for shape, kern_shape in (((10, 28, 28, 1), (3, 3, 1, 32)), ((10, 13, 13, 32), (3, 3, 32, 64))):
        x = rng.random(shape, dtype=np.float32)
        w = (rng.standard_normal(kern_shape) * 0.2).astype(np.float32)
        b = (rng.standard_normal(kern_shape[3]) * 0.1).astype(np.float32)
        a = conv2d_forward(x, w, b, activation="relu")
        dy = rng.standard_normal(a.shape).astype(np.float32)
        grads = conv2d_backward(x, w, dy, relu_output=a)
        for mode in ("threads", "serial"):  # same chunks on threads or not: the same bits
            _threads.FORCE_MODE = mode
            try:
                np.testing.assert_array_equal(conv2d_forward(x, w, b, activation="relu"), a)
                for g1, g2 in zip(conv2d_backward(x, w, dy, relu_output=a), grads):
                    np.testing.assert_array_equal(g1, g2)
            finally:
                _threads.FORCE_MODE = None
        want = _relu_conv_reference(x, w, b, dy, 1, "valid")
        for got, exp in zip((a, *grads), want):
            np.testing.assert_allclose(got, exp, rtol=1e-4, atol=2e-3)


def test_conv_relu_keeps_nan_visible(method):
    dtype = F32
    x = np.ones((2, 5, 5, 1), dtype)
    w = -np.ones((3, 3, 1, 2), dtype)  # every pre-activation is negative: ReLU gives 0
    b = np.zeros(2, dtype)
    x[1, 2, 2, 0] = np.nan
    a = conv2d_forward(x, w, b, 1, "valid", activation="relu")
    assert np.isnan(a[1]).all() and (a[0] == 0).all()  # NaN is not clipped to 0
    dy = np.ones_like(a)
    dy[0, 0, 0, 0] = np.inf  # inf arriving where ReLU is off: inf*0 = NaN, never a silent 0
    dx, dw, db = conv2d_backward(x, w, dy, 1, "valid", relu_output=a)
    assert np.isnan(db).all() and np.isnan(dw).all() and np.isnan(dx[1]).any()
    assert np.isnan(dx[0, :3, :3, 0]).all() and np.isfinite(dx[0, 3:, 3:]).all()


def test_conv_backward_checks_arguments():
    x = np.zeros((1, 5, 5, 2), np.float32)
    w = np.zeros((3, 3, 2, 4), np.float32)
    dy = np.zeros((1, 3, 3, 4), np.float32)
    with pytest.raises(ValueError, match="dy must have shape"):
        conv2d_backward(x, w, dy[:, :2])
    with pytest.raises(ValueError, match="relu_output"):
        conv2d_backward(x, w, dy, relu_output=dy[..., :2])
    with pytest.raises(ValueError, match="activation"):
        conv2d_forward(x, w, np.zeros(4, np.float32), activation="tanh")


# ---------------------------------------------------------------- dense

@settings(max_examples=25, deadline=None, suppress_health_check=FIXTURE_OK)
@given(n=st.integers(1, 9), i=st.integers(1, 9), o=st.integers(1, 9), seed=st.integers(0, 2**31))
def test_dense_relu_forward_and_backward_match_reference(split, n, i, o, seed):
    rng = np.random.default_rng(seed)
    dtype = F32
    x, w = rng.standard_normal((n, i)).astype(dtype), rng.standard_normal((i, o)).astype(dtype)
    b, dy = rng.standard_normal(o).astype(dtype), rng.standard_normal((n, o)).astype(dtype)
    x64, w64, dy64 = (v.astype(np.float64) for v in (x, w, dy))
    z = ref.dense_forward(x64, w64, b)
    a = dense_forward(x, w, b, activation="relu")
    np.testing.assert_allclose(a, ref.relu(z), **TOL)
    np.testing.assert_allclose(dense_forward(x, w, b), z, **TOL)
    dz = ref.relu_grad(z, dy64)
    got = dense_backward(x, w, dy, relu_output=a)
    for g, want in zip(got, ref.dense_backward(x64, w64, dz)):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, want, **TOL)
    plain = dense_backward(x, w, dy)
    for g, want in zip(plain, ref.dense_backward(x64, w64, dy64)):
        np.testing.assert_allclose(g, want, **TOL)
    none, dw, db = dense_backward(x, w, dy, relu_output=a, need_input_grad=False)
    assert none is None
    np.testing.assert_array_equal(dw, got[1])
    np.testing.assert_array_equal(db, got[2])


def test_dense_course_sizes_are_reproducible_and_match_reference(split):
    rng = np.random.default_rng(12)
    x = rng.random((50, 784), dtype=np.float32)
    w = (rng.standard_normal((784, 128)) * 0.05).astype(np.float32)
    b = (rng.standard_normal(128) * 0.1).astype(np.float32)
    dy = rng.standard_normal((50, 128)).astype(np.float32)
    a = dense_forward(x, w, b, activation="relu")
    grads = dense_backward(x, w, dy, relu_output=a)
    for mode in ("threads", "serial"):  # same chunks on threads or not: the same bits
        _threads.FORCE_MODE = mode
        try:
            np.testing.assert_array_equal(dense_forward(x, w, b, activation="relu"), a)
            for g1, g2 in zip(dense_backward(x, w, dy, relu_output=a), grads):
                np.testing.assert_array_equal(g1, g2)
        finally:
            _threads.FORCE_MODE = None
    z = x.astype(np.float64) @ w + b
    dz = np.where(z > 0, dy, 0.0)
    np.testing.assert_allclose(a, np.maximum(z, 0), rtol=1e-4, atol=1e-4)
    for g, want in zip(grads, (dz @ w.T, x.T.astype(np.float64) @ dz, dz.sum(0))):
        np.testing.assert_allclose(g, want, rtol=1e-4, atol=1e-3)


def test_dense_relu_keeps_nan_visible():
    dtype = F32
    x = np.ones((3, 4), dtype)
    w = -np.ones((4, 2), dtype)
    b = np.zeros(2, dtype)
    x[1, 0] = np.nan
    a = dense_forward(x, w, b, activation="relu")
    assert np.isnan(a[1]).all() and (a[[0, 2]] == 0).all()
    dy = np.ones_like(a)
    dy[2, 1] = np.inf
    dx, dw, db = dense_backward(x, w, dy, relu_output=a)
    assert np.isnan(dx[1]).all() and np.isnan(dx[2]).all() and np.isfinite(dx[0]).all()
    assert np.isnan(db).all() and np.isnan(dw).all()


# ---------------------------------------------------------------- pooling

@settings(max_examples=25, deadline=None, suppress_health_check=FIXTURE_OK)
@given(n=st.integers(1, 7), h=st.integers(2, 9), w=st.integers(2, 9), c=st.integers(1, 5),
       pool=st.sampled_from([2, 3, (2, 3)]), padding=st.sampled_from(["valid", "same"]),
       ties=st.booleans(), seed=st.integers(0, 2**31))
def test_max_pool_chunks_match_reference(split, n, h, w, c, pool, padding, ties, seed):
    rng = np.random.default_rng(seed)
    kh, kw = ref.pair(pool)
    h, w = max(h, kh), max(w, kw)
    x = (rng.integers(0, 3, (n, h, w, c)) if ties else rng.standard_normal((n, h, w, c))).astype(np.float32)
    y, arg = max_pool_forward(x, pool, None, padding)
    want_y, want_arg = ref.max_pool_forward(x, pool, pool, padding)
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(arg, want_arg)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    np.testing.assert_allclose(max_pool_backward(dy, arg, x.shape),
                               ref.max_pool_backward(dy, x, pool, pool, padding), rtol=1e-6, atol=1e-6)


def test_max_pool_without_argmax_gives_the_same_maxima():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 26, 26, 8)).astype(np.float32)
    x[2, 3, 3, 1] = np.nan
    plan = pool_k.max_pool_plan(x.shape, 2)
    y, arg = pool_k.max_pool_forward_planned(x, plan, want_argmax=False)
    assert arg is None
    np.testing.assert_array_equal(y, max_pool_forward(x, 2)[0])
    assert np.isnan(y[2, 1, 1, 1])


# ---------------------------------------------------------------- convolution + pooling fused

def _convpool_reference(x, w, b, pool, relu, dy=None):
    z = ref.conv2d_forward(x, w, b, 1, "valid")
    a = ref.relu(z) if relu else z
    y, _ = ref.max_pool_forward(a, pool, pool, "valid")
    if dy is None:
        return y
    da = ref.max_pool_backward(dy, a, pool, pool, "valid")
    dz = ref.relu_grad(z, da) if relu else da
    return (y, ref.conv2d_grad_input(dz, w, x.shape, 1, "valid"),
            ref.conv2d_grad_weight(x, dz, w.shape[:2], 1, "valid"), dz.sum(axis=(0, 1, 2)))


@settings(max_examples=25, deadline=None, suppress_health_check=FIXTURE_OK)
@given(n=st.integers(1, 5), h=st.integers(4, 11), w=st.integers(4, 11), c_in=st.integers(1, 4),
       c_out=st.integers(1, 5), k=st.sampled_from([1, 2, 3]), pool=st.sampled_from([2, 3, (2, 3)]),
       relu=st.booleans(), ties=st.booleans(), seed=st.integers(0, 2**31))
def test_convpool_matches_conv_relu_pool_reference(split, method, n, h, w, c_in, c_out, k, pool,
                                                   relu, ties, seed):
    rng = np.random.default_rng(seed)
    pkh, pkw = ref.pair(pool)
    plans = convpool_k.convpool_plan((h, w, c_in), (k, k, c_in, c_out), (1, 1), "valid",
                                     (pkh, pkw), (pkh, pkw), "valid")
    if plans is None:  # the window does not fit the convolution's output
        assert h - k + 1 < pkh or w - k + 1 < pkw
        return
    if ties:  # small integers, exact in float32: equal maxima in windows, exact zeros after ReLU
        x = rng.integers(-1, 2, (n, h, w, c_in)).astype(np.float32)
        kern = rng.integers(-1, 2, (k, k, c_in, c_out)).astype(np.float32)
        b = rng.integers(-1, 2, c_out).astype(np.float32)
    else:
        x = rng.standard_normal((n, h, w, c_in)).astype(np.float32)
        kern = rng.standard_normal((k, k, c_in, c_out)).astype(np.float32)
        b = rng.standard_normal(c_out).astype(np.float32)
    y, arg = convpool_k.convpool_forward(x, kern, b, plans, relu, True)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    want_y, want_dx, want_dw, want_db = _convpool_reference(x, kern, b, pool, relu, dy)
    np.testing.assert_allclose(y, want_y, rtol=1e-5, atol=1e-5)
    y2, none = convpool_k.convpool_forward(x, kern, b, plans, relu, False)
    assert none is None
    np.testing.assert_array_equal(y2, y)
    dx, dw, db = convpool_k.convpool_backward(x, kern, y, arg, dy, plans, relu, True)
    tol = dict(rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dx, want_dx, **tol)
    np.testing.assert_allclose(dw, want_dw, **tol)
    np.testing.assert_allclose(db, want_db, **tol)
    none, dw2, db2 = convpool_k.convpool_backward(x, kern, y, arg, dy, plans, relu, False)
    assert none is None
    np.testing.assert_array_equal(dw2, dw)


def test_convpool_refuses_pools_it_cannot_fuse():
    args = ((10, 10, 1), (3, 3, 1, 4), (1, 1), "valid")
    assert convpool_k.convpool_plan(*args, (2, 2), (1, 1), "valid") is None  # overlapping
    assert convpool_k.convpool_plan(*args, (2, 2), (2, 2), "same") is None
    assert convpool_k.convpool_plan(*args, (9, 9), (9, 9), "valid") is None  # 8x8 output
    assert convpool_k.convpool_plan(*args, (2, 2), (2, 2), "valid") is not None


def test_convpool_nan_in_a_window_wins_and_reaches_the_gradients():
    x = np.ones((2, 6, 6, 1), np.float32)
    w = np.ones((3, 3, 1, 2), np.float32)
    b = np.zeros(2, np.float32)
    x[1, 0, 0, 0] = np.nan
    plans = convpool_k.convpool_plan(x.shape[1:], w.shape, (1, 1), "valid", (2, 2), (2, 2), "valid")
    y, arg = convpool_k.convpool_forward(x, w, b, plans, True, True)
    assert np.isnan(y[1, 0, 0]).all() and np.isfinite(y[0]).all()
    dx, dw, db = convpool_k.convpool_backward(x, w, y, arg, np.ones_like(y), plans, True, True)
    assert np.isnan(dw).all() and np.isnan(db).all() and np.isfinite(dx[0]).all()


def test_fused_training_step_equals_the_layer_by_layer_trace():
    # train_on_batch runs Conv2D+MaxPool2D fused; trace_step runs every layer on its own:
    # from the same weights, the two must compute the same loss and the same update
    from core.layers import Conv2D, Dense, Flatten, MaxPool2D
    from core.model import Sequential
    from core.optimizers import SGD

    def model():
        m = Sequential([Conv2D(8, 3, activation="relu"), MaxPool2D(2), Conv2D(6, 3, activation="relu"),
                        MaxPool2D(2), Flatten(), Dense(10, activation="softmax")],
                       input_shape=(16, 16, 1), seed=3)
        m.compile(optimizer=SGD(0.1), loss="sparse_categorical_crossentropy")
        return m

    rng = np.random.default_rng(0)
    x = rng.random((12, 16, 16, 1), dtype=np.float32)
    y = rng.integers(0, 10, 12)
    fast, traced = model(), model()
    logs = fast.train_on_batch(x, y)
    trace = traced.trace_step(x, y)
    assert logs["loss"] == pytest.approx(trace.loss, rel=1e-6)
    for a, b in zip(fast.get_weights(), traced.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(fast.predict(x), traced.predict(x), rtol=1e-5, atol=1e-7)
    # the trace still shows the full-size maps the fused step never stores
    assert trace.layers[0].output.shape == (12, 14, 14, 8)
    np.testing.assert_array_equal(trace.layers[0].output, ref.relu(trace.layers[0].pre_activation))
    assert trace.layers[1].extras["argmax"].shape == (12, 7, 7, 8)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_zero_pixels_are_skipped_only_when_that_changes_nothing(method, bad):
    # digits are mostly zero pixels, which the direct loops skip: with a non-finite weight
    # 0 * inf must still give NaN wherever the reference (plain IEEE arithmetic) does
    rng = np.random.default_rng(8)
    x = (rng.standard_normal((2, 7, 7, 1)) * (rng.random((2, 7, 7, 1)) < 0.3)).astype(F32)
    w = rng.standard_normal((3, 3, 1, 4)).astype(F32)
    b = rng.standard_normal(4).astype(F32)
    np.testing.assert_allclose(conv2d_forward(x, w, b), ref.conv2d_forward(x, w, b, 1, "valid"),
                               rtol=1e-5, atol=1e-5)  # sums of 9 products, in float32
    w[1, 2, 0, 3] = bad
    got = conv2d_forward(x, w, b)
    with np.errstate(invalid="ignore"):
        want = ref.conv2d_forward(x, w, b, 1, "valid")
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    assert np.isnan(got[..., 3]).any() and np.isfinite(got[..., :3]).all()


@settings(max_examples=40, deadline=None)
@given(shape=st.sampled_from([(0,), (1,), (7,), (3, 5), (64, 33)]),
       bad=st.sampled_from([None, np.nan, np.inf, -np.inf]), where=st.floats(0, 1), seed=st.integers(0, 2**31),
       layout=st.sampled_from(["C", "F", "strided"]))
def test_all_finite_agrees_with_numpy(shape, bad, where, seed, layout):
    from core.kernels import all_finite

    dtype = F32  # the gradients' dtype, which training checks
    a = (np.random.default_rng(seed).standard_normal(shape) * 1e30).astype(dtype)
    if bad is not None and a.size:
        a.reshape(-1)[int(where * (a.size - 1))] = bad
    if layout == "F":
        a = np.asfortranarray(a)
    elif layout == "strided" and a.ndim == 2:
        a = a[:, ::2]
    assert all_finite(a) == bool(np.isfinite(a).all())
    assert all_finite(a, np.ones(3, dtype)) == bool(np.isfinite(a).all())


def test_convpool_threads_or_not_give_the_same_bits(monkeypatch):
    # whether the chunks run on threads is chosen by timing at run time: it must never
    # change a result, or training would not be reproducible
    monkeypatch.setitem(_threads._state, "chunks", 2)
    rng = np.random.default_rng(5)
    for xs, ws in (((16, 28, 28, 1), (3, 3, 1, 32)), ((16, 13, 13, 32), (3, 3, 32, 64))):
        x = rng.random(xs, dtype=np.float32)
        w = (rng.standard_normal(ws) * 0.3).astype(np.float32)
        b = (rng.standard_normal(ws[3]) * 0.1).astype(np.float32)
        plans = convpool_k.convpool_plan(xs[1:], ws, (1, 1), "valid", (2, 2), (2, 2), "valid")
        out = {}
        for mode in ("threads", "serial"):
            y, arg = convpool_k.convpool_forward(x, w, b, plans, True, True, mode=mode)
            grads = convpool_k.convpool_backward(x, w, y, arg, y * 0.5, plans, True, True, mode=mode)
            out[mode] = (y, arg, *grads)
        for a, c in zip(out["threads"], out["serial"]):
            np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("bad", [None, np.inf, -np.inf, np.nan])
def test_first_block_on_sparse_digits_matches_the_reference(padding, bad):
    # the 3x3 one-channel conv + ReLU + 2x2 pool skips all-zero windows of a digit's
    # background: with a non-finite weight or input, 0 * inf must still give NaN wherever
    # plain IEEE arithmetic (the layer-by-layer reference) does
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((3, 12, 12, 1)) * (rng.random((3, 12, 12, 1)) < 0.25)).astype(np.float32)
    w = rng.standard_normal((3, 3, 1, 5)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    if bad is not None:
        w[0, 1, 0, 2] = bad
        x[2, 7, 7, 0] = bad
    plans = convpool_k.convpool_plan(x.shape[1:], w.shape, (1, 1), padding, (2, 2), (2, 2), "valid")
    y, arg = convpool_k.convpool_forward(x, w, b, plans, True, True)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    _, dw, db = convpool_k.convpool_backward(x, w, y, arg, dy, plans, True, False)
    x64, w64, b64, dy64 = (a.astype(np.float64) for a in (x, w, b, dy))
    with np.errstate(invalid="ignore", over="ignore"):
        z = ref.conv2d_forward(x64, w64, b64, 1, padding)
        a = np.where((z > 0) | np.isnan(z), z, 0.0)  # the engine's ReLU keeps NaN visible
        want_y, _ = ref.max_pool_forward(a, 2, 2, "valid")
        da = ref.max_pool_backward(dy64, a, 2, 2, "valid")
        dz = np.where(z > 0, da, np.where(np.isnan(z), z, da * 0.0))
        want_dw = ref.conv2d_grad_weight(x64, dz, (3, 3), 1, padding)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(want_y))
    np.testing.assert_array_equal(np.isnan(dw), np.isnan(want_dw))
    if bad is None:
        np.testing.assert_allclose(y, want_y, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(dw, want_dw, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(db, dz.sum(axis=(0, 1, 2)), rtol=1e-4, atol=1e-4)
