"""core.teaching.gradient_flow: the gradient sizes the vanishing-gradients lesson draws, from
the engine's trace, against plain NumPy backprop of the same tiny networks (float64)."""
from __future__ import annotations

import re

import numpy as np
import pytest

from core.teaching import gradient_flow as gf

ACT = {"sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda a: a * (1 - a)),
       "tanh": (np.tanh, lambda a: 1 - a ** 2),
       "relu": (lambda z: np.maximum(z, 0), lambda a: (a > 0).astype(float))}
SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")


def numpy_dense_norms(weights, activation, x, y):
    """Plain backprop of Dense layers (last one linear) under mean squared error."""
    f, slope = ACT[activation]
    kernels, biases = weights[0::2], weights[1::2]
    acts, a = [x], x
    for i, (w, b) in enumerate(zip(kernels, biases)):
        z = a @ w + b
        a = z if i == len(kernels) - 1 else f(z)
        acts.append(a)
    delta = 2 * (a - y) / a.size                      # ∂L/∂z of the linear output layer
    weight, signal = [], []
    for i in range(len(kernels) - 1, -1, -1):
        weight.append(np.linalg.norm(acts[i].T @ delta))
        signal.append(np.linalg.norm(delta))
        if i:
            delta = (delta @ kernels[i].T) * slope(acts[i])
    return np.array(weight[::-1]), np.array(signal[::-1])


@pytest.mark.parametrize("activation", gf.ACTIVATIONS)
@pytest.mark.parametrize("init", list(gf.INIT_SCALES))
def test_layer_norms_match_plain_numpy_backprop(activation, init):
    model = gf.deep_network(activation, init, depth=5, width=6, seed=3)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 6)).astype(np.float32)
    y = rng.standard_normal((7, 1)).astype(np.float32)
    weights = [w.astype(np.float64) for w in model.get_weights()]
    flow = gf.layer_flow(model.trace_step(x, y))
    ref_w, ref_s = numpy_dense_norms(weights, activation, x.astype(np.float64),
                                     y.astype(np.float64))
    np.testing.assert_allclose(flow.weight_grad, ref_w, rtol=2e-3, atol=1e-30)
    np.testing.assert_allclose(flow.error_signal, ref_s, rtol=2e-3, atol=1e-30)


def test_init_scale_multiplies_keras_default_weights():
    small = gf.deep_network("tanh", "small", depth=3, width=4, seed=0).get_weights()
    glorot = gf.deep_network("tanh", "Glorot", depth=3, width=4, seed=0).get_weights()
    large = gf.deep_network("tanh", "large", depth=3, width=4, seed=0).get_weights()
    for s, g, lg in zip(small, glorot, large):
        np.testing.assert_allclose(s, 0.5 * g, rtol=1e-6)
        np.testing.assert_allclose(lg, 2.0 * g, rtol=1e-6)
    with pytest.raises(ValueError, match="initial weights must be one of"):
        gf.deep_network("tanh", "huge")
    with pytest.raises(ValueError, match="activation must be one of"):
        gf.deep_network("swish", "small")


def numpy_rnn_step_norms(weights, x, y):
    """Plain backprop through time of SimpleRNN(tanh) → Dense(1), mean squared error."""
    w, u, b, wd, bd = weights
    n, t, _ = x.shape
    hs, h = [], np.zeros((n, u.shape[0]))
    for s in range(t):
        h = np.tanh(x[:, s] @ w + h @ u + b)
        hs.append(h)
    out = h @ wd + bd
    dh = (2 * (out - y) / out.size) @ wd.T
    norms = np.zeros(t)
    for s in range(t - 1, -1, -1):
        norms[s] = np.linalg.norm(dh)
        dh = (dh * (1 - hs[s] ** 2)) @ u.T
    return norms


@pytest.mark.parametrize("init", list(gf.INIT_SCALES))
def test_time_step_norms_match_plain_numpy_bptt(init):
    model = gf.rnn_network(init, steps=12, units=5, seed=2)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 12, 1)).astype(np.float32)
    y = rng.standard_normal((6, 1)).astype(np.float32)
    weights = [w.astype(np.float64) for w in model.get_weights()]
    norms = gf.step_flow(model.trace_step(x, y))
    ref = numpy_rnn_step_norms(weights, x.astype(np.float64), y.astype(np.float64))
    np.testing.assert_allclose(norms, ref, rtol=2e-3)


def test_the_profiles_the_lesson_teaches():
    sigmoid = gf.dense_gradients("sigmoid", "Glorot").weight_grad
    assert sigmoid[0] / sigmoid[-1] < 1e-4                 # vanishes through ten layers
    relu = gf.dense_gradients("relu", "large").weight_grad
    assert relu.max() > 1e3                                # explodes
    small, large = gf.rnn_gradients("small"), gf.rnn_gradients("large")
    assert small[0] / small[-1] < 1e-6 and large[0] / large[-1] > 10


def test_sentences_say_what_the_chart_shows_without_scientific_notation():
    vanishing = gf.describe_layers(gf.dense_gradients("sigmoid", "Glorot").weight_grad)
    assert "layer 1 is about 10⁻" in vanishing and "barely learn" in vanishing
    exploding = gf.describe_layers(gf.dense_gradients("relu", "large").weight_grad)
    assert "explodes" in exploding
    steady = gf.describe_layers(np.array([0.5, 0.6, 0.55]))
    assert "keeps its size" in steady
    through_time = gf.describe_steps(gf.rnn_gradients("small"))
    assert "step 1 is about 10⁻" in through_time and "cannot learn" in through_time
    for text in (vanishing, exploding, steady, through_time):
        assert not SCIENTIFIC.search(text), text
    assert gf.describe_layers(np.array([np.inf, 1.0])).startswith("The gradient overflowed")


@pytest.mark.parametrize("value, text", [(3.2e-7, "3.2 × 10⁻⁷"), (0.25, "0.25"),
                                         (1.5e6, "1.5 × 10⁶"), (9.96e-7, "1.0 × 10⁻⁶"),
                                         (0.0, "0"), (float("nan"), "NaN")])
def test_readable_numbers(value, text):
    assert gf.readable(value) == text
    assert gf.power_of_ten(-12) == "10⁻¹²"


def test_clipping_keeps_an_exploding_rnn_trainable():
    x, y = gf.memory_task()
    updates = {}
    histories = {}
    for clipnorm in (None, gf.CLIP_NORM):
        model = gf.clipping_network(clipnorm)
        sizes = []

        class Keep(gf.UpdateSize):
            def on_batch_end(self, batch, logs=None):
                super().on_batch_end(batch, logs)
                sizes.append(logs["update_size"])

        histories[clipnorm] = model.fit(x, y, epochs=4, batch_size=gf.CLIP_BATCH, seed=0,
                                        callbacks=[Keep()])
        updates[clipnorm] = np.array(sizes)
    assert histories[None].diverged                          # no clipping: it blows up
    assert max(updates[None]) > 100
    clipped = histories[gf.CLIP_NORM]
    assert not clipped.diverged and np.all(np.isfinite(clipped.history["loss"]))
    # each of the 5 weight tensors moves at most learning rate × clipnorm
    assert updates[gf.CLIP_NORM].max() <= gf.CLIP_LEARNING_RATE * gf.CLIP_NORM * np.sqrt(5) + 1e-6
