"""Sequential: a stack of layers with Keras's compile / fit / evaluate / predict.

One mechanism serves the course's three kinds of gradient descent: `batch_size=len(x)`
is batch gradient descent, `batch_size=1` stochastic, anything between mini-batch.

A training step, as the course writes it (forward, loss, backward, check, update, record),
is core/step.py; core/fast/plan.py picks the fastest way to take one that computes the
same numbers, and `_step` only asks it.

Thread use: training usually runs in a worker thread while the window asks for
predictions; a lock serialises whole steps, so a prediction waits at most one batch.
"""
from __future__ import annotations


import math
import threading

import numpy as np

from core import layers as layers_mod
from core import losses as losses_mod
from core import metrics as metrics_mod
from core import input_checks
from core import optimizers as optimizers_mod
from core.callbacks import CallbackList, Divergence, History
from core.wording import number
from core.fast.plan import StepPlan
from core.layers.base import ActivatedLayer
from core import step as step_mod
from core.step import ACTIVATION_LAYERS, accuracy_or_nan
from core.trace import StepTrace

#: metric names compile accepts; every one is accuracy, reported under the name given (as
#: Keras does: metrics=["acc"] gives logs["acc"])
_METRICS = ("accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy",
            "binary_accuracy")


class Sequential:
    def __init__(self, layers=(), input_shape=None, name: str = "sequential",
                 seed: int | None = None):
        self.name = name
        self.layers: list = []
        self._names: set[str] = set()       # names in self.layers, kept by add(): naming
        self._next_suffix: dict[str, int] = {}  # stays linear in the number of layers
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._lock = threading.RLock()
        self._plan = StepPlan()  # how steps and predictions run, kept per model state
        self.input_shape = None if input_shape is None else _shape(input_shape)
        self.optimizer = None
        self.loss = None
        self.metrics: list[str] = []
        self.stop_training = False
        self.stop_reason: str | None = None
        self._start_loss: float | None = None
        for layer in layers:
            self.add(layer)
        if self.input_shape is not None and self.layers:
            self.build(self.input_shape)

    # --- construction -----------------------------------------------------------
    def add(self, layer) -> None:
        if not isinstance(layer, layers_mod.Layer):
            raise ValueError(f"Sequential takes layers, got {layer!r}")
        taken = self._taken_names()
        if layer.name is None:
            # the first free name of base, base_1, base_2, ...: names are only ever added,
            # so every suffix below the last one handed out is still taken
            base = layer.base_name
            k = self._next_suffix.get(base, 0)
            name = base if k == 0 else f"{base}_{k}"
            while name in taken:
                k += 1
                name = f"{base}_{k}"
            self._next_suffix[base] = k
            layer.name = name
        elif layer.name in taken:
            raise ValueError(f"two layers are named {layer.name!r}")
        self.layers.append(layer)
        taken.add(layer.name)
        shape = self.layers[-2].output_shape if len(self.layers) > 1 else self.input_shape
        if shape is not None and (len(self.layers) == 1 or self.layers[-2].built) and (
                not layer.built or layer.input_shape != tuple(shape)):
            # a layer taken from another model with the right input keeps its weights
            layer.build(shape, self._rng)

    def _taken_names(self) -> set[str]:
        if len(self._names) != len(self.layers) or (  # the list was changed without add()
                self.layers and self.layers[-1].name not in self._names):
            self._names = {lay.name for lay in self.layers}
            self._next_suffix = {}
        return self._names

    @property
    def built(self) -> bool:
        return bool(self.layers) and all(lay.built for lay in self.layers)

    def build(self, input_shape=None) -> None:
        if input_shape is not None:
            self.input_shape = _shape(input_shape)
        if self.input_shape is None:
            raise ValueError("the model needs an input_shape, e.g. Sequential(..., input_shape=(784,))")
        if not self.layers:
            raise ValueError("the model has no layers")
        shape = self.input_shape
        for layer in self.layers:
            if not layer.built or layer.input_shape != shape:
                layer.build(shape, self._rng)
            shape = layer.output_shape

    @property
    def output_shape(self) -> tuple:
        return self.layers[-1].output_shape

    def compile(self, optimizer="sgd", loss="mean_squared_error", metrics=()) -> None:
        self.optimizer = optimizers_mod.get(optimizer)
        self.loss = losses_mod.get(loss)
        self._start_loss = None   # where training starts, for the divergence watch
        names = []
        for m in metrics or ():
            if m not in _METRICS:
                raise ValueError(f"unknown metric {m!r}; 'accuracy' is supported")
            if m not in names:
                names.append(m)
        self.metrics = names

    # --- checks -------------------------------------------------------------------
    def _check_x(self, x, what: str = "the inputs (x)") -> np.ndarray:
        x = input_checks.as_inputs(x, what)  # numbers, not text or complex (a cheap test)
        with np.errstate(over="ignore"):      # a value beyond float32 becomes inf: checked
            x = np.ascontiguousarray(x, dtype=np.float32)
        if self.input_shape is None:
            self.build(x.shape[1:])
        if not fits_shape(x.shape[1:], self.input_shape):
            raise ValueError(
                f"the model expects inputs of shape (batch, {', '.join(map(str, self.input_shape))}), "
                f"got {x.shape}" + _free_length_hint(x.shape[1:], self.input_shape))
        return x

    def output_shape_for(self, input_shape) -> tuple:
        """The output shape (without the batch axis) for inputs of this concrete shape: a
        free (None) time axis takes the input's length (what the loss checks labels against)."""
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
        return tuple(shape)

    def _check_xy(self, x, y, what: str = ""):
        x_name, y_name = _data_names(what)
        x = self._check_x(x, x_name)
        y = input_checks.as_labels(y, y_name)
        if len(y) != len(x):
            raise ValueError(f"{len(x)} inputs but {len(y)} targets")
        if len(x) == 0:
            raise ValueError("no samples to train on")
        return x, y

    def _check_data(self, x, y, what: str = ""):
        """_check_xy, and the values too: finite, and labels this loss can take. Once per
        fit / evaluate / train_on_batch call, never per batch (vectorised; ~1 ms on the
        4,000 training digits)."""
        x, y = self._check_xy(x, y, what)
        x_name, y_name = _data_names(what)
        input_checks.check_finite(x, x_name)
        input_checks.check_finite(y, y_name)
        if self.loss is not None:
            self.loss.check_labels(y, self.output_shape_for(x.shape[1:]), y_name)
        return x, y

    def _require_compiled(self):
        if self.loss is None or self.optimizer is None:
            raise ValueError("call compile(optimizer, loss, metrics) before training")

    # --- the training step --------------------------------------------------------
    def _step(self, x, y, sample_weight=None, record=False):
        """One forward, backward and update: (logs, StepTrace | None). A record takes the
        readable step of core/step.py; any other step the fastest way that computes the
        same numbers (core/fast/plan.py chooses)."""
        return self._plan.step(self, x, y, sample_weight, record)

    def train_on_batch(self, x, y, sample_weight=None) -> dict:
        """One gradient step on this batch; returns its loss (and metrics) before the step."""
        self._require_compiled()
        x, y = self._check_data(x, y)
        sw = None if sample_weight is None else np.asarray(sample_weight, np.float32)
        with self._lock:
            return self._step(x, y, sw)[0]

    def trace_step(self, x, y) -> StepTrace:
        """Like train_on_batch, but returns the full record of the step for lessons."""
        self._require_compiled()
        x, y = self._check_data(x, y)
        with self._lock:
            return self._step(x, y, record=True)[1]

    # --- fit / evaluate / predict -------------------------------------------------
    def fit(self, x, y, epochs: int = 1, batch_size: int | None = 32, validation_data=None,
            callbacks=(), shuffle: bool = True, seed: int | None = None,
            class_weight: dict | None = None, verbose: int = 0,
            sample_weight=None) -> History:
        self._require_compiled()
        epochs = input_checks.count_argument(epochs, "epochs", 0)
        x, y = self._check_data(x, y)
        n = len(x)
        batch_size = n if batch_size is None else input_checks.count_argument(
            batch_size, "batch_size", 1)
        batch_size = min(batch_size, n)
        if validation_data is not None:
            if not hasattr(validation_data, "__len__") or len(validation_data) != 2:
                raise ValueError("validation_data must be a pair (x_val, y_val)")
            xv, yv = self._check_data(*validation_data, what="validation")
        weights = None
        if class_weight is not None:
            weights = _sample_weights(y, class_weight)
        if sample_weight is not None:  # one weight per sample, times its class's weight
            sw = input_checks.check_sample_weight(sample_weight, n)
            weights = sw if weights is None else weights * sw

        rng = np.random.default_rng(seed)
        if seed is not None:
            for layer in self.layers:
                if hasattr(layer, "reseed"):
                    layer.reseed(np.random.default_rng(rng.integers(2**63)))
        history = History()
        cbs = CallbackList([history, *callbacks], self)
        self.stop_training = False
        self.stop_reason = None
        divergence = self._divergence_monitor(x, y, batch_size, n) if epochs else None
        cbs.on_train_begin({})
        step = 0
        for epoch in range(int(epochs)):
            cbs.on_epoch_begin(epoch, {})
            order = rng.permutation(n) if shuffle else np.arange(n)
            sums: dict[str, float] = {}
            seen = 0
            for b, start in enumerate(range(0, n, batch_size)):
                idx = order[start:start + batch_size]
                cbs.on_batch_begin(b, {"epoch": epoch, "batch": b, "size": len(idx)})
                sw = None if weights is None else weights[idx]
                with self._lock:
                    logs, _ = self._step(x[idx], y[idx], sw)
                step += 1
                for k, v in logs.items():
                    sums[k] = sums.get(k, 0.0) + v * len(idx)
                seen += len(idx)
                logs.update(epoch=epoch, batch=b, step=step, size=len(idx))
                if not np.isfinite(logs["loss"]) and self.stop_reason is None:
                    self.stop_training = history.diverged = True
                    what = ("the loss became NaN" if np.isnan(logs["loss"])
                            else "the loss or its gradient became infinite")
                    self.stop_reason = (
                        f"training stopped: {what} at epoch {epoch + 1}, "
                        f"batch {b + 1}. The weights were left as they were before that step. "
                        f"Try a smaller learning rate (now "
                        f"{number(self.optimizer.learning_rate)}).")
                elif self.stop_reason is None:
                    acc = logs.get(self.metrics[0]) if self.metrics else None
                    reason = divergence.observe(logs["loss"], acc, len(idx),
                                                f"epoch {epoch + 1}, batch {b + 1}")
                    if reason is not None:
                        self.stop_training = history.diverged = True
                        self.stop_reason = reason
                cbs.on_batch_end(b, logs)
                if self.stop_training:
                    break
            epoch_logs = {k: v / seen for k, v in sums.items()}
            if validation_data is not None and np.isfinite(epoch_logs.get("loss", 0.0)):
                for k, v in self._evaluate_checked(xv, yv).items():
                    epoch_logs["val_" + k] = v
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                if self.stop_reason is None:
                    self.stop_reason = f"training stopped on request after {step} steps"
                break
        history.stop_reason = self.stop_reason
        cbs.on_train_end({"stop_reason": self.stop_reason})
        return history

    def _divergence_monitor(self, x, y, batch_size: int, n: int) -> Divergence:
        """A Divergence watch for this fit. Its baseline is the loss where this model's
        training started (since compile), kept across fits: a lesson that trains one epoch
        per fit must not measure from an epoch that was already diverging."""
        every = slice(None, None, max(1, n // Divergence.WINDOW_SAMPLES))  # sorted data too
        # contiguous copies: a strided view would send the kernels down another path
        start = self._evaluate_checked(np.ascontiguousarray(x[every]),
                                       np.ascontiguousarray(y[every]))["loss"]
        if self._start_loss is None or not np.isfinite(self._start_loss):
            self._start_loss = start
        baseline = max(self._start_loss, start) if np.isfinite(start) else self._start_loss
        chance = None
        if self.metrics:
            try:  # the score of always answering the most common class
                chance = float(np.bincount(metrics_mod.to_class_ids(y)).max() / n)
            except ValueError:
                chance = None   # targets that are not classes: only the loss is watched
        return Divergence(baseline, chance, batch_size, math.ceil(n / batch_size),
                          getattr(self.optimizer, "learning_rate", None))

    def predict(self, x, batch_size: int = 256) -> np.ndarray:
        return self._predict_checked(self._check_x(x), batch_size)

    def _predict_checked(self, x, batch_size: int = 256) -> np.ndarray:
        """predict on inputs _check_x already passed (fit's and evaluate's own calls: a
        subclass's predict, which may print, is the learner's call only)."""
        return self._forward_batches(x, batch_size, False)[0]

    def _forward_batches(self, x, batch_size: int, want_logits: bool):
        """(outputs, the last layer's pre-activations or None) for x, batch by batch."""
        if len(x) == 0:
            empty = np.zeros((0,) + self.output_shape_for(x.shape[1:]), np.float32)
            return empty, (empty if want_logits else None)
        out, logits = [], []
        with self._lock:
            runs = self._plan.runs(self.layers)
            for start in range(0, len(x), batch_size):
                h = x[start:start + batch_size]
                for run in runs:
                    h = run.forward(h, False)
                out.append(h)
                if want_logits:
                    logits.append(np.array(self.layers[-1].preactivation(), copy=True))
        joined = np.concatenate(out, axis=0) if len(out) > 1 else out[0].copy()
        return joined, (np.concatenate(logits, axis=0) if want_logits else None)

    def evaluate(self, x, y, batch_size: int = 256) -> dict:
        if self.loss is None:
            raise ValueError("call compile(...) before evaluate")
        x, y = self._check_data(x, y)
        return self._evaluate_checked(x, y, batch_size)

    def _evaluate_checked(self, x, y, batch_size: int = 256) -> dict:
        if step_mod.loss_reads_logits(self):  # as the training step computes it
            y_pred, z = self._forward_batches(x, batch_size, True)
            result = {"loss": step_mod.mean64(self.loss.fused(y, z)[0])}
        else:
            y_pred = self._predict_checked(x, batch_size)
            result = {"loss": self.loss(y, y_pred)}
        for m in self.metrics:
            result[m] = accuracy_or_nan(y, y_pred)
        return result

    def layer_outputs(self, x, pre_activations: bool = False) -> list:
        """Every layer's output for x (inference mode): feature maps, hidden activations.

        With pre_activations=True, one (output, z) pair per layer instead: z is what the
        layer applied its activation function to, as the layer itself computed it -
        x·W + b for Dense (the convolution plus bias for Conv2D), the input of an
        activation layer (ReLU(), Softmax(), ...) - or None for a layer without one
        (Flatten, pooling, Dropout). All arrays are copies.
        """
        x = self._check_x(x)
        outs = []
        with self._lock:
            h = x
            for layer in self.layers:
                h = layer.forward(h, training=False)
                if not pre_activations:
                    outs.append(h.copy())
                elif isinstance(layer, _HAS_PREACTIVATION):
                    outs.append((h.copy(), np.array(layer.preactivation(), copy=True)))
                else:
                    outs.append((h.copy(), None))
        return outs

    def input_gradient(self, x, output_index: int | None = None) -> np.ndarray:
        """∂(output[k])/∂x per sample, k = the top class unless given: a saliency map."""
        x = self._check_x(x)
        with self._lock:
            h = x
            for layer in self.layers:
                h = layer.forward(h, training=False)
            k = np.argmax(h.reshape(len(h), -1), axis=1) if output_index is None else \
                np.full(len(h), int(output_index))
            g = np.zeros_like(h).reshape(len(h), -1)
            g[np.arange(len(h)), k] = 1.0
            g = g.reshape(h.shape)
            for layer in reversed(self.layers):
                g = layer.backward(g)
        return g

    # --- weights and description ----------------------------------------------------
    def count_params(self) -> int:
        return int(sum(lay.count_params() for lay in self.layers))

    def get_weights(self) -> list[np.ndarray]:
        with self._lock:  # never half of a step's update
            return [w for lay in self.layers for w in lay.get_weights()]

    def weights_snapshot(self) -> list[dict[str, np.ndarray]]:
        """A copy of every layer's parameters, one {"kernel": ..., "bias": ...} per layer
        ({} for a layer without any), taken between two steps: a worker thread may be
        training, and a snapshot never mixes weights from before and after an update."""
        with self._lock:
            return [{k: v.copy() for k, v in lay.params.items()} for lay in self.layers]

    def set_weight(self, layer_index: int, key: str, index, value) -> float:
        """Set one weight: self.layers[layer_index].params[key][index] = value (a finite
        number), between two steps. Returns the value it replaced."""
        n = len(self.layers)
        if isinstance(layer_index, bool) or not isinstance(layer_index, (int, np.integer)) \
                or not -n <= layer_index < n:
            raise ValueError(f"layer_index must be an integer in 0…{n - 1}, got {layer_index!r}")
        layer = self.layers[layer_index]
        if key not in layer.params:
            raise ValueError(f"layer {layer.name!r} has no parameter {key!r}; it has "
                             f"{', '.join(map(repr, layer.params)) or 'none'}")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"a weight must be a number, got {value!r}") from None
        if not np.isfinite(value):
            raise ValueError("a weight must be a finite number")
        param = layer.params[key]
        index = (index,) if isinstance(index, (int, np.integer)) else tuple(index)
        if len(index) != param.ndim or any(
                isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < d
                for i, d in zip(index, param.shape)):
            raise ValueError(f"{layer.name}.{key} has shape {param.shape}; "
                             f"index {index!r} is not one of its entries")
        with self._lock:
            old = float(param[index])
            param[index] = np.float32(value)
        return old

    def set_weights(self, weights) -> None:
        weights = list(weights)
        expected = sum(len(lay.params) for lay in self.layers)
        if len(weights) != expected:
            raise ValueError(f"the model has {expected} weight arrays, got {len(weights)}")
        with self._lock:
            i = 0
            for lay in self.layers:
                k = len(lay.params)
                lay.set_weights(weights[i:i + k])
                i += k

    def summary(self) -> str:
        rows = [(f"{lay.name} ({type(lay).__name__})", str((None, *lay.output_shape))
                 if lay.built else "?", f"{lay.count_params():,}") for lay in self.layers]
        w0 = max([len("Layer (type)")] + [len(r[0]) for r in rows]) + 3
        w1 = max([len("Output Shape")] + [len(r[1]) for r in rows]) + 3
        line = "_" * (w0 + w1 + 12)
        out = [f'Model: "{self.name}"', line,
               f"{'Layer (type)':<{w0}}{'Output Shape':<{w1}}Param #", "=" * len(line)]
        out += [f"{a:<{w0}}{b:<{w1}}{c}" for a, b, c in rows]
        total = self.count_params()
        frozen = sum(lay.count_params() for lay in self.layers if not lay.trainable)
        out += ["=" * len(line), f"Total params: {total:,}",
                f"Trainable params: {total - frozen:,}", f"Non-trainable params: {frozen:,}", line]
        return "\n".join(out)

    def get_config(self) -> dict:
        return {"name": self.name,
                "input_shape": None if self.input_shape is None else list(self.input_shape),
                "layers": [{"class_name": type(lay).__name__, "config": lay.get_config()}
                           for lay in self.layers]}

    def compile_config(self) -> dict | None:
        if self.loss is None:
            return None
        return {"optimizer": self.optimizer.get_config(), "loss": self.loss.get_config(),
                "metrics": list(self.metrics)}

    @classmethod
    def from_config(cls, config: dict) -> "Sequential":
        if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
            raise ValueError("a model description needs a list of 'layers'")
        lays = [layers_mod.from_config(spec) for spec in config["layers"]]
        name = config.get("name", "sequential")
        return cls(lays, input_shape=config.get("input_shape"),
                   name=name if isinstance(name, str) else "sequential")

    def __repr__(self):
        return f"<Sequential {self.name!r}: {len(self.layers)} layers, {self.count_params()} params>"


def _shape(shape) -> tuple:
    """A declared input shape: sizes ≥ 1, and None for a free time axis (the first of a
    sequence's axes, as Keras writes input_shape=(None, features))."""
    try:
        shape = tuple(None if d is None else int(d) for d in shape)
    except TypeError:
        raise ValueError(f"input_shape must be a tuple of sizes, got {shape!r}") from None
    if not shape or any(d is not None and d < 1 for d in shape):
        raise ValueError(f"input_shape sizes must be ≥ 1, got {shape!r}")
    if any(d is None for d in shape[1:]):
        raise ValueError(f"only the time axis (the first) of input_shape may be None (any "
                         f"length), e.g. (None, 3) for sequences of 3 features; got {shape!r}")
    return shape


def fits_shape(actual: tuple, declared: tuple) -> bool:
    """Does one sample's shape match a declared shape? None (a free time axis) matches any
    length ≥ 1; every other size must be equal."""
    return len(actual) == len(declared) and all(
        a == d if d is not None else a >= 1 for a, d in zip(actual, declared))


def _free_length_hint(actual: tuple, declared: tuple) -> str:
    if len(actual) == len(declared) and declared and declared[0] is None and actual[0] == 0:
        return ": a sequence needs at least one time step"
    return ""


def _data_names(what: str) -> tuple[str, str]:
    """How messages name the inputs and labels: fit's own, or validation_data's."""
    if what == "validation":
        return ("the validation inputs (validation_data[0])",
                "the validation labels (validation_data[1])")
    return "the inputs (x)", "the labels (y)"


def _sample_weights(y, class_weight: dict) -> np.ndarray:
    table = input_checks.check_class_weight(class_weight)
    ids = metrics_mod.to_class_ids(y)
    return np.array([table.get(int(c), 1.0) for c in ids], np.float32)


#: layers whose output is f(z) of a z they keep: Dense, Conv2D and the activation layers
_HAS_PREACTIVATION = (ActivatedLayer,) + ACTIVATION_LAYERS

__all__ = ["Sequential", "fits_shape"]

