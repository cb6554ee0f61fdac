"""core.teaching.teach: reading a drawing and teaching a network one correction without forgetting."""
import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from core.data import load_offline_digits
from core.digits import to_mnist
from core.layers import Dense, Flatten
from core.model import Sequential
from core.optimizers import Adam
from core.teaching.teach import (UntilSure, begin_teaching, read_drawing, teach, teaching_batch,
                                 teaching_batches)


def _softmax_net(seed=0):
    """One Dense softmax layer: its input gradient has a closed form to check against."""
    m = Sequential([Flatten(), Dense(10, activation="softmax")], input_shape=(28, 28, 1),
                   seed=seed)
    return m


def _drawing():
    """A 7 on a pad-sized canvas, dark on light (uint8 like the pad)."""
    img = np.full((280, 280), 255, np.uint8)
    img[60:80, 70:210] = 0
    for r in range(80, 240):
        c = int(200 - (r - 80) * 0.5)
        img[r, c - 10:c + 10] = 0
    return img


def test_read_drawing_matches_a_numpy_forward_pass_and_the_closed_form_saliency():
    m = _softmax_net()
    w, b = [v.astype(np.float64) for v in m.get_weights()]
    img = _drawing()
    r = read_drawing(m, img, saliency=True)
    x = to_mnist(img).astype(np.float64).reshape(-1)  # (784,)
    z = x @ w + b
    p = np.exp(z - z.max())
    p /= p.sum()
    np.testing.assert_allclose(r.probabilities, p, rtol=1e-4, atol=1e-6)
    assert r.top == int(np.argmax(p))
    k = r.top
    # ∂p_k/∂x = p_k (W[:, k] − Σ_j p_j W[:, j])
    grad = p[k] * (w[:, k] - w @ p)
    np.testing.assert_allclose(r.saliency.reshape(-1), np.abs(grad), rtol=1e-3, atol=1e-7)
    np.testing.assert_array_equal(r.image, to_mnist(img))


def test_a_blank_drawing_has_no_answer():
    r = read_drawing(_softmax_net(), np.full((280, 280), 255, np.uint8), saliency=True)
    assert r.blank and r.top is None and r.saliency is None
    assert not r.image.any()


def test_teaching_batch_mixes_copies_of_the_drawing_with_real_replayed_digits():
    x, y = load_offline_digits()
    image28 = to_mnist(_drawing())
    bx, by = teaching_batch(image28, 7, x[:300], y[:300], np.random.default_rng(0),
                            batch_size=32, copies=8)
    assert bx.shape == (32, 28, 28, 1) and bx.dtype == np.float32
    assert by.shape == (32,) and by.dtype == np.int64
    assert np.all(by[:8] == 7)
    # lightly distorted: still clearly the same drawing (compared a little blurred, since a
    # one-pixel shift alone decorrelates thin strokes), unlike the replayed digits
    ref = gaussian_filter(image28, 1.5).ravel()
    same = [np.corrcoef(gaussian_filter(img, 1.5).ravel(), ref)[0, 1] for img in bx[:8, ..., 0]]
    other = [np.corrcoef(gaussian_filter(img, 1.5).ravel(), ref)[0, 1] for img in bx[8:, ..., 0]]
    assert min(same) > 0.7 and min(same) > np.median(other)
    flat = x[:300].reshape(300, -1)
    for img, label in zip(bx[8:], by[8:]):
        hits = np.flatnonzero(np.all(flat == img.reshape(1, -1), axis=1))
        assert hits.size >= 1 and label in y[:300][hits]


@pytest.fixture(scope="module")
def small_net():
    x, y = load_offline_digits()
    m = Sequential([Flatten(), Dense(64, activation="relu"), Dense(10, activation="softmax")],
                   input_shape=(28, 28, 1), seed=1)
    m.compile(Adam(2e-3), "sparse_categorical_crossentropy", ["accuracy"])
    m.fit(x[:3000], y[:3000], epochs=4, batch_size=32, seed=1)
    return m, x, y


def test_teaching_changes_the_answer_for_that_drawing_without_forgetting(small_net):
    trained, x, y = small_net
    m = Sequential.from_config(trained.get_config())
    m.build()
    m.set_weights(trained.get_weights())
    image28 = to_mnist(_drawing())
    before = m.predict(image28.reshape(1, 28, 28, 1))[0]
    was = int(np.argmax(before))
    label = (was + 3) % 10  # certainly wrong
    # Teaching "this 7 is a 0" must misread some real 7s; every other digit should survive.
    keep = ~np.isin(y[4500:], [was, label])
    check_x, check_y = x[4500:][keep], y[4500:][keep]
    acc_before = np.mean(np.argmax(m.predict(check_x), 1) == check_y)
    assert acc_before > 0.85
    steps_seen = []
    res = teach(m, image28, label, x[:4500], y[:4500], seed=0,
                on_step=lambda s, loss, p: steps_seen.append((s, p)))
    np.testing.assert_allclose(res.before, before, rtol=1e-6)
    after = m.predict(image28.reshape(1, 28, 28, 1))[0]
    np.testing.assert_allclose(res.after, after, rtol=1e-6)
    assert int(np.argmax(after)) == label
    assert res.after[label] > res.before[label]
    assert 5 <= res.steps <= 40 and len(steps_seen) == res.steps
    acc_after = np.mean(np.argmax(m.predict(check_x), 1) == check_y)
    assert acc_after > acc_before - 0.04  # replay keeps the rest of what it knew


def test_teaching_can_be_cancelled_before_any_step(small_net):
    trained, x, y = small_net
    weights = [w.copy() for w in trained.get_weights()]
    m = Sequential.from_config(trained.get_config())
    m.build()
    m.set_weights(weights)
    res = teach(m, to_mnist(_drawing()), 1, x[:100], y[:100], should_stop=lambda: True)
    assert res.stopped and res.steps == 0
    for a, b in zip(m.get_weights(), weights):
        np.testing.assert_array_equal(a, b)


def test_teaching_refuses_nonsense():
    m = _softmax_net()
    x = np.zeros((3, 28, 28, 1), np.float32)
    y = np.zeros(3, np.int64)
    with pytest.raises(ValueError, match="0..9"):
        teach(m, to_mnist(_drawing()), 12, x, y)
    with pytest.raises(ValueError, match="draw a digit"):
        teach(m, np.zeros((28, 28), np.float32), 3, x, y)


def _copy(trained):
    m = Sequential.from_config(trained.get_config())
    m.build()
    m.set_weights(trained.get_weights())
    return m


def test_a_fit_over_the_teaching_batches_makes_teachs_steps(small_net):
    """The lesson's training session trains `teach` as one fit: same batches, same updates,
    same early end, same losses."""
    trained, x, y = small_net
    image28 = to_mnist(_drawing())
    label = (int(np.argmax(trained.predict(image28.reshape(1, 28, 28, 1))[0])) + 3) % 10
    a, b = _copy(trained), _copy(trained)
    res = teach(a, image28, label, x[:4500], y[:4500], seed=3)
    before = begin_teaching(b, image28, label, x[:4500], y[:4500])
    bx, by = teaching_batches(image28, label, x[:4500], y[:4500], seed=3)
    assert bx.shape == (40 * 32, 28, 28, 1) and by.shape == (40 * 32,)
    until = UntilSure(image28, label)
    b.fit(bx, by, epochs=1, batch_size=32, shuffle=False, callbacks=[until])
    np.testing.assert_array_equal(before, res.before)
    assert until.steps == res.steps and until.reached and not res.stopped
    assert until.losses == res.losses
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
