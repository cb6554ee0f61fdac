"""core.teaching.augment_preview: random copies checked against scipy.ndimage / NumPy, the augmented
fit, the CIFAR sample reader and the run summary."""
import numpy as np
import pytest
from scipy import ndimage

from core.teaching import augment_preview as P
from core.callbacks import History

T = P.Transformations


def _digit():
    x = np.zeros((28, 28), np.float32)
    x[6:22, 12:16] = 1.0  # a bar
    x[6:9, 12:22] = 0.6  # with a flag, so a mirror image differs
    return x


def test_zero_ranges_give_the_image_back_exactly():
    img = np.random.default_rng(0).random((28, 28, 1), dtype=np.float32)
    copies, params = P.preview(img, 6, seed=3, t=T())
    assert copies.shape == (6, 28, 28, 1)
    for c in copies:
        np.testing.assert_array_equal(c, img)
    assert all(p["rotation"] == 0 and p["zoom"] == 1 and not p["horizontal_flip"] for p in params)


def test_same_seed_same_copies_new_seed_new_copies():
    t = T(shift=2, rotation=15, zoom=0.1, elastic=10, stroke=0.5)
    a, _ = P.preview(_digit(), 5, seed=1, t=t)
    b, _ = P.preview(_digit(), 5, seed=1, t=t)
    c, _ = P.preview(_digit(), 5, seed=2, t=t)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert a.min() >= 0 and a.max() <= 1


def test_a_slider_rescales_the_same_draws():
    _, small = P.preview(_digit(), 4, seed=7, t=T(rotation=10))
    _, large = P.preview(_digit(), 4, seed=7, t=T(rotation=30))
    for s, g in zip(small, large):
        assert g["rotation"] == pytest.approx(3 * s["rotation"])
        assert abs(g["rotation"]) <= 30


def test_rotation_copies_match_scipy_rotate_by_their_angle():
    img = _digit()
    copies, params = P.preview(img, 4, seed=11, t=T(rotation=40))
    for c, p in zip(copies, params):
        ref = ndimage.rotate(img.astype(np.float64), p["rotation"], reshape=False, order=1,
                             mode="grid-constant", cval=0.0)
        np.testing.assert_allclose(c, np.clip(ref, 0, 1), atol=1e-4)


def test_shift_and_zoom_copies_match_scipy():
    img = _digit()
    copies, params = P.preview(img, 3, seed=5, t=T(shift=3))
    for c, p in zip(copies, params):
        ref = ndimage.shift(img.astype(np.float64), (p["shift_y"], p["shift_x"]), order=1,
                            mode="grid-constant", cval=0.0)
        np.testing.assert_allclose(c, ref, atol=1e-5)
    copies, params = P.preview(img, 3, seed=5, t=T(zoom=0.3))
    centre = np.array([13.5, 13.5])
    for c, p in zip(copies, params):
        f = p["zoom"]
        assert 0.7 <= f <= 1.3
        ref = ndimage.affine_transform(img.astype(np.float64), np.eye(2) / f,
                                       offset=centre - centre / f, order=1,
                                       mode="grid-constant", cval=0.0, prefilter=False)
        np.testing.assert_allclose(c, ref, atol=1e-5)


@pytest.mark.parametrize("channels", [None, 3])
def test_flip_copies_are_exact_mirror_images(channels):
    rng = np.random.default_rng(2)
    img = rng.random((32, 32, channels) if channels else (28, 28), dtype=np.float32)
    copies, params = P.preview(img, 16, seed=4, t=T(horizontal_flip=True, vertical_flip=True))
    kinds = set()
    for c, p in zip(copies, params):
        ref = img
        if p["horizontal_flip"]:
            ref = np.fliplr(ref)
        if p["vertical_flip"]:
            ref = np.flipud(ref)
        np.testing.assert_array_equal(c, ref)
        kinds.add((p["horizontal_flip"], p["vertical_flip"]))
    assert len(kinds) == 4  # 16 copies: every combination turns up for this seed


def test_rgb_photos_use_the_edge_fill():
    img = np.random.default_rng(3).random((32, 32, 3), dtype=np.float32)
    copies, params = P.preview(img, 2, seed=0, t=T(rotation=30, fill="nearest"))
    for c, p in zip(copies, params):
        for ch in range(3):
            ref = ndimage.rotate(img[:, :, ch].astype(np.float64), p["rotation"], reshape=False,
                                 order=1, mode="nearest")
            np.testing.assert_allclose(c[:, :, ch], ref, atol=1e-4)


def test_elastic_and_stroke_change_a_digit_and_keep_its_ink():
    img = _digit()
    copies, params = P.preview(img, 4, seed=9, t=T(elastic=30, stroke=0.8))
    for c, p in zip(copies, params):
        assert not np.allclose(c, img)
        assert 0.4 < c.sum() / img.sum() < 2.5
        assert -0.8 <= p["stroke"] <= 0.8


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        T(rotation=-1)
    with pytest.raises(ValueError):
        T(zoom=0.9)
    with pytest.raises(ValueError):
        T(fill="wrap")
    with pytest.raises(ValueError):  # stroke width is for grey digits only
        P.preview(np.zeros((8, 8, 3), np.float32), 2, 0, T(stroke=0.5))
    with pytest.raises(ValueError):
        P.preview(np.zeros(8), 2, 0, T())


def test_description_and_keras_code():
    t = T(shift=3.2, rotation=36, zoom=0.1, horizontal_flip=True)
    assert t.describe() == "shift ±3.2 px · rotation ±36° · zoom ±10% · left-right flips"
    code = t.keras_code(32, 32)
    assert 'layers.RandomFlip("horizontal")' in code
    assert "layers.RandomRotation(0.1)" in code        # 36° = 0.1 of a turn
    assert "layers.RandomTranslation(0.1, 0.1)" in code  # 3.2 px of 32
    assert T().describe() == "none" and T().is_identity()
    assert "no Keras layer" in T(elastic=5).keras_code(28, 28)


