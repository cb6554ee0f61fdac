"""The LSTM and SimpleRNN kernels (core/kernels/recurrent.py) against the slow float64
reference (recurrent_ref.py), whose gradients match centred finite differences, T from 1 to
200; the layers on top of them keep their record; threads and one core give the same bits.

The kernels run on float32, the dtype the engine runs: these tests check the machine code
that ships and compile nothing a first run's warm-up does not (float64 compiled ~20 other
specialisations, ~11 s). The reference and the finite differences stay in float64 (plain
NumPy: nothing to compile), at the same float32 inputs.
"""
import numpy as np
import pytest

from core.kernels import recurrent as K
from core.kernels import recurrent_ref as ref
from core.layers import LSTM, Dense, SimpleRNN
from core.model import Sequential
from core.optimizers import Adam

RNN_ACTIVATIONS = [("tanh", 0.0), ("sigmoid", 0.0), ("relu", 0.0), ("leaky_relu", 0.2),
                   ("linear", 0.0)]


F32 = np.float32


def _weights(rng, f, m, gates, scale=0.6, dtype=F32):
    return tuple(rng.normal(0, scale, s).astype(dtype) for s in
                 ((f, gates * m), (m, gates * m), (gates * m,)))


def _f64(*arrays):
    return [a.astype(np.float64) for a in arrays]


def _close(got, want, name="", rtol=1e-5):
    """float32 against the float64 reference: every value within rtol of itself or of the
    array's largest magnitude. float32 rounds to 6e-8; through the recurrences (T up to
    200) and BPTT's sums over steps and samples the errors measured up to 1.1e-6 of the
    largest value, where a wrong gate, index or derivative is off by O(1)."""
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * np.abs(want).max(),
                               err_msg=name)


def _lstm_state(x, w, u, b):
    """The kernel's forward state, batch-major, for comparing with the reference."""
    gates, cs, tcs, hs = K.lstm_forward_planned(x, w, u, b)
    m = u.shape[0]
    g = gates.transpose(1, 0, 2)
    return {"h": hs.transpose(1, 0, 2), "c": cs.transpose(1, 0, 2), "i": g[..., :m],
            "f": g[..., m:2 * m], "g": g[..., 2 * m:3 * m], "o": g[..., 3 * m:]}


@pytest.mark.parametrize("n,t,f,m", [(1, 1, 1, 1), (3, 1, 2, 4), (2, 5, 3, 4), (4, 17, 5, 3),
                                     (2, 200, 3, 5), (5, 28, 28, 16),
                                     (1, 30, 4, 6)])    # one sequence: vector products
@pytest.mark.parametrize("every_step", [False, True])
def test_lstm_kernel_in_float32_matches_the_float64_reference(n, t, f, m, every_step):
    rng = np.random.default_rng(n * 1000 + t)
    x = rng.normal(size=(n, t, f)).astype(F32)
    w, u, b = _weights(rng, f, m, 4, scale=0.6 if t < 100 else 0.3)
    want = ref.lstm_forward(*_f64(x, w, u, b))
    got = _lstm_state(x, w, u, b)
    for k in want:
        _close(got[k], want[k], k)
    dy = rng.normal(size=(n, t, m) if every_step else (n, m)).astype(F32)
    state = K.lstm_forward_planned(x, w, u, b)
    dx, dw, du, db, dhs, finite = K.lstm_backward_planned(x, w, u, *state, dy)
    assert finite
    for name, g, r in zip(("dx", "dW", "dU", "db", "dh"), (dx, dw, du, db, dhs.transpose(1, 0, 2)),
                          ref.lstm_backward(*_f64(x, w, u, b, dy))):
        _close(g, r, name)


@pytest.mark.parametrize("activation,alpha", RNN_ACTIVATIONS)
@pytest.mark.parametrize("n,t,f,m,every_step", [(1, 1, 2, 3, False), (1, 25, 3, 7, True),
                                                 (1, 25, 3, 7, False), (3, 6, 4, 5, True),
                                                (2, 200, 3, 4, False), (6, 28, 28, 9, True)])
