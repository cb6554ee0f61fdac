"""TensorFlow-Keras CPU as a rival in benchmarks/speed.py (benchmark only:
`pip install tensorflow-cpu`, never a dependency of the app or its tests).

The model is the course's CNN written as the course writes it (its CIFAR-10 notebook's
`models.Sequential([layers.Conv2D(filters=32, kernel_size=(3, 3), ...), ...])`, on 28x28x1
digits with Dense 128 as in its MNIST exercise), holding our initial weights: Keras keeps
kernels as (height, width, in, out) and flattens (h, w, c) as we do, so they copy as they
are. It is compiled with SGD(0.01) and no metrics, like our side of the benchmark (the
course uses Adam and accuracy: more work per step on both sides, not a fairer race).

Three ways a Keras user trains, each on its own copy of the model:
  * `model.train_on_batch(x, y)` with NumPy batches, as our `train_on_batch` is called;
  * a `@tf.function` step (GradientTape, the optimizer's apply_gradients) on tensors made
    beforehand: TensorFlow's fast path for a hand-written loop;
  * one `model.fit(x, y, epochs=1, batch_size=64)` over the 5,000 offline digits.
"""
from __future__ import annotations

import os

from benchmarks.speed_support import CNN_EPOCH, CNN_STEP, cycling

LABEL = "TensorFlow-Keras"
#: what this rival adds to the table, known without importing TensorFlow
ROWS = {CNN_STEP: ("Keras train_on_batch", "TF @tf.function step"), CNN_EPOCH: ("Keras model.fit",)}


def import_tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # no start-up chatter in the table
    import tensorflow as tf

    return tf


def course_cnn_keras():
    """The course's CNN, in the course's own words."""
    import warnings

    from tensorflow.keras import layers, models

    # Keras 3 prefers an Input layer to `input_shape=` and says so; the course writes the latter
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return _course_cnn(layers, models)


def _course_cnn(layers, models):
    return models.Sequential([
        layers.Conv2D(filters=32, kernel_size=(3, 3), activation='relu', input_shape=(28, 28, 1)),
        layers.MaxPooling2D((2, 2)),

        layers.Conv2D(filters=64, kernel_size=(3, 3), activation='relu'),
        layers.MaxPooling2D((2, 2)),

        layers.Flatten(),
        layers.Dense(128, activation='relu'),
        layers.Dense(10, activation='softmax')
    ])


class KerasSide:
    label = LABEL

    def __init__(self, weights):
        """weights: our course CNN's initial weights (get_weights())."""
        tf = import_tensorflow()
        import keras

        self.tf = tf
        # speed.py's single-thread pass asks for one thread in the environment; say it to
        # TensorFlow through its API too, before its first op fixes the thread pools
        for var, setter in (("TF_NUM_INTRAOP_THREADS", tf.config.threading.set_intra_op_parallelism_threads),
                            ("TF_NUM_INTEROP_THREADS", tf.config.threading.set_inter_op_parallelism_threads)):
            if os.environ.get(var, "").isdigit():
                setter(int(os.environ[var]))
        intra = tf.config.threading.get_intra_op_parallelism_threads()
        self.name = (f"TensorFlow {tf.__version__}, Keras {keras.__version__} "
                     f"(intra-op threads: {intra or 'default, one per core'})")

        def model():
            m = course_cnn_keras()
            m.set_weights([w.copy() for w in weights])
            m.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01),
                      loss='sparse_categorical_crossentropy')
            return m

        self.m_batch, self.m_func, self.m_fit = model(), model(), model()
        net = self.m_func
        loss_fn = keras.losses.SparseCategoricalCrossentropy()
        opt = keras.optimizers.SGD(learning_rate=0.01)

        @tf.function
        def step(x, y):
            with tf.GradientTape() as tape:
                loss = loss_fn(y, net(x, training=True))
            grads = tape.gradient(loss, net.trainable_variables)
            opt.apply_gradients(zip(grads, net.trainable_variables))
            return loss

        self.step = step

    def first_losses(self, work):
        """The loss of each way's first step on the first batch (before its update)."""
        tf = self.tf
        x0, y0 = work.cnn_x[0], work.cnn_y[0]
        return {"cnn": {"Keras train_on_batch": float(self.m_batch.train_on_batch(x0, y0)),
                        "TF @tf.function step": float(self.step(tf.constant(x0), tf.constant(y0)))}}

    def contenders(self, work):
        tf = self.tf
        tx = [tf.constant(a) for a in work.cnn_x]
        ty = [tf.constant(a) for a in work.cnn_y]
        for i in range(3):  # trace the function and build train_on_batch's before any timing
            self.step(tx[i], ty[i])
            self.m_batch.train_on_batch(work.cnn_x[i], work.cnn_y[i])
        x, y = work.x, work.y
        return {
            CNN_STEP: {"Keras train_on_batch": cycling(self.m_batch.train_on_batch, work.cnn_x, work.cnn_y),
                       "TF @tf.function step": cycling(self.step, tx, ty)},
            CNN_EPOCH: {"Keras model.fit": lambda: self.m_fit.fit(x, y, epochs=1, batch_size=64,
                                                                  verbose=0)},
        }