class _SpyModel:
    """Records what fit was given; behaves like a model for the wrapper's delegation."""

    def __init__(self, stop_after=None):
        self.seen, self.val_seen, self.seeds, self.stop_training = [], [], [], False
        self.stop_after = stop_after

    def fit(self, x, y, epochs=1, seed=None, callbacks=(), validation_data=None, **kw):
        assert epochs == 1
        self.seen.append(np.array(x))
        self.seeds.append(seed)
        self.val_seen.append(validation_data)
        h = History()
        h.on_epoch_end(0, {"loss": float(len(self.seen))})
        if self.stop_after is not None and len(self.seen) >= self.stop_after:
            h.stop_reason = "stopped"
        return h

    def evaluate(self, x, y):
        return {"accuracy": 0.5}


def test_augmented_fit_shows_fresh_copies_every_epoch_and_is_seeded():
    x = np.repeat(_digit()[None, :, :, None], 8, axis=0)  # (8, 28, 28, 1)
    y = np.arange(8)
    xv = x[:2].copy()
    spy = _SpyModel()
    model = P.AugmentedModel(spy, T(rotation=20, shift=2))
    hist = model.fit(x, y, epochs=3, seed=0, validation_data=(xv, y[:2]))
    assert hist.history["loss"] == [1.0, 2.0, 3.0] and hist.epoch == [0, 1, 2]
    assert len(spy.seen) == 3
    assert not np.allclose(spy.seen[0], x) and not np.allclose(spy.seen[0], spy.seen[1])
    assert spy.val_seen[0][0] is xv  # validation digits are never augmented
    again = _SpyModel()
    P.AugmentedModel(again, T(rotation=20, shift=2)).fit(x, y, epochs=3, seed=0)
    for a, b in zip(spy.seen, again.seen):
        np.testing.assert_array_equal(a, b)
    # everything else is the wrapped model's
    assert model.evaluate(x, y) == {"accuracy": 0.5}
    model.stop_training = True
    assert spy.stop_training is True


def test_one_epoch_shuffles_like_the_plain_network():
    # a training session calls fit one epoch at a time: the same seed must reach the real
    # fit, so the "with" and "without" runs see their digits in the same order
    spy = _SpyModel()
    P.AugmentedModel(spy, T(shift=1)).fit(np.zeros((4, 6, 6, 1), np.float32), np.zeros(4),
                                           epochs=1, seed=123)
    assert spy.seeds == [123]
    spy = _SpyModel()
    P.AugmentedModel(spy, T(shift=1)).fit(np.zeros((4, 6, 6, 1), np.float32), np.zeros(4),
                                           epochs=3, seed=123)
    assert len(set(spy.seeds)) == 3


def test_augmented_fit_stops_when_the_model_stops():
    spy = _SpyModel(stop_after=2)
    hist = P.AugmentedModel(spy, T(shift=1)).fit(np.zeros((4, 6, 6, 1), np.float32),
                                                 np.zeros(4), epochs=5, seed=1)
    assert len(spy.seen) == 2 and hist.stop_reason == "stopped"


def _tiny_cifar(path, n_test=12, members=("test_batch",)):
    """A cifar-10-python.tar.gz with the real layout but only a few random test images."""
    import io
    import pickle
    import tarfile

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8)  # (N, H, W, C)
    labels = np.arange(n_test) % 10
    rows = np.ascontiguousarray(images.transpose(0, 3, 1, 2).reshape(n_test, 3072))
    body = pickle.dumps({"batch_label": "testing batch 1 of 1", "data": rows,
                         "labels": [int(v) for v in labels]}, protocol=2)
    with tarfile.open(path, "w:gz") as tar:
        for name in members:
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return images, labels


def test_cifar_preview_reads_the_test_images(tmp_path):
    images, labels = _tiny_cifar(tmp_path / "cifar-10-python.tar.gz")
    x, y, names = P.load_cifar_preview(tmp_path / "cifar-10-python.tar.gz", count=5)
    assert x.shape == (5, 32, 32, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x, images[:5] / 255.0, atol=1e-7)
    np.testing.assert_array_equal(y, labels[:5])
    assert names[7] == "horse"


def test_cifar_preview_refuses_bad_files(tmp_path):
    _tiny_cifar(tmp_path / "other.tar.gz", members=("data_batch_1",))
    with pytest.raises(ValueError, match="no cifar-10-batches-py/test_batch"):
        P.load_cifar_preview(tmp_path / "other.tar.gz")
    good = (tmp_path / "other.tar.gz").read_bytes()
    (tmp_path / "cut.tar.gz").write_bytes(good[:len(good) // 2])
    with pytest.raises(ValueError):
        P.load_cifar_preview(tmp_path / "cut.tar.gz")
    (tmp_path / "text.tar.gz").write_text("not an archive")
    with pytest.raises(ValueError):
        P.load_cifar_preview(tmp_path / "text.tar.gz")
    with pytest.raises(FileNotFoundError):
        P.load_cifar_preview(tmp_path / "missing.tar.gz")


def test_summary_numbers():
    s = P.summarize([0.5, 0.8, 0.99], [0.6, 0.85, 0.82])
    assert s["last_val"] == 0.82 and s["best_val"] == 0.85 and s["best_epoch"] == 2
    assert s["last_train"] == 0.99 and s["gap"] == pytest.approx(0.17)
    assert P.summarize([], [])["last_val"] is None
    with pytest.raises(ValueError):
        P.summarize([0.1], [])