def test_rnn_kernel_in_float32_matches_the_float64_reference(activation, alpha, n, t, f, m, every_step):
    rng = np.random.default_rng(t * 7 + m)
    x = rng.normal(size=(n, t, f)).astype(F32)
    w, u, b = _weights(rng, f, m, 1, scale=0.5 if t < 100 else 0.25)
    want_z, want_h = ref.rnn_forward(*_f64(x, w, u, b), activation, alpha)
    zs, hs = K.rnn_forward_planned(x, w, u, b, activation, alpha)
    _close(hs.transpose(1, 0, 2), want_h, "h")
    _close(zs.transpose(1, 0, 2), want_z, "z")
    dy = rng.normal(size=(n, t, m) if every_step else (n, m)).astype(F32)
    dx, dw, du, db, dhs, finite = K.rnn_backward_planned(x, w, u, zs, hs, dy, activation, alpha)
    assert finite
    for name, g, r in zip(("dx", "dW", "dU", "db", "dh"), (dx, dw, du, db, dhs.transpose(1, 0, 2)),
                          ref.rnn_backward(*_f64(x, w, u, b, dy), activation, alpha)):
        _close(g, r, name)


# The finite-difference tests below check the float64 reference's gradients against centred
# finite differences of its own forward pass (in float64, where a step of 1e-6 is exact to
# ~1e-9), and the float32 kernels' gradients against the reference's at the same inputs.
# (Finite differences of the float32 kernels themselves would need steps of ~1e-3, whose
# truncation over 200 steps, and crossings of relu's kink, cost 1e-3..5e-2 of accuracy.)


def _directional_check(loss, grads, args, rng, eps=1e-6):
    """Centred finite difference of loss along a random direction of every argument at once
    against Σ ⟨grad, direction⟩: one check of every entry of every gradient (T = 200 too)."""
    dirs = [rng.normal(size=a.shape) for a in args]
    up = loss(*[a + eps * d for a, d in zip(args, dirs)])
    down = loss(*[a - eps * d for a, d in zip(args, dirs)])
    numeric = (up - down) / (2 * eps)
    analytic = sum(float(np.sum(g * d)) for g, d in zip(grads, dirs))
    assert numeric == pytest.approx(analytic, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("t", [1, 2, 9, 60, 200])
@pytest.mark.parametrize("every_step", [False, True])
def test_lstm_gradients_match_finite_differences(t, every_step):
    rng = np.random.default_rng(t)
    n, f, m = 3, 4, 5
    x32 = rng.normal(size=(n, t, f)).astype(F32)
    w32, u32, b32 = _weights(rng, f, m, 4, scale=0.5)
    r32 = rng.normal(size=(n, t, m) if every_step else (n, m)).astype(F32)
    x, w, u, b, r = _f64(x32, w32, u32, b32, r32)

    def loss(x_, w_, u_, b_):
        h = ref.lstm_forward(x_, w_, u_, b_)["h"]
        return float(np.sum(r * (h if every_step else h[:, -1])))

    grads = ref.lstm_backward(x, w, u, b, r)[:4]
    for name, g, want in zip(("dx", "dW", "dU", "db"), K.lstm_backward(x32, w32, u32, b32, r32), grads):
        _close(g, want, name)
    _directional_check(loss, grads, (x, w, u, b), rng)
    if t <= 2:  # and entry by entry, for the shortest sequences
        for k, (a, g) in enumerate(zip((x, w, u, b), grads)):
            num = np.zeros_like(a)
            for idx in np.ndindex(a.shape):
                args = [x, w, u, b]
                hi, lo = a.copy(), a.copy()
                hi[idx] += 1e-6
                lo[idx] -= 1e-6
                args[k] = hi
                up = loss(*args)
                args[k] = lo
                num[idx] = (up - loss(*args)) / 2e-6
            np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("activation,alpha", RNN_ACTIVATIONS)
@pytest.mark.parametrize("t", [1, 7, 200])
def test_rnn_gradients_match_finite_differences(activation, alpha, t):
    rng = np.random.default_rng(t + 11)
    n, f, m = 3, 4, 5
    x32 = rng.normal(size=(n, t, f)).astype(F32)
    w32, u32, b32 = _weights(rng, f, m, 1, scale=0.5 if t < 100 else 0.25)
    r32 = rng.normal(size=(n, t, m)).astype(F32)
    x, w, u, b, r = _f64(x32, w32, u32, b32, r32)

    def loss(x_, w_, u_, b_):
        return float(np.sum(r * ref.rnn_forward(x_, w_, u_, b_, activation, alpha)[1]))

    grads = ref.rnn_backward(x, w, u, b, r, activation, alpha)[:4]
    got = K.rnn_backward(x32, w32, u32, b32, r32, activation, alpha)
    for name, g, want in zip(("dx", "dW", "dU", "db"), got, grads):
        _close(g, want, name)
    _directional_check(loss, grads, (x, w, u, b), rng)


@pytest.mark.parametrize("kind", ["lstm", "rnn"])
def test_threads_and_one_core_give_the_same_bits_and_float32_tracks_float64(kind):
    rng = np.random.default_rng(5)
    n, t, f, m = 64, 28, 28, 32
    gates = 4 if kind == "lstm" else 1
    x = rng.random((n, t, f), dtype=np.float32)
    w, u, b = _weights(rng, f, m, gates, scale=0.3, dtype=np.float32)
    dy = rng.normal(size=(n, m)).astype(np.float32)
    fwd, bwd = ((K.lstm_forward_planned, K.lstm_backward_planned) if kind == "lstm" else
                (K.rnn_forward_planned, K.rnn_backward_planned))
    runs = []
    for mode in ("threads", "serial"):
        state = fwd(x, w, u, b, chunks=2, mode=mode)
        runs.append((state, bwd(x, w, u, *state, dy, chunks=2, mode=mode)))
    for a, c in zip(runs[0][0] + runs[0][1][:5], runs[1][0] + runs[1][1][:5]):
        np.testing.assert_array_equal(a, c)
    # float32 (SIMD exp, σ and tanh written from it) against the float64 reference
    state, (dx, dw, du, db, dhs, finite) = runs[0]
    hs = state[-1].transpose(1, 0, 2)
    if kind == "lstm":
        want_h = ref.lstm_forward(x, w, u, b)["h"]
        want = ref.lstm_backward(x, w, u, b, dy)
    else:
        want_h = ref.rnn_forward(x, w, u, b)[1]
        want = ref.rnn_backward(x, w, u, b, dy)
    np.testing.assert_allclose(hs, want_h, rtol=1e-4, atol=1e-5)
    for g, r in zip((dx, dw, du, db), want[:4]):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-4 * np.abs(r).max())


