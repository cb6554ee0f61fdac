"""JAX CPU as a rival in benchmarks/speed.py (benchmark only: `pip install "jax[cpu]"`,
never a dependency of the app or its tests).

The course CNN in plain jax.numpy and jax.lax (conv_general_dilated in NHWC/HWIO, max
pooling by reduce_window), holding our initial weights (same layouts as ours), one
training step — forward, softmax cross-entropy, value_and_grad, SGD(0.01) — compiled whole
by jax.jit, the parameters donated so XLA may update them in place. JAX dispatches
asynchronously: every timed call waits for its results (block_until_ready).

XLA puts all of a step's intermediates in one temporary buffer, 55 MiB for this step:
above the 32 MiB ceiling of glibc's dynamic mmap threshold, so in any application it is a
fresh mmap, page-faulted in on every step (speed.py prints the count). That is JAX's
steady state on glibc, and it is timed as such.
"""
from __future__ import annotations

import os

from benchmarks.speed_support import CNN_EPOCH, CNN_STEP, cycling

LABEL = "JAX"
#: what this rival adds to the table, known without importing JAX
ROWS = {CNN_STEP: ("JAX jit step",), CNN_EPOCH: ("JAX jit step, Python loop",)}
LEARNING_RATE = 0.01


def build_step():
    import jax
    import jax.numpy as jnp
    from jax import lax

    dims = ("NHWC", "HWIO", "NHWC")

    def conv_relu_pool(h, k, b):
        h = lax.conv_general_dilated(h, k, (1, 1), "VALID", dimension_numbers=dims) + b
        h = jnp.maximum(h, 0.0)
        return lax.reduce_window(h, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")

    def logits(p, x):
        k1, b1, k2, b2, w3, b3, w4, b4 = p
        h = conv_relu_pool(conv_relu_pool(x, k1, b1), k2, b2)
        h = h.reshape(h.shape[0], -1)  # (h, w, c) order, as our Flatten
        h = jnp.maximum(h @ w3 + b3, 0.0)
        return h @ w4 + b4

    def loss(p, x, y):
        z = logits(p, x)
        z = z - jax.lax.stop_gradient(z.max(axis=1, keepdims=True))
        logp = z - jnp.log(jnp.exp(z).sum(axis=1, keepdims=True))
        return -jnp.take_along_axis(logp, y[:, None], axis=1).mean()

    def step(p, x, y):
        value, grads = jax.value_and_grad(loss)(p, x, y)
        return [w - LEARNING_RATE * g for w, g in zip(p, grads)], value

    return jax.jit(step, donate_argnums=0)


class JaxSide:
    label = LABEL

    def __init__(self, weights):
        """weights: our course CNN's initial weights (get_weights())."""
        import jax
        import jax.numpy as jnp
        import jaxlib

        self.jax, self.jnp = jax, jnp
        devices = ", ".join(str(d) for d in jax.devices())
        flags = os.environ.get("XLA_FLAGS")
        self.name = (f"JAX {jax.__version__} (jaxlib {jaxlib.__version__}; {devices}"
                     + (f"; XLA_FLAGS={flags}" if flags else "") + ")")
        self._step = build_step()
        self.params = [jnp.asarray(w) for w in weights]

    def train(self, x, y):
        self.params, loss = self._step(self.params, x, y)
        self.jax.block_until_ready((self.params, loss))
        return loss

    def first_losses(self, work):
        return {"cnn": {"JAX jit step": float(self.train(*self._put(work.cnn_x[0], work.cnn_y[0])))}}

    def _put(self, x, y):
        return self.jax.device_put(x), self.jax.device_put(y.astype("int32"))

    def epoch(self, x, y, batch, seed):
        """One epoch as a JAX user writes it: shuffle in NumPy, a jitted step per batch."""
        import numpy as np

        order = np.random.default_rng(seed).permutation(len(x))
        for s in range(0, len(x), batch):
            idx = order[s:s + batch]
            self.train(x[idx], y[idx])

    def contenders(self, work):
        batches = [self._put(a, b) for a, b in zip(work.cnn_x, work.cnn_y)]
        xs, ys = [b[0] for b in batches], [b[1] for b in batches]
        for i in range(3):  # compile before any timing
            self.train(xs[i], ys[i])
        x, y32 = work.x, work.y.astype("int32")
        seeds = iter(range(10 ** 6))
        return {
            CNN_STEP: {"JAX jit step": cycling(self.train, xs, ys)},
            CNN_EPOCH: {"JAX jit step, Python loop": lambda: self.epoch(x, y32, 64, next(seeds))},
        }
