"""Sequential: a stack of layers with Keras's compile / fit / evaluate / predict.

One mechanism serves the course's three kinds of gradient descent: `batch_size=len(x)`
is batch gradient descent, `batch_size=1` stochastic, anything between mini-batch.

Thread use: training usually runs in a worker thread while the window asks for
predictions; a lock serialises whole steps, so a prediction waits at most one batch.
"""
from __future__ import annotations


import threading

import numpy as np

from core import layers as layers_mod
from core import losses as losses_mod
from core import metrics as metrics_mod
from core import optimizers as optimizers_mod
from core.callbacks import CallbackList, History
from core.fast import conv_pool as fused_runs
from core.kernels import all_finite
from core.trace import LayerTrace, StepTrace

_METRICS = {"accuracy": "accuracy", "acc": "accuracy"}


class Sequential:
    def __init__(self, layers=(), input_shape=None, name: str = "sequential",
                 seed: int | None = None):
        self.name = name
        self.layers: list = []
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._lock = threading.RLock()
        self.input_shape = None if input_shape is None else _shape(input_shape)
        self.optimizer = None
        self.loss = None
        self.metrics: list[str] = []
        self.stop_training = False
        self.stop_reason: str | None = None
        for layer in layers:
            self.add(layer)
        if self.input_shape is not None and self.layers:
            self.build(self.input_shape)

    # --- construction -----------------------------------------------------------
    def add(self, layer) -> None:
        if not isinstance(layer, layers_mod.Layer):
            raise ValueError(f"Sequential takes layers, got {layer!r}")
        if layer.name is None:
            taken = {lay.name for lay in self.layers}
            base, k = layer.base_name, 0
            layer.name = base
            while layer.name in taken:
                k += 1
                layer.name = f"{base}_{k}"
        elif any(lay.name == layer.name for lay in self.layers):
            raise ValueError(f"two layers are named {layer.name!r}")
        self.layers.append(layer)
        if self.built:
            layer.build(self.layers[-2].output_shape if len(self.layers) > 1
                        else self.input_shape, self._rng)

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
        names = []
        for m in metrics or ():
            if m not in _METRICS:
                raise ValueError(f"unknown metric {m!r}; 'accuracy' is supported")
            names.append(_METRICS[m])
        self.metrics = names

    # --- checks -------------------------------------------------------------------
    def _check_x(self, x) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype.kind not in "biufc":  # numbers or booleans (a cheap test: every step)
            raise ValueError(f"inputs must be numbers, got dtype {x.dtype}")
        x = np.ascontiguousarray(x, dtype=np.float32)
        if self.input_shape is None:
            self.build(x.shape[1:])
        if x.shape[1:] != self.input_shape:
            raise ValueError(
                f"the model expects inputs of shape (batch, {', '.join(map(str, self.input_shape))}), "
                f"got {x.shape}")
        return x

    def _check_xy(self, x, y):
        x = self._check_x(x)
        y = np.asarray(y)
        if len(y) != len(x):
            raise ValueError(f"{len(x)} inputs but {len(y)} targets")
        if len(x) == 0:
            raise ValueError("no samples to train on")
        return x, y

    def _require_compiled(self):
        if self.loss is None or self.optimizer is None:
            raise ValueError("call compile(optimizer, loss, metrics) before training")

    # --- the training step --------------------------------------------------------
    def _step(self, x, y, sample_weight=None, record=False):
        """One forward, backward and update. Returns (logs, StepTrace | None)."""
        if not record and sample_weight is None:
            fast = self._fused_step()
            done = None if fast is None else fast.run(self, x, y, bool(self.metrics))
            if done is not None:
                per_sample, y_pred, applied = done
                return self._logs(_mean64(per_sample), applied, y, y_pred), None
        lays = self.layers
        inputs, outputs = [], []
        h = x
        # a trace needs every layer's arrays; a plain step runs fused pairs (same numbers)
        runs = None if record else self._runs()
        if runs is None:
            for layer in lays:
                inputs.append(h)
                h = layer.forward(h, training=True)
                outputs.append(h)
        else:
            for run in runs:
                h = run.forward(h, True)
        y_pred = h
        last = lays[-1]
        fused = (self.loss.fuses_with is not None
                 and last.output_activation() == self.loss.fuses_with)
        grad_pred = None
        if fused:
            per_sample, grad = self.loss.fused(y, last.preactivation())
            if record:
                targets = self.loss.prepare_targets(y, y_pred.shape)
                grad_pred = self.loss.per_sample(targets, y_pred)[1]
        else:
            targets = self.loss.prepare_targets(y, y_pred.shape)
            per_sample, grad = self.loss.per_sample(targets, y_pred)
            grad_pred = grad
        if sample_weight is not None:
            w = sample_weight.reshape((-1,) + (1,) * (grad.ndim - 1))
            grad = grad * w
            per_sample = per_sample * sample_weight
            if grad_pred is not None and grad_pred is not grad:
                grad_pred = grad_pred * w
        loss = _mean64(per_sample)

        grads_out = [None] * len(lays)
        grads_in = [None] * len(lays)
        grad_pre = {}
        if runs is None:
            for i in range(len(lays) - 1, -1, -1):
                layer = lays[i]
                if fused and i == len(lays) - 1:
                    grads_out[i] = grad_pred
                    grad_pre[i] = grad
                    grad = layer.backward_from_preactivation(grad)
                else:
                    grads_out[i] = grad
                    grad = layer.backward(grad)
                grads_in[i] = grad
        else:
            # Outside a trace nothing reads the gradient reaching the input, so the backward
            # pass stops at the first run with parameters and skips its input gradient
            # (a whole matrix product: for a first Dense or Conv2D, the largest one).
            first = 0
            while first < len(runs) - 1 and not runs[first].has_params:
                first += 1
            for j in range(len(runs) - 1, first - 1, -1):
                if fused and j == len(runs) - 1:
                    grad = runs[j].backward_from_preactivation(grad, j != first)
                else:
                    grad = runs[j].backward(grad, j != first)

        params, grads, owners, unchecked = [], [], [], []
        for i, layer in enumerate(lays):
            checked = getattr(layer, "finite_grads", ())
            for key, p in layer.params.items():
                g = layer.grads[key]
                params.append(p)
                grads.append(g)
                owners.append((i, key))
                if key not in checked:
                    unchecked.append(g)
        before = [p.copy() for p in params] if record else None
        finite = np.isfinite(loss) and all_finite(*unchecked)  # one pass, no temporaries
        if finite:
            updates = self.optimizer.apply(params, grads, return_updates=record)
        else:
            # Never write NaN/inf into the weights: the model keeps its last good state.
            updates = [np.zeros_like(p) for p in params]
        logs = self._logs(loss, finite, y, y_pred)
        if not record:
            return logs, None

        per_layer = [dict(params={}, grads={}, updates={}) for _ in lays]
        for (i, key), b, g, u in zip(owners, before, grads, updates):
            per_layer[i]["params"][key] = b
            per_layer[i]["grads"][key] = g.copy()
            per_layer[i]["updates"][key] = np.asarray(u).copy()
        records = []
        for i, layer in enumerate(lays):
            extras = {k: (np.copy(v) if isinstance(v, np.ndarray) else v)
                      for k, v in layer.trace_extras().items()}
            pre = extras.pop("pre_activation", None)
            act = extras.pop("activation", None) or (
                layer.output_activation() if isinstance(layer, _ACT_LAYERS) else None)
            if pre is None and isinstance(layer, _ACT_LAYERS):
                pre = inputs[i].copy()
            gpre = grad_pre.get(i)
            if gpre is None and pre is not None:
                if isinstance(layer, _ACT_LAYERS):
                    gpre = grads_in[i]
                else:
                    # ∂L/∂z = f'(z)·∂L/∂a, the same rule the layer's backward applied
                    gpre = layer.activation.backward(pre, outputs[i], grads_out[i])
            records.append(LayerTrace(
                index=i, name=layer.name, class_name=type(layer).__name__,
                input=inputs[i].copy(), output=outputs[i].copy(),
                grad_output=np.copy(grads_out[i]), grad_input=np.copy(grads_in[i]),
                params=per_layer[i]["params"], param_grads=per_layer[i]["grads"],
                updates=per_layer[i]["updates"], activation=act,
                pre_activation=pre, grad_pre_activation=(
                    None if gpre is None else np.copy(gpre)),
                extras=extras))
        trace = StepTrace(
            x=x.copy(), y_true=np.copy(y), y_pred=y_pred.copy(), loss=loss,
            per_sample_loss=np.asarray(per_sample).copy(), loss_name=self.loss.name,
            optimizer=self.optimizer.get_config(), layers=records,
            grad_prediction=np.copy(grad_pred), metrics={k: v for k, v in logs.items()
                                                          if k != "loss"})
        return logs, trace

    def _logs(self, loss, applied, y, y_pred) -> dict:
        """A step's logs: its loss (inf when a finite loss came with a gradient that was
        not, so the step was refused) and metrics."""
        logs = {"loss": loss if applied or not np.isfinite(loss) else float("inf")}
        for m in self.metrics:
            logs[m] = _accuracy_or_nan(y, y_pred)
        return logs

    def _fused_step(self):
        """The whole-step kernel for this model (core.fast.dense_step), or None."""
        key = (tuple((id(lay), lay.built) for lay in self.layers), id(self.loss),
               id(self.optimizer), getattr(self.optimizer, "momentum", None))
        cached = self.__dict__.get("_fused_cache")
        if cached is None or cached[0] != key:
            from core.fast.dense_step import FusedDenseStep

            cached = self._fused_cache = (key, FusedDenseStep.plan(self))
        return cached[1]

    def _runs(self) -> list:
        """The layers as training steps and predictions run them (fused pairs included)."""
        key = tuple((id(lay), lay.built, lay.input_shape) for lay in self.layers)
        cached = self.__dict__.get("_runs_cache")
        if cached is None or cached[0] != key:
            cached = self._runs_cache = (key, fused_runs.plan_runs(self.layers))
        return cached[1]

    def train_on_batch(self, x, y, sample_weight=None) -> dict:
        """One gradient step on this batch; returns its loss (and metrics) before the step."""
        self._require_compiled()
        x, y = self._check_xy(x, y)
        sw = None if sample_weight is None else np.asarray(sample_weight, np.float32)
        with self._lock:
            return self._step(x, y, sw)[0]

    def trace_step(self, x, y) -> StepTrace:
        """Like train_on_batch, but returns the full record of the step for lessons."""
        self._require_compiled()
        x, y = self._check_xy(x, y)
        with self._lock:
            return self._step(x, y, record=True)[1]

    # --- fit / evaluate / predict -------------------------------------------------
    def fit(self, x, y, epochs: int = 1, batch_size: int | None = 32, validation_data=None,
            callbacks=(), shuffle: bool = True, seed: int | None = None,
            class_weight: dict | None = None, verbose: int = 0) -> History:
        self._require_compiled()
        x, y = self._check_xy(x, y)
        n = len(x)
        if epochs is None or int(epochs) < 0:
            raise ValueError(f"epochs must be ≥ 0, got {epochs!r}")
        batch_size = n if batch_size is None else int(batch_size)
        if batch_size < 1:
            raise ValueError(f"batch_size must be ≥ 1, got {batch_size}")
        batch_size = min(batch_size, n)
        if validation_data is not None:
            if len(validation_data) != 2:
                raise ValueError("validation_data must be a pair (x_val, y_val)")
            xv, yv = self._check_xy(*validation_data)
        weights = None
        if class_weight is not None:
            weights = _sample_weights(y, class_weight)

        rng = np.random.default_rng(seed)
        if seed is not None:
            for layer in self.layers:
                if hasattr(layer, "reseed"):
                    layer.reseed(np.random.default_rng(rng.integers(2**63)))
        history = History()
        cbs = CallbackList([history, *callbacks], self)
        self.stop_training = False
        self.stop_reason = None
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
                    self.stop_training = True
                    what = ("the loss became NaN" if np.isnan(logs["loss"])
                            else "the loss or its gradient became infinite")
                    self.stop_reason = (
                        f"training stopped: {what} at epoch {epoch + 1}, "
                        f"batch {b + 1}. The weights were left as they were before that step. "
                        f"Try a smaller learning rate (now "
                        f"{self.optimizer.learning_rate:g}).")
                cbs.on_batch_end(b, logs)
                if self.stop_training:
                    break
            epoch_logs = {k: v / seen for k, v in sums.items()}
            if validation_data is not None and np.isfinite(epoch_logs.get("loss", 0.0)):
                for k, v in self.evaluate(xv, yv).items():
                    epoch_logs["val_" + k] = v
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                if self.stop_reason is None:
                    self.stop_reason = f"training stopped on request after {step} steps"
                break
        history.stop_reason = self.stop_reason
        cbs.on_train_end({"stop_reason": self.stop_reason})
        return history

    def predict(self, x, batch_size: int = 256) -> np.ndarray:
        x = self._check_x(x)
        if len(x) == 0:
            return np.zeros((0,) + self.output_shape, np.float32)
        out = []
        with self._lock:
            runs = self._runs()
            for start in range(0, len(x), batch_size):
                h = x[start:start + batch_size]
                for run in runs:
                    h = run.forward(h, False)
                out.append(h)
        return np.concatenate(out, axis=0) if len(out) > 1 else out[0].copy()

    def evaluate(self, x, y, batch_size: int = 256) -> dict:
        if self.loss is None:
            raise ValueError("call compile(...) before evaluate")
        x, y = self._check_xy(x, y)
        y_pred = self.predict(x, batch_size=batch_size)
        result = {"loss": self.loss(y, y_pred)}
        for m in self.metrics:
            result[m] = _accuracy_or_nan(y, y_pred)
        return result

    def layer_outputs(self, x) -> list[np.ndarray]:
        """Every layer's output for x (inference mode): feature maps, hidden activations."""
        x = self._check_x(x)
        outs = []
        with self._lock:
            h = x
            for layer in self.layers:
                h = layer.forward(h, training=False)
                outs.append(h.copy())
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
        return [w for lay in self.layers for w in lay.get_weights()]

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
        out += ["=" * len(line), f"Total params: {total:,}",
                f"Trainable params: {total:,}", "Non-trainable params: 0", line]
        return "\n".join(out)

    def get_config(self) -> dict:
        return {"name": self.name,
                "input_shape": None if self.input_shape is None else list(self.input_shape),
                "layers": [{"class_name": type(lay).__name__, "config": lay.get_config()}
                           for lay in self.layers]}

    def compile_config(self) -> dict | None:
        if self.loss is None:
            return None
        return {"optimizer": self.optimizer.get_config(), "loss": self.loss.name,
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
    try:
        shape = tuple(int(d) for d in shape)
    except TypeError:
        raise ValueError(f"input_shape must be a tuple of sizes, got {shape!r}") from None
    if not shape or min(shape) < 1:
        raise ValueError(f"input_shape sizes must be ≥ 1, got {shape!r}")
    return shape


def _mean64(a) -> float:
    """np.mean(a, dtype=float64), the same bits, without np.mean's Python layers."""
    return float(np.add.reduce(a, axis=None, dtype=np.float64)) / a.size


def _accuracy_or_nan(y_true, y_pred) -> float:
    """Accuracy, or NaN when the predictions are no longer numbers: a diverged step must
    reach the NaN stop check and its stated reason, not fail inside a metric."""
    if not np.all(np.isfinite(y_pred)):
        return float("nan")
    return metrics_mod.accuracy(y_true, y_pred)


def _sample_weights(y, class_weight: dict) -> np.ndarray:
    ids = metrics_mod.to_class_ids(y)
    try:
        table = {int(k): float(v) for k, v in class_weight.items()}
    except (AttributeError, TypeError, ValueError):
        raise ValueError("class_weight must map class ids to numbers") from None
    return np.array([table.get(int(c), 1.0) for c in ids], np.float32)


_ACT_LAYERS = (layers_mod.ReLU, layers_mod.Sigmoid, layers_mod.Tanh, layers_mod.LeakyReLU,
               layers_mod.Softmax)

__all__ = ["Sequential"]

