"""`keras.Sequential`, `keras.Input`, `keras.models.load_model`, with Keras's behaviour.

`Sequential` here is the engine's model (core.model.Sequential) with Keras's signatures on
top: the first layer's `input_shape=` (or an `Input`) builds it, `fit` prints Keras's
progress lines, `evaluate` returns `[loss, metric, ...]`. Layers taken from another model
are the same layers, trained weights and all, as in Keras (transfer learning uses that).
"""
from __future__ import annotations

import time

import numpy as np

from core import losses as _Lo
from core.keras import losses as _losses
from core.keras import metrics as _metrics
from core.keras import optimizers as _optimizers
from core.keras._progress import KerasProgress, summary_line
from core.keras._unsupported import refuse
from core.layers import Layer
from core.model import Sequential as _EngineSequential
from core.model import _shape as _declared_shape


class Input:
    """keras.Input(shape=(28, 28)): the model's input, as the first item of a Sequential."""

    def __init__(self, shape=None, batch_size=None, name=None, dtype=None, **kwargs):
        refuse("Input", {"batch_size": batch_size, **kwargs}, {"batch_size": None})
        if shape is None:
            raise ValueError("Input needs shape=, e.g. keras.Input(shape=(784,))")
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        # None: a free time axis, Input(shape=(None, 3)) for sequences of any length
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.name = name


def _verbosity(verbose) -> int:
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2, True, False):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
    return int(verbose)


