"""fit / evaluate refuse bad data before the first step, saying which data and where.

Issue 13, items 7 (NaN/inf in inputs, validation data, class_weight), 8 (labels the loss
cannot take) and 9 (epochs=inf, text labels, complex arrays).
"""
import numpy as np
import pytest

from core.layers import Dense
from core.model import Sequential


def model(loss="mean_squared_error", units=1, activation=None, seed=0):
    m = Sequential([Dense(units, activation=activation)], input_shape=(3,), seed=seed)
    m.compile("sgd", loss, ["accuracy"] if "crossentropy" in loss else [])
    return m


@pytest.fixture
def x():
    return np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)


def unchanged_weights(m):
    return [w.copy() for w in m.get_weights()]


# --- item 7: NaN / inf in the data ----------------------------------------------------------
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_inputs_is_named_with_its_first_row_before_training(x, bad):
    m = model()
    before = unchanged_weights(m)
    x[7, 2] = bad
    x[12, 0] = bad
    with pytest.raises(ValueError, match=r"the inputs \(x\) hold .*row index 7, column 2") as err:
        m.fit(x, np.zeros(20), epochs=1)
    assert "learning rate" not in str(err.value)        # the data is to blame, not η
    assert "2 rows in all" in str(err.value)
    for a, b in zip(before, m.get_weights()):            # nothing trained
        np.testing.assert_array_equal(a, b)


def test_a_float64_too_large_for_float32_is_reported_not_trained_on(x):
    big = x.astype(np.float64)
    big[4, 1] = 1e300                                    # inf once the engine casts to float32
    with pytest.raises(ValueError, match=r"float32.*row index 4, column 1"):
        model().fit(big, np.zeros(20), epochs=1)


def test_nan_in_validation_data_is_named_as_validation_data(x):
    xv = x.copy()
    xv[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"validation inputs \(validation_data\[0\]\) hold "
                                         r"NaN.*row index 3"):
        model().fit(x, np.zeros(20), epochs=1, validation_data=(xv, np.zeros(20)))
    yv = np.zeros(20)
    yv[5] = np.inf
    with pytest.raises(ValueError, match=r"validation labels \(validation_data\[1\]\).*"
                                         r"row index 5"):
        model().fit(x, np.zeros(20), epochs=1, validation_data=(x, yv))


def test_nan_in_regression_targets_is_named(x):
    y = np.zeros(20)
    y[9] = np.nan
    with pytest.raises(ValueError, match=r"the labels \(y\) hold NaN.*row index 9"):
        model().fit(x, y, epochs=1)


@pytest.mark.parametrize("weight", [float("nan"), float("inf"), -1.0])
def test_class_weight_must_be_finite_and_not_negative(x, weight):
    y = (x[:, 0] > 0).astype(np.float32)
    with pytest.raises(ValueError, match=r"class_weight for class 1 is"):
        model("binary_crossentropy", 1, "sigmoid").fit(x, y, epochs=1,
                                                       class_weight={0: 1.0, 1: weight})


def test_evaluate_and_train_on_batch_check_too(x):
    m = model()
    x[0, 0] = np.nan
    with pytest.raises(ValueError, match="row index 0"):
        m.evaluate(x, np.zeros(20))
    with pytest.raises(ValueError, match="row index 0"):
        m.train_on_batch(x, np.zeros(20))


def test_clean_data_still_trains_and_integer_inputs_are_fine(x):
    m = model()
    hist = m.fit(x, x.sum(axis=1), epochs=3, batch_size=5)
    assert hist.stop_reason is None and hist.history["loss"][-1] < hist.history["loss"][0]
    model().fit(np.arange(60).reshape(20, 3), np.zeros(20), epochs=1)


# --- item 8: each loss checks its labels --------------------------------------------------
def test_binary_crossentropy_refuses_label_2_instead_of_a_negative_loss(x):
    y = np.zeros(20)
    y[6] = 2.0
    with pytest.raises(ValueError, match=r"binary_crossentropy needs labels 0 or 1.*hold 2 at "
                                         r"row index 6"):
        model("binary_crossentropy", 1, "sigmoid").fit(x, y, epochs=1)


