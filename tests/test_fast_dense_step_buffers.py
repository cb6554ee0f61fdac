"""The fused dense step's gradient buffers: reused when nobody holds them (tutorial 24's
48 MB of gradients were a fresh mmap, faulted in page by page, every step), never while
anybody does (a gradient handed out after one step never changes)."""

import numpy as np

from core.fast import dense_step
from core.layers import Dense
from core.model import Sequential
from core.optimizers import SGD


class _CountingNumpy:
    """numpy, counting the np.empty calls of the fused step's driver."""

    def __init__(self):
        self.empties = 0

    def empty(self, *a, **k):
        self.empties += 1
        return np.empty(*a, **k)

    def __getattr__(self, name):
        return getattr(np, name)


def _model():
    m = Sequential([Dense(20, activation="relu"), Dense(3, activation="softmax")],
                   input_shape=(6,), seed=1)
    m.compile(optimizer=SGD(0.1), loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((8, 6), dtype=np.float32)
    return m, x, np.array([0, 1, 2, 0, 1, 2, 0, 1])


def test_steps_after_the_second_allocate_no_gradient_buffer(monkeypatch):
    m, x, y = _model()
    counting = _CountingNumpy()
    monkeypatch.setattr(dense_step, "np", counting)
    for _ in range(6):
        m.train_on_batch(x, y)
    assert m.optimizer.iterations == 6  # every step was applied, by the fused kernel
    assert counting.empties == 2


def test_gradients_someone_holds_never_change():
    m, x, y = _model()
    m.train_on_batch(x, y)
    held_dict = m.layers[0].grads                    # the dict of one step
    m.train_on_batch(x, y)
    held_view = m.layers[1].grads["kernel"][1:, :2]  # a view of a view of another
    want = ({k: v.copy() for k, v in held_dict.items()}, held_view.copy())
    for _ in range(5):
        m.train_on_batch(x, y)
    for k, v in want[0].items():
        np.testing.assert_array_equal(held_dict[k], v)
    np.testing.assert_array_equal(held_view, want[1])
    # and the step still trains with the gradients it computes now
    assert not np.array_equal(m.layers[1].grads["kernel"][1:, :2], held_view)
