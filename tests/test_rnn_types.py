"""The numbers behind Types of RNN: each example's data against a plain-NumPy rule written
here, its model has the promised shape (one answer, or one per step), and each trains in a
test-sized run to clearly better than untrained."""
import dataclasses

import numpy as np
import pytest

from core.teaching import rnn_types as rt


def test_the_four_shapes_are_drawn_as_the_course_draws_them():
    assert rt.shape("one-to-one", 5) == rt.Shape("one-to-one", (True,), (True,))
    s = rt.shape("one-to-many", 4)
    assert s.inputs == (True, False, False, False) and s.outputs == (True,) * 4
    s = rt.shape("many-to-one", 4)
    assert s.inputs == (True,) * 4 and s.outputs == (False, False, False, True)
    s = rt.shape("many-to-many", 3)
    assert s.inputs == s.outputs == (True,) * 3
    with pytest.raises(ValueError, match="unknown RNN shape"):
        rt.shape("two-to-three", 3)
    assert {e.shape for e in rt.EXAMPLES} == {"one-to-one", "one-to-many", "many-to-one",
                                               "many-to-many"}


def test_digits_row_by_row_and_at_once_are_the_same_pixels():
    rows, y = rt.digits_by_rows(6, seed=3)
    flat, y2 = rt.digits_at_once(6, seed=3)
    assert rows.shape == (6, 28, 28) and flat.shape == (6, 1, 784)
    np.testing.assert_array_equal(rows.reshape(6, -1), flat[:, 0])
    np.testing.assert_array_equal(y, y2)
    test_x, _ = rt.digits_by_rows(rt.TEST_SAMPLES, seed=10_000)
    train_x, _ = rt.digits_by_rows(4500, seed=0)
    # the held-out digits are never trained on
    train_keys = {row.tobytes() for row in train_x.reshape(len(train_x), -1)}
    assert sum(r.tobytes() in train_keys for r in test_x.reshape(len(test_x), -1)) < 5


def test_one_to_many_wave_starts_from_one_number():
    x, y = rt.wave_from_height(3, seed=1)
    assert x.shape == (3, rt.WAVE_STEPS, 1) and y.shape == (3, rt.WAVE_STEPS, 1)
    assert np.all(x[:, 1:] == 0)                       # nothing after the first step
    a = x[:, 0, 0]
    k = np.arange(1, rt.WAVE_STEPS + 1)
    np.testing.assert_allclose(y[..., 0], a[:, None] * np.sin(2 * np.pi * k / 20), atol=1e-6)


def test_tags_mark_where_the_running_sum_is_positive():
    x, y = rt.running_sum_tags(50, seed=2)
    for seq, tags in zip(x[..., 0], y[..., 0]):
        total = 0
        for v, tag in zip(seq, tags):
            total += round(float(v) * 10)            # whole tenths: exact in integers
            assert tag == (1.0 if total > 0 else 0.0)


def test_next_value_targets_are_the_input_shifted_by_one_step():
    x, y = rt.next_value_waves(4, seed=5)
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    assert x.shape == (4, rt.NEXT_STEPS, 1)


@pytest.mark.parametrize("example", rt.EXAMPLES, ids=lambda e: e.key)
def test_each_example_has_its_shape_and_learns(example):
    quick = dataclasses.replace(example, train_samples=min(example.train_samples, 600),
                                epochs=min(example.epochs, 8))
    model = quick.make_model(seed=0)
    (x, y), (xt, yt) = quick.training_data(0), quick.test_data()
    out = model.predict(x[:2])
    if example.shape in ("one-to-one", "many-to-one"):
        assert out.shape == (2, example.outputs)
    else:
        assert out.shape == (2, example.steps, 1)
    before = example.score(model, xt, yt).value
    model.fit(x, y, epochs=quick.epochs, batch_size=quick.batch_size, seed=0)
    score = example.score(model, xt, yt)
    assert score.value > before + 0.1 and "%" in score.text and "e-" not in score.text


def test_a_curve_task_draws_a_sequence_that_varies():
    example = rt.BY_KEY["one_to_many"]
    model = example.make_model(seed=0)
    xt, yt = example.test_data()
    score = example.score(model, xt, yt)
    spreads = yt[:20, :, 0].std(axis=1)
    np.testing.assert_array_equal(score.true_curve, yt[int(np.argmax(spreads)), :, 0])
    assert score.true_curve.std() == spreads.max()