def test_binary_crossentropy_accepts_0_1_labels_and_soft_labels(x):
    m = model("binary_crossentropy", 1, "sigmoid")
    hist = m.fit(x, (x[:, 0] > 0).astype(np.float32), epochs=2)
    assert hist.history["loss"][-1] > 0
    m.fit(x, np.full(20, 0.9), epochs=1)          # label smoothing, as Keras allows


def test_sparse_ids_out_of_range_name_the_row(x):
    y = np.zeros(20, np.int64)
    y[11] = 3
    with pytest.raises(ValueError, match=r"class ids 0…2 .*3 outputs.*hold 3 at row index 11"):
        model("sparse_categorical_crossentropy", 3, "softmax").fit(x, y, epochs=1)
    y[11] = 0
    yf = y.astype(float)
    yf[2] = 1.5
    with pytest.raises(ValueError, match=r"hold 1.5 at row index 2"):
        model("sparse_categorical_crossentropy", 3, "softmax").fit(x, yf, epochs=1)


def test_categorical_crossentropy_needs_one_hot_rows(x):
    y = np.eye(3)[np.arange(20) % 3]
    y[4] = [1.0, 1.0, 0.0]
    with pytest.raises(ValueError, match=r"one-hot rows.*row index 4"):
        model("categorical_crossentropy", 3, "softmax").fit(x, y, epochs=1)
    with pytest.raises(ValueError, match=r"one class id per sample: use "
                                         r"sparse_categorical_crossentropy"):
        model("categorical_crossentropy", 3, "softmax").fit(x, np.arange(20) % 3, epochs=1)
    model("categorical_crossentropy", 3, "softmax").fit(x, np.eye(3)[np.arange(20) % 3],
                                                        epochs=1)


def test_targets_of_the_wrong_width_are_named(x):
    with pytest.raises(ValueError, match=r"shape \(20, 2\).*1 output value per sample"):
        model().fit(x, np.zeros((20, 2)), epochs=1)


# --- item 9: arguments and arrays of the wrong kind ---------------------------------------
@pytest.mark.parametrize("epochs", [float("inf"), float("nan"), 2.5, "10", -1])
def test_epochs_must_be_a_whole_number(x, epochs):
    with pytest.raises(ValueError, match="epochs must be"):
        model().fit(x, np.zeros(20), epochs=epochs)


def test_batch_size_inf_is_a_clear_error(x):
    with pytest.raises(ValueError, match="batch_size must be a whole number"):
        model().fit(x, np.zeros(20), epochs=1, batch_size=float("inf"))


def test_text_labels_say_how_to_map_them(x):
    with pytest.raises(ValueError, match=r"hold text such as 'cat': map each class to a number"):
        model("sparse_categorical_crossentropy", 3, "softmax").fit(
            x, np.array(["cat", "dog"] * 10), epochs=1)
    with pytest.raises(ValueError, match="hold text such as 'yes'"):
        model("binary_crossentropy", 1, "sigmoid").fit(x, ["yes", "no"] * 10, epochs=1)


def test_complex_arrays_are_refused_not_silently_truncated(x):
    with pytest.raises(ValueError, match=r"the inputs \(x\) are complex numbers"):
        model().fit(x + 1j, np.zeros(20), epochs=1)
    with pytest.raises(ValueError, match=r"the labels \(y\) are complex numbers"):
        model().fit(x, np.zeros(20) + 0j, epochs=1)
    with pytest.raises(ValueError, match="complex numbers"):
        model().predict(x + 1j)


def test_a_loss_called_on_its_own_checks_its_labels_too():
    from core import losses

    bce = losses.get("binary_crossentropy")
    with pytest.raises(ValueError, match="needs labels 0 or 1"):
        bce(np.array([2.0, 0.0]), np.array([[0.5], [0.5]]))   # was: a negative loss
    assert bce([1, 0], [[0.9], [0.2]]) > 0
    with pytest.raises(ValueError, match="one-hot rows"):
        losses.get("categorical_crossentropy")([[1, 1, 0]], [[0.3, 0.3, 0.4]])
