"""Decision grids: the heat maps show exactly what the model computes at those points."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.teaching.decision import decision_grid, grid_points, neuron_layers
from core.layers import Dense, ReLU
from core.model import Sequential

_ACT = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0),
        "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z))}


def _model(hidden, act="tanh", seed=0, out_units=1, out_act="sigmoid"):
    layers = [Dense(h, activation=act) for h in hidden] + [Dense(out_units, activation=out_act)]
    return Sequential(layers, input_shape=(2,), seed=seed)


def _numpy_forward(model, points, act):
    """Plain NumPy forward pass from the model's weights: every layer's activations."""
    ws = model.get_weights()
    h = points.astype(np.float64)
    outs = []
    for k in range(0, len(ws), 2):
        z = h @ ws[k].astype(np.float64) + ws[k + 1].astype(np.float64)
        last = k == len(ws) - 2
        h = _ACT["sigmoid"](z) if last else _ACT[act](z)
        outs.append(h)
    return outs


def test_grid_points_order_is_row_by_row_from_the_bottom():
    xs, ys, pts = grid_points((-1, 1), (0, 3), resolution=4)
    np.testing.assert_allclose(xs, [-1, -1 / 3, 1 / 3, 1], rtol=1e-6)
    np.testing.assert_allclose(ys, [0, 1, 2, 3], rtol=1e-6)
    assert pts.shape == (16, 2) and pts.dtype == np.float32
    # point j*R + i is (xs[i], ys[j])
    np.testing.assert_allclose(pts[1 * 4 + 2], [xs[2], ys[1]])
    np.testing.assert_allclose(pts[3 * 4 + 0], [xs[0], ys[3]])


@settings(max_examples=25, deadline=None)
@given(hidden=st.lists(st.integers(1, 6), min_size=0, max_size=3),
       act=st.sampled_from(["tanh", "relu", "sigmoid"]), seed=st.integers(0, 1000),
       res=st.integers(2, 12))
def test_grid_output_equals_predict_and_hidden_equals_numpy(hidden, act, seed, res):
    model = _model(hidden, act, seed)
    grid = decision_grid(model, (-3, 3), resolution=res)
    _, _, pts = grid_points((-3, 3), resolution=res)
    assert grid.output.shape == (res, res, 1)
    np.testing.assert_allclose(grid.output.reshape(-1, 1), model.predict(pts), rtol=1e-6, atol=1e-7)
    ref = _numpy_forward(model, pts, act)
    assert len(grid.hidden) == len(hidden)
    for layer, units, expected in zip(grid.hidden, hidden, ref[:-1]):
        assert layer.shape == (res, res, units)
        np.testing.assert_allclose(layer.reshape(-1, units), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(grid.probability().ravel(), ref[-1][:, 0], rtol=1e-4, atol=1e-6)


def test_grid_cell_is_the_value_at_its_coordinates():
    model = _model([3], "relu", seed=2)
    grid = decision_grid(model, (-2, 2), (-1, 5), resolution=9)
    j, i = 6, 1
    direct = model.predict(np.array([[grid.xs[i], grid.ys[j]]], np.float32))[0, 0]
    assert grid.probability()[j, i] == pytest.approx(float(direct), rel=1e-6)
    ref = _numpy_forward(model, np.array([[grid.xs[i], grid.ys[j]]]), "relu")
    assert grid.neuron(0, 2)[j, i] == pytest.approx(ref[0][0, 2], rel=1e-4, abs=1e-6)


def test_separate_activation_layers_count_as_the_neurons():
    model = Sequential([Dense(4), ReLU(), Dense(1, activation="sigmoid")], input_shape=(2,), seed=1)
    assert neuron_layers(model) == [1]
    grid = decision_grid(model, (-1, 1), resolution=5)
    assert grid.hidden_names == [model.layers[1].name]
    assert (grid.hidden[0] >= 0).all()


def test_softmax_output_probability_is_class_one():
    model = _model([3], "tanh", out_units=2, out_act="softmax")
    grid = decision_grid(model, (-1, 1), resolution=4)
    _, _, pts = grid_points((-1, 1), resolution=4)
    np.testing.assert_allclose(grid.probability().ravel(), model.predict(pts)[:, 1], rtol=1e-6)


def test_bad_inputs_are_value_errors():
    with pytest.raises(ValueError):
        grid_points((1, -1))
    with pytest.raises(ValueError):
        grid_points((-1, 1), resolution=1)
    wide = Sequential([Dense(1)], input_shape=(3,), seed=0)
    with pytest.raises(ValueError, match="2 inputs"):
        decision_grid(wide, (-1, 1))