class Sequential(_EngineSequential):
    def __init__(self, layers=None, name=None, *, seed=None, **kwargs):
        refuse("Sequential", kwargs, {"trainable": True})
        from core.keras.utils import next_seed

        super().__init__((), name=name or "sequential", seed=next_seed() if seed is None else seed)
        if layers is None:
            layers = []
        elif isinstance(layers, (Layer, Input)):
            layers = [layers]   # Keras accepts a single layer
        for item in layers:
            self.add(item)

    def add(self, layer) -> None:
        if isinstance(layer, Input):
            if self.layers:
                raise ValueError("an Input must come before the model's first layer")
            self.input_shape = _declared_shape(layer.shape)   # None only on the time axis
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential takes keras.layers, got {layer!r}")
        if not self.layers and self.input_shape is None:
            shape = getattr(layer, "keras_input_shape", None)
            if shape is None and layer.built:  # a layer of another model: its own input
                shape = layer.input_shape
            if shape is not None:
                self.input_shape = tuple(shape)
        super().add(layer)
        if self.input_shape is not None and not self.built:
            self.build(self.input_shape)

    # --- training set-up ------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, **kwargs):
        refuse("compile", kwargs, {"loss_weights": None, "weighted_metrics": None,
                                   "run_eagerly": False, "steps_per_execution": 1,
                                   "jit_compile": "auto"})
        if loss is None:
            raise NotImplementedError("compile without a loss: Backprop Lab needs loss=")
        loss = _losses.get(loss)
        if (isinstance(loss, (_Lo.SparseCategoricalCrossentropy, _Lo.CategoricalCrossentropy))
                and not loss.from_logits):
            # Keras computes a categorical cross-entropy after a sigmoid output as the
            # softmax cross-entropy of the sigmoid's inputs (its `_keras_logits`): the
            # course's tutorial 7 trains that way, so the bridge does too
            loss = type(loss)()
            loss.logits_of = "sigmoid"
        super().compile(optimizer=_optimizers.get(optimizer), loss=loss,
                        metrics=_metrics.names(metrics))

    def _ensure_built(self, x):
        if not self.built:
            self.build(np.shape(x)[1:])

    # --- fit / evaluate / predict ---------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, **kwargs):
        refuse("fit", {"initial_epoch": initial_epoch, **kwargs},
               {"initial_epoch": 0, "steps_per_epoch": None, "validation_steps": None,
                "validation_batch_size": None, "validation_freq": 1})
        if x is None or y is None:
            raise NotImplementedError("fit needs arrays x and y (datasets and generators are "
                                      "not supported)")
        verbose = _verbosity(verbose)
        x, y = np.asarray(x), np.asarray(y)
        if validation_data is not None and len(validation_data) == 3:
            raise NotImplementedError("fit: validation_data with sample weights")
        if validation_split:
            if not 0.0 < float(validation_split) < 1.0:
                raise ValueError(f"validation_split must be between 0 and 1, got {validation_split}")
            if validation_data is None:  # Keras takes the last samples, before shuffling
                at = int(len(x) * (1.0 - float(validation_split)))
                validation_data = (x[at:], y[at:])
                if sample_weight is not None:
                    sample_weight = np.asarray(sample_weight)[:at]
                x, y = x[:at], y[:at]
        self._ensure_built(x)
        batch_size = 32 if batch_size is None else batch_size
        hooks = list(callbacks or [])
        steps = -(-len(x) // max(1, min(int(batch_size), len(x)))) if len(x) else 0
        if verbose:
            hooks.insert(0, KerasProgress(verbose, int(epochs), steps, ["loss", *self.metrics]))
        from core.keras.utils import next_seed

        history = super().fit(x, y, epochs=epochs, batch_size=batch_size,
                              validation_data=validation_data, callbacks=hooks, shuffle=shuffle,
                              class_weight=class_weight, sample_weight=sample_weight,
                              seed=next_seed())
        history.model = self
        history.params = {"verbose": verbose, "epochs": epochs, "steps": steps}
        if history.stop_reason and not history.stop_reason.startswith("early stopping") and verbose:
            print(history.stop_reason)
        return history

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 return_dict=False, **kwargs):
        refuse("evaluate", {"sample_weight": sample_weight, **kwargs},
               {"sample_weight": None, "steps": None})
        verbose = _verbosity(verbose)
        t0 = time.perf_counter()
        self._ensure_built(x)
        logs = super().evaluate(x, y)
        if verbose:
            n = len(x)
            steps = -(-n // (32 if batch_size is None else int(batch_size)))
            print(summary_line(steps, time.perf_counter() - t0, logs, list(logs)))
        if return_dict:
            return logs
        values = [float(v) for v in logs.values()]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", **kwargs):
        refuse("predict", kwargs, {"steps": None})
        verbose = _verbosity(verbose)
        t0 = time.perf_counter()
        self._ensure_built(x)
        out = super().predict(x)
        if verbose:
            steps = -(-len(out) // (32 if batch_size is None else int(batch_size)))
            print(summary_line(steps, time.perf_counter() - t0, {}, ()))
        return out

    def summary(self, *args, **kwargs):
        refuse("summary", kwargs, {"line_length": None, "positions": None})
        print(super().summary())

    def save(self, filepath, **kwargs):
        """A Keras 3 `.keras` file (real Keras opens it) or the app's own `.npz`."""
        refuse("save", kwargs, {"overwrite": True})
        path = str(filepath)
        if path.endswith(".keras"):
            from core.keras import saving

            saving.save(self, path)
        elif path.endswith(".npz"):
            from core.io import save_model

            save_model(self, path)
        else:
            raise NotImplementedError(
                "save: Backprop Lab writes .keras (Keras 3) and .npz files; the legacy .h5 "
                "format is read, not written")


def load_model(filepath, compile=True, **kwargs):
    """A model file as a keras Sequential: Keras's `.keras` and legacy `.h5` files (nothing
    in them is executed; a Lambda or custom layer is refused by name) and the app's `.npz`."""
    refuse("load_model", kwargs, {"custom_objects": None, "safe_mode": True})
    from core.io import load_model as _load

    engine = _load(filepath)
    model = Sequential(name=engine.name)
    model.input_shape = engine.input_shape
    for layer in engine.layers:
        model.add(layer)
    if compile and engine.loss is not None:
        model.optimizer, model.loss = engine.optimizer, engine.loss
        model.metrics = list(engine.metrics)
    return model


__all__ = ["Sequential", "Input", "load_model"]
