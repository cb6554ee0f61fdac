"""Underfitting, a good fit and overfitting (tutorial 20's picture), trained, not drawn.

Twelve noisy points of a smooth curve; three models of growing capacity learn them by
gradient descent: one neuron fed the polynomial features of x up to degree 1 (a straight
line), 3 and 11. The line cannot follow the curve (high error on the training points and on
new points alike: underfitting); degree 3 follows it (low error on both: a good fit); degree
11 has as many weights as there are points and bends through every one of them, noise
included, so it is wildly wrong between and beyond them (tiny training error, large error on
new points: overfitting).

The features are Legendre polynomials of x (P1 = x, P2 = (3x² − 1)/2, …): the same
polynomials as powers of x, but gradient descent trains them in seconds where plain powers
would crawl. Which fit is which is decided from the errors (`judge_fits`), not assumed.
"""
from __future__ import annotations

import numpy as np
from numpy.polynomial import legendre

from core.layers import Dense
from core.model import Sequential
from core.optimizers import Adam

__all__ = ["DEGREES", "EPOCHS", "LEARNING_RATE", "capacity_points", "poly_features",
           "build_capacity_model", "polynomial_curve", "mean_squared_error", "judge_fits",
           "true_curve"]

#: the three capacities, simplest first
DEGREES = (1, 3, 11)
EPOCHS = 2000
LEARNING_RATE = 0.05
NOISE = 0.2


def true_curve(x) -> np.ndarray:
    """The curve the points come from (before noise)."""
    return np.sin(np.pi * np.asarray(x, dtype=np.float64))


def capacity_points(n_train: int = 12, n_new: int = 200, noise: float = NOISE, seed: int = 0):
    """(x_train, y_train, x_new, y_new): noisy points of `true_curve` on [-1, 1], x sorted;
    the new points are others the models never train on. x is (N,), y is (N, 1) float32."""
    rng = np.random.default_rng(seed)

    def draw(n):
        x = np.sort(rng.uniform(-1.0, 1.0, int(n)))
        y = true_curve(x) + noise * rng.normal(size=x.size)
        return x.astype(np.float32), y.astype(np.float32)[:, None]
    xt, yt = draw(n_train)
    xn, yn = draw(n_new)
    return xt, yt, xn, yn


def poly_features(x, degree: int) -> np.ndarray:
    """(N,) x → (N, degree) float32: the Legendre polynomials P1(x) … P_degree(x)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    if int(degree) < 1:
        raise ValueError(f"the degree must be at least 1, got {degree}")
    eye = np.eye(int(degree) + 1)
    return np.stack([legendre.legval(x, eye[k]) for k in range(1, int(degree) + 1)],
                    axis=1).astype(np.float32)


def build_capacity_model(degree: int, learning_rate: float = LEARNING_RATE,
                         seed: int = 0) -> Sequential:
    """One linear neuron over `degree` polynomial features, mean squared error, Adam."""
    model = Sequential([Dense(1)], input_shape=(int(degree),), seed=int(seed))
    model.compile(Adam(float(learning_rate)), "mean_squared_error")
    return model


def polynomial_curve(weights, x) -> np.ndarray:
    """The model's curve at `x` from its [kernel (degree, 1), bias (1,)] weights, in float64
    (what `model.predict(poly_features(x, degree))` gives, without the model)."""
    kernel, bias = (np.asarray(w, dtype=np.float64) for w in weights)
    feats = poly_features(x, kernel.shape[0]).astype(np.float64)
    return feats @ kernel[:, 0] + bias[0]


def mean_squared_error(pred, y) -> float:
    return float(np.mean((np.asarray(pred, np.float64).ravel()
                          - np.asarray(y, np.float64).ravel()) ** 2))


def judge_fits(train_errors, new_errors) -> list[str]:
    """'good fit' for the model with the lowest error on new points; a model with more
    training error than it 'underfitting', one with less training error (but more error on
    new points) 'overfitting'."""
    train = [float(e) for e in train_errors]
    new = [float(e) for e in new_errors]
    best = int(np.argmin(new))
    out = []
    for i, (t, n) in enumerate(zip(train, new)):
        if i == best:
            out.append("good fit")
        else:
            out.append("underfitting" if t > train[best] else "overfitting")
    return out