def test_float32_gate_functions_are_accurate_over_their_range():
    # σ and tanh from the SIMD exp, across small, medium, saturated and extreme inputs
    z = np.concatenate([np.linspace(-30, 30, 4001), np.linspace(-1e-3, 1e-3, 201),
                        [-1e30, 1e30, 0.0]]).astype(np.float32)
    x = z.reshape(-1, 1, 1)                      # one unit, one step: z = x, for every gate
    w, u, b = np.ones((1, 4), np.float32), np.zeros((1, 4), np.float32), np.zeros(4, np.float32)
    gates, cs, tcs, hs = K.lstm_forward_planned(x, w, u, b)
    z64 = z.astype(np.float64)
    with np.errstate(over="ignore"):   # exp(1e30) = inf: σ = 0 exactly, as wanted
        sig, th = 1 / (1 + np.exp(-z64)), np.tanh(z64)
    np.testing.assert_allclose(gates[0, :, 0], sig, rtol=3e-7, atol=1e-30)
    np.testing.assert_allclose(gates[0, :, 2], th, rtol=3e-7, atol=1e-9)
    np.testing.assert_allclose(cs[0, :, 0], sig * th, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(tcs[0, :, 0], np.tanh(sig * th), rtol=1e-6, atol=1e-9)


def test_non_finite_values_are_reported_not_hidden():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    x[1, 2, 0] = np.nan
    w, u, b = _weights(rng, 3, 4, 4, dtype=np.float32)
    state = K.lstm_forward_planned(x, w, u, b)
    assert np.isnan(state[-1][2:, 1]).all() and np.isfinite(state[-1][:, 0]).all()
    *_, finite = K.lstm_backward_planned(x, w, u, *state, np.ones((2, 4), np.float32))
    assert not finite


def test_checked_entry_points_explain_bad_shapes():
    x = np.zeros((2, 3, 4), F32)
    w, u, b = _weights(np.random.default_rng(0), 4, 5, 4)
    with pytest.raises(ValueError, match="kernel must have shape"):
        K.lstm_forward(x, w[:3], u, b)
    with pytest.raises(ValueError, match="recurrent_kernel"):
        K.lstm_forward(x, w, u[:, :8], b)
    with pytest.raises(ValueError, match="dy must have shape"):
        K.lstm_backward(x, w, u, b, np.zeros((2, 4), F32))
    with pytest.raises(ValueError, match="dtypes must match"):
        K.lstm_forward(x.astype(np.float64), w, u, b)
    with pytest.raises(ValueError, match="activation must be one of"):
        K.rnn_forward(x, w[:, :5], u[:, :5], b[:5], activation="softmax")


@pytest.mark.parametrize("cls", [LSTM, SimpleRNN])
def test_a_first_recurrent_layer_trains_without_its_input_gradient_and_keeps_its_record(cls):
    rng = np.random.default_rng(3)
    x = rng.random((8, 12, 5), dtype=np.float32)
    y = rng.integers(0, 3, 8)
    model = Sequential([cls(6), Dense(3, activation="softmax")], input_shape=(12, 5), seed=0)
    model.compile(optimizer=Adam(0.01), loss="sparse_categorical_crossentropy")
    layer = model.layers[0]
    assert layer.input_grad_optional
    calls = []
    real = layer.backward
    layer.backward = lambda dy, need_input_grad=True: calls.append(need_input_grad) or real(
        dy, need_input_grad)
    model.train_on_batch(x, y)
    assert calls == [False]
    del layer.backward
    trace = model.trace_step(x, y)
    extras = trace.layers[0].extras
    assert extras["hidden_states"].shape == (8, 12, 6)
    assert extras["grad_hidden_states"].shape == (8, 12, 6)
    np.testing.assert_allclose(extras["hidden_states"][:, -1], trace.layers[0].output)
    assert np.isfinite(trace.layers[0].grad_input).all()


def test_fortran_ordered_weights_give_the_same_numbers():
    layer = LSTM(4)
    layer.build((6, 3), np.random.default_rng(0))
    x = np.random.default_rng(1).normal(size=(2, 6, 3)).astype(np.float32)
    want = layer.forward(x)
    for k in ("kernel", "recurrent_kernel"):
        layer.params[k] = np.asfortranarray(layer.params[k])
    np.testing.assert_array_equal(layer.forward(x), want)


@pytest.mark.parametrize("kind", ["lstm", "rnn"])
def test_one_float32_sequence_matches_the_reference(kind):
    # one sequence takes vector-matrix products and rank-one updates instead of one-row
    # matrix products (see recurrent._forward_step): the same numbers, to float32 rounding
    rng = np.random.default_rng(11)
    t, f, m = 28, 6, 16
    gates = 4 if kind == "lstm" else 1
    x = rng.normal(size=(1, t, f))
    w, u, b = _weights(rng, f, m, gates, scale=0.5, dtype=np.float64)
    dy = rng.normal(size=(1, m))
    f32 = [a.astype(np.float32) for a in (x, w, u, b, dy)]
    if kind == "lstm":
        want_h = ref.lstm_forward(x, w, u, b)["h"]
        got_h = K.lstm_forward(*f32[:4])
        want = ref.lstm_backward(x, w, u, b, dy)
        got = K.lstm_backward(*f32)
    else:
        want_h = ref.rnn_forward(x, w, u, b)[1]
        got_h = K.rnn_forward(*f32[:4])
        want = ref.rnn_backward(x, w, u, b, dy)
        got = K.rnn_backward(*f32)
    np.testing.assert_allclose(got_h, want_h, rtol=1e-4, atol=1e-5)
    for name, g, r in zip(("dx", "dW", "dU", "db"), got, want):
        np.testing.assert_allclose(g, r, rtol=1e-3, atol=1e-4, err_msg=name)
