"""SGD's in-place kernels give exactly NumPy's p + (-lr)*g, whichever way they run."""

import numpy as np
import pytest

from core.kernels import fanout, sgd


@pytest.mark.parametrize("rows,cols", [(784, 128), (37, 5), (1, 9)])
@pytest.mark.parametrize("nt", [1, 2, 3])
def test_row_blocks_update_like_numpy_bit_for_bit(rows, cols, nt):
    rng = np.random.default_rng(rows)
    p = rng.standard_normal((rows, cols)).astype(np.float32)
    g = rng.standard_normal((rows, cols)).astype(np.float32)
    g[0, 0] = np.nan  # the model never applies such a gradient; the kernel must still not hide it
    lr = np.float32(0.05)
    want = p + (-lr) * g
    for mode in ("threads", "serial"):
        q = p.copy()
        fanout.parts(("test sgd rows", mode), sgd.sgd_rows_part, nt, (q, g, -lr), mode=mode)
        np.testing.assert_array_equal(q, want)


def test_a_large_matrix_trains_to_the_same_weights_as_the_flat_kernel():
    from core.layers import Dense, Flatten
    from core.model import Sequential
    from core.optimizers import SGD

    def model():
        m = Sequential([Flatten(), Dense(128, activation="relu"), Dense(10, activation="softmax")],
                       input_shape=(28, 28, 1), seed=5)
        m.compile(optimizer=SGD(0.05), loss="sparse_categorical_crossentropy")
        return m

    rng = np.random.default_rng(1)
    x = rng.random((16, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, 16)
    m = model()
    before = m.get_weights()
    m.train_on_batch(x, y)
    trace = model().trace_step(x, y)  # same start; the trace holds each gradient
    grads = [lay.param_grads[k] for lay in trace.layers for k in ("kernel", "bias") if k in lay.param_grads]
    for w0, g, w1 in zip(before, grads, m.get_weights()):
        np.testing.assert_allclose(w1, w0 + np.float32(-0.05) * g, rtol=1e-5, atol=1e-6)
