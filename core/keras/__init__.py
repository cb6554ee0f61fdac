"""The part of `tensorflow.keras` an introductory course uses, running on Backprop Lab's engine.

The course's notebooks run with one line changed:

    from core import keras           # was: from tensorflow import keras
    from core.keras import datasets, layers, models

    model = keras.Sequential([
        keras.layers.Flatten(input_shape=(28, 28)),
        keras.layers.Dense(100, activation="relu"),
        keras.layers.Dense(10, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=5)          # prints Keras's progress lines
    model.evaluate(x_test, y_test)                 # [loss, accuracy]

Names, arguments and return values are Keras's. What the engine cannot do (another
initialiser, a layer we do not have) raises NotImplementedError naming the feature: it never
silently computes something else. `core.model.Sequential` stays the app's own interface.
"""
from core.keras import callbacks, datasets, layers, losses, metrics, models, optimizers, utils  # noqa: F401
from core.keras.models import Input, Sequential, load_model

__all__ = ["Sequential", "Input", "load_model", "layers", "models", "optimizers", "losses",
           "metrics", "callbacks", "datasets", "utils"]
